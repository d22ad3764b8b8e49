"""The reply ranker's features (:mod:`groupops.analytics.replies`): their names, the per-frame
values they are computed from (:class:`_Prepared`, filled by
:func:`groupops.analytics.reply_prepare._prepare`), and the feature blocks, computed
vectorised over all messages at once, one candidate offset at a time: the message block, the
pair block of one offset (and its part from the first stage's parents), the self slot, and
which candidates a message may answer at all."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_GAP = 2 * 3600  # seconds: an older candidate must be addressed by name

FloatArray = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Index = IntArray | slice

_DIST_EDGES = (1, 2, 3, 4, 5, 6, 9, 13, 21, 36)  # bucket k: edges[k] <= d < edges[k + 1]
_GAP_EDGES_MIN = (0, 1, 2, 3, 6, 16, 61)

PAIR_FEATURES = (
    *(f"dist_ge_{e}" for e in _DIST_EDGES),
    "log_dist",
    *(f"gap_min_ge_{e}" for e in _GAP_EDGES_MIN),
    "log_gap",
    "same_author",
    "addresses_author",
    "mentions_author",
    "addressed_me",
    "mentioned_me",
    "addresses_other",
    "cand_addressed_other",
    "cand_addressed_none",
    "cand_latest_of_author",
    "cand_author_between_2plus",
    "me_between_none",
    "me_between_2plus",
    "my_prev_named_cand_author",
    "cand_prev_named_me",
    "cand_system",
    "cand_question",
    "cand_url",
    "cand_thanks",
    "cand_greeting",
    "cand_command",
    "cand_short",
    "cand_log_len",
    "cand_author_first",
    "addressed_me_and_latest",
    "addresses_and_latest",
    "tfidf_cosine",
    "tfidf_overlap",
    "nearest_addressed",
    "nearest_addressed_me",
    "nearest_same_author",
    "nearest_question_other",
    # from the first stage's parents (zero in the first stage itself)
    "cand_parent_by_me",
    "cand_parent_is_my_prev",
    "my_prev_parent_is_cand",
    "my_prev_parent_by_cand_author",
    "cand_starts_conversation",
)
SELF_FEATURES = (
    "self",
    "self_addressee_seen",
    "self_addressee_absent",
    "self_addressed_recently",
    "self_spoke_recently",
    "self_question_seen",
)
MESSAGE_FEATURES = (
    "msg_question",
    "msg_addresses",
    "msg_mentions",
    "msg_url",
    "msg_thanks",
    "msg_greeting",
    "msg_command",
    "msg_len_lt_10",
    "msg_len_lt_25",
    "msg_len_lt_60",
    "msg_log_len",
    "msg_first_of_author",
    "msg_gap_prev_0",
    "msg_gap_prev_le_1",
    "msg_gap_prev_le_4",
    "msg_log_gap_prev",
    "msg_log_gap_author",
)
N_PAIR, N_SELF, N_MSG = len(PAIR_FEATURES), len(SELF_FEATURES), len(MESSAGE_FEATURES)
N_FEATURES = N_PAIR + N_SELF + N_MSG


@dataclass
class _Prepared:
    n: int
    time: IntArray
    author: IntArray  # -2 for system lines (no speaker)
    system: BoolArray
    addr: IntArray
    question: BoolArray
    prev_same: IntArray  # the author's previous row, -1 for none
    next_same: IntArray  # the author's next row, n + 1 for none
    url: BoolArray
    thanks: BoolArray
    greeting: BoolArray
    command: BoolArray
    length: IntArray
    mentions: npt.NDArray[np.int64]  # (_MAX_MENTIONS, n) authors named in the text, -1 pads
    tfidf: Any  # scipy CSR (n, vocabulary), rows L2-normalised; None without the words
    msg_feats: F32 = field(default_factory=lambda: np.zeros((0, N_MSG), dtype=np.float32))
    # per row, whom the author's previous message named: its addressee and mentions
    # (1 + _MAX_MENTIONS, n), -1 where none (and for every slot when there is no such message)
    prev_named: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    # per row, its pair features as a candidate (those that depend on the candidate alone),
    # (9, n): system, question, url, thanks, greeting, command, short, log length,
    # its author's first message
    cand_feats: F32 = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    pred: IntArray | None = None  # the first stage's parent of every row (itself: none)
    recorded: IntArray | None = None  # the platform's recorded parent of every row, or -1
    # per row, next_same of its next_same (n - 1's where there is none) and prev_same of its
    # prev_same (row 0's where there is none): the pair block reads them as views instead
    # of a gather per offset (see _second_same; filled when prepared, never after: the
    # chunks are scored in threads that only read)
    next2_same: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    prev2_same: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _second_same(p: _Prepared) -> None:
    """Fills ``p.next2_same`` and ``p.prev2_same`` from ``p.next_same`` and ``p.prev_same``."""
    if p.n:
        p.next2_same = p.next_same[np.minimum(p.next_same, p.n - 1)]
        p.prev2_same = p.prev_same[np.maximum(p.prev_same, 0)]


_MAX_MENTIONS = 4


def _mentions(p: _Prepared, rows: Index, who: IntArray, valid: bool = False) -> BoolArray:
    """Whether row ``rows[k]`` names author ``who[k]`` anywhere in its text (rows < 0 name
    nobody; ``valid``: all rows are >= 0)."""
    idx: Index = rows if valid or isinstance(rows, slice) else np.maximum(rows, 0)
    ment = p.mentions
    found = ment[0][idx] == who
    for slot in range(1, _MAX_MENTIONS):
        found |= ment[slot][idx] == who
    found &= who >= 0
    return np.asarray(found, dtype=np.bool_)


def _names(p: _Prepared, rows: IntArray, who: IntArray) -> BoolArray:
    """Addresses (``nick:``) or mentions ``who``; rows < 0 name nobody."""
    safe = np.maximum(rows, 0)
    named = (p.addr[safe] == who) | _mentions(p, safe, who, True)
    return np.asarray(named & (who >= 0) & (rows >= 0), dtype=np.bool_)


def _prev_names(p: _Prepared, rows: Index, who: IntArray) -> BoolArray:
    """:func:`_names` of the authors' previous messages: whether the previous message of
    ``rows``' author (``p.prev_same[rows]``) addresses or mentions ``who``, from the
    precomputed ``p.prev_named`` (views when ``rows`` is a slice, not gathers)."""
    pn = p.prev_named
    found = pn[0][rows] == who
    for slot in range(1, 1 + _MAX_MENTIONS):
        found |= pn[slot][rows] == who
    found &= who >= 0
    return np.asarray(found, dtype=np.bool_)


def _log_len(length: IntArray) -> F32:
    return np.asarray(np.log1p(length) / 5.0, dtype=np.float32)


def _message_block(p: _Prepared) -> F32:
    n = p.n
    idx = np.arange(n, dtype=np.int64)
    prev_gap = np.where(idx > 0, p.time - p.time[np.maximum(idx - 1, 0)], 3600)
    prev_gap = np.maximum(prev_gap, 0) / 60.0
    ps = p.prev_same
    author_gap = np.where(ps >= 0, p.time - p.time[np.maximum(ps, 0)], 86400 * 7)
    author_gap = np.maximum(author_gap, 0) / 60.0
    cols = [
        p.question,
        p.addr >= 0,
        p.mentions[0] >= 0,
        p.url,
        p.thanks,
        p.greeting,
        p.command,
        p.length < 10,
        p.length < 25,
        p.length < 60,
        _log_len(p.length),
        (ps < 0) & (p.author >= 0),
        prev_gap == 0,
        prev_gap <= 1,
        prev_gap <= 4,
        np.log1p(prev_gap) / 3.0,
        np.log1p(author_gap) / 5.0,
    ]
    # filled a block of rows at a time (not stacked from float32 copies: a large input's peak
    # memory): each column into a contiguous row of a small buffer, then the buffer
    # transposed into place (writing whole columns of the output strides across all of it)
    out = np.empty((n, len(cols)), dtype=np.float32)
    step = 32_768
    buf = np.empty((len(cols), min(step, n)), dtype=np.float32)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        part = buf[:, : hi - lo]
        for c, col in enumerate(cols):
            part[c] = col[lo:hi]
        out[lo:hi] = part.T
    return out


def _candidate_block(p: _Prepared) -> F32:
    """The pair features of every row as a candidate that depend on it alone, once per
    input (each offset copies them instead of computing them again)."""
    speaker = p.author >= 0
    cols = (
        p.system,
        p.question & speaker,
        p.url,
        p.thanks,
        p.greeting,
        p.command,
        p.length < 15,
        _log_len(p.length),
        (p.prev_same < 0) & speaker,
    )
    out = np.empty((len(cols), p.n), dtype=np.float32)
    for c, col in enumerate(cols):
        out[c] = col
    return out


def _const_pair(d: int) -> F32:
    """The pair features that depend on the offset alone (the distance buckets)."""
    out = [float(d >= e) for e in _DIST_EDGES] + [math.log1p(d) / 4.0]
    return np.asarray(out, dtype=np.float32)


N_CONST = len(_DIST_EDGES) + 1


def _pair_block(
    p: _Prepared,
    d: int,
    rows: IntArray,
    seen: dict[str, BoolArray],
    words: Any = None,
    compact: bool = False,
) -> F32:
    """The offset-dependent pair features, transposed: (N_PAIR - N_CONST, len(rows)), of
    ``rows`` against the candidates ``d`` rows earlier (every row must be >= d). ``seen``
    holds, per position in ``rows``, what nearer candidates already showed (for the
    "nearest" features) and is updated in place. ``words``: the tf-idf rows of ``rows``
    (None: no text similarity). ``compact``: the rows that are zero whatever the input are
    left out (the text similarity without ``words``, the first stage's parents without
    ``p.pred``): :func:`pair_rows` tells which rows are kept."""
    j = rows - d
    k = rows.shape[0]
    ri: Index = rows
    rj: Index = j
    if k and int(rows[-1]) - int(rows[0]) + 1 == k:  # a run of rows: views, not copies
        ri = slice(int(rows[0]), int(rows[-1]) + 1)
        rj = slice(int(j[0]), int(j[-1]) + 1)
    no_words = words is None or p.tfidf is None
    size = N_PAIR - N_CONST
    if compact:
        size -= 2 * no_words + N_PRED * (p.pred is None)
    out = np.empty((size, k), dtype=np.float32)
    ai, aj = p.author[ri], p.author[rj]
    gap_min = np.maximum(p.time[ri] - p.time[rj], 0) // 60
    c = 0
    for e in _GAP_EDGES_MIN:
        out[c] = gap_min >= e
        c += 1
    out[c] = np.log1p(gap_min) / 5.0
    c += 1
    speaker_i, speaker_j = ai >= 0, aj >= 0
    same = (ai == aj) & speaker_i
    other = speaker_j & ~same
    addr_i, addr_j = p.addr[ri], p.addr[rj]
    addresses = (addr_i == aj) & other
    mentions = _mentions(p, ri, aj, True) & other
    addressed_me = (addr_j == ai) & speaker_i & ~same
    mentioned_me = _mentions(p, rj, ai, True) & ~same
    ns = p.next_same[rj]
    latest = ns >= rows
    cand_between_2 = ~latest & (p.next2_same[rj] < rows)
    ps_i = p.prev_same[ri]
    me_none = ps_i < j
    me_2 = ~me_none & (p.prev2_same[ri] > j)
    question_j = p.question[rj] & speaker_j
    for col in (
        same,
        addresses,
        mentions,
        addressed_me,
        mentioned_me,
        (addr_i >= 0) & (addr_i != aj),
        (addr_j >= 0) & (addr_j != ai),
        addr_j < 0,
        latest,
        cand_between_2,
        me_none,
        me_2,
        _prev_names(p, ri, aj) & other,
        _prev_names(p, rj, ai) & ~same,
    ):
        out[c] = col
        c += 1
    n_cand = len(p.cand_feats)
    out[c : c + n_cand] = p.cand_feats[:, rj]
    c += n_cand
    out[c] = (addressed_me | mentioned_me) & latest
    c += 1
    out[c] = (addresses | mentions) & latest
    c += 1
    if not no_words:
        cos = np.asarray(words.multiply(p.tfidf[rj]).sum(axis=1), dtype=np.float32).ravel()
        out[c] = cos
        out[c + 1] = cos > 0
        c += 2
    elif not compact:
        out[c : c + 2] = 0.0
        c += 2
    for key, cond in (
        ("addr", addresses | mentions),
        ("me", addressed_me | mentioned_me),
        ("same", same),
        ("question", question_j & other),
    ):
        out[c] = cond & ~seen[key]
        seen[key] |= cond
        c += 1
    if p.pred is not None:
        out[c : c + N_PRED] = _pred_block(p, d, rows)
        c += N_PRED
    elif not compact:
        out[c : c + N_PRED] = 0.0
        c += N_PRED
    assert c == out.shape[0]
    return out


N_PRED = 5  # the last pair features: from the first stage's parents
_TFIDF = PAIR_FEATURES.index("tfidf_cosine") - N_CONST  # its two rows in a pair block


def pair_rows(with_words: bool, with_pred: bool) -> IntArray:
    """The rows of the full pair block (``N_PAIR - N_CONST`` of them) that a ``compact``
    :func:`_pair_block` keeps, in order: dropping a feature that is zero for every pair
    from both the block and the weights leaves each product the same sum of the same terms
    in the same order (the scores are the same floats, bit for bit), in fewer steps."""
    keep = np.ones(N_PAIR - N_CONST, dtype=np.bool_)
    if not with_words:
        keep[_TFIDF : _TFIDF + 2] = False
    if not with_pred:
        keep[N_PAIR - N_CONST - N_PRED :] = False
    return np.flatnonzero(keep)


def _pred_block(p: _Prepared, d: int, rows: IntArray) -> F32:
    """The pair features from the first stage's parents ``p.pred``, transposed (N_PRED, k)."""
    assert p.pred is not None
    j = rows - d
    ai, aj = p.author[rows], p.author[j]
    speaker_i, speaker_j = ai >= 0, aj >= 0
    other = speaker_j & (ai != aj)
    ps_i = p.prev_same[rows]
    pj = p.pred[j]
    has_pj = pj != j
    has_ps = ps_i >= 0
    pps = p.pred[np.maximum(ps_i, 0)]
    out = np.empty((N_PRED, rows.shape[0]), dtype=np.float32)
    out[0] = has_pj & (p.author[pj] == ai) & speaker_i
    out[1] = has_pj & (pj == ps_i) & has_ps
    out[2] = has_ps & (pps == j)
    out[3] = has_ps & (pps != ps_i) & (p.author[pps] == aj) & other
    out[4] = ~has_pj & speaker_j
    return out


