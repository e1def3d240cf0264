"""Methods: each delivers a network for (seed, crossbar size) and declares its tuning budget.

A method is a small registered class. :meth:`Method.deliver` returns the network it
delivers for baseline seed ``s`` with the chip at crossbar size ``N`` (``N=None``: the
method chooses; by default the size of least validation cost), as a :class:`MethodResult`
that the study scores through the one scoring path. :meth:`Method.budget` states what
it spends per seed (transformations x retraining epochs each), recorded in
``results.json``. Work several rows share goes through the study's
:class:`~.study.StudyContext`, which runs each schedule episode and each tuned grid once
per seed; a method that reuses another's network (``offline`` and ``magnitude`` reuse the
tuned pruning network) asks the context for that tuned grid, not the other method.

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
from .episodes import DeliveredNetwork, ScheduleRequest, TunedGrid, tune
from .tile_runs import tile_pruning

if TYPE_CHECKING:
    from .study import StudyContext

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
class MethodResult:
    """What a method hands the study for one row: the delivered network and the crossbar
    size the row scores it at (a network may serve several rows: pruning's one grid serves
    every size).

    :ivar spent: the tuning behind it, by what ran (one entry per tuning grid, shared by
        the rows that grid serves); their sum is the row's ``tuning_epochs``.
    """

    delivered: DeliveredNetwork
    crossbar_size: int
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
    chooses_size: ClassVar[bool] = False  # N=None is the method's own choice, not the study's
    learned: ClassVar[bool] = False  # its networks come from the learned policies' runner
    # a fixed schedule tuned on validation: a candidate for compare's best-fixed reference
    tuned_fixed: ClassVar[bool] = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        raise NotImplementedError

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        """The schedule episodes :meth:`at` will ask the context for (it runs them batched
        first)."""
        return []

    def needs(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        """The schedule episodes :meth:`deliver` will ask the context for."""
        if n is not None or self.chooses_size:
            return self.episodes(ctx, seed, n)
        return [ep for m in ctx.sizes for ep in self.episodes(ctx, seed, m)]

    def deliver(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        """The result at crossbar size ``n``; ``n=None``: the size of least validation
        cost among the study's sizes (tuning of every size counted once)."""
        if n is not None or self.chooses_size:
            return self.at(ctx, seed, n)
        outs = [self.at(ctx, seed, m) for m in ctx.sizes]
        best = min(outs, key=lambda o: ctx.fixed.selection_key(o.delivered, seed,
                                                                o.crossbar_size))
        spent: dict[str, float] = {}
        for o in outs:
            spent.update(o.spent)
        return replace(best, spent=spent)

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(0, 0.0)


def _grid(ctx: StudyContext, kind: str, chip: int) -> list[ScheduleRequest]:
    """The episodes of the ``kind`` schedule's rate-scale grid (chip at ``chip``)."""
    return [ScheduleRequest(kind, chip, {"rate_scale": r}, record=True) for r in ctx.grid]


def _tuned(ctx: StudyContext, seed: int, kind: str, chip: int,
           sizes: Iterable[int]) -> TunedGrid:
    """The rate-scale grid of the ``kind`` schedule (chip at ``chip``), choosing per size
    (run once per seed)."""
    return ctx.memo(seed, ("tune", kind, chip), lambda: tune(
        ctx.fixed, lambda r: ctx.schedule(seed, kind, chip, r), ctx.grid, seed, list(sizes)))


def _tuned_pruning(ctx: StudyContext, seed: int, n: int) -> MethodResult:
    """The tuned pruning network at crossbar size ``n``: one grid, with the chip at the
    study's first size, serves every size."""
    t = _tuned(ctx, seed, "pruning", ctx.sizes[0], ctx.sizes)
    return MethodResult(t.chosen[n], n, {"pruning": t.epochs})


@register
class Original(Method):
    """The dense network, untouched (at the study's first size when the size is open)."""

    name = "original"
    chooses_size = True

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        return MethodResult(ctx.original(seed), ctx.sizes[0] if n is None else n)


