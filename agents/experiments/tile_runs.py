"""One run of crossbar-aware structured pruning on a study's environment.

The rounds (:func:`tnf_env.transform.tiles.run_rounds`) act on the transformation an
episode of the same environment starts from (``reset(seed=s)``: the dense baseline, the
retraining images, recipe and fidelity level, the episode seed's generator), and are
judged as the environment judges its steps: the validation accuracy (on the
technology's non-ideal crossbars when the task models them) must clear the floor by the
selection margin (:meth:`tnf_env.step_metrics.StepMeter.meets_floor`,
:mod:`tnf_env.measure.selection`), and a network that collapses below the floor by the
environment's ``collapse_margin`` ends the run, as it ends an episode.
"""

from __future__ import annotations

import copy

import tnf_env
from tnf_env.measure.assessment import Assessment
from tnf_env.measure.scoring import network_cost
from tnf_env.model.training import evaluate
from tnf_env.transform.tiles import run_rounds
from tnf_env.transform.transformation import Transformation

from .episodes import DeliveredNetwork, EpisodeRunner


def tile_pruning(runner: EpisodeRunner, seed: int, crossbar_size: int, fraction: float,
                 rounds: int, epochs: float, rate_scale: float,
                 points: list[dict] | None = None, method: str = "tiles") -> DeliveredNetwork:
    """The network crossbar-aware pruning delivers on baseline ``seed`` at ``crossbar_size``.

    :param runner: the runner whose environment (and so data, baseline, floor) is used.
    :param seed: the baseline seed, also the run's seed.
    :param crossbar_size: N: the chip's crossbars, and so the tiles.
    :param fraction: share of each layer's live tiles a round removes, in [0, 1].
    :param rounds: rounds (prune, then retrain).
    :param epochs: retraining epochs per round.
    :param rate_scale: the grid point this run stands for (written into the row).
    :param points: when given, every judged network (rounds 0 to the last) is appended as a
        frontier point (:class:`agents.experiments.frontier.StepRecorder`'s fields).
    :param method: the points' method name.
    """
    env = runner.env(seed)
    env.reset(seed=seed)
    session = tnf_env.episode_of(env)
    tr, task, meter = session.network, session.task, session.meter
    tr.crossbar_sizes = [int(crossbar_size)] * task.n_layers
    floor, collapse = task.floor, session.config.collapse_margin

    def judge(t: Transformation, k: int) -> tuple[bool, bool]:
        # the episode's network (t is it), judged as the episode judges a step: on the
        # technology's non-ideal crossbars when the task models them
        acc = meter.measure(tr)["accuracy"]
        if points is not None:
            cost = network_cost(t.masks(), t.crossbar_sizes, task.technology, "best",
                                t.clusters)
            points.append({
                "method": method, "seed": seed, "crossbar_size": int(crossbar_size),
                "rate_scale": rate_scale, "step": k,
                "accuracy_test": evaluate(t.net, task.x_test, task.y_test)[0],
                "area_mm2": cost.area_mm2, "energy_nj": cost.energy_nj,
            })
        return meter.meets_floor(acc), acc < floor - collapse

    run = run_rounds(tr, fraction, rounds, epochs, judge)
    clusters: list[list] = [[] for _ in range(task.n_layers)]
    return DeliveredNetwork(
        net=copy.deepcopy(tr.net), clusters=clusters, epochs=tr.epochs_trained,
        delivered_step=run.delivered_round, rate_scale=rate_scale,
        crossbar_size=int(crossbar_size),
        assessment=Assessment.of(tr.net, clusters, tr.crossbar_sizes, task.technology),
        meets_floor=run.meets_floor, last_step=run.last_round,
    )
