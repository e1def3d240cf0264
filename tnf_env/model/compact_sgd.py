"""Momentum SGD on the live sub-network, kept compact for a whole retraining call.

The per-batch compact pass (:meth:`~tnf_env.model.compact.LivePlan.forward`) gathers
each live block from the full weight, autograd scatters its gradient back into a
full-size tensor, and SGD and the masks then update every cell of the full weights.
:class:`CompactSGD` instead gathers the weights, momentum buffers and masks once per
:func:`~tnf_env.model.training.train_epoch` call, steps the gathered copies batch after
batch, and scatters them back once at the end. The results are bit for bit those of the
per-batch path (``tests/tnf_env/test_compact.py``), for these reasons:

- A gathered cell sees the same values in the same elementwise operations: the
  gradient of the gathered block, plus 0 (the scatter adds it into zeros, which turns
  a -0 gradient into +0), then torch's own SGD function (so the same single-tensor or
  foreach kernels), then the multiply by the mask. The arithmetic of CPU and CUDA
  elementwise kernels does not depend on an element's position in the tensor.
- A cell outside the gathered block gets a +0 gradient every batch, so per batch SGD
  does ``buf = buf * momentum + 0; w = w - lr * buf; w = w * mask``. Where ``buf`` is
  +0 that leaves ``w * mask`` (``w + -0 == w`` exactly, and a 0/1 mask is idempotent),
  so one multiply by the mask at the end stands for all of them. Where ``buf`` is
  anything else (a neuron that just died, a cell just pruned whose momentum decays:
  usually few) the same SGD call and mask multiply are replayed once per batch of the
  call on those cells alone.
- A network that never stepped has no momentum buffer: SGD's first step clones the
  gradient, which is +0 outside the block, so the full buffer is zeros with the
  gathered buffer scattered in.

Only plain momentum SGD takes this path (:func:`plain_momentum_sgd`); anything else
trains per batch as before. :data:`KEEP_COMPACT` switches it off for tests and
benchmarks.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F
from torch.optim.sgd import sgd

from .compact import LivePlan
from .network import MaskedMLP

#: Keep the live sub-network compact across a retraining call (False: the per-batch path).
KEEP_COMPACT = True


def plain_momentum_sgd(net: MaskedMLP, optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` is SGD with momentum and nothing else, over exactly ``net``'s
    weights (what :class:`CompactSGD` reproduces)."""
    if type(optimizer) is not torch.optim.SGD or len(optimizer.param_groups) != 1:
        return False
    # Hooks would see neither the module call nor optimizer.step(): the per-batch path runs.
    hooks = (net._forward_hooks, net._forward_pre_hooks, net._backward_hooks,
             optimizer._optimizer_step_pre_hooks, optimizer._optimizer_step_post_hooks)
    if any(hooks) or any(m._forward_hooks or m._forward_pre_hooks for m in net.layers):
        return False
    g = optimizer.param_groups[0]
    weights = [layer.weight for layer in net.layers]
    plain = (
        isinstance(g["lr"], float | int) and g["momentum"] > 0 and g["dampening"] == 0
        and g["weight_decay"] == 0 and not g["nesterov"] and not g["maximize"]
        and not g.get("fused") and not g.get("differentiable")
    )
    same = len(g["params"]) == len(weights) and all(
        p is w for p, w in zip(g["params"], weights, strict=True)
    )
    if not (plain and same):
        return False
    tensors = weights + [net.mask(i) for i in range(net.n_layers)]
    tensors += [b for b in (optimizer.state.get(w, {}).get("momentum_buffer") for w in weights)
                if b is not None]
    return all(t.is_contiguous() and t.dtype == weights[0].dtype for t in tensors)


class _Slot:
    """One layer: its full tensors, and the compact copies stepped during the call."""

    def __init__(self, net: MaskedMLP, state: dict, plan: LivePlan, i: int, w: torch.Tensor):
        self.param = net.layers[i].weight
        self.mask_full = net.mask(i)
        self.gathered = plan.gathers(i)
        buf = state.get(self.param, {}).get("momentum_buffer")
        if self.gathered:
            self.flat = plan.flat_indices(i, self.param.shape[1])
            self.weight = w.detach().requires_grad_()
            self.mask = self.mask_full.reshape(-1).index_select(0, self.flat).view(w.shape)
            self.buf = None if buf is None else buf.reshape(-1).index_select(0, self.flat)
            if self.buf is not None:
                self.buf = self.buf.view(w.shape)
        else:  # the full weight is the live block: step it in place, as SGD would
            self.weight, self.mask, self.buf = self.param, self.mask_full, buf


