"""Fidelity levels: named sets of knobs that make retraining cheaper on the same Task."""

import numpy as np
import pytest

from tnf_env import TraNNsformerEnv
from tnf_env.fidelity import FIDELITIES, KNOBS, resolve
from tnf_env.model.training import default_recipe
from tnf_env.task import Task


def _same_weights(a: Task, b: Task) -> bool:
    return all(np.array_equal(x.numpy(), y.numpy())
               for x, y in zip(a.dense_weights(), b.dense_weights(), strict=True))


def test_full_is_the_default_and_sets_no_knob():
    task = Task.build(max_steps=1)
    assert task.config.fidelity == "full"
    assert all(task.knobs[k] is None for k in KNOBS)
    assert task.epoch_share == 1.0 and task.recipe == default_recipe("digits")
    assert task.x_retrain is task.x_train
    assert Task.build(max_steps=1, fidelity="full").config == task.config


def test_low_retrains_on_a_share_of_each_epoch_and_says_so():
    low = Task.build(max_steps=1, fidelity="low")
    full = Task.build(max_steps=1)
    assert low.epoch_share == 0.25
    # only retraining changes: the baseline, the floor and the data are the same
    assert low.floor == full.floor and _same_weights(low, full)
    assert low.x_val.shape == full.x_val.shape
    env = TraNNsformerEnv(task=low)
    env.reset(seed=0)
    assert env.transformation.epoch_share == 0.25
    _, _, _, _, info = env.step(np.zeros_like(env.action_space.nvec))
    assert info["fidelity"] == "low"
    full_env = TraNNsformerEnv(task=full)
    full_env.reset(seed=0)
    _, _, _, _, full_info = full_env.step(np.zeros_like(env.action_space.nvec))
    assert full_info["fidelity"] == "full"
    assert not np.array_equal(env.transformation.weight(0), full_env.transformation.weight(0))


def test_a_knob_set_explicitly_wins_over_its_level():
    task = Task.build(max_steps=1, fidelity="low", epoch_fraction=0.5, retrain_batch=50)
    assert task.epoch_share == 0.5 and task.recipe.batch_size == 50
    # the baseline is trained with the dataset's recipe whatever the retraining batch
    assert _same_weights(task, Task.build(max_steps=1))
    assert resolve("low", {"epoch_fraction": None})["epoch_fraction"] == 0.25


@pytest.mark.parametrize("bad", ["ultra", "", 3, None])
def test_an_unknown_level_is_refused_naming_the_allowed(bad):
    with pytest.raises(ValueError, match=r"invalid setting fidelity=.*'full', 'low', 'medium'"):
        Task.build(fidelity=bad)
    assert FIDELITIES[0] == "full"


@pytest.mark.parametrize("bad", [0, 1.5, -0.25, float("nan")])
def test_epoch_fraction_is_a_share(bad):
    with pytest.raises(ValueError, match=r"invalid setting epoch_fraction=.*\(0, 1\]"):
        Task.build(epoch_fraction=bad)

