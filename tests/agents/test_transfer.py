"""A policy of one action menu acting on a task with another (MenuAdapter)."""

import numpy as np
import pytest

import tnf_env
from agents.rl.policies import run_episode
from agents.rl.transfer import MenuAdapter, nearest_index
from tnf_env.actions import ActionCodec
from tnf_env.observation import feature_names


class _Recorder:
    """A source-menu policy: always the second size, pruning level index 1; keeps what it saw."""

    name = "recorder"

    def __init__(self, n_layers=3):
        self.codec = ActionCodec(n_layers, (32, 64))
        self.seen = []

    def reset(self, env):
        pass

    def act(self, obs, info):
        self.seen.append(obs)
        a = np.zeros(len(self.codec.nvec), dtype=np.int64)
        a[self.codec.slots("prune")] = 1
        return self.codec.with_size(a, 1)


def test_a_policy_of_sizes_32_64_and_one_epoch_steps_acts_on_another_menu():
    env = tnf_env.make(max_steps=2, retrain_epochs=2.0, crossbar_sizes=(16, 32, 64, 128))
    inner = env.unwrapped
    assert inner.codec.n_onset_slots == 2  # the target's steps have onsets, the source's not
    source = _Recorder()
    adapter = MenuAdapter(source, source_sizes=(32, 64), source_sub_iterations=1)
    result = run_episode(env, adapter, seed=0)
    # the policy saw observations of its own menu's length
    names = feature_names(3, source.codec.names())
    assert all(o.shape == (len(names),) for o in source.seen)
    # its size (64) reached the chip by value, its onsets at the step's first sub-iteration
    assert result.final_info["crossbar_sizes"] == [64, 64, 64] or result.final_info[
        "delivered_step"] == 0
    action = result.actions[0]
    codec = inner.codec
    assert codec.sizes[action[codec.slots("crossbar")][0]] == 64
    assert list(np.asarray(action)[codec.slots("cluster_onset")]) == [0]
    # at the second step the policy read its last size on its own menu: index 1 of (32, 64)
    last = source.seen[1][names.index("last_crossbar0")]
    assert last == 1.0
    size_feature = source.seen[1][names.index("crossbar_size0")]
    assert size_feature == 1.0  # 64 is the top of (32, 64)


def test_sizes_map_by_value_on_a_log_scale():
    assert nearest_index(64, (16, 32, 64, 128)) == 2
    assert nearest_index(16, (32, 64)) == 0 and nearest_index(128, (32, 64)) == 1
    assert nearest_index(45, (32, 64)) == 0  # log-nearer to 32 (ties go to the smaller)


@pytest.mark.filterwarnings("ignore:.*is different from the unwrapped version")
def test_the_source_menu_env_passes_the_gymnasium_and_sb3_checkers():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from agents.experiments.transfer import SourceMenu

    target = tnf_env.make(max_steps=2, retrain_epochs=2.0, crossbar_sizes=(16, 32, 64, 128))
    env = SourceMenu(target, (32, 64), 1)
    assert env.action_space.nvec.tolist() == [5, 5, 5, 4, 4, 4, 17, 17, 17, 2]
    check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=True)


def test_a_loaded_policy_acts_on_another_menu_and_refuses_another_network():
    """PPOPolicy.load knows the menu it learned on (the shipped digits policy: sizes 32 and
    64, one-epoch steps): on another menu it acts through a MenuAdapter, on its own menu
    directly, and on a network of other layers it refuses with one line."""
    from agents.rl.ppo import PPOPolicy
    from agents.rl.transfer import menus_differ

    policy = PPOPolicy.load("policies/digits")
    assert policy.menu == ((32, 64), 1)
    other = tnf_env.make(max_steps=2, retrain_epochs=2.0, crossbar_sizes=(16, 32, 64, 128))
    assert menus_differ(other, *policy.menu)
    result = run_episode(other, policy, seed=0)
    codec = other.unwrapped.codec
    assert all(codec.sizes[a[codec.slots("crossbar")][0]] in (32, 64) for a in result.actions)
    own = tnf_env.make(max_steps=1, crossbar_sizes=(32, 64))
    assert not menus_differ(own, *policy.menu)
    run_episode(own, policy, seed=0)
    assert policy._adapter is None
    with pytest.raises(ValueError, match="learned on another network or action set"):
        run_episode(tnf_env.make(max_steps=1, topology="64-32-10"), policy, seed=0)


def test_train_warm_starts_by_cloning_another_tasks_policy(tmp_path):
    """warm_start: policy:policies/digits clones the shipped digits policy, acting through
    its menu adapter, into a PPO on this environment's own spaces; a directory without a
    trained policy is refused, naming what is allowed."""
    import json

    import torch
    from conftest import write_train_config

    from agents.cli import main
    from agents.rl.config import ConfigError, load_config

    torch.set_num_threads(1)
    cfg = write_train_config(tmp_path, env={"max_steps": 2, "retrain_epochs": 2.0,
                                            "topology": "64-256-256-10",
                                            "crossbar_sizes": [16, 32, 64, 128],
                                            "allow_stop": False},
                             timesteps=4, n_steps=4, batch_size=4, n_epochs=1,
                             checkpoint_every=4, eval_every=4, warm_start="policy:policies/digits",
                             warm_start_episodes=1)
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "warm_start.json").read_text())
    assert doc["schedule"] == "policy:policies/digits"
    with pytest.raises(ConfigError, match="'policy:DIR'"):
        load_config(str(cfg), ["warm_start=policy:" + str(tmp_path)])
