"""Top keywords of a group's messages: Chinese segmented with jieba (a private tokenizer that
loads only the dictionary entries the texts can meet, without the dictionary's rarest
entries), other text by simple tokenisation, without stopwords, numbers, links, pasted blobs,
@mentions or members' names."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from itertools import compress
from pathlib import Path
from typing import Any

from groupops.analytics.textmodels import _EN_WORD, _HAN

EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "else",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "can",
        "will",
        "just",
        "don't",
        "dont",
        "should",
        "now",
        "would",
        "could",
        "also",
        "get",
        "got",
        "ok",
        "okay",
        "yes",
        "yeah",
        "lol",
        "im",
        "i'm",
        "it's",
        "that's",
        "just",
        "like",
        "know",
        "think",
        "want",
        "need",
        "one",
        "really",
        "thanks",
        "thank",
        "please",
        "hi",
        "hello",
        "out",
        "up",
        "about",
        "into",
        "over",
        "after",
        "again",
        "still",
        "even",
        "well",
        "see",
        "use",
        "try",
    ]
)
ZH_STOP = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "在",
        "有",
        "和",
        "就",
        "不",
        "人",
        "都",
        "一",
        "一个",
        "上",
        "也",
        "很",
        "到",
        "说",
        "要",
        "去",
        "会",
        "着",
        "没有",
        "看",
        "好",
        "自己",
        "这",
        "那",
        "吗",
        "吧",
        "啊",
        "呢",
        "哦",
        "嗯",
        "哈",
        "哈哈",
        "哈哈哈",
        "么",
        "什么",
        "怎么",
        "还",
        "给",
        "让",
        "被",
        "把",
        "对",
        "但",
        "但是",
        "而",
        "与",
        "及",
        "这个",
        "那个",
        "我们",
        "你们",
        "他们",
        "就是",
        "可以",
        "没",
        "又",
        "才",
        "能",
        "呀",
        "啦",
        "嘛",
        "哪",
        "为",
        "所以",
        "因为",
        "如果",
        "可能",
        "已经",
        "还是",
    ]
)


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "groupops"


def _jieba_tokenizer(chars: set[str] | None = None) -> Any:
    """A private jieba Tokenizer: its dictionary cache goes to groupops' cache folder (not the
    working directory or a shared /tmp name), and it logs nothing to stdout.

    With ``chars``, the tokenizer only needs to cut texts made of those characters: it gets
    the entries of jieba's prefix dictionary that start with one of them (every look-up jieba
    makes is a piece of the text being cut, so it finds exactly what the whole dictionary
    holds), read from a by-first-character copy of the dictionary in the cache folder (built
    once from jieba's own). Loading the whole dictionary is most of the keywords' time when
    only a few texts are Chinese."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    cache = _cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tk.tmp_dir = str(cache)
    except OSError:
        pass
    if chars is not None:
        try:
            found = _partial_dictionary(tk, cache, chars)
        except (OSError, ValueError, EOFError, TypeError, KeyError):
            found = None  # the whole dictionary, as jieba loads it
            with contextlib.suppress(OSError):
                _by_char_path(tk, cache).unlink(missing_ok=True)  # rebuilt next time
        if found is not None:
            tk.FREQ, tk.total = found
            tk.initialized = True
    if not tk.initialized:
        tk.initialize()
    for word, count in tk.FREQ.items():
        if 0 < count < MIN_WORD_FREQ and len(word) > 1:
            tk.FREQ[word] = 0  # a prefix still, no word: cut into the words it holds
    return tk


#: jieba's dictionary entries seen fewer times than this in its corpus are not taken as words:
#: they are mostly pieces of phrases (百度网 in 百度网盘, 篇文章 in 这篇文章, both seen 3 times),
#: and the text is cut into the common words they hold (百度 网盘, 这篇 文章)
MIN_WORD_FREQ = 5


_BY_CHAR_MAGIC = b"groupops-jieba-by-char-1\n"


def _by_char_path(tk: Any, cache: Path) -> Path:
    """The by-first-character dictionary of ``tk``'s dictionary file (named after its path,
    size and time, so a changed dictionary gets a new copy)."""
    import hashlib

    import jieba

    if tk.dictionary is None:
        src = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    else:
        src = Path(tk.dictionary)
    st = src.stat()
    key = f"{src.resolve()}|{st.st_size}|{st.st_mtime_ns}|{jieba.__version__}"
    return cache / f"jieba-by-char.{hashlib.sha1(key.encode()).hexdigest()[:16]}.bin"


def _partial_dictionary(tk: Any, cache: Path, chars: set[str]) -> tuple[dict[str, int], int]:
    """The entries of ``tk``'s prefix dictionary whose first character is in ``chars``, and
    the dictionary's total; the by-first-character copy is written first if missing."""
    import marshal

    path = _by_char_path(tk, cache)
    if not path.exists():
        tk.initialize()
        groups: dict[str, dict[str, int]] = {}
        for word, count in tk.FREQ.items():
            groups.setdefault(word[0], {})[word] = count
        blobs = {c: marshal.dumps(g) for c, g in groups.items()}
        index: dict[str, tuple[int, int]] = {}
        at = 0
        for c, blob in blobs.items():
            index[c] = (at, len(blob))
            at += len(blob)
        head = marshal.dumps((tk.total, index))
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            f.write(_BY_CHAR_MAGIC + len(head).to_bytes(8, "little") + head)
            for blob in blobs.values():
                f.write(blob)
        tmp.replace(path)
    with path.open("rb") as f:
        if f.read(len(_BY_CHAR_MAGIC)) != _BY_CHAR_MAGIC:
            raise ValueError("not a by-character jieba dictionary")
        size = int.from_bytes(f.read(8), "little")
        total, index = marshal.loads(f.read(size))
        base = len(_BY_CHAR_MAGIC) + 8 + size
        freq: dict[str, int] = {}
        for c in sorted(chars):
            span = index.get(c)
            if span is not None:
                f.seek(base + span[0])
                freq.update(marshal.loads(f.read(span[1])))
    return freq, int(total)


# a longer "word" is a pasted blob (base64, a hash, a line of one letter), not a keyword
MAX_KEYWORD_CHARS = 30


_MENTION = re.compile(r"@[^\s\u2005@]+")


def keywords(
    texts: Sequence[str], top: int = 30, names: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The most frequent content words: Chinese segmented with jieba, other text by simple
    tokenisation; stopwords, numbers, URLs, @mentions (``@老李``, up to the next space),
    members' ``names`` (a Chinese name wherever it occurs, other names as whole words),
    one-character words and words longer than ``MAX_KEYWORD_CHARS`` are dropped."""
    counts: Counter[str] = Counter()
    tk = None
    url = re.compile(r"https?://\S+|www\.\S+")
    han_names = sorted({n for n in names if len(n) >= 2 and _HAN.search(n)}, key=len, reverse=True)
    name_re = re.compile("|".join(map(re.escape, han_names))) if han_names else None
    name_words = {w for n in names if not _HAN.search(n) for w in _EN_WORD.findall(n.lower())}
    cleaned = []
    for t in texts:
        if not t:
            continue
        t = _MENTION.sub(" ", url.sub(" ", t))
        if name_re is not None:
            t = name_re.sub(" ", t)
        cleaned.append(t)
    han = [bool(_HAN.search(t)) for t in cleaned]
    for t, is_han in zip(cleaned, han, strict=True):
        if is_han:
            if tk is None:
                # only the dictionary entries these texts can meet
                tk = _jieba_tokenizer(set().union(*compress(cleaned, han)))
            for w in tk.lcut(t):
                w = w.strip().lower()
                if (
                    2 <= len(w) <= MAX_KEYWORD_CHARS
                    and w not in ZH_STOP
                    and w not in EN_STOP
                    and not w.isdigit()
                    and w not in name_words
                    and (_HAN.search(w) or _EN_WORD.fullmatch(w))
                ):
                    counts[w] += 1
        else:
            for w in _EN_WORD.findall(t.lower()):
                if 3 <= len(w) <= MAX_KEYWORD_CHARS and w not in EN_STOP and w not in name_words:
                    counts[w] += 1
    return [{"word": w, "count": c} for w, c in counts.most_common(top)]
