"""WhatsApp's system lines, in the locales seen in real exports: who joined, left, added or
removed whom (:func:`system_members`), and the notices iOS writes as messages of the group or
the chat (:func:`group_notice`, :func:`is_ios_notice`).

Tables, not code: a locale missing here degrades to a skipped system line, never to an error.
"""

from __future__ import annotations

import re

from groupops.importers.text import clean_name

_WHO = r"(?P<who>.+?)"
_ACTOR = r"(?P<actor>.+?)"
_TARGETS = r"(?P<targets>.+?)"

# (regex, kind, via): kind "join" / "add" (actor added targets) / "left" / "remove"
_SYSTEM: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in [
        # English
        (rf"^{_WHO} joined using (?:this|the) group'?s? invite link$", "link"),
        (rf"^{_WHO} joined using (?:this|a|the) (?:community|group)'?s? invite link$", "link"),
        (rf"^{_WHO} joined via invite link$", "link"),
        (rf"^{_WHO} joined from the community$", "join"),
        (rf"^{_WHO} joined$", "join"),
        (r"^(?P<who>you) were added$", "join"),
        (rf"^{_WHO} was added$", "join"),
        (rf"^{_ACTOR} added {_TARGETS}$", "add"),
        (rf"^{_WHO} left$", "left"),
        (rf"^{_ACTOR} removed {_TARGETS}$", "remove"),
        (r"^(?P<who>you) were removed$", "left"),
        # German
        (rf"^{_WHO} ist über den einladungslink dieser gruppe beigetreten$", "link"),
        (rf"^{_ACTOR} hat {_TARGETS} hinzugefügt$", "add"),
        (rf"^{_WHO} hat die gruppe verlassen$", "left"),
        (rf"^{_ACTOR} hat {_TARGETS} entfernt$", "remove"),
        # Spanish
        (rf"^{_WHO} se unió usando el enlace de invitación de este grupo$", "link"),
        (rf"^{_ACTOR} añadió a {_TARGETS}$", "add"),
        (rf"^{_WHO} salió del grupo$", "left"),
        (rf"^{_WHO} salió$", "left"),
        (rf"^{_ACTOR} eliminó a {_TARGETS}$", "remove"),
        # French
        (
            rf"^{_WHO} (?:a rejoint|s'est joint\(e\)|s’est joint\(e\)) (?:le groupe )?"
            r"(?:via|avec) le lien d.invitation de ce groupe$",
            "link",
        ),
        (rf"^{_ACTOR} a ajouté {_TARGETS}$", "add"),
        (rf"^{_WHO} est parti(?:\(e\))?$", "left"),
        (rf"^{_ACTOR} a retiré {_TARGETS}$", "remove"),
        # Portuguese
        (rf"^{_WHO} entrou usando o link de convite deste grupo$", "link"),
        (rf"^{_ACTOR} adicionou {_TARGETS}$", "add"),
        (rf"^{_WHO} saiu$", "left"),
        (rf"^{_ACTOR} removeu {_TARGETS}$", "remove"),
        # Italian
        (rf"^{_WHO} si è unit[oa] tramite il link d.invito (?:a questo|del) gruppo$", "link"),
        (rf"^{_ACTOR} ha aggiunto {_TARGETS}$", "add"),
        (rf"^{_WHO} ha abbandonato(?: il gruppo)?$", "left"),
        (rf"^{_ACTOR} ha rimosso {_TARGETS}$", "remove"),
        # Russian / Ukrainian
        (rf"^{_WHO} присоедин\w+(?:\(-\w+\))? к группе по ссылке-приглашению$", "link"),
        (rf"^{_ACTOR} добавил(?:\(а\)|а)? {_TARGETS}$", "add"),
        (rf"^{_WHO} вышел(?:\(-ла\)|\(а\)|а)?$", "left"),
        (rf"^{_ACTOR} удалил(?:\(а\)|а)? {_TARGETS}$", "remove"),
        (rf"^{_ACTOR} додав(?:\(-ла\)|ла)? {_TARGETS}$", "add"),
        (rf"^{_WHO} вийш(?:ов|ла)(?:\(-ла\))?$", "left"),
        # Dutch
        (rf"^{_WHO} neemt deel via de uitnodigingslink van deze groep$", "link"),
        (rf"^{_ACTOR} heeft {_TARGETS} toegevoegd$", "add"),
        (rf"^{_WHO} is vertrokken$", "left"),
        (rf"^{_ACTOR} heeft {_TARGETS} verwijderd$", "remove"),
        # Indonesian
        (rf"^{_WHO} bergabung menggunakan tautan undangan grup ini$", "link"),
        (rf"^{_ACTOR} menambahkan {_TARGETS}$", "add"),
        (rf"^{_WHO} keluar$", "left"),
        (rf"^{_ACTOR} mengeluarkan {_TARGETS}$", "remove"),
        # Turkish
        (rf"^{_WHO},? bu grubun davet bağlantısını kullanarak katıldı$", "link"),
        (rf"^{_ACTOR},? {_TARGETS} (?:kişisini )?ekledi$", "add"),
        (rf"^{_WHO} ayrıldı$", "left"),
        (rf"^{_ACTOR},? {_TARGETS} (?:kişisini )?çıkardı$", "remove"),
        # Chinese
        (rf"^{_WHO} ?通过此群组的邀请链接加入(?:了群组)?$", "link"),
        (rf"^{_ACTOR} ?(?:已)?添加了 ?{_TARGETS}$", "add"),
        (rf"^{_ACTOR} 已添加 {_TARGETS}$", "add"),
        (rf"^{_WHO} ?已退出(?:群组)?$", "left"),
        (rf"^{_ACTOR} ?(?:已)?移除了 ?{_TARGETS}$", "remove"),
        (rf"^{_ACTOR} 已移除 {_TARGETS}$", "remove"),
    ]
]


