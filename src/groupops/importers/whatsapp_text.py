"""WhatsApp's words in a message's text, in the locales seen in real exports: media
placeholders, deleted messages, calls, and the AM/PM markers of its time stamps. The system
lines (who joined, left, added or removed whom; iOS's notices) are in
:mod:`groupops.importers.whatsapp_system`.

Tables, not code: a locale missing here degrades to content kind ``other``, never to an error.
Compare after :func:`norm` (marks removed, case folded, spaces single).
"""

from __future__ import annotations

import re
import unicodedata

from groupops.domain.events import ContentKind
from groupops.importers.text import strip_marks

P, V, A, S, D, C, G = (
    ContentKind.PICTURE,
    ContentKind.VIDEO,
    ContentKind.VOICE,
    ContentKind.STICKER,
    ContentKind.FILE,
    ContentKind.OTHER,  # contact card
    ContentKind.PICTURE,  # GIF: an animated picture
)


def norm(text: str) -> str:
    """Marks removed, NFC, case folded, single spaces, no final dot."""
    text = unicodedata.normalize("NFC", strip_marks(text)).casefold()
    return " ".join(text.split()).strip(" .。")


# iOS: "‎image omitted" (one phrase per kind and locale); seen in the shared test data and in
# exports in the wild.
_IOS = {
    # English
    "image omitted": P,
    "photo omitted": P,
    "video omitted": V,
    "audio omitted": A,
    "sticker omitted": S,
    "gif omitted": G,
    "document omitted": D,
    "contact card omitted": C,
    "voice message omitted": A,
    # German
    "bild weggelassen": P,
    "video weggelassen": V,
    "audio weggelassen": A,
    "sticker weggelassen": S,
    "gif weggelassen": G,
    "dokument weggelassen": D,
    "kontaktkarte ausgelassen": C,
    "kontaktkarte weggelassen": C,
    # French
    "image absente": P,
    "vidéo absente": V,
    "audio omis": A,
    "sticker omis": S,
    "gif retiré": G,
    "document manquant": D,
    "fiche contact manquante": C,
    # Spanish
    "imagen omitida": P,
    "video omitido": V,
    "audio omitido": A,
    "sticker omitido": S,
    "gif omitido": G,
    "documento omitido": D,
    "tarjeta de contacto omitida": C,
    # Italian
    "immagine omessa": P,
    "video omesso": V,
    "audio omesso": A,
    "sticker non incluso": S,
    "gif esclusa": G,
    "documento omesso": D,
    "scheda contatto omessa": C,
    # Portuguese
    "imagem não revelada": P,
    "imagem ocultada": P,
    "vídeo não revelado": V,
    "vídeo oculto": V,
    "ficheiro de áudio não revelado": A,
    "áudio ocultado": A,
    "sticker não revelado": S,
    "figurinha omitida": S,
    "gif não revelada": G,
    "documento não revelado": D,
    "documento oculto": D,
    "contacto não revelado": C,
    "cartão de contato omitido": C,
    # Russian
    "изображение отсутствует": P,
    "видео отсутствует": V,
    "аудиофайл отсутствует": A,
    "стикер не добавлен": S,
    "gif отсутствует": G,
    "документ отсутствует": D,
    "карточка контакта отсутствует": C,
    # Ukrainian
    "зображення відсутнє": P,
    "відео відсутнє": V,
    "аудіо відсутнє": A,
    "наклейку не додано": S,
    "gif-анімацію пропущено": G,
    "документ пропущено": D,
    "картка контакту відсутня": C,
    # Czech
    "obrázek vynechán": P,
    "video vynecháno": V,
    "zvukový soubor vynechán": A,
    "nálepka vynechána": S,
    "gif vynechán": G,
    "dokument vynechán": D,
    "vizitka vynechána": C,
    # Indonesian
    "gambar tidak disertakan": P,
    "video tidak disertakan": V,
    "audio tidak disertakan": A,
    "stiker tidak disertakan": S,
    "gif tidak disertakan": G,
    "dokumen tidak disertakan": D,
    "kartu kontak tidak disertakan": C,
    # Japanese
    "画像は含まれていません": P,
    "ビデオは含まれていません": V,
    "音声は含まれていません": A,
    "スタンプは含まれていません": S,
    "gifは含まれていません": G,
    "ドキュメントは含まれていません": D,
    "連絡先カードを省略": C,
    # Thai
    "ไม่มีรูปภาพ": P,
    "วิดีโอถูกลบ": V,
    "ไม่มีไฟล์เสียง": A,
    "ไม่มีสติกเกอร์": S,
    "ละเว้น gif": G,
    "ละเว้นเอกสาร": D,
    "บัตรรายชื่อที่ละเว้น": C,
    # Vietnamese
    "đã bỏ qua hình ảnh": P,
    "đã bỏ video": V,
    "bỏ qua tệp âm thanh": A,
    "đã bỏ sticker": S,
    "đã bỏ qua ảnh gif": G,
    "đã bỏ qua tài liệu": D,
    "bỏ qua thẻ liên lạc": C,
    # Hindi
    "फ़ोटो हटाई गई": P,
    "वीडियो छोड़ा गया": V,
    "ऑडियो हटाई गयी": A,
    "स्टिकर छोड़ा गया": S,
    "gif छोड़ा गया": G,
    "डॉक्यूमेंट छोड़ा गया": D,
    "कॉन्टैक्ट कार्ड छोड़ा गया": C,
    # Arabic
    "لم يتم إدراج الصورة": P,
    "لم يتم إدراج الفيديوهات": V,
    "لم يتم إدراج الفيديو": V,
    "لم يتم إدراج المقاطع الصوتية": A,
    "تم حذف الملصقات": S,
    "لم يتم إدراج صورة gif": G,
    "لم يتم إدراج المستند": D,
    "لم يتم إدراج بطاقة جهة اتصال": C,
    # Dutch
    "afbeelding weggelaten": P,
    "video weggelaten": V,
    "audio weggelaten": A,
    "sticker weggelaten": S,
    "gif weggelaten": G,
    "document weggelaten": D,
    "contactkaart weggelaten": C,
    # Turkish
    "görüntü dahil edilmedi": P,
    "video dahil edilmedi": V,
    "ses dahil edilmedi": A,
    "çıkartma dahil edilmedi": S,
    "gif dahil edilmedi": G,
    "belge dahil edilmedi": D,
    # Chinese
    "图片已忽略": P,
    "已忽略图片": P,
    "图片已省略": P,
    "视频已忽略": V,
    "已忽略视频": V,
    "音频已忽略": A,
    "已忽略音频": A,
    "贴图已忽略": S,
    "已忽略贴图": S,
    "gif 已忽略": G,
    "文档已忽略": D,
    "已忽略文档": D,
    "已略去圖片": P,
    "圖片已略去": P,
    "影片已略去": V,
    # Korean
    "이미지 생략": P,
    "동영상 생략": V,
    "오디오 생략": A,
    "스티커 생략": S,
    "문서 생략": D,
}

