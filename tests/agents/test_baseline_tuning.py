"""A fixed baseline is tuned one way: the studies' rate grid and ``search --target`` judge a
delivered network by the same key (floor met first, then validation cost)."""

import json

import numpy as np
import pytest
import torch

import tnf_env
import tnf_env.state
from agents.experiments.episodes import EpisodeRunner
from agents.rl.callbacks import EVAL_SEED
from agents.rl.config import TrainConfig
from agents.rl.policies import PruningPolicy
from agents.search import tune as search_tune
from agents.search.baseline import tuning_key

# float64: the two paths' networks and costs are the same numbers
SETTINGS = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": (16, 32),
            "max_steps": 3, "retrain_epochs": 0.5, "prune_unit": "paper", "allow_stop": False,
            "dtype": "float64"}


def test_floor_met_ranks_before_any_cost():
    assert tuning_key(True, 0.9) < tuning_key(False, 0.1)
    assert tuning_key(True, 0.2) < tuning_key(True, 0.3)


def test_a_search_trial_judges_an_episode_as_the_study_tunes():
    torch.set_num_threads(1)
    runner = EpisodeRunner(SETTINGS)
    try:
        for n in (16, 32):
            d = runner.transform(PruningPolicy(n), 0, n)
            # the episode's environment still holds what it delivered
            episode = tnf_env.episode_of(runner.env(0))
            key = search_tune.delivered_key(episode, d.meets_floor)
            assert key == runner.selection_key(d, 0, n)
            assert 0.0 < key[1] <= 1.0 + 1e-9  # relative to the dense network at N
    finally:
        runner.close()


def test_a_fixed_schedule_trial_keeps_its_best_judged_episode(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    keys = []

    def spy(episode, meets_floor):
        keys.append(real(episode, meets_floor))
        return keys[-1]

    real = search_tune.delivered_key
    monkeypatch.setattr(search_tune, "delivered_key", spy)
    cfg = TrainConfig(env={**SETTINGS, "rate_scale": 40.0})
    reports: list[dict] = []
    search_tune._schedule_trial(cfg, tmp_path, "pruning", 3,
                                lambda env: tnf_env.make(**env), reports.append)
    assert len(keys) == len(reports) == 3
    doc = json.loads((tmp_path / "best_schedule.json").read_text())
    best = min(range(3), key=keys.__getitem__)
    assert doc["seed"] == EVAL_SEED + best
    assert reports[-1]["tuning_cost"] == pytest.approx(np.mean([k[1] for k in keys]))
    assert reports[-1]["floor_missed"] == sum(k[0] for k in keys)
    assert "tuning_cost" not in doc  # a state document: replay reads it
    tnf_env.state.check_state(doc, replayable=True)
    assert search_tune.objective("pruning") == ("tuning_cost", "min")
    assert search_tune.objective("ppo") == ("episode_return", "max")
