"""Progress of long work goes to stderr (tables on stdout stay clean); ``--quiet`` hides it,
and the environment, as a library, never prints."""

from __future__ import annotations

import logging

import torch
from conftest import write_train_config

import tnf_env
from agents.cli import main
from agents.common.progress import library_progress, progress_bar

# one seed, one size, two methods, one step of one epoch: seconds on digits
REPRODUCE = ["reproduce", "--dataset", "digits", "--crossbar-sizes", "16", "--seeds", "0",
             "--epochs", "1", "--steps", "1", "--methods", "original", "pruning",
             "--rate-grid", "1", "--snn-timesteps", "3"]


def test_a_bar_off_a_terminal_writes_whole_lines_and_a_disabled_one_nothing(capfd):
    with progress_bar(4, "work", enabled=True) as bar:
        bar.update(4)
    err = capfd.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    assert err.splitlines()[0].startswith("work:   0%") and "4/4" in err.splitlines()[-1]
    with progress_bar(4, "work", enabled=False) as bar:
        bar.update(4)
    assert capfd.readouterr() == ("", "")


def test_reproduce_shows_rows_and_baseline_training_on_stderr_and_quiet_hides_them(
        tmp_path, capfd):
    torch.set_num_threads(1)
    # a topology no other test trains: this run trains its baseline
    args = [*REPRODUCE, "--topology", "64-13-10", "--out", str(tmp_path / "a")]
    assert main(args) == 0
    out, err = capfd.readouterr()
    assert "training the dense baseline (digits 64-13-10" in err
    assert "dense baseline epoch 60/60" in err
    assert "reproduce: 100%" in err and "2/2" in err  # rows: 2 methods x 1 seed x 1 size
    assert "| original |" in out and "%|" not in out  # the table, no bar

    args = [*REPRODUCE, "--topology", "64-11-10", "--out", str(tmp_path / "b"), "--quiet"]
    assert main(args) == 0
    out, err = capfd.readouterr()
    assert "| original |" in out
    assert "dense baseline" not in err and "reproduce:" not in err and "%|" not in err


def test_train_shows_its_final_evaluation_and_comparison_unless_quiet(tmp_path, capfd):
    torch.set_num_threads(1)
    cfg = write_train_config(tmp_path, env={"max_steps": 2, "allow_stop": False},
                             timesteps=8, n_steps=8, checkpoint_every=8, eval_every=8,
                             eval_episodes=2)
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "a")]) == 0
    out, err = capfd.readouterr()
    assert "PPO training: 100%" in err and "8/8" in err  # a log file gets it too
    assert "final evaluation: 100%" in err and "2/2" in err
    assert "comparison: 100%" in err and "3/3" in err  # three policies, one episode each
    assert "| ppo (learned) |" in out
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    out, err = capfd.readouterr()
    assert "| ppo (learned) |" in out
    assert "final evaluation" not in err and "comparison:" not in err
    assert "PPO training" not in err


def test_building_an_environment_logs_the_baseline_training_and_prints_nothing(capfd, caplog):
    caplog.set_level(logging.INFO, logger="tnf_env")
    env = tnf_env.make(dataset="digits", topology="64-9-10", crossbar_sizes=(16,), max_steps=1)
    env.close()
    assert capfd.readouterr() == ("", "")  # the library prints nothing
    assert any("training the dense baseline" in r.getMessage() for r in caplog.records)
    with library_progress(True):  # what the command line shows
        logging.getLogger("tnf_env.model.baseline").info("a line")
    assert capfd.readouterr().err == "a line\n"
