"""The text areas: spam and ads, sentiment over time, keywords. The models are expensive, so
they run on a uniform sample of at most ``TEXT_SAMPLE`` text messages (the figures say how
many were read); bots' posts are left out, and so is every message that is no typed text
(:func:`text_rows`)."""

from __future__ import annotations

from functools import cache
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.analytics.context import Context, IntArray, _week_label, _week_start, quote
from groupops.analytics.frame import CONTENT_KINDS
from groupops.domain.events import ContentKind

TEXT_SAMPLE = 20_000

#: what a member typed: text, and text with a link in it (its kind is the link's)
TYPED = frozenset(
    {ContentKind.TEXT, ContentKind.H5_LINK, ContentKind.ARTICLE_LINK, ContentKind.NETDISK_LINK}
)
_TYPED_CODES = np.asarray([k in TYPED for k in CONTENT_KINDS], dtype=np.bool_)
#: a placeholder a platform writes in place of a message, compared case-folded without a final
#: dot (the importers give most of them a media kind; these are for text that came in as text)
PLACEHOLDERS = frozenset(
    {
        "<media omitted>",
        "<attached>",
        "this message was deleted",
        "you deleted this message",
        "message deleted",
        "missed voice call",
        "missed video call",
        "null",
    }
)


@cache
def _placeholders() -> frozenset[str]:
    from groupops.importers import whatsapp_text as wt

    return PLACEHOLDERS | frozenset(wt.SPECIAL)  # WhatsApp's deleted messages and calls


def placeholder(text: str) -> bool:
    """``text`` is a platform's stand-in for a message (media left out of the export, a
    deleted message, a call), not words a member wrote."""
    if len(text) > 80:
        return False
    return text.strip().strip("\u200e\u200f").casefold().rstrip(" .") in _placeholders()


# ---- spam, sentiment, keywords ---------------------------------------------------------------


def text_rows(c: Context) -> IntArray:
    """The rows of typed text messages, bots' posts left out: the population the text models
    (spam, sentiment, keywords) sample from and ``spam.text_messages`` counts. A message of
    another content kind (picture, video, voice, sticker, file, other: WhatsApp's ``<Media
    omitted>``, ``image omitted``, deleted messages and calls, Discord's attachments) is left
    out with its text, as WeChat's ``[图片]`` is, and so is a text that is a platform's
    placeholder (:func:`placeholder`)."""
    f = c.f
    typed = _TYPED_CODES[f.content] & np.fromiter(map(bool, f.text), dtype=np.bool_, count=len(f))
    if c.pa is not c.ma:
        typed &= ~c.bot[f.author]
    rows = np.flatnonzero(c.msg & typed)
    return rows[~_placeholders_among([f.text[i] for i in rows.tolist()])]


def _placeholders_among(texts: list[str]) -> npt.NDArray[np.bool_]:
    """:func:`placeholder` of each of ``texts``, in C-level passes over the short ones (no
    Python call per text): the same steps in the same order."""
    k = len(texts)
    out = np.zeros(k, dtype=np.bool_)
    short = np.flatnonzero(np.fromiter(map(len, texts), dtype=np.int64, count=k) <= 80)
    if short.shape[0]:
        cut = map(str.strip, map(texts.__getitem__, short.tolist()))
        keys = map(
            str.rstrip, map(str.casefold, map(str.strip, cut, repeat("\u200e\u200f"))), repeat(" .")
        )
        known = _placeholders()
        out[short] = np.fromiter(
            map(known.__contains__, keys), dtype=np.bool_, count=short.shape[0]
        )
    return out


def _sample(c: Context, size: int, population: IntArray | None = None) -> IntArray:
    """A uniform sample (in row order) of at most ``size`` of the text messages
    (``population``, :func:`text_rows` when not given); all of them when there are fewer."""
    mi = text_rows(c) if population is None else population
    if mi.shape[0] <= size:
        return mi
    return np.sort(np.random.default_rng(0).choice(mi, size=size, replace=False))


