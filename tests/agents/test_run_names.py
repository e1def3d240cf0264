"""Run names become one directory under runs/: names that could climb out are refused."""

from __future__ import annotations

import re

import pytest
from conftest import write_train_config

from agents.cli import main
from agents.rl.config import ConfigError, config_from_dict, load_config


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", "", "..", "x\\y", "a b", 5])
def test_unsafe_names_are_refused_naming_field_and_value(tmp_path, name):
    with pytest.raises(ConfigError, match="config key 'name' must be a single path component") as e:
        config_from_dict({"name": name})
    assert repr(name) in str(e.value) and "letters, digits" in str(e.value)


def test_a_name_cannot_write_outside_runs(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    outside = tmp_path / "escaped"
    for name in ("../../escaped", str(outside)):
        cfg = write_train_config(tmp_path, name=name, timesteps=8)
        assert main(["train", "--config", str(cfg), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "'name'" in err and repr(name) in err
    assert not list(tmp_path.glob("escaped*")) and not (work / "runs").exists()


def test_safe_names_and_seeds(tmp_path, capsys):
    for name in ("digits", "mnist10k-paper-rl", "tiny_N16-lr0.001", "-x"):
        assert config_from_dict({"name": name}).name == name
    assert load_config("mnist10k_paper_rl").run_name == "mnist10k-paper-rl-s0"
    seed_error = re.escape("'seed' must be an integer in [0, 2**32), got -1")
    with pytest.raises(ConfigError, match=seed_error):
        config_from_dict({"seed": -1})
    cfg = write_train_config(tmp_path)
    assert main(["train", "--config", str(cfg), "--seed", "-1", "--out", str(tmp_path / "r")]) == 2
    assert "'seed' must be an integer in [0, 2**32)" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
