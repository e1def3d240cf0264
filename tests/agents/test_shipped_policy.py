"""The shipped digits policy: weights only, small, loaded without unpickling; what its
held-out row promises on any machine, and decisions that survive rounding."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.experiments.episodes import Experiment
from agents.rl.ppo import PPOPolicy
from agents.rl.run_dir import load_run_config
from tnf_env.observation import RESOLUTION

POLICY = Path(__file__).resolve().parents[2] / "policies" / "digits"
AREA_TOLERANCE = 0.10  # relative: the same decisions prune the same layers to within this
ACCURACY_TOLERANCE = 0.015  # absolute: the digits floor's tolerance


def test_shipped_policy_is_small_and_loads_as_weights():
    model = POLICY / "best_model.zip"
    assert model.stat().st_size < 1_000_000
    with zipfile.ZipFile(model) as zf:  # SB3's layout: JSON data and tensor files
        assert {"data", "policy.pth"} <= set(zf.namelist())
    cfg = load_run_config(POLICY)
    assert cfg.env["dataset"] == "digits" and cfg.baseline_seeds == [0, 1]
    policy = PPOPolicy.load(POLICY)  # weights-only path: torch.load(weights_only=True)
    assert policy.deterministic


class _Observed:
    """Runs the policy and keeps every observation it acted on."""

    def __init__(self, policy: PPOPolicy) -> None:
        self.policy, self.name, self.obs = policy, policy.name, []

    def reset(self, env) -> None:
        self.policy.reset(env)

    def act(self, obs, info):
        self.obs.append(np.array(obs))
        return self.policy.act(obs, info)


@pytest.fixture(scope="module")
def held_out():
    """Seed 2 (a network the policy never trained on), through compare's path."""
    torch.set_num_threads(1)
    cfg = load_run_config(POLICY)
    policy = _Observed(PPOPolicy.load(POLICY))
    exp = Experiment(cfg.env)
    try:
        d = exp.transform(policy, seed=2, crossbar_size=None)
        row = exp.score(d, 2, d.crossbar_size, method="ppo")
    finally:
        exp.close()
    return policy, d, row


def test_shipped_policy_keeps_its_held_out_row_on_any_machine(held_out):
    """What must hold on any x86 processor. Retraining runs in float32, whose kernels
    differ between processors in the last bits, so the weights (and with them test
    accuracy and the energy of measured spikes) are equal only on one machine; the
    decisions, the delivered network's floor and its area are asserted."""
    _, d, row = held_out
    want = json.loads((POLICY / "held_out_row.json").read_text())
    assert row["meets_floor_margin"] and row["meets_floor"]  # selection's rule, validation
    assert d.crossbar_size == want["crossbar_size"] and d.epochs == want["epochs"]
    assert row["area_mm2_best"] == pytest.approx(want["area_mm2_best"], rel=AREA_TOLERANCE)
    assert abs(row["accuracy_test"] - want["accuracy_test"]) <= ACCURACY_TOLERANCE


def test_shipped_policy_decisions_survive_rounding_perturbations(held_out):
    """Every observation of the held-out episode is a multiple of the resolution, and a
    change of one resolution step in any feature (or in all of them at once) leaves the
    policy's action unchanged; the float64 path acts as SB3's float32 predict does."""
    observed, _, _ = held_out
    policy = observed.policy
    obs = np.array(observed.obs, dtype=np.float64)
    assert len(obs) == 10 and (np.round(obs / RESOLUTION) * RESOLUTION == obs).all()
    actions = policy.greedy(obs)
    sb3 = np.array([policy.model.predict(o.astype(np.float32), deterministic=True)[0]
                    for o in obs])
    assert (actions == sb3).all()
    rng = np.random.default_rng(0)
    for o, a in zip(obs, actions, strict=True):
        single = o + RESOLUTION * np.concatenate([np.eye(o.size), -np.eye(o.size)])
        every = o + RESOLUTION * rng.integers(-1, 2, size=(200, o.size))
        moved = np.clip(np.vstack([single, every]), -1.0, 1.0)
        assert (policy.greedy(moved) == a).all()
