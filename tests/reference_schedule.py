"""The paper's schedule as a per-iteration driver: the reference the policy is checked against.

The library runs the schedule only as a policy (``agents.rl.policies.PaperPolicy``) whose
actions the environment turns into sub-iterations. This driver decides each one-epoch
iteration directly from the schedule's constants and the earlier iterations' reports,
as the released code does, so the tests can check that the policy in coarse steps gives
the same network bit for bit. It shares only the settle test with the environment
(``tnf_env.transform.step_plan.settled``), so that rule is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tnf_env.transform.schedule import PaperSchedule
from tnf_env.transform.step_plan import settled
from tnf_env.transform.transformation import StepDecision, StepReport, Transformation


def cluster_prune_fraction(s: PaperSchedule, history: Sequence[StepReport]) -> float:
    """f: the initial fraction plus the growth per improving iteration since it began."""
    improving = sum(r.loss_fell for r in history[s.first_cluster_prune_iteration :])
    return s.cluster_prune_initial + s.cluster_prune_growth * improving


def decide(
    s: PaperSchedule, iteration: int, history: Sequence[StepReport], n_layers: int
) -> StepDecision:
    """The decision for ``iteration`` given the reports of the iterations before it."""
    qualities: list[tuple[float, ...]] = [()] * n_layers
    prune: list[float | None] = [None] * n_layers
    if s.clustering and iteration == s.first_cluster_iteration:
        qualities = [(s.base_quality,)] * n_layers
    elif s.clustering and iteration > s.first_cluster_iteration:
        qualities = [
            tuple(s.recluster_qualities) if settled(history, i, s.settle_tolerance) else ()
            for i in range(n_layers)
        ]
    if s.clustering and iteration >= s.first_cluster_prune_iteration:
        prune = [cluster_prune_fraction(s, history)] * n_layers
    return StepDecision(
        retrain_epochs=s.epochs_per_iteration,
        threshold_steps=s.rates(n_layers),
        gate_on_loss=s.gate_on_loss,
        cluster_qualities=qualities,
        cluster_prune=prune,
    )


@dataclass
class ScheduleRun:
    """The history of a schedule run: one report per iteration."""

    schedule: PaperSchedule
    reports: list[StepReport] = field(default_factory=list)


def run_schedule(transformation: Transformation, schedule: PaperSchedule) -> ScheduleRun:
    """Drive ``transformation`` through ``schedule`` (modifies it in place)."""
    run = ScheduleRun(schedule)
    for it in range(schedule.epochs):
        decision = decide(schedule, it, run.reports, transformation.n_layers)
        run.reports.append(transformation.iterate(decision))
    return run
