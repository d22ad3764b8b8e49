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

Training and accuracy are in :mod:`groupops.analytics.textmodel_training`, the top keywords in
:mod:`groupops.analytics.keywords`; this module holds what the analysis runs: the hashing, the
model, the shipped models' loading and the sentiment scores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

MODEL_DIR = Path(__file__).parent / "models"
N_BITS = 18


MAX_CHARS = 400
_MULT = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)


#: a link: what it says is its site (the path is ids and hashes, noise to a classifier)
_LINK = re.compile(r"(?:https?://|www\.)([^\s/?#<>\"']+)[^\s<>\"']*", re.IGNORECASE)
#: a fenced code block (Slack, Discord, Telegram markdown): pasted code or logs, never an ad
_CODE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


#: where people point each other for an answer: a link to one of these sites (or a subdomain)
#: is left out of what the classifiers read. The labelled spam sets have almost no ham with a
#: link (English 2 of 107, Chinese 2 of 1,373) and the #ubuntu logs link mostly to ubuntu.com,
#: so a bare link to a site the data never showed as ham was read by its letters
#: (``stackoverflow.com`` scored 0.56, an ad)
REFERENCE_SITES = frozenset(
    [
        "stackoverflow.com",
        "stackexchange.com",
        "superuser.com",
        "serverfault.com",
        "askubuntu.com",
        "github.com",
        "gitlab.com",
        "wikipedia.org",
        "python.org",
        "readthedocs.io",
        "developer.mozilla.org",
    ]
)
#: a message that starts by addressing members (``@name`` and a space, or WeChat's U+2005)
_ADDRESS = re.compile(r"^\s*(?:@[^\s\u2005@]+[\s\u2005]+)+")


def _reference(site: str) -> bool:
    return site in REFERENCE_SITES or any(site.endswith("." + r) for r in REFERENCE_SITES)


def _site(match: re.Match[str]) -> str:
    site = match.group(1).lower().removeprefix("www.")
    return " " if _reference(site) else " http " + site + " "


def plain(text: str) -> str:
    """What the classifiers read of a message: links as their site alone, links to
    :data:`REFERENCE_SITES` and code blocks left out, and without the ``@name`` a message
    starts with. Both models learn and score on this: a dev chat's links to GitHub or Stack
    Overflow and its pasted logs read as ads to a model that saw them whole (a quarter of the
    Slack sample's human messages), and a spam link's site is what tells it apart. An address
    in front of a reply is no contact handle (spam writes its handle inside the text, ``联系人：
    @abc123``), but the labelled Chinese set has ``@`` almost only in spam (1,579 of 1,614), so
    ``@老李 在小程序里提交`` read as an ad."""
    if "```" in text:
        text = _CODE.sub(" ", text)
    if "://" in text or "www." in text or "WWW." in text:
        text = _LINK.sub(_site, text)
    if "@" in text:
        text = _ADDRESS.sub("", text)
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


@dataclass
class TextModel:
    """A hashed char n-gram linear classifier; :meth:`scores` gives P(positive class).

    ``center`` and ``neutral`` are for sentiment in a chat (:func:`sentiment_read`): the
    model's log-odds that ordinary group chat has in the middle, and the half-width of the
    neutral band around it; both calibrated on data at training time, 0 for the spam model."""

    index: npt.NDArray[np.int32]
    values: npt.NDArray[np.float32]
    bias: float
    threshold: float = 0.5
    center: float = 0.0
    neutral: float = 0.0

    def scores(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        if not texts:
            return np.zeros(0)
        z = self.logits(texts)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        if not texts:
            return np.zeros(0)
        w = np.zeros(2**N_BITS, dtype=np.float64)
        w[self.index] = self.values
        r, b, v = hashed_ngrams(texts)
        return np.asarray(
            np.bincount(r, weights=v * w[b], minlength=len(texts)) + self.bias, dtype=np.float64
        )

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
                center=np.float64(self.center),
                neutral=np.float64(self.neutral),
            )

    @classmethod
    def load(cls, path: Path) -> TextModel:
        with np.load(path) as z:
            return cls(
                z["index"].astype(np.int32),
                z["values"].astype(np.float32),
                float(z["bias"]),
                float(z["threshold"]),
                float(z["center"]) if "center" in z else 0.0,
                float(z["neutral"]) if "neutral" in z else 0.0,
            )


SPAM_MODEL = MODEL_DIR / "spam.npz"
SENTIMENT_MODEL = MODEL_DIR / "sentiment.npz"

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


#: a Chinese question: a question mark, a final particle or a question word
ZH_QUESTION = re.compile(
    r"[?？]\s*$|[吗呢么嘛]\s*[~～。.!！]*\s*$"
    r"|怎么|如何|为什么|为啥|请问|是否|有没有|能不能|可不可以|可以吗|哪|几点|多少|什么"
)
#: at most this many characters (punctuation and spaces not counted) is an acknowledgement
#: (收到, 好的, 嗯嗯, ok): neutral
ACK_CHARS = 2
_NOT_CHAR = re.compile(r"[\W_]+")


def sentiment_read(
    texts: Sequence[str], model: TextModel | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per text a score in [-1, 1] and whether it was read at all.

    Chinese texts are read by the model (all of them): its log-odds minus the model's
    ``center`` (where ordinary group chat sits), as ``2p - 1``, and 0 inside the neutral band
    (``|score| < neutral``). The model learnt shopping reviews, where every text praises or
    complains; in a group most messages do neither, so: an acknowledgement of at most
    :data:`ACK_CHARS` characters is neutral, and a question (:data:`ZH_QUESTION`) is never
    negative for being a question (the reviews' questions are complaints: 怎么提交作业？ scored
    -0.86). Other texts are read by the English word list: read where a word of it occurs."""
    out = np.zeros(len(texts), dtype=np.float64)
    read = np.zeros(len(texts), dtype=np.bool_)
    zh = [i for i, t in enumerate(texts) if _HAN.search(t)] if model is not None else []
    if zh and model is not None:
        z = model.logits([texts[i] for i in zh]) - model.center
        score = 2.0 / (1.0 + np.exp(-z)) - 1.0
        score[np.abs(score) < model.neutral] = 0.0
        for k, i in enumerate(zh):
            t = texts[i]
            if len(_NOT_CHAR.sub("", t)) <= ACK_CHARS or (score[k] < 0 and ZH_QUESTION.search(t)):
                score[k] = 0.0
        out[zh] = score
        read[zh] = True
    for i, t in enumerate(texts):
        if read[i]:
            continue
        words = _EN_WORD.findall(t.lower())
        pos = sum(w in EN_POSITIVE for w in words)
        neg = sum(w in EN_NEGATIVE for w in words)
        if pos or neg:
            out[i] = (pos - neg) / (pos + neg)
            read[i] = True
    return out, read


def sentiment_scores(texts: Sequence[str], model: TextModel | None) -> npt.NDArray[np.float64]:
    """The scores of :func:`sentiment_read` alone."""
    return sentiment_read(texts, model)[0]


def load_spam() -> TextModel | None:
    return TextModel.load(SPAM_MODEL) if SPAM_MODEL.exists() else None


def load_sentiment() -> TextModel | None:
    return TextModel.load(SENTIMENT_MODEL) if SENTIMENT_MODEL.exists() else None
