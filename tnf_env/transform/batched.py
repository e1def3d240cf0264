"""Retrain many masked MLPs of one topology as one batched computation.

A small network's epoch on an accelerator is a handful of tiny kernels per
minibatch; B networks stacked as ``[B, out, in]`` weights and masks, trained with
one batched forward/backward (``torch.bmm``) and one SGD-with-momentum update,
keep the device busy. Each network keeps its own random stream (its
Transformation's generator) and draws from it exactly what
:func:`~tnf_env.model.training.train_epoch` draws, in the same order: the shuffle, then
per minibatch the augmentation shifts and the dropout of every hidden layer. So
network k trains as it would alone; only the summation order of the matrix
products differs (bitwise equal masks and clusters in float64, see
``tests/tnf_env/test_vector_env.py``).

:func:`retrain_stacked` is a :data:`~tnf_env.transform.step_plan.Retrainer`: the batched
environment passes it to :func:`~tnf_env.transform.step_plan.run_plans`.
"""

from __future__ import annotations

import math
import time

import torch
from torch.nn import functional as F

from ..model.torch_device import accumulator_dtype
from ..model.training import TrainingDiverged, random_shift
from .transformation import Transformation

#: Elements of one evaluation chunk's widest activation, all networks together.
EVAL_CHUNK_ELEMENTS = 1 << 25


