"""Mapping strategies: hand-worked cases, the paper network's counts, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodel import Cluster, InvariantError, LayerMapping, map_layer, map_network
from hwmodel.cover import band_cover
from hwmodel.mapping import STRATEGIES

# 4 x 5 mask, worked by hand below with N = 2.
A = np.array(
    [
        [1, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 0, 1],
    ]
)


def xbars(m: LayerMapping) -> list[tuple[list[int], list[int]]]:
    return [(c.outputs.tolist(), c.inputs.tolist()) for c in m.crossbars]


def test_dense_hand_case():
    m = map_layer(A, 2, "dense")
    assert m.n_crossbars == 6 and m.nnz == 4 and m.lower_bound == 1
    assert m.utilization == pytest.approx(4 / 24)
    assert xbars(m)[:3] == [([0, 1], [0, 1]), ([0, 1], [2, 3]), ([0, 1], [4])]
    assert m.connections_per_crossbar.tolist() == [1, 0, 1, 1, 0, 1]
    m.verify()


def test_pruned_hand_case():
    # rows {0, 2, 3} x columns {0, 1, 4}, tiled 2 x 2: 4 crossbars, one of them empty
    m = map_layer(A, 2, "pruned")
    assert xbars(m) == [([0, 2], [0, 1]), ([0, 2], [4]), ([3], [0, 1]), ([3], [4])]
    assert m.connections_per_crossbar.tolist() == [2, 1, 0, 1]
    m.verify()


def test_tiles_hand_case():
    m = map_layer(A, 2, "tiles")
    assert xbars(m) == [([0, 2], [0, 1]), ([0, 2], [4]), ([3], [4])]
    m.verify()


def test_clustered_without_clusters_hand_case():
    # Banding columns beats banding rows here: inputs {0,1} serve outputs {0,2},
    # input {4} serves outputs {0,3}. The window scan needs 4 crossbars.
    m = map_layer(A, 2, "clustered")
    assert sorted(xbars(m)) == [([0, 2], [0, 1]), ([0, 3], [4])]
    assert m.n_cluster_crossbars == 0
    m.verify()
    g = map_layer(A, 2, "clustered", leftover="greedy")
    assert g.n_crossbars == 4 and g.leftover == "greedy"
    g.verify()


def test_clustered_tiles_big_clusters_and_covers_the_rest():
    mask = np.zeros((5, 6), dtype=int)
    mask[:3, :3] = 1
    mask[1, 1] = 0  # a zero inside the cluster block is still allocated
    mask[3, 5] = mask[4, 5] = 1
    m = map_layer(mask, 2, "clustered", [Cluster([0, 1, 2], [0, 1, 2])])
    assert xbars(m) == [
        ([0, 1], [0, 1]),
        ([0, 1], [2]),
        ([2], [0, 1]),
        ([2], [2]),
        ([3, 4], [5]),
    ]
    assert m.cluster_index.tolist() == [0, 0, 0, 0, -1]
    assert m.connections_per_crossbar.tolist() == [3, 2, 2, 1, 2]
    assert m.n_cluster_crossbars == 4
    m.verify()


def test_empty_cluster_block_still_costs_its_crossbars():
    m = map_layer(np.zeros((4, 4)), 2, "clustered", [Cluster([0, 1, 2], [3])])
    assert m.n_crossbars == 2 and m.nnz == 0
    m.verify()


def test_clusters_must_be_disjoint_and_in_range():
    mask = np.ones((6, 6))
    with pytest.raises(ValueError, match=r"clusters 0 and 1 overlap at cell \(output 2, input 3\)"):
        map_layer(mask, 4, "clustered", [Cluster([1, 2], [3]), Cluster([2, 5], [0, 3])])
    with pytest.raises(ValueError, match="outside a layer"):
        map_layer(mask, 4, "clustered", [Cluster([1], [6])])


def test_paper_network_dense_counts():
    masks = [np.ones((1200, 784)), np.ones((1200, 1200)), np.ones((10, 1200))]
    counts = {
        n: sum(m.n_crossbars for m in map_network(masks, n, "dense")) for n in (16, 32, 64, 128)
    }
    assert counts == {16: 9375, 32: 2432, 64: 627, 128: 180}


@pytest.mark.parametrize("n", [3, 5, 7, 100])
def test_any_crossbar_size(n):
    m = map_layer(np.ones((7, 10)), n, "dense")
    assert m.n_crossbars == -(-7 // n) * -(-10 // n)
    m.verify()


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown strategy"):
        map_layer(A, 2, "magic")
    with pytest.raises(ValueError, match="positive integer"):
        map_layer(A, 0, "dense")
    with pytest.raises(ValueError, match="positive integer"):
        map_layer(A, 2.5, "dense")
    with pytest.raises(ValueError, match="2-D"):
        map_layer(np.ones(5), 2, "dense")
    with pytest.raises(ValueError, match="unknown leftover"):
        map_layer(A, 2, "clustered", leftover="smart")
    with pytest.raises(ValueError, match="shape mismatch: layer 1"):
        map_network([np.ones((3, 4)), np.ones((2, 5))], 2, "dense")


def test_weights_are_masks_by_their_non_zeros():
    w = np.array([[0.0, -0.3], [2.0, 0.0]])
    assert map_layer(w, 2, "tiles").nnz == 2


def _mapping(outputs, inputs, n=2, owner=None, mask=None):
    o_sizes = [len(o) for o in outputs]
    i_sizes = [len(i) for i in inputs]
    return LayerMapping(
        strategy="tiles",
        crossbar_size=n,
        mask=np.ones((2, 2), dtype=bool) if mask is None else mask,
        output_ptr=np.concatenate(([0], np.cumsum(o_sizes))),
        output_idx=np.concatenate([np.asarray(o, dtype=np.int64) for o in outputs]),
        input_ptr=np.concatenate(([0], np.cumsum(i_sizes))),
        input_idx=np.concatenate([np.asarray(i, dtype=np.int64) for i in inputs]),
        cluster_index=np.full(len(outputs), -1),
        owner_matrix=owner,
    )


def test_verify_catches_broken_mappings():
    _mapping([[0, 1]], [[0, 1]]).verify()
    with pytest.raises(InvariantError, match="lies in 0 crossbar blocks"):
        _mapping([[0, 1]], [[0]]).verify()  # input 1 uncovered
    with pytest.raises(InvariantError, match="lies in 2 crossbar blocks"):
        _mapping([[0, 1], [0]], [[0, 1], [1]]).verify()
    with pytest.raises(InvariantError, match="more than N"):
        _mapping([[0, 1, 2]], [[0, 1]], mask=np.ones((3, 2), dtype=bool)).verify()
    with pytest.raises(InvariantError, match="not sorted"):
        _mapping([[1, 0]], [[0, 1]]).verify()
    bad_owner = np.array([[0, 0], [0, 1]], dtype=np.int32)
    with pytest.raises(InvariantError, match="lacks that input"):
        _mapping([[0, 1], [1]], [[0], [1]], owner=bad_owner).verify()


# ------------------------------------------------------------------------ property tests


@st.composite
def layers(draw):
    n_out = draw(st.integers(1, 28))
    n_in = draw(st.integers(1, 28))
    density = draw(st.sampled_from([0.0, 0.03, 0.15, 0.4, 0.8, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mask = rng.random((n_out, n_in)) < density
    clusters = []
    # disjoint clusters: disjoint groups of rows, any columns
    rows = rng.permutation(n_out)[: draw(st.integers(0, n_out))]
    for group in np.array_split(rows, draw(st.integers(1, 3))):
        if group.size:
            cols = rng.choice(n_in, size=int(rng.integers(1, n_in + 1)), replace=False)
            clusters.append(Cluster(group, cols))
    return mask, draw(st.integers(1, 11)), clusters


@settings(max_examples=60, deadline=None)
@given(layers())
def test_invariants_hold_for_every_strategy(case):
    mask, n, clusters = case
    nnz = int(mask.sum())
    r, c = int(mask.any(1).sum()), int(mask.any(0).sum())
    counts = {}
    for strategy in STRATEGIES:
        for leftover in ("band", "greedy"):
            m = map_layer(mask, n, strategy, clusters, leftover=leftover)
            m.verify()
            assert m.nnz == nnz and m.n_crossbars >= m.lower_bound == -(-nnz // n**2)
            assert int(m.connections_per_crossbar.sum()) == nnz
            assert (m.output_counts <= n).all() and (m.input_counts <= n).all()
            counts[strategy, leftover] = m.n_crossbars
    assert counts["dense", "band"] == -(-mask.shape[0] // n) * -(-mask.shape[1] // n)
    assert counts["pruned", "band"] == -(-r // n) * -(-c // n)
    assert counts["tiles", "band"] <= counts["pruned", "band"]
    tiles = map_layer(mask, n, "tiles")
    assert (tiles.connections_per_crossbar > 0).all()
    cl = map_layer(mask, n, "clustered", clusters)
    assert cl.n_cluster_crossbars == sum(
        -(-k.shape[0] // n) * -(-k.shape[1] // n) for k in clusters
    )
    # connections inside a cluster block belong to that cluster's crossbars
    owner = cl.owner
    rows, cols = np.nonzero(mask)
    for k, cluster in enumerate(clusters):
        inside = np.isin(rows, cluster.outputs) & np.isin(cols, cluster.inputs)
        assert (cl.cluster_index[owner[inside]] == k).all()
        assert (cl.cluster_index[owner[~inside]] != k).all()


@settings(max_examples=40, deadline=None)
@given(layers())
def test_band_cover_never_worse_than_tiling_the_same_matrix(case):
    mask, n, _ = case
    assert band_cover(mask, n).n_crossbars <= map_layer(mask, n, "tiles").n_crossbars