_IOS = {norm(k): v for k, v in _IOS.items()}

# Android: "<Media omitted>" says media but not which.
_ANDROID_OMITTED = {
    "<media omitted>",
    "<médias omis>",
    "<multimedia omitido>",
    "<medien ausgeschlossen>",
    "<media weggelaten>",
    "<без медиафайлов>",
    "<média vynechány>",
    "<media tidak disertakan>",
    "<mídia oculta>",
    "<media omessi>",
    "<medya dahil edilmedi>",
    "<媒体文件已省略>",
    "<省略多媒体>",
    "<미디어 파일 생략>",
    "<メディアは含まれていません>",
    "<медіа пропущено>",
    "<تم استبعاد الوسائط>",
    "<ไม่รวมสื่อ>",
    "<media bị bỏ qua>",
    "<मीडिया हटाया गया>",
}
_ATTACHED_RE = re.compile(
    r"^(?P<name>[^\n<>]{1,200}?\.[0-9A-Za-z]{2,5}) \([^()\n]{2,40}\)$"  # Android "(file attached)"
)
_IOS_ATTACHED_RE = re.compile(
    r"<(?:attached|anexo|adjunto|angehängt|pièce jointe|allegato|"
    r"вложение|添付|附件|첨부)?:? ?(?P<name>[^<>\n]{3,200})>$",
    re.IGNORECASE,
)

_DELETED = {
    "this message was deleted",
    "you deleted this message",
    "dieses nachricht wurde gelöscht",
    "diese nachricht wurde gelöscht",
    "du hast diese nachricht gelöscht",
    "ce message a été supprimé",
    "vous avez supprimé ce message",
    "se eliminó este mensaje",
    "eliminaste este mensaje",
    "este mensaje fue eliminado",
    "questo messaggio è stato eliminato",
    "hai eliminato questo messaggio",
    "esta mensagem foi apagada",
    "apagou esta mensagem",
    "essa mensagem foi apagada",
    "você apagou esta mensagem",
    "данное сообщение удалено",
    "вы удалили данное сообщение",
    "це повідомлення було видалено",
    "ви видалили це повідомлення",
    "tato zpráva byla smazána",
    "tuto zprávu jste smazal/a",
    "tato zpráva byla odstraněna",
    "tuto zprávu jste odstranil/a",
    "pesan ini dihapus",
    "anda menghapus pesan ini",
    "このメッセージは削除されました",
    "このメッセージを削除しました",
    "ข้อความนี้ถูกลบแล้ว",
    "คุณได้ลบข้อความนี้",
    "tin nhắn này đã bị xóa",
    "bạn đã xoá tin nhắn này",
    "यह मैसेज डिलीट कर दिया गया है",
    "आपने यह मैसेज डिलीट किया",
    "تم حذف هذه الرسالة",
    "أنت حذفت هذه الرسالة",
    "لقد حذَفت هذه الرسالة",
    "dit bericht is verwijderd",
    "u hebt dit bericht verwijderd",
    "je hebt dit bericht verwijderd",
    "bu mesaj silindi",
    "bu mesajı sildiniz",
    "此消息已删除",
    "你删除了此消息",
    "您删除了此消息",
    "삭제된 메시지입니다",
}
_CALLS = {
    "missed voice call",
    "missed video call",
    "voice call",
    "video call",
    "zmeškaný hovor",
    "пропущенный аудиозвонок",
    "пропущенный видеозвонок",
    "verpasster sprachanruf",
    "verpasster videoanruf",
    "appel vocal manqué",
    "llamada perdida",
    "chiamata vocale persa",
    "chamada de voz perdida",
    "未接语音通话",
}


