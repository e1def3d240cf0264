"""One Assessment per measured network: the readers share its mappings and costs."""

from __future__ import annotations

import numpy as np
import pytest

import tnf_env
from hwmodel import get_technology
from hwmodel.accounting import ACCOUNTINGS
from hwmodel.clusters import Cluster
from tnf_env.measure.assessment import Assessment
from tnf_env.measure.scoring import network_cost


@pytest.fixture(scope="module")
def layers():
    rng = np.random.default_rng(0)
    masks = [rng.random((48, 64)) < 0.3, rng.random((10, 48)) < 0.5]
    masks[0][:16, :16] = True
    clusters = [[Cluster(np.arange(16), np.arange(16))], []]
    return masks, clusters


@pytest.mark.parametrize("accounting", ACCOUNTINGS)
def test_cost_is_the_scoring_path_cost_and_maps_once(layers, accounting):
    masks, clusters = layers
    tech = get_technology("resparc")
    a = Assessment(masks, clusters, [16, 16], tech)
    want = network_cost(masks, [16, 16], tech, accounting, clusters)
    got = a.cost(accounting)
    assert (got.n_crossbars, got.area_mm2, got.energy_nj) == (
        want.n_crossbars, want.area_mm2, want.energy_nj
    )
    assert a.mappings(accounting) is a.mappings(accounting)
    assert a.cost(accounting) is got
    rng = np.random.default_rng(1)
    spikes = [rng.random((5, 64)) < 0.3, rng.random((5, 48)) < 0.3]  # (timesteps, inputs)
    assert a.mappings(accounting, spikes) is a.mappings(accounting, spikes)


def test_connectivity_features(layers):
    masks, clusters = layers
    a = Assessment(masks, clusters, [16, 16], get_technology("resparc"))
    assert a.in_clusters[0] == 256 and a.in_clusters[1] == 0
    kept = int(masks[0].sum())
    assert a.unclustered[0] == (kept - 256) / masks[0].size
    assert a.sparsity[1] == 1 - masks[1].sum() / masks[1].size
    assert a.matches([16, 16], a.technology) and not a.matches([32, 32], a.technology)


def test_env_info_reads_the_step_assessment():
    env = tnf_env.make(max_steps=2, topology="64-24-10", val_size=100)
    u = env.unwrapped
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    a = u.assessment
    tr = u.transformation
    assert info["sparsity"] == a.sparsity == tr.sparsity()
    assert info["unclustered"] == [tr.unclustered_fraction(i) for i in range(u.task.n_layers)]
    assert info["crossbars"] == a.cost(u.config.accounting).n_crossbars
    env.close()
