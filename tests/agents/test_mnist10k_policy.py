"""The shipped mnist-10k policy (the headline's PPO, warm-started from digits and trained at
the low fidelity): weights only and small; its recorded held-out episode's decisions on
any machine; with the mnist-10k files present, the held-out episode again at full fidelity
(what holds on any x86 processor)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_shipped_model, run_shipped_policy

from agents.rl.ppo import PPOPolicy
from agents.rl.run_dir import load_run_config
from tnf_env.data.datasets import resolve_data_dir
from tnf_env.observation import RESOLUTION

POLICY = Path(__file__).resolve().parents[2] / "policies" / "mnist10k"
EPISODE = POLICY / "held_out_episode.json"  # pinned: what the held-out episode observed
ROW = POLICY / "held_out_row.json"
AREA_TOLERANCE = 0.10  # relative: the same decisions prune the same layers to within this
ACCURACY_TOLERANCE = 0.005  # absolute: mnist-10k's floor tolerance


def test_policy_is_small_and_loads_as_weights():
    cfg = load_shipped_model(POLICY)
    assert cfg.env["dataset"] == "mnist-10k" and cfg.env["fidelity"] == "low"
    assert cfg.baseline_seeds == [0, 1] and cfg.warm_start == "policy:policies/digits"
    assert PPOPolicy.load(POLICY).deterministic


def test_recorded_held_out_episode_is_the_policy_s():
    """On the recorded held-out episode (pinned observations, so the same case on every
    processor): the recorded actions are the policy's, in float64 as SB3's float32
    predict gives them, on observations that lie on the resolution grid."""
    rec = json.loads(EPISODE.read_text())
    policy = PPOPolicy.load(POLICY)
    obs = np.array(rec["observations"], dtype=np.float64)
    assert len(obs) == len(rec["actions"]) == load_run_config(POLICY).env["max_steps"]
    assert (np.round(obs / RESOLUTION) * RESOLUTION == obs).all()
    actions = policy.greedy(obs)
    assert (actions == np.array(rec["actions"])).all()
    sb3 = np.array([policy.model.predict(o.astype(np.float32), deterministic=True)[0]
                    for o in obs])
    assert (actions == sb3).all()
    want = json.loads(ROW.read_text())
    assert want["seed"] in (7, 8, 9) and want["actions"] == rec["actions"]


def test_decisions_survive_rounding_perturbations():
    """Moving any one feature of a recorded observation by one resolution step, as a
    rounding boundary between processors would, leaves every action unchanged."""
    rec = json.loads(EPISODE.read_text())
    policy = PPOPolicy.load(POLICY)
    obs = np.array(rec["observations"], dtype=np.float64)
    for o, a in zip(obs, policy.greedy(obs), strict=True):
        single = o + RESOLUTION * np.concatenate([np.eye(o.size), -np.eye(o.size)])
        assert (policy.greedy(np.clip(single, -1.0, 1.0)) == a).all()


def run_held_out(seed: int):
    """The held-out seed at full fidelity through compare's path (one torch thread)."""
    return run_shipped_policy(POLICY, seed)


def _mnist_files() -> bool:
    d = resolve_data_dir("mnist-10k")  # the shared copy beside the repository, or TNF_DATA
    return d is not None and d.is_dir() and any(d.glob("t10k*"))


@pytest.mark.slow
@pytest.mark.skipif(not _mnist_files(), reason="needs the mnist-10k files (../shared/data)")
def test_held_out_row_holds_on_any_machine():
    """Retraining (and the dense baseline's training) runs in float32, whose kernels differ
    between processors in the last bits, and the policy's episode sits near the floor: the
    recorded run hands back step 1; under baseline x86-64 kernels step 1 misses the
    selection margin and the dense network (step 0) is handed back; under AVX2 kernels,
    with a baseline trained there, the whole schedule meets it and step 12 (0.79 mm²) is
    handed back. What holds on any machine: the policy's chip size and epochs, the floor
    on validation, and a network no larger than the recorded one (later steps prune
    more) unless it is the untouched one."""
    want = json.loads(ROW.read_text())
    _, d, row = run_held_out(want["seed"])
    assert row["meets_floor"]
    assert d.crossbar_size == want["crossbar_size"] and d.epochs == want["epochs"]
    if row["delivered_step"] == 0:
        assert row["sparsity"] == 0.0 and row["area_mm2_best"] > want["area_mm2_best"]
    else:
        assert row["area_mm2_best"] <= want["area_mm2_best"] * (1 + AREA_TOLERANCE)
    if row["delivered_step"] == want["delivered_step"]:
        assert row["area_mm2_best"] == pytest.approx(want["area_mm2_best"],
                                                     rel=AREA_TOLERANCE)
        assert abs(row["accuracy_test"] - want["accuracy_test"]) <= ACCURACY_TOLERANCE


def record(seed: int) -> None:
    """Write the held-out row and episode on this processor (``PYTHONPATH=tests python
    tests/agents/test_mnist10k_policy.py SEED``)."""
    import platform

    observed, d, row = run_held_out(seed)
    obs = np.array(observed.obs, dtype=np.float64)
    actions = observed.policy.greedy(obs).tolist()
    EPISODE.write_text(json.dumps({
        "about": f"the shipped mnist-10k policy's held-out episode (seed {seed}), as "
                 "`PYTHONPATH=tests python tests/agents/test_mnist10k_policy.py` recorded it",
        "processor": platform.processor() or platform.machine(), "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "observations": obs.tolist(), "actions": actions,
    }, indent=1) + "\n")
    keep = ("method", "seed", "crossbar_size", "epochs", "delivered_step", "area_mm2_best",
            "energy_nj_best", "accuracy_test", "accuracy_val", "meets_floor_test")
    ROW.write_text(json.dumps({
        **{k: row[k] for k in keep},
        "command": "Experiment(at_full(config.yaml's env)).transform(PPOPolicy.load("
                   "'policies/mnist10k'), seed, crossbar_size=None), then Experiment.score "
                   "(torch.set_num_threads(1)): the path of compare's held-out rows",
        "actions": actions,
    }, indent=1) + "\n")


if __name__ == "__main__":
    import sys

    record(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
