"""hyperparams/ppo.yml: the Zoo's format, keyed by the environment ID, equal to the
digits configuration; with rl_zoo3 installed, its train runs a few steps on it."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tnf_env
from agents.rl.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_ppo_yml_matches_the_digits_configuration():
    doc = yaml.safe_load((ROOT / "hyperparams" / "ppo.yml").read_text())
    hp = doc[tnf_env.ENV_ID]
    cfg = load_config("digits")
    for key in ("n_envs", "n_steps", "batch_size", "n_epochs", "learning_rate", "gamma",
                "gae_lambda", "ent_coef", "clip_range"):
        assert hp[key] == getattr(cfg, key), key
    assert hp["n_timesteps"] == cfg.timesteps and hp["policy"] == "MlpPolicy"
    assert hp["policy_kwargs"] == f"dict(net_arch={list(cfg.net_arch)})"


def test_rl_zoo3_trains_a_few_steps(tmp_path):
    pytest.importorskip("rl_zoo3")
    conf = tmp_path / "ppo.yml"
    hp = yaml.safe_load((ROOT / "hyperparams" / "ppo.yml").read_text())
    hp[tnf_env.ENV_ID].update(n_envs=1, n_timesteps=8, n_steps=8, batch_size=8, n_epochs=1)
    conf.write_text(yaml.safe_dump(hp))
    cmd = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", tnf_env.ENV_ID,
           "--gym-packages", "tnf_env", "--conf-file", str(conf), "-f", str(tmp_path / "logs"),
           "--eval-freq", "-1", "--env-kwargs", "topology:'64-16-10'", "max_steps:2"]
    subprocess.run(cmd, check=True, cwd=ROOT, timeout=300)
    assert list((tmp_path / "logs").rglob("*.zip"))
