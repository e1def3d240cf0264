"""Score a (transformed) network: accuracy, and the hardware it needs.

One place computes what the environment, the schedules and ``reproduce``
report, so their numbers agree: ReLU accuracy on a split, the converted
spiking network's accuracy and spike rasters, and the crossbar mapping and
cost from :mod:`hwmodel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hwmodel import Technology, cost_network
from hwmodel.clusters import Cluster

from .network import MaskedMLP
from .spiking import SNNResult, normalization_scales, simulate_snn


@dataclass(frozen=True)
class SNNSettings:
    """How the spiking network is simulated for accuracy and energy."""

    timesteps: int = 35  # simulation length T in 1 ms steps (Diehl et al.'s reference: 35)
    coding: str = "poisson"  # input rate coding: "poisson" or "deterministic"
    percentile: float = 99.9  # activation percentile used for weight normalisation
    max_samples: int = 2000  # at most this many test images are simulated


def snn_evaluate(
    net: MaskedMLP,
    x_train: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: SNNSettings = SNNSettings(),
    seed: int = 0,
    record: bool = True,
) -> SNNResult:
    """Convert ``net`` to a spiking network and run it on (up to ``max_samples`` of) ``x``."""
    scales = normalization_scales(net, x_train, settings.percentile)
    n = min(settings.max_samples, x.shape[0])
    return simulate_snn(
        net,
        x[:n],
        y[:n],
        scales,
        timesteps=settings.timesteps,
        coding=settings.coding,
        seed=seed,
        record=record,
    )


def hardware_cost(
    masks: Sequence[np.ndarray],
    crossbar_sizes: Sequence[int],
    technology: Technology,
    strategy: str,
    clusters: Sequence[Sequence[Cluster]] | None = None,
    spikes: Sequence[np.ndarray] | None = None,
):
    """Map ``masks`` onto crossbars with ``strategy`` and cost them."""
    return cost_network(
        list(masks),
        list(crossbar_sizes),
        technology,
        strategy=strategy,
        clusters=[list(c) for c in clusters] if clusters is not None else None,
        spikes=list(spikes) if spikes is not None else None,
    )


def normalized_cost(area: float, energy: float, reference, area_weight: float) -> float:
    """Weighted mix of area and energy, each relative to ``reference`` (a NetworkCost)."""
    return area_weight * area / reference.area_mm2 + (1 - area_weight) * (
        energy / reference.energy_nj
    )
