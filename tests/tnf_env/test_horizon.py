"""The episode lasts ``max_steps`` however the environment is made (issue: gym.make cut at 10)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import tnf_env

HORIZON = 12  # more than the default 10, as every mnist-10k configuration uses
KW = dict(
    topology="64-16-10",
    crossbar_sizes=(16, 32),
    max_steps=HORIZON,
    retrain_epochs=0.1,
    allow_stop=False,
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _zero(space) -> np.ndarray:
    return np.zeros(len(space.nvec), dtype=np.int64)


def _episode_length(env) -> int:
    env.reset(seed=0)
    for k in range(1, 2 * HORIZON):
        _, _, terminated, truncated, _ = env.step(_zero(env.action_space))
        if terminated or truncated:
            assert truncated and not terminated
            return k
    return -1


def test_registration_sets_no_step_limit_of_its_own():
    assert gym.spec(tnf_env.ENV_ID).max_episode_steps is None


def test_gymnasium_make():
    assert _episode_length(gym.make(tnf_env.ENV_ID, **KW)) == HORIZON
    assert _episode_length(gym.make(tnf_env.ENV_ID, **{**KW, "max_steps": None})) == 10


def test_tnf_env_make():
    env = tnf_env.make(**KW)
    assert env.spec.max_episode_steps == HORIZON
    assert _episode_length(env) == HORIZON


def test_gymnasium_make_vec():
    envs = gym.make_vec(tnf_env.ENV_ID, num_envs=1, vectorization_mode="sync", **KW)
    envs.reset(seed=0)
    actions = _zero(envs.single_action_space)[None]
    for k in range(1, HORIZON + 1):
        _, _, terminated, truncated, _ = envs.step(actions)
        assert not terminated[0] and truncated[0] == (k == HORIZON)
    envs.close()


def test_sb3_make_vec_env():
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env(tnf_env.ENV_ID, n_envs=1, seed=0, env_kwargs=KW)
    venv.reset()
    actions = _zero(venv.action_space)[None]
    for k in range(1, HORIZON + 1):
        _, _, dones, infos = venv.step(actions)
        assert dones[0] == (k == HORIZON)
    assert infos[0]["TimeLimit.truncated"] and infos[0]["episode"]["l"] == HORIZON
    venv.close()
