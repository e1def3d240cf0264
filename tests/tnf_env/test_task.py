"""The Task: built once, shared by environments, asked instead of an env's internals."""

import doctest

import pytest
import torch

import tnf_env
import tnf_env.task
import tnf_env.vector_env
from agents.experiments.episodes import EpisodeRunner
from tnf_env import Task, TraNNsformerEnv


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # the session's cache, as conftest sets it
        mp.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))
        return Task.build(max_steps=3, crossbar_sizes=[16, 32])


def test_task_answers_what_consumers_ask(task):
    assert task.horizon == 3 and task.crossbar_sizes == (16, 32)
    assert task.n_layers == 3 and task.topology == (64, 256, 256, 10)
    assert task.floor == pytest.approx(task.baseline_accuracy - task.config.accuracy_tolerance)
    assert set(task.dense_costs) == {16, 32} and task.reference is task.dense_cost(
        task.reference_size
    )
    with pytest.raises(ValueError, match=r"crossbar size 64 is not one of \[16, 32\]"):
        task.dense_cost(64)
    assert task.x_train.dtype == torch.float32 and task.x_train.device.type == "cpu"
    assert "digits 64-256-256-10 seed 0" in task.describe()


def test_environments_share_the_task_and_refuse_another_settings(task):
    a, b = TraNNsformerEnv(task=task), TraNNsformerEnv(task=task, **task.config.to_dict())
    assert a.task is b.task is task and a.episode.task is b.episode.task is task
    assert a.task.horizon == 3 and not hasattr(a, "reference_size")  # readers ask the task
    with pytest.raises(ValueError, match=r"differ in \['max_steps'\]"):
        TraNNsformerEnv(task=task, max_steps=4, crossbar_sizes=[16, 32])
    with pytest.raises(ValueError, match="invalid setting task="):
        TraNNsformerEnv(task="digits")
    env = tnf_env.make(task=task)
    assert env.spec.max_episode_steps == 3  # the task's horizon
    assert env.spec.kwargs["task"] is task  # never copied (gymnasium copies spec kwargs)
    assert tnf_env.fork(env).unwrapped.task is task
    _, info = a.reset(seed=1)
    _, info_b = b.reset(seed=1)
    assert info == info_b


def test_with_settings_shares_what_it_can(task):
    episode = task.with_settings(rate_scale=5.0, max_steps=5)
    assert episode.horizon == 5 and task.horizon == 3
    assert episode.baseline is task.baseline and episode.x_val is task.x_val
    other_seed = task.with_settings(seed=3)
    assert other_seed.baseline is not task.baseline
    assert other_seed.x_train is task.x_train  # same split: retrainable together
    assert not torch.equal(other_seed.dense_weights()[0], task.dense_weights()[0])


def test_dtype_setting():
    with pytest.raises(ValueError, match="invalid setting dtype='float16'"):
        Task.build(dtype="float16")
    t64 = Task.build(dtype="float64")
    assert t64.x_val.dtype == t64.dense_weights()[0].dtype == torch.float64
    # the cached float32 baseline is untouched
    assert Task.build().dense_weights()[0].dtype == torch.float32


def test_experiment_builds_one_task_per_seed():
    exp = EpisodeRunner({"dataset": "digits", "max_steps": 2})
    try:
        a, b = exp.env(0).unwrapped, exp.env(0, rate_scale=3.0).unwrapped
        assert a is not b and a.task.baseline is b.task.baseline
        assert b.config.rate_scale == 3.0 and a.config.rate_scale != 3.0
    finally:
        exp.close()


@pytest.mark.parametrize("module", [tnf_env.task, tnf_env.vector_env])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


def test_the_loss_gate_measures_a_fixed_stratified_subset():
    """gate_images: the gate's loss on a seeded, class-stratified subset of the training
    set, shared by every episode; at least as many images as the split means all of it."""
    import numpy as np

    from tnf_env.data.subset import stratified_indices
    from tnf_env.model.training import evaluate

    small = Task.build(gate_images=200)
    y_all = small.y_train.numpy()
    y_gate = small.y_gate.numpy()
    assert len(y_gate) == 200
    shares = np.bincount(y_gate, minlength=10) / 200
    assert np.abs(shares - np.bincount(y_all, minlength=10) / len(y_all)).max() <= 1 / 200
    pick = stratified_indices(y_all, 200)
    assert (small.x_gate.numpy() == small.x_train.numpy()[pick]).all()
    assert small.start_loss == evaluate(small.baseline.net, small.x_gate, small.y_gate)[1]
    env = TraNNsformerEnv(task=small)
    env.reset(seed=0)
    assert env.transformation.x_gate is small.x_gate
    whole = Task.build(gate_images=10**6)
    assert whole.x_gate is whole.x_train


def test_stratified_indices_are_seeded_sorted_and_checked():
    import numpy as np
    import pytest

    from tnf_env.data.subset import stratified_indices

    y = np.repeat(np.arange(3), [50, 30, 20])
    a = stratified_indices(y, 10, seed=1)
    assert (a == stratified_indices(y, 10, seed=1)).all() and (np.diff(a) > 0).all()
    assert np.bincount(y[a]).tolist() == [5, 3, 2]
    assert not (a == stratified_indices(y, 10, seed=2)).all()
    assert (stratified_indices(y, 100) == np.arange(100)).all()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="integer size >= 1"):
            stratified_indices(y, bad)


def test_retraining_visits_a_fixed_stratified_subset_holding_the_gates_images():
    """train_images: retraining's images, a seeded, class-stratified subset shared by every
    episode; the gate's smaller subset lies inside it; the SNN and validation keep theirs."""
    import numpy as np

    from tnf_env.data.subset import stratified_indices

    task = Task.build(train_images=400, gate_images=100, max_steps=1, retrain_epochs=0.5)
    y_all = task.y_train.numpy()
    assert len(task.y_retrain) == 400 and len(task.y_gate) == 100 and len(y_all) > 400
    pick = stratified_indices(y_all, 400)
    assert (task.x_retrain.numpy() == task.x_train.numpy()[pick]).all()
    rows = {r.tobytes() for r in task.x_retrain.numpy()}
    assert all(r.tobytes() in rows for r in task.x_gate.numpy())  # nested subsets
    env = TraNNsformerEnv(task=task)
    env.reset(seed=0)
    assert env.transformation.x_train is task.x_retrain
    env.step(np.zeros_like(env.action_space.nvec))
    assert env.transformation.epochs_trained == 0.5
    whole = Task.build(train_images=10**6)
    assert whole.x_retrain is whole.x_train
