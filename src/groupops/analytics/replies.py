"""Reply links where the platform records none: which earlier message each message answers.

A learned linear ranker scores every candidate parent among the previous ``WINDOW`` messages,
plus the message itself ("starts a new conversation", as the IRC disentanglement labels count
it), and keeps the best. Features (vectorised over all messages at once, one offset at a time):
the distance and time gap, whether the message addresses the candidate's author (``nick:``,
``@name``) or the candidate addressed this author, same author, whether the candidate is its
author's latest message, whether this author spoke in between, whether the candidate is a
question or a system line, and word overlap of the two texts. The weights are trained on the
#ubuntu IRC train split (``groupops analytics train``) and ship in ``models/replies.json``.

Public API:

* :func:`infer_replies` ``(columns) -> list[list[str]]`` (the importers' contract): per row the
  ``message_id`` s it answers (recorded replies kept, joins/departures and conversation starts
  empty).
* :func:`predict_parents` ``(frame) -> int64 array``: per row the index of the parent row
  (itself for a conversation start, -1 for non-messages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.analytics.frame import JOINED, MESSAGE, Frame, from_columns, text_features

WINDOW = 50
MAX_GAP = 2 * 3600  # seconds: an older candidate must be addressed by name
MODEL_DIR = Path(__file__).parent / "models"
REPLY_MODEL = MODEL_DIR / "replies.json"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PAIR_FEATURES = (
    "inv_dist",
    "log_dist",
    "adjacent",
    "dist_le_3",
    "log_gap_min",
    "gap_gt_10min",
    "addresses_author",
    "addressed_me",
    "same_author",
    "latest_of_author",
    "addresses_and_latest",
    "i_spoke_between",
    "cand_system",
    "cand_question",
    "overlap",
    "addresses_other",
    "cand_addressed_other",
    "cand_is_start_like",
    "nearest_addressed",
    "nearest_addressed_me",
    "nearest_same_author",
    "gap_lt_1min",
    "gap_lt_5min",
    "dist_le_6",
    "dist_le_15",
    "cand_author_first",
    "addressed_me_latest",
    "same_author_no_address",
)
SELF_FEATURES = (
    "self_bias",
    "self_has_address",
    "self_question",
    "self_system",
    "self_log_gap_prev",
    "self_log_gap_author",
    "self_first_of_author",
    "self_len_short",
    "self_addressee_absent",
    "self_addressed_recently",
    "self_spoke_recently",
)
N_FEATURES = len(PAIR_FEATURES) + len(SELF_FEATURES)

_WORD = re.compile(r"[a-z0-9_\-\.]{3,}|[\u4e00-\u9fff]")
_STOP = frozenset(
    [
        "the",
        "and",
        "you",
        "for",
        "that",
        "this",
        "with",
        "are",
        "have",
        "not",
        "but",
        "what",
        "can",
        "your",
        "was",
        "all",
        "just",
        "there",
        "how",
        "does",
        "did",
        "get",
        "its",
        "it's",
        "they",
        "then",
        "than",
        "from",
        "will",
        "would",
        "about",
        "any",
        "use",
        "using",
        "try",
    ]
)


@dataclass
class _Prepared:
    n: int
    time: IntArray
    author: IntArray
    system: npt.NDArray[np.bool_]
    addr: IntArray
    question: npt.NDArray[np.bool_]
    next_same: IntArray
    prev_same: IntArray
    words: list[frozenset[int]]
    length: IntArray


def _prepare(
    frame: Frame,
    with_words: bool = True,
    texts: tuple[IntArray, npt.NDArray[np.bool_]] | None = None,
) -> _Prepared:
    n = len(frame)
    system = frame.kind != MESSAGE
    addr, question = texts if texts is not None else text_features(frame)
    author = frame.author.copy()
    # system lines have no speaker in the conversation
    author[system] = -2
    prev_same = np.full(n, -1, dtype=np.int64)
    next_same = np.full(n, n + 1, dtype=np.int64)
    order = np.lexsort((np.arange(n), author))
    a_sorted = author[order]
    same_next = a_sorted[1:] == a_sorted[:-1]
    prev_same[order[1:][same_next]] = order[:-1][same_next]
    next_same[order[:-1][same_next]] = order[1:][same_next]
    words: list[frozenset[int]] = []
    findall = _WORD.findall
    for t in frame.text if with_words else ():
        if t:
            words.append(frozenset(hash(w) for w in findall(t.lower()) if w not in _STOP))
        else:
            words.append(frozenset())
    length = np.fromiter((len(t) for t in frame.text), dtype=np.int64, count=n)
    return _Prepared(
        n, frame.time, author, system, addr, question, next_same, prev_same, words, length
    )


def _overlap(words: list[frozenset[int]], d: int, rows: IntArray) -> FloatArray:
    out = np.zeros(rows.shape[0], dtype=np.float64)
    for k, i in enumerate(rows.tolist()):
        a = words[i]
        if not a:
            continue
        b = words[i - d]
        if b:
            common = len(a & b)
            if common:
                out[k] = common / (len(a) + len(b) - common)
    return out


def _pair_block(
    p: _Prepared,
    d: int,
    rows: IntArray,
    overlap: bool,
    seen: dict[str, Any],
    weights: FloatArray | None = None,
) -> FloatArray:
    """Pair features of rows ``rows`` against the candidate ``d`` rows earlier; ``seen``
    carries, per row, what nearer candidates already showed (for the "nearest" features).
    With ``weights`` the weighted sum (the score) instead of the feature matrix."""
    j = rows - d
    ai, aj = p.author[rows], p.author[j]
    gap = np.maximum(p.time[rows] - p.time[j], 0).astype(np.float64)
    addr_i = p.addr[rows]
    addresses = (addr_i == aj) & (aj >= 0)
    latest = p.next_same[j] >= rows
    cols = [
        np.full(rows.shape, 1.0 / d),
        np.full(rows.shape, np.log1p(d)),
        np.full(rows.shape, float(d == 1)),
        np.full(rows.shape, float(d <= 3)),
        np.log1p(gap / 60.0),
        (gap > 600).astype(np.float64),
        addresses.astype(np.float64),
        ((p.addr[j] == ai) & (ai >= 0)).astype(np.float64),
        ((ai == aj) & (ai >= 0)).astype(np.float64),
        latest.astype(np.float64),
        (addresses & latest).astype(np.float64),
        (p.prev_same[rows] > j).astype(np.float64),
        p.system[j].astype(np.float64),
        p.question[j].astype(np.float64),
        _overlap(p.words, d, rows) if overlap else np.zeros(rows.shape[0]),
        ((addr_i >= 0) & (addr_i != aj)).astype(np.float64),
        ((p.addr[j] >= 0) & (p.addr[j] != ai)).astype(np.float64),
        (p.addr[j] < 0).astype(np.float64) * p.question[j],
    ]
    addressed_me = (p.addr[j] == ai) & (ai >= 0)
    same = (ai == aj) & (ai >= 0)
    for key, cond in (("addr", addresses), ("me", addressed_me), ("same", same)):
        flag = cond & ~seen[key][rows]
        seen[key][rows] |= cond
        cols.append(flag.astype(np.float64))
    first = p.prev_same[j] < 0
    cols += [
        (gap < 60).astype(np.float64),
        (gap < 300).astype(np.float64),
        np.full(rows.shape, float(d <= 6)),
        np.full(rows.shape, float(d <= 15)),
        (first & (aj >= 0)).astype(np.float64),
        (addressed_me & latest).astype(np.float64),
        (same & (addr_i < 0)).astype(np.float64),
    ]
    if weights is not None:
        acc = np.zeros(rows.shape[0], dtype=np.float64)
        for w, col in zip(weights.tolist(), cols, strict=True):
            if w:
                acc += w * col
        return acc
    return np.stack(cols, axis=1)


def _self_block(p: _Prepared, rows: IntArray, seen: dict[str, Any]) -> FloatArray:
    prev_gap = np.where(rows > 0, p.time[rows] - p.time[np.maximum(rows - 1, 0)], 3600)
    ps = p.prev_same[rows]
    author_gap = np.where(ps >= 0, p.time[rows] - p.time[np.maximum(ps, 0)], 86400 * 7)
    cols = [
        np.ones(rows.shape[0]),
        (p.addr[rows] >= 0).astype(np.float64),
        p.question[rows].astype(np.float64),
        p.system[rows].astype(np.float64),
        np.log1p(np.maximum(prev_gap, 0) / 60.0),
        np.log1p(np.maximum(author_gap, 0) / 60.0),
        (ps < 0).astype(np.float64),
        (p.length[rows] < 15).astype(np.float64),
        ((p.addr[rows] >= 0) & ~seen["addr"][rows]).astype(np.float64),
        seen["me"][rows].astype(np.float64),
        seen["same"][rows].astype(np.float64),
    ]
    return np.stack(cols, axis=1)


def _features(p: _Prepared, rows: IntArray, window: int, overlap: bool) -> FloatArray:
    """Tensor (len(rows), window + 1, N_FEATURES): slot 0 is "itself", slot d the row d
    earlier (rows with fewer than d predecessors get a -inf mask later)."""
    m = rows.shape[0]
    out = np.zeros((m, window + 1, N_FEATURES), dtype=np.float64)
    seen: dict[str, Any] = {k: np.zeros(p.n, dtype=np.bool_) for k in ("addr", "me", "same")}
    for d in range(1, window + 1):
        ok = rows >= d
        if not ok.any():
            break
        sub = rows[ok]
        out[ok, d, : len(PAIR_FEATURES)] = _pair_block(p, d, sub, overlap, seen)
    out[:, 0, len(PAIR_FEATURES) :] = _self_block(p, rows, seen)
    return out


@dataclass
class ReplyModel:
    weights: FloatArray
    mean: FloatArray
    scale: FloatArray
    window: int = WINDOW

    def score(self, x: FloatArray) -> FloatArray:
        return np.asarray(((x - self.mean) / self.scale) @ self.weights, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(PAIR_FEATURES + SELF_FEATURES),
            "window": self.window,
            "weights": [round(float(w), 6) for w in self.weights],
            "mean": [round(float(w), 6) for w in self.mean],
            "scale": [round(float(w), 6) for w in self.scale],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ReplyModel:
        if list(raw.get("features", [])) != list(PAIR_FEATURES + SELF_FEATURES):
            raise ValueError("reply model features do not match this version; retrain it")
        return cls(
            np.asarray(raw["weights"], dtype=np.float64),
            np.asarray(raw["mean"], dtype=np.float64),
            np.asarray(raw["scale"], dtype=np.float64),
            int(raw["window"]),
        )


def load_model(path: Path = REPLY_MODEL) -> ReplyModel:
    return ReplyModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def _best(model: ReplyModel, p: _Prepared, rows: IntArray, overlap: bool, window: int) -> IntArray:
    """The best candidate of each row, scoring one offset at a time (no 3-D tensor)."""
    npair = len(PAIR_FEATURES)
    w = model.weights / model.scale
    bias = float(-(model.mean / model.scale) @ model.weights)
    w_pair, w_self = w[:npair], w[npair:]
    seen: dict[str, Any] = {k: np.zeros(p.n, dtype=np.bool_) for k in ("addr", "me", "same")}
    best_score = np.full(rows.shape[0], -np.inf)
    best_d = np.zeros(rows.shape[0], dtype=np.int64)
    t_rows = p.time[rows]
    a_rows = p.addr[rows]
    for d in range(1, window + 1):
        ok = rows >= d
        if not ok.any():
            break
        sub = rows[ok]
        score = _pair_block(p, d, sub, overlap, seen, w_pair) + bias
        j = sub - d
        # nobody answers a message hours old without addressing its author
        stale = (t_rows[ok] - p.time[j] > MAX_GAP) & (a_rows[ok] != p.author[j])
        score[stale] = -np.inf
        full = np.full(rows.shape[0], -np.inf)
        full[ok] = score
        better = full > best_score
        best_score[better] = full[better]
        best_d[better] = d
    self_score = _self_block(p, rows, seen) @ w_self + bias
    best_d[self_score >= best_score] = 0
    return np.asarray(rows - best_d, dtype=np.int64)


def predict_parents(
    frame: Frame,
    model: ReplyModel | None = None,
    *,
    rows: IntArray | None = None,
    overlap: bool = True,
    window: int | None = None,
    chunk: int = 100_000,
    texts: tuple[IntArray, npt.NDArray[np.bool_]] | None = None,
) -> IntArray:
    """Per row of ``frame`` the row it answers (itself = starts a conversation); -1 for rows
    that are not messages. Rows with a recorded reply keep the recorded parent when it is in
    the frame. ``rows`` restricts the work to some rows (the others get -1). ``overlap=False``
    skips the (per-pair Python) word-overlap feature and ``window`` narrows the candidates:
    both make very large inputs cheaper at a small cost in accuracy. ``texts`` passes the
    result of :func:`~groupops.analytics.frame.text_features` when already computed."""
    model = model or load_model()
    window = min(window or model.window, model.window)
    p = _prepare(frame, overlap, texts)
    n = len(frame)
    parents = np.full(n, -1, dtype=np.int64)
    todo = np.flatnonzero(frame.kind == MESSAGE) if rows is None else np.asarray(rows)
    for start in range(0, todo.shape[0], chunk):
        part = todo[start : start + chunk]
        parents[part] = _best(model, p, part, overlap, window)
    # explicit replies win
    index = {mid: i for i, mid in enumerate(frame.message_id) if mid}
    for i, targets in enumerate(frame.reply_to):
        if targets and frame.kind[i] == MESSAGE:
            found = index.get(targets[0])
            if found is not None and found <= i:
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


# ---- the IRC disentanglement corpus: training and accuracy -------------------------------

_IRC_MSG = re.compile(r"^\[(\d{2}):(\d{2})(?::\d{2})?\] <([^>]+)> ?(.*)$")
_IRC_ACT = re.compile(r"^\[(\d{2}):(\d{2})(?::\d{2})?\]\s+\* (\S+) ?(.*)$")


def read_irc_file(path: Path) -> Frame:
    """Every line of an irc-ubuntu ``*.raw.txt`` file as one row (line number = row index),
    system (``===``) lines as non-message rows, so labels index rows directly."""
    from groupops.analytics.frame import _Builder

    day = date.fromisoformat(path.name[:10])
    base = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    b = _Builder()
    last = base
    offset = 0
    prev_minute = -1
    for ln, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        m = _IRC_MSG.match(line) or _IRC_ACT.match(line)
        if m:
            minute = int(m.group(1)) * 60 + int(m.group(2))
            if prev_minute >= 0 and minute < prev_minute - 60:
                offset += 86400
            prev_minute = minute
            last = base + offset + minute * 60
            b.add(
                time=last,
                kind=MESSAGE,
                uid=m.group(3),
                name=m.group(3),
                content=0,
                text=m.group(4),
                message_id=str(ln),
                reply_to=[],
                reactions=0,
                inviter=-1,
                via="",
            )
        else:
            b.add(
                time=last,
                kind=JOINED,
                uid="===",
                name="===",
                content=0,
                text=line,
                message_id=str(ln),
                reply_to=[],
                reactions=0,
                inviter=-1,
                via="",
            )
    frame = b.build()
    return frame


def read_irc_labels(path: Path) -> dict[int, set[int]]:
    """``child -> {parents}`` from an ``*.annotation.txt`` file (the later line answers the
    earlier; equal lines mark a conversation start)."""
    gold: dict[int, set[int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        a, b = int(parts[0]), int(parts[1])
        child, parent = max(a, b), min(a, b)
        gold.setdefault(child, set()).add(parent)
    return gold


def corpus_files(folder: Path) -> list[tuple[Path, Path]]:
    return [
        (raw, raw.with_name(raw.name.replace(".raw.txt", ".annotation.txt")))
        for raw in sorted(folder.glob("*.raw.txt"))
        if raw.with_name(raw.name.replace(".raw.txt", ".annotation.txt")).exists()
    ]


def train(
    folder: Path,
    *,
    window: int = WINDOW,
    negatives: int = 12,
    seed: int = 0,
    max_files: int | None = None,
) -> ReplyModel:
    """Fit the ranker on the annotated messages of ``folder`` (pairwise logistic regression:
    the gold parent's features minus a sampled wrong candidate's)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    diffs: list[FloatArray] = []
    all_x: list[FloatArray] = []
    files = corpus_files(folder)[:max_files]
    if not files:
        raise FileNotFoundError(f"no annotated *.raw.txt files in {folder}")
    for raw, ann in files:
        frame = read_irc_file(raw)
        gold = read_irc_labels(ann)
        rows = np.asarray(sorted(c for c in gold if c < len(frame)), dtype=np.int64)
        if rows.shape[0] == 0:
            continue
        p = _prepare(frame)
        x = _features(p, rows, window, True)
        all_x.append(x[:, :: max(1, window // 10), :].reshape(-1, N_FEATURES))
        for k, c in enumerate(rows.tolist()):
            parents = [c - q for q in gold[c] if 0 <= c - q <= min(window, c)]
            if not parents:
                continue
            pos = parents[0]
            cands = [d for d in range(min(window, c) + 1) if d not in parents]
            if not cands:
                continue
            pick = rng.choice(cands, size=min(negatives, len(cands)), replace=False)
            diffs.append(x[k, pos][None, :] - x[k, pick])
    stacked = np.concatenate(all_x)
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    mean[len(PAIR_FEATURES) :] = 0.0  # keep the self block's zero meaning "not the self slot"
    d = np.concatenate(diffs) / scale
    flip = rng.random(d.shape[0]) < 0.5
    d[flip] *= -1
    y = (~flip).astype(np.int64)
    clf = LogisticRegression(C=1.0, fit_intercept=False, max_iter=2000)
    clf.fit(d, y)
    return ReplyModel(np.asarray(clf.coef_[0], dtype=np.float64), mean * 0.0, scale, window)


@dataclass
class LinkScore:
    precision: float
    recall: float
    f1: float
    links: int
    gold_links: int
    files: int

    def to_json(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "links": self.links,
            "gold_links": self.gold_links,
            "files": self.files,
        }


def evaluate(
    folder: Path, model: ReplyModel | None = None, files: Sequence[tuple[Path, Path]] | None = None
) -> LinkScore:
    """Precision, recall and F1 over links (child, parent) on the labelled messages of
    ``folder`` (a self-link counts as a link, as the labels do)."""
    model = model or load_model()
    files = list(files) if files is not None else corpus_files(folder)
    tp = n_pred = n_gold = 0
    for raw, ann in files:
        frame = read_irc_file(raw)
        gold = read_irc_labels(ann)
        rows = np.asarray(sorted(c for c in gold if c < len(frame)), dtype=np.int64)
        parents = predict_parents(frame, model, rows=rows)
        for c in rows.tolist():
            n_pred += 1
            n_gold += len(gold[c])
            tp += int(int(parents[c]) in gold[c])
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LinkScore(precision, recall, f1, n_pred, n_gold, len(files))
