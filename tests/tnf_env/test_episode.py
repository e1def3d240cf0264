"""The Episode session: the environment presents it, a step's expected failures end the
episode with ``info["error"]``, and a bug raises."""

import doctest

import numpy as np
import pytest
import torch

import tnf_env
import tnf_env.episode
import tnf_env.step_metrics
from tnf_env import BatchedTraNNsformerEnv, Episode, Task, TraNNsformerEnv
from tnf_env.transform.transformation import Transformation

KW = dict(topology="64-32-10", crossbar_sizes=(16, 32), max_steps=3, retrain_epochs=0.5)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # the session's cache, as conftest sets it
        mp.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))
        return Task.build(**KW)


def _actions(nvec, n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, nvec) for _ in range(n)]


def test_docstring_example():
    assert doctest.testmod(tnf_env.episode).failed == 0


def test_the_environment_presents_its_episode(task):
    env, episode = TraNNsformerEnv(task=task), Episode(task)
    _, info = env.reset(seed=4)
    assert info == episode.start(4)
    for action in _actions(episode.codec.nvec, 3):
        _, reward, terminated, truncated, info = env.step(action)
        result = episode.step(action)
        assert (reward, terminated, truncated, info) == (
            result.reward, result.terminated, result.truncated, result.info
        )
    assert truncated and env.episode.get_state() == episode.get_state()
    assert result.metrics is episode.metrics


def test_wrapped_envs_hand_out_their_episode_and_task(task):
    env = tnf_env.make(task=task)  # a gymnasium wrapper stack around the env
    assert tnf_env.episode_of(env) is env.unwrapped.episode
    assert tnf_env.task_of(env) is task
    other = __import__("gymnasium").make("CartPole-v1")
    with pytest.raises(TypeError, match="expected a TraNNsformer environment.*CartPole"):
        tnf_env.episode_of(other)


def test_a_fork_and_a_restored_state_continue_as_the_original(task):
    episode = Episode(task)
    episode.start(2)
    first, rest = _actions(episode.codec.nvec, 3, seed=1)[:1], _actions(episode.codec.nvec, 2)
    episode.step(first[0])
    fork, restored = episode.fork(), Episode(task)
    restored.set_state(episode.get_state())
    assert fork.task is task and fork.transformation is not episode.transformation
    ends = [[e.step(a).info for a in rest] for e in (episode, fork, restored)]
    assert ends[0] == ends[1] == ends[2] and ends[0][-1]["delivered_step"] <= 3
    with pytest.raises(RuntimeError, match="finished episode"):
        fork.step(rest[0])


def test_a_forked_environment_presents_its_own_episode(task):
    env = TraNNsformerEnv(task=task)
    env.reset(seed=1)
    child = env.fork()
    assert child.episode is not env.episode and child.task is env.task is task
    assert child.codec is child.episode.codec and child.action_space is child.codec.space
    child.step(np.zeros_like(child.action_space.nvec))
    assert (child.episode.steps, env.episode.steps) == (1, 0)


def test_an_episode_refuses_settings_its_task_does_not_serve(task):
    other = task.config.with_overrides(max_steps=5)
    with pytest.raises(ValueError, match=r"differ in \['max_steps'\]"):
        Episode(task, other)
    closed = Episode(task)
    closed.close()
    with pytest.raises(RuntimeError, match="closed"):
        closed.start(0)


def _raise(exc):
    def broken(*args, **kwargs):
        raise exc

    return broken


@pytest.mark.parametrize("where", ["retrain", "measure"])
def test_a_programming_error_in_a_step_propagates(task, monkeypatch, where):
    env = TraNNsformerEnv(task=task)
    env.reset(seed=0)
    if where == "retrain":
        monkeypatch.setattr(Transformation, "after_retrain", _raise(TypeError("a bug")))
    else:
        monkeypatch.setattr(tnf_env.step_metrics, "evaluate", _raise(TypeError("a bug")))
    with pytest.raises(TypeError, match="a bug"):
        env.step(np.zeros_like(env.action_space.nvec))


def test_a_programming_error_in_a_batched_step_propagates(task, monkeypatch):
    envs = BatchedTraNNsformerEnv(num_envs=2, task=task)
    envs.reset(seed=0)
    monkeypatch.setattr(Transformation, "after_retrain", _raise(KeyError("a bug")))
    with pytest.raises(KeyError, match="a bug"):
        envs.step(np.zeros(envs.action_space.shape, dtype=np.int64))


def test_a_programming_error_in_the_spiking_score_propagates(monkeypatch):
    env = TraNNsformerEnv(**{**KW, "max_steps": 1, "snn_at_end": True, "snn_timesteps": 3})
    env.reset(seed=0)
    monkeypatch.setattr(tnf_env.step_metrics, "snn_evaluate", _raise(AttributeError("a bug")))
    with pytest.raises(AttributeError, match="a bug"):
        env.step(np.zeros_like(env.action_space.nvec))


@pytest.mark.parametrize(
    "exc", [np.linalg.LinAlgError("no convergence"), FloatingPointError("overflow")]
)
def test_an_expected_failure_ends_the_episode_with_its_error(task, monkeypatch, exc):
    env = TraNNsformerEnv(task=task)
    env.reset(seed=0)
    start_accuracy = env.episode.metrics["accuracy"]
    monkeypatch.setattr(Transformation, "after_retrain", _raise(exc))
    _, _, terminated, truncated, info = env.step(np.zeros_like(env.action_space.nvec))
    name = type(exc).__name__
    assert terminated and not truncated and info["error"] == f"{name}: {exc}"
    assert info["delivered_step"] == 0 and info["accuracy"] == start_accuracy


def test_a_failed_measurement_keeps_the_last_good_metrics(task, monkeypatch):
    env = TraNNsformerEnv(task=task)
    env.reset(seed=0)
    before = env.episode.metrics
    monkeypatch.setattr(tnf_env.step_metrics, "evaluate", _raise(FloatingPointError("inf")))
    _, _, terminated, _, info = env.step(np.zeros_like(env.action_space.nvec))
    assert terminated and info["error"] == "FloatingPointError: inf"
    assert env.episode.metrics is before and info["step"] == 1


def test_an_expected_failure_in_a_batch_ends_only_its_episode(task, monkeypatch):
    envs = BatchedTraNNsformerEnv(num_envs=2, task=task)
    envs.reset(seed=0)
    real = Transformation.after_retrain
    failing = envs.envs[0].transformation

    def diverges_once(self, decision, loss):
        if self is failing:
            raise tnf_env.TrainingDiverged("training loss became nan")
        return real(self, decision, loss)

    monkeypatch.setattr(Transformation, "after_retrain", diverges_once)
    _, _, terminated, _, info = envs.step(np.zeros(envs.action_space.shape, dtype=np.int64))
    assert terminated.tolist() == [True, False]
    assert info["error"][0] == "TrainingDiverged: training loss became nan"
    assert not info["_error"][1]
