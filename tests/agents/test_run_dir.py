"""Run directories: created only once the environment exists, and one writer at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_train_config

from agents.cli import main
from agents.rl.run_dir import RunError, run_dir_lock

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("n_envs", [1, 2])
def test_a_failed_start_leaves_nothing_and_the_rerun_works(tmp_path, capsys, n_envs):
    out = tmp_path / "run"
    # 100 inputs do not fit digits' 64: only building the environment finds that out
    bad = write_train_config(tmp_path, env={"topology": "100-32-10"}, n_envs=n_envs)
    assert main(["train", "--config", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not fit dataset 'digits'" in err, err
    assert not out.exists()
    if n_envs == 1:  # the corrected rerun is not told the directory "already holds a run"
        good = write_train_config(tmp_path, timesteps=8, checkpoint_every=8, eval_every=8)
        assert main(["train", "--config", str(good), "--out", str(out), "--quiet"]) == 0
        assert (out / "config.yaml").is_file() and (out / "best_model.zip").is_file()


def test_two_lock_attempts_on_one_run_directory(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with run_dir_lock(run):
        with pytest.raises(RunError, match="in use by another process") as err:
            with run_dir_lock(run):
                pass
        assert str(run) in str(err.value)
    with run_dir_lock(run):  # released: free again
        pass


def test_a_new_run_waits_for_no_one_and_writes_nothing_into_a_held_directory(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    cfg = write_train_config(tmp_path, timesteps=8)
    with run_dir_lock(out):  # another writer is starting a run here
        assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{out} is in use by another process" in err
    assert not (out / "config.yaml").exists()


def test_a_second_process_cannot_write_a_run_in_progress(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = write_train_config(tmp_path, timesteps=400, checkpoint_every=16, eval_every=1000)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "train_agent.py"), "train", "--config", str(cfg)]
        + ["--out", str(out), "--quiet"],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not list((out / "checkpoints").glob("*.zip")):
            assert proc.poll() is None, "the first training ended early"
            time.sleep(0.2)
        assert main(["train", "--resume", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"{out} is in use by another process" in err
    finally:
        proc.kill()
        proc.wait()
    with run_dir_lock(out):  # a killed writer's lock goes with it
        pass
