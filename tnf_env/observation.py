"""The environment's observation: a fixed-size vector in [-1, 1].

Per weight layer (``LAYER_FEATURES``, in layer order):

=================  ============================================================
sparsity           share of the layer's weights pruned
clustered          share of the kept connections that lie inside clusters
unclustered        share of all cells kept but outside clusters
crossbars          crossbars used / crossbars of the dense layer, halved (1 = 2x)
utilization        kept connections / (crossbars x N^2)
threshold          pruning threshold / (4 x mean |W| of the dense layer), clipped
crossbar_size      log2(N / smallest allowed) / log2(largest / smallest)
=================  ============================================================

Then the global features (``GLOBAL_FEATURES``):

=================  ============================================================
accuracy_margin    (validation accuracy - floor) / 0.05, clipped to [-1, 1]
cost               weighted hardware cost / original, halved (0.5 = original)
area               area / original area, halved
energy             energy / original energy, halved
step_fraction      steps taken / horizon
loss_fell          1 if the last step's training loss fell, else 0
=================  ============================================================

Then the last action, each component divided by its largest value (0 at reset).

Every feature is computed in float64 and rounded to a multiple of :data:`RESOLUTION`
(2**-10, about 0.001), which float32 holds exactly: two processors whose float32
kernels differ in the last bits (summation order, fused multiply-add) give the policy
the same observation unless a feature lies within that difference of a rounding
boundary. It does not make retraining itself identical across processors: networks
retrained on different processors drift apart, and so may their observations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .episode import Episode

LAYER_FEATURES = (
    "sparsity",
    "clustered",
    "unclustered",
    "crossbars",
    "utilization",
    "threshold",
    "crossbar_size",
)
RESOLUTION = 2.0**-10  # observation features are multiples of this (exact in float32)
GLOBAL_FEATURES = ("accuracy_margin", "cost", "area", "energy", "step_fraction", "loss_fell")


@dataclass
class LayerView:
    """What the observation needs to know about one layer."""

    sparsity: float
    clustered: float
    unclustered: float
    crossbars: int
    dense_crossbars: int
    utilization: float
    threshold: float
    weight_scale: float
    crossbar_size: int


def feature_names(n_layers: int, action_names: Sequence[str]) -> list[str]:
    """A name for every entry of the observation vector."""
    names = [f"{f}{i}" for i in range(n_layers) for f in LAYER_FEATURES]
    return names + list(GLOBAL_FEATURES) + [f"last_{a}" for a in action_names]


def observation_size(n_layers: int, n_action_components: int) -> int:
    return n_layers * len(LAYER_FEATURES) + len(GLOBAL_FEATURES) + n_action_components


def build_observation(
    layers: Sequence[LayerView],
    sizes: Sequence[int],
    accuracy_margin: float,
    cost: float,
    area: float,
    energy: float,
    step_fraction: float,
    loss_fell: bool,
    last_action: np.ndarray | None,
    nvec: np.ndarray,
) -> np.ndarray:
    """Assemble the observation vector (float32, every entry in [-1, 1] and a multiple of
    :data:`RESOLUTION`)."""
    lo, hi = min(sizes), max(sizes)
    span = math.log2(hi / lo) if hi > lo else 1.0
    feats: list[float] = []
    for v in layers:
        feats += [
            v.sparsity,
            v.clustered,
            v.unclustered,
            v.crossbars / max(1, v.dense_crossbars) / 2,
            v.utilization,
            v.threshold / (4 * v.weight_scale) if v.weight_scale > 0 else 0.0,
            math.log2(v.crossbar_size / lo) / span if hi > lo else 0.0,
        ]
    feats += [
        accuracy_margin / 0.05,
        cost / 2,
        area / 2,
        energy / 2,
        step_fraction,
        float(loss_fell),
    ]
    last = np.zeros(len(nvec)) if last_action is None else last_action / np.maximum(nvec - 1, 1)
    obs = np.concatenate([np.asarray(feats, dtype=np.float64), last])
    obs = np.clip(np.nan_to_num(obs, nan=0.0), -1.0, 1.0)
    return (np.round(obs / RESOLUTION) * RESOLUTION).astype(np.float32)


def observe(episode: Episode) -> np.ndarray:
    """The observation of ``episode``'s current network, from its latest measurement."""
    task, tr, m = episode.task, episode.network, episode.metrics
    cost, a = m["cost_obj"], m["assessment"]
    views = []
    sparsity, unclustered, in_clusters = a.sparsity, a.unclustered, a.in_clusters
    for i, mask in enumerate(a.masks):
        kept = max(1, int(np.count_nonzero(mask)))
        n = a.crossbar_sizes[i]
        dense = -(-mask.shape[0] // n) * -(-mask.shape[1] // n)
        views.append(
            LayerView(
                sparsity=sparsity[i],
                clustered=in_clusters[i] / kept,
                unclustered=unclustered[i],
                crossbars=cost.layers[i].n_crossbars,
                dense_crossbars=dense,
                utilization=cost.layers[i].utilization,
                threshold=tr.thresholds[i],
                weight_scale=task.weight_scale[i],
                crossbar_size=n,
            )
        )
    return build_observation(
        views,
        episode.config.crossbar_sizes,
        m["accuracy"] - task.floor,
        m["cost"],
        cost.area_mm2 / task.reference.area_mm2,
        cost.energy_nj / task.reference.energy_nj,
        episode.steps / task.horizon,
        episode.loss_fell,
        episode.last_action,
        episode.codec.nvec,
    )
