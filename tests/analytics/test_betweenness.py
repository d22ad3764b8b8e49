"""The reply graph's betweenness (numpy, one BFS level at a time) is networkx's, bit for bit."""

from __future__ import annotations

import math
import random

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