def spam(
    c: Context, rows: IntArray, top: int = 10, population: IntArray | None = None
) -> dict[str, Any]:
    """Share of the text messages (:func:`text_rows`: typed text, no media, placeholders or
    bots) the classifier calls spam/ads, and the top offenders.

    ``rows`` are the messages read (the sample), ``population`` all text messages they were
    drawn from (``rows`` itself when not given: everything was read). Counts are what was read
    when everything was; when sampled they are estimates, per member their share of their own
    read messages times their own text messages, so never above what they posted."""
    from groupops.analytics.textmodels import load_spam

    model = load_spam()
    if population is None:
        population = rows
    total = int(population.shape[0])
    read = int(rows.shape[0])
    if model is None or read == 0:
        return {
            "share": 0.0,
            "messages": 0,
            "sampled": read,
            "text_messages": total,
            "top_offenders": [],
        }
    flags = np.asarray(model.predict([c.f.text[i][:1000] for i in rows.tolist()]), dtype=bool)
    counts = np.bincount(c.f.author[rows[flags]], minlength=c.n_people)
    if read < total:  # sampled: each member's own spam rate, applied to their own messages
        read_by = np.bincount(c.f.author[rows], minlength=c.n_people)
        posted = np.bincount(c.f.author[population], minlength=c.n_people)
        estimate = np.rint(counts * posted / np.maximum(read_by, 1)).astype(np.int64)
        estimate = np.minimum(estimate, posted)
        messages = min(round(float(flags.mean()) * total), total)
    else:
        estimate = counts.astype(np.int64)
        messages = int(flags.sum())
    order = np.argsort(-estimate, kind="stable")[:top]
    return {
        "share": round(float(flags.mean()), 4),
        "messages": messages,
        "sampled": read,
        "text_messages": total,
        "top_offenders": [
            {
                "name": c.name(int(i)),
                "spam": int(estimate[i]),
                "share_of_their_messages": round(
                    min(float(estimate[i] / max(c.msg_count[i], 1)), 1.0), 4
                ),
            }
            for i in order
            if estimate[i] > 0
        ],
        "examples": [quote(c.f.text[i]) for i in rows[flags][:5].tolist()],
    }


def sentiment(c: Context, rows: IntArray) -> dict[str, Any]:
    """Weekly positive/negative shares (score > 0.2 / < -0.2) over the sampled messages that
    were read (:func:`textmodels.sentiment_read`: every Chinese one, neutral ones too; others
    where a word of the English list occurs); negative spikes = weeks (with at least 5 scored
    messages) whose negative share is at least 0.25 above, and twice, the median of the other
    weeks; who started a spike = the author of that week's first negative message."""
    from groupops.analytics.textmodels import load_sentiment, sentiment_read

    if rows.shape[0] == 0:
        return {"over_time": [], "spikes": [], "sampled": 0}
    scores, scored = sentiment_read([c.f.text[i][:500] for i in rows.tolist()], load_sentiment())
    weeks = _week_start(c.local_day(c.f.time[rows]))
    uw, inv = np.unique(weeks, return_inverse=True)
    cnt = np.bincount(inv, weights=scored, minlength=uw.shape[0])
    pos = np.bincount(inv, weights=scores > 0.2, minlength=uw.shape[0])
    neg = np.bincount(inv, weights=scores < -0.2, minlength=uw.shape[0])
    negshare = np.where(cnt > 0, neg / np.maximum(cnt, 1), 0.0)
    over = [
        {
            "week": _week_label(int(w)),
            "scored": int(k),
            "positive": round(float(p / k), 4) if k else 0.0,
            "negative": round(float(q / k), 4) if k else 0.0,
        }
        for w, k, p, q in zip(uw, cnt, pos, neg, strict=True)
    ]
    spikes = []
    valid = cnt >= 5
    if valid.sum() >= 2:
        for k in np.flatnonzero(valid):
            others = valid.copy()
            others[k] = False
            base = float(np.median(negshare[others]))
            if negshare[k] < base + 0.25 or negshare[k] < 2 * base:
                continue
            first = rows[(inv == k) & (scores < -0.2)][0]
            spikes.append(
                {
                    "week": _week_label(int(uw[k])),
                    "negative": round(float(negshare[k]), 4),
                    "baseline": round(base, 4),
                    "started_by": c.name(int(c.f.author[first])),
                    "first_message": quote(c.f.text[first]),
                    "time": c.iso(int(c.f.time[first])),
                }
            )
    return {
        "over_time": over,
        "spikes": spikes,
        "sampled": int(rows.shape[0]),
        "average": round(float(scores[scored].mean()), 4) if scored.any() else 0.0,
    }


def keywords(c: Context, rows: IntArray, top: int = 30) -> dict[str, Any]:
    from groupops.analytics.keywords import keywords as kw

    names = [c.name(i) for i in range(c.n_people)]
    return {
        "top": kw([c.f.text[i] for i in rows.tolist()], top, names=names),
        "sampled": int(rows.shape[0]),
    }
