"""Layer descriptions: what a weight layer is, and the crossbar matrix every reader sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from tnf_env.measure.nonideal import hardware_net
from tnf_env.model.layers import DenseLayer, dense_layers
from tnf_env.model.network import MaskedMLP


def test_dense_layer_is_a_bias_free_linear_whose_weight_is_its_matrix():
    spec = DenseLayer(5, 3)
    assert spec.kind == "dense" and spec.evaluations == 1
    assert spec.weight_shape == spec.matrix_shape == (3, 5)
    module = spec.build()
    assert isinstance(module, nn.Linear) and module.bias is None
    assert tuple(module.weight.shape) == spec.weight_shape
    x, w = torch.randn(4, 5), torch.randn(3, 5)
    assert torch.equal(spec.apply(x, w), F.linear(x, w))
    assert spec.as_matrix(w) is w and spec.from_matrix(w) is w
    with pytest.raises(ValueError, match="n_in, n_out >= 1"):
        DenseLayer(0, 3)


def test_network_readers_see_the_crossbar_matrices():
    net = MaskedMLP((6, 4, 3), seed=0)
    assert net.layer_specs == dense_layers((6, 4, 3)) == (DenseLayer(6, 4), DenseLayer(4, 3))
    mask = np.ones((4, 6), bool)
    mask[:, :2] = False
    net.set_mask(0, mask)
    assert [m.shape for m in net.masks_numpy()] == [(4, 6), (3, 4)]
    assert np.array_equal(net.mask_matrix(0), mask)
    weights = net.weights_numpy()
    assert np.array_equal(weights[0], net.weight_matrix(0) * mask)
    assert not weights[0][:, :2].any()
    with pytest.raises(ValueError, match=r"mask for layer 1 has shape \(4, 3\), expected \(3, 4\)"):
        net.set_mask(1, np.ones((4, 3)))


def test_hardware_net_writes_weights_and_masks_through_the_description():
    net = MaskedMLP((6, 4, 3), seed=0)
    weights = [w.copy() for w in net.weights_numpy()]
    weights[1][0] = 0.0  # an output with no kept connection
    hw = hardware_net(net, weights)
    assert hw is not net
    assert all(np.array_equal(a, b) for a, b in zip(hw.weights_numpy(), weights, strict=True))
    assert not hw.mask_matrix(1)[0].any() and hw.mask_matrix(1)[1:].all()
    assert hardware_net(net, weights, into=hw) is hw  # same layers: written in place
    with pytest.raises(ValueError, match="1 weight matrices for 2 layers"):
        hardware_net(net, weights[:1])
