"""Warm start: behaviour cloning of the paper's schedule into a fresh PPO policy."""

import json

import numpy as np
import pytest
from conftest import TINY_TRAIN, write_train_config
from stable_baselines3 import PPO

import tnf_env
from agents.cli import main
from agents.rl.config import ConfigError, load_config
from agents.rl.policies import PaperPolicy, run_episode
from agents.rl.warmstart import (
    behaviour_clone,
    choice_probability,
    collect_demonstrations,
    component_probabilities,
    confidence_targets,
)
from tnf_env.actions import action_group


@pytest.fixture(scope="module")
def env():
    e = tnf_env.make(**TINY_TRAIN["env"])
    yield e
    e.close()


def test_cloned_policy_follows_the_paper_schedule(env):
    demo = collect_demonstrations(env, PaperPolicy(), seeds=[5, 6])
    assert demo.obs.shape[0] == demo.actions.shape[0] == demo.returns.shape[0] == 8
    model = PPO("MlpPolicy", env, seed=0, device="cpu")
    before = choice_probability(model, demo)
    stats = behaviour_clone(model, demo, confidence=0.9)
    assert before < 0.6 <= 0.9 <= stats["choice_probability"]
    assert stats["updates"] >= 1
    # the deterministic cloned policy now plays the paper's schedule
    paper = run_episode(env, PaperPolicy(), 5)

    class Cloned:
        name = "cloned"

        def reset(self, env):
            pass

        def act(self, obs, info):
            return model.predict(obs, deterministic=True)[0]

    cloned = run_episode(env, Cloned(), 5)
    agree = np.mean(np.array(cloned.actions) == np.array(paper.actions))
    assert agree > 0.95
    assert cloned.final_info["cost"] == pytest.approx(paper.final_info["cost"], abs=0.05)


def test_confidence_must_leave_room_to_explore(env):
    demo = collect_demonstrations(env, PaperPolicy(), seeds=[5])
    model = PPO("MlpPolicy", env, seed=0, device="cpu")
    with pytest.raises(ValueError, match="confidence must be in"):
        behaviour_clone(model, demo, confidence=1.0)


def test_per_group_confidence_holds_some_choices_and_loosens_others(env):
    demo = collect_demonstrations(env, PaperPolicy(), seeds=[5, 6])
    names = env.unwrapped.codec.names()
    target = confidence_targets({"prune": 0.98, "cluster": 0.6, "default": 0.7}, names)
    assert target[names.index("prune0")] == 0.98
    assert target[names.index("cluster1")] == 0.6
    assert target[names.index("cluster_prune0")] == 0.7  # not named: the default
    model = PPO("MlpPolicy", env, seed=0, device="cpu")
    stats = behaviour_clone(model, demo, confidence=target)
    probs = component_probabilities(model, demo)
    assert np.all(probs >= target - 1e-6)
    assert stats["component_probability"] == pytest.approx(probs.tolist(), abs=1e-3)
    prune = [probs[i] for i, n in enumerate(names) if n.startswith("prune")]
    cluster = [probs[i] for i, n in enumerate(names) if action_group(n) == "cluster"]
    # components that reached their target stop being fitted, so loose groups stay loose
    assert min(prune) >= 0.98 and max(cluster) < 0.9


def test_confidence_groups_are_checked(env, tmp_path):
    names = env.unwrapped.codec.names()
    with pytest.raises(ValueError, match="unknown action group.*'prunning'"):
        confidence_targets({"prunning": 0.9}, names)
    with pytest.raises(ValueError, match="confidence must be in"):
        confidence_targets({"prune": 1.0}, names)
    demo = collect_demonstrations(env, PaperPolicy(), seeds=[5])
    model = PPO("MlpPolicy", env, seed=0, device="cpu")
    with pytest.raises(ValueError, match="one number or"):
        behaviour_clone(model, demo, confidence=[0.8, 0.8])
    with pytest.raises(ConfigError, match="warm_start_confidence.*action groups"):
        load_config(None, warm_start_confidence={"clusters": 0.5})
    assert load_config(None, warm_start_confidence={"cluster": 0.5}).warm_start_confidence == {
        "cluster": 0.5
    }


@pytest.mark.parametrize("teacher", ["paper", "pruning"])
def test_train_with_warm_start_records_the_cloning(tmp_path, teacher):
    cfg = write_train_config(
        tmp_path, warm_start=teacher, warm_start_episodes=1, warm_start_confidence=0.7
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    stats = json.loads((out / "warm_start.json").read_text())
    assert stats["schedule"] == teacher and stats["choice_probability"] >= 0.7


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"warm_start": "expert"},
         "'warm_start' must be 'none', 'paper', 'pruning' or 'policy:DIR'"),
        ({"warm_start_confidence": 1.5}, "'warm_start_confidence' must be a number in"),
        ({"warm_start_episodes": 0}, "'warm_start_episodes' must be an integer"),
    ],
)
def test_bad_warm_start_settings_are_clear_errors(tmp_path, capsys, changes, match):
    cfg = write_train_config(tmp_path, **changes)
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert match in capsys.readouterr().err