@register
class PruningTuned(Method):
    """The pruning-only schedule, its rate scale tuned on validation over the grid (one
    grid with the chip at the first size serves every size)."""

    name = "pruning"
    tuned_fixed = True

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        return _tuned_pruning(ctx, seed, n)

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return _grid(ctx, "pruning", ctx.sizes[0])

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(len(ctx.grid), ctx.episode_epochs, note="one grid for every size")


@register
class PruningRelease(Method):
    """The release's pruning run: ``max_steps`` steps at ``rate_factor`` x the rate scale
    (None: the episode's steps, the study's rate scale)."""

    name = "pruning (release)"

    def __init__(self, max_steps: int | None = None, rate_factor: float | None = None) -> None:
        self.max_steps, self.rate_factor = max_steps, rate_factor

    @classmethod
    def of_release(cls, horizon: int, rate_factor: float = RELEASE_PRUNING_RATE
                   ) -> PruningRelease:
        """The release's constants: 2/3 of the episode's steps (its 40 of 60 epochs) at
        ``rate_factor`` x the rate scale."""
        return cls(max(1, round(horizon * 2 / 3)), rate_factor)

    def _rate(self, ctx: StudyContext) -> float:
        return ctx.rate_scale * (self.rate_factor or 1.0)

    def _episode(self, ctx: StudyContext) -> ScheduleRequest:
        steps = {} if self.max_steps is None else {"max_steps": self.max_steps}
        return ScheduleRequest("pruning", ctx.sizes[0],
                               {"rate_scale": self._rate(ctx), **steps})

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        return MethodResult(ctx.episode(seed, self._episode(ctx)), n)

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return [self._episode(ctx)]

    def budget(self, ctx: StudyContext) -> Budget:
        steps = self.max_steps or ctx.horizon
        return Budget(1, steps * ctx.step_epochs)


@register
class OfflineClustering(Method):
    """SCIC once on the tuned pruning network, without retraining."""

    name = "offline"
    after = ("pruning",)

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        pruned = _tuned_pruning(ctx, seed, n)
        return MethodResult(ctx.fixed.offline(pruned.delivered, seed, n), n, pruned.spent)

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return _grid(ctx, "pruning", ctx.sizes[0])  # pruning's, whose network it reuses

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(0, 0.0, note="reuses pruning's network")


@register
class PaperTuned(Method):
    """TraNNsformer: the paper's schedule, its rate scale tuned on validation per size."""

    name = "paper"
    tuned_fixed = True

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        t = _tuned(ctx, seed, "paper", n, [n])
        return MethodResult(t.chosen[n], n, {f"paper N={n}": t.epochs})

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return _grid(ctx, "paper", n)

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(len(ctx.grid), ctx.episode_epochs, per_size=True)


@register
class TilesTuned(Method):
    """Crossbar-aware structured pruning (Liang et al. 2018; PIM-Prune, DAC 2020): rounds
    of removing each layer's N x N crossbar tiles of least weight norm, then retraining
    (:func:`.tile_runs.tile_pruning`), over the episode's steps and epochs. The share of
    the live tiles a round removes is ``fraction`` x each rate-grid multiple (the grid's
    rate scales over the study's), capped at 1, tuned on validation per size.

    :param fraction: the per-round share at multiple 1, in (0, 1).
    """

    name = "tiles"
    tuned_fixed = True

    def __init__(self, fraction: float = TILE_FRACTION) -> None:
        ok = isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
        if not ok or not 0 < fraction < 1:
            raise ValueError(f"invalid tile fraction {fraction!r}: allowed a number in (0, 1)")
        self.fraction = float(fraction)

    def share(self, ctx: StudyContext, rate_scale: float) -> float:
        """The per-round share of grid point ``rate_scale``."""
        multiple = rate_scale / ctx.rate_scale if ctx.rate_scale > 0 else 0.0
        return min(1.0, self.fraction * multiple)

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        def run(r: float) -> DeliveredNetwork:
            return tile_pruning(ctx.fixed, seed, n, self.share(ctx, r), ctx.horizon,
                                ctx.step_epochs, r, ctx.points, self.name)

        t = ctx.memo(seed, ("tune", self.name, self.fraction, n),
                     lambda: tune(ctx.fixed, run, ctx.grid, seed, [n]))
        return MethodResult(t.chosen[n], n, {f"{self.name} N={n}": t.epochs})

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(len(ctx.grid), ctx.episode_epochs, per_size=True,
                      note=f"{self.fraction:g} x the grid's multiples of the live tiles a round")


