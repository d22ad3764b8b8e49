"""Reply links where the platform records none: which earlier message each message answers.

A small neural ranker (one hidden layer, ReLU) scores every candidate parent among the
previous ``WINDOW`` messages, plus the message itself ("starts a new conversation", as the IRC
disentanglement labels count it), and keeps the best. It is trained as a ranker: a softmax
over each message's candidates, the loss the log-probability of its gold parents.

The features follow Kummerfeld et al. (ACL 2019) and are computed vectorised over all messages
at once, one candidate offset at a time:

* pair: distance and time-gap buckets; who addresses or mentions whom (this message the
  candidate's author, the candidate this author, either of them someone else); same author;
  how many messages each of the two authors wrote in between; whether the two were already
  talking (this author's previous message, or the candidate author's one before, named the
  other); whether the candidate is a question, a greeting, a thank-you, a link, a bot command,
  a system line, short; tf-idf cosine of the two texts (idf from the input itself); and
  "nearest" flags (the nearest message by the addressee, the nearest one that addressed me,
  my own latest, the nearest question by someone else);
* message (every slot): question, addressing, mentions, link, thanks, greeting, length, first
  message of its author, gap to the previous message and to its author's previous one;
* self slot: whether the addressee / someone who addressed me / I myself appeared in the
  window.

The weights are trained on the #ubuntu IRC train split (``groupops analytics train``; every
7th train file held out to pick the epoch; the same data give the same model bit for bit) and
ship in ``models/replies.json``: plain numbers, evaluated with numpy (no pickle). On
irc-ubuntu/dev: F1 0.724 over links (the linear ranker before it: 0.640).

``reply_training.train(stages=2)`` fits a second ranker on top that also sees the first one's
parents (my previous message answered this candidate's author, the candidate answered me,
...); both are computed in one pass over the features. Measured on the held-out train files
it adds about +0.4 F1 points for about 1.6x the time, so the shipped model has one stage.

Public API:

* :func:`infer_replies` ``(columns) -> list[list[str]]`` (the importers' contract): per row the
  ``message_id`` s it answers (recorded replies kept, joins/departures and conversation starts
  empty).
* :func:`predict_parents` ``(frame) -> int64 array``: per row the index of the parent row
  (itself for a conversation start, -1 for non-messages).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import contains
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from groupops.analytics.frame import MESSAGE, Frame, from_columns, text_features

WINDOW = 50
MAX_GAP = 2 * 3600  # seconds: an older candidate must be addressed by name
MODEL_DIR = Path(__file__).parent / "models"
REPLY_MODEL = MODEL_DIR / "replies.json"

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

# words and nicks: dots only inside (versions, hosts), CJK characters one by one
_TOKEN = re.compile(r"[a-z0-9_\-\[\]\\`^{}|]+(?:\.[a-z0-9_\-\[\]\\`^{}|]+)*|[\u4e00-\u9fff]")
_THANKS = frozenset(["thanks", "thank", "thx", "ty", "tnx", "cheers", "thankyou", "谢"])
_GREETINGS = frozenset(["hi", "hello", "hey", "hiya", "yo", "morning", "evening", "howdy"])
_STOP_WORDS = (
    "the and you for that this with are have not but what can your was all just there how "
    "does did get its it's they then than from will would about any use using try i'm "
    "don't know like need want yes yeah well also one out now here only some "
    "is it to in on of or an as at be by do go he if me my no so up us we ok oh am "
    "a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 - _ -- |"
)
_STOP = frozenset(_STOP_WORDS.split())


# ---- per-frame preparation ----------------------------------------------------------------


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


_MAX_MENTIONS = 4
_TEXT_BATCH = 32_768


def _prepare(
    frame: Frame,
    with_words: bool = True,
    texts: tuple[IntArray, BoolArray] | None = None,
) -> _Prepared:
    n = len(frame)
    system = np.asarray(frame.kind != MESSAGE, dtype=np.bool_)
    addr, question = texts if texts is not None else text_features(frame)
    author = frame.author.astype(np.int64, copy=True)
    author[system] = -2
    prev_same = np.full(n, -1, dtype=np.int64)
    next_same = np.full(n, n + 1, dtype=np.int64)
    order = np.lexsort((np.arange(n), author))
    a_sorted = author[order]
    same_next = a_sorted[1:] == a_sorted[:-1]
    prev_same[order[1:][same_next]] = order[:-1][same_next]
    next_same[order[:-1][same_next]] = order[1:][same_next]

    lookup: dict[str, int] = {}
    for i, name in enumerate(frame.names):
        for key in (name.lower(), frame.authors[i].lower() if i < len(frame.authors) else ""):
            if len(key) >= 3:
                lookup.setdefault(key, i)

    url = np.zeros(n, dtype=np.bool_)
    thanks = np.zeros(n, dtype=np.bool_)
    greeting = np.zeros(n, dtype=np.bool_)
    command = np.zeros(n, dtype=np.bool_)
    length = np.zeros(n, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    hashes: list[int] = []
    # who each (sorted) name key is: a token's rank in the sorted keys orders a message's
    # mentions as sorted(names) did, the same slots in every process
    keys = sorted(lookup)
    # one look-up per token says all: (rank among the name keys + 1) * 4, + 2 greeting,
    # + 1 thanks; 0 for other words
    token_code = {key: (r + 1) << 2 for r, key in enumerate(keys)}
    for word in _GREETINGS:
        token_code[word] = token_code.get(word, 0) | 2
    for word in _THANKS:
        token_code[word] = token_code.get(word, 0) | 1
    rank_who = np.asarray([lookup[key] for key in keys], dtype=np.int64)
    n_keys = max(len(keys), 1)
    codes_b = None if with_words else _byte_codes(token_code)
    m_rows_parts: list[IntArray] = []
    m_who_parts: list[IntArray] = []
    tok_all = _TOKEN.findall
    all_texts = frame.text
    spoken = np.flatnonzero(np.fromiter(map(bool, all_texts), dtype=np.bool_, count=n) & ~system)
    # a batch of messages at a time, each feature a C-level pass over the batch's texts or
    # over all their tokens at once (not a Python loop per message); batches bound the
    # tokens alive at once
    for lo in range(0, spoken.shape[0], _TEXT_BATCH):
        rows = spoken[lo : lo + _TEXT_BATCH]
        k = rows.shape[0]
        sub = list(map(all_texts.__getitem__, rows.tolist()))
        length[rows] = np.fromiter(map(len, sub), dtype=np.int64, count=k)
        lows = list(map(str.lower, sub))
        del sub
        url[rows] = np.fromiter(map(contains, lows, repeat("http")), np.bool_, count=k) | (
            np.fromiter(map(contains, lows, repeat("www.")), np.bool_, count=k)
        )
        command[rows] = np.fromiter(map(str.startswith, lows, repeat("!")), np.bool_, count=k)
        plain = np.fromiter(map(str.isascii, lows), np.bool_, count=k)
        found: list[list[str]] = []
        coded = None if codes_b is None else _ascii_codes(lows, plain, token_code, codes_b)
        if coded is None:
            found = list(map(tok_all, lows))
            sizes = np.fromiter(map(len, found), dtype=np.int64, count=k)
            flat = list(chain.from_iterable(found))
            of = np.repeat(np.arange(k, dtype=np.int64), sizes)  # each token's message
            code = np.fromiter(map(token_code.get, flat, repeat(0)), np.int64, count=len(flat))
            del flat
        else:
            code, of = coded
            sizes = np.bincount(of, minlength=k)
        has = np.flatnonzero(sizes)
        first_tok = (np.cumsum(sizes) - sizes)[has]
        greet = np.zeros(k, dtype=np.bool_)
        greet[has] = (code[first_tok] & 2) != 0
        for j in np.flatnonzero(~greet & ~plain & (sizes > 0)).tolist():
            if lows[j].startswith(("你好", "大家好")):
                greet[j] = True
        greeting[rows] = greet
        thanks[rows] = np.bincount(of[(code & 1) != 0], minlength=k) > 0
        rank = (code >> 2) - 1
        named = rank >= 0
        if named.any():
            # distinct (message, name) pairs, by message and then by name
            pair = np.unique(of[named] * n_keys + rank[named])
            msg_of, who = pair // n_keys, rank_who[pair % n_keys]
            mine = who != author[rows[msg_of]]
            m_rows_parts.append(rows[msg_of[mine]])
            m_who_parts.append(who[mine])
        if with_words:
            for i, f in zip(rows.tolist(), found, strict=True):
                if f:
                    words = set(f) - _STOP
                    counts[i] = len(words)
                    hashes.extend(map(hash, words))
        del lows, found
    m_rows = np.concatenate(m_rows_parts) if m_rows_parts else np.zeros(0, dtype=np.int64)
    m_who = np.concatenate(m_who_parts) if m_who_parts else np.zeros(0, dtype=np.int64)
    mentions = np.full((_MAX_MENTIONS, n), -1, dtype=np.int64)
    if m_rows.shape[0]:
        r = m_rows
        first = np.searchsorted(r, r)  # m_rows is sorted: the row's first slot
        slot = np.arange(r.shape[0]) - first
        keep = slot < _MAX_MENTIONS
        mentions[slot[keep], r[keep]] = m_who[keep]
    tfidf = None
    if with_words:
        h = np.asarray(hashes, dtype=np.int64)
        vocab, ind = np.unique(h, return_inverse=True)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        df = np.bincount(ind, minlength=vocab.shape[0]).astype(np.float64)
        idf = np.log((n + 1.0) / (df + 1.0)) + 1.0
        data = idf[ind]
        row_of = np.repeat(np.arange(n), counts)
        norm = np.sqrt(np.bincount(row_of, weights=data * data, minlength=n))
        data = data / np.maximum(norm[row_of], 1e-12)
        tfidf = sp.csr_matrix(
            (data, ind.astype(np.int64), ptr),  # float64: sums in any word order agree
            shape=(n, max(vocab.shape[0], 1)),
        )
    p = _Prepared(
        n,
        frame.time.astype(np.int64),
        author,
        system,
        np.asarray(addr, dtype=np.int64),
        np.asarray(question, dtype=np.bool_),
        prev_same,
        next_same,
        url,
        thanks,
        greeting,
        command,
        length,
        mentions,
        tfidf,
    )
    p.msg_feats = _message_block(p)
    p.cand_feats = _candidate_block(p)
    has_prev = prev_same >= 0
    prev = prev_same[has_prev]
    p.prev_named = np.full((1 + _MAX_MENTIONS, n), -1, dtype=np.int64)
    p.prev_named[0, has_prev] = p.addr[prev]
    for m_slot in range(_MAX_MENTIONS):
        p.prev_named[1 + m_slot, has_prev] = mentions[m_slot, prev]
    return p


# the bytes of _TOKEN's first alternative; every other byte becomes a space ("." and the
# batch separator kept)
_TOKEN_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_-[]\\`^{}|")
_TO_TOKEN_BYTES = bytes(c if c in _TOKEN_BYTES or c in b".\x01" else 32 for c in range(256))


_FILTER_BITS = 22
_HASH_MULT = np.uint64(1_000_003)
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)


def _token_hash(length: IntArray, b0: Any, b1: Any, last: Any, last2: Any) -> Any:
    """A token's slot in :class:`_ByteCodes`' filter, from its length and its first two and
    last two bytes (uint64 arithmetic, wrapping)."""
    h = length.astype(np.uint64)
    for part in (b0, b1, last, last2):
        h = h * _HASH_MULT + np.asarray(part, dtype=np.uint64)
    return (h * _HASH_MIX) >> np.uint64(64 - _FILTER_BITS)


@dataclass
class _ByteCodes:
    """``token_code`` of the ASCII keys as bytes, and a filter over (length, first two and
    last two bytes): a token whose filter slot is off has no code, so the dictionary is
    only asked about the few tokens that may have one."""

    codes: dict[bytes, int]
    bits: BoolArray


def _byte_codes(token_code: dict[str, int]) -> _ByteCodes:
    codes = {key.encode(): c for key, c in token_code.items() if key and key.isascii()}
    bits = np.zeros(1 << _FILTER_BITS, dtype=np.bool_)
    if codes:
        keys = list(codes)
        length = np.fromiter(map(len, keys), np.int64, len(keys))
        bits[
            _token_hash(
                length,
                [k[0] for k in keys],
                [k[min(1, len(k) - 1)] for k in keys],
                [k[-1] for k in keys],
                [k[max(len(k) - 2, 0)] for k in keys],
            )
        ] = True
    return _ByteCodes(codes, bits)


def _ascii_codes(
    lows: list[str], plain: BoolArray, token_code: dict[str, int], table: _ByteCodes
) -> tuple[IntArray, IntArray] | None:
    """The ``token_code`` of every token ``_TOKEN.findall`` finds in the lower-cased texts
    ``lows``, and the text it is in (ascending), without running the regex over the ASCII
    texts (``plain``): those are cut by numpy over their joined bytes (a token is a run of
    token characters and dots between two of them), the others by the regex. ``table``:
    :func:`_byte_codes` of ``token_code``. None when a text holds the separator ``\x01``."""
    k = len(lows)
    every = bool(plain.all())
    asc = lows
    if not every:
        asc = lows.copy()
        for j in np.flatnonzero(~plain).tolist():
            asc[j] = ""
    joined = " \x01 ".join(asc)
    if joined.count("\x01") != k - 1:
        return None
    b = (b" " + joined.encode("ascii") + b" ").translate(_TO_TOKEN_BYTES)
    del joined, asc
    arr = np.frombuffer(b, dtype=np.uint8)
    dot = arr == 46
    in_token = (arr != 32) & ~dot & (arr != 1)  # a token character
    # a dot belongs to a token only between two token characters (b starts and ends with
    # a space: no dot at either end)
    inner = np.flatnonzero(dot)
    in_token[inner] = in_token[inner - 1] & in_token[inner + 1]
    in_token[arr == 1] = True  # the separator: a token of its own, between spaces
    # b starts and ends with a space: the changes alternate, a token's start then its end
    edges = np.flatnonzero(in_token[1:] != in_token[:-1]) + 1
    del in_token
    starts, ends = edges[0::2], edges[1::2]
    sep = (ends - starts == 1) & (arr[starts] == 1)
    keep = ~sep
    of = np.cumsum(sep)[keep]
    starts, ends = starts[keep], ends[keep]
    h = _token_hash(
        ends - starts,
        arr[starts],
        arr[np.minimum(starts + 1, ends - 1)],
        arr[ends - 1],
        arr[np.maximum(ends - 2, starts)],
    )
    maybe = np.flatnonzero(table.bits[h])
    code = np.zeros(starts.shape[0], dtype=np.int64)
    if maybe.shape[0]:
        pieces = map(b.__getitem__, map(slice, starts[maybe].tolist(), ends[maybe].tolist()))
        code[maybe] = np.fromiter(
            map(table.codes.get, pieces, repeat(0)), np.int64, count=maybe.shape[0]
        )
    if not every:
        codes, ofs = [code], [of]
        tok_all = _TOKEN.findall
        for j in np.flatnonzero(~plain).tolist():
            found = tok_all(lows[j])
            codes.append(np.fromiter(map(token_code.get, found, repeat(0)), np.int64))
            ofs.append(np.full(len(found), j, dtype=np.int64))
        code, of = np.concatenate(codes), np.concatenate(ofs)
        order = np.argsort(of, kind="stable")
        code, of = code[order], of[order]
    return code, of


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
) -> F32:
    """The offset-dependent pair features, transposed: (N_PAIR - N_CONST, len(rows)), of
    ``rows`` against the candidates ``d`` rows earlier (every row must be >= d). ``seen``
    holds, per position in ``rows``, what nearer candidates already showed (for the
    "nearest" features) and is updated in place. ``words``: the tf-idf rows of ``rows``
    (None: no text similarity)."""
    j = rows - d
    k = rows.shape[0]
    ri: Index = rows
    rj: Index = j
    if k and int(rows[-1]) - int(rows[0]) + 1 == k:  # a run of rows: views, not copies
        ri = slice(int(rows[0]), int(rows[-1]) + 1)
        rj = slice(int(j[0]), int(j[-1]) + 1)
    out = np.empty((N_PAIR - N_CONST, k), dtype=np.float32)
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
    cand_between_2 = ~latest & (p.next_same[np.minimum(ns, p.n - 1)] < rows)
    ps_i = p.prev_same[ri]
    me_none = ps_i < j
    me_2 = ~me_none & (p.prev_same[np.maximum(ps_i, 0)] > j)
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
    if words is not None and p.tfidf is not None:
        cos = np.asarray(words.multiply(p.tfidf[rj]).sum(axis=1), dtype=np.float32).ravel()
        out[c] = cos
        out[c + 1] = cos > 0
    else:
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
    if p.pred is None:
        out[c : c + N_PRED] = 0.0
    else:
        out[c : c + N_PRED] = _pred_block(p, d, rows)
    c += N_PRED
    assert c == out.shape[0]
    return out


N_PRED = 5  # the last pair features: from the first stage's parents


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
    j = rows - d
    ok = np.ones(rows.shape[0], dtype=np.bool_)
    old = np.flatnonzero(p.time[rows] - p.time[j] > MAX_GAP)
    if old.shape[0]:
        ok[old] = _names(p, rows[old], p.author[j[old]])
    return ok


# ---- the model ----------------------------------------------------------------------------


@dataclass
class ReplyModel:
    """One hidden ReLU layer. The first layer is split by feature group so that the message
    features are multiplied once per message, not once per candidate; feature scaling is
    folded into the weights."""

    w_pair: F32  # (N_PAIR, H)
    w_self: F32  # (N_SELF, H)
    w_msg: F32  # (N_MSG, H)
    b1: F32  # (H,)
    w2: F32  # (H,)
    window: int = WINDOW
    info: dict[str, Any] = field(default_factory=dict)
    first: ReplyModel | None = None  # the stage whose parents feed the "cand_parent" features

    @property
    def hidden(self) -> int:
        return int(self.b1.shape[0])

    @property
    def weights(self) -> FloatArray:
        """Every parameter as one flat vector (to compare two models)."""
        return np.concatenate(
            [a.astype(np.float64).ravel() for a in (self.w_pair, self.w_self, self.w_msg)]
            + [self.b1.astype(np.float64), self.w2.astype(np.float64)]
        )

    def to_json(self) -> dict[str, Any]:
        def r(a: F32) -> Any:
            return np.round(a.astype(np.float64), 5).tolist()

        return {
            "kind": "mlp-ranker",
            "features": {
                "pair": list(PAIR_FEATURES),
                "self": list(SELF_FEATURES),
                "message": list(MESSAGE_FEATURES),
            },
            "window": self.window,
            "hidden": self.hidden,
            "w_pair": r(self.w_pair),
            "w_self": r(self.w_self),
            "w_msg": r(self.w_msg),
            "b1": r(self.b1),
            "w2": r(self.w2),
            "info": self.info,
            "first": self.first.to_json() if self.first is not None else None,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ReplyModel:
        feats = raw.get("features")
        expected = {
            "pair": list(PAIR_FEATURES),
            "self": list(SELF_FEATURES),
            "message": list(MESSAGE_FEATURES),
        }
        if raw.get("kind") != "mlp-ranker" or feats != expected:
            raise ValueError("reply model features do not match this version; retrain it")

        def a(key: str) -> F32:
            return np.asarray(raw[key], dtype=np.float32)

        model = cls(
            a("w_pair"),
            a("w_self"),
            a("w_msg"),
            a("b1"),
            a("w2"),
            int(raw["window"]),
            dict(raw.get("info", {})),
            cls.from_json(raw["first"]) if raw.get("first") else None,
        )
        h = model.hidden
        shapes = (
            (model.w_pair, (N_PAIR, h)),
            (model.w_self, (N_SELF, h)),
            (model.w_msg, (N_MSG, h)),
            (model.w2, (h,)),
        )
        if any(arr.shape != shape for arr, shape in shapes):
            raise ValueError("reply model weights have the wrong shapes; retrain it")
        return model


def load_model(path: Path = REPLY_MODEL) -> ReplyModel:
    return ReplyModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def _relu_score(pre: F32, w2: F32) -> F32:
    np.maximum(pre, 0.0, out=pre)
    return np.asarray(pre @ w2, dtype=np.float32)


_SCORE_BLOCK = 4096


def _offset_scores(x: F32, w_var: F32, msg_h: F32, const_h: F32, w2: F32) -> F32:
    """The scores of one offset's candidates: ``relu(x.T @ w_var + msg_h + const_h) @ w2``,
    a block of rows at a time so that the hidden layer stays in the CPU cache between the
    steps. The same float32 operations as on the whole; the BLAS may sum a row's products in
    another order in a bigger product (OpenBLAS on AMD EPYC does, by up to 2e-6), never
    from one call to the next: the same input gives the same scores."""
    k = x.shape[1]
    out = np.empty(k, dtype=np.float32)
    xt = x.T
    for lo in range(0, k, _SCORE_BLOCK):
        hi = min(lo + _SCORE_BLOCK, k)
        pre = xt[lo:hi] @ w_var
        pre += msg_h[lo:hi]
        pre += const_h
        out[lo:hi] = _relu_score(pre, w2)
    return out


def _best(model: ReplyModel, p: _Prepared, rows: IntArray, window: int, overlap: bool) -> IntArray:
    """The best candidate of each row (``rows`` ascending), scoring one offset at a time (no
    3-D tensor); the features that depend on the offset alone go into the bias."""
    k = rows.shape[0]
    msg_h = p.msg_feats[rows] @ model.w_msg + model.b1  # (k, H)
    seen = _new_seen(k)
    best_score = np.full(k, -np.inf, dtype=np.float32)
    best_d = np.zeros(k, dtype=np.int64)
    w_var = model.w_pair[N_CONST:]
    const_h = [_const_pair(d) @ model.w_pair[:N_CONST] for d in range(window + 1)]
    words = p.tfidf[rows] if overlap and p.tfidf is not None else None
    for d in range(1, window + 1):
        s = int(np.searchsorted(rows, d))  # rows[s:] have a candidate d rows earlier
        if s >= k:
            break
        sub = rows[s:]
        x = _pair_block(
            p, d, sub, {key: v[s:] for key, v in seen.items()}, None if words is None else words[s:]
        )
        score = _offset_scores(x, w_var, msg_h[s:], const_h[d], model.w2)
        score[~_allowed(p, d, sub)] = -np.inf
        better = np.flatnonzero(score > best_score[s:])
        best_score[s + better] = score[better]
        best_d[s + better] = d
    self_score = _relu_score(_self_block(p, rows, seen) @ model.w_self + msg_h, model.w2)
    best_d[self_score >= best_score] = 0
    return np.asarray(rows - best_d, dtype=np.int64)


def _best2(model: ReplyModel, p: _Prepared, rows: IntArray, window: int, overlap: bool) -> IntArray:
    """:func:`_best` of a two-stage model in one pass over the features: the first stage
    scores each offset's features at once, the second keeps its partial sums; once the first
    stage has chosen the parents of ``rows`` (written to ``p.pred``, which must hold those of
    every earlier row), the second adds its features from them. ``rows`` must be a run."""
    first = model.first
    assert first is not None and p.pred is not None
    k = rows.shape[0]
    msg = p.msg_feats[rows]
    msg_h1 = msg @ first.w_msg + first.b1
    msg_h2 = msg @ model.w_msg + model.b1
    seen = _new_seen(k)
    best1 = np.full(k, -np.inf, dtype=np.float32)
    d1 = np.zeros(k, dtype=np.int64)
    w1_var, w2_var = first.w_pair[N_CONST:], model.w_pair[N_CONST:-N_PRED]
    w2_pred = model.w_pair[-N_PRED:]
    const1 = [_const_pair(d) @ first.w_pair[:N_CONST] for d in range(window + 1)]
    const2 = [_const_pair(d) @ model.w_pair[:N_CONST] for d in range(window + 1)]
    words = p.tfidf[rows] if overlap and p.tfidf is not None else None
    saved_pred, p.pred = p.pred, None
    kept: list[tuple[int, F32, BoolArray]] = []
    for d in range(1, window + 1):
        s = int(np.searchsorted(rows, d))
        if s >= k:
            break
        sub = rows[s:]
        x = _pair_block(
            p, d, sub, {key: v[s:] for key, v in seen.items()}, None if words is None else words[s:]
        )
        allowed = _allowed(p, d, sub)
        if d <= first.window:
            pre = x.T @ w1_var
            pre += msg_h1[s:]
            pre += const1[d]
            score = _relu_score(pre, first.w2)
            score[~allowed] = -np.inf
            better = np.flatnonzero(score > best1[s:])
            best1[s + better] = score[better]
            d1[s + better] = d
        pre2 = x[:-N_PRED].T @ w2_var
        pre2 += msg_h2[s:]
        pre2 += const2[d]
        kept.append((s, pre2, allowed))
    self_x = _self_block(p, rows, seen)
    self1 = _relu_score(self_x @ first.w_self + msg_h1, first.w2)
    d1[self1 >= best1] = 0
    p.pred = saved_pred
    p.pred[rows] = np.where(p.system[rows], rows, rows - d1)
    if p.recorded is not None:  # recorded replies feed the second stage
        rec = p.recorded[rows]
        p.pred[rows] = np.where(rec >= 0, rec, p.pred[rows])
    best2 = np.full(k, -np.inf, dtype=np.float32)
    d2 = np.zeros(k, dtype=np.int64)
    for d, (s, pre2, allowed) in enumerate(kept, start=1):
        pre2 += _pred_block(p, d, rows[s:]).T @ w2_pred
        score = _relu_score(pre2, model.w2)
        score[~allowed] = -np.inf
        better = np.flatnonzero(score > best2[s:])
        best2[s + better] = score[better]
        d2[s + better] = d
    self2 = _relu_score(self_x @ model.w_self + msg_h2, model.w2)
    d2[self2 >= best2] = 0
    return np.asarray(rows - d2, dtype=np.int64)


def _run(
    model: ReplyModel, p: _Prepared, todo: IntArray, window: int, overlap: bool, chunk: int
) -> IntArray:
    """The parents of rows ``todo`` (ascending message rows)."""
    out = np.empty(todo.shape[0], dtype=np.int64)
    for start in range(0, todo.shape[0], chunk):
        part = todo[start : start + chunk]
        lo, hi = int(part[0]), int(part[-1]) + 1
        if hi - lo <= 2 * part.shape[0]:
            # the whole run of rows (slices instead of gathers; the others are dropped)
            run = np.arange(lo, hi, dtype=np.int64)
            out[start : start + chunk] = _best(model, p, run, window, overlap)[part - lo]
        else:
            out[start : start + chunk] = _best(model, p, part, window, overlap)
    return out


def _stage_parents(
    model: ReplyModel, p: _Prepared, window: int, overlap: bool, chunk: int
) -> IntArray:
    """The first stage's parent of every row (itself for system lines and starts)."""
    pred = np.arange(p.n, dtype=np.int64)
    todo = np.flatnonzero(~p.system)
    saved, p.pred = p.pred, None
    pred[todo] = _run(model, p, todo, min(window, model.window), overlap, chunk)
    p.pred = saved
    return pred


