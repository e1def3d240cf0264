"""tnf_env.measure.scoring: one row per network, and removing dead neurons changes nothing."""

import numpy as np
import torch

import tnf_env
from hwmodel.accounting import live_masks
from tnf_env.measure.scoring import ScoringData, score_network
from tnf_env.model.spiking import SNNSettings, normalization_scales, simulate_snn

SMALL = dict(dataset="digits", topology="64-32-32-10", crossbar_sizes=(16,), max_steps=3)


def _pruned_env():
    torch.set_num_threads(1)
    env = tnf_env.make(
        **SMALL, prune_levels=(0.0, 4.0), gate_on_loss=False, collapse_margin=1.0,
        select_on_validation=False,
    )
    env.reset(seed=0)
    harsh = np.zeros_like(env.action_space.nvec)
    harsh[:2] = 1  # prune the hidden layers hard: some neurons lose every input or output
    for _ in range(2):
        env.step(harsh)
    return env


def test_removing_dead_neurons_leaves_every_output_unchanged():
    env = _pruned_env()
    u = env.unwrapped
    t = u.task
    net = u.transformation.net
    masks = net.masks_numpy()
    live = live_masks(masks)
    assert sum(int(m.sum()) for m in live) < sum(int(m.sum()) for m in masks)  # some died
    x = torch.from_numpy(t.data.x_test).double()
    before = net.double()(x)
    scales = normalization_scales(net, torch.from_numpy(t.data.x_train).double())
    y = torch.from_numpy(t.data.y_test[:50])
    snn_before = simulate_snn(net, x[:50], y, scales, 10, record=True)
    for i, m in enumerate(live):
        net.set_mask(i, m)
    after = net(x)
    assert torch.equal(before, after)  # exact, in float64: removed terms were exact zeros
    snn_after = simulate_snn(net, x[:50], y, scales, 10, record=True)
    assert snn_before.accuracy == snn_after.accuracy
    # Spikes on every wired row are the same, so is the energy; a neuron that fed nothing
    # may now fall silent, but no crossbar row is wired to it.
    for m, a, b in zip(live, snn_before.input_spikes, snn_after.input_spikes, strict=True):
        wired = m.any(axis=0)
        assert np.array_equal(a[:, :, wired], b[:, :, wired])


def test_a_row_has_accuracies_floors_and_both_accountings():
    env = _pruned_env()
    u = env.unwrapped
    t = u.task
    tr = u.transformation
    xs, ys = torch.from_numpy(t.data.x_test), torch.from_numpy(t.data.y_test)
    data = ScoringData(t.x_train, t.x_val, t.y_val, xs, ys, t.floor, 0.5, SNNSettings(5))
    row = score_network(tr.net, tr.clusters, [16] * 3, t.technology, data, 0, method="m")
    assert row["method"] == "m"
    assert row["meets_floor"] == (row["accuracy_val"] >= t.floor)
    for acc in ("paper", "best"):
        assert row[f"crossbars_{acc}"] >= row[f"lower_bound_{acc}"] > 0
        assert row[f"area_mm2_{acc}"] > 0 and row[f"energy_nj_{acc}"] > 0
    assert row["crossbars_best"] <= row["crossbars_paper"]
