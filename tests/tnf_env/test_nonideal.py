"""Accuracy on non-ideal crossbars: the environment's floor and the scoring rows."""

import numpy as np
import pytest
import torch

import tnf_env
from hwmodel import PRESETS
from hwmodel.accounting import map_accounted
from tnf_env.measure.nonideal import HardwareWeights, hardware_net
from tnf_env.measure.scoring import ScoringData, hardware_accuracy, score_network
from tnf_env.model.network import MaskedMLP
from tnf_env.model.spiking import SNNSettings

SMALL = dict(dataset="digits", topology="64-32-32-10", crossbar_sizes=(16, 32), max_steps=2)


def _tech_file(tmp_path, wire_ohm):
    path = tmp_path / "wires.yaml"
    path.write_text(
        f"base: resparc\nname: wires\ndevice:\n  wire_row_ohm: {wire_ohm}\n"
        f"  wire_col_ohm: {wire_ohm}\n"
    )
    return str(path)


def test_presets_measure_on_nonideal_crossbars_by_default():
    torch.set_num_threads(1)
    env = tnf_env.make(**SMALL)
    u = env.unwrapped
    assert u.task.nonideal
    _, info = env.reset(seed=0)
    assert info["accuracy"] != info["accuracy_ideal"] or info["accuracy"] > 0
    off = tnf_env.make(**SMALL, nonideal=False)
    _, info_off = off.reset(seed=0)
    assert info_off["accuracy"] == info_off["accuracy_ideal"] == info["accuracy_ideal"]


def test_too_resistive_wires_break_the_floor(tmp_path):
    torch.set_num_threads(1)
    env = tnf_env.make(**SMALL, technology=_tech_file(tmp_path, 2000.0))
    _, info = env.reset(seed=0)
    assert info["accuracy_ideal"] >= info["accuracy_floor"]
    assert info["accuracy"] < info["accuracy_floor"] and not info["is_success"]


def test_nonideal_needs_a_device_model(tmp_path):
    path = tmp_path / "ideal.yaml"
    path.write_text("base: resparc\nname: ideal\ndevice: null\n")
    with pytest.raises(ValueError, match="invalid setting nonideal=True: .*no device model"):
        tnf_env.make(**SMALL, technology=str(path), nonideal=True)
    env = tnf_env.make(**SMALL, technology=str(path))
    assert not env.unwrapped.task.nonideal


def test_hardware_net_on_ideal_wires_is_the_network():
    torch.set_num_threads(1)
    env = tnf_env.make(**SMALL, nonideal=False)
    env.reset(seed=0)
    net = env.unwrapped.transformation.net
    tech = PRESETS["resparc"]
    ideal = tech.device.replace(wire_row_ohm=0.0, wire_col_ohm=0.0)
    mappings = map_accounted(net.masks_numpy(), [16] * 3, "best", None, tech)
    hw_weights = HardwareWeights(ideal)
    hw = hardware_net(net, hw_weights(net, mappings))
    x = env.unwrapped.task.x_val
    torch.testing.assert_close(hw(x), net(x), rtol=1e-4, atol=1e-5)
    # A second call with the same weights and mappings comes from the cache.
    again = hw_weights(net, mappings)
    assert all(a is b for a, b in zip(again, hw_weights(net, mappings), strict=True))


def test_hardware_net_rewrites_an_earlier_copy_in_place():
    torch.set_num_threads(1)
    env = tnf_env.make(**SMALL)
    env.reset(seed=0)
    net = env.unwrapped.transformation.net
    weights = [w * 0.5 for w in net.weights_numpy()]
    earlier = hardware_net(net, [w * 2.0 for w in weights])
    weights[0][:, :3] = 0.0  # a different mask this time
    fresh = hardware_net(net, weights)
    reused = hardware_net(net, weights, into=earlier)
    assert reused is earlier and fresh is not net
    x = env.unwrapped.task.x_val
    torch.testing.assert_close(reused(x), fresh(x), rtol=0, atol=0)
    assert all(torch.equal(reused.mask(i), fresh.mask(i)) for i in range(net.n_layers))
    other = MaskedMLP([net.topology[0], 8, net.topology[-1]])
    assert hardware_net(net, weights, into=other) is not other  # another topology: a copy


def test_scoring_rows_report_nonideal_test_accuracy():
    torch.set_num_threads(1)
    env = tnf_env.make(**SMALL)
    env.reset(seed=0)
    u = env.unwrapped
    t = u.task
    tr = u.transformation
    xs, ys = torch.from_numpy(t.data.x_test), torch.from_numpy(t.data.y_test)
    data = ScoringData(t.x_train, t.x_val, t.y_val, xs, ys, t.floor, 0.5, SNNSettings(5))
    row = score_network(tr.net, tr.clusters, [32] * 3, t.technology, data, 0)
    for key in ("accuracy_test_hw", "accuracy_test_snn_hw"):
        assert 0 <= row[key] <= 1
    assert abs(row["accuracy_test_hw"] - row["accuracy_test"]) < 0.05
    plain = score_network(tr.net, tr.clusters, [32] * 3, t.technology.replace(device=None), data,
                          0)
    assert "accuracy_test_hw" not in plain
    assert np.isclose(plain["accuracy_test"], row["accuracy_test"])
    with pytest.raises(ValueError, match="has no device model"):
        hardware_accuracy(tr.net, tr.clusters, [32] * 3, t.technology.replace(device=None),
                          data, 0)
