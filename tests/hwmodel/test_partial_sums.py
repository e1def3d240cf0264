"""Partial sums of outputs spanning several crossbars, on small hand-checked masks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwmodel import PRESETS, Cluster, cost_layer, export_mapping, map_layer, map_network
from hwmodel.routing import pairs_from_owner, partial_sum_pairs, transfer_hops

R = PRESETS["resparc"]


def test_dense_tiles_hand_checked():
    # 4 outputs x 8 inputs at N = 2: tiles (a, b) = 2 row chunks x 4 column chunks.
    m = np.zeros((4, 8), dtype=bool)
    m[0, [0, 2, 4, 6]] = True  # output 0 in all 4 column chunks -> 4 partial sums
    m[1, [0, 1]] = True  # output 1 in chunk 0 only -> 1
    m[2, [1, 7]] = True  # output 2 in chunks 0 and 3 -> 2
    # output 3 has no connection -> 0
    mp = map_layer(m, 2, "dense")
    assert mp.partial_sums.tolist() == [4, 1, 2, 0]
    assert mp.split_outputs == 2
    sender, receiver = mp.partial_sum_transfers
    # tiles are numbered a * 4 + b: output 0 sends from 1, 2, 3 to 0; output 2 from 7 to 4
    assert sender.tolist() == [1, 2, 3, 7] and receiver.tolist() == [0, 0, 0, 4]


def test_pruned_drops_empty_columns_before_tiling():
    m = np.zeros((4, 8), dtype=bool)
    m[0, [0, 6]] = True
    m[1, [6]] = True
    # non-empty columns 0 and 6 fit one 2-wide chunk: no output is split
    assert map_layer(m, 2, "pruned").partial_sums.tolist() == [1, 1, 0, 0]
    assert map_layer(m, 2, "tiles").partial_sums.tolist() == [1, 1, 0, 0]
    assert map_layer(m, 1, "tiles").partial_sums.tolist() == [2, 1, 0, 0]


def test_cluster_keeps_an_output_whole():
    m = np.zeros((6, 6), dtype=bool)
    m[np.ix_([1, 3], [0, 2, 4])] = True  # a 2 x 3 block, scattered
    m[5, 5] = True
    clusters = [Cluster([1, 3], [0, 2, 4])]
    grid = map_layer(m, 2, "pruned")  # compacted columns 0,2 | 4,5: outputs 1, 3 split
    assert grid.partial_sums[[1, 3]].tolist() == [2, 2]
    clustered = map_layer(m, 4, "clustered", clusters)
    assert clustered.partial_sums.tolist() == [0, 1, 0, 1, 0, 1]
    assert clustered.partial_sum_transfers[0].size == 0


def test_every_strategy_agrees_with_the_per_connection_count():
    rng = np.random.default_rng(3)
    for _ in range(10):
        m = rng.random((50, 70)) < rng.uniform(0.02, 0.4)
        cl = [Cluster(range(0, 12), range(3, 30)), Cluster(range(20, 23), range(40, 42))]
        for strategy in ("dense", "pruned", "tiles", "clustered"):
            for leftover in ("band", "greedy"):
                for n in (8, 16, 33):
                    mp = map_layer(m, n, strategy, cl if strategy == "clustered" else None,
                                   leftover=leftover)
                    want = partial_sum_pairs(50, *pairs_from_owner(m, mp.owner, mp.n_crossbars))
                    assert (mp.partial_sums == want[0]).all()
                    got = mp.partial_sum_transfers
                    assert (got[0] == want[1]).all() and (got[1] == want[2]).all()
                    assert got[0].size == np.maximum(mp.partial_sums - 1, 0).sum()


def test_hops_across_routers():
    # 4 routers of 16 crossbars on a 2 x 2 mesh
    hops = transfer_hops(np.array([3, 17, 33, 50]), np.array([0, 0, 0, 0]), 16, 64)
    assert hops.tolist() == [1.0, 2.0, 2.0, 3.0]
    # one output spread over 20 crossbars of 16 x 16 at N = 16: 16 under router 0 and 4
    # under router 1 (a 2-wide mesh): 15 partial sums of 1 hop, 4 of 2 hops
    m = np.zeros((1, 320), dtype=bool)
    m[0, ::16] = True
    c = cost_layer(map_layer(m, 16, "dense"), R, spikes=np.ones((1, 1, 320), dtype=bool))
    assert c.partial_sums == 19 and c.partial_sum_hops == pytest.approx(15 + 4 * 2)
    assert c.energy_breakdown["partial_sums"] == pytest.approx(
        23 * R.partial_sum_energy_pj() / 1000)


def test_legacy_technology_charges_no_partial_sums():
    m = map_layer(np.ones((64, 256)), 64, "dense")
    c = cost_layer(m, "resparc-legacy", spikes=np.ones((1, 1, 256), dtype=bool))
    assert c.partial_sums == 192 and c.energy_breakdown["partial_sums"] == 0.0


def test_export_and_cost_carry_partial_sums(tmp_path):
    m = np.ones((4, 16), dtype=bool)
    maps = map_network([m], 8, "dense")
    doc = json.loads(export_mapping(maps, tmp_path / "m.json").read_text())
    layer = doc["layers"][0]
    assert layer["partial_sums"] == [2, 2, 2, 2]
    assert layer["split_outputs"] == 4 and layer["partial_sum_transfers"] == 4
    cost = cost_layer(maps[0], R).to_dict()
    assert (cost["split_outputs"], cost["partial_sums"]) == (4, 4)
    assert cost["energy_breakdown"]["partial_sums"] > 0
