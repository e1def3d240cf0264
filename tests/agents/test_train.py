"""``train_agent.py train``: smoke run, errors, resume after SIGKILL, replay."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import write_train_config

from agents.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path, **changes) -> Path:
    return write_train_config(tmp_path, **changes)


def test_smoke_training_writes_a_complete_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", str(_write(tmp_path)), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "ppo (learned)" in text and "paper schedule" in text and "random" in text
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["timesteps"] == 48 and saved["env"]["topology"] == "64-32-10"
    assert (out / "best_model.zip").exists() and (out / "final_model.zip").exists()
    assert sorted(p.name for p in (out / "checkpoints").iterdir())[:1] == ["rl_model_16_steps.zip"]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = list((out / "tb").rglob("events.out.tfevents*"))
    tags = set(EventAccumulator(str(events)).Reload().Tags()["scalars"])
    assert {
        "episode/accuracy",
        "episode/crossbars",
        "episode/is_success",
        "eval/mean_reward",
        "eval/cost",
        "rollout/ep_rew_mean",
    } <= tags
    # VecMonitor's CSV, with the per-episode metrics, as SB3's load_results reads it
    from stable_baselines3.common.monitor import load_results

    episodes = load_results(str(out / "monitor"))
    assert len(episodes) >= 1 and {"r", "l", "accuracy", "cost", "crossbars"} <= set(episodes)
    doc = json.loads((out / "best_schedule.json").read_text())
    assert doc["actions"] and {"accuracy", "area_mm2", "energy_nj", "crossbars"} <= set(
        doc["metrics"]
    )
    # replay reproduces the recorded metrics exactly
    assert main(["replay", str(out / "best_schedule.json"), "--render", str(tmp_path / "f")]) == 0
    assert "DIFFERENT" not in capsys.readouterr().out
    assert list((tmp_path / "f").glob("step_*.png"))
    # the run directory is never overwritten silently
    assert main(["train", "--config", str(_write(tmp_path)), "--out", str(out), "--quiet"]) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"colour": 1}, "unknown config key"),
        ({"n_envs": 0}, "'n_envs' must be an integer in [1, 256], got 0"),
        ({"env": {"dataset": "nope"}}, "dataset='nope'"),
    ],
)
def test_bad_config_is_a_one_line_error(tmp_path, capsys, changes, match):
    assert (
        main(["train", "--config", str(_write(tmp_path, **changes)), "--out", str(tmp_path / "r")])
        == 2
    )
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_missing_run_and_unknown_config(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "nowhere")]) == 2
    assert "no run there" in capsys.readouterr().err
    assert main(["train", "--config", "no-such-config"]) == 2
    assert "known:" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "missing.json")]) == 2


def test_resume_after_sigkill_continues_the_count(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = _write(tmp_path, timesteps=400, checkpoint_every=16, eval_every=1000)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "train_agent.py"),
            "train",
            "--config",
            str(cfg),
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while time.time() < deadline and len(list((out / "checkpoints").glob("*.zip"))) < 2:
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ckpts = sorted(int(p.stem.split("_")[2]) for p in (out / "checkpoints").glob("*.zip"))
    assert len(ckpts) >= 2 and ckpts[-1] < 400
    # shrink the budget so the resumed run is short; the count must continue, not restart
    saved = yaml.safe_load((out / "config.yaml").read_text())
    saved["timesteps"] = ckpts[-1] + 16
    (out / "config.yaml").write_text(yaml.safe_dump(saved))
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"{ckpts[-1] + 16} timesteps" in text


def test_incompatible_checkpoint_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            ["train", "--config", str(_write(tmp_path, timesteps=16)), "--out", str(out), "--quiet"]
        )
        == 0
    )
    saved = yaml.safe_load((out / "config.yaml").read_text())
    saved["env"]["crossbar_sizes"] = [16, 32, 64]  # a different action space
    saved["timesteps"] = 32
    (out / "config.yaml").write_text(yaml.safe_dump(saved))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--quiet"]) == 2
    assert "does not fit this environment" in capsys.readouterr().err


def test_resume_of_a_finished_run_and_flag_misuse(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            ["train", "--config", str(_write(tmp_path, timesteps=16)), "--out", str(out), "--quiet"]
        )
        == 0
    )
    assert main(["train", "--resume", str(out), "--quiet"]) == 0  # nothing left: evaluates
    assert "16 timesteps" in capsys.readouterr().out
    assert main(["train", "--resume", str(out), "--seed", "3"]) == 2
    assert "drop --seed" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--timesteps", "0"]) == 2


def test_resume_with_timesteps_trains_a_finished_run_on_to_the_new_total(tmp_path, capsys):
    from stable_baselines3 import PPO
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    cfg = _write(tmp_path, timesteps=16, checkpoint_every=1000)  # no checkpoint: final model
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    assert main(["train", "--resume", str(out), "--timesteps", "32", "--quiet"]) == 0
    assert "32 timesteps" in capsys.readouterr().out
    assert PPO.load(out / "final_model.zip").num_timesteps == 32
    assert yaml.safe_load((out / "config.yaml").read_text())["timesteps"] == 32
    # TensorBoard continues the same curve: one run directory, steps past the first part
    (run,) = (out / "tb").iterdir()
    steps = []
    for events in run.glob("events.out.tfevents*"):
        acc = EventAccumulator(str(events)).Reload()
        steps += [e.step for e in acc.Scalars("train/approx_kl")]
    assert max(steps) > 16 and min(steps) <= 16


def test_truncated_latest_checkpoint_falls_back_to_the_one_before(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = _write(tmp_path, timesteps=32)
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    latest = out / "checkpoints" / "rl_model_32_steps.zip"
    latest.write_bytes(b"")  # killed as the save began (SB3 calls this a ValueError)
    saved = yaml.safe_load((out / "config.yaml").read_text())
    saved["timesteps"] = 48
    (out / "config.yaml").write_text(yaml.safe_dump(saved))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    from stable_baselines3 import PPO

    assert PPO.load(out / "final_model.zip").num_timesteps == 48
