"""The live sub-network computes what the dense masked network computes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from hwmodel.accounting import live_masks
from tnf_env.model.compact import live_indices
from tnf_env.model.network import MaskedMLP
from tnf_env.model.training import TrainingRecipe, make_optimizer, train_epoch


def _sparse_net(seed: int = 0, density: float = 0.15) -> MaskedMLP:
    """A float64 net with random sparse masks, dead inputs and both kinds of dead neurons."""
    net = MaskedMLP((36, 40, 30, 5), dropout=0.5, init_scale=0.5, seed=seed).double()
    rng = np.random.default_rng(seed)
    masks = [rng.random(tuple(layer.weight.shape)) < density for layer in net.layers]
    masks[0][:, :6] = False  # inputs 0-5 feed nothing
    masks[0][3] = False  # hidden neuron 3 of layer 1 has no input
    masks[1][:, 7] = False  # hidden neuron 7 of layer 1 feeds nothing
    masks[1][4] = False  # hidden neuron 4 of layer 2 has no input...
    masks[2][:, 9] = False  # ... and 9 no output
    for i, m in enumerate(masks):
        net.set_mask(i, m)
    net.min_saved_cells = 0  # compact however small the network (the default skips tiny ones)
    return net


def _data(n: int = 120, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 36, generator=g, dtype=torch.float64)
    return x, torch.randint(0, 5, (n,), generator=g)


@pytest.mark.parametrize("sparse_below", [0.0, 1.0], ids=["dense-kernel", "csr-kernel"])
def test_forward_and_gradients_equal_the_dense_masked_pass(sparse_below):
    net = _sparse_net()
    net.sparse_below = sparse_below
    ref = copy.deepcopy(net)
    ref.compact = False
    x, y = _data()
    assert net.live_plan().kernels == ["csr" if sparse_below else "dense"] * 3
    for model in (net, ref):
        model.train()
    out = net(x, generator=torch.Generator().manual_seed(5))
    out_ref = ref(x, generator=torch.Generator().manual_seed(5))  # same dropout draws
    torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)
    torch.nn.functional.cross_entropy(out, y).backward()
    torch.nn.functional.cross_entropy(out_ref, y).backward()
    for a, b in zip(net.layers, ref.layers, strict=True):
        torch.testing.assert_close(a.weight.grad, b.weight.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sparse_below", [0.0, 1.0], ids=["dense-kernel", "csr-kernel"])
def test_training_epochs_equal_the_dense_masked_computation(sparse_below):
    recipe = TrainingRecipe(batch_size=16, augment_shift=0)
    x, y = _data()
    runs = []
    for compact in (True, False):
        net = _sparse_net()
        net.compact, net.sparse_below = compact, sparse_below
        opt = make_optimizer(net, recipe)
        gen = torch.Generator().manual_seed(3)
        losses = [train_epoch(net, opt, x, y, recipe.batch_size, gen) for _ in range(3)]
        runs.append((losses, [layer.weight.detach().clone() for layer in net.layers]))
    (loss_c, w_c), (loss_d, w_d) = runs
    np.testing.assert_allclose(loss_c, loss_d, rtol=1e-12)
    for a, b in zip(w_c, w_d, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert not torch.equal(w_c[1], _sparse_net().layers[1].weight)  # training did move them


def test_live_neurons_agree_with_the_hardware_accounting():
    net = _sparse_net(seed=4, density=0.08)
    masks = [net.mask(i) for i in range(net.n_layers)]
    live = live_indices(masks)
    hw = live_masks([m.numpy() != 0 for m in masks])
    assert torch.equal(live[0], torch.from_numpy(hw[0].any(axis=0)))
    for i in range(1, net.n_layers):
        assert torch.equal(live[i], torch.from_numpy(hw[i - 1].any(axis=1)))
    assert bool(live[-1].all())  # every output is kept: the logits are all needed
    assert not bool(live[0][:6].any()) and not bool(live[1][3]) and not bool(live[1][7])


def test_tiny_networks_are_not_worth_compacting():
    net = _sparse_net()
    net.min_saved_cells = None  # the default: 100k cells saved, far more than this net has
    plan = net.live_plan()
    assert plan.inputs is None and all(lay.rows is None for lay in plan.layers)
    assert plan.kernels == ["dense"] * 3


def test_plan_follows_every_mask_change():
    net = _sparse_net()
    width = int(live_indices([net.mask(i) for i in range(3)])[1].sum())
    plan = net.live_plan()
    assert net.live_plan() is plan  # unchanged masks: no rebuild
    snap = copy.deepcopy(net.state_dict())
    net.set_mask(0, np.zeros((40, 36), bool))  # everything dies
    x, _ = _data(8)
    assert torch.count_nonzero(net(x)) == 0
    assert net.live_plan() is not plan
    net.load_state_dict(snap)  # restoring a snapshot brings the old network back
    assert int(live_indices([net.mask(i) for i in range(3)])[1].sum()) == width
    ref = copy.deepcopy(net)
    ref.compact = False
    net.eval(), ref.eval()
    torch.testing.assert_close(net(x), ref(x), rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    net = _sparse_net().float()
    x, y = _data()
    x = x.float()
    gpu = copy.deepcopy(net).to("cuda")
    net.eval(), gpu.eval()
    torch.testing.assert_close(gpu(x.cuda()).cpu(), net(x), rtol=1e-4, atol=1e-5)


def test_the_default_rule_picks_csr_by_density_and_layer():
    """The first layer (its input needs no gradient) takes CSR up to a higher density than
    the others, as benchmarks/bench_products.py measured; cells below the threshold only."""
    from tnf_env.model.compact import SPARSE_BELOW, SPARSE_BELOW_FIRST, LivePlan

    g = torch.Generator().manual_seed(0)
    between = (SPARSE_BELOW["cpu"] + SPARSE_BELOW_FIRST["cpu"]) / 2
    masks = [(torch.rand(400, 400, generator=g) < between).float() for _ in range(2)]
    plan = LivePlan(masks, min_saved_cells=0)
    assert plan.kernels == ["csr", "dense"]
    sparse = [(torch.rand(400, 400, generator=g) < SPARSE_BELOW["cpu"] / 2).float()] * 2
    assert LivePlan(sparse, min_saved_cells=0).kernels == ["csr", "csr"]
    assert LivePlan(sparse, sparse_below=0.0, min_saved_cells=0).kernels == ["dense", "dense"]
