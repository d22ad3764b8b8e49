"""Texts as the importers keep them: display names without direction marks, user keys,
NUL-free texts, and the content kind of a text (its links) or of an attached file."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from groupops.domain.events import ContentKind

# -- names -------------------------------------------------------------------------------------

MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u061c"
_MARKS_TABLE = {ord(c): None for c in MARKS}
_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u2007]+")  # what clean_name folds into one space
_PHONE_RE = re.compile(r"^\+?[\d\s\-().]{6,}$")


def strip_marks(text: str) -> str:
    # the marks are not ASCII: an ASCII text (most) skips translate's per-character look-ups
    return text if text.isascii() else text.translate(_MARKS_TABLE)


def clean_name(name: str) -> str:
    """A display name without direction marks and with single spaces."""
    # = _SPACES_RE.sub(" ", ...).strip(): split() cuts at the same characters (str.isspace,
    # which the regex's \s is, and covers \u00a0 \u202f \u2007), four times faster
    return " ".join(strip_marks(name).split())


def user_key(name: str) -> str:
    """The user id of an author known only by the name an export shows: the cleaned name, a phone
    number reduced to ``+`` and digits (so ``+7 999 999-99-99`` and ``+79999999999`` match)."""
    cleaned = clean_name(name)
    if _PHONE_RE.match(cleaned) and sum(c.isdigit() for c in cleaned) >= 6:
        return "+" + "".join(c for c in cleaned if c.isdigit())
    return cleaned[:255]


# -- content kinds -----------------------------------------------------------------------------

URL_RE = re.compile(r"https?://[^\s<>\"'\u3000，。）)]+", re.IGNORECASE)

ARTICLE_HOSTS = ("mp.weixin.qq.com",)
ARTICLE_PREFIXES = ("zhuanlan.zhihu.com/p/", "www.toutiao.com/article", "m.toutiao.com/article")
NETDISK_HOSTS = (
    "pan.baidu.com",
    "yun.baidu.com",
    "aliyundrive.com",
    "www.aliyundrive.com",
    "alipan.com",
    "www.alipan.com",
    "pan.quark.cn",
    "115.com",
    "115cdn.com",
    "anxia.com",
    "cloud.189.cn",
    "caiyun.139.com",
    "yun.139.com",
    "share.weiyun.com",
    "www.123pan.com",
    "123pan.com",
    "pan.xunlei.com",
    "drive.google.com",
    "www.dropbox.com",
    "dropbox.com",
    "1drv.ms",
    "onedrive.live.com",
    "mega.nz",
)
NETDISK_SUFFIXES = (".lanzoux.com", ".lanzoui.com", ".lanzous.com", ".lanzouw.com", ".115.com")


#: link_kind's answers by address (links repeat in a chat: parsing one costs microseconds)
_LINK_KINDS: dict[str, ContentKind] = {}


def link_kind(url: str) -> ContentKind:
    """article link (WeChat official-account articles and kin), net-disk link, or H5/web link."""
    found = _LINK_KINDS.get(url)
    if found is None:
        if len(_LINK_KINDS) >= 1 << 16:
            _LINK_KINDS.clear()
        found = _LINK_KINDS[url] = _link_kind(url)
    return found


def _link_kind(url: str) -> ContentKind:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return ContentKind.H5_LINK
    if host in ARTICLE_HOSTS:
        return ContentKind.ARTICLE_LINK if parts.path.startswith("/s") else ContentKind.H5_LINK
    if (host + parts.path).startswith(ARTICLE_PREFIXES):
        return ContentKind.ARTICLE_LINK
    if host in NETDISK_HOSTS or host.endswith(NETDISK_SUFFIXES):
        return ContentKind.NETDISK_LINK
    return ContentKind.H5_LINK


_LINK_RANK = {ContentKind.NETDISK_LINK: 0, ContentKind.ARTICLE_LINK: 1, ContentKind.H5_LINK: 2}


def text_kind(text: str) -> ContentKind:
    """TEXT, or the kind of the most specific link in the text (net-disk > article > H5)."""
    if "http" not in text and "HTTP" not in text:
        return ContentKind.TEXT
    best: ContentKind | None = None
    for m in URL_RE.finditer(text):
        kind = link_kind(m.group(0))
        if best is None or _LINK_RANK[kind] < _LINK_RANK[best]:
            best = kind
    return best or ContentKind.TEXT


_PICTURE_EXT = {"jpg", "jpeg", "png", "gif", "heic", "heif", "bmp", "tif", "tiff", "svg", "avif"}
_VIDEO_EXT = {"mp4", "mov", "3gp", "mkv", "avi", "webm", "m4v", "wmv", "flv"}
_VOICE_EXT = {"opus", "ogg", "oga", "m4a", "mp3", "aac", "amr", "wav", "silk", "flac", "wma"}
_OTHER_EXT = {"vcf"}


def file_kind(name: str, mime: str = "") -> ContentKind:
    """The content kind of an attached file from its name (WhatsApp's IMG-/VID-/PTT-/STK-
    prefixes and ``00000012-PHOTO-...`` names, else the extension) or MIME type."""
    base = name.rsplit("/", 1)[-1]
    upper = base.upper()
    if upper.startswith("STK-") or "-STICKER-" in upper or upper.startswith("STICKER"):
        return ContentKind.STICKER
    if upper.startswith(("PTT-", "AUD-")) or "-AUDIO-" in upper:
        return ContentKind.VOICE
    if upper.startswith("IMG-") or "-PHOTO-" in upper or "-GIF-" in upper:
        return ContentKind.PICTURE
    if upper.startswith("VID-") or "-VIDEO-" in upper:
        return ContentKind.VIDEO
    ext = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    if ext == "webp":
        return ContentKind.STICKER if "sticker" in mime else ContentKind.PICTURE
    if ext in _PICTURE_EXT or mime.startswith("image/"):
        return ContentKind.PICTURE
    if ext in _VIDEO_EXT or mime.startswith("video/"):
        return ContentKind.VIDEO
    if ext in _VOICE_EXT or mime.startswith("audio/"):
        return ContentKind.VOICE
    if ext in _OTHER_EXT:
        return ContentKind.OTHER
    return ContentKind.FILE


def clean_text(text: str) -> str:
    """A text as an Event keeps it: without NUL characters (a database cannot store them)."""
    return text.replace("\x00", "") if "\x00" in text else text