def _needed_literal(pattern: re.Pattern[str]) -> str | None:
    """The longest run of plain ASCII characters a match of ``pattern`` must contain
    (lower-cased), or None. An ASCII line (case ignored) without it cannot match: a cheap test
    before the regex. Only ASCII runs: under IGNORECASE some non-ASCII letters match ASCII
    ones (Turkish "ı" matches "i")."""
    from re import _parser  # type: ignore[attr-defined]

    runs: list[str] = []
    run: list[str] = []
    for op, arg in _parser.parse(pattern.pattern, pattern.flags):
        if op is _parser.LITERAL and arg < 128:
            run.append(chr(arg))
            continue
        if run:
            runs.append("".join(run))
            run = []
    if run:
        runs.append("".join(run))
    runs = [r.lower() for r in runs if len(r.strip()) >= 2]
    return max(runs, key=len) if runs else None


_SYSTEM_NEEDS = [_needed_literal(p) for p, _ in _SYSTEM]
_AND_RE = re.compile(
    r",\s*| and | und | y | e | et | и | en | dan | ve |、| 和 |와 |과 ", re.IGNORECASE
)


def _split_targets(targets: str) -> list[str]:
    names = [clean_name(t) for t in _AND_RE.split(targets)]
    return [n for n in names if n and len(n) <= 100]


def _you(name: str) -> str:
    return "You" if name.casefold() == "you" else name


def system_members(text: str) -> list[tuple[str, str, str | None]]:
    """What a system line says about membership: a list of ``(kind, who, actor)`` where kind is
    ``joined``, ``joined_link``, ``left`` or ``removed``; an empty list for other notices."""
    line = clean_name(text).rstrip(".")
    if not line or len(line) > 2000:
        return []
    low = line.lower() if line.isascii() else None
    for (pattern, kind), need in zip(_SYSTEM, _SYSTEM_NEEDS, strict=True):
        if low is not None and need is not None and need not in low:
            continue
        m = pattern.match(line)
        if not m:
            continue
        groups = m.groupdict()
        if kind == "link":
            return [("joined_link", _you(clean_name(groups["who"])), None)]
        if kind == "join":
            return [("joined", _you(clean_name(groups["who"])), None)]
        if kind == "left":
            return [("left", _you(clean_name(groups["who"])), None)]
        actor = _you(clean_name(groups["actor"]))
        if '"' in actor or "“" in actor:
            return []
        targets = [_you(t) for t in _split_targets(groups["targets"])]
        if kind == "add":
            return [("joined", t, actor) for t in targets]
        return [("removed", t, actor) for t in targets]
    return []


