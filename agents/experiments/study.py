"""One study runner: seeds x crossbar sizes x methods, resumable seed by seed.

A :class:`Study` runs every method (:mod:`.methods`) on every seed and crossbar size of its
:class:`StudyContext` and scores each delivered network through the one scoring path
(:meth:`agents.experiments.episodes.EpisodeRunner.score`), so one method, seed, size and
budget give the same row in every command. Per seed, methods deliver in the study's order
except that a method runs after those whose work it reuses (``Method.after``: ``offline``
after ``pruning``), and each schedule episode runs once (the tuned grid's run at the
release's rate scale is the release row's network).

With a journal (``study.jsonl`` in the output directory) every finished seed's rows are
appended and synced; a study killed at any moment and started again with the same
settings (``--resume``) goes on after its last finished seed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.outputs import JOURNAL, Journal
from ..common.progress import around_bars, progress_bar, show
from .delivery import delivery_warning
from .episodes import DeliveredNetwork, EpisodeJob, EpisodeRunner, ScheduleRequest
from .frontier import StepRecorder
from .methods import Method, MethodResult

__all__ = ["JOURNAL", "Study", "StudyContext", "StudyResult", "delivery_order"]


class StudyContext:
    """What the methods of one study share (the episode runners, sizes, rate grid and
    budget per episode), and per seed the work already done: each schedule episode and
    each tuned grid runs once per seed, whichever methods ask for it.

    :param fixed: the runner of the fixed schedules (``prune_unit="paper"``).
    :param sizes: the crossbar sizes of the study.
    :param grid: the rate scales tuned methods try.
    :param rate_scale: the release's rate scale (the environment's).
    :param horizon: steps per episode.
    :param step_epochs: retraining epochs per step.
    :param learned: the runner of learned policies (their own action space).
    :param points: where tuned schedule runs record every step (None: not recorded).
    :param batch: episodes of one seed run at once, their networks retrained as one batched
        computation (1: one after the other; every batch >= 2 gives the same rows, which
        equal batch 1's in float64 but not in float32, where the stacked products round
        differently).
    """

    def __init__(self, fixed: EpisodeRunner, sizes: Sequence[int], grid: Sequence[float],
                 rate_scale: float, horizon: int, step_epochs: float,
                 learned: EpisodeRunner | None = None, points: list[dict] | None = None,
                 batch: int = 1) -> None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"invalid episode batch {batch!r}: allowed an integer >= 1")
        self.fixed, self.learned = fixed, learned
        self.sizes, self.grid = tuple(sizes), list(grid)
        self.rate_scale, self.horizon, self.step_epochs = rate_scale, horizon, step_epochs
        self.points, self.batch = points, batch
        self._memo: dict[int, dict[Any, Any]] = {}

    @property
    def episode_epochs(self) -> float:
        return self.horizon * self.step_epochs

    def memo(self, seed: int, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per seed and key."""
        cache = self._memo.setdefault(seed, {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def forget(self, seed: int) -> None:
        self._memo.pop(seed, None)

    def runner_of(self, method: Method) -> EpisodeRunner:
        """The runner whose environments ``method``'s networks come from (and its rows are
        scored by): the learned policies' for a learned method, else the fixed schedules'.

        :raises ValueError: a learned method in a study without a learned runner.
        """
        if not method.learned:
            return self.fixed
        if self.learned is None:
            raise ValueError(f"method {method.name!r} runs a learned policy: the study needs "
                             "a runner of learned policies (StudyContext(learned=...))")
        return self.learned

    def original(self, seed: int) -> DeliveredNetwork:
        return self.memo(seed, "original", lambda: self.fixed.original(seed))

    def schedule(self, seed: int, kind: str, chip: int, rate_scale: float, record: bool = True,
                 **overrides: Any) -> DeliveredNetwork:
        """One episode of the ``kind`` schedule (``"paper"`` or ``"pruning"``) with the chip
        at ``chip`` (run once per seed and arguments); with ``record`` and the study's
        ``points``, every step is recorded (:class:`agents.experiments.frontier.StepRecorder`)."""
        return self.episode(seed, ScheduleRequest(
            kind, chip, {"rate_scale": rate_scale, **overrides}, record))

    def episode(self, seed: int, ep: ScheduleRequest) -> DeliveredNetwork:
        """The network the requested episode delivers on baseline ``seed`` (run once per
        seed)."""
        cache = self._memo.setdefault(seed, {})
        if ep.key not in cache:
            self.run_episodes(seed, [ep])
        return cache[ep.key]

    def run_episodes(self, seed: int, episodes: Sequence[ScheduleRequest]) -> None:
        """Run those of the requested ``episodes`` not run yet for ``seed``, :attr:`batch`
        at a time."""
        cache = self._memo.setdefault(seed, {})
        todo: dict[tuple, ScheduleRequest] = {}
        for ep in episodes:  # one run per key; recorded if any request records it
            prev = todo.get(ep.key)
            if ep.key not in cache and (prev is None or (ep.record and not prev.record)):
                todo[ep.key] = ep
        jobs, recorders = [], []
        for ep in todo.values():
            policy = ep.policy()
            rec = None
            if ep.record and self.points is not None:
                if ep.kind == "pruning":
                    sizes = self.sizes
                elif ep.chip is not None:
                    sizes = (ep.chip,)
                else:  # recording costs each step at the chip's size
                    raise ValueError(f"a recorded {ep.kind!r} episode needs its chip's "
                                     "crossbar size: got None")
                policy = rec = StepRecorder(policy, sizes, self.points, method=ep.kind,
                                            seed=seed)
            jobs.append(EpisodeJob(policy, ep.chip, dict(ep.overrides)))
            recorders.append(rec)
        if self.batch > 1:
            # the episodes' own work overlaps on the cores; results do not depend on it
            threads = min(self.batch, len(jobs), os.cpu_count() or 1)
            delivered = self.fixed.transform_many(jobs, seed, self.batch, threads)
        else:
            delivered = [self.fixed.transform(j.policy, seed, j.crossbar_size, **j.overrides)
                         for j in jobs]
        for key, d, rec in zip(todo, delivered, recorders, strict=True):
            if rec is not None:
                rec.finish(d.delivered_step)
            cache[key] = d

    def close(self) -> None:
        self.fixed.close()
        if self.learned is not None:
            self.learned.close()


def delivery_order(methods: Sequence[Method]) -> list[Method]:
    """``methods`` in order, each after the methods of the study it reuses."""
    by_name = {m.name: m for m in methods}
    out: list[Method] = []
    placed: set[str] = set()

    def place(m: Method) -> None:
        if m.name in placed:
            return
        placed.add(m.name)
        for dep in m.after:
            if dep in by_name:
                place(by_name[dep])
        out.append(m)

    for m in methods:
        place(m)
    return out


@dataclass
class StudyResult:
    """A study that ran: per seed its journal entry, the methods' declared budgets and the
    first seed's task (for the document's description of the network)."""

    entries: list[dict]
    budgets: dict[str, dict]
    task: Any

    @property
    def rows(self) -> list[dict]:
        return [r for e in self.entries for r in e["rows"]]


class Study:
    """Seeds x crossbar sizes x methods over a context; subclasses add what their document
    needs through the hooks (:meth:`started`, :meth:`cell`, :meth:`seed_extra`,
    :meth:`resumed`).

    :param context: what the methods share, and the work done per seed.
    :param methods: the methods, in the order of the rows.
    :param seeds: baseline seeds, each also seeding its transformations.
    :param sizes: crossbar sizes of the rows; None: one row per method and seed at the
        size the method chooses.
    :param log: progress lines.
    :param identity: the study's settings, which a resumed study must share.
    :param progress: show a bar on stderr counting the rows (method x seed x size) with an
        ETA, and what runs now (the command line's default; ``--quiet`` turns it off).
    :param advice: what to change when a row delivers an earlier step than its last, in
        the command's terms (ends the warning line, :mod:`.delivery`).
    :param log_methods: a line as each method delivers (where no bar shows progress, as
        in a worker process).
    """

    kind = "study"

    def __init__(self, context: StudyContext, methods: Sequence[Method], seeds: Sequence[int],
                 sizes: Sequence[int] | None, log: Callable[[str], None] = print,
                 identity: dict | None = None, progress: bool = False, *,
                 advice: str = "give each step more retraining or prune more gently",
                 log_methods: bool = False) -> None:
        names = [m.name for m in methods]
        if len(set(names)) != len(names):
            raise ValueError(f"methods must have distinct names, got {names}")
        self.context, self.methods, self.seeds = context, list(methods), list(seeds)
        self.sizes = None if sizes is None else list(sizes)
        self.log, self.identity = around_bars(log) if progress else log, dict(identity or {})
        self.progress = progress
        self._bar = progress_bar(0, "", enabled=False)
        self.advice, self.log_methods = advice, log_methods

    def header(self) -> dict:
        """What a resumed study must share with the one it continues."""
        return {"study": self.kind, "seeds": self.seeds, "sizes": self.sizes,
                "methods": [m.name for m in self.methods], **self.identity}

    def started(self, seed: int) -> None:
        """Before the seed's first method."""

    def cell(self, seed: int, crossbar_size: int | None, results: dict[str, MethodResult],
             rows: list[dict]) -> None:
        """After one seed and size (None: each method's choice) are scored: each method's
        result and the rows, in the study's order."""

    def seed_extra(self, seed: int) -> dict:
        """What the document needs of the seed besides its rows (JSON, journaled)."""
        return {}

    def resumed(self, entries: list[dict]) -> None:
        """The journal held these finished seeds (called before any new one runs)."""

    def run(self, journal: Path | None = None, resume: bool = False) -> list[dict]:
        """Run every seed not in the journal; per seed (in order) its entry:
        ``{"number", "seed", "rows", "walls", "cpu", "extra"}``, ``walls`` the seconds
        each method took (delivery and scoring), ``cpu`` its CPU-seconds in this process."""
        with ExitStack() as stack:
            entries: list[dict] = []
            book = None
            if journal is not None:
                journal = Path(journal)
                if not resume:
                    journal.unlink(missing_ok=True)
                book = stack.enter_context(Journal(
                    journal, self.header(), "study", "settings, seeds and methods",
                    lambda d: isinstance(d.get("rows"), list), unit="seed"))
                entries = list(book.entries)
                if entries:
                    self.log(f"resuming after {len(entries)} finished seed(s) from {journal}")
            self.resumed(entries)
            todo = self.seeds[len(entries):]
            rows = len(todo) * len(self.sizes or [None]) * len(self.methods)
            self._bar = stack.enter_context(
                progress_bar(rows, self.kind, enabled=self.progress, unit="row"))
            for seed in todo:
                entry = {"number": len(entries), **self._run_seed(seed)}
                entries.append(entry)
                if book is not None:
                    book.append(entry)
        return entries

    def budgets(self) -> dict[str, dict]:
        """Each method's declared budget, for ``results.json``."""
        return {m.name: m.budget(self.context).to_dict() for m in self.methods}

    def finish(self, journal: Path | None = None, resume: bool = False) -> StudyResult:
        """:meth:`run`, then close the context's environments (also when it fails)."""
        try:
            entries = self.run(journal, resume)
            return StudyResult(entries, self.budgets(), self.context.fixed.task(self.seeds[0]))
        finally:
            self.context.close()

    def _run_seed(self, seed: int) -> dict:
        ctx, order = self.context, delivery_order(self.methods)
        walls = {m.name: 0.0 for m in self.methods}
        cpu = dict(walls)  # this process's CPU-seconds (its threads included)
        rows: list[dict] = []
        sizes: list[int | None] = [*self.sizes] if self.sizes else [None]  # None: its choice
        try:
            self.started(seed)
            if ctx.batch > 1:  # every schedule episode of the seed, batch at a time
                ctx.run_episodes(seed, [ep for n in sizes for m in order
                                        for ep in m.needs(ctx, seed, n)])
            for n in sizes:
                results: dict[str, MethodResult] = {}
                at = "" if n is None else f" N={n}"
                for m in order:
                    show(self._bar, f"seed {seed}{at}: {m.name}")
                    t0, c0 = time.perf_counter(), time.process_time()
                    results[m.name] = m.deliver(ctx, seed, n)
                    walls[m.name] += time.perf_counter() - t0
                    cpu[m.name] += time.process_time() - c0
                    if self.log_methods:
                        self.log(f"seed {seed}{at}: {m.name} delivered "
                                 f"({time.perf_counter() - t0:.0f} s)")
                cell_rows = []
                show(self._bar, f"seed {seed}{at}: scoring")
                for m in self.methods:
                    o = results[m.name]
                    runner = ctx.runner_of(m)
                    t0, c0 = time.perf_counter(), time.process_time()
                    cell_rows.append(runner.score(o.delivered, seed, o.crossbar_size,
                                                  method=m.name, **o.fields()))
                    walls[m.name] += time.perf_counter() - t0
                    cpu[m.name] += time.process_time() - c0
                    self._bar.update(1)
                rows += cell_rows
                self.log(f"seed {seed}{at}: " + ", ".join(
                    f"{r['method']} {r['area_mm2_best']:.4f} mm2" for r in cell_rows))
                for r in cell_rows:  # a row that did less than its budget, said at once
                    if (warning := delivery_warning(r, self.advice)) is not None:
                        self.log(warning)
                self.cell(seed, n, {m.name: results[m.name] for m in self.methods}, cell_rows)
            extra = self.seed_extra(seed)
        finally:
            ctx.forget(seed)
        return {"seed": seed, "rows": rows, "walls": walls, "cpu": cpu, "extra": extra}

