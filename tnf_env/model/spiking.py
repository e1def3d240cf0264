"""ANN-to-SNN conversion and simulation (Diehl et al., IJCNN 2015).

The trained ReLU network becomes a network of integrate-and-fire neurons:
no biases, threshold 1, reset by subtraction, weights rescaled layer by layer
so that the largest activation seen on training data (or a high percentile of
it, Rueckauer et al. 2017) maps to one spike per timestep. Inputs are rate
coded; the class is the output neuron with the most spikes.

Simulation is vectorised over the batch and the timesteps: each layer's input
currents for all timesteps come from one matrix product, and only the cheap
elementwise membrane update loops over time. :func:`snn_evaluate` converts and runs a
network as the scoring path does (:class:`SNNSettings`: length, coding, samples).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from . import SNN_TIMESTEPS
from .network import MaskedMLP
from .torch_device import accumulator_dtype, generator_on


@dataclass
class SNNResult:
    """Outcome of a spiking-network simulation.

    :ivar accuracy: fraction of samples whose most-spiking output is the label.
    :ivar input_spikes: per weight layer, its input spike raster, bool
        ``(samples, timesteps, n_inputs)`` (``None`` unless recorded); this is
        what the event-driven energy model consumes.
    :ivar spike_rates: per weight layer, mean spikes per input neuron per timestep.
    """

    accuracy: float
    timesteps: int
    spike_rates: list[float]
    input_spikes: list[np.ndarray] | None = field(default=None, repr=False)


@torch.no_grad()
def normalization_scales(
    net: MaskedMLP, x_train: torch.Tensor, percentile: float = 100.0, max_samples: int = 2000
) -> list[float]:
    """Per-layer weight divisors of data-based normalisation.

    Layer ``l``'s weights are divided by ``lambda_l / lambda_{l-1}`` where
    ``lambda_l`` is the ``percentile`` of layer ``l``'s positive activations on
    (up to ``max_samples``) training inputs; ``percentile=100`` is Diehl's max.
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    acts = net.activations(x_train[:max_samples])
    scales, previous = [], 1.0
    for a in acts:
        pos = a[a > 0]
        if pos.numel() == 0:
            lam = 1.0
        elif percentile == 100:
            lam = float(pos.max())
        else:
            # torch.quantile caps its input size: subsample evenly beyond that.
            step = max(1, pos.numel() // 4_000_000)
            lam = float(torch.quantile(pos[::step].float(), percentile / 100))
        lam = max(lam, 1e-12)
        scales.append(lam / previous)
        previous = lam
    return scales


def encode_inputs(
    x: torch.Tensor,
    timesteps: int,
    coding: str,
    generator: torch.Generator | None = None,
    max_rate: float = 1.0,
) -> torch.Tensor:
    """Binary input spikes ``(batch, timesteps, inputs)`` at rate ``max_rate * x`` per step.

    ``"poisson"`` draws Bernoulli spikes; ``"deterministic"`` fires whenever an
    accumulator of ``x`` crosses an integer, so rates are exact and repeatable.
    """
    rate = (x * max_rate).clamp(0, 1)
    if coding == "poisson":
        u = torch.rand((x.shape[0], timesteps, x.shape[1]), generator=generator, device=x.device)
        return u < rate[:, None, :]
    if coding == "deterministic":
        t = torch.arange(1, timesteps + 1, dtype=x.dtype, device=x.device)[None, :, None]
        acc = torch.floor(rate[:, None, :] * t + 1e-6)
        prev = torch.floor(rate[:, None, :] * (t - 1) + 1e-6)
        return acc > prev
    raise ValueError(f"unknown input coding {coding!r}: use 'poisson' or 'deterministic'")


@torch.no_grad()
def simulate_snn(
    net: MaskedMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    scales: list[float],
    timesteps: int = SNN_TIMESTEPS,
    coding: str = "poisson",
    seed: int = 0,
    record: bool = False,
    batch_size: int = 500,
    max_rate: float = 1.0,
) -> SNNResult:
    """Run the converted spiking network on ``x`` and score it against ``y``.

    :param scales: weight divisors from :func:`normalization_scales`.
    :param timesteps: simulation length T in 1 ms steps (default :data:`SNN_TIMESTEPS`).
    :param coding: ``"poisson"`` or ``"deterministic"`` input rate coding.
    :param record: keep every layer's input spike raster (memory: samples x T x width bytes).
    :param max_rate: input spike probability per step for a pixel of value 1.
    """
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    gen = generator_on(x.device, seed)
    weights = [
        (layer.weight * net.mask(i)) / s
        for i, (layer, s) in enumerate(zip(net.layers, scales, strict=True))
    ]
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    spike_sums = torch.zeros(len(weights), dtype=torch.int64, device=x.device)
    rasters: list[list[np.ndarray]] = [[] for _ in weights]
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size]
        spikes = encode_inputs(xb, timesteps, coding, gen, max_rate)
        b = xb.shape[0]
        for li, w in enumerate(weights):
            spike_sums[li] += spikes.sum()
            if record:  # the energy model is numpy: rasters come back once per batch
                rasters[li].append(spikes.cpu().numpy().astype(bool, copy=False))
            current = spikes.to(w.dtype) @ w.T  # (b, T, n_out) for all timesteps at once
            v = torch.zeros(b, w.shape[0], dtype=w.dtype, device=w.device)
            out = torch.empty(current.shape, dtype=torch.bool, device=w.device)
            for t in range(timesteps):
                v += current[:, t]
                fired = v >= 1.0
                v -= fired.to(v.dtype)
                out[:, t] = fired
            spikes = out
        acc = accumulator_dtype(x.device)
        counts = spikes.sum(1).to(acc)
        # Ties (often 0 spikes each) are broken by the final membrane potential.
        pred = (counts + 1e-3 * torch.tanh(v.to(acc))).argmax(1)
        correct += (pred == y[start : start + batch_size]).sum()
    n = max(1, x.shape[0])
    widths = [w.shape[1] for w in weights]
    sums = spike_sums.tolist()
    rates = [s / (n * timesteps * wd) for s, wd in zip(sums, widths, strict=True)]
    return SNNResult(
        accuracy=int(correct) / n,
        timesteps=timesteps,
        spike_rates=rates,
        input_spikes=[np.concatenate(r) for r in rasters] if record else None,
    )


@dataclass(frozen=True)
class SNNSettings:
    """How the spiking network is simulated for accuracy and energy."""

    timesteps: int = SNN_TIMESTEPS  # simulation length T in 1 ms steps
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