class CompactSGD:
    """Trains ``net`` batch by batch on compact copies of its live sub-network.

    :param net: the network (compact forward on, its masks fixed during the call).
    :param optimizer: plain momentum SGD over the network's weights
        (:func:`plain_momentum_sgd`); its momentum buffers are read here and written
        back by :meth:`finish`.
    """

    def __init__(self, net: MaskedMLP, optimizer: torch.optim.Optimizer) -> None:
        self.net, self.optimizer = net, optimizer
        self.group = optimizer.param_groups[0]
        self.plan = net.live_plan()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            gathered = self.plan.gather([layer.weight for layer in net.layers])
        self.slots = [
            _Slot(net, optimizer.state, self.plan, i, w) for i, w in enumerate(gathered)
        ]
        self.steps = 0

    def _sgd(self, params: list[torch.Tensor], grads: list[torch.Tensor],
             bufs: list[torch.Tensor | None]) -> None:
        g = self.group
        sgd(params, grads, bufs, foreach=g["foreach"], fused=g["fused"],
            weight_decay=0.0, momentum=g["momentum"], lr=g["lr"], dampening=0.0,
            nesterov=False, maximize=False)

    def step(self, xb: torch.Tensor, yb: torch.Tensor,
             generator: torch.Generator | None) -> torch.Tensor:
        """One batch: forward on the compact weights, backward, SGD step, masks; the loss."""
        for s in self.slots:
            s.weight.grad = None
        logits = self.plan.forward_gathered(
            [s.weight for s in self.slots], xb, self.net.dropout, self.net.training, generator
        )
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        with torch.no_grad():
            grads = []
            for s in self.slots:
                grad = s.weight.grad
                assert grad is not None  # backward() just gave every slot's weight one
                if s.gathered:  # as the scatter into zeros leaves it: -0 becomes +0
                    grad.add_(0.0)
                grads.append(grad)
            bufs = [s.buf for s in self.slots]
            self._sgd([s.weight for s in self.slots], grads, bufs)
            for s, buf in zip(self.slots, bufs, strict=True):
                s.buf = buf  # SGD's first step creates it
                s.weight.mul_(s.mask)
        self.steps += 1
        return loss

    @torch.no_grad()
    def finish(self) -> None:
        """Write the weights, momentum buffers and last gradients back into the full
        tensors, as :attr:`steps` per-batch steps on them would have left them."""
        state = self.optimizer.state
        for s in self.slots:
            if not s.gathered:
                if s.buf is not None:
                    state[s.param]["momentum_buffer"] = s.buf
                continue
            if self.steps == 0:
                continue
            w_full = s.param.detach()
            buf = state.get(s.param, {}).get("momentum_buffer")
            outside = None
            if buf is not None:
                # Cells outside the block whose momentum is not +0 still move.
                hot = (buf != 0) | buf.signbit()
                hot.view(-1)[s.flat] = False
                outside = torch.nonzero(hot.view(-1)).flatten()
            if outside is not None and outside.numel():
                w_out = w_full.view(-1).index_select(0, outside)
                b_out = buf.view(-1).index_select(0, outside)
                m_out = s.mask_full.view(-1).index_select(0, outside)
                zero = torch.zeros_like(b_out)
                for _ in range(self.steps):
                    self._sgd([w_out], [zero], [b_out])
                    w_out.mul_(m_out)
            w_full.mul_(s.mask_full)  # the cells whose momentum is +0
            w_full.view(-1).index_copy_(0, s.flat, s.weight.detach().reshape(-1))
            if buf is None:  # the first step cloned a gradient that is +0 outside the block
                buf = torch.zeros_like(w_full)
            assert s.buf is not None  # SGD's first step (steps > 0) created it
            buf.view(-1).index_copy_(0, s.flat, s.buf.reshape(-1))
            if outside is not None and outside.numel():
                w_full.view(-1).index_copy_(0, outside, w_out)
                buf.view(-1).index_copy_(0, outside, b_out)
            state[s.param]["momentum_buffer"] = buf
            if s.weight.grad is not None:  # the last batch's gradient, full size
                grad = torch.zeros_like(w_full)
                grad.view(-1).index_copy_(0, s.flat, s.weight.grad.reshape(-1))
                s.param.grad = grad
