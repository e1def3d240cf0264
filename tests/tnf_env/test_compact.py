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


def _bits(t: torch.Tensor) -> torch.Tensor:
    """The tensor's bit patterns (equal bits: equal values, signs of zeros included)."""
    return t.detach().view(torch.int64 if t.dtype == torch.float64 else torch.int32)


def _layered_net(kernels: str, dtype: torch.dtype) -> MaskedMLP:
    """_sparse_net with the kernels asked for: all dense, all CSR, or a dense first layer
    that gathers nothing (every input and first-layer neuron live) before CSR layers."""
    net = _sparse_net().to(dtype)
    net.sparse_below = {"dense": 0.0, "csr": 1.0, "mixed": 0.3}[kernels]
    if kernels == "mixed":
        rng = np.random.default_rng(7)
        m0 = rng.random((40, 36)) < 0.5
        m0[np.arange(40), np.arange(40) % 36] = True  # every input feeds, every neuron fed
        net.set_mask(0, m0)
        m1 = net.masks_numpy()[1]
        m1[0, :] = True  # every first-layer neuron feeds a live one
        m1[:, 7] = True
        net.set_mask(1, m1)
    return net


_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=_CUDA)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kernels", ["dense", "csr", "mixed"])
@pytest.mark.parametrize("lr,momentum", [(0.5, 0.5), (0.3, 0.9)], ids=["paper", "lr0.3-m0.9"])
def test_compact_sgd_is_bit_identical_to_per_batch_steps(monkeypatch, device, dtype, kernels,
                                                         lr, momentum):
    from tnf_env.model import compact_sgd

    x, y = _data()
    x, y = x.to(device, dtype), y.to(device)
    used = []
    real = compact_sgd.CompactSGD

    class Spy(real):
        def finish(self):
            state = self.optimizer.state
            outside = 0
            for s in self.slots:  # cells outside the block whose momentum must be replayed
                buf = state.get(s.param, {}).get("momentum_buffer")
                if s.gathered and buf is not None:
                    hot = buf != 0
                    hot.view(-1)[s.flat] = False
                    outside += int(hot.sum())
            used.append((self.plan.kernels, [s.gathered for s in self.slots], outside))
            super().finish()

    monkeypatch.setattr(compact_sgd, "CompactSGD", Spy)
    runs = []
    for keep in (True, False):
        monkeypatch.setattr(compact_sgd, "KEEP_COMPACT", keep)
        net = _layered_net(kernels, dtype).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
        gen = torch.Generator(device).manual_seed(3)
        trace = []

        def train(fraction, shift=0, net=net, opt=opt, gen=gen, trace=trace):
            loss = train_epoch(net, opt, x, y, 16, gen, fraction=fraction, augment_shift=shift)
            trace.append((loss,) + tuple(
                _bits(t).clone() for layer in net.layers
                for t in (layer.weight, opt.state[layer.weight]["momentum_buffer"],
                          layer.weight.grad)
            ))

        train(1.0)  # the first step ever: SGD creates the momentum buffers
        train(0.4, shift=1)
        masks = net.masks_numpy()
        moving = opt.state[net.layers[2].weight]["momentum_buffer"].cpu().numpy() != 0
        dying = int(np.flatnonzero(moving.any(0))[0])
        masks[1][dying] = False  # a second-layer neuron dies: its outputs keep momentum
        movable = moving & masks[2]
        movable[:, dying] = False
        pruned = tuple(np.argwhere(movable)[0])
        masks[2][pruned] = False  # a cell is pruned with its momentum
        for i, m in enumerate(masks):
            net.set_mask(i, m)
        train(1.0)
        train(0.3, shift=1)
        masks[2][pruned] = True  # a cluster revives the cell: its momentum moves it again
        net.set_mask(2, masks[2])
        train(0.7)
        runs.append(trace)
    fast, slow = runs
    assert len(used) == 5  # the compact path ran every call of the first run only
    assert any(outside for *_, outside in used)  # and had momentum outside the block to replay
    if kernels == "mixed":
        assert used[0][0][0] == "dense" and not used[0][1][0] and "csr" in used[0][0]
    for a, b in zip(fast, slow, strict=True):
        assert a[0] == b[0]  # the returned loss
        for ta, tb in zip(a[1:], b[1:], strict=True):
            assert torch.equal(ta, tb)
    assert not torch.equal(fast[-1][1], fast[0][1])  # training moved the weights


def test_only_plain_momentum_sgd_keeps_the_network_compact():
    from tnf_env.model.compact_sgd import plain_momentum_sgd

    net = _sparse_net()
    params = list(net.parameters())
    assert plain_momentum_sgd(net, torch.optim.SGD(params, lr=0.5, momentum=0.5))
    for opt in (
        torch.optim.SGD(params, lr=0.5),  # no momentum
        torch.optim.SGD(params, lr=0.5, momentum=0.5, nesterov=True),
        torch.optim.SGD(params, lr=0.5, momentum=0.5, weight_decay=1e-4),
        torch.optim.SGD(params, lr=0.5, momentum=0.5, dampening=0.1),
        torch.optim.SGD(params, lr=0.5, momentum=0.5, maximize=True),
        torch.optim.SGD(params[:2], lr=0.5, momentum=0.5),  # not every weight
        torch.optim.Adam(params),
    ):
        assert not plain_momentum_sgd(net, opt)
    # hooks on the network or the optimiser would be skipped: the per-batch path runs
    opt = torch.optim.SGD(params, lr=0.5, momentum=0.5)
    handle = net.register_forward_hook(lambda *_: None)
    assert not plain_momentum_sgd(net, opt)
    handle.remove()
    handle = opt.register_step_post_hook(lambda *_: None)
    assert not plain_momentum_sgd(net, opt)
    handle.remove()
    assert plain_momentum_sgd(net, opt)
