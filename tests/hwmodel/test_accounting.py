"""hwmodel.accounting: dead-neuron removal and the two accountings."""

import numpy as np
import pytest

from hwmodel import Cluster, map_layer
from hwmodel.accounting import cost_accounted, live_clusters, live_masks, map_accounted


def test_dead_neurons_are_removed_until_nothing_changes():
    # 3 inputs -> 3 hidden -> 3 hidden -> 2 outputs
    a = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], bool)  # hidden0 neuron 2 has no input
    b = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]], bool)  # hidden1 neuron 2 has no input
    c = np.array([[1, 0, 1], [0, 0, 1]], bool)  # hidden1 neuron 1 feeds nothing
    la, lb, lc = live_masks([a, b, c])
    # b's column 2 goes (its source is dead); c's column 2 goes (hidden1 neuron 2 is dead);
    # hidden1 neuron 1 feeds nothing, so b's row 1 goes, which leaves hidden0 neuron 1
    # without an output, so a's row 1 goes too.
    assert la.tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert lb.tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert lc.tolist() == [[1, 0, 0], [0, 0, 0]]
    assert a.sum() == 2  # the inputs are not modified


def test_live_clusters_shrink_to_live_neurons_and_empty_ones_vanish():
    mask = np.zeros((4, 4), bool)
    mask[:2, :2] = True
    live_in, live_out = np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 1], bool)
    kept = live_clusters(
        [Cluster([0, 1], [0, 1, 2]), Cluster([2, 3], [2, 3])], mask, live_in, live_out
    )
    assert len(kept) == 1
    assert kept[0].outputs.tolist() == [0] and kept[0].inputs.tolist() == [0, 1]


def test_paper_accounting_tiles_unclustered_networks_and_windows_clustered_ones():
    rng = np.random.default_rng(0)
    masks = [rng.random((40, 30)) < 0.1, rng.random((10, 40)) < 0.1]
    plain = map_accounted(masks, 8, "paper")
    assert [m.strategy for m in plain] == ["pruned", "pruned"]
    clusters = [[Cluster([0, 1], [0, 1])], []]
    clustered = map_accounted(masks, 8, "paper", clusters)
    assert [(m.strategy, m.leftover) for m in clustered] == [("clustered", "greedy")] * 2
    for m in plain + clustered:
        m.verify()


def test_best_accounting_takes_the_cheaper_of_clusters_and_band_cover():
    mask = np.zeros((16, 16), bool)
    mask[:8, :8] = True  # one dense block: a cluster on it is as good as the band cover
    mask[8:, 8:] = np.eye(8, dtype=bool)
    good = [Cluster(range(8), range(8))]
    # A cluster that straddles the layer: its block needs 4 crossbars of N=8 by itself.
    bad = [Cluster(range(16), range(16))]
    out = np.ones((2, 16), bool)
    best_good = map_accounted([mask, out], 8, "best", [good, []])
    best_bad = map_accounted([mask, out], 8, "best", [bad, []])
    band = map_layer(mask, 8, "clustered", [])
    assert best_bad[0].n_crossbars == band.n_crossbars < 4
    assert best_bad[0].n_cluster_crossbars == 0  # the cluster was not worth it
    assert best_good[0].n_crossbars <= band.n_crossbars
    for m in best_good + best_bad:
        m.verify()


@pytest.mark.parametrize("accounting", ["paper", "best"])
def test_every_connection_is_placed_and_counts_respect_the_bound(accounting):
    rng = np.random.default_rng(1)
    masks = [rng.random((64, 48)) < 0.05, rng.random((32, 64)) < 0.05, rng.random((10, 32)) < 0.3]
    cost = cost_accounted(masks, 16, "resparc", accounting)
    assert cost.n_crossbars >= cost.lower_bound
    for layer in cost.layers:
        layer.mapping.verify()


def test_best_never_needs_more_crossbars_than_paper_on_pruned_masks():
    rng = np.random.default_rng(2)
    masks = [rng.random((64, 48)) < 0.02, rng.random((32, 64)) < 0.02, rng.random((10, 32)) < 0.2]
    assert (
        cost_accounted(masks, 16, "resparc", "best").n_crossbars
        <= cost_accounted(masks, 16, "resparc", "paper").n_crossbars
    )


def test_unknown_accounting_is_refused():
    with pytest.raises(ValueError, match="accounting 'cheap'.*paper, best"):
        map_accounted([np.ones((2, 2))], 2, "cheap")