def _one_blas_thread() -> Any:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1, user_api="blas")


def predict_parents(
    frame: Frame,
    model: ReplyModel | None = None,
    *,
    rows: IntArray | None = None,
    overlap: bool = True,
    window: int | None = None,
    chunk: int = 8192,
    texts: tuple[IntArray, BoolArray] | None = None,
) -> IntArray:
    """Per row of ``frame`` the row it answers (itself = starts a conversation); -1 for rows
    that are not messages. Rows with a recorded reply keep the recorded parent when it is in
    the frame. ``rows`` restricts the work to some rows (the others get -1; non-message rows
    asked for by name get themselves, as the IRC labels count them). ``overlap=False`` skips
    the text-similarity features and ``window`` narrows the candidates: both make very large
    inputs cheaper at a small cost in accuracy. ``texts`` passes the result of
    :func:`~groupops.analytics.frame.text_features` when already computed."""
    model = model or load_model()
    if model.first is not None and (not overlap or (window or model.window) < model.window):
        model = model.first  # the cheaper settings: the first stage alone
    window = min(window or model.window, model.window)
    p = _prepare(frame, overlap, texts)
    n = len(frame)
    parents = np.full(n, -1, dtype=np.int64)
    todo = np.flatnonzero(frame.kind == MESSAGE) if rows is None else np.unique(rows)
    if rows is not None:
        asked_system = todo[p.system[todo]]
        parents[asked_system] = asked_system
        todo = todo[~p.system[todo]]
    # explicit replies win (and feed the second stage)
    recorded: dict[int, int] = {}
    if any(frame.reply_to):
        index = {mid: i for i, mid in enumerate(frame.message_id) if mid}
        for i, targets in enumerate(frame.reply_to):
            if targets and frame.kind[i] == MESSAGE:
                found = index.get(targets[0])
                if found is not None and found <= i:
                    recorded[i] = found
    with _one_blas_thread():
        if model.first is None:
            parents[todo] = _run(model, p, todo, window, overlap, chunk)
        else:
            # both stages in one pass over runs of rows from the first one on
            p.pred = np.arange(n, dtype=np.int64)
            if recorded:
                p.recorded = np.full(n, -1, dtype=np.int64)
                p.recorded[list(recorded)] = list(recorded.values())
            wanted = np.zeros(n, dtype=np.bool_)
            wanted[todo] = True
            stop = int(todo[-1]) + 1 if todo.shape[0] else 0
            step = max(chunk // 2, 1)
            for lo in range(0, stop, step):
                run = np.arange(lo, min(lo + step, stop), dtype=np.int64)
                got = _best2(model, p, run, window, overlap)
                parents[run[wanted[run]]] = got[wanted[run]]
    for i, found in recorded.items():
        parents[i] = found
    return parents


def infer_replies(columns: Any) -> list[list[str]]:
    """The importers' hook: per row of ``columns`` the ``message_id`` s it answers (inferred
    where the platform recorded none); empty for conversation starts and non-messages."""
    frame = from_columns(columns)
    if len(frame) == 0:
        return []
    order = np.argsort(frame.time, kind="stable")
    sorted_frame = frame.take(order)
    parents_sorted = predict_parents(sorted_frame)
    out: list[list[str]] = [[] for _ in range(len(frame))]
    for k, orig in enumerate(order.tolist()):
        if frame.reply_to[orig]:
            out[orig] = list(frame.reply_to[orig])
            continue
        par = int(parents_sorted[k])
        if par >= 0 and par != k:
            mid = sorted_frame.message_id[par]
            if mid:
                out[orig] = [mid]
    return out
