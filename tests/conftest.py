"""Shared fixtures: every test gets its own baseline cache and data directory."""

from __future__ import annotations

import numpy as np
import pytest

from tnf_env.data.datasets import Dataset
from tnf_env.settings import EnvConfig


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # Never touch the user's ~/.cache: a test's baselines live and die with the session.
    monkeypatch.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))


def make_blobs_dataset(n_inputs: int = 16, n_per_class: int = 30, seed: int = 0) -> Dataset:
    """A tiny separable 10-class dataset: class c lights up its own pixels."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.repeat(np.arange(10), n)
        x = rng.uniform(0, 0.2, size=(y.size, n_inputs)).astype(np.float32)
        for c in range(10):
            x[y == c, (c * n_inputs) // 10] = 0.9
        return x, y.astype(np.int64)

    xt, yt = split(n_per_class)
    xv, yv = split(n_per_class // 3)
    xs, ys = split(n_per_class // 3)
    return Dataset("blobs", xt, yt, xv, yv, xs, ys)


@pytest.fixture
def settings_validations(monkeypatch):
    """How many full validations (types and rules of every setting) run, and how many
    partial ones (the checks of the settings an override changes, and of those reading
    them)."""
    calls = {"from_kwargs": 0, "validate": 0, "partial": 0}
    from_kwargs, check = EnvConfig.from_kwargs.__func__, EnvConfig._check

    def counting_from_kwargs(cls, **kwargs):
        calls["from_kwargs"] += 1
        return from_kwargs(cls, **kwargs)

    def counting_check(self, names):
        calls["validate" if len(names) == len(EnvConfig.model_fields) else "partial"] += 1
        return check(self, names)

    monkeypatch.setattr(EnvConfig, "from_kwargs", classmethod(counting_from_kwargs))
    monkeypatch.setattr(EnvConfig, "_check", counting_check)
    return calls


@pytest.fixture
def blobs() -> Dataset:
    return make_blobs_dataset()


# A training configuration small enough for tests: a 64-32-10 digits network, short episodes.
TINY_TRAIN = {
    "name": "tiny",
    "env": {
        "dataset": "digits",
        "topology": "64-32-10",
        "crossbar_sizes": [16, 32],
        "max_steps": 4,
        "retrain_epochs": 0.5,
        "allow_stop": True,
    },
    "timesteps": 48,
    "n_envs": 1,
    "n_steps": 8,
    "batch_size": 8,
    "n_epochs": 2,
    "checkpoint_every": 16,
    "eval_every": 24,
    "eval_episodes": 1,
    "compare_episodes": 1,
}


def write_train_config(tmp_path, env: dict | None = None, **changes):
    """Write TINY_TRAIN (with ``changes`` and ``env`` settings merged in) as YAML; its path."""
    import yaml

    cfg = {**TINY_TRAIN, **changes, "env": {**TINY_TRAIN["env"], **(env or {})}}
    if "env" in changes:  # a test replacing the whole env block gets exactly that
        cfg["env"] = changes["env"]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def train_tiny_run(tmp_path):
    """Train a 12-step PPO run of 3-step episodes on TINY_TRAIN; the run directory."""
    import torch

    from agents.cli import main

    torch.set_num_threads(1)
    cfg = write_train_config(
        tmp_path,
        env={"max_steps": 3, "allow_stop": False},
        timesteps=12,
        n_steps=6,
        batch_size=6,
        n_epochs=1,
        checkpoint_every=12,
        eval_every=6,
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    return out


class ObservedPolicy:
    """A shipped policy that keeps every observation it acted on (the held-out episodes
    the policy tests record and check)."""

    def __init__(self, policy) -> None:
        self.policy, self.name, self.obs = policy, policy.name, []

    def reset(self, env) -> None:
        self.policy.reset(env)

    def act(self, obs, info):
        self.obs.append(np.array(obs))
        return self.policy.act(obs, info)


def load_shipped_model(policy_dir):
    """A shipped policy's run config, after checking its model is under 1 MB and holds only
    SB3's JSON data and tensor files (nothing pickled)."""
    import zipfile

    from agents.rl.run_dir import load_run_config

    model = policy_dir / "best_model.zip"
    assert model.stat().st_size < 1_000_000
    with zipfile.ZipFile(model) as zf:  # SB3's layout: JSON data and tensor files
        assert {"data", "policy.pth"} <= set(zf.namelist())
    return load_run_config(policy_dir)


def run_shipped_policy(policy_dir, seed: int):
    """A shipped policy's episode on baseline ``seed`` at full fidelity, through compare's
    path (one torch thread): the observed policy, the delivered network and its row."""
    import torch

    from agents.experiments.episodes import EpisodeRunner
    from agents.rl.full_delivery import at_full
    from agents.rl.ppo import PPOPolicy
    from agents.rl.run_dir import load_run_config

    torch.set_num_threads(1)
    policy = ObservedPolicy(PPOPolicy.load(policy_dir))
    exp = EpisodeRunner(at_full(load_run_config(policy_dir).env))
    try:
        d = exp.transform(policy, seed=seed, crossbar_size=None)
        row = exp.score(d, seed, d.crossbar_size, method="ppo")
    finally:
        exp.close()
    return policy, d, row
