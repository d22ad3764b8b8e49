"""Detectors: pure functions from a message's text to what is wrong with it.

Every function here runs in time linear in the text: patterns start at the first character of a
run (a look-behind refuses starts in the middle of one) and use possessive quantifiers, so no
regular expression backtracks over a long run; a 1 MB message of any Unicode is fine.

Text is compared in a normal form: NFKC (full-width letters, digits and "．" become half-width),
case-folded, invisible format characters removed, ideographic dots read as dots, whitespace
runs collapsed. Chinese phrases are also looked for in a "squeezed" form with spaces and
separator punctuation removed, so "加 我 微-信" is still "加我微信". Contact baits are looked
for in a "spaced" form instead, where each run of separators is one space: a phrase may have a
space between any two of its characters (the same as in the squeezed form), and the space still
ends a word, so "加v abc123" is "加v" followed by an id, not "加vabc123".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

#: the longest evidence snippet kept in the log
SNIPPET = 120
#: links :func:`find_links` lists at most
MAX_LINKS = 50

# zero-width and direction-control characters spammers put between letters
_INVISIBLE = dict.fromkeys(
    [
        *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0),
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        *range(0xFE00, 0xFE10),
    ],
    None,
)
# dots that are not ASCII after NFKC: ideographic full stop, halfwidth ideographic full stop,
# middle dots, one-dot leader
_DOTS = str.maketrans({"。": ".", "｡": ".", "·": ".", "・": ".", "•": ".", "․": "."})
_SPACES = re.compile(r"\s++")
# "点com", "dot com", "(dot)", "[.]": read as a dot before a domain ending
_SQUEEZE = re.compile(r"[\s\-_*|.,·~/\\'\"`+=#^]++")

# top-level domains worth treating a bare "word.tld" as a link (".py" or "3.14" are not)
TLDS = frozenset(
    """com net org cn io me co info biz top xyz vip cc tv app site online club shop store link
    live ly gg ai dev so la fm to ws in us uk de ru jp kr hk tw sg my th vn ph id au ca fr es it
    nl br mx eu asia mobi pro tech fun icu work ltd wang ink run cloud space website press life
    world today email click pw tk ml ga cf gq ooo xin bet win loan""".split()  # noqa: SIM905
)

_TLD_AHEAD = "(?=(?:" + "|".join(sorted(TLDS, key=len, reverse=True)) + ")(?![a-z0-9]))"
# "点com", "dot com", "(dot)", "[.]" before a known domain ending: read as a dot
_OBFUSCATED_DOT = re.compile(
    r" ?(?:[\(\[\{<] ?(?:dot|点|\.) ?[\)\]\}>]|(?<![a-z])dot(?![a-z])|点) ?" + _TLD_AHEAD
)
_SCHEME_LINK = re.compile(
    r"(?:https?|ftp)://[^\s<>\"']{1,300}+|(?<![a-z0-9.\-])www\.[^\s<>\"']{1,300}+"
)
# a run of labels: starts only at the beginning of a run, possessive, so linear
_BARE_DOMAIN = re.compile(
    r"(?<![a-z0-9.\-@])[a-z0-9][a-z0-9\-]*+(?:\.[a-z0-9\-]++)++(?:/[^\s<>\"']{0,200}+)?"
)

_INVITE_URL = re.compile(
    r"(?<![a-z0-9\-])(?:"
    r"(?:t|telegram)\.(?:me|dog)/(?:\+|joinchat/)?[a-z0-9_\-]{3,64}+"
    r"|chat\.whatsapp\.com/[a-z0-9]{6,40}+"
    r"|(?:discord\.gg|discord(?:app)?\.com/invite)/[a-z0-9\-]{2,40}+"
    r"|(?:qm|jq)\.qq\.com/[^\s]{1,80}+"
    r"|weixin\.qq\.com/[gr]/[^\s]{1,80}+"
    r"|u\.wechat\.com/[^\s]{1,80}+"
    r"|line\.me/(?:r/)?ti/[^\s]{1,80}+"
    r"|matrix\.to/#/[^\s]{1,120}+"
    r")"
)
# Chinese hints of an invitation to another group (looked for in the squeezed text)
INVITE_HINTS_ZH = (
    "加群",  # but not 参加群聊 / 增加群 ...: see _zh_pattern
    "拉你进群",
    "拉你入群",
    "扫码进群",
    "扫码入群",
    "扫码加群",
    "群二维码",
    "进群二维码",
    "qq群",
    "tg群",
    "电报群",
    "微信群号",
    "加入我们的群",
)

_DIGIT = re.compile(r"[0-9]")
_CN_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ \-]?)?1[3-9][0-9](?:[ \-]?+[0-9]){8}(?![0-9])")
_INTL_PHONE = re.compile(r"(?<![0-9+])\+[1-9][0-9]{0,2}(?:[ \-]?+[0-9]){7,13}(?![0-9])")

# contact baits: Chinese ones are looked for in the spaced text (see detect_contacts), English
# ones as whole words
CONTACT_ZH = (
    "添加我微信",
    "添加微信",
    "加我微信",
    "加微信",
    "加我v",
    "加v",
    "加vx",
    "加wx",
    "加我qq",
    "加qq",
    "加我好友",
    "v信",
    "私信我",
    "扣扣",
    "看我头像",
    "看我主页",
)
CONTACT_WORDS = (
    "dm me",
    "pm me",
    "inbox me",
    "wechat me",
    "telegram me",
    "whatsapp me",
    "add me on wechat",
    "add me on telegram",
    "add me on whatsapp",
    "add me on line",
    "dm for",
    "check my bio",
    "link in bio",
)
# a Chinese phrase is not matched inside a word that merely contains it
_ZH_NOT_AFTER = {"加": "参增追添更"}


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector found: the rule it breaks and a short piece of evidence."""

    rule: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Text:
    """A message in the forms the detectors compare."""

    norm: str  # NFKC, case-folded, invisible characters gone, dots and spaces normalised
    squeezed: str  # norm without spaces and separator punctuation
    #: :func:`fingerprint`'s answer once asked (a message's is asked up to four times: the
    #: batch's look-ups of copies and known ads, then its own checks); made from ``squeezed``
    _fingerprint: str | None = field(default=None, init=False, compare=False, repr=False)

    @classmethod
    def of(cls, raw: str) -> Text:
        norm = normalise(raw)
        return cls(norm, squeeze(norm))


