"""The paper's fixed TraNNsformer schedule's constants and offline clustering.

:class:`PaperSchedule` holds the released code's hand-tuned constants (docs/design.md
section 3): when clustering starts, when cluster pruning starts and how its
fraction grows, the threshold rates. The schedule itself exists only as a policy
(:class:`agents.rl.policies.ScheduleFollower`), which issues these decisions as
environment actions; the environment applies the per-epoch rules (loss gate,
settle test, growth of the cluster-pruning fraction, :mod:`tnf_env.transform.step_plan`).
The tests keep an independent per-iteration driver to check the policy against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .transformation import Transformation


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

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> PaperSchedule:
        return replace(self, **changes)


def offline_clustering(transformation: Transformation, quality: float = 0.7) -> int:
    """SCIC once on every layer of an already pruned network, no retraining.

    :return: the number of clusters found in all layers.
    """
    return sum(len(transformation.cluster(i, (quality,))) for i in range(transformation.n_layers))
