"""Training and accuracy of the reply ranker (:mod:`groupops.analytics.replies`) on the IRC
disentanglement corpus (../shared/data/irc-ubuntu: raw logs and human reply labels).

``groupops analytics train`` fits the shipped ``models/replies.json`` with :func:`train`;
``groupops analytics accuracy`` scores a model with :func:`evaluate` (precision, recall and F1
over links, a message linked to itself counting as a conversation start, as the labels do).
Only these commands and the tests use this module: analysing a group needs the ranker alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from groupops.analytics.frame import JOINED, MESSAGE, Frame
from groupops.analytics.replies import (
    WINDOW,
    ReplyModel,
    _one_blas_thread,
    _stage_parents,
    load_model,
    predict_parents,
)
from groupops.analytics.reply_features import (
    F32,
    N_CONST,
    N_FEATURES,
    N_MSG,
    N_PAIR,
    N_PRED,
    N_SELF,
    BoolArray,
    _allowed,
    _const_pair,
    _new_seen,
    _pair_block,
    _self_block,
)
from groupops.analytics.reply_prepare import _prepare

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


@dataclass
class _Tensors:
    """Training tensors of many messages: slot 0 is "itself", slot d the row d earlier."""

    pair: F32  # (m, window, N_PAIR)
    self_: F32  # (m, N_SELF)
    msg: F32  # (m, N_MSG)
    valid: BoolArray  # (m, window + 1)
    gold: BoolArray  # (m, window + 1)


def _file_tensors(
    frame: Frame, gold: dict[int, set[int]], window: int, first: ReplyModel | None
) -> _Tensors | None:
    p = _prepare(frame)
    if first is not None:
        with _one_blas_thread():
            p.pred = _stage_parents(first, p, window, True, 8192)
    rows = np.asarray(sorted(c for c in gold if c < len(frame) and not p.system[c]), dtype=np.int64)
    m = rows.shape[0]
    if m == 0:
        return None
    pair = np.zeros((m, window, N_PAIR), dtype=np.float32)
    valid = np.zeros((m, window + 1), dtype=np.bool_)
    valid[:, 0] = True
    seen = _new_seen(m)
    words = p.tfidf[rows] if p.tfidf is not None else None
    for d in range(1, window + 1):
        s = int(np.searchsorted(rows, d))
        if s >= m:
            break
        sub = rows[s:]
        pair[s:, d - 1, :N_CONST] = _const_pair(d)
        pair[s:, d - 1, N_CONST:] = _pair_block(
            p, d, sub, {key: v[s:] for key, v in seen.items()}, None if words is None else words[s:]
        ).T
        valid[s:, d] = _allowed(p, d, sub)
    gmask = np.zeros((m, window + 1), dtype=np.bool_)
    for k, c in enumerate(rows.tolist()):
        for q in gold[c]:
            if 0 <= c - q <= window:
                gmask[k, c - q] = True
    gmask &= valid
    keep = gmask.any(axis=1)
    return _Tensors(
        pair[keep],
        _self_block(p, rows, seen)[keep],
        p.msg_feats[rows][keep],
        valid[keep],
        gmask[keep],
    )


def _concat(parts: Sequence[_Tensors]) -> _Tensors:
    return _Tensors(
        np.concatenate([t.pair for t in parts]),
        np.concatenate([t.self_ for t in parts]),
        np.concatenate([t.msg for t in parts]),
        np.concatenate([t.valid for t in parts]),
        np.concatenate([t.gold for t in parts]),
    )


class _MLP:
    """The ranker's training side: forward, softmax-over-candidates loss, backward, Adam."""

    def __init__(self, hidden: int, rng: np.random.Generator) -> None:
        def init(rows: int) -> F32:
            return (rng.standard_normal((rows, hidden)) * math.sqrt(2.0 / N_FEATURES)).astype(
                np.float32
            )

        self.params: dict[str, F32] = {
            "w_pair": init(N_PAIR),
            "w_self": init(N_SELF),
            "w_msg": init(N_MSG),
            "b1": np.zeros(hidden, dtype=np.float32),
            "w2": (rng.standard_normal(hidden) * math.sqrt(1.0 / hidden)).astype(np.float32),
        }
        self.m1 = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.m2 = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.t = 0

    def scores(self, t: _Tensors) -> tuple[F32, F32, F32]:
        pr = self.params
        mh = t.msg @ pr["w_msg"] + pr["b1"]  # (B, H)
        a_pair = t.pair @ pr["w_pair"] + mh[:, None, :]  # (B, W, H)
        a_self = t.self_ @ pr["w_self"] + mh  # (B, H)
        pre = np.concatenate([a_self[:, None, :], a_pair], axis=1)  # (B, W+1, H)
        h = np.maximum(pre, 0.0)
        s = h @ pr["w2"]
        s = np.where(t.valid, s, -np.inf).astype(np.float32)
        return s, pre, h

    def step(self, t: _Tensors, lr: float, l2: float) -> float:
        pr = self.params
        s, pre, h = self.scores(t)
        smax = s.max(axis=1, keepdims=True)
        e = np.exp(s - smax)
        z = e.sum(axis=1, keepdims=True)
        prob = e / z
        sg = np.where(t.gold, s, -np.inf)
        gmax = sg.max(axis=1, keepdims=True)
        eg = np.exp(sg - gmax)
        zg = eg.sum(axis=1, keepdims=True)
        qg = eg / zg
        loss = float((smax + np.log(z) - gmax - np.log(zg)).mean())
        b = s.shape[0]
        ds = ((prob - qg) / b).astype(np.float32)  # (B, W+1)
        grads: dict[str, F32] = {}
        grads["w2"] = np.einsum("bs,bsh->h", ds, h)
        dpre = ds[:, :, None] * pr["w2"][None, None, :]
        dpre *= pre > 0
        d_self, d_pair = dpre[:, 0, :], dpre[:, 1:, :]
        grads["w_pair"] = t.pair.reshape(-1, N_PAIR).T @ d_pair.reshape(-1, d_pair.shape[2])
        grads["w_self"] = t.self_.T @ d_self
        dm = dpre.sum(axis=1)
        grads["w_msg"] = t.msg.T @ dm
        grads["b1"] = dm.sum(axis=0)
        self.t += 1
        b1c, b2c = 1 - 0.9**self.t, 1 - 0.999**self.t
        for key, g in grads.items():
            if key.startswith("w_"):
                g = g + l2 * pr[key]
            self.m1[key] = 0.9 * self.m1[key] + 0.1 * g
            self.m2[key] = 0.999 * self.m2[key] + 0.001 * g * g
            upd = lr * (self.m1[key] / b1c) / (np.sqrt(self.m2[key] / b2c) + 1e-8)
            pr[key] = (pr[key] - upd).astype(np.float32)
        return loss

    def accuracy(self, t: _Tensors, batch: int = 2048) -> float:
        hits = 0
        for s0 in range(0, t.valid.shape[0], batch):
            part = _slice(t, slice(s0, s0 + batch))
            s, _, _ = self.scores(part)
            best = s.argmax(axis=1)
            hits += int(part.gold[np.arange(best.shape[0]), best].sum())
        return float(hits / max(t.valid.shape[0], 1))