def normalise(raw: str) -> str:
    if raw.isascii():  # NFKC leaves ASCII alone, and it holds no invisible or foreign dot
        return _SPACES.sub(" ", raw.lower()).strip()
    text = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).casefold()
    text = text.translate(_DOTS)
    return _SPACES.sub(" ", text).strip()


def squeeze(norm: str) -> str:
    return _SQUEEZE.sub("", norm)


def snippet(text: str, limit: int = SNIPPET) -> str:
    """A short, printable, storable piece of ``text`` (lone surrogates replaced)."""
    short = text[:limit] + ("…" if len(text) > limit else "")
    return short.encode("utf-8", "replace").decode("utf-8")


def fingerprint(text: Text) -> str:
    """The same message, told apart from small spacing or width tricks."""
    fp = text._fingerprint
    if fp is None:
        fp = hashlib.sha256(text.squeezed.encode("utf-8", "surrogatepass")).hexdigest()
        object.__setattr__(text, "_fingerprint", fp)  # frozen: kept once, never changed
    return fp


# -- links -------------------------------------------------------------------------------------
def _host_path(url: str) -> str:
    """'https://www.Example.com/a?b' -> 'example.com/a?b' (already normalised text)."""
    for prefix in ("https://", "http://", "ftp://"):
        if url.startswith(prefix):
            url = url[len(prefix) :]
            break
    if url.startswith("www."):
        url = url[4:]
    return url.rstrip(".,;:!?)]}>'\"…")