class StackedNets:
    """The weights, masks and momentum buffers of B same-shape networks, stacked.

    :param trs: the transformations whose networks to stack (their optimisers must be
        plain SGD with the same learning rate and momentum).
    """

    def __init__(self, trs: list[Transformation]) -> None:
        if not trs:
            raise ValueError("need at least one network to stack")
        group = trs[0].optimizer.param_groups[0]
        self.lr, self.momentum = float(group["lr"]), float(group["momentum"])
        for tr in trs:
            g = tr.optimizer.param_groups[0]
            plain = not g["nesterov"] and g["weight_decay"] == 0 and g["dampening"] == 0
            if not plain or (g["lr"], g["momentum"]) != (self.lr, self.momentum):
                raise ValueError("stacked retraining needs plain SGD with one lr and momentum")
        n_layers = trs[0].net.n_layers
        self.dropout = trs[0].net.dropout
        self.weights: list[torch.Tensor] = []
        self.masks: list[torch.Tensor] = []
        self.buffers: list[torch.Tensor] = []
        for i in range(n_layers):
            params = [tr.net.layers[i].weight for tr in trs]
            self.weights.append(torch.stack([p.detach() for p in params]))
            self.masks.append(torch.stack([tr.net.mask(i) for tr in trs]))
            bufs = [
                t.optimizer.state.get(p, {}).get("momentum_buffer")
                for t, p in zip(trs, params, strict=True)
            ]
            # A network that has not stepped yet has no buffer: 0 x momentum + grad is the
            # grad exactly, as SGD's first step sets it.
            self.buffers.append(
                torch.stack([torch.zeros_like(p) if b is None else b for p, b in zip(
                    params, bufs, strict=True)])
            )

    def __len__(self) -> int:
        return self.weights[0].shape[0]

    def write_back(self, trs: list[Transformation]) -> None:
        """Copy every network's weights and momentum back into its transformation."""
        with torch.no_grad():
            for i, (w, b) in enumerate(zip(self.weights, self.buffers, strict=True)):
                for k, tr in enumerate(trs):
                    param = tr.net.layers[i].weight
                    param.copy_(w[k])
                    tr.optimizer.state[param]["momentum_buffer"] = b[k].clone()

    def logits(self, x: torch.Tensor, keeps: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Logits ``[B, batch, classes]`` for inputs ``[B, batch, in]`` (or ``[batch, in]``
        shared by all), with the dropout keep masks ``keeps`` (None: no dropout)."""
        h = x if x.dim() == 3 else x.unsqueeze(0).expand(len(self), -1, -1)
        last = len(self.weights) - 1
        for i, (w, m) in enumerate(zip(self.weights, self.masks, strict=True)):
            h = torch.bmm(h, (w * m).transpose(1, 2))
            if i < last:
                h = F.relu(h)
                if keeps is not None:
                    h = h * keeps[i] / (1.0 - self.dropout)
        return h


def stacked_train_epoch(
    nets: StackedNets,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generators: list[torch.Generator],
    fraction: float = 1.0,
    augment_shift: int = 0,
) -> torch.Tensor:
    """One pass (or ``fraction`` of one) of every network over ``(x, y)``.

    Network k draws from ``generators[k]`` what
    :func:`~tnf_env.model.training.train_epoch` would draw for it alone.

    :return: each network's mean training loss (``[B]``, float64 where available).
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n, b_nets = x.shape[0], len(nets)
    n_seen = max(1, int(round(n * fraction)))
    orders = torch.stack(
        [torch.randperm(n, generator=g, device=x.device)[:n_seen] for g in generators]
    )
    widths = [w.shape[1] for w in nets.weights[:-1]]
    p = nets.dropout
    total = torch.zeros(b_nets, dtype=accumulator_dtype(x.device), device=x.device)
    batches = 0
    for start in range(0, n_seen, batch_size):
        idx = orders[:, start : start + batch_size]
        xb = x[idx]
        keeps: list[list[torch.Tensor]] = [[] for _ in widths]
        for k, g in enumerate(generators):
            # The order train_epoch draws in: shifts, then each hidden layer's dropout.
            if augment_shift:
                xb[k] = random_shift(xb[k], augment_shift, g)
            for i, width in enumerate(widths):
                if p > 0:
                    shape = (idx.shape[1], width)
                    keeps[i].append(torch.rand(shape, generator=g, device=x.device) >= p)
        stacked_keeps = [torch.stack(kk) for kk in keeps] if p > 0 else None
        for w in nets.weights:
            w.requires_grad_(True)
        logits = nets.logits(xb, stacked_keeps)
        classes = logits.shape[-1]
        per = F.cross_entropy(
            logits.reshape(-1, classes), y[idx].reshape(-1), reduction="none"
        ).view(b_nets, -1)
        losses = per.mean(1)
        grads = torch.autograd.grad(losses.sum(), nets.weights)
        with torch.no_grad():
            for w, m, buf, grad in zip(nets.weights, nets.masks, nets.buffers, grads,
                                       strict=True):
                w.requires_grad_(False)
                # SGD with momentum as torch.optim.SGD does it, then the masks re-applied.
                buf.mul_(nets.momentum).add_(grad)
                w.add_(buf, alpha=-nets.lr)
                w.mul_(m)
        total += losses.detach()
        batches += 1
    return total / batches


@torch.no_grad()
def stacked_evaluate(
    nets: StackedNets, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every network's accuracy and mean cross-entropy on ``(x, y)``, no dropout (``[B]``)."""
    b_nets = len(nets)
    widest = max(max(w.shape[1], w.shape[2]) for w in nets.weights)
    chunk = max(1, EVAL_CHUNK_ELEMENTS // (b_nets * widest))
    correct = torch.zeros(b_nets, dtype=torch.int64, device=x.device)
    loss_sum = torch.zeros(b_nets, dtype=accumulator_dtype(x.device), device=x.device)
    for start in range(0, x.shape[0], chunk):
        logits = nets.logits(x[start : start + chunk])
        yb = y[start : start + chunk]
        correct += (logits.argmax(2) == yb[None, :]).sum(1)
        classes = logits.shape[-1]
        per = F.cross_entropy(
            logits.reshape(-1, classes), yb.repeat(b_nets), reduction="none"
        ).view(b_nets, -1)
        loss_sum += per.sum(1)
    n = max(1, x.shape[0])
    return correct.to(loss_sum.dtype) / n, loss_sum / n


def retrain_stacked(trs: list[Transformation], epochs: float) -> list[float | Exception]:
    """Retrain ``trs`` together for ``epochs`` (fractions allowed); per network its full
    training loss afterwards, or the :class:`TrainingDiverged` that stopped it. Networks
    of different training sets, recipes or epoch shares retrain in one stack each. A
    :data:`~tnf_env.transform.step_plan.Retrainer`."""
    if epochs < 0:
        raise ValueError(f"retrain epochs must be >= 0, got {epochs}")
    t0 = time.perf_counter()
    groups: dict[tuple, list[int]] = {}
    for k, tr in enumerate(trs):  # networks stack only over one training set and recipe
        key = (id(tr.x_train), id(tr.x_gate), tr.recipe, tr.epoch_share)
        groups.setdefault(key, []).append(k)
    if len(groups) > 1:
        per_group: list[float | Exception] = [0.0] * len(trs)
        for group in groups.values():
            for k, loss in zip(group, retrain_stacked([trs[k] for k in group], epochs),
                               strict=True):
                per_group[k] = loss
        return per_group
    first = trs[0]
    recipe, x, y = first.recipe, first.x_train, first.y_train
    nets = StackedNets(trs)
    generators = [tr.generator for tr in trs]
    diverged: dict[int, Exception] = {}
    left = float(epochs)
    while left > 1e-9:
        frac = min(1.0, left)
        means = stacked_train_epoch(
            nets, x, y, recipe.batch_size, generators, frac * first.epoch_share,
            recipe.augment_shift
        ).tolist()
        for k, mean in enumerate(means):
            if k not in diverged and not math.isfinite(mean):
                diverged[k] = TrainingDiverged(f"training loss became {mean} within an epoch")
        left -= frac
    nets.write_back(trs)
    losses = stacked_evaluate(nets, first.x_gate, first.y_gate)[1].tolist()
    seconds = (time.perf_counter() - t0) / len(trs)
    out: list[float | Exception] = []
    for k, tr in enumerate(trs):
        tr.last_retrain_seconds = seconds
        if k in diverged:
            out.append(diverged[k])
        else:
            tr.epochs_trained += float(epochs)
            out.append(float(losses[k]))
    return out
