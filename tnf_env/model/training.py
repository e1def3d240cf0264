"""Training and evaluation of a :class:`~tnf_env.model.network.MaskedMLP`.

The default recipe is the one of the TraNNsformer release (and of Diehl et
al. 2015): SGD with learning rate 0.5 and momentum 0.5, batches of 400,
dropout 0.5 on hidden activations, weights initialised U(-0.01, 0.01).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..data.datasets import DatasetError, dataset_spec
from . import compact_sgd
from .network import MaskedMLP
from .torch_device import accumulator_dtype


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the network can no longer be trained."""


@dataclass(frozen=True)
class TrainingRecipe:
    """How a network is trained; every field is part of the baseline cache key."""

    lr: float = 0.5  # SGD learning rate (paper: 0.5)
    momentum: float = 0.5  # SGD momentum (paper: 0.5)
    batch_size: int = 400  # minibatch size (paper: 400)
    dropout: float = 0.5  # drop probability of hidden activations (paper: 0.5)
    init_scale: float = 0.01  # weights start U(-init_scale, init_scale) (paper: 0.01)
    epochs: int = 60  # epochs of dense training for the baseline (paper, MNIST: 60)
    augment_shift: int = 0  # random image shifts of up to this many pixels (0: off)

    def __post_init__(self) -> None:
        # Upper bounds too: an integer beyond them would run for years or fail inside torch.
        checks = {
            "lr": self.lr > 0,
            "momentum": 0 <= self.momentum < 1,
            "batch_size": 1 <= self.batch_size <= 10**8,
            "dropout": 0 <= self.dropout < 1,
            "init_scale": self.init_scale > 0,
            "epochs": 0 <= self.epochs <= 100_000,
            "augment_shift": 0 <= self.augment_shift <= 64,
        }
        bad = [f"{k}={getattr(self, k)!r}" for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                f"invalid training recipe field(s) {', '.join(bad)}: allowed lr > 0, "
                "0 <= momentum < 1, batch_size in [1, 10**8], 0 <= dropout < 1, "
                "init_scale > 0, epochs in [0, 100000], augment_shift in [0, 64]"
            )

    def to_dict(self) -> dict:
        return asdict(self)


def default_recipe(dataset: str) -> TrainingRecipe:
    """The training recipe used for ``dataset`` unless a user gives one.

    :param dataset: a dataset name; a registered one's record may depart from the paper's
        recipe (each departure chosen on validation, with its reason in the record), any
        other name gets the paper's.
    """
    try:
        departures = dataset_spec(dataset).recipe
    except DatasetError:
        return TrainingRecipe()
    return TrainingRecipe(**departures)


def make_optimizer(net: MaskedMLP, recipe: TrainingRecipe) -> torch.optim.SGD:
    return torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum)


def random_shift(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each square image of the flat batch ``x`` by up to ``shift`` pixels, zero-filled.

    One gather from the zero-padded batch: no loop over offsets and no host sync, so it
    stays asynchronous on a GPU. Offsets are drawn as ``randint(0, 2*shift+1, (2, b))``.
    """
    b, n = x.shape
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"augment_shift needs square images, got {n} inputs")
    p = side + 2 * shift
    padded = F.pad(x.view(b, side, side), (shift, shift, shift, shift)).view(b, p * p)
    offsets = torch.randint(0, 2 * shift + 1, (2, b), generator=generator, device=x.device)
    line = torch.arange(side, device=x.device)
    rows = (offsets[0, :, None] + line) * p  # (b, side): start of each source row
    cols = offsets[1, :, None] + line  # (b, side)
    return padded.gather(1, (rows[:, :, None] + cols[:, None, :]).view(b, n))


def train_epoch(
    net: MaskedMLP,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    fraction: float = 1.0,
    augment_shift: int = 0,
) -> float:
    """One pass (or ``fraction`` of a pass) over ``x`` in shuffled minibatches.

    Masks are re-applied after every optimiser step. With plain momentum SGD and a
    compacted network the live sub-network stays compact for the whole call
    (:mod:`~tnf_env.model.compact_sgd`, the same results bit for bit). Everything stays on
    the device of ``x`` (and of ``generator``, which must match it); the loss is read back
    once per call.

    :param fraction: share of the training set to visit, in (0, 1].
    :param augment_shift: shift each image randomly by up to this many pixels.
    :return: the mean training loss of the batches seen.
    :raises TrainingDiverged: when the loss is not finite.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = x.shape[0]
    n_seen = max(1, int(round(n * fraction)))
    order = torch.randperm(n, generator=generator, device=x.device)[:n_seen]
    net.train()
    total, batches = torch.zeros((), dtype=accumulator_dtype(x.device), device=x.device), 0
    kept = None
    if compact_sgd.KEEP_COMPACT and net.compact and compact_sgd.plain_momentum_sgd(net, optimizer):
        plan = net.live_plan()
        if any(plan.gathers(i) for i in range(net.n_layers)):  # else nothing to save
            kept = compact_sgd.CompactSGD(net, optimizer)
    try:
        for start in range(0, n_seen, batch_size):
            idx = order[start : start + batch_size]
            xb = x[idx] if augment_shift == 0 else random_shift(x[idx], augment_shift, generator)
            if kept is not None:
                loss = kept.step(xb, y[idx], generator)
            else:
                optimizer.zero_grad(set_to_none=True)
                loss = F.cross_entropy(net(xb, generator=generator), y[idx])
                loss.backward()
                optimizer.step()
                net.apply_masks()
            total += loss.detach()
            batches += 1
    finally:
        if kept is not None:
            kept.finish()
    net.eval()
    mean = float(total) / batches
    if not math.isfinite(mean):
        raise TrainingDiverged(f"training loss became {mean} within {batches} batches")
    return mean


@torch.no_grad()
def evaluate(
    net: MaskedMLP, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096
) -> tuple[float, float]:
    """Accuracy and mean cross-entropy loss of ``net`` on ``(x, y)``, without dropout."""
    net.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    loss_sum = torch.zeros((), dtype=accumulator_dtype(x.device), device=x.device)
    for start in range(0, x.shape[0], batch_size):
        logits = net(x[start : start + batch_size])
        yb = y[start : start + batch_size]
        correct += (logits.argmax(1) == yb).sum()
        loss_sum += F.cross_entropy(logits, yb, reduction="sum")
    n = max(1, x.shape[0])
    return int(correct) / n, float(loss_sum) / n


def accuracy(net: MaskedMLP, x: torch.Tensor, y: torch.Tensor) -> float:
    return evaluate(net, x, y)[0]


def to_tensors(
    x: np.ndarray, y: np.ndarray, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (float32) and labels (int64) as tensors on ``device``."""
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    return xt.to(device), yt.to(device)