def iter_links(text: Text) -> Iterator[str]:
    """Every link in the text as 'host/path', scheme and 'www.' removed, each once.

    Bare domains count only when they end in a known top-level domain, so "3.14" and "main.py"
    are not links but "abc.com", "abc．com", "abc 点 com" and "abc(dot)com" are.
    """
    norm = text.norm
    if "." not in norm and "://" not in norm and "点" not in norm and "dot" not in norm:
        return  # every link and every spelled-out dot needs one of these (most chat lines)
    text_ = _OBFUSCATED_DOT.sub(".", norm)
    seen: set[str] = set()
    spans: list[tuple[int, int]] = []
    for m in _SCHEME_LINK.finditer(text_):
        spans.append(m.span())
        link = _host_path(m.group())
        if link not in seen:
            seen.add(link)
            yield link
    i = 0
    for m in _BARE_DOMAIN.finditer(text_):
        start = m.start()
        while i < len(spans) and spans[i][1] <= start:
            i += 1
        if i < len(spans) and spans[i][0] <= start:
            continue  # inside a link already found with its scheme
        link = _host_path(m.group())
        if link.split("/", 1)[0].rsplit(".", 1)[-1] in TLDS and link not in seen:
            seen.add(link)
            yield link


def find_links(text: Text, limit: int = MAX_LINKS) -> list[str]:
    """The first ``limit`` links of the text (see :func:`iter_links`)."""
    return list(islice(iter_links(text), limit))


def is_allowed(link: str, allowed: Iterable[str]) -> bool:
    """``allowed`` holds domains ("example.com": also its subdomains) or link prefixes
    ("t.me/ourgroup")."""
    host = link.split("/", 1)[0]
    for entry in allowed:
        if "/" in entry:
            if link == entry or link.startswith(entry.rstrip("/") + "/"):
                return True
        elif host == entry or host.endswith("." + entry):
            return True
    return False


def detect_links(text: Text, allowed: Sequence[str] = ()) -> Finding | None:
    for link in iter_links(text):
        if not is_allowed(link, allowed):
            return Finding("link", snippet(link))
    return None


def detect_any_link(text: Text) -> Finding | None:
    link = next(iter_links(text), None)
    return Finding("newcomer_link", snippet(link)) if link is not None else None


