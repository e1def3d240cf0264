"""A configuration file with no keys is refused (it would run as every default), and PPO's
minibatch size is checked against the rollout it splits; A2C, which has no minibatches, is
never refused for it."""

from __future__ import annotations

import pytest

from agents.cli import main
from agents.rl.config import ConfigError, config_from_dict, known_configs, load_config

EMPTY = ["", "\n\n", "# only a comment\n", "null\n", "~\n", "{}\n", "---\n"]


@pytest.mark.parametrize("text", EMPTY)
def test_an_empty_config_file_is_refused_naming_it(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    message = str(info.value)
    assert f"config {path} is empty" in message and "leave --config out" in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize("command", ["train", "compare", "search", "benchmark"])
def test_every_command_reading_a_config_refuses_an_empty_one(tmp_path, capsys, command):
    path = tmp_path / "empty.yaml"
    path.write_text("# to be filled in\n")
    out = tmp_path / "out"
    assert main([command, "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is empty" in err, err
    assert not out.exists()


def test_a_config_with_one_key_still_takes_the_defaults_for_the_rest(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("seed: 3\n")
    cfg = load_config(str(path))
    assert cfg.seed == 3 and cfg.batch_size == 40 and cfg.n_steps * cfg.n_envs == 80


@pytest.mark.parametrize("name", known_configs())
def test_the_shipped_configs_split_their_rollouts_into_whole_minibatches(name):
    cfg = load_config(name)
    assert (cfg.n_steps * cfg.n_envs) % cfg.batch_size == 0


@pytest.mark.parametrize("n_steps,n_envs,batch_size", [
    (24, 1, 48),   # larger than the rollout: SB3 trains on one minibatch of 24
    (8, 2, 6),     # 16 does not split into 6s: SB3 warns, then a last minibatch of 4
    (5, 1, 2),
])
def test_a_minibatch_that_does_not_split_the_rollout_is_refused(n_steps, n_envs, batch_size):
    with pytest.raises(ConfigError) as info:
        config_from_dict({"n_steps": n_steps, "n_envs": n_envs, "batch_size": batch_size})
    message = str(info.value)
    rollout = n_steps * n_envs
    assert f"n_steps * n_envs = {n_steps} * {n_envs} = {rollout}" in message
    assert f"got batch_size={batch_size}" in message and len(message.splitlines()) == 1


def test_the_suggested_sizes_split_the_rollout():
    with pytest.raises(ConfigError, match=r"e\.g\. 6, 12, 24\)"):
        config_from_dict({"n_steps": 24, "n_envs": 1, "batch_size": 48})
    for size in (6, 12, 24):
        assert config_from_dict({"n_steps": 24, "n_envs": 1, "batch_size": size})


def test_changing_the_workers_is_checked_too():
    cfg = load_config("mnist10k")  # 24 steps x 2 workers, minibatches of 48
    with pytest.raises(ConfigError, match="= 24 \\* 1 = 24"):
        cfg.model_copy(update={"n_envs": 1})
    with pytest.raises(ConfigError, match="got batch_size=48"):
        load_config("mnist10k", n_envs=3)  # 72 is no multiple of 48
    assert load_config("mnist10k", n_envs=4).n_envs == 4


def test_a2c_reads_no_batch_size_and_is_not_refused_for_it():
    cfg = config_from_dict({"learner": "a2c", "n_steps": 5, "n_envs": 1, "batch_size": 48})
    assert cfg.learner == "a2c" and cfg.batch_size == 48
    with pytest.raises(ConfigError, match="batch_size"):
        cfg.model_copy(update={"learner": "ppo"})
