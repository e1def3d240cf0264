"""The one episode loop: alone and stepped together give the same episodes in float64;
a fixed action list stops mid-episode; callbacks see every step and every episode."""

import numpy as np
import pytest
import torch

from tnf_env import Task, TraNNsformerEnv
from tnf_env.episode import Episode
from tnf_env.rollout import FixedActions, rollout


@pytest.fixture(scope="module")
def task64():
    torch.set_num_threads(1)
    return Task.build(dtype="float64", topology="64-32-10", crossbar_sizes=(16, 32),
                      max_steps=3, retrain_epochs=0.5)


class Random:
    """Seeded random actions (a fresh stream per episode, as the seed says)."""

    name = "random"

    def __init__(self, seed):
        self.seed = seed

    def reset(self, env):
        self.rng = np.random.default_rng(self.seed)
        self.nvec = env.unwrapped.codec.nvec if hasattr(env, "unwrapped") else env.codec.nvec

    def act(self, obs, info):
        return self.rng.integers(0, self.nvec)


def test_batches_of_two_give_the_episodes_one_at_a_time_gives_in_float64(task64):
    seeds = [0, 1, 2]
    alone = rollout([task64] * 3, [Random(k) for k in seeds], seeds)
    ended = []
    together = rollout([task64] * 3, [Random(k) for k in seeds], seeds, batch=2,
                       on_episode=ended.append)
    assert [r.seed for r in ended] == seeds  # in episode order, once each
    for a, b in zip(alone, together, strict=True):
        assert a.actions == b.actions and a.rewards == b.rewards
        assert a.episode_return == b.episode_return and a.final_info == b.final_info
        assert a.steps == len(a.rewards) == 3 and a.episode_return == sum(a.rewards)


def test_a_bare_episode_runs_as_its_environment_does(task64):
    actions = [[1] * len(Episode(task64).codec.nvec)] * 3
    steps = []
    (bare,) = rollout([Episode(task64)], [FixedActions(actions)], [4],
                      on_step=lambda k, n: steps.append((k, n)))
    (env,) = rollout([TraNNsformerEnv(task=task64)], [FixedActions(actions)], [4])
    assert bare.final_info == env.final_info and bare.rewards == env.rewards
    assert steps == [(0, 1), (0, 2), (0, 3)]


def test_fixed_actions_leave_the_episode_where_they_end(task64):
    env = TraNNsformerEnv(task=task64)
    (result,) = rollout([env], [FixedActions([[0] * len(env.codec.nvec)])], [0])
    assert result.steps == 1 and not env.episode.done  # mid-episode, as a state is
    assert env.episode.get_state()["actions"] == result.actions


def test_bad_calls_are_refused_with_what_is_allowed(task64):
    env = TraNNsformerEnv(task=task64)
    with pytest.raises(ValueError, match="one policy and one seed per episode"):
        rollout([env], [Random(0), Random(1)], [0])
    with pytest.raises(ValueError, match=r"invalid batch=0: allowed an integer >= 1"):
        rollout([env], [Random(0)], [0], batch=0)
    with pytest.raises(ValueError, match="one environment per episode"):
        rollout([env, env], [Random(0), Random(1)], [0, 1], batch=2)
    with pytest.raises(ValueError, match="not bare episodes"):
        rollout([Episode(task64), Episode(task64)], [Random(0), Random(1)], [0, 1], batch=2)


def test_a_bad_action_in_a_batch_changes_no_episode(task64):
    """Episodes stepped together check every action before any begins its step."""
    envs = [TraNNsformerEnv(task=task64) for _ in range(2)]
    n = len(envs[0].codec.nvec)
    bad = [[0] * (n - 1) + [2]]  # the crossbar index 2 of two sizes
    with pytest.raises(ValueError, match=r"component 6 \(crossbar0\) is 2, allowed 0\.\.1"):
        rollout(envs, [FixedActions([[0] * n]), FixedActions(bad)], [0, 1], batch=2)
    assert [len(e.episode.actions) for e in envs] == [0, 0]
