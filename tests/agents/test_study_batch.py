"""A study whose episodes run B at a time gives the rows of one run one after the other."""

import numpy as np
import pytest
import torch

from agents.experiments import methods as m
from agents.experiments.episodes import EpisodeJob, EpisodeRunner
from agents.experiments.study import Study, StudyContext
from agents.rl.policies import PaperPolicy, PruningPolicy, RandomPolicy, run_episode, run_episodes
from tnf_env.model.spiking import SNNSettings

# float64: batched retraining then equals one network at a time bit for bit
SETTINGS = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": (16, 32),
            "max_steps": 3, "retrain_epochs": 0.5, "prune_unit": "paper", "allow_stop": False,
            "dtype": "float64"}


def _lab(batch: int, points: list) -> StudyContext:
    exp = EpisodeRunner(SETTINGS, SNNSettings(timesteps=3))
    return StudyContext(exp, (16, 32), [5.0, 10.0], 10.0, 3, 0.5, points=points, batch=batch)


def _methods() -> list[m.Method]:
    return [m.Original(), m.PruningTuned(), m.PruningRelease(max_steps=2), m.OfflineClustering(),
            m.PaperTuned(), m.PaperRelease(), m.RandomSearch(candidates=2)]


def _key(row: dict) -> tuple:
    return row["seed"], row["crossbar_size"], row["method"]


def test_batched_study_rows_equal_the_rows_run_one_after_the_other():
    torch.set_num_threads(1)
    runs = {}
    for batch in (1, 4):
        points: list[dict] = []
        lab = _lab(batch, points)
        try:
            entries = Study(lab, _methods(), [0], (16, 32), log=lambda s: None).run()
        finally:
            lab.close()
        runs[batch] = ([r for e in entries for r in e["rows"]], points)
    (rows1, points1), (rows4, points4) = runs[1], runs[4]
    assert [_key(r) for r in rows1] == [_key(r) for r in rows4]
    assert rows1 == rows4
    # the recorded steps are the same, only their order interleaves across episodes
    def order(ps):
        return sorted(ps, key=lambda p: (p["method"], p["rate_scale"], p["crossbar_size"],
                                         p["step"]))

    assert order(points1) == order(points4) and len(points1) > 0


def test_run_episodes_equals_run_episode_for_episodes_of_different_lengths():
    torch.set_num_threads(1)
    exp = EpisodeRunner(SETTINGS, SNNSettings(timesteps=3))
    try:
        def jobs():  # fresh policies: the random one carries its stream
            return [EpisodeJob(PaperPolicy(16), 16),
                    EpisodeJob(PruningPolicy(16), 16, {"max_steps": 1}),
                    EpisodeJob(RandomPolicy(seed=5), None, {"retrain_epochs": 0.25})]

        together = exp.transform_many(jobs(), 1, batch=3)
        alone = [exp.transform(j.policy, 1, j.crossbar_size, **j.overrides) for j in jobs()]
    finally:
        exp.close()
    for a, b in zip(alone, together, strict=True):
        assert a.actions == b.actions and a.delivered_step == b.delivered_step
        assert a.epochs == b.epochs and a.clusters == b.clusters
        for wa, wb in zip(a.net.weights_numpy(), b.net.weights_numpy(), strict=True):
            np.testing.assert_array_equal(wa, wb)
    assert len({len(d.actions) for d in together}) > 1  # the batch shrank as episodes ended


def test_run_episodes_refuses_one_environment_for_two_episodes():
    exp = EpisodeRunner(SETTINGS, SNNSettings(timesteps=3))
    try:
        env = exp.env(0)
        with pytest.raises(ValueError, match="one environment per episode"):
            run_episodes([env, env], [PaperPolicy(16), PaperPolicy(16)], [0, 0])
        assert run_episode(env, PaperPolicy(16), 0).steps == 3
    finally:
        exp.close()


@pytest.mark.parametrize("batch", [0, -1, True, 1.5])
def test_a_lab_refuses_an_invalid_batch(batch):
    with pytest.raises(ValueError, match="invalid episode batch"):
        StudyContext(EpisodeRunner(SETTINGS), (16,), [10.0], 10.0, 3, 0.5, batch=batch)


def test_a_fixed_schedule_search_trial_batched_reports_what_one_episode_at_a_time_does(
        tmp_path):
    import json

    import tnf_env
    from agents.rl.config import TrainConfig
    from agents.search.tune import _schedule_trial

    torch.set_num_threads(1)
    seen = {}
    for mode in ("subprocess", "batched"):
        cfg = TrainConfig(env=dict(SETTINGS), vectorization=mode)
        out = tmp_path / mode
        out.mkdir()
        reports: list[dict] = []
        _schedule_trial(cfg, out, "paper", 3, lambda env: tnf_env.make(**env), reports.append)
        doc = json.loads((out / "best_schedule.json").read_text())
        assert doc.pop("config")["vectorization"] == mode  # the one thing that differs
        seen[mode] = (reports, doc)
    assert seen["batched"] == seen["subprocess"] and len(seen["batched"][0]) == 3
