"""The environment's action space and its meaning.

An action is a ``MultiDiscrete`` vector, per layer unless noted:

====================  =======================  ============================================
component             choices                  meaning
====================  =======================  ============================================
prune level (L)       ``prune_levels``         raise the threshold by level x the layer's
                                               paper rate (DESIGN.md section 3, step 6)
cluster option (L)    ``CLUSTER_OPTIONS``      none / SCIC at 0.7 / SCIC at 0.7..0.4 on the
                                               connections left outside clusters
cluster prune (L)     none or f = 0.005+0.01k  drop clusters scoring <= f x the layer's best
crossbar size (1|L)   index into the sizes     crossbar size of the chip (or of each layer)
stop (1, optional)    0 / 1                    1 ends the episode before this step's work
====================  =======================  ============================================

``prune_levels`` defaults to ``PRUNE_LEVELS`` (the ``prune_levels`` setting).
The paper's fixed schedule uses prune level 1, cluster options 1 and 2 and
cluster-prune levels, so it is a policy in this space (:meth:`ActionCodec.encode`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from .transform import StepDecision

PRUNE_LEVELS = (0.0, 0.5, 1.0, 2.0, 4.0)
CLUSTER_OPTIONS: tuple[tuple[float, ...], ...] = ((), (0.7,), (0.7, 0.6, 0.5, 0.4))
CLUSTER_PRUNE_BASE, CLUSTER_PRUNE_STEP, CLUSTER_PRUNE_CHOICES = 0.005, 0.01, 16
ACTION_GROUPS = ("prune", "cluster", "cluster_prune", "crossbar", "stop")  # names sans layer index


def action_group(name: str) -> str:
    """The group of an action component's name (``cluster_prune1`` -> ``cluster_prune``)."""
    return name.rstrip("0123456789")


@dataclass
class DecodedAction:
    """An action in plain terms."""

    prune_levels: list[float]
    cluster_qualities: list[tuple[float, ...]]
    cluster_prune: list[float | None]
    crossbar_sizes: list[int]
    stop: bool

    def decision(self, unit_rates: Sequence[float], epochs: float, gate: bool) -> StepDecision:
        return StepDecision(
            retrain_epochs=epochs,
            threshold_steps=[lv * r for lv, r in zip(self.prune_levels, unit_rates, strict=True)],
            gate_on_loss=gate,
            cluster_qualities=self.cluster_qualities,
            cluster_prune=self.cluster_prune,
        )


class ActionCodec:
    """Converts between ``MultiDiscrete`` actions and :class:`DecodedAction`.

    :param n_layers: weight layers of the network.
    :param crossbar_sizes: the sizes the agent may choose from.
    :param per_layer_crossbar: one size per layer instead of one for the chip.
    :param allow_stop: include the stop component (last); without it episodes run to the end.
    :param prune_levels: the prune levels to choose from (default ``PRUNE_LEVELS``).
    """

    def __init__(
        self,
        n_layers: int,
        crossbar_sizes: Sequence[int],
        per_layer_crossbar: bool = False,
        allow_stop: bool = True,
        prune_levels: Sequence[float] = PRUNE_LEVELS,
    ) -> None:
        self.n_layers = n_layers
        self.prune_levels = tuple(float(x) for x in prune_levels)
        self.allow_stop = allow_stop
        self.sizes = tuple(int(n) for n in crossbar_sizes)
        self.n_size_slots = n_layers if per_layer_crossbar else 1
        self.nvec = np.array(
            [len(self.prune_levels)] * n_layers
            + [len(CLUSTER_OPTIONS)] * n_layers
            + [CLUSTER_PRUNE_CHOICES + 1] * n_layers
            + [len(self.sizes)] * self.n_size_slots
            + [2] * allow_stop,
            dtype=np.int64,
        )
        self.space = spaces.MultiDiscrete(self.nvec)

    def names(self) -> list[str]:
        """A name per action component, for logs and the observation's last-action part."""
        L = range(self.n_layers)
        return (
            [f"prune{i}" for i in L]
            + [f"cluster{i}" for i in L]
            + [f"cluster_prune{i}" for i in L]
            + [f"crossbar{i}" for i in range(self.n_size_slots)]
            + ["stop"] * self.allow_stop
        )

    def check(self, action) -> np.ndarray:
        a = np.asarray(action)
        if (
            a.shape != self.nvec.shape
            or not np.issubdtype(a.dtype, np.integer)
            and not (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)))
        ):
            raise ValueError(
                f"invalid action {action!r}: expected {self.nvec.size} integers, "
                f"component k in [0, {self.nvec.tolist()}[k])"
            )
        a = a.astype(np.int64)
        out = (a < 0) | (a >= self.nvec)
        if out.any():
            k = int(np.flatnonzero(out)[0])
            raise ValueError(
                f"invalid action: component {k} ({self.names()[k]}) is {a[k]}, "
                f"allowed 0..{self.nvec[k] - 1}"
            )
        return a

    def decode(self, action) -> DecodedAction:
        a = self.check(action)
        L = self.n_layers
        prune = [self.prune_levels[k] for k in a[:L]]
        clus = [CLUSTER_OPTIONS[k] for k in a[L : 2 * L]]
        cprune = [
            None if k == 0 else CLUSTER_PRUNE_BASE + CLUSTER_PRUNE_STEP * (k - 1)
            for k in a[2 * L : 3 * L]
        ]
        size_idx = a[3 * L : 3 * L + self.n_size_slots]
        sizes = [self.sizes[k] for k in size_idx]
        if self.n_size_slots == 1:
            sizes = sizes * L
        return DecodedAction(prune, clus, cprune, sizes, self.allow_stop and bool(a[-1]))

    def encode(
        self,
        decision: StepDecision,
        unit_rates: Sequence[float],
        crossbar_sizes: Sequence[int],
        stop: bool = False,
    ) -> np.ndarray:
        """The action that makes the environment take ``decision`` (the inverse of decode).

        :raises ValueError: when the decision is not representable in this space.
        """
        L = self.n_layers
        a = []
        for step, unit in zip(decision.threshold_steps, unit_rates, strict=True):
            level = step / unit if unit > 0 else 0.0
            a.append(_index(self.prune_levels, level, "prune level"))
        quals = list(decision.cluster_qualities) or [()] * L
        a += [_index(CLUSTER_OPTIONS, tuple(q), "cluster option") for q in quals]
        for f in list(decision.cluster_prune) or [None] * L:
            k = 0 if f is None else int(round((f - CLUSTER_PRUNE_BASE) / CLUSTER_PRUNE_STEP)) + 1
            if not 0 <= k <= CLUSTER_PRUNE_CHOICES:
                raise ValueError(
                    f"cluster-prune fraction {f} is outside the action space "
                    f"(at most {_max_cluster_prune():.3f})"
                )
            a.append(k)
        sizes = list(crossbar_sizes)[: self.n_size_slots]
        a += [_index(self.sizes, n, "crossbar size") for n in sizes]
        if self.allow_stop:
            a.append(int(stop))
        elif stop:
            raise ValueError("this action space has no stop component (allow_stop=False)")
        return np.array(a, dtype=np.int64)


def _max_cluster_prune() -> float:
    return CLUSTER_PRUNE_BASE + CLUSTER_PRUNE_STEP * (CLUSTER_PRUNE_CHOICES - 1)


def _index(options: Sequence, value, what: str) -> int:
    for k, opt in enumerate(options):
        if opt == value or (
            isinstance(opt, float) and isinstance(value, float) and abs(opt - value) < 1e-9
        ):
            return k
    raise ValueError(f"{what} {value!r} is not one of {list(options)}")