def _slice(t: _Tensors, idx: Any) -> _Tensors:
    return _Tensors(t.pair[idx], t.self_[idx], t.msg[idx], t.valid[idx], t.gold[idx])


def train(
    folder: Path,
    *,
    window: int = WINDOW,
    hidden: int = 64,
    epochs: int = 12,
    batch: int = 128,
    lr: float = 2e-3,
    l2: float = 1e-5,
    holdout: float = 0.15,
    stages: int = 1,
    seed: int = 0,
    max_files: int | None = None,
    log: Any = None,
) -> ReplyModel:
    """Fit the ranker on the annotated messages of ``folder``: every ``1/holdout``-th file is
    held out to pick the best epoch; the model of that epoch is returned. With ``stages=2`` a
    second ranker is fitted on top, seeing the first one's parents of the other messages."""
    files = corpus_files(folder)[:max_files]
    if not files:
        raise FileNotFoundError(f"no annotated *.raw.txt files in {folder}")
    data = [(read_irc_file(raw), read_irc_labels(ann)) for raw, ann in files]
    every = max(2, round(1 / holdout)) if holdout > 0 else 0
    model: ReplyModel | None = None
    for stage in range(stages):
        parts_fit: list[_Tensors] = []
        parts_held: list[_Tensors] = []
        for n_file, (frame, gold) in enumerate(data):
            t = _file_tensors(frame, gold, window, model)
            if t is None:
                continue
            (parts_held if every and n_file % every == every - 1 else parts_fit).append(t)
        fit = _concat(parts_fit)
        held = _concat(parts_held) if parts_held else None
        del parts_fit, parts_held
        # scale every feature to unit RMS over the candidates (folded into the weights later)
        scales = {
            "pair": _rms(fit.pair.reshape(-1, N_PAIR)),
            "self": _rms(fit.self_),
            "msg": _rms(fit.msg),
        }
        for t in (fit, held) if held is not None else (fit,):
            t.pair /= scales["pair"]
            t.self_ /= scales["self"]
            t.msg /= scales["msg"]
        if log is not None:
            log(f"stage {stage + 1}: {fit.valid.shape[0]} messages")
        with _one_blas_thread():
            new = _fit(fit, held, scales, window, hidden, epochs, batch, lr, l2, seed, log)
        if model is None:  # no first stage: those features are always zero
            new.w_pair[-N_PRED:] = 0.0
        new.first = model
        new.info["stage"] = stage + 1
        model = new
        del fit, held
    assert model is not None
    return model


