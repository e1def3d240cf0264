"""What an episode measures of its network after each step, and the ``info`` it reports.

A network is assessed once per step (:class:`~tnf_env.measure.assessment.Assessment`:
masks, mappings, costs, non-ideal weights) and every reader of the step (reward,
observation, info, selection) uses that one measurement. :class:`StepMeter` holds what
the measurement needs besides the :class:`~tnf_env.task.Task`: the episode's cache of
non-ideal crossbar weights and the timing of its parts. (It reads a Task, so it sits with
the environment modules rather than in :mod:`tnf_env.measure`, which stays below them.)
"""

from __future__ import annotations

import time
from typing import Any

from .measure.assessment import Assessment
from .measure.nonideal import HardwareWeights, hardware_net
from .measure.selection import clears_floor
from .model.network import MaskedMLP
from .model.spiking import SNNSettings, snn_evaluate
from .model.training import evaluate
from .reward import normalized_cost
from .settings import EnvConfig
from .task import Task
from .transform.transformation import Transformation


class StepMeter:
    """Measures one episode's network: cost, validation accuracy (on the technology's
    non-ideal crossbars when the task models them) and, at the end, the spiking network.

    :param task: the shared task (data, technology, floor, reference costs).
    :param config: the episode's settings (accounting, area weight, selection margin, ...).
    :ivar hardware: the non-ideal weights of the episode's layers, cached per layer (None
        when the task's crossbars are ideal). Per episode: a shared one would thrash.
    :ivar timing: seconds of the last measurement's parts (mapping, validation, nonideal).
    """

    def __init__(self, task: Task, config: EnvConfig) -> None:
        self.task, self.config = task, config
        device = task.technology.device  # not None when nonideal (the settings check it)
        self.hardware: HardwareWeights | None = (
            HardwareWeights(device, seed=config.seed)
            if task.nonideal and device is not None else None
        )
        self._hw_net: MaskedMLP | None = None  # the non-ideal copy, rewritten each step
        self.timing: dict[str, float] = {}

    def measure(self, tr: Transformation) -> dict[str, Any]:
        """Assess ``tr``'s network once: ``accuracy`` (the one selected on),
        ``accuracy_ideal``, ``cost`` (normalised), ``cost_obj`` and ``assessment``."""
        task, cfg = self.task, self.config
        t0 = time.perf_counter()
        a = Assessment.of(
            tr.net, tr.clusters, tr.crossbar_sizes, task.technology,
            [tr.cmap(i) for i in range(task.n_layers)],
        )
        cost = a.cost(cfg.accounting)
        t1 = time.perf_counter()
        acc = evaluate(tr.net, task.x_val, task.y_val)[0]
        t2 = time.perf_counter()
        norm = normalized_cost(cost.area_mm2, cost.energy_nj, task.reference, cfg.area_weight)
        m = {"accuracy": acc, "accuracy_ideal": acc, "cost_obj": cost, "cost": norm,
             "assessment": a}
        if self.hardware is not None:
            weights = a.hardware_weights(tr.net, self.hardware, cfg.accounting)
            self._hw_net = hardware_net(tr.net, weights, into=self._hw_net)
            m["accuracy"] = evaluate(self._hw_net, task.x_val, task.y_val)[0]
        self.timing = {
            "mapping": t1 - t0, "validation": t2 - t1, "nonideal": time.perf_counter() - t2
        }
        return m

    def meets_floor(self, accuracy: float) -> bool:
        """Whether a validation ``accuracy`` clears the floor by ``selection_margin``
        standard errors (:mod:`tnf_env.measure.selection`)."""
        task = self.task
        return clears_floor(accuracy, task.floor, len(task.y_val), self.config.selection_margin)

    def info(
        self, tr: Transformation, m: dict[str, Any], step: int, loss_fell: bool
    ) -> dict[str, Any]:
        """The ``info`` of a step whose network ``tr`` measured ``m``.

        :param step: steps taken so far.
        :param loss_fell: whether the step's last training loss fell.
        """
        task, cost, a = self.task, m["cost_obj"], m["assessment"]
        return {
            "accuracy": m["accuracy"],
            "accuracy_ideal": m["accuracy_ideal"],
            "accuracy_floor": task.floor,
            "baseline_accuracy": task.baseline_accuracy,
            "is_success": self.meets_floor(m["accuracy"]),
            "cost": m["cost"],
            "area_mm2": cost.area_mm2,
            "energy_nj": cost.energy_nj,
            "area_ratio": cost.area_mm2 / task.reference.area_mm2,
            "energy_ratio": cost.energy_nj / task.reference.energy_nj,
            "crossbars": cost.n_crossbars,
            "utilization": cost.utilization,
            "layer_crossbars": [lc.n_crossbars for lc in cost.layers],
            "sparsity": a.sparsity,
            "unclustered": a.unclustered,
            "clusters": [len(c) for c in a.clusters],
            "crossbar_sizes": list(a.crossbar_sizes),
            "loss_fell": loss_fell,
            "step": step,
            "epochs_trained": tr.epochs_trained,
            "fidelity": self.config.fidelity,
        }

    def snn(self, tr: Transformation, m: dict[str, Any]) -> dict[str, Any]:
        """The spiking network's test accuracy and measured energy (and its accuracy on
        non-ideal crossbars when the task models them) of ``tr``'s network, measured ``m``."""
        task, cfg, a = self.task, self.config, m["assessment"]
        xs, ys = task.x_test, task.y_test
        settings = SNNSettings(timesteps=cfg.snn_timesteps)
        snn = snn_evaluate(tr.net, task.x_train, xs, ys, settings)
        cost = a.cost(cfg.accounting, snn.input_spikes)
        out = {"snn_accuracy_test": snn.accuracy, "snn_energy_nj": cost.energy_nj}
        if self.hardware is not None:
            weights = a.hardware_weights(tr.net, self.hardware, cfg.accounting)
            hw = hardware_net(tr.net, weights)
            out["snn_accuracy_test_hw"] = snn_evaluate(
                hw, task.x_train, xs, ys, settings, record=False
            ).accuracy
        return out
