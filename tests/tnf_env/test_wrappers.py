"""DiscreteMenu: a Discrete action for DQN-family agents; the time-limit warning."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3 import DQN
from stable_baselines3.common.monitor import Monitor

import tnf_env
from agents.rl.policies import PaperPolicy, PruningPolicy
from tnf_env import DiscreteMenu, check_time_limit, default_menu

SETTINGS = dict(dataset="digits", topology="64-32-32-10", crossbar_sizes=(16, 32))


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _schedule_actions(env, policy):
    """Every action ``policy`` issues over an episode (its actions depend only on the step)."""
    obs, info = env.reset(seed=0)
    policy.reset(env)
    return [policy.act(obs, info) for _ in range(env.unwrapped.task.horizon)]


@pytest.mark.parametrize(
    "kw, size",
    [
        # k = 1: 2 sizes x 5 levels x (none: 2 fractions + 3 options x 2 fractions)
        (dict(max_steps=4), 2 * 5 * 8),
        # 12 steps of 5 epochs (E = 60): the paper's first clustering (epoch 12) and cluster
        # pruning (48) fall inside steps, at onsets 2 and 3
        (dict(max_steps=12, retrain_epochs=5), 2 * 5 * (1 + 2 + 3 * 2 * 3)),
        (dict(max_steps=4, allow_stop=True, per_layer_crossbar=True), 2 * 5 * 8 + 1),
    ],
)
def test_default_menu_holds_the_paper_and_pruning_schedules(kw, size):
    env = DiscreteMenu(tnf_env.make(**SETTINGS, **kw))
    assert env.action_space == gym.spaces.Discrete(size)
    assert len({tuple(a) for a in env.menu}) == size
    for policy in (PaperPolicy(16), PaperPolicy(32), PruningPolicy(16), PruningPolicy(32)):
        positions = [env.index(a) for a in _schedule_actions(env, policy)]
        assert all(np.array_equal(env.action(i), a) for i, a in zip(
            positions, _schedule_actions(env, type(policy)(policy.crossbar_size)), strict=True))
    paper = {env.describe(env.index(a)) for a in _schedule_actions(env, PaperPolicy(16))}
    assert any("cluster scic" in d for d in paper) and any("0.005" in d for d in paper)
    if kw.get("allow_stop"):
        assert env.describe(size - 1) == "stop"
        assert env.unwrapped.codec.decode(env.menu[-1]).stop


@pytest.mark.filterwarnings("ignore:.*is different from the unwrapped version")
def test_menu_actions_step_as_their_vectors_and_pass_the_checker():
    raw = tnf_env.make(**SETTINGS, max_steps=3, retrain_epochs=0.25)
    codec = raw.unwrapped.codec
    raw.action_space.seed(0)
    menu = [raw.action_space.sample() for _ in range(3)]
    for a in menu:  # gentle: prune level 0.5, no cluster pruning, so no episode collapses
        a[codec.slots("prune")], a[codec.slots("cluster_prune")] = 1, 0
    menu[1] = np.zeros_like(menu[0])
    env = DiscreteMenu(tnf_env.make(**SETTINGS, max_steps=3, retrain_epochs=0.25), menu=menu)
    gym_check_env(env, skip_render_check=True)
    out = []
    for e, actions in ((raw, menu[:2] + [menu[0]]), (env, [0, 1, np.int64(0)])):
        out.append([e.reset(seed=4)] + [e.step(a) for a in actions])
    assert [step[2] or step[3] for step in out[0][1:]] == [False, False, True]  # none cut short
    for a, b in zip(*out, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]


def test_default_menu_options_narrow_it():
    env = tnf_env.make(**SETTINGS, max_steps=3)
    menu = default_menu(env, prune_levels=(1.0,), cluster_options=("none",), cluster_prune=(None,))
    assert len(menu) == 2  # one per crossbar size
    with pytest.raises(ValueError, match=r"prune level 3\.0 is not one of"):
        default_menu(env, prune_levels=(3.0,))
    with pytest.raises(ValueError, match=r"crossbar size 64 is not one of \[16, 32\]"):
        default_menu(env, crossbar_sizes=(64,))
    with pytest.raises(ValueError, match=r"invalid cluster_options=\(\)"):
        default_menu(env, cluster_options=())


class _Dials(gym.Env):
    """A small env with a MultiDiscrete action: not a TraNNsformer environment."""

    observation_space = gym.spaces.Box(0, 1, (1,))
    action_space = gym.spaces.MultiDiscrete([3, 2])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), float(action[0]), True, False, {}


def test_bad_menus_and_actions_are_refused_in_one_line():
    env = tnf_env.make(**SETTINGS, max_steps=3)
    n = env.action_space.nvec.size
    good = np.zeros(n, dtype=np.int64)
    bad = good.copy()
    bad[0] = 9
    cases = [
        ([], "invalid menu: it is empty"),
        ([good, good[:-1]], rf"invalid menu entry 1 .*expected {n} integers"),
        ([bad], r"invalid menu entry 0 .*component 0 \(prune0\) is 9, allowed 0\.\.4"),
        ([good, good.copy()], r"entries 0 and 1 are the same action"),
    ]
    for menu, needle in cases:
        with pytest.raises(ValueError, match=needle):
            DiscreteMenu(env, menu=menu)
    wrapped = DiscreteMenu(env, menu=[good])
    for action in (1, -1, 0.5, "0"):
        with pytest.raises(ValueError, match=r"the menu has 1 actions, allowed 0\.\.0"):
            wrapped.action(action)
    with pytest.raises(ValueError, match="is not on the menu"):
        wrapped.index(np.ones(n, dtype=np.int64))
    with pytest.raises(ValueError, match="one-dimensional MultiDiscrete"):
        DiscreteMenu(gym.make("CartPole-v1"))
    dials = _Dials()
    with pytest.raises(ValueError, match="default menu needs a TraNNsformer environment"):
        DiscreteMenu(dials)
    with pytest.raises(ValueError, match=r"invalid menu entry 0 .*\[0, \[3, 2\]\[k\]\)"):
        DiscreteMenu(dials, menu=[[3, 0]])
    other = DiscreteMenu(dials, menu=[[2, 1], [0, 0]])
    other.reset(seed=0)
    assert other.step(0)[1] == 2.0 and other.describe(1) == "[0, 0]"


def test_sb3_dqn_learns_on_the_menu():
    env = DiscreteMenu(Monitor(tnf_env.make(**SETTINGS, max_steps=3, retrain_epochs=0.1)))
    model = DQN(
        "MlpPolicy", env, learning_starts=60, buffer_size=1000, batch_size=16, train_freq=4,
        target_update_interval=50, exploration_fraction=0.5, policy_kwargs={"net_arch": [32]},
        seed=0, device="cpu",
    )
    before = [p.detach().clone() for p in model.q_net.parameters()]
    model.learn(total_timesteps=300)
    assert model.num_timesteps == 300 and model._n_updates > 0
    assert any(not torch.equal(a, b) for a, b in zip(
        before, model.q_net.parameters(), strict=True))
    assert model.q_net.action_space.n == len(env.menu) == 2 * 5 * 8
    taken = model.replay_buffer.actions[: model.replay_buffer.size()].ravel()
    assert taken.min() >= 0 and taken.max() < len(env.menu) and len(set(taken.tolist())) > 20
    lengths = env.get_wrapper_attr("get_episode_lengths")()
    assert len(lengths) >= 300 // 3 - 1 and all(1 <= n <= 3 for n in lengths)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    _, _, terminated, truncated, info = env.step(action)
    assert "accuracy" in info


def test_a_time_limit_shorter_than_the_horizon_is_warned_about():
    cut = r"TimeLimit of 2 steps .* max_steps=4: .* set max_steps=2"
    with pytest.warns(UserWarning, match=cut):
        env = tnf_env.make(**SETTINGS, max_steps=4, max_episode_steps=2)
    env.reset(seed=0)
    zero = np.zeros(env.action_space.nvec.size, dtype=np.int64)
    env.step(zero)
    *_, truncated, info = env.step(zero)
    assert truncated and "delivered_step" not in info  # cut before the delivery
    # gymnasium.make's limit is seen from outside: by the check, or by DiscreteMenu
    env = gym.make(tnf_env.ENV_ID, **SETTINGS, max_steps=4, max_episode_steps=3)
    with pytest.warns(UserWarning, match="TimeLimit of 3 steps"):
        assert check_time_limit(env)
    with pytest.warns(UserWarning, match="TimeLimit of 3 steps"):
        DiscreteMenu(env)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for limit in (None, 4, 5):
            assert not check_time_limit(tnf_env.make(**SETTINGS, max_steps=4,
                                                     max_episode_steps=limit))
        assert not check_time_limit(gym.make(tnf_env.ENV_ID, **SETTINGS, max_steps=4))
