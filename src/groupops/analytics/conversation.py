"""The areas read from the reply links (each message's parent row): the reply graph (opinion
leaders by PageRank, soul figures by how much of the conversation their departure cuts off,
:func:`betweenness` with numpy), questions and their first responses, and the replies and
reactions per post by content kind."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.analytics.context import Context, IntArray, quote
from groupops.analytics.frame import CONTENT_KINDS

CLAIMED_RANKING = (
    "text",
    "picture",
    "video",
    "voice",
    "h5_link",
    "article_link",
    "file",
    "netdisk_link",
)


# ---- the reply graph -------------------------------------------------------------------------


def reply_graph(c: Context, parents: IntArray, top: int = 10) -> dict[str, Any]:
    """Directed author graph from reply links (child author -> parent author, weighted);
    ``links`` counts the reply links between two people (a reply to one's own message is none).
    Opinion leaders: PageRank (replies received, weighted). Soul figures: members whose
    removal shrinks the largest connected component of the conversation graph most (the
    ``split`` is the share of the other members cut off from it), articulation points
    flagged; betweenness (sampled on large graphs) as a tie-breaker."""
    import networkx as nx

    f = c.f
    rows = np.flatnonzero((parents >= 0) & (parents != np.arange(len(f))) & c.msg)
    src = f.author[rows]
    dst = f.author[parents[rows]]
    # a reply to one's own message continues one's own thread (the IRC labels call a message
    # linked to its author's own a conversation start): no link between people
    keep = src != dst
    src, dst = src[keep], dst[keep]
    n = max(c.n_people, 1)
    keys, weight = np.unique(src * n + dst, return_counts=True)
    g = nx.DiGraph()
    for k, w in zip(keys.tolist(), weight.tolist(), strict=True):
        g.add_edge(k // n, k % n, weight=w)
    out: dict[str, Any] = {
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "links": int(keep.sum()),
        "opinion_leaders": [],
        "soul_figures": [],
        "articulation_points": 0,
    }
    if g.number_of_nodes() < 2:
        return out
    pr = nx.pagerank(g, weight="weight")
    in_w = dict(g.in_degree(weight="weight"))
    leaders = sorted((v for v in pr if not c.bot[v]), key=lambda v: -pr[v])[:top]
    out["opinion_leaders"] = [
        {"name": c.name(v), "score": round(pr[v], 4), "replies_received": int(in_w.get(v, 0))}
        for v in leaders
    ]
    # g.to_undirected() with the same nodes and adjacency order, without deep-copying every
    # edge's attributes (nothing below reads them)
    u = nx.Graph()
    u.add_nodes_from(g)
    u.add_edges_from(g.edges())
    size = u.number_of_nodes()
    base = max((len(x) for x in nx.connected_components(u)), default=0)
    arts = set(nx.articulation_points(u))
    k = None if size <= 300 else 24
    btw = betweenness(u, k=k, seed=0)
    # removing a node that is no articulation point leaves everyone else connected (split 0):
    # only articulation points are tried, the most central first, with scipy's components
    from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
    from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

    nodes = list(u.nodes())
    pos = {v: i for i, v in enumerate(nodes)}
    e = np.asarray([(pos[a], pos[b]) for a, b in u.edges()], dtype=np.int64).reshape(-1, 2)
    deg = dict(u.degree())
    tried = sorted(arts, key=lambda v: (-btw.get(v, 0.0), -deg[v]))[: top * 3]
    scored = []
    for v in tried:
        keep_e = (e[:, 0] != pos[v]) & (e[:, 1] != pos[v])
        ee = e[keep_e]
        adj = coo_matrix((np.ones(ee.shape[0]), (ee[:, 0], ee[:, 1])), shape=(size, size))
        _, labels = connected_components(adj, directed=False)
        labels = np.delete(labels, pos[v])
        largest = int(np.bincount(labels).max()) if labels.shape[0] else 0
        split = 1.0 - largest / max(base - 1, 1)
        scored.append((split, btw.get(v, 0.0), v))
    for v in sorted(btw, key=lambda v: -btw[v])[:top]:
        if v not in arts:
            scored.append((0.0, btw[v], v))
    scored.sort(key=lambda x: (-x[0], -x[1]))
    out["soul_figures"] = [
        {
            "name": c.name(v),
            "split": round(s, 4),
            "betweenness": round(b, 4),
            "articulation_point": v in arts,
        }
        for s, b, v in [x for x in scored if not c.bot[x[2]]][:top]
        if s > 0 or b > 0
    ]
    out["articulation_points"] = len(arts)
    out["largest_component"] = base
    return out


def betweenness(u: Any, k: int | None = None, seed: int = 0) -> dict[Any, float]:
    """``networkx.betweenness_centrality(u, k=k, seed=seed)`` (normalised, no endpoints) of an
    undirected graph, bit for bit, with numpy: Brandes' algorithm one BFS level at a time
    instead of one node at a time. The same sources (``random.Random(seed).sample``), the same
    discovery order (a node's first neighbour in BFS order finds it), and every sum taken in
    the order networkx takes it (``np.bincount`` adds in array order)."""
    import random

    nodes = list(u)
    n = len(nodes)
    btw = np.zeros(n, dtype=np.float64)
    if n == 0:
        return {}
    pos = {v: i for i, v in enumerate(nodes)}
    adj = u._adj
    deg = np.fromiter((len(adj[v]) for v in nodes), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    indices = np.fromiter(
        (pos[w] for v in nodes for w in adj[v]), dtype=np.int64, count=int(indptr[-1])
    )
    if k == n:
        k = None
    sources = nodes if k is None else random.Random(seed).sample(nodes, k)
    for s in sources:
        si = pos[s]
        dist = np.full(n, -1, dtype=np.int64)
        sigma = np.zeros(n, dtype=np.float64)
        spos = np.zeros(n, dtype=np.int64)  # place in the BFS order
        dist[si] = 0
        sigma[si] = 1.0
        frontier = np.asarray([si], dtype=np.int64)
        placed = 1
        levels: list[tuple[IntArray, IntArray]] = []  # shortest-path edges into each level
        depth = 0
        while frontier.shape[0]:
            starts = indptr[frontier]
            counts = indptr[frontier + 1] - starts
            total = int(counts.sum())
            if total == 0:
                break
            # the frontier's edges in BFS order: by the frontier's order, then adjacency order
            first = np.cumsum(counts) - counts
            e = np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)
            w = indices[e]
            v = np.repeat(frontier, counts)
            fresh = w[dist[w] < 0]
            if fresh.shape[0] == 0:
                break
            found, at = np.unique(fresh, return_index=True)
            new = found[np.argsort(at, kind="stable")]
            depth += 1
            dist[new] = depth
            spos[new] = np.arange(placed, placed + new.shape[0])
            placed += new.shape[0]
            on_path = dist[w] == depth
            ev, ew = v[on_path], w[on_path]
            # sigma[w] += sigma[v] over w's predecessors in BFS order (v ascends here)
            sigma += np.bincount(ew, weights=sigma[ev], minlength=n)
            levels.append((ev, ew))
            frontier = new
        delta = np.zeros(n, dtype=np.float64)
        for ev, ew in reversed(levels):
            # networkx pops w in reverse BFS order: each v sums its successors' shares in
            # that order
            o = np.argsort(-spos[ew], kind="stable")
            ev, ew = ev[o], ew[o]
            coeff = (1.0 + delta[ew]) / sigma[ew]
            delta += np.bincount(ev, weights=sigma[ev] * coeff, minlength=n)
        delta[si] = 0.0
        btw += delta
    scale_n = n - 1  # endpoints excluded
    if scale_n >= 2:
        if k is None:
            btw *= 1 / (scale_n * (scale_n - 1))
        else:
            src = np.asarray([pos[s] for s in sources], dtype=np.int64)
            scale = np.full(n, 1 / (k * (scale_n - 1)))
            scale[src] = 1 / ((k - 1) * (scale_n - 1)) if k > 1 else math.nan
            btw *= scale
    return dict(zip(nodes, btw.tolist(), strict=True))


# ---- questions and answers -------------------------------------------------------------------


def qa(
    c: Context, parents: IntArray, question: npt.NDArray[np.bool_], list_size: int = 20
) -> dict[str, Any]:
    """A question is answered by the first later message of another member that replies to it
    (recorded or inferred link). First-response time: median, p90, share within 1 minute (of
    answered questions); answer rate; the latest unanswered questions."""
    f = c.f
    n = len(f)
    q = question & c.msg
    if c.pa is not c.ma:  # bots neither ask nor answer
        person = ~c.bot[f.author]
        q = q & person
    rows = np.flatnonzero((parents >= 0) & (parents != np.arange(n)) & c.msg)
    if c.pa is not c.ma:
        rows = rows[person[rows]]
    par = parents[rows]
    ok = q[par] & (f.author[rows] != f.author[par])
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, par[ok], f.time[rows[ok]])
    qi = np.flatnonzero(q)
    answered = first[qi] < np.iinfo(np.int64).max
    frt = (first[qi[answered]] - f.time[qi[answered]]).astype(np.float64)
    # an export that writes minutes only (WhatsApp, IRC) cannot tell 0 s from 59 s
    resolution = 60 if not np.any(f.time[q | c.msg] % 60) else 1
    out: dict[str, Any] = {
        "questions": int(qi.shape[0]),
        "answered": int(answered.sum()),
        "answer_rate": round(float(answered.mean()), 4) if qi.shape[0] else 0.0,
        "first_response": {
            "median": round(float(np.median(frt)), 1) if frt.shape[0] else None,
            "p90": round(float(np.quantile(frt, 0.9)), 1) if frt.shape[0] else None,
            "within_1min": round(float(np.mean(frt <= 60)), 4) if frt.shape[0] else None,
            "resolution_s": resolution,
        },
    }
    un = qi[~answered][-list_size:][::-1]
    out["unanswered"] = [
        {"name": c.name(int(f.author[i])), "text": quote(f.text[i]), "time": c.iso(int(f.time[i]))}
        for i in un
    ]
    return out


# ---- content ---------------------------------------------------------------------------------


def content(c: Context, parents: IntArray, min_posts: int = 5) -> dict[str, Any]:
    """Replies (from other members) and reactions per post by content kind, and the measured
    ranking by engagement (replies + reactions per post) next to the claimed one."""
    f = c.f
    n = len(f)
    rows = np.flatnonzero((parents >= 0) & (parents != np.arange(n)) & c.msg)
    par = parents[rows]
    par = par[f.author[rows] != f.author[par]]
    replies = np.bincount(par, minlength=n)
    mi = np.flatnonzero(c.msg)
    kinds = f.content[mi]
    posts = np.bincount(kinds, minlength=len(CONTENT_KINDS))
    rep = np.bincount(kinds, weights=replies[mi], minlength=len(CONTENT_KINDS))
    rea = np.bincount(kinds, weights=f.reactions[mi], minlength=len(CONTENT_KINDS))
    by_kind: list[dict[str, Any]] = []
    for k, kind in enumerate(CONTENT_KINDS):
        if posts[k] == 0:
            continue
        by_kind.append(
            {
                "kind": kind.value,
                "posts": int(posts[k]),
                "replies_per_post": round(float(rep[k] / posts[k]), 4),
                "reactions_per_post": round(float(rea[k] / posts[k]), 4),
                "engagement_per_post": round(float((rep[k] + rea[k]) / posts[k]), 4),
            }
        )
    ranked = sorted(
        (r for r in by_kind if r["posts"] >= min_posts and r["kind"] in CLAIMED_RANKING),
        key=lambda r: -float(r["engagement_per_post"]),
    )
    measured = [str(r["kind"]) for r in ranked]
    claimed = [k for k in CLAIMED_RANKING if k in measured]
    agreement = None
    if len(measured) >= 2:
        pos = {k: i for i, k in enumerate(measured)}
        pairs = [(a, b) for i, a in enumerate(claimed) for b in claimed[i + 1 :]]
        agreement = round(sum(pos[a] < pos[b] for a, b in pairs) / len(pairs), 4)
    return {
        "by_kind": by_kind,
        "measured_ranking": measured,
        "claimed_ranking": claimed,
        "claim_holds": measured == claimed if len(measured) >= 2 else None,
        "pairwise_agreement": agreement,
        "min_posts": min_posts,
    }