_NOTICE_WORDS = (
    "whatsapp",
    "واتساب",
    "end-to-end",
    "encrypt",
    # "Your security code with X changed" in several languages
    "security code",
    "sicherheitscode",
    "sicherheitsnummer",
    "código de seguridad",
    "code de sécurité",
    "codice di sicurezza",
    "código de segurança",
    "код безопасности",
    "код безпеки",
    "bezpečnostní kód",
    "kode keamanan",
    "beveiligingscode",
    "güvenlik kodu",
    "安全码",
    "安全碼",
    "セキュリティコード",
    "보안 코드",
    "รหัสความปลอดภัย",
    "mã bảo mật",
    "सुरक्षा कोड",
    "رمز الأمان",
)


_OPEN, _CLOSE = '["“„«「]\\s*', '\\s*["”“»」]'
#: "X created group "Name"" (the notice that names the group): the name is the group's
_CREATED = [
    re.compile(p.format(o=_OPEN, c=_CLOSE), re.IGNORECASE)
    for p in (
        r"^.+? created (?:the )?group {o}(?P<name>.+?){c}$",
        r"^.+? hat (?:die )?gruppe {o}(?P<name>.+?){c} erstellt$",
        r"^.+? creó el grupo {o}(?P<name>.+?){c}$",
        r"^.+? a créé (?:le )?groupe {o}(?P<name>.+?){c}$",
        r"^.+? criou o grupo {o}(?P<name>.+?){c}$",
        r"^.+? ha creato il gruppo {o}(?P<name>.+?){c}$",
        r"^.+? создал\w* группу {o}(?P<name>.+?){c}$",
        r"^.+?创建了群组?{o}(?P<name>.+?){c}$",
        r"^.+?創建了群組{o}(?P<name>.+?){c}$",
    )
]
#: "X changed the subject from "A" to "B"" / "...the group name to "B"": the group's new name
_RENAMED = [
    re.compile(p.format(o=_OPEN, c=_CLOSE), re.IGNORECASE)
    for p in (
        r"^.+? changed the (?:subject|group name)(?: from {o}.*?{c})? to {o}(?P<name>.+?){c}$",
        r"^.+? hat den betreff(?: von {o}.*?{c})? zu {o}(?P<name>.+?){c} geändert$",
        r"^.+? cambió el asunto(?: de {o}.*?{c})? a {o}(?P<name>.+?){c}$",
        r"^.+?将群组?名称?(?:从{o}.*?{c})?更改为{o}(?P<name>.+?){c}$",
    )
]
#: other group notices iOS writes as a message of the group (after U+200E)
_GROUP_NOTICE = re.compile(
    r"(?i)^.+? (?:changed (?:this group's|the group's|the group) (?:icon|description|settings)"
    r"|deleted (?:this group's icon|the group description)|changed the subject"
    r"|changed the group name|changed this group's settings|created this group"
    r"|turned (?:on|off) disappearing messages|reset this group's invite link"
    r"|changed their phone number|pinned a message)"
)


def group_notice(text: str) -> tuple[bool, str | None]:
    """(is a group notice, the group's name when the notice names it) for a notice iOS writes
    as a message of the group (the text after its U+200E): ``Ann created group "Runners"``
    gives (True, "Runners")."""
    for pattern in (*_CREATED, *_RENAMED):
        m = pattern.match(text)
        if m:
            return True, m.group("name").strip()
    return bool(_GROUP_NOTICE.match(text)), None


def is_ios_notice(text: str) -> bool:
    """An iOS notice written as a message of the chat itself (encryption, security code...)."""
    low = text.casefold()
    return any(w in low for w in _NOTICE_WORDS)
