"""``compare`` with worker processes, extra rows and a warm-started PPO alone."""

import json

import pytest
import torch
from conftest import write_train_config

from agents.cli import main
from agents.experiments.compare import CompareConfig, CompareError
from agents.rl.config import load_config

TIMING = ("wall_seconds", "cpu_seconds", "walls", "cpu")


def _config(tmp_path, **changes) -> CompareConfig:
    train = load_config(str(write_train_config(tmp_path)), (), timesteps=None)
    return CompareConfig(train=train, out=tmp_path / "out", train_seeds=(0,), **changes)


@pytest.mark.parametrize("changes, match", [
    ({"cold": False}, "warm_start"),
    ({"methods": ("nonsense",)}, "allowed 'policy:DIR'.*tiles"),
    ({"methods": ("tiles", "tiles")}, "distinct"),
    ({"fixed_sizes": ()}, "fixed_sizes"),
    ({"fixed_sizes": (32, 32)}, "fixed_sizes"),
    ({"fixed_sizes": (0,)}, "fixed_sizes"),
    ({"workers": 0}, r"workers must be an integer in \[1, 64\]"),
    ({"workers": True}, "workers"),
])
def test_compare_config_refuses_bad_extras(tmp_path, changes, match):
    with pytest.raises(CompareError, match=match):
        _config(tmp_path, **changes)


def test_identity_keeps_old_comparisons_resumable_and_records_new_choices(tmp_path):
    plain = _config(tmp_path).identity()
    assert not {"cold", "methods", "fixed_sizes", "workers"} & set(plain)
    ident = _config(tmp_path, cold=False, warm_start="paper", methods=("tiles",),
                    fixed_sizes=(32,), workers=2).identity()
    assert ident["cold"] is False and ident["methods"] == ["tiles"]
    assert ident["fixed_sizes"] == [32] and "workers" not in ident  # how, not what


def _rows(doc):
    return sorted(({k: v for k, v in r.items() if k not in TIMING} for r in doc["rows"]),
                  key=lambda r: (r["seed"], r["method"]))


def test_workers_give_the_rows_of_one_process(tmp_path):
    """Two one-thread worker processes (the searches side by side, the held-out seeds as
    jobs) deliver and score exactly what one one-thread process does, and a resumed run
    reuses every finished job."""
    torch.set_num_threads(1)
    cfg = write_train_config(
        tmp_path, env={"max_steps": 2, "allow_stop": False}, timesteps=8, n_steps=4,
        batch_size=4, n_epochs=1, checkpoint_every=8, eval_every=8, n_envs=2,
    )
    base = ["compare", "--config", str(cfg), "--eval-seeds", "2", "3", "--rate-grid", "1",
            "--snn-timesteps", "3", "--reps", "100", "--no-cold", "--warm-start", "paper",
            "--methods", "tiles", "--fixed-sizes", "32", "--search-budget", "4", "--quiet"]
    docs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        assert main([*base, "--workers", str(workers), "--out", str(out)]) == 0
        docs[workers] = json.loads((out / "results.json").read_text())
    one, two = docs[1], docs[2]
    assert {r["method"] for r in one["rows"]} == {
        "original", "pruning (release)", "pruning", "paper (release)", "paper", "tiles",
        "black-box (TPE)", "random search", "ppo (warm paper)"}
    assert "ppo" not in one["training"]  # no cold run
    assert _rows(one) == _rows(two)
    assert one["summary"]["best_fixed"] in ("pruning", "paper", "tiles")
    assert all(r["crossbar_size"] == 32 for r in one["rows"] if r["method"] in (
        "pruning", "paper", "tiles"))
    jobs = sorted(p.name for p in (tmp_path / "w2" / "eval").glob("*.jsonl"))
    assert jobs == ["seed2-fixed.jsonl", "seed2-other.jsonl", "seed3-fixed.jsonl",
                    "seed3-other.jsonl"]
    assert all(two["eval_cpu_seconds"][m] > 0 for m in ("paper", "tiles"))
    assert (tmp_path / "w2" / "area_accuracy.png").stat().st_size > 0
    assert "CPU-h train + eval" in (tmp_path / "w2" / "results.md").read_text()
    # cut before the end: one job's journal lost; resumed, only that job runs again
    (tmp_path / "w2" / "results.json").unlink()
    (tmp_path / "w2" / "eval" / "seed3-other.jsonl").unlink()
    before = {p.name: p.read_text() for p in (tmp_path / "w2" / "eval").glob("*.jsonl")}
    assert main([*base, "--workers", "2", "--out", str(tmp_path / "w2"), "--resume"]) == 0
    again = json.loads((tmp_path / "w2" / "results.json").read_text())
    assert _rows(again) == _rows(two)
    after = {p.name: p.read_text() for p in (tmp_path / "w2" / "eval").glob("*.jsonl")}
    assert {k: after[k] for k in before} == before and "seed3-other.jsonl" in after
