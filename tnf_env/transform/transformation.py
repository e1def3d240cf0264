"""The TraNNsformer steps on one network: prune, cluster, prune clusters, retrain.

Per weight layer the state is the weights ``W``, a pruning threshold, and a
list of clusters (dense blocks). The effective mask is

    mask = pmap OR cmap,   pmap = (|W| >= threshold) AND previous mask,
                           cmap = 1 on the whole block of every cluster,

so pruning only ever removes connections outside clusters, while a cluster
keeps its whole block — weights inside it may regrow during retraining (the
clusters' "reinforcement"). Each step is a method of :class:`Transformation`;
:meth:`Transformation.iterate` runs one TraNNsformer iteration from a
:class:`StepDecision`, which is what both the paper's fixed schedule and the
Gymnasium environment produce.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from hwmodel.clusters import Cluster, clusters_mask

from ..model.network import MaskedMLP
from ..model.torch_device import generator_on
from ..model.training import TrainingDiverged, TrainingRecipe, evaluate, make_optimizer, train_epoch
from .clustering import prune_clusters, scic_multi


@dataclass
class StepDecision:
    """What one TraNNsformer iteration does, layer by layer.

    :ivar retrain_epochs: epochs of retraining (fractions allowed) before pruning.
    :ivar threshold_steps: per layer, how much to raise the pruning threshold.
    :ivar gate_on_loss: raise thresholds only if the full training loss fell since
        the previous iteration (the released schedule's rule).
    :ivar cluster_qualities: per layer, the base qualities to try for (re)clustering
        the unclustered connections, first that finds clusters wins; empty: no clustering.
    :ivar cluster_prune: per layer, drop clusters scoring at most this fraction of the
        layer's best score; ``None``: no cluster pruning.
    """

    retrain_epochs: float
    threshold_steps: Sequence[float]
    gate_on_loss: bool = True
    cluster_qualities: Sequence[Sequence[float]] = ()
    cluster_prune: Sequence[float | None] = ()


@dataclass
class StepReport:
    """What an iteration did: loss before/after, thresholds and per-layer counts."""

    train_loss: float
    loss_fell: bool
    thresholds: list[float]
    new_clusters: list[int]
    dropped_clusters: list[int]
    sparsity: list[float]
    unclustered: list[float] = field(default_factory=list)


class Transformation:
    """A network being transformed, with the TraNNsformer steps as methods.

    :param net: the starting network (copied, never modified).
    :param x_train: training inputs (float32 tensor) for retraining and the loss rule.
    :param y_train: training labels.
    :param crossbar_sizes: crossbar size per layer; clusters are sized to fit it.
    :param recipe: training recipe for retraining (lr, momentum, batch, dropout, shifts).
    :param seed: seed of retraining's shuffling and dropout and of the clustering.
    :param initial_loss: the starting network's loss on the gate's images, if known.
    :param gate_data: the images and labels the loss gate measures the training loss on
        (None: the whole training set).
    :param epoch_share: share of ``x_train`` each retraining epoch visits, drawn afresh
        every epoch (a fidelity level's ``epoch_fraction``; 1: all of it).
    """

    def __init__(
        self,
        net: MaskedMLP,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        crossbar_sizes: Sequence[int],
        recipe: TrainingRecipe | None = None,
        seed: int = 0,
        initial_loss: float | None = None,
        gate_data: tuple[torch.Tensor, torch.Tensor] | None = None,
        epoch_share: float = 1.0,
    ) -> None:
        if not 0.0 < epoch_share <= 1.0:
            raise ValueError(f"epoch_share must be in (0, 1], got {epoch_share}")
        self.epoch_share = float(epoch_share)
        self.net = copy.deepcopy(net)
        self.net.eval()
        if len(crossbar_sizes) != self.net.n_layers:
            raise ValueError(
                f"need one crossbar size per layer ({self.net.n_layers}), got {len(crossbar_sizes)}"
            )
        self.crossbar_sizes = [int(n) for n in crossbar_sizes]
        self.x_train, self.y_train = x_train, y_train
        self.x_gate, self.y_gate = gate_data if gate_data is not None else (x_train, y_train)
        self.recipe = recipe or TrainingRecipe()
        self.seed = int(seed)
        self.net.to(x_train.device)
        self.generator = generator_on(x_train.device, self.seed)
        self.optimizer = make_optimizer(self.net, self.recipe)
        self.thresholds = [0.0] * self.net.n_layers
        self.clusters: list[list[Cluster]] = [[] for _ in range(self.net.n_layers)]
        # The starting network's training loss (callers that start often pass it in).
        self.last_loss = self.train_loss() if initial_loss is None else float(initial_loss)
        self.epochs_trained = 0.0
        self._cluster_calls = 0
        self.scic_runs = 0  # SCIC runs (one per quality tried), and calls skipped as futile
        self.scic_skipped = 0
        self.cluster_seconds = 0.0  # wall time spent in SCIC
        self._unclusterable: dict[int, tuple | None] = {}  # per layer: input known to fail
        self._cmaps: dict[int, tuple[tuple[Cluster, ...], np.ndarray]] = {}
        self.last_retrain_seconds = 0.0

    # -- views -------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.net.n_layers

    def weight(self, i: int) -> np.ndarray:
        """Layer ``i``'s weights as its crossbar matrix (outputs x inputs)."""
        return self.net.weight_matrix(i)

    def mask(self, i: int) -> np.ndarray:
        """Layer ``i``'s mask as its crossbar matrix, boolean."""
        return self.net.mask_matrix(i)

    def masks(self) -> list[np.ndarray]:
        return [self.mask(i) for i in range(self.n_layers)]

    def cmap(self, i: int) -> np.ndarray:
        """Boolean mask of layer ``i``'s cluster blocks (cached until its clusters change)."""
        held, cached = self._cmaps.get(i, ((), None))
        current = self.clusters[i]
        # The cache holds the cluster objects themselves, so identity comparison is safe.
        if (
            cached is None
            or len(held) != len(current)
            or any(a is not b for a, b in zip(held, current, strict=True))
        ):
            cached = clusters_mask(self.net.layer_specs[i].matrix_shape, current)
            cached.setflags(write=False)
            self._cmaps[i] = (tuple(current), cached)
        return cached

    def pmap(self, i: int) -> np.ndarray:
        """Connections kept by magnitude alone: ``|W| >= threshold`` within the current mask."""
        return (np.abs(self.weight(i)) >= self.thresholds[i]) & self.mask(i)

    def unclustered_fraction(self, i: int) -> float:
        """Share of the layer's cells kept but outside every cluster."""
        m = self.mask(i)
        return float(np.count_nonzero(m & ~self.cmap(i))) / m.size

    def sparsity(self) -> list[float]:
        return self.net.sparsity()

    def train_loss(self) -> float:
        """Training loss without dropout on the gate's images (the threshold rule's signal)."""
        return evaluate(self.net, self.x_gate, self.y_gate)[1]

    def snapshot(self) -> dict:
        """A copy of the state (weights, masks, clusters, thresholds) to :meth:`restore` later."""
        return {
            "net": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "clusters": [list(c) for c in self.clusters],
            "thresholds": list(self.thresholds),
        }

    def restore(self, snap: dict) -> None:
        self.net.load_state_dict(snap["net"])
        self.clusters = [list(c) for c in snap["clusters"]]
        self.thresholds = list(snap["thresholds"])

    # -- steps -------------------------------------------------------------
    def prune(self, i: int, threshold: float | None = None) -> None:
        """Magnitude-prune layer ``i`` at ``threshold`` (default: its current one).

        Cells outside clusters whose weight fell under the threshold are removed
        for good; every cluster block is (re)enabled whole.
        """
        if threshold is not None:
            if threshold < 0:
                raise ValueError(f"threshold must be >= 0, got {threshold}")
            self.thresholds[i] = float(threshold)
        self.net.set_mask(i, self.pmap(i) | self.cmap(i))

    def cluster(self, i: int, qualities: Sequence[float] = (0.7,)) -> list[Cluster]:
        """Cluster layer ``i``'s unclustered connections with SCIC; returns the new clusters."""
        cmap = self.cmap(i)
        free = self.mask(i) & ~cmap
        if not free.any():
            return []
        self._cluster_calls += 1  # every call moves the seed on, run or not
        n, qualities = self.crossbar_sizes[i], tuple(float(q) for q in qualities)
        h = hashlib.blake2b(np.packbits(free).tobytes(), digest_size=16)
        h.update(np.packbits(cmap).tobytes())
        key = (h.digest(), free.shape, n, qualities)
        if self._unclusterable.get(i) == key:
            # The last run on this very input found nothing without using its seed, so
            # any seed finds nothing: skip it.
            self.scic_skipped += 1
            return []
        stats: dict = {}
        t0 = time.perf_counter()
        new = scic_multi(
            free, n, qualities, stats=stats, seed=self.seed + self._cluster_calls, exclude=cmap
        )
        self.cluster_seconds += time.perf_counter() - t0
        self.scic_runs += stats.get("runs", 0)
        self._unclusterable[i] = key if not new and not stats.get("seeded") else None
        self.clusters[i].extend(new)
        if new:
            self.net.set_mask(i, self.mask(i) | self.cmap(i))
        return new

    def prune_clusters(self, i: int, fraction: float) -> list[Cluster]:
        """Drop layer ``i``'s clusters scoring at most ``fraction`` of its best, block and all.

        Score = block density x connections above the threshold (docs/design.md section 3,
        step 5), computed on the current weights. Returns the dropped clusters.
        """
        if not self.clusters[i]:
            return []
        above = np.abs(self.weight(i)) >= self.thresholds[i]
        kept = prune_clusters(self.clusters[i], above, fraction)
        kept_ids = {id(c) for c in kept}
        dropped = [c for c in self.clusters[i] if id(c) not in kept_ids]
        self.clusters[i] = list(kept)
        if dropped:
            # As in the release, a dropped cluster takes its whole block with it.
            mask = self.mask(i)
            for c in dropped:
                mask[np.ix_(c.outputs, c.inputs)] = False
            self.net.set_mask(i, mask | self.cmap(i))
        return dropped

    def retrain(self, epochs: float) -> float:
        """Train ``epochs`` epochs (a fraction allowed) with the masks applied; mean loss."""
        if epochs < 0:
            raise ValueError(f"retrain epochs must be >= 0, got {epochs}")
        losses, left = [], float(epochs)
        while left > 1e-9:
            frac = min(1.0, left)
            losses.append(
                train_epoch(
                    self.net,
                    self.optimizer,
                    self.x_train,
                    self.y_train,
                    self.recipe.batch_size,
                    self.generator,
                    fraction=frac * self.epoch_share,
                    augment_shift=self.recipe.augment_shift,
                )
            )
            left -= frac
        self.epochs_trained += float(epochs)
        return float(np.mean(losses)) if losses else float("nan")

    def check(self, decision: StepDecision) -> None:
        """Refuse a decision that does not fit this network (before any retraining)."""
        n = self.n_layers
        if len(decision.threshold_steps) != n:
            raise ValueError(f"StepDecision.threshold_steps needs {n} entries (one per layer)")

    def iterate(self, decision: StepDecision) -> StepReport:
        """One TraNNsformer iteration: retrain, raise thresholds, prune, cluster, prune clusters."""
        self.check(decision)
        t0 = time.perf_counter()
        self.retrain(decision.retrain_epochs)
        loss = self.train_loss()
        self.last_retrain_seconds = time.perf_counter() - t0
        return self.after_retrain(decision, loss)

    def after_retrain(self, decision: StepDecision, loss: float) -> StepReport:
        """The rest of an iteration once retrained: the loss gate, thresholds, pruning,
        clustering and cluster pruning (the batched environment retrains many networks
        together, then calls this on each).

        :param loss: the retrained network's full training loss.
        """
        n = self.n_layers
        if not np.isfinite(loss):
            raise TrainingDiverged(f"training loss became {loss}")
        fell = loss < self.last_loss
        self.last_loss = loss
        new, dropped = [0] * n, [0] * n
        for i in range(n):
            if fell or not decision.gate_on_loss:
                self.thresholds[i] += float(decision.threshold_steps[i])
            self.prune(i)
            if decision.cluster_qualities and decision.cluster_qualities[i]:
                new[i] = len(self.cluster(i, decision.cluster_qualities[i]))
            fraction = decision.cluster_prune[i] if decision.cluster_prune else None
            if fraction is not None:
                dropped[i] = len(self.prune_clusters(i, fraction))
        return StepReport(
            train_loss=loss,
            loss_fell=fell,
            thresholds=list(self.thresholds),
            new_clusters=new,
            dropped_clusters=dropped,
            sparsity=self.sparsity(),
            unclustered=[self.unclustered_fraction(i) for i in range(n)],
        )
