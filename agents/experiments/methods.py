"""Methods: each delivers a network for (seed, crossbar size) and declares its tuning budget.

A method is a small registered class. :meth:`Method.deliver` returns the network it
delivers for baseline seed ``s`` with the chip at crossbar size ``N`` (``N=None``: the
method chooses; by default the size of least validation cost), as an :class:`Outcome`
that the study scores through the one scoring path. :meth:`Method.budget` states what
it spends per seed (transformations x retraining epochs each), recorded in
``results.json``. Work several rows share goes through the study's :class:`~.study.Lab`,
which runs each schedule episode once per seed.

Adding a baseline is one class here (``@register``) and one test; ``reproduce`` and
``benchmark`` run it with ``--methods ... NAME``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .configs import RELEASE_PRUNING_RATE
from .episodes import Delivered, Episode, Experiment, Tuned, tune
from .tile_runs import tile_pruning

if TYPE_CHECKING:
    from .study import Lab

REGISTRY: dict[str, type[Method]] = {}
# Share of a layer's live crossbar tiles a round of ``tiles`` removes at grid multiple 1:
# over 12 rounds the grid's 0.5, 1 and 2 keep about 54%, 28% and 7% of the tiles.
TILE_FRACTION = 0.1


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: make ``cls`` available by its ``name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"a method named {cls.name!r} is registered already")
    REGISTRY[cls.name] = cls
    return cls


def create(name: str, **options: Any) -> Method:
    """A registered method with its default options (or ``options``).

    :raises ValueError: no method of that name.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; registered: {', '.join(REGISTRY)}")
    return REGISTRY[name](**options)


@dataclass(frozen=True)
class Budget:
    """What a method spends per seed: ``runs`` transformations of ``epochs`` retraining
    epochs each (a grid point, a candidate), repeated per crossbar size if ``per_size``."""

    runs: int
    epochs: float
    per_size: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    """The network a method delivers for one row, and what scores it.

    :ivar spent: the tuning behind it, by what ran (one entry per tuning grid, shared by
        the rows that grid serves); their sum is the row's ``tuning_epochs``.
    """

    delivered: Delivered
    crossbar_size: int
    experiment: Experiment
    spent: dict[str, float] = field(default_factory=dict)

    def fields(self) -> dict[str, float]:
        """Extra entries of the row."""
        return {"tuning_epochs": sum(self.spent.values())} if self.spent else {}


