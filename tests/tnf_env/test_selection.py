"""Selection with a margin: a step counts as meeting the floor only when its validation
accuracy clears it by k standard errors, in the environment and in every tuning."""

import dataclasses

import numpy as np
import pytest
import torch
from conftest import TINY_TRAIN

import tnf_env
from agents.experiments.episodes import EpisodeRunner, tune
from agents.rl.policies import PruningPolicy, run_episode
from tnf_env.measure.selection import clears_floor, standard_error

ENV = {**TINY_TRAIN["env"], "max_steps": 2, "allow_stop": False, "prune_unit": "paper",
       "crossbar_sizes": (16,), "rate_scale": 10.0}


def test_margin_is_k_binomial_standard_errors():
    assert standard_error(0.9, 100) == pytest.approx(0.03)
    assert clears_floor(0.9, 0.9, 100, 0.0)  # k = 0: the plain floor
    assert not clears_floor(0.9, 0.9, 100, 0.1)
    assert clears_floor(0.9, 0.87, 100, 1.0) and not clears_floor(0.9, 0.8701, 100, 1.0)
    assert clears_floor(0.9, 0.8701, 10_000, 1.0)  # more images, a smaller margin
    assert clears_floor(1.0, 1.0, 50, 3.0)  # no spread at 100%


def test_margin_setting_is_checked():
    with pytest.raises(ValueError, match=r"selection_margin=-1.*>= 0"):
        tnf_env.make(**{**ENV, "selection_margin": -1})


def _episode(margin: float) -> dict:
    env = tnf_env.make(**{**ENV, "selection_margin": margin})
    try:
        info = run_episode(env, PruningPolicy(16), 0).final_info
        u = env.unwrapped
        return {**info, "n_val": len(u.task.y_val), "floor": u.task.floor}
    finally:
        env.close()


def test_env_delivers_only_a_step_that_clears_the_margin():
    torch.set_num_threads(1)
    plain, margin, strict = _episode(0.0), _episode(1.0), _episode(1e6)
    # the last step keeps the plain floor but not a floor one standard error higher
    assert plain["delivered_step"] == 2 and plain["is_success"]
    assert plain["accuracy"] >= plain["floor"]
    assert not clears_floor(plain["accuracy"], plain["floor"], plain["n_val"], 1.0)
    assert margin["delivered_step"] < 2 and margin["is_success"]
    assert clears_floor(margin["accuracy"], margin["floor"], margin["n_val"], 1.0)
    # no step clears a huge margin: the start is delivered, and is_success says it fails
    assert strict["delivered_step"] == 0 and not strict["is_success"]
    assert not any(strict["sparsity"])


def test_tuning_prefers_networks_that_clear_the_margin():
    torch.set_num_threads(1)
    exp = EpisodeRunner({**ENV, "selection_margin": 0.0})
    try:
        pruned = exp.transform(PruningPolicy(16), 0, 16)
        original = exp.original(0)
        assert exp.selection_cost(pruned, 0, 16) < exp.selection_cost(original, 0, 16)
        failing = dataclasses.replace(pruned, meets_floor=False)
        runs = {1.0: failing, 2.0: original}
        tuned = tune(exp, runs.__getitem__, [1.0, 2.0], 0, [16])
        assert tuned.chosen[16] is original
        assert tune(exp, {1.0: pruned, 2.0: original}.__getitem__, [1.0, 2.0], 0,
                    [16]).chosen[16] is pruned
        row = exp.score(pruned, 0, 16)
        assert row["meets_floor_margin"] == clears_floor(
            row["accuracy_val"], exp.scoring_data(0).floor_val, len(exp.scoring_data(0).y_val),
            0.0)
    finally:
        exp.close()
    assert np.isfinite(row["accuracy_test"])
