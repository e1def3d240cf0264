"""The shipped digits policy: weights only, small, loaded without unpickling; what its
held-out row promises on any machine, and decisions that survive rounding."""

import json
import platform
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_shipped_model, run_shipped_policy

from agents.rl.ppo import PPOPolicy
from agents.rl.run_dir import load_run_config
from tnf_env.observation import RESOLUTION

POLICY = Path(__file__).resolve().parents[2] / "policies" / "digits"
EPISODE = POLICY / "held_out_episode.json"  # pinned: what the held-out episode observed
AREA_TOLERANCE = 0.10  # relative: the same decisions prune the same layers to within this
ACCURACY_TOLERANCE = 0.015  # absolute: the digits floor's tolerance


def test_shipped_policy_is_small_and_loads_as_weights():
    cfg = load_shipped_model(POLICY)
    assert cfg.env["dataset"] == "digits" and cfg.baseline_seeds == [0, 1]
    policy = PPOPolicy.load(POLICY)  # weights-only path: torch.load(weights_only=True)
    assert policy.deterministic


def run_held_out():
    """Seed 2 (a network the policy never trained on), through compare's path."""
    return run_shipped_policy(POLICY, 2)


@pytest.fixture(scope="module")
def held_out():
    return run_held_out()


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


def test_shipped_policy_acts_on_the_observation_grid(held_out):
    """On the trajectory this processor took: every observation is a multiple of the
    resolution, and the float64 path acts as SB3's float32 predict does."""
    observed, _, _ = held_out
    policy = observed.policy
    obs = np.array(observed.obs, dtype=np.float64)
    assert 1 <= len(obs) <= load_run_config(POLICY).env["max_steps"]
    assert (np.round(obs / RESOLUTION) * RESOLUTION == obs).all()
    sb3 = np.array([policy.model.predict(o.astype(np.float32), deterministic=True)[0]
                    for o in obs])
    assert (policy.greedy(obs) == sb3).all()


def test_shipped_policy_decisions_survive_rounding_perturbations():
    """On the recorded held-out episode (pinned data, so the same case on every processor:
    a live episode follows this processor's float32 trajectory, and near a decision
    boundary any policy flips): the recorded actions are the policy's, and moving any one
    feature by one resolution step, as a rounding boundary between processors would,
    leaves every action unchanged."""
    rec = json.loads(EPISODE.read_text())
    policy = PPOPolicy.load(POLICY)
    obs = np.array(rec["observations"], dtype=np.float64)
    assert len(obs) == len(rec["actions"]) >= 1
    assert (np.round(obs / RESOLUTION) * RESOLUTION == obs).all()
    actions = policy.greedy(obs)
    assert (actions == np.array(rec["actions"])).all()
    for o, a in zip(obs, actions, strict=True):
        single = o + RESOLUTION * np.concatenate([np.eye(o.size), -np.eye(o.size)])
        assert (policy.greedy(np.clip(single, -1.0, 1.0)) == a).all()


def record_held_out_episode() -> None:
    """Write the held-out episode's observations and actions on this processor."""
    observed, _, _ = run_held_out()
    obs = np.array(observed.obs, dtype=np.float64)
    doc = {
        "about": "the shipped policy's held-out episode (seed 2), as "
                 "`PYTHONPATH=tests python tests/agents/test_shipped_policy.py` recorded it",
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "observations": obs.tolist(),
        "actions": observed.policy.greedy(obs).tolist(),
    }
    EPISODE.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    record_held_out_episode()