def _self_block(p: _Prepared, rows: IntArray, seen: dict[str, BoolArray]) -> F32:
    has_addr = p.addr[rows] >= 0
    cols = [
        np.ones(rows.shape[0], dtype=np.bool_),
        seen["addr"],
        has_addr & ~seen["addr"],
        seen["me"],
        seen["same"],
        seen["question"],
    ]
    return np.stack([np.asarray(c, dtype=np.float32) for c in cols], axis=1)


def _new_seen(k: int) -> dict[str, BoolArray]:
    return {key: np.zeros(k, dtype=np.bool_) for key in ("addr", "me", "same", "question")}


def _allowed(p: _Prepared, d: int, rows: IntArray) -> BoolArray:
    """Candidates a message may answer: nobody answers a message hours old without naming
    its author."""
    ok = np.ones(rows.shape[0], dtype=np.bool_)
    ok[_blocked(p, d, rows)] = False
    return ok


def _blocked(p: _Prepared, d: int, rows: IntArray) -> IntArray:
    """The positions in ``rows`` whose candidate ``d`` rows earlier is not
    :func:`_allowed` (usually none: cheaper to mask than a whole boolean array)."""
    j = rows - d
    k = rows.shape[0]
    if k and int(rows[-1]) - int(rows[0]) + 1 == k:  # a run of rows: views, not copies
        lo = int(rows[0])
        gap = p.time[lo : lo + k] - p.time[lo - d : lo - d + k]
    else:
        gap = p.time[rows] - p.time[j]
    old = np.flatnonzero(gap > MAX_GAP)
    if old.shape[0]:
        old = old[~_names(p, rows[old], p.author[j[old]])]
    return old
