import numpy as np
import pytest
import torch
from torch import nn

from tnf_env.model.network import (
    LinearLayers,
    MaskedMLP,
    default_topology,
    format_topology,
    parse_topology,
)


def test_parse_topology_roundtrip():
    assert parse_topology("784-1200-1200-10") == (784, 1200, 1200, 10)
    assert format_topology((64, 256, 10)) == "64-256-10"
    assert default_topology("mnist-10k") == (784, 1200, 1200, 10)


@pytest.mark.parametrize("bad", ["784", "784-x-10", "0-10", [5]])
def test_parse_topology_rejects(bad):
    with pytest.raises(ValueError, match="topology"):
        parse_topology(bad)


def test_init_is_uniform_small_and_seeded():
    a, b = MaskedMLP((20, 30, 10), seed=3), MaskedMLP((20, 30, 10), seed=3)
    w = a.layers[0].weight.detach()
    assert float(w.abs().max()) <= 0.01 and float(w.abs().max()) > 0.009
    assert all(layer.bias is None for layer in a.layers)
    assert torch.equal(w, b.layers[0].weight)


def test_mask_is_honoured_and_reapplied_after_steps():
    net = MaskedMLP((6, 5, 3), dropout=0.0, seed=0)
    mask = np.ones((5, 6), dtype=bool)
    mask[:, :3] = False
    net.set_mask(0, mask)
    x = torch.zeros(4, 6)
    x[:, :3] = 100.0  # only masked inputs are active: layer 1 sees nothing
    assert torch.all(net(x) == 0)
    opt = torch.optim.SGD(net.parameters(), lr=1.0, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        net(torch.rand(4, 6)).sum().backward()
        opt.step()
        net.apply_masks()
    assert torch.all(net.layers[0].weight[:, :3] == 0)
    assert net.sparsity()[0] == pytest.approx(0.5)


def test_set_mask_shape_error():
    net = MaskedMLP((6, 5, 3))
    with pytest.raises(ValueError, match="expected"):
        net.set_mask(1, np.ones((5, 3)))


def test_dropout_only_in_training_and_reproducible():
    net = MaskedMLP((8, 50, 4), dropout=0.5, seed=0)
    x = torch.rand(3, 8)
    net.eval()
    assert torch.equal(net(x), net(x))
    net.train()
    a = net(x, generator=torch.Generator().manual_seed(1))
    b = net(x, generator=torch.Generator().manual_seed(1))
    c = net(x, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_layers_are_linear_under_the_plain_module_list_keys():
    net = MaskedMLP((4, 3, 2), seed=0)
    assert isinstance(net.layers, nn.ModuleList)
    assert all(type(layer) is nn.Linear for layer in net.layers)
    assert isinstance(net.layers[1:], LinearLayers) and len(net.layers[1:]) == 1
    # Saved baselines are state dicts: the keys are those of a plain ModuleList.
    assert set(net.state_dict()) == {"layers.0.weight", "layers.1.weight", "mask0", "mask1"}
