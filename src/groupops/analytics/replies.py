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

What size costs (measured: ``reply_training.train(folder, hidden=H, window=W, seed=S)``, dev F1
over links; the replies phase and the whole run of ``bench/analyze.py`` on its 1M-message
replay, best of 4-12 runs on a 2-core machine): hidden 64 (shipped): F1 0.724, 6.9 of 13.2 s;
32: 0.721, 5.6 of 11.8 s; 24: 0.713, 5.5 of 11.8 s; 16: 0.717, 5.1 of 11.5 s (-13 %). The seed
moves dev F1 by up to 0.005 at any size, and over seeds 0-4 the means are the same (64: 0.7207,
32: 0.7206, 16: 0.7200): between 16 and 64 units the size buys no measurable accuracy. The
window does not change that run's time (a large input is scored over 20 candidates, whatever
the model's window); on dev, hidden 64: window 40 0.7225, 30 0.719, 20 0.7186 (1.5, 1.9, 2.8,
4.8 % of the train links reach farther than 50, 40, 30, 20 messages). The size stays 64/50:
no variant met both F1 >= 0.720 and a 1M run 15 % faster. Adding the candidate-only
features' part of the hidden layer once per candidate row, not per pair, gives the same parents
and 5 % less scoring time: within the noise of the whole run, so not done.

Public API:

