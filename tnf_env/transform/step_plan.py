"""One environment step as one-epoch sub-iterations under a held action.

A step of ``k`` retraining epochs is ``k`` TraNNsformer iterations of one epoch
each, the action holding for all of them, with the released schedule's
per-epoch rules applied at every sub-iteration (docs/design.md section 3):

- thresholds rise only in sub-iterations whose training loss fell (loss gate);
- after a step's clustering onset, a layer is reclustered with qualities
  0.7..0.4 whenever its unclustered share moved less than the settle tolerance
  over the two previous sub-iterations (settle test);
- the cluster-pruning fraction grows by ``cluster_prune_growth`` per improving
  sub-iteration since cluster pruning first began in the episode.

So the paper's schedule gives the same network at 12 steps x 5 epochs as at
60 x 1 (``tests/tnf_env/test_step_plan.py`` checks it bit for bit). The
counters these rules need across steps live in :class:`PlanState`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .transformation import StepDecision, StepReport, Transformation

RECLUSTER_QUALITIES = (0.7, 0.6, 0.5, 0.4)  # the release's recluster qualities, tried in order
# Cluster options: the qualities of the SCIC forced at the onset (None: no clustering; ():
# no forced SCIC); every option but "none" reclusters when settled after the onset.
CLUSTER_OPTIONS: dict[str, tuple[float, ...] | None] = {
    "none": None,
    "scic": (0.7,),
    "scic_all": RECLUSTER_QUALITIES,
    "settled": (),
}


def sub_epochs(retrain_epochs: float) -> tuple[float, ...]:
    """Retraining of each sub-iteration of a step: whole epochs, then the remainder.

    >>> sub_epochs(5), sub_epochs(0.5), sub_epochs(2.5)
    ((1.0, 1.0, 1.0, 1.0, 1.0), (0.5,), (1.0, 1.0, 0.5))
    """
    if not retrain_epochs > 0:
        raise ValueError(f"retrain epochs must be > 0, got {retrain_epochs}")
    whole = int(retrain_epochs + 1e-9)
    rest = retrain_epochs - whole
    parts = (1.0,) * whole + ((rest,) if rest > 1e-9 else ())
    return parts or (float(retrain_epochs),)


@dataclass
class StepPlan:
    """What one step does; decided once, applied per sub-iteration.

    :ivar sub_epochs: retraining epochs of each sub-iteration.
    :ivar threshold_steps: per layer, threshold rise per sub-iteration whose loss fell.
    :ivar gate_on_loss: raise thresholds only when the training loss fell.
    :ivar cluster_options: per layer, a key of :data:`CLUSTER_OPTIONS`.
    :ivar cluster_onset: the sub-iteration the cluster options start at.
    :ivar cluster_prune: per layer the starting fraction f0 of cluster pruning, or None.
    :ivar cluster_prune_onset: the sub-iteration cluster pruning starts at.
    :ivar settle_tolerance: the settle test's tolerance on the unclustered share.
    :ivar cluster_prune_growth: growth of f per improving sub-iteration.
    """

    sub_epochs: tuple[float, ...]
    threshold_steps: Sequence[float]
    gate_on_loss: bool = True
    cluster_options: Sequence[str] = ()
    cluster_onset: int = 0
    cluster_prune: Sequence[float | None] = ()
    cluster_prune_onset: int = 0
    settle_tolerance: float = 0.05
    cluster_prune_growth: float = 0.01


@dataclass
class PlanState:
    """What the per-epoch rules remember across steps of one episode."""

    history: list[StepReport] = field(default_factory=list)  # one report per sub-iteration
    cluster_pruning: bool = False  # has cluster pruning begun?
    improving: int = 0  # sub-iterations whose loss fell since it began


def settled(history: Sequence[StepReport], layer: int, tolerance: float) -> bool:
    """The settle test: has ``layer``'s unclustered share moved less than ``tolerance``
    over the two latest sub-iterations of ``history``? (Then it is reclustered.)

    The release compares the current iteration's after-pruning value; this compares the
    two previous iterations' reports, so a decision never needs state the decider
    cannot see.
    """
    if len(history) < 2:
        return False
    now, before = history[-1].unclustered, history[-2].unclustered
    return abs(now[layer] - before[layer]) < tolerance


def sub_decision(plan: StepPlan, j: int, state: PlanState) -> StepDecision:
    """The TraNNsformer iteration of sub-iteration ``j`` of ``plan``."""
    n = len(plan.threshold_steps)
    qualities: list[tuple[float, ...]] = []
    for i in range(n):
        option = plan.cluster_options[i] if plan.cluster_options else "none"
        forced = CLUSTER_OPTIONS[option]
        if forced is None or j < plan.cluster_onset:
            qualities.append(())
        elif j == plan.cluster_onset and forced:
            qualities.append(tuple(forced))
        else:
            qualities.append(
                RECLUSTER_QUALITIES if settled(state.history, i, plan.settle_tolerance) else ()
            )
    fractions = list(plan.cluster_prune) or [None] * n
    prune: list[float | None] = [
        None if f0 is None or j < plan.cluster_prune_onset
        else f0 + plan.cluster_prune_growth * state.improving
        for f0 in fractions
    ]
    return StepDecision(
        retrain_epochs=plan.sub_epochs[j],
        threshold_steps=list(plan.threshold_steps),
        gate_on_loss=plan.gate_on_loss,
        cluster_qualities=qualities,
        cluster_prune=prune,
    )


#: Retrains transformations together for some epochs; per transformation its full
#: training loss afterwards, or the exception that stopped it.
Retrainer = Callable[[list[Transformation], float], list[float | Exception]]


def retrain_each(trs: list[Transformation], epochs: float) -> list[float | Exception]:
    """The plain :data:`Retrainer`: one network after the other."""
    out: list[float | Exception] = []
    for tr in trs:
        t0 = time.perf_counter()
        try:
            tr.retrain(epochs)
            out.append(tr.train_loss())
        except Exception as exc:  # noqa: BLE001 - reported per network
            out.append(exc)
        tr.last_retrain_seconds = time.perf_counter() - t0
    return out


def run_plan(
    tr: Transformation, plan: StepPlan, state: PlanState
) -> tuple[list[StepReport], float]:
    """Run every sub-iteration of ``plan`` on ``tr``, updating ``state``.

    :return: the sub-iterations' reports and the seconds spent retraining.
    """
    (result,) = run_plans([tr], [plan], [state])
    if isinstance(result, Exception):
        raise result
    return result


def run_plans(
    trs: Sequence[Transformation],
    plans: Sequence[StepPlan],
    states: Sequence[PlanState],
    retrain: Retrainer = retrain_each,
    map_each: Callable = map,
) -> list[tuple[list[StepReport], float] | Exception]:
    """Run plans on several transformations in lock step: sub-iteration ``j`` of every
    plan retrains all their networks with one ``retrain`` call (per retraining length),
    then applies each episode's own rules to its network.

    :param map_each: how the episodes' own rules run over the group (``map``: one after
        the other; a thread pool's ``map`` overlaps them: each touches only its episode).

    :return: per transformation its reports and seconds retraining, or the exception
        that stopped it (the others go on).
    """
    failed: dict[int, Exception] = {}
    reports: list[list[StepReport]] = [[] for _ in trs]
    seconds = [0.0] * len(trs)
    for j in range(max((len(p.sub_epochs) for p in plans), default=0)):
        decisions: dict[int, StepDecision] = {}
        for k, (tr, plan, state) in enumerate(zip(trs, plans, states, strict=True)):
            if k in failed or j >= len(plan.sub_epochs):
                continue
            decision = sub_decision(plan, j, state)
            if any(f is not None for f in decision.cluster_prune):
                state.cluster_pruning = True
            try:
                tr.check(decision)
            except Exception as exc:  # noqa: BLE001
                failed[k] = exc
                continue
            decisions[k] = decision
        for epochs in sorted({d.retrain_epochs for d in decisions.values()}):
            group = [k for k, d in decisions.items() if d.retrain_epochs == epochs]
            losses = retrain([trs[k] for k in group], epochs)

            def rules(k: int, loss: float | Exception, decisions=decisions) -> Any:
                try:
                    if isinstance(loss, Exception):
                        raise loss
                    return trs[k].after_retrain(decisions[k], loss)
                except Exception as exc:  # noqa: BLE001
                    return exc

            for k, report in zip(group, map_each(rules, group, losses), strict=True):
                if isinstance(report, Exception):
                    failed[k] = report
                    continue
                state = states[k]
                seconds[k] += trs[k].last_retrain_seconds
                state.history.append(report)
                if state.cluster_pruning:
                    state.improving += int(report.loss_fell)
                reports[k].append(report)
    return [failed.get(k) or (reports[k], seconds[k]) for k in range(len(trs))]
