"""Flags and output paths are checked before any work starts: one line, exit status 2."""

from __future__ import annotations

import json

import pytest
from conftest import write_train_config

import agents.experiments.benchmark
import agents.experiments.reproduce
import agents.rl.replay
from agents.cli import main


@pytest.fixture
def no_work(monkeypatch):
    """The commands' work functions: reaching one means a bad flag was not caught first."""

    def fail(*args, **kwargs):
        raise AssertionError("the work started before the flags were checked")

    for module, name in (
        (agents.experiments.benchmark, "run_benchmark"),
        (agents.experiments.reproduce, "run_reproduce"),
        (agents.rl.replay, "replay"),
    ):
        monkeypatch.setattr(module, name, fail)


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_an_output_path_that_is_a_file_is_refused_before_the_work(tmp_path, capsys, no_work):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    cfg = write_train_config(tmp_path)
    schedule = tmp_path / "best_schedule.json"
    schedule.write_text(json.dumps({"env": {}, "seed": 0, "actions": [[0]], "metrics": {}}))
    for out in (taken, taken / "below"):
        for argv in (
            ["benchmark", "--config", str(cfg), "--out", str(out)],
            ["reproduce", "--out", str(out)],
            ["train", "--config", str(cfg), "--out", str(out)],
        ):
            assert main(argv) == 2
            _one_line_error(capsys, "--out", "exists and is not a directory")
        assert main(["replay", str(schedule), "--render", str(out)]) == 2
        _one_line_error(capsys, "--render", "exists and is not a directory")


@pytest.mark.parametrize(
    "flags,needles",
    [
        (["--random-candidates", "0"], ["--random-candidates", "[1, 10000]", "got 0"]),
        (["--random-candidates", "-3"], ["--random-candidates", "got -3"]),
        (["--budget", "-1"], ["--budget", "(0, 10000000]", "got -1.0"]),
        (["--budget", "0"], ["--budget", "got 0.0"]),
        (["--budget", "nan"], ["--budget", "got nan"]),
        (["--seeds", "0", "-1"], ["--seeds", "[0, 2**32)", "got -1"]),
    ],
)
def test_bad_benchmark_flags_name_the_flag(tmp_path, capsys, no_work, flags, needles):
    cfg = write_train_config(tmp_path)
    argv = ["benchmark", "--config", str(cfg), "--out", str(tmp_path / "b"), *flags]
    assert main(argv) == 2
    _one_line_error(capsys, *needles)
    assert not (tmp_path / "b").exists()


def test_negative_seeds_elsewhere(tmp_path, capsys, no_work):
    assert main(["reproduce", "--seeds", "-1", "--out", str(tmp_path / "r")]) == 2
    _one_line_error(capsys, "--seeds", "got -1")
    assert main(["search", "--seeds", "-2", "--out", str(tmp_path / "s")]) == 2
    _one_line_error(capsys, "--seeds", "got -2")


def test_seed_limits_are_named_once_and_refused_in_one_format():
    """The environment takes seeds below 2**63; a command's seeds (a learner's goes to
    numpy's global generator) stay below 2**32; both refusals print the same interval."""
    from agents.cli.checks import CLIError, check_seeds
    from agents.rl.config import ConfigError, config_from_dict
    from tnf_env.settings import EnvConfig
    from tnf_env.validation import NUMPY_SEED_LIMIT, SEED_LIMIT, check_seed

    assert check_seed(SEED_LIMIT - 1) == SEED_LIMIT - 1
    assert EnvConfig.from_kwargs(seed=SEED_LIMIT - 1).seed == SEED_LIMIT - 1
    check_seeds([NUMPY_SEED_LIMIT - 1])
    with pytest.raises(CLIError, match=r"\[0, 2\*\*32\), got 4294967296"):
        check_seeds([NUMPY_SEED_LIMIT], "--search-seed")
    with pytest.raises(ConfigError, match=r"'seed' must be an integer in \[0, 2\*\*32\)"):
        config_from_dict({"seed": NUMPY_SEED_LIMIT})
    with pytest.raises(ValueError, match=r"seed=.*an integer in \[0, 2\*\*63\)"):
        EnvConfig.from_kwargs(seed=SEED_LIMIT)
