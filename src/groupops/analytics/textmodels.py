"""Small offline text classifiers: spam/ads (Chinese, English, Russian) and sentiment
(Chinese, with an English word list), plus top keywords (jieba for Chinese).

Each classifier is character 1-3-grams hashed into ``2**N_BITS`` buckets by numpy
(:func:`hashed_ngrams`: no vocabulary to store, no scikit-learn needed at run time) and a
logistic regression (scikit-learn, at training time only). The weights are
stored sparse as ``models/<name>.npz`` (a few hundred KB), built from ../shared/data by
``groupops analytics train`` — nothing is downloaded at run time.

Data and splits: a fixed-seed 80/20 split per language (spam) and of the review corpus
(sentiment); the shipped models are fitted on the 80 % only, so the accuracy the command prints
on the 20 % is a held-out figure.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_DIR = Path(__file__).parent / "models"
N_BITS = 18
SEED = 7


MAX_CHARS = 400
_MULT = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)


#: a link: what it says is its site (the path is ids and hashes, noise to a classifier)
_LINK = re.compile(r"(?:https?://|www\.)([^\s/?#<>\"']+)[^\s<>\"']*", re.IGNORECASE)
#: a fenced code block (Slack, Discord, Telegram markdown): pasted code or logs, never an ad
_CODE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


def _site(match: re.Match[str]) -> str:
    return " http " + match.group(1).lower().removeprefix("www.") + " "


def plain(text: str) -> str:
    """What the classifiers read of a message: links as their site alone, code blocks left
    out. Both models learn and score on this: a dev chat's links to GitHub or Stack Overflow
    and its pasted logs read as ads to a model that saw them whole (a quarter of the Slack
    sample's human messages), and a spam link's site is what tells it apart."""
    if "```" in text:
        text = _CODE.sub(" ", text)
    if "://" in text or "www." in text or "WWW." in text:
        text = _LINK.sub(_site, text)
    return text


def hashed_ngrams(
    texts: Sequence[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Character 1-3-grams of each text as :func:`plain` has it (lower-cased, padded with
    spaces, first ``MAX_CHARS`` characters), hashed into ``2**N_BITS`` buckets with numpy only
    (no vocabulary, no scikit-learn at run time). Returns (row, bucket, weight) triples with
    the counts of each row scaled to unit length (l2), one triple per distinct (row, bucket)."""
    n = len(texts)
    padded = [" " + plain(t)[:MAX_CHARS].lower() + " " for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=n)
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys = []
    with np.errstate(over="ignore"):
        for size in (1, 2, 3):
            m = codes.shape[0] - size + 1
            if m <= 0:
                continue
            h = np.full(m, np.uint64(size))
            for k in range(size):
                h = h * _PRIME + codes[k : k + m]
            ok = row[:m] == row[size - 1 : size - 1 + m]
            bucket = ((h[ok] * _MULT) >> np.uint64(64 - N_BITS)).astype(np.int64)
            keys.append((row[:m][ok] << N_BITS) | bucket)
    if not keys:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
    r = uniq >> N_BITS
    b = uniq & ((1 << N_BITS) - 1)
    c = counts.astype(np.float64)
    norm = np.sqrt(np.bincount(r, weights=c * c, minlength=n))
    return r, b, c / np.maximum(norm[r], 1e-12)


def _matrix(texts: Sequence[str]) -> Any:
    """The hashed n-grams as a scipy CSR matrix (training only)."""
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    r, b, v = hashed_ngrams(texts)
    return csr_matrix((v, (r, b)), shape=(len(texts), 2**N_BITS), dtype=np.float64)


@dataclass
class TextModel:
    """A hashed char n-gram linear classifier; ``predict_proba`` gives P(positive class)."""

    index: npt.NDArray[np.int32]
    values: npt.NDArray[np.float32]
    bias: float
    threshold: float = 0.5

    def scores(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        if not texts:
            return np.zeros(0)
        w = np.zeros(2**N_BITS, dtype=np.float64)
        w[self.index] = self.values
        r, b, v = hashed_ngrams(texts)
        z = np.bincount(r, weights=v * w[b], minlength=len(texts)) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def predict(self, texts: Sequence[str]) -> npt.NDArray[np.bool_]:
        return self.scores(texts) >= self.threshold

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                index=self.index,
                values=self.values.astype(np.float16),
                bias=np.float64(self.bias),
                threshold=np.float64(self.threshold),
            )

    @classmethod
    def load(cls, path: Path) -> TextModel:
        with np.load(path) as z:
            return cls(
                z["index"].astype(np.int32),
                z["values"].astype(np.float32),
                float(z["bias"]),
                float(z["threshold"]),
            )


def fit(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    c: float = 20.0,
    groups: Sequence[str] | None = None,
) -> TextModel:
    """Fit on ``texts``; every (group, label) pair weighs the same in total, so a small
    language is not drowned by a large one."""
    from sklearn.linear_model import LogisticRegression

    x = _matrix(texts)
    y = np.asarray(labels)
    keys = [f"{g}:{v}" for g, v in zip(groups or [""] * len(y), y.tolist(), strict=True)]
    sizes = Counter(keys)
    weight = np.asarray([len(keys) / (len(sizes) * sizes[k]) for k in keys])
    clf = LogisticRegression(C=c, max_iter=3000, solver="liblinear")
    clf.fit(x, y, sample_weight=weight)
    coef = clf.coef_[0].astype(np.float32)
    keep = np.flatnonzero(np.abs(coef) > 1e-3).astype(np.int32)
    return TextModel(keep, coef[keep], float(clf.intercept_[0]))


def _split(n: int, seed: int = SEED) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(n * 0.8)
    return np.sort(perm[:cut]), np.sort(perm[cut:])


# ---- data --------------------------------------------------------------------------------


def spam_data(root: Path) -> dict[str, tuple[list[str], list[int]]]:
    """``{lang: (texts, labels)}`` (1 = spam) from ``root`` = ../shared/data/spam."""
    out: dict[str, tuple[list[str], list[int]]] = {}
    texts: list[str] = []
    labels: list[int] = []
    with (root / "sms_spam_collection.tsv").open(encoding="utf-8", errors="replace") as fh:
        next(fh)
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in ("ham", "spam") and text:
                texts.append(text)
                labels.append(int(label == "spam"))
    out["en"] = (texts, labels)
    texts, labels = [], []
    for name, label_value in (("tg_spam_ru_spam.txt", 1), ("tg_spam_ru_ham.txt", 0)):
        for line in (root / name).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(label_value)
    out["ru"] = (texts, labels)
    texts, labels = [], []
    with (root / "tg_spam_zh_train.csv").open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            t = (row.get("input") or "").strip()
            if t and row.get("target") in ("0", "1"):
                texts.append(t)
                labels.append(int(row["target"]))
    out["zh"] = (texts, labels)
    return out


def sentiment_data(root: Path) -> tuple[list[str], list[int]]:
    """Chinese reviews, 1 = positive, from ``root`` = ../shared/data/sentiment."""
    texts: list[str] = []
    labels: list[int] = []
    for name, value in (("zh_reviews_pos.txt", 1), ("zh_reviews_neg.txt", 0)):
        for line in (root / name).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(value)
    return texts, labels


def _f1(pred: npt.NDArray[np.bool_], gold: npt.NDArray[np.bool_]) -> dict[str, float]:
    tp = int(np.sum(pred & gold))
    p = tp / max(int(pred.sum()), 1)
    r = tp / max(int(gold.sum()), 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "test_size": int(gold.shape[0]),
    }


#: ordinary group chat the spam model learns as ham (see :func:`chat_texts`)
CHAT_HAM = 20_000


def chat_texts(folder: Path, limit: int | None = None) -> list[str]:
    """The message texts of the IRC logs in ``folder`` (irc-ubuntu/train or dev), read with
    groupops' own IRC importer; ``limit`` of them drawn at random (seeded), else all."""
    from groupops.domain.events import EventKind
    from groupops.importers import read

    texts = [
        e.text.strip()
        for path in sorted(folder.glob("*.raw.txt"))
        for e in read(path, fmt="irc")
        if e.kind == EventKind.MESSAGE and e.text.strip()
    ]
    if limit is None or limit >= len(texts):
        return texts
    keep = np.sort(np.random.default_rng(SEED).choice(len(texts), limit, replace=False))
    return [texts[i] for i in keep]


def train_spam(
    root: Path, chat: Path | None = None
) -> tuple[TextModel, dict[str, dict[str, float]]]:
    """One model for all languages, fitted on each language's 80 %; F1 per language on the
    held-out 20 %. With ``chat`` (irc-ubuntu/train) :data:`CHAT_HAM` messages of an ordinary
    technical group chat are ham too: the labelled sets' ham is SMS and chat of other kinds,
    and without it the model called 16 % of the #ubuntu dev logs (all ham) spam; with it
    under 1 %, and held-out F1 rose in every language."""
    data = spam_data(root)
    train_t: list[str] = []
    train_y: list[int] = []
    train_g: list[str] = []
    tests: dict[str, tuple[list[str], npt.NDArray[np.bool_]]] = {}
    for lang, (texts, labels) in data.items():
        tr, te = _split(len(texts))
        y = np.asarray(labels)
        train_t += [texts[i] for i in tr]
        train_y += y[tr].tolist()
        train_g += [lang] * tr.shape[0]
        tests[lang] = ([texts[i] for i in te], y[te].astype(bool))
    if chat is not None:
        ham = chat_texts(chat, CHAT_HAM)
        train_t += ham
        train_y += [0] * len(ham)
        train_g += ["chat"] * len(ham)
    model = fit(train_t, train_y, groups=train_g)
    return model, {lang: _f1(model.predict(t), g) for lang, (t, g) in tests.items()}


def false_alarms(chat: Path, model: TextModel) -> dict[str, float]:
    """The share of an ordinary chat's messages (irc-ubuntu/dev: no spam) the model calls
    spam."""
    texts = chat_texts(chat)
    flagged = model.predict(texts)
    return {
        "flagged": round(float(flagged.mean()) if len(texts) else 0.0, 4),
        "messages": len(texts),
    }


def evaluate_spam(root: Path, model: TextModel) -> dict[str, dict[str, float]]:
    out = {}
    for lang, (texts, labels) in spam_data(root).items():
        _, te = _split(len(texts))
        out[lang] = _f1(model.predict([texts[i] for i in te]), np.asarray(labels)[te].astype(bool))
    return out


def train_sentiment(root: Path) -> tuple[TextModel, dict[str, float]]:
    texts, labels = sentiment_data(root)
    tr, _te = _split(len(texts))
    y = np.asarray(labels)
    model = fit([texts[i] for i in tr], y[tr].tolist(), c=2.0)
    return model, evaluate_sentiment(root, model)


def evaluate_sentiment(root: Path, model: TextModel) -> dict[str, float]:
    texts, labels = sentiment_data(root)
    _, te = _split(len(texts))
    gold = np.asarray(labels)[te].astype(bool)
    pred = model.predict([texts[i] for i in te])
    return {"accuracy": round(float(np.mean(pred == gold)), 4), "test_size": int(te.shape[0])}


SPAM_MODEL = MODEL_DIR / "spam.npz"
SENTIMENT_MODEL = MODEL_DIR / "sentiment.npz"


def build_models(data_root: Path, out_dir: Path = MODEL_DIR) -> dict[str, Any]:
    """Train both text models from ``data_root`` (../shared/data) into ``out_dir``."""
    spam, spam_scores = train_spam(data_root / "spam", data_root / "irc-ubuntu" / "train")
    spam.save(out_dir / "spam.npz")
    senti, senti_scores = train_sentiment(data_root / "sentiment")
    senti.save(out_dir / "sentiment.npz")
    return {"spam": spam_scores, "sentiment": senti_scores}


# ---- use at analysis time ------------------------------------------------------------------

_HAN = re.compile(r"[\u4e00-\u9fff]")
_EN_WORD = re.compile(r"[a-z][a-z'\-]{1,}")
EN_POSITIVE = frozenset(
    [
        "good",
        "great",
        "thanks",
        "thank",
        "awesome",
        "nice",
        "love",
        "like",
        "cool",
        "excellent",
        "amazing",
        "happy",
        "glad",
        "perfect",
        "helpful",
        "works",
        "worked",
        "working",
        "fixed",
        "solved",
        "wonderful",
        "best",
        "beautiful",
        "fun",
        "enjoy",
        "welcome",
        "yay",
        "brilliant",
        "fantastic",
        "congrats",
        "congratulations",
        "appreciate",
        "agree",
        "easy",
        "fast",
    ]
)
EN_NEGATIVE = frozenset(
    [
        "bad",
        "terrible",
        "awful",
        "hate",
        "sucks",
        "broken",
        "crash",
        "crashes",
        "crashed",
        "bug",
        "buggy",
        "fail",
        "fails",
        "failed",
        "failing",
        "error",
        "errors",
        "problem",
        "problems",
        "wrong",
        "annoying",
        "angry",
        "stupid",
        "useless",
        "slow",
        "worst",
        "scam",
        "spam",
        "damn",
        "crap",
        "horrible",
        "disappointed",
        "sad",
        "sorry",
        "unfortunately",
        "issue",
        "issues",
        "refund",
        "complaint",
        "dead",
        "lost",
    ]
)


def sentiment_scores(texts: Sequence[str], model: TextModel | None) -> npt.NDArray[np.float64]:
    """Per text a score in [-1, 1]: Chinese texts by the model, others by the English word
    list (0 where no word of it occurs)."""
    out = np.zeros(len(texts), dtype=np.float64)
    zh = [i for i, t in enumerate(texts) if _HAN.search(t)]
    if zh and model is not None:
        p = model.scores([texts[i] for i in zh])
        out[zh] = 2 * p - 1
    for i, t in enumerate(texts):
        if out[i] != 0.0 or (zh and model is not None and _HAN.search(t)):
            continue
        words = _EN_WORD.findall(t.lower())
        pos = sum(w in EN_POSITIVE for w in words)
        neg = sum(w in EN_NEGATIVE for w in words)
        if pos or neg:
            out[i] = (pos - neg) / (pos + neg)
    return out


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
    return tk


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


def keywords(texts: Sequence[str], top: int = 30) -> list[dict[str, Any]]:
    """The most frequent content words: Chinese segmented with jieba, other text by simple
    tokenisation; stopwords, numbers, URLs, one-character words and words longer than
    ``MAX_KEYWORD_CHARS`` are dropped."""
    counts: Counter[str] = Counter()
    tk = None
    url = re.compile(r"https?://\S+|www\.\S+")
    cleaned = [url.sub(" ", t) for t in texts if t]
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
                    and (_HAN.search(w) or _EN_WORD.fullmatch(w))
                ):
                    counts[w] += 1
        else:
            for w in _EN_WORD.findall(t.lower()):
                if 3 <= len(w) <= MAX_KEYWORD_CHARS and w not in EN_STOP:
                    counts[w] += 1
    return [{"word": w, "count": c} for w, c in counts.most_common(top)]


def load_spam() -> TextModel | None:
    return TextModel.load(SPAM_MODEL) if SPAM_MODEL.exists() else None


def load_sentiment() -> TextModel | None:
    return TextModel.load(SENTIMENT_MODEL) if SENTIMENT_MODEL.exists() else None
