"""Per-frame preparation for the reply ranker: :func:`_prepare` reads every message once
(tokens, addressees and mentions, links, thanks, greetings, bot commands, lengths, the tf-idf
rows) into the :class:`~groupops.analytics.reply_features._Prepared` the feature blocks read.
ASCII texts are cut into tokens by numpy over their bytes (:func:`_ascii_codes`), the others by
the regex ``_TOKEN``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain, repeat
from operator import contains

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from groupops.analytics.frame import MESSAGE, Frame, distinct, text_features
from groupops.analytics.reply_features import (
    _MAX_MENTIONS,
    BoolArray,
    IntArray,
    _candidate_block,
    _message_block,
    _Prepared,
    _second_same,
)

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
            # distinct (message, name) pairs, by message and then by name (sorted and
            # deduplicated: np.unique without return_* hashes, ~25x slower on ~60k pairs)
            pair = distinct(of[named] * n_keys + rank[named])
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
    _second_same(p)
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
_PACK = 8  # a token of up to 8 bytes is its bytes as one little-endian uint64 (no zeros)
# _MASK[m]: the low m bytes of a uint64 (m = 0..8)
_MASK = np.asarray([(1 << (8 * m)) - 1 for m in range(_PACK + 1)], dtype=np.uint64)
U64 = npt.NDArray[np.uint64]


def _token_slot(first8: U64, length: IntArray) -> U64:
    """A token's slot in :class:`_ByteCodes`' filter, from its first (up to) 8 bytes as a
    uint64 and its length (uint64 arithmetic, wrapping)."""
    h = first8 * _HASH_MULT + length.astype(np.uint64)
    out: U64 = (h * _HASH_MIX) >> np.uint64(64 - _FILTER_BITS)
    return out


def _first8(b: bytes, starts: IntArray, length: IntArray) -> U64:
    """The first ``min(length, 8)`` bytes of each token ``b[start:start + length]`` as a
    little-endian uint64 (higher bytes zero): one gather from an unaligned uint64 view of
    ``b`` (8 zero bytes added at its end) and a mask."""
    padded = b + bytes(_PACK)
    words = np.ndarray(shape=(len(b),), dtype="<u8", buffer=padded, strides=(1,))
    out: U64 = words[starts] & _MASK[np.minimum(length, _PACK)]
    return out


@dataclass
class _ByteCodes:
    """``token_code`` of the ASCII keys: those of up to 8 bytes as their bytes packed in a
    uint64 (:func:`_first8`; sorted, with their codes), the longer ones as bytes in a
    dictionary, and a filter over (first 8 bytes, length): a token whose filter slot is off
    has no code; the others are looked up among the packed keys in numpy (the few distinct
    ones of a batch, by a binary search), the long ones in the dictionary. Exact: a token
    of up to 8 bytes never holds a zero byte, so its packed value tells its bytes."""

    codes: dict[bytes, int]  # the keys longer than 8 bytes
    bits: BoolArray
    packed: U64  # sorted
    packed_code: IntArray


def _byte_codes(token_code: dict[str, int]) -> _ByteCodes:
    # a key with a zero byte (no token has one) would pack as a shorter one: left out
    codes = {
        key.encode(): c
        for key, c in token_code.items()
        if key and key.isascii() and "\x00" not in key
    }
    keys = list(codes)
    length = np.fromiter(map(len, keys), np.int64, len(keys))
    offset = np.cumsum(length) - length
    first8 = _first8(b"".join(keys), offset, length)
    bits = np.zeros(1 << _FILTER_BITS, dtype=np.bool_)
    bits[_token_slot(first8, length)] = True
    short = length <= _PACK
    order = np.argsort(first8[short], kind="stable")
    code = np.fromiter(codes.values(), np.int64, len(keys))
    long_codes = {k: c for k, c in codes.items() if len(k) > _PACK}
    return _ByteCodes(long_codes, bits, first8[short][order], code[short][order])


def _lookup(table: _ByteCodes, b: bytes, starts: IntArray, ends: IntArray) -> IntArray:
    """The code of every token ``b[starts[k]:ends[k]]`` (0: none), see :class:`_ByteCodes`."""
    length = ends - starts
    first8 = _first8(b, starts, length)
    maybe = np.flatnonzero(table.bits[_token_slot(first8, length)])
    code = np.zeros(starts.shape[0], dtype=np.int64)
    short = maybe[length[maybe] <= _PACK]
    if short.shape[0] and table.packed.shape[0]:
        # tokens repeat: each distinct one looked up once
        values, inverse = np.unique(first8[short], return_inverse=True)
        at = np.minimum(np.searchsorted(table.packed, values), table.packed.shape[0] - 1)
        found = np.where(table.packed[at] == values, table.packed_code[at], 0)
        code[short] = found[inverse]
    long = maybe[length[maybe] > _PACK]
    if long.shape[0]:
        pieces = map(b.__getitem__, map(slice, starts[long].tolist(), ends[long].tolist()))
        code[long] = np.fromiter(
            map(table.codes.get, pieces, repeat(0)), np.int64, count=long.shape[0]
        )
    return code


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
    code = _lookup(table, b, starts, ends)
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
