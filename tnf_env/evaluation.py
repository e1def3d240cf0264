"""Score a (transformed) network: accuracy, and the hardware it needs.

The spiking network's accuracy and spike rasters, and the normalised cost;
:mod:`tnf_env.scoring` turns them, with the crossbar accounting, into rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

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


def normalized_cost(area: float, energy: float, reference, area_weight: float) -> float:
    """Weighted mix of area and energy, each relative to ``reference`` (a NetworkCost)."""
    return area_weight * area / reference.area_mm2 + (1 - area_weight) * (
        energy / reference.energy_nj
    )
