"""Learn at a cheap fidelity, deliver at full: the best schedule is re-run at full."""

import json

import numpy as np

import tnf_env
from agents.rl.full_delivery import at_full, deliver_at_full, is_full
from agents.rl.policies import RandomPolicy, run_episode
from agents.rl.replay import load_schedule, replay
from tnf_env.settings import explicit_settings
from tnf_env.state import STATE_METRICS, plain

LOW = {"max_steps": 2, "fidelity": "low", "crossbar_sizes": [32, 64], "collapse_margin": 1.0}


def _schedule_at_low(run, seed=3):
    env = tnf_env.make(**LOW)
    result = run_episode(env, RandomPolicy(seed=1), seed=seed)
    info = result.final_info
    doc = {"env": explicit_settings(LOW), "seed": seed, "actions": result.actions,
           "episode_return": result.episode_return,
           "metrics": {k: plain(info[k]) for k in STATE_METRICS if k in info}}
    (run / "best_schedule.json").write_text(json.dumps(doc))
    return doc, result


def test_the_delivered_schedule_is_the_full_fidelity_rerun_and_replays(tmp_path):
    doc, low = _schedule_at_low(tmp_path)
    new = deliver_at_full(tmp_path)
    assert new is not None and is_full(new["env"]) and not is_full(doc["env"])
    # the same actions from the same seed, at full fidelity
    full = run_episode(tnf_env.make(**at_full(LOW)), _Replay(doc["actions"]), seed=doc["seed"])
    assert new["episode_return"] == full.episode_return
    assert new["metrics"]["accuracy"] == full.final_info["accuracy"]
    assert new["trained_at"]["env"]["fidelity"] == "low"
    assert new["trained_at"]["episode_return"] == low.episode_return
    # what replay reads back reproduces the recorded full-fidelity metrics
    result, compared = replay(load_schedule(tmp_path / "best_schedule.json"))
    assert all(rec == now for rec, now in compared.values())
    # delivered once: a second call leaves the file alone
    assert deliver_at_full(tmp_path) is None


def test_a_schedule_found_at_full_is_left_alone(tmp_path):
    assert deliver_at_full(tmp_path) is None  # no schedule yet
    env = explicit_settings({"max_steps": 1, "fidelity": "full"})
    (tmp_path / "best_schedule.json").write_text(json.dumps(
        {"env": env, "seed": 0, "actions": [[0] * 10], "metrics": {}}))
    assert deliver_at_full(tmp_path) is None
    assert is_full({}) and is_full({"epoch_fraction": None}) and not is_full({"val_size": 100})


class _Replay:
    name = "replay"

    def __init__(self, actions):
        self.actions = [np.asarray(a) for a in actions]

    def reset(self, env):
        self.k = 0

    def act(self, obs, info):
        self.k += 1
        return self.actions[self.k - 1]



def test_train_at_low_fidelity_delivers_and_reports_at_full(tmp_path, capsys):
    """``train --set env.fidelity=low``: PPO learns on low-fidelity episodes; the run's
    best_schedule.json holds the full-fidelity re-run, which replay reproduces, and the
    comparison is measured at full."""
    import torch
    from conftest import write_train_config

    from agents.cli import main

    torch.set_num_threads(1)
    cfg = write_train_config(tmp_path, env={"max_steps": 2, "allow_stop": False},
                             timesteps=8, n_steps=4, batch_size=4, n_epochs=1,
                             checkpoint_every=8, eval_every=4)
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet",
                 "--set", "env.fidelity=low"]) == 0
    printed = capsys.readouterr().out
    assert "trained on low-fidelity episodes" in printed
    doc = load_schedule(out / "best_schedule.json")
    assert is_full(doc["env"]) and doc["trained_at"]["env"]["fidelity"] == "low"
    _, compared = replay(doc)
    assert all(rec == now for rec, now in compared.values())
