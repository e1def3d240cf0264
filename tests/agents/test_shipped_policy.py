"""The shipped digits policy: weights only, small, loaded without unpickling."""

import zipfile
from pathlib import Path

import torch

from agents.ppo import PPOPolicy, load_run_config

POLICY = Path(__file__).resolve().parents[2] / "policies" / "digits"


def test_shipped_policy_is_small_and_loads_as_weights():
    model = POLICY / "best_model.zip"
    assert model.stat().st_size < 1_000_000
    with zipfile.ZipFile(model) as zf:  # SB3's layout: JSON data and tensor files
        assert {"data", "policy.pth"} <= set(zf.namelist())
    cfg = load_run_config(POLICY)
    assert cfg.env["dataset"] == "digits" and cfg.baseline_seeds == [0, 1]
    policy = PPOPolicy.load(POLICY)  # weights-only path: torch.load(weights_only=True)
    assert policy.deterministic


def test_shipped_policy_reproduces_its_held_out_row():
    """Seed 2's ppo row of the compare run (a network the policy never trained on)."""
    import json

    import pytest

    from agents.experiment import Experiment

    torch.set_num_threads(1)
    want = json.loads((POLICY / "held_out_row.json").read_text())
    cfg = load_run_config(POLICY)
    exp = Experiment(cfg.env)
    try:
        d = exp.transform(PPOPolicy.load(POLICY), seed=2, crossbar_size=None)
        row = exp.score(d, 2, d.crossbar_size, method="ppo")
    finally:
        exp.close()
    assert d.crossbar_size == want["crossbar_size"] and d.epochs == want["epochs"]
    assert row["area_mm2_best"] == pytest.approx(want["area_mm2_best"])
    assert row["accuracy_test"] == pytest.approx(want["accuracy_test"])
