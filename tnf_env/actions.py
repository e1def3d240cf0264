"""The environment's action space and its meaning.

An action is a ``MultiDiscrete`` vector, per layer unless noted:

======================  =======================  ==========================================
component               choices                  meaning
======================  =======================  ==========================================
prune level (L)         ``prune_levels``         raise the threshold by level x the layer's
                                                 paper rate in every sub-iteration whose
                                                 loss fell (docs/design.md section 3, step 6)
cluster option (L)      ``CLUSTER_OPTIONS``      none / SCIC at 0.7 / SCIC at 0.7..0.4 at the
                                                 onset, then recluster when settled / only
                                                 recluster when settled (0.7..0.4)
cluster prune (L)       none or f0 = 0.005+0.01k drop clusters scoring <= f x the layer's
                                                 best; f = f0 + growth x improving epochs
                                                 since cluster pruning began
crossbar size (1|L)     index into the sizes     crossbar size of the chip (or of each layer)
cluster onset (1)       0 .. k-1                 sub-iteration the cluster options start at
cluster-prune onset (1) 0 .. k-1                 sub-iteration cluster pruning starts at
stop (1, optional)      0 / 1                    1 ends the episode before this step's work
======================  =======================  ==========================================

A step of ``k`` retraining epochs runs ``k`` one-epoch sub-iterations under the
same action (:mod:`tnf_env.transform.step_plan`), with the loss gate, the settle test and
the growth of f applied per sub-iteration, so coarse steps do not change the
algorithm; the two onset components exist only when ``k > 1``.
``prune_levels`` defaults to ``PRUNE_LEVELS`` (the ``prune_levels`` setting).
The paper's fixed schedule is a policy in this space (:meth:`ActionCodec.encode`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from hwmodel.crossbar_size import check_crossbar_size

from .settings import PRUNE_LEVELS
from .transform.step_plan import CLUSTER_OPTIONS, StepPlan

CLUSTER_PRUNE_BASE, CLUSTER_PRUNE_STEP, CLUSTER_PRUNE_CHOICES = 0.005, 0.01, 16
# Component names without their layer index.
ACTION_GROUPS = (
    "prune", "cluster", "cluster_prune", "crossbar", "cluster_onset", "cluster_prune_onset", "stop"
)


class InvalidAction(ValueError):
    """An action outside the action space (:meth:`ActionCodec.check`).

    :ivar reason: what is wrong with it, without the action itself (for callers that name
        the action their own way, e.g. a state document's ``actions[k]``).
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def action_group(name: str) -> str:
    """The group of an action component's name (``cluster_prune1`` -> ``cluster_prune``)."""
    return name.rstrip("0123456789")


@dataclass
class DecodedAction:
    """An action in plain terms."""

    prune_levels: list[float]
    cluster_options: list[str]  # per layer, a key of CLUSTER_OPTIONS
    cluster_prune: list[float | None]  # per layer the starting fraction f0, None: off
    crossbar_sizes: list[int]
    stop: bool = False
    cluster_onset: int = 0
    cluster_prune_onset: int = 0

    def plan(
        self,
        unit_rates: Sequence[float],
        sub_epochs: Sequence[float],
        gate: bool,
        settle_tolerance: float,
        cluster_prune_growth: float,
    ) -> StepPlan:
        """The step this action asks for, with the environment's per-epoch rules."""
        return StepPlan(
            sub_epochs=tuple(sub_epochs),
            threshold_steps=[lv * r for lv, r in zip(self.prune_levels, unit_rates, strict=True)],
            gate_on_loss=gate,
            cluster_options=list(self.cluster_options),
            cluster_onset=self.cluster_onset,
            cluster_prune=list(self.cluster_prune),
            cluster_prune_onset=self.cluster_prune_onset,
            settle_tolerance=settle_tolerance,
            cluster_prune_growth=cluster_prune_growth,
        )


class ActionCodec:
    """Converts between ``MultiDiscrete`` actions and :class:`DecodedAction`.

    :param n_layers: weight layers of the network.
    :param crossbar_sizes: the sizes the agent may choose from.
    :param per_layer_crossbar: one size per layer instead of one for the chip.
    :param allow_stop: include the stop component (last); without it episodes run to the end.
    :param prune_levels: the prune levels to choose from (default ``PRUNE_LEVELS``).
    :param sub_iterations: one-epoch sub-iterations per step; above 1 the action gains the
        two onset components.
    """

    def __init__(
        self,
        n_layers: int,
        crossbar_sizes: Sequence[int],
        per_layer_crossbar: bool = False,
        allow_stop: bool = False,
        prune_levels: Sequence[float] = PRUNE_LEVELS,
        sub_iterations: int = 1,
    ) -> None:
        self.n_layers = n_layers
        self.prune_levels = tuple(float(x) for x in prune_levels)
        self.allow_stop = allow_stop
        self.sizes = tuple(int(n) for n in crossbar_sizes)
        self.n_size_slots = n_layers if per_layer_crossbar else 1
        self.sub_iterations = int(sub_iterations)
        self.n_onset_slots = 2 if self.sub_iterations > 1 else 0
        onset = 1 if self.n_onset_slots else 0
        # (group, components, choices per component), in the order of the action array
        groups = (
            ("prune", n_layers, len(self.prune_levels)),
            ("cluster", n_layers, len(CLUSTER_OPTIONS)),
            ("cluster_prune", n_layers, CLUSTER_PRUNE_CHOICES + 1),
            ("crossbar", self.n_size_slots, len(self.sizes)),
            ("cluster_onset", onset, self.sub_iterations),
            ("cluster_prune_onset", onset, self.sub_iterations),
            ("stop", int(allow_stop), 2),
        )
        self._slots: dict[str, slice] = {}
        at, nvec = 0, []
        for group, count, choices in groups:
            self._slots[group] = slice(at, at + count)
            at += count
            nvec += [choices] * count
        self.nvec = np.array(nvec, dtype=np.int64)
        self.space = spaces.MultiDiscrete(self.nvec)

    def slots(self, group: str) -> slice:
        """Where the components of ``group`` (one of :data:`ACTION_GROUPS`) lie in an action
        array; an empty slice when this space has none (no onsets, no stop).

        Everything outside the codec addresses components by name through this, so the
        layout of the array is known in one place.
        """
        try:
            return self._slots[group]
        except KeyError:
            raise ValueError(f"no action group {group!r}; the groups are {ACTION_GROUPS}") from None

    def with_group(self, action, group: str, index: int) -> np.ndarray:
        """A copy of ``action`` with every component of ``group`` set to choice ``index``."""
        a = np.array(action, dtype=np.int64)
        a[self.slots(group)] = index
        return a

    def with_size(self, action, index: int) -> np.ndarray:
        """A copy of ``action`` whose chip uses crossbar size ``self.sizes[index]``."""
        return self.with_group(action, "crossbar", index)

    def names(self) -> list[str]:
        """A name per action component, for logs and the observation's last-action part."""
        out: list[str] = []
        for group in ACTION_GROUPS:
            k = self._slots[group]
            count = k.stop - k.start
            per_layer = group in ("prune", "cluster", "cluster_prune", "crossbar")
            out += [f"{group}{i}" for i in range(count)] if per_layer else [group] * count
        return out

    def check(self, action) -> np.ndarray:
        """The one validation of an action: ``action`` as an int64 array of this space, each
        component in range (checked before the conversion, so an integer of any size is
        named as given).

        Whole-number floats are accepted (some learners emit them).

        :raises InvalidAction: the wrong length or type, or a component out of its range.
        """
        items: Sequence | None
        if isinstance(action, np.ndarray):
            items = list(action) if action.dtype == object and action.ndim == 1 else None
        else:
            items = action if isinstance(action, (list, tuple)) else None
        python_ints = items is not None and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
        )
        try:
            # Python integers stay Python integers until their range is checked: numpy
            # would turn one beyond int64 into a float (or an object array).
            a = np.array(items, dtype=object) if python_ints else np.asarray(action)
        except (ValueError, TypeError):  # ragged nested lists
            a = np.asarray(None)
        if python_ints and a.shape == self.nvec.shape:
            pass
        elif (
            a.shape != self.nvec.shape
            or not np.issubdtype(a.dtype, np.integer)
            and not (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)))
        ):
            shown = " ".join(repr(action).split())
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            reason = (f"expected {self.nvec.size} integers, "
                      f"component k in [0, {self.nvec.tolist()}[k])")
            raise InvalidAction(f"invalid action {shown}: {reason}", reason)
        # The range is checked in the action's own dtype: a uint64 or a float beyond int64
        # would wrap (or turn into INT64_MIN) in the conversion and be named as another value.
        out = (a < 0) | (a >= self.nvec)
        if out.any():
            k = int(np.flatnonzero(out)[0])
            value = a[k].item() if isinstance(a[k], np.generic) else a[k]
            reason = (f"component {k} ({self.names()[k]}) is {value!r}, "
                      f"allowed 0..{self.nvec[k] - 1}")
            raise InvalidAction(f"invalid action: {reason}", reason)
        return a.astype(np.int64)

    def decode(self, action) -> DecodedAction:
        a = self.check(action)
        part = {g: a[self._slots[g]] for g in ACTION_GROUPS}
        options = list(CLUSTER_OPTIONS)
        sizes = [self.sizes[k] for k in part["crossbar"]]
        if self.n_size_slots == 1:
            sizes = sizes * self.n_layers
        return DecodedAction(
            prune_levels=[self.prune_levels[k] for k in part["prune"]],
            cluster_options=[options[k] for k in part["cluster"]],
            cluster_prune=[
                None if k == 0 else CLUSTER_PRUNE_BASE + CLUSTER_PRUNE_STEP * (k - 1)
                for k in part["cluster_prune"]
            ],
            crossbar_sizes=sizes,
            stop=bool(part["stop"].any()),
            cluster_onset=int(part["cluster_onset"].sum()),
            cluster_prune_onset=int(part["cluster_prune_onset"].sum()),
        )

    def encode(self, action: DecodedAction) -> np.ndarray:
        """The action array of ``action`` (the inverse of :meth:`decode`).

        :raises ValueError: when ``action`` is not representable in this space.
        """
        part: dict[str, list[int]] = {
            "prune": [_index(self.prune_levels, float(lv), "prune level")
                      for lv in action.prune_levels],
            "cluster": [_index(list(CLUSTER_OPTIONS), opt, "cluster option")
                        for opt in action.cluster_options],
            "cluster_prune": [],
        }
        for f in action.cluster_prune:
            k = 0 if f is None else int(round((f - CLUSTER_PRUNE_BASE) / CLUSTER_PRUNE_STEP)) + 1
            if not 0 <= k <= CLUSTER_PRUNE_CHOICES:
                raise ValueError(
                    f"cluster-prune fraction {f} is outside the action space "
                    f"(at most {_max_cluster_prune():.3f})"
                )
            part["cluster_prune"].append(k)
        sizes = list(action.crossbar_sizes)[: self.n_size_slots]
        part["crossbar"] = [self.sizes.index(check_crossbar_size(n, self.sizes)) for n in sizes]
        onsets = {("cluster_onset", "cluster onset"): action.cluster_onset,
                  ("cluster_prune_onset", "cluster-prune onset"): action.cluster_prune_onset}
        if self.n_onset_slots:
            for (group, what), k in onsets.items():
                if not 0 <= k < self.sub_iterations:
                    raise ValueError(f"{what} {k} is outside 0..{self.sub_iterations - 1}")
                part[group] = [int(k)]
        elif any(onsets.values()):
            raise ValueError("this action space has no onsets (one sub-iteration per step)")
        if self.allow_stop:
            part["stop"] = [int(action.stop)]
        elif action.stop:
            raise ValueError("this action space has no stop component (allow_stop=False)")
        a = np.zeros(self.nvec.size, dtype=np.int64)
        for group, values in part.items():
            where = self.slots(group)
            if len(values) != where.stop - where.start:
                raise ValueError(
                    f"{len(values)} {group} value(s) for {where.stop - where.start} component(s)"
                )
            a[where] = values
        return a


def _max_cluster_prune() -> float:
    return CLUSTER_PRUNE_BASE + CLUSTER_PRUNE_STEP * (CLUSTER_PRUNE_CHOICES - 1)


def _index(options: Sequence, value, what: str) -> int:
    for k, opt in enumerate(options):
        if opt == value or (
            isinstance(opt, float) and isinstance(value, float) and abs(opt - value) < 1e-9
        ):
            return k
    raise ValueError(f"{what} {value!r} is not one of {list(options)}")
