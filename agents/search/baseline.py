"""The one way to tune a fixed baseline: least validation cost among networks meeting the floor.

A fixed schedule (``paper``, ``pruning``, crossbar-aware ``tiles``) has constants (its rate
scale, ...) that are tuned, not learned. Every tuning in the project (the studies' rate
grid, :mod:`agents.experiments.episodes`; ``train_agent.py search --target paper|pruning``,
:mod:`.tune`) runs the schedule once per candidate and judges what each run *delivers*
(the latest step meeting the floor on validation, :mod:`tnf_env.measure.selection`) by
:func:`tuning_key`:

1. networks that clear the floor with the selection margin first (a run delivers its
   start, the dense network, when no step does);
2. then the least :func:`validation_cost`: the ``best`` accounting with expected activity,
   area and energy each relative to the dense network at the same crossbar size and mixed
   by the settings' ``area_weight``.

This is the criterion the rows report (cost at the floor), so a researcher reads the
tuned constants as "the cheapest network the schedule delivers that keeps the accuracy".
An episode's return (the reward summed) is not used: it scores the episode's *last* step,
penalised below the floor, not the network handed back.
"""

from __future__ import annotations

from collections.abc import Sequence

from tnf_env.measure.assessment import Assessment
from tnf_env.model.network import MaskedMLP
from tnf_env.reward import normalized_cost
from tnf_env.task import Task

__all__ = ["tuning_key", "validation_cost"]


def validation_cost(task: Task, net: MaskedMLP, clusters: Sequence[Sequence],
                    crossbar_size: int, area_weight: float,
                    assessment: Assessment | None = None) -> float:
    """The cost tuning minimises of a delivered network at ``crossbar_size``.

    :param task: the task the network was made on (technology, dense references).
    :param net: the delivered network.
    :param clusters: its clusters per layer (empty lists: none).
    :param crossbar_size: N, the chip's crossbar size for every layer.
    :param area_weight: the share of area in the mix (the settings' ``area_weight``).
    :param assessment: the network's measurement at the end of its run, reused when it was
        taken at ``crossbar_size`` (else the network is assessed again).
    """
    sizes = [int(crossbar_size)] * task.n_layers
    a = assessment
    if a is None or not a.matches(sizes, task.technology):
        a = Assessment.of(net, list(clusters), sizes, task.technology)
    cost = a.cost("best")
    return normalized_cost(cost.area_mm2, cost.energy_nj, task.dense_cost(crossbar_size),
                           area_weight)


def tuning_key(meets_floor: bool, cost: float) -> tuple[bool, float]:
    """What tuning minimises over candidates: floor met first, then :func:`validation_cost`.

    :param meets_floor: whether the delivered network clears the floor with the selection
        margin on validation.
    :param cost: its :func:`validation_cost`.
    """
    return (not meets_floor, float(cost))
