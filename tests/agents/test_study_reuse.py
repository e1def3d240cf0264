"""A method that reuses another's network reads the tuned grid from the study's context,
not the other method: its rows do not depend on which methods the study runs."""

import pytest
import torch

from agents.experiments import methods as m
from agents.experiments.episodes import EpisodeRunner
from agents.experiments.study import Study, StudyContext
from tnf_env.model.spiking import SNNSettings

SETTINGS = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": (16, 32),
            "max_steps": 2, "retrain_epochs": 0.5, "prune_unit": "paper", "allow_stop": False}


def _rows(methods: list[m.Method], sizes) -> dict[tuple, dict]:
    context = StudyContext(EpisodeRunner(SETTINGS, SNNSettings(timesteps=3)), (16, 32),
                           [5.0, 10.0], 10.0, 2, 0.5)
    entries = Study(context, methods, [0], sizes, log=lambda s: None).finish().entries
    return {(r["method"], r["crossbar_size"]): r for r in entries[0]["rows"]}


def test_offline_and_magnitude_rows_do_not_depend_on_the_pruning_row():
    torch.set_num_threads(1)
    for sizes in ((16, 32), None):  # every size, and each method's own choice
        alone = _rows([m.OfflineClustering(), m.MagnitudeOneShot()], sizes)
        beside = _rows([m.PruningTuned(), m.OfflineClustering(), m.MagnitudeOneShot()], sizes)
        assert set(alone) < set(beside)
        assert {k: beside[k] for k in alone} == alone
        # both reuse the tuned pruning network, whose grid they count
        pruning = [r for k, r in beside.items() if k[0] == "pruning"]
        assert {r["tuning_epochs"] for r in alone.values()} == {
            r["tuning_epochs"] for r in pruning}


def test_a_learned_method_needs_a_learned_runner():
    context = StudyContext(EpisodeRunner(SETTINGS), (16,), [10.0], 10.0, 2, 0.5)
    assert context.runner_of(m.OfflineClustering()) is context.fixed
    with pytest.raises(ValueError, match="'ppo' runs a learned policy"):
        context.runner_of(m.LearnedPolicy(policy=None))
