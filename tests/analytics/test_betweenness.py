"""The reply graph's betweenness (numpy, one BFS level at a time) is networkx's, bit for bit."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import networkx as nx
import pytest

from groupops.analytics.conversation import betweenness


@pytest.mark.parametrize("trial", range(60))
def test_betweenness_is_networkx_bit_for_bit(trial: int) -> None:
    r = random.Random(trial)
    n = r.randint(1, 80)
    g = nx.gnm_random_graph(n, r.randint(0, 3 * n), seed=trial)
    # node labels in no particular order, as the reply graph's author indices are
    g = nx.relabel_nodes(g, {v: (v * 7919) % 1009 for v in g})
    k = None if trial % 2 else min(n, r.randint(1, 12))
    want = nx.betweenness_centrality(g, k=k, seed=0)
    got = betweenness(g, k=k, seed=0)
    assert list(got) == list(want)
    for v, x in want.items():
        assert got[v] == x or (math.isnan(x) and math.isnan(got[v])), (v, x, got[v])


def test_many_shortest_paths_and_a_grid() -> None:
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(9, 11))
    for k in (None, 5):
        assert betweenness(g, k=k, seed=0) == nx.betweenness_centrality(g, k=k, seed=0)
    assert betweenness(nx.Graph()) == {}


def test_a_reply_to_ones_own_message_is_no_link_between_people() -> None:
    """graph.links counts replies between two people: continuing one's own message starts
    one's own conversation (the IRC labels' self-link), as the graph's edges have it."""
    from groupops.analytics import analyze
    from tests.analytics.helpers import T0, msg

    s = timedelta(seconds=30)
    events = [
        msg("eve", T0, "hi", mid="1"),
        msg("eve", T0 + s, "whats up", mid="2", reply_to="1"),
        msg("bob", T0 + 2 * s, "not much", mid="3", reply_to="2"),
        msg("bob", T0 + 3 * s, "you?", mid="4", reply_to="3"),
        msg("eve", T0 + 4 * s, "fine", mid="5", reply_to="4"),
    ]
    g = analyze(events)["graph"]
    assert g["edges"] == 2 and g["links"] == 2