def _fit(
    fit: _Tensors,
    held: _Tensors | None,
    scales: dict[str, F32],
    window: int,
    hidden: int,
    epochs: int,
    batch: int,
    lr: float,
    l2: float,
    seed: int,
    log: Any,
) -> ReplyModel:
    rng = np.random.default_rng(seed)
    net = _MLP(hidden, rng)
    best: tuple[float, int, dict[str, F32]] = (-1.0, 0, dict(net.params))
    m = fit.valid.shape[0]
    for epoch in range(epochs):
        order = rng.permutation(m)
        rate = lr * (0.5 ** (epoch / 4))
        total = 0.0
        for s0 in range(0, m, batch):
            total += net.step(_slice(fit, order[s0 : s0 + batch]), rate, l2)
        score = net.accuracy(held) if held is not None else -total
        if log is not None:
            log(f"epoch {epoch}: loss {total * batch / m:.4f} held-out accuracy {score:.4f}")
        if score > best[0]:
            best = (score, epoch, {k: v.copy() for k, v in net.params.items()})
    pr = best[2]
    info = {
        "epoch": best[1],
        "held_out_accuracy": round(best[0], 4),
        "train_messages": int(m),
        "held_out_messages": int(held.valid.shape[0]) if held is not None else 0,
    }
    return ReplyModel(
        (pr["w_pair"] / scales["pair"][:, None]).astype(np.float32),
        (pr["w_self"] / scales["self"][:, None]).astype(np.float32),
        (pr["w_msg"] / scales["msg"][:, None]).astype(np.float32),
        pr["b1"].astype(np.float32),
        pr["w2"].astype(np.float32),
        window,
        info,
    )


def _rms(x: F32) -> F32:
    r = np.sqrt((x.astype(np.float64) ** 2).mean(axis=0))
    r[r < 1e-6] = 1.0
    return np.asarray(r, dtype=np.float32)


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