@register
class PaperRelease(Method):
    """The paper's schedule at the study's rate scale (the tuned grid's run when it has one)."""

    name = "paper (release)"
    after = ("paper",)

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        return MethodResult(ctx.episode(seed, *self.episodes(ctx, seed, n)), n)

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return [ScheduleRequest("paper", n, {"rate_scale": ctx.rate_scale}, record=True)]

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(1, ctx.episode_epochs, per_size=True)


@register
class RandomSearch(Method):
    """The cheapest on validation of ``candidates`` random schedules that share one
    episode's retraining; its row reports what all candidates spent."""

    name = "random"

    def __init__(self, candidates: int = 4) -> None:
        if candidates < 1:
            raise ValueError(f"random_candidates must be >= 1, got {candidates}")
        self.candidates = candidates

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return [ScheduleRequest("random", n,
                                {"retrain_epochs": ctx.step_epochs / self.candidates},
                                policy_seed=1000 * seed + k) for k in range(self.candidates)]

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        runs = [ctx.episode(seed, ep) for ep in self.episodes(ctx, seed, n)]
        best = min(runs, key=lambda d: ctx.fixed.selection_key(d, seed, n))
        return MethodResult(best, n, {f"random N={n}": float(sum(d.epochs for d in runs))})

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(self.candidates, ctx.episode_epochs / self.candidates, per_size=True)


class LearnedPolicy(Method):
    """A trained policy (PPO), deterministic, in the learned policies' runner (their own
    action space); with the size open it keeps the size the policy chooses.

    :param policy: the policy.
    :param name: its rows' name.
    """

    name = "ppo"
    chooses_size = True
    learned = True

    def __init__(self, policy, name: str | None = None) -> None:
        super().__init__(name)
        self.policy = policy

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        d = ctx.runner_of(self).transform(self.policy, seed, n)
        return MethodResult(d, d.crossbar_size if n is None else n)

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(1, ctx.episode_epochs, note="its training is counted apart")


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

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        from ..search.blackbox import ParamSchedule

        p = self.params
        d = ctx.fixed.transform(ParamSchedule(p), seed, p.crossbar_size, **p.env_overrides())
        return MethodResult(d, p.crossbar_size)

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(1, ctx.episode_epochs, note="its search is counted apart")


@register
class MagnitudeOneShot(Method):
    """Magnitude pruning without retraining: each layer of the dense network keeps its
    largest weights, as many as the tuned pruning network keeps there (no clusters). What
    retraining buys at the same sparsity; its row counts pruning's tuning, which set that
    sparsity."""

    name = "magnitude (no retraining)"
    after = ("pruning",)

    def at(self, ctx: StudyContext, seed: int, n: int | None) -> MethodResult:
        pruned = _tuned_pruning(ctx, seed, n)
        net = copy.deepcopy(ctx.original(seed).net)
        for i, (w, keep) in enumerate(zip(net.weights_numpy(),
                                          pruned.delivered.net.masks_numpy(), strict=True)):
            largest = np.argsort(-np.abs(w), axis=None, kind="stable")[: int(keep.sum())]
            mask = np.zeros(w.size, dtype=bool)
            mask[largest] = True
            net.set_mask(i, mask.reshape(w.shape))
        d = DeliveredNetwork(net, [[] for _ in range(net.n_layers)], 0.0, 0,
                             pruned.delivered.rate_scale)
        return MethodResult(d, n, pruned.spent)

    def episodes(self, ctx: StudyContext, seed: int, n: int | None) -> list[ScheduleRequest]:
        return _grid(ctx, "pruning", ctx.sizes[0])  # pruning's, whose network it reuses

    def budget(self, ctx: StudyContext) -> Budget:
        return Budget(0, 0.0, note="no retraining; pruning's network sets the sparsity")
