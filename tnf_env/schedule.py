"""The paper's fixed TraNNsformer schedule and the pruning-only baseline.

:class:`PaperSchedule` turns the released code's hand-tuned rules (docs/design.md
section 3) into one decision per iteration, computed only from the iteration
index and the reports of earlier iterations. That makes the schedule a policy:
:func:`run_schedule` drives a :class:`~tnf_env.transform.Transformation` with
it, and the Gymnasium environment's paper policy issues the same decisions as
actions, so both give the same network for the same seed.

Deviation from the released code: the "has the unclustered fraction settled?"
test of step 4 compares the two previous iterations' reports rather than the
current iteration's after-pruning value, so a decision never needs state the
decider cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import torch

from .training import evaluate
from .transform import StepDecision, StepReport, Transformation


@dataclass(frozen=True)
class PaperSchedule:
    """Constants of the released schedule, each a parameter (defaults: MNIST)."""

    epochs: int = 60  # E: iterations, one retraining epoch each (MNIST 60, SVHN 120, CIFAR 240)
    epochs_per_iteration: float = 1.0  # retraining per iteration (the release: one epoch)
    clustering: bool = True  # False gives the pruning-only baseline
    cluster_start: float = 0.2  # first SCIC of every layer at iteration round(0.2 E)
    base_quality: float = 0.7  # SCIC base quality of the first clustering
    recluster_qualities: tuple[float, ...] = (0.7, 0.6, 0.5, 0.4)  # tried in order later
    settle_tolerance: float = 0.05  # recluster once the unclustered share moves less than this
    cluster_prune_start: float = 0.8  # cluster pruning from iteration 0.8 E
    cluster_prune_initial: float = 0.005  # f: drop clusters scoring <= f x the layer's best
    cluster_prune_growth: float = 0.01  # f grows by this per iteration whose loss fell
    rate_epochs: float = 40.0  # rate_l = (rate_epochs / E) * rate_base * layer weight * scale
    rate_base: float = 0.001
    rate_scale: float = 1.0  # tuned on validation; the release's pruning runs use 0.5-0.7
    hidden_rate: float = 0.5  # layer weight of every layer but the last
    last_rate: float = 2.5  # layer weight of the output layer (5x)
    gate_on_loss: bool = True  # thresholds rise only in iterations whose training loss fell

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.epochs_per_iteration <= 0:
            raise ValueError("epochs_per_iteration must be > 0")
        for name in ("cluster_start", "cluster_prune_start"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a fraction of the epochs in [0, 1]")

    @classmethod
    def pruning_only(cls, epochs: int = 40, rate_scale: float = 0.7, **kw) -> PaperSchedule:
        """The release's pruning baseline (MNIST: 40 epochs at 0.7x the rate)."""
        return cls(epochs=epochs, rate_scale=rate_scale, clustering=False, **kw)

    def rates(self, n_layers: int) -> list[float]:
        """Per-layer threshold increment of an iteration whose loss fell."""
        unit = self.rate_epochs / self.epochs * self.rate_base * self.rate_scale
        return [unit * self.hidden_rate] * (n_layers - 1) + [unit * self.last_rate]

    @property
    def first_cluster_iteration(self) -> int:
        return int(round(self.cluster_start * self.epochs))

    @property
    def first_cluster_prune_iteration(self) -> int:
        return int(round(self.cluster_prune_start * self.epochs))

    def cluster_prune_fraction(self, history: Sequence[StepReport]) -> float:
        improving = sum(r.loss_fell for r in history[self.first_cluster_prune_iteration :])
        return self.cluster_prune_initial + self.cluster_prune_growth * improving

    def decide(self, iteration: int, history: Sequence[StepReport], n_layers: int) -> StepDecision:
        """The decision for ``iteration`` given the reports of the iterations before it."""
        qualities: list[tuple[float, ...]] = [()] * n_layers
        prune: list[float | None] = [None] * n_layers
        if self.clustering and iteration == self.first_cluster_iteration:
            qualities = [(self.base_quality,)] * n_layers
        elif self.clustering and iteration > self.first_cluster_iteration and len(history) >= 2:
            now, before = history[-1].unclustered, history[-2].unclustered
            qualities = [
                tuple(self.recluster_qualities)
                if abs(now[i] - before[i]) < self.settle_tolerance
                else ()
                for i in range(n_layers)
            ]
        if self.clustering and iteration >= self.first_cluster_prune_iteration:
            prune = [self.cluster_prune_fraction(history)] * n_layers
        return StepDecision(
            retrain_epochs=self.epochs_per_iteration,
            threshold_steps=self.rates(n_layers),
            gate_on_loss=self.gate_on_loss,
            cluster_qualities=qualities,
            cluster_prune=prune,
        )

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> PaperSchedule:
        return replace(self, **changes)


@dataclass
class ScheduleRun:
    """The history of a schedule run: one report per iteration."""

    schedule: PaperSchedule
    reports: list[StepReport] = field(default_factory=list)


def run_schedule(
    transformation: Transformation,
    schedule: PaperSchedule,
    progress: Callable[[int, StepReport], None] | None = None,
) -> ScheduleRun:
    """Drive ``transformation`` through ``schedule`` (modifies it in place).

    :param progress: called after each iteration with (iteration, report).
    """
    run = ScheduleRun(schedule)
    for it in range(schedule.epochs):
        decision = schedule.decide(it, run.reports, transformation.n_layers)
        report = transformation.iterate(decision)
        run.reports.append(report)
        if progress is not None:
            progress(it, report)
    return run


class ValidationSelector:
    """Model selection on validation: remember the latest iteration meeting the floor.

    Use it as (part of) :func:`run_schedule`'s progress callback; :meth:`finish`
    restores that iteration's network if the final one misses the floor. The test
    split is never looked at.

    :param floor: the validation accuracy a network must reach to count.
    """

    def __init__(
        self,
        transformation: Transformation,
        x_val: torch.Tensor,
        y_val: torch.Tensor,
        floor: float,
    ) -> None:
        self.tr, self.x_val, self.y_val, self.floor = transformation, x_val, y_val, floor
        self.best: tuple[int, dict] | None = None
        self.last_accuracy = evaluate(transformation.net, x_val, y_val)[0]
        if self.last_accuracy >= floor:
            self.best = (-1, transformation.snapshot())

    def __call__(self, iteration: int, report: StepReport) -> None:
        self.last_accuracy = evaluate(self.tr.net, self.x_val, self.y_val)[0]
        if self.last_accuracy >= self.floor:
            self.best = (iteration, self.tr.snapshot())

    def finish(self, iterations: int) -> int:
        """Restore the selected iteration if needed; returns its number of iterations run."""
        if self.last_accuracy >= self.floor or self.best is None:
            return iterations
        it, snap = self.best
        self.tr.restore(snap)
        return it + 1


def offline_clustering(transformation: Transformation, quality: float = 0.7) -> int:
    """SCIC once on every layer of an already pruned network, no retraining.

    :return: the number of clusters found in all layers.
    """
    return sum(len(transformation.cluster(i, (quality,))) for i in range(transformation.n_layers))