# -- invitations to other groups ---------------------------------------------------------------
def _zh_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Phrases for the squeezed text: one ending in a Latin letter must not run into a word
    ("加v" is not "加vip"), and "加..." is not read inside "参加..." or "增加..."."""
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        part = re.escape(phrase)
        if phrase[-1].isascii() and phrase[-1].isalpha():
            part += "(?![a-z])"
        if phrase[0] in _ZH_NOT_AFTER:
            part = f"(?<![{_ZH_NOT_AFTER[phrase[0]]}])" + part
        parts.append(part)
    return re.compile("|".join(parts))


_INVITE_HINTS = _zh_pattern(INVITE_HINTS_ZH)


def detect_invites(text: Text, allowed: Sequence[str] = ()) -> Finding | None:
    for m in _INVITE_URL.finditer(text.norm) if "." in text.norm else ():  # each has a dot
        link = _host_path(m.group())
        if not is_allowed(link, allowed):
            return Finding("invite", snippet(link))
    hint = _INVITE_HINTS.search(text.squeezed)
    return Finding("invite", hint.group()) if hint else None


# -- phone numbers -----------------------------------------------------------------------------
def detect_phones(text: Text) -> Finding | None:
    norm = text.norm
    if _DIGIT.search(norm) is None:
        return None  # most chat lines: no digit, no number
    m = _CN_MOBILE.search(norm) or _INTL_PHONE.search(norm)
    return Finding("phone", snippet(m.group())) if m else None


# -- contact baits -----------------------------------------------------------------------------
def _word_pattern(words: Iterable[str], after: str = "a-z") -> str:
    alternatives = "|".join(
        re.escape(w).replace(r"\ ", " ?") for w in sorted(set(words), key=len, reverse=True)
    )
    return rf"(?<![a-z0-9])(?:{alternatives})(?![{after}])"


def spaced(norm: str) -> str:
    """``norm`` with each run of separators (spaces, "-", "_", ",", "." ...) as one space."""
    return _SQUEEZE.sub(" ", norm)


def _spell(phrase: str) -> str:
    """``phrase`` in the spaced text: a space may stand between any two of its characters."""
    return " ?".join(re.escape(c) for c in phrase)


def _not_after(chars: str) -> str:
    """Not right after one of ``chars``, with or without a space between."""
    return f"(?<![{chars}])(?<![{chars}] )"


def _spaced_pattern(phrases: Iterable[str]) -> str:
    """Phrases for the spaced text: one ending in a Latin letter must not run into a word
    ("加v abc" is "加v", "加vip" is not), and "加..." is not read inside "参加..." or "增加..."."""
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        part = _spell(phrase)
        if phrase[-1].isascii() and phrase[-1].isalpha():
            part += "(?![a-z])"
        if phrase[0] in _ZH_NOT_AFTER:
            part = _not_after(_ZH_NOT_AFTER[phrase[0]]) + part
        parts.append(part)
    return "|".join(parts)


# sentence-final particles: "加微吧" is still an invitation
_PARTICLES = "吧呀哦啊哈噢喔嗷哟"
# 私聊 is a bait only when it invites contact: "我今天私聊了老师" tells what happened
_PRIVATE_CHAT = "私 ?聊"
#: words before 私聊 that make it an invitation: 找我私聊, 可私聊, 欢迎私聊, 详情私聊, 有意者私聊,
#: 需要的私聊, 老哥私聊 … (but not 不可私聊)
_PRIVATE_CHAT_INVITERS = "|".join(
    [
        *(
            _spell(w)
            for w in (
                "找我",
                "加我",
                "欢迎",
                "直接",
                "详情",
                "详询",
                "有意者",
                "有意",
                "诚意者",
                "诚意",
                "感兴趣",
                "需要",
                "老哥",
                "哥哥",
            )
        ),
        _not_after("不") + f"(?:{_spell('可以')}|可)",
        "请|速|来|者|哥",
        # 需要的私聊, 买片的私聊, 有的私聊 (not 我的私聊, 你们的私聊: a noun)
        _not_after("我你他她它们") + "的",
    ]
)
#: what may follow an invitation to 私聊: anything but a Chinese word (the end of the
#: sentence, punctuation, an id), or a particle, 我, or what the member will get (私聊领取 …)
_PRIVATE_CHAT_END = (
    rf"(?:(?=[{_PARTICLES}我领获咨详购]|了 ?解|下 ?单)|(?![\u3400-\u9fff\uf900-\ufaff]))"
)
_PRIVATE_CHAT_BAITS = "|".join(
    [
        # 私聊我, 可以私聊我, but not 他私聊我, 有人私聊我, 私聊我了, 私聊我的人
        _not_after("他她它人还被") + _PRIVATE_CHAT + " ?我(?! ?[了过的])",
        f"(?:{_PRIVATE_CHAT_INVITERS}) ?{_PRIVATE_CHAT}{_PRIVATE_CHAT_END}",
        # a sentence of its own: "卖片，私聊", "私聊。"
        f"(?:^| ){_PRIVATE_CHAT}(?: ?[{_PARTICLES}])?(?= |$)",
        _PRIVATE_CHAT
        + " ?(?:"
        + "|".join(_spell(w) for w in ("领取", "获取", "咨询", "详谈", "详情", "联系"))
        + ")",
    ]
)
#: 微信 written with a character of the same sound, a bait of its own ("威信 abc123") unless it
#: is the end of one word and the start of the next: 权威|信息, 安徽|信用, 微|芯片
WECHAT_HOMOPHONES = ("威信", "薇信", "徽信", "微芯")
#: a word the homophone's first character ends (权威, 示威; 蔷薇; 安徽, 国徽; 稍微), or a word
#: before 威信 in its own sense, prestige (有威信, 树立威信)
_HOMOPHONE_WORD_BEFORE = {
    "威": "权示声军国发助神有立",
    "薇": "蔷紫",
    "徽": "安国校警会帽",
    "微": "稍略细轻卑低衰精",
}
#: a word the homophone's second character starts (信息, 信用, 信任, 信心 …; 芯片)
_HOMOPHONE_WORD_AFTER = {"信": "息用任心誉托仰念赖箱件函访", "芯": "片"}


def _homophone_pattern() -> str:
    parts = []
    for phrase in WECHAT_HOMOPHONES:
        first, second = phrase[0], phrase[1]
        before, after = _HOMOPHONE_WORD_BEFORE[first], _HOMOPHONE_WORD_AFTER[second]
        parts.append(f"{_not_after(before)}{_spell(phrase)}(?! ?[{after}])")
    return "|".join(parts)


_CONTACT_ZH = re.compile(
    "|".join(
        [
            _spaced_pattern(CONTACT_ZH),
            _homophone_pattern(),
            # "加微 abc123", "加微:abc", "加微吧", but not "加微调", "加微博", "加微服务"
            _not_after(_ZH_NOT_AFTER["加"]) + rf"加 ?微(?![^\W\d_a-z{_PARTICLES}])",
            # "想要的私我", "有需要私我", but not "自私我…", "隐私我…", "走私我…"
            _not_after("自隐无走公阴偏营徇家藏缉") + "私 ?我(?! ?[了过])",
            _PRIVATE_CHAT_BAITS,
        ]
    )
)
# "vx" and "wx" only as a token of their own: not in a word ("wxPython"), a dotted name
# ("wx.Python", "mfsbsd.vx.sk") or an import ("import wx")
_WECHAT_TOKEN = r"(?<![a-z0-9_.])(?<!import )(?<!from )(?:vx|wx)(?![a-z_]|\.[a-z])"
_CONTACT_WORDS = re.compile(_word_pattern(CONTACT_WORDS) + "|" + _WECHAT_TOKEN)


#: every Chinese contact bait holds one of these (most chat lines hold none: no spaced form)
_CONTACT_ZH_HINT = re.compile("[加信芯私扣看]")  # 添加微信, 威信 and 微芯 hold 加, 信 or 芯


def detect_contacts(text: Text) -> Finding | None:
    norm = text.norm
    m = _CONTACT_ZH.search(spaced(norm)) if _CONTACT_ZH_HINT.search(norm) else None
    if m:  # the phrase as written, without the spaces between its characters
        return Finding("contact", m.group().replace(" ", ""))
    m = _CONTACT_WORDS.search(norm)
    return Finding("contact", m.group()) if m else None


# -- operator keywords -------------------------------------------------------------------------
@dataclass(frozen=True)
class KeywordMatcher:
    """Operator keywords, compiled once per keyword list.

    Chinese (and any non-ASCII) keywords match anywhere in the squeezed text; English keywords
    match whole words ("ass" does not match "class"), a trailing "*" makes a prefix ("crypto*").
    """

    substrings: tuple[str, ...]
    words: re.Pattern[str] | None

    @classmethod
    def build(cls, zh: Sequence[str], en: Sequence[str]) -> KeywordMatcher:
        subs: list[str] = []
        words: list[str] = []
        prefixes: list[str] = []
        for kw in [*zh, *en]:
            norm = normalise(kw)
            if not norm:
                continue
            if norm.isascii():
                if norm.endswith("*"):
                    prefixes.append(norm.rstrip("*").strip())
                else:
                    words.append(norm)
            else:
                subs.append(squeeze(norm) or norm)
        parts = []
        if words:
            parts.append(_word_pattern(words, after="a-z0-9"))
        prefixes = [p for p in prefixes if p]
        if prefixes:
            alts = "|".join(re.escape(p).replace(r"\ ", " ?") for p in sorted(set(prefixes)))
            parts.append(rf"(?<![a-z0-9])(?:{alts})")
        return cls(tuple(dict.fromkeys(subs)), re.compile("|".join(parts)) if parts else None)

    def find(self, text: Text) -> Finding | None:
        squeezed = text.squeezed
        for kw in self.substrings:
            if kw in squeezed:
                return Finding("keyword", snippet(kw, 40))
        if self.words is not None:
            m = self.words.search(text.norm)
            if m:
                return Finding("keyword", snippet(m.group(), 40))
        return None