def media_kind(text: str, line_marked: bool) -> tuple[ContentKind, dict[str, str]] | None:
    """The content kind of a media placeholder or attachment line, or None for plain text.

    ``line_marked``: the iOS line began with a direction mark (iOS marks media lines so)."""
    stripped = strip_marks(text).strip()
    if not stripped:
        return None
    low = stripped.split("\n", 1)[0].strip().casefold()  # a caption may follow on new lines
    if low in _ANDROID_OMITTED or (
        line_marked is False
        and low.startswith("<")
        and low.endswith(">")
        and " " in low
        and len(low) < 40
        and "://" not in low
        and low.count("<") == 1
    ):
        return ContentKind.OTHER, {"media": "omitted"}
    head = stripped.split("\n", 1)[0].strip()  # the attachment line; a caption may follow
    m = _IOS_ATTACHED_RE.search(head) if head.endswith(">") else None
    if m:
        name = m.group("name").strip()
        from groupops.importers.text import file_kind

        return file_kind(name), {"media": "attached", "attachment": name}
    m = _ATTACHED_RE.match(head) if head.endswith(")") else None
    if m:
        from groupops.importers.text import file_kind

        name = m.group("name").strip()
        return file_kind(name), {"media": "attached", "attachment": name}
    has_mark = "\u200e" in text or "\u200f" in text
    if has_mark or line_marked:
        # iOS: "[caption or file name] ‎image omitted": the placeholder is the last segment
        tail = re.split(r"[\u200e\u200f]", text)[-1]
        kind = _IOS.get(norm(tail))
        if kind is not None:
            return kind, {"media": "omitted"}
        if line_marked and len(norm(tail)) <= 48:
            if "gif" in norm(tail):
                return ContentKind.PICTURE, {"media": "omitted"}
            return ContentKind.OTHER, {"media": "omitted"}
    else:
        kind = _IOS.get(norm(stripped)) if len(stripped) <= 48 else None
        if kind is not None:
            return kind, {"media": "omitted"}
    return None


_DELETED = {norm(k) for k in _DELETED}
_CALLS = {norm(k) for k in _CALLS}

# casefolded exact texts (no marks, no final dot) -> the data flag they set
SPECIAL: dict[str, str] = {**dict.fromkeys(_DELETED, "deleted"), **dict.fromkeys(_CALLS, "call")}
# the same as exported (capitalised, with or without the final dot): one exact look-up per
# message on the hot path; anything else goes through norm() on the slow path
SPECIAL_RAW: dict[str, str] = {
    v: tag for k, tag in SPECIAL.items() for v in (k, k + ".", k.capitalize(), k.capitalize() + ".")
}


def is_deleted(text: str) -> bool:
    return len(text) <= 80 and norm(text) in _DELETED


def is_call(text: str) -> bool:
    return len(text) <= 60 and norm(text) in _CALLS


# AM/PM markers, compared after norm() and with dots and spaces removed
_AM = {
    "am",
    "a",
    "午前",
    "上午",
    "凌晨",
    "早上",
    "오전",
    "ص",
    "πμ",
    "sa",
    "sáng",
    "vorm",
    "vm",
    "öö",
    "pg",
    "قظ",
    "पूर्वाह्न",
    "ก่อนเที่ยง",
    "fm",
    "de",
    "dop",
    "rano",
    "ap",
    "priešpiet",
    "дп",
    "ق",
    "ص.",
    "সকাল",
    "পূর্বাহ্ন",
    "ະ",
    "ព្រឹក",
    "ពេលព្រឹក",
}
_PM = {
    "pm",
    "p",
    "午後",
    "下午",
    "中午",
    "晚上",
    "傍晚",
    "오후",
    "م",
    "μμ",
    "ch",
    "chiều",
    "nachm",
    "nm",
    "ös",
    "ptg",
    "بظ",
    "अपराह्न",
    "หลังเที่ยง",
    "em",
    "du",
    "odp",
    "po",
    "ip",
    "popiet",
    "пп",
    "পরাহ্ন",
    "অপরাহ্ন",
    "বিকাল",
    "ល្ងាច",
    "ពេលល្ងាច",
}


def ampm(marker: str) -> bool | None:
    """True for PM, False for AM, None when the marker is unknown."""
    key = norm(marker).replace(".", "").replace(" ", "")
    if key in _PM:
        return True
    if key in _AM:
        return False
    return None
