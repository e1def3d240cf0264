"""A2C, the second learner: chosen by the config key ``learner``, it trains, resumes, loads
back weights only, replays and is benchmarked like PPO; an unknown learner is refused."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from conftest import write_train_config

from agents.cli import main
from agents.rl.config import ConfigError, config_from_dict, load_config
from agents.rl.learners import LearnerError, get_learner, learner_names
from agents.rl.sb3_policy import SB3Policy


def _tiny_a2c(tmp_path, **changes):
    """The tests' tiny configuration (3-step episodes, 12 steps) with ``learner: a2c``."""
    return write_train_config(
        tmp_path, env={"max_steps": 3, "allow_stop": False}, learner="a2c", timesteps=12,
        n_steps=6, checkpoint_every=6, eval_every=6, **changes)


def test_a2c_trains_a_run_that_loads_back_resumes_and_replays(tmp_path, capsys):
    from stable_baselines3 import A2C

    torch.set_num_threads(1)
    out = tmp_path / "run"
    cfg = _tiny_a2c(tmp_path, warm_start="paper")  # behaviour cloning into A2C's policy
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "| a2c (learned) |" in text and "ppo" not in text
    assert yaml.safe_load((out / "config.yaml").read_text())["learner"] == "a2c"
    assert (out / "warm_start.json").is_file() and (out / "tb" / "a2c_1").is_dir()

    policy = SB3Policy.load(out)  # rebuilt by the run's learner, weights only
    assert type(policy.model) is A2C and policy.name == "a2c"
    saved = A2C.load(out / "best_model.zip").policy.state_dict()  # our own file: safe here
    now = policy.model.policy.state_dict()
    assert saved.keys() == now.keys() and all(torch.equal(saved[k], now[k]) for k in saved)

    assert main(["train", "--resume", str(out), "--timesteps", "18", "--quiet"]) == 0
    assert A2C.load(out / "final_model.zip").num_timesteps == 18  # weights and RMSprop state
    assert main(["replay", str(out / "best_schedule.json")]) == 0


def test_benchmark_names_an_a2c_runs_rows_after_its_learner(tmp_path, capsys):
    torch.set_num_threads(1)
    run = tmp_path / "run"
    cfg = _tiny_a2c(tmp_path)
    assert main(["train", "--config", str(cfg), "--out", str(run), "--quiet"]) == 0
    out = tmp_path / "bench"
    args = ["benchmark", "--run", str(run), "--seeds", "0", "--crossbar-sizes", "16",
            "--snn-timesteps", "5", "--out", str(out), "--quiet"]
    assert main([*args, "--methods", "original", "ppo"]) == 2  # no ppo policy in this run
    assert "'ppo': not a method" in capsys.readouterr().err
    assert main([*args, "--methods", "original", "paper", "a2c"]) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["original", "paper", "a2c"]


def test_the_learner_key_chooses_the_algorithm_and_its_hyperparameters():
    from stable_baselines3 import A2C, PPO

    assert {"ppo", "a2c"} <= set(learner_names())
    assert config_from_dict({}).learner == "ppo"  # a config (or run) without the key: PPO
    cfg = config_from_dict({"learner": "a2c", "n_steps": 7, "gamma": 0.9, "n_envs": 1,
                            "net_arch": [8], "n_epochs": 3, "batch_size": 7})
    a2c = get_learner("a2c").hyperparameters(cfg)
    assert {"batch_size", "n_epochs", "clip_range"}.isdisjoint(a2c)  # PPO's keys: ignored
    assert a2c["n_steps"] == 7 and a2c["policy_kwargs"] == {"net_arch": [8]}
    assert get_learner("ppo").hyperparameters(cfg)["n_epochs"] == 3
    import gymnasium

    env = gymnasium.make("CartPole-v1")
    model = get_learner("a2c").build(cfg, env, "cpu")
    assert type(model) is A2C and model.n_steps == 7 and model.gamma == 0.9
    assert type(get_learner("ppo").build(cfg, env, "cpu")) is PPO


def test_an_unknown_learner_is_refused_in_one_line_naming_the_allowed(capsys):
    allowed = ", ".join(learner_names())  # "a2c, ppo" and any learner added since
    with pytest.raises(ConfigError, match=f"'learner' must be one of {allowed}, got 'nope'"):
        load_config(None, ["learner=nope"])
    with pytest.raises(LearnerError, match=f"unknown learner 'nope'; allowed: {allowed}$"):
        get_learner("nope")
    assert main(["train", "--set", "learner=nope", "--timesteps", "8"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'learner'" in err and allowed in err and len(err.splitlines()) == 1