* :func:`infer_replies` ``(columns) -> list[list[str]]`` (the importers' contract): per row the
  ``message_id`` s it answers (recorded replies kept, joins/departures and conversation starts
  empty).
* :func:`predict_parents` ``(frame) -> int64 array``: per row the index of the parent row
  (itself for a conversation start, -1 for non-messages).

The features are computed in :mod:`groupops.analytics.reply_features` (their names and blocks)
from what :mod:`groupops.analytics.reply_prepare` reads of each frame; this module holds the
model and the scoring.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from groupops.analytics.frame import MESSAGE, Frame, distinct, from_columns
from groupops.analytics.reply_features import (
    F32,
    MESSAGE_FEATURES,
    N_CONST,
    N_MSG,
    N_PAIR,
    N_PRED,
    N_SELF,
    PAIR_FEATURES,
    SELF_FEATURES,
    BoolArray,
    FloatArray,
    IntArray,
    _allowed,
    _blocked,
    _const_pair,
    _new_seen,
    _pair_block,
    _pred_block,
    _Prepared,
    _self_block,
    pair_rows,
)
from groupops.analytics.reply_prepare import _prepare

WINDOW = 50
MODEL_DIR = Path(__file__).parent / "models"
REPLY_MODEL = MODEL_DIR / "replies.json"


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
_TILE = 256  # rows of the small tile a row is added from (_add_row)


def _add_row(pre: F32, row: F32, tile: F32) -> None:
    """``pre += row`` (the row added to every row of ``pre``, C-contiguous), the same floats
    in less time: numpy adds a row to each row of a large array (a stride-0 operand) about
    2.5x slower than two arrays of one shape; here ``tile`` (``row`` repeated ``_TILE`` times,
    small enough to stay in the CPU cache) is added to each ``_TILE`` rows at once."""
    m = pre.shape[0] - pre.shape[0] % _TILE
    if m:
        view = pre[:m].reshape(-1, _TILE, pre.shape[1])
        view += tile
    if m < pre.shape[0]:
        pre[m:] += row


def _offset_scores(
    x: F32, w_var: F32, msg_h: F32, const_h: F32, w2: F32, zeros: F32 | None = None
) -> F32:
    """The scores of one offset's candidates: ``relu(x.T @ w_var + msg_h + const_h) @ w2``,
    a block of rows at a time so that the hidden layer stays in the CPU cache between the
    steps. The same float32 operations as on the whole; the BLAS may sum a row's products in
    another order in a bigger product (OpenBLAS on AMD EPYC does, by up to 2e-6), never
    from one call to the next: the same input gives the same scores. ``zeros``: a zero
    array of at least ``(min(len, _SCORE_BLOCK), H)``, to reuse across calls (the ReLU takes
    the maximum with it: numpy's maximum with a scalar 0 is ~2x slower, the same floats)."""
    k = x.shape[1]
    h = w_var.shape[1]
    out = np.empty(k, dtype=np.float32)
    xt = x.T
    tile = np.tile(const_h, (_TILE, 1))
    if zeros is None:
        zeros = np.zeros((min(k, _SCORE_BLOCK), h), dtype=np.float32)
    for lo in range(0, k, _SCORE_BLOCK):
        hi = min(lo + _SCORE_BLOCK, k)
        pre = xt[lo:hi] @ w_var
        pre += msg_h[lo:hi]
        _add_row(pre, const_h, tile)
        np.maximum(pre, zeros[: hi - lo], out=pre)
        out[lo:hi] = pre @ w2
    return out


def _best(model: ReplyModel, p: _Prepared, rows: IntArray, window: int, overlap: bool) -> IntArray:
    """The best candidate of each row (``rows`` ascending), scoring one offset at a time (no
    3-D tensor); the features that depend on the offset alone go into the bias."""
    k = rows.shape[0]
    msg_h = p.msg_feats[rows] @ model.w_msg + model.b1  # (k, H)
    seen = _new_seen(k)
    best_score = np.full(k, -np.inf, dtype=np.float32)
    best_d = np.zeros(k, dtype=np.int64)
    words = p.tfidf[rows] if overlap and p.tfidf is not None else None
    # the features that are zero for every pair (no words, no first stage) are left out of
    # the blocks and the weights: the same scores in fewer steps (see pair_rows)
    w_var = np.ascontiguousarray(
        model.w_pair[N_CONST:][pair_rows(words is not None, p.pred is not None)]
    )
    const_h = [_const_pair(d) @ model.w_pair[:N_CONST] for d in range(window + 1)]
    zeros = np.zeros((min(k, _SCORE_BLOCK), model.hidden), dtype=np.float32)
    for d in range(1, window + 1):
        s = int(np.searchsorted(rows, d))  # rows[s:] have a candidate d rows earlier
        if s >= k:
            break
        sub = rows[s:]
        x = _pair_block(
            p,
            d,
            sub,
            {key: v[s:] for key, v in seen.items()},
            None if words is None else words[s:],
            compact=True,
        )
        score = _offset_scores(x, w_var, msg_h[s:], const_h[d], model.w2, zeros)
        score[_blocked(p, d, sub)] = -np.inf
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
    """The parents of rows ``todo`` (ascending message rows). The chunks are independent
    (a one-stage model reads only the prepared features), so they are scored on every core
    the process may use: numpy and the BLAS (one thread each) let go of the GIL on whole
    arrays. The same parents as one chunk after the other."""
    out = np.empty(todo.shape[0], dtype=np.int64)

    def one(start: int) -> None:
        part = todo[start : start + chunk]
        lo, hi = int(part[0]), int(part[-1]) + 1
        if hi - lo <= 2 * part.shape[0]:
            # the whole run of rows (slices instead of gathers; the others are dropped)
            run = np.arange(lo, hi, dtype=np.int64)
            out[start : start + chunk] = _best(model, p, run, window, overlap)[part - lo]
        else:
            out[start : start + chunk] = _best(model, p, part, window, overlap)

    starts = range(0, todo.shape[0], chunk)
    workers = min(len(starts), _cores())
    if workers <= 1:
        for start in starts:
            one(start)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="replies") as pool:
            for _ in pool.map(one, starts):
                pass  # map re-raises a chunk's error here
    return out


def _cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    chunk: int = 16_384,
    texts: tuple[IntArray, BoolArray] | None = None,
) -> IntArray:
    """Per row of ``frame`` the row it answers (itself = starts a conversation); -1 for rows
    that are not messages. Rows with a recorded reply keep the recorded parent when it is in
    the frame. ``rows`` restricts the work to some rows (the others get -1; non-message rows
    asked for by name get themselves, as the IRC labels count them). ``overlap=False`` skips
    the text-similarity features and ``window`` narrows the candidates: both make very large
    inputs cheaper at a small cost in accuracy. ``texts`` passes the result of
    :func:`~groupops.analytics.frame.text_features` when already computed. ``chunk``: rows
    scored at once (16,384: the 1M-message bench's replies 6 % faster than with 8,192, the
    same parents; the blocks of one BLAS call stay _SCORE_BLOCK rows)."""
    model = model or load_model()
    if model.first is not None and (not overlap or (window or model.window) < model.window):
        model = model.first  # the cheaper settings: the first stage alone
    window = min(window or model.window, model.window)
    p = _prepare(frame, overlap, texts)
    n = len(frame)
    parents = np.full(n, -1, dtype=np.int64)
    todo = np.flatnonzero(frame.kind == MESSAGE) if rows is None else distinct(rows)
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