class Method:
    """A way to get a network for (seed, crossbar size); subclasses set ``name`` and
    implement :meth:`at` (and :meth:`budget`).

    :param name: the name its rows carry (default: the class's registered name).
    """

    name: str = ""  # the rows' name (an instance may carry another)
    after: ClassVar[tuple[str, ...]] = ()  # methods whose work this one reuses (run first)
    chooses_size: ClassVar[bool] = False  # N=None is the method's own choice, not the lab's

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        raise NotImplementedError

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        """The lab episodes :meth:`at` will ask for (the lab runs them batched first)."""
        return []

    def needs(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        """The lab episodes :meth:`deliver` will ask for."""
        if n is not None or self.chooses_size:
            return self.episodes(lab, seed, n)
        return [ep for m in lab.sizes for ep in self.episodes(lab, seed, m)]

    def deliver(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        """The outcome at crossbar size ``n``; ``n=None``: the size of least validation
        cost among the lab's sizes (tuning of every size counted once)."""
        if n is not None or self.chooses_size:
            return self.at(lab, seed, n)
        outs = [self.at(lab, seed, m) for m in lab.sizes]
        best = min(outs, key=lambda o: lab.fixed.selection_key(o.delivered, seed,
                                                                o.crossbar_size))
        spent: dict[str, float] = {}
        for o in outs:
            spent.update(o.spent)
        return replace(best, spent=spent)

    def budget(self, lab: Lab) -> Budget:
        return Budget(0, 0.0)


def _grid(lab: Lab, kind: str, chip: int) -> list[Episode]:
    """The episodes of the ``kind`` schedule's rate-scale grid (chip at ``chip``)."""
    return [Episode(kind, chip, {"rate_scale": r}, record=True) for r in lab.grid]


def _tuned(lab: Lab, seed: int, kind: str, chip: int, sizes: Iterable[int]) -> Tuned:
    """The rate-scale grid of the ``kind`` schedule (chip at ``chip``), choosing per size."""
    return lab.memo(seed, ("tune", kind, chip), lambda: tune(
        lab.fixed, lambda r: lab.schedule(seed, kind, chip, r), lab.grid, seed, list(sizes)))


@register
class Original(Method):
    """The dense network, untouched (at the lab's first size when the size is open)."""

    name = "original"
    chooses_size = True

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        return Outcome(lab.original(seed), lab.sizes[0] if n is None else n, lab.fixed)


@register
class PruningTuned(Method):
    """The pruning-only schedule, its rate scale tuned on validation over the grid (one
    grid with the chip at the first size serves every size)."""

    name = "pruning"

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        t = _tuned(lab, seed, "pruning", lab.sizes[0], lab.sizes)
        return Outcome(t.chosen[n], n, lab.fixed, {"pruning": t.epochs})

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return _grid(lab, "pruning", lab.sizes[0])

    def budget(self, lab: Lab) -> Budget:
        return Budget(len(lab.grid), lab.episode_epochs, note="one grid for every size")


@register
class PruningRelease(Method):
    """The release's pruning run: ``max_steps`` steps at ``rate_factor`` x the rate scale
    (None: the episode's steps, the lab's rate scale)."""

    name = "pruning (release)"

    def __init__(self, max_steps: int | None = None, rate_factor: float | None = None) -> None:
        self.max_steps, self.rate_factor = max_steps, rate_factor

    @classmethod
    def of_release(cls, horizon: int, rate_factor: float = RELEASE_PRUNING_RATE
                   ) -> PruningRelease:
        """The release's constants: 2/3 of the episode's steps (its 40 of 60 epochs) at
        ``rate_factor`` x the rate scale."""
        return cls(max(1, round(horizon * 2 / 3)), rate_factor)

    def _rate(self, lab: Lab) -> float:
        return lab.rate_scale * (self.rate_factor or 1.0)

    def _episode(self, lab: Lab) -> Episode:
        steps = {} if self.max_steps is None else {"max_steps": self.max_steps}
        return Episode("pruning", lab.sizes[0], {"rate_scale": self._rate(lab), **steps})

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        return Outcome(lab.episode(seed, self._episode(lab)), n, lab.fixed)

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return [self._episode(lab)]

    def budget(self, lab: Lab) -> Budget:
        steps = self.max_steps or lab.horizon
        return Budget(1, steps * lab.step_epochs)


@register
class Offline(Method):
    """SCIC once on the tuned pruning network, without retraining."""

    name = "offline"
    after = ("pruning",)

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        pruned = lab.outcome(seed, "pruning", n)
        return Outcome(lab.fixed.offline(pruned.delivered, seed, n), n, lab.fixed, pruned.spent)

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return _grid(lab, "pruning", lab.sizes[0])  # pruning's, whose network it reuses

    def budget(self, lab: Lab) -> Budget:
        return Budget(0, 0.0, note="reuses pruning's network")


@register
class PaperTuned(Method):
    """TraNNsformer: the paper's schedule, its rate scale tuned on validation per size."""

    name = "paper"

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        t = _tuned(lab, seed, "paper", n, [n])
        return Outcome(t.chosen[n], n, lab.fixed, {f"paper N={n}": t.epochs})

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return _grid(lab, "paper", n)

    def budget(self, lab: Lab) -> Budget:
        return Budget(len(lab.grid), lab.episode_epochs, per_size=True)


@register
class TilesTuned(Method):
    """Crossbar-aware structured pruning (Liang et al. 2018; PIM-Prune, DAC 2020): rounds
    of removing each layer's N x N crossbar tiles of least weight norm, then retraining
    (:func:`.tile_runs.tile_pruning`), over the episode's steps and epochs. The share of
    the live tiles a round removes is ``fraction`` x each rate-grid multiple (the grid's
    rate scales over the lab's), capped at 1, tuned on validation per size.

    :param fraction: the per-round share at multiple 1, in (0, 1).
    """

    name = "tiles"

    def __init__(self, fraction: float = TILE_FRACTION) -> None:
        ok = isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
        if not ok or not 0 < fraction < 1:
            raise ValueError(f"invalid tile fraction {fraction!r}: allowed a number in (0, 1)")
        self.fraction = float(fraction)

    def share(self, lab: Lab, rate_scale: float) -> float:
        """The per-round share of grid point ``rate_scale``."""
        multiple = rate_scale / lab.rate_scale if lab.rate_scale > 0 else 0.0
        return min(1.0, self.fraction * multiple)

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        def run(r: float) -> Delivered:
            return tile_pruning(lab.fixed, seed, n, self.share(lab, r), lab.horizon,
                                lab.step_epochs, r, lab.points, self.name)

        t = lab.memo(seed, ("tune", self.name, self.fraction, n),
                     lambda: tune(lab.fixed, run, lab.grid, seed, [n]))
        return Outcome(t.chosen[n], n, lab.fixed, {f"{self.name} N={n}": t.epochs})

    def budget(self, lab: Lab) -> Budget:
        return Budget(len(lab.grid), lab.episode_epochs, per_size=True,
                      note=f"{self.fraction:g} x the grid's multiples of the live tiles a round")


@register
class PaperRelease(Method):
    """The paper's schedule at the lab's rate scale (the tuned grid's run when it has one)."""

    name = "paper (release)"
    after = ("paper",)

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        return Outcome(lab.episode(seed, *self.episodes(lab, seed, n)), n, lab.fixed)

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return [Episode("paper", n, {"rate_scale": lab.rate_scale}, record=True)]

    def budget(self, lab: Lab) -> Budget:
        return Budget(1, lab.episode_epochs, per_size=True)


@register
class RandomSearch(Method):
    """The cheapest on validation of ``candidates`` random schedules that share one
    episode's retraining; its row reports what all candidates spent."""

    name = "random"

    def __init__(self, candidates: int = 4) -> None:
        if candidates < 1:
            raise ValueError(f"random_candidates must be >= 1, got {candidates}")
        self.candidates = candidates

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return [Episode("random", n, {"retrain_epochs": lab.step_epochs / self.candidates},
                        policy_seed=1000 * seed + k) for k in range(self.candidates)]

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        exp = lab.fixed
        runs = [lab.episode(seed, ep) for ep in self.episodes(lab, seed, n)]
        best = min(runs, key=lambda d: exp.selection_key(d, seed, n))
        return Outcome(best, n, exp, {f"random N={n}": float(sum(d.epochs for d in runs))})

    def budget(self, lab: Lab) -> Budget:
        return Budget(self.candidates, lab.episode_epochs / self.candidates, per_size=True)


class LearnedPolicy(Method):
    """A trained policy (PPO), deterministic, in the learned experiment; with the size
    open it keeps the size the policy chooses.

    :param policy: the policy.
    :param name: its rows' name.
    """

    name = "ppo"
    chooses_size = True

    def __init__(self, policy, name: str | None = None) -> None:
        super().__init__(name)
        self.policy = policy

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        d = lab.learned.transform(self.policy, seed, n)
        return Outcome(d, d.crossbar_size if n is None else n, lab.learned)

    def budget(self, lab: Lab) -> Budget:
        return Budget(1, lab.episode_epochs, note="its training is counted apart")


class SearchedSchedule(Method):
    """The best constants a black-box search found (:class:`agents.search.blackbox.ScheduleParams`),
    at the crossbar size the search chose.

    :param params: the schedule's constants.
    :param name: its rows' name.
    """

    chooses_size = True

    def __init__(self, params, name: str) -> None:
        super().__init__(name)
        self.params = params

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        from ..search.blackbox import ParamSchedule

        p = self.params
        d = lab.fixed.transform(ParamSchedule(p), seed, p.crossbar_size, **p.env_overrides())
        return Outcome(d, p.crossbar_size, lab.fixed)

    def budget(self, lab: Lab) -> Budget:
        return Budget(1, lab.episode_epochs, note="its search is counted apart")


@register
class MagnitudeOneShot(Method):
    """Magnitude pruning without retraining: each layer of the dense network keeps its
    largest weights, as many as the tuned pruning network keeps there (no clusters). What
    retraining buys at the same sparsity; its row counts pruning's tuning, which set that
    sparsity."""

    name = "magnitude (no retraining)"
    after = ("pruning",)

    def at(self, lab: Lab, seed: int, n: int | None) -> Outcome:
        pruned = lab.outcome(seed, "pruning", n)
        net = copy.deepcopy(lab.original(seed).net)
        for i, (w, keep) in enumerate(zip(net.weights_numpy(),
                                          pruned.delivered.net.masks_numpy(), strict=True)):
            largest = np.argsort(-np.abs(w), axis=None, kind="stable")[: int(keep.sum())]
            mask = np.zeros(w.size, dtype=bool)
            mask[largest] = True
            net.set_mask(i, mask.reshape(w.shape))
        d = Delivered(net, [[] for _ in range(net.n_layers)], 0.0, 0,
                      pruned.delivered.rate_scale)
        return Outcome(d, n, lab.fixed, pruned.spent)

    def episodes(self, lab: Lab, seed: int, n: int | None) -> list[Episode]:
        return _grid(lab, "pruning", lab.sizes[0])  # pruning's, whose network it reuses

    def budget(self, lab: Lab) -> Budget:
        return Budget(0, 0.0, note="no retraining; pruning's network sets the sparsity")
