"""``train_agent.py benchmark`` on a tiny digits configuration."""

import json

from conftest import train_tiny_run

from agents.cli import main
from agents.experiments.figures import METHOD_COLOURS


def test_benchmark_compares_every_method_with_a_trained_run(tmp_path, capsys):
    run = train_tiny_run(tmp_path)
    out = tmp_path / "bench"
    args = [
        "benchmark",
        "--run",
        str(run),
        "--seeds",
        "0",
        "1",
        "--crossbar-sizes",
        "16",
        "--random-candidates",
        "2",
        "--snn-timesteps",
        "5",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    doc = json.loads((out / "results.json").read_text())
    methods = {r["method"] for r in doc["rows"]}
    assert methods == {
        "original", "pruning (release)", "pruning", "paper (release)", "paper", "random", "ppo"
    }
    assert len(doc["rows"]) == 2 * 7
    # every transformation got the same retraining budget; tuning reports all it spent
    budgets = {
        r["epochs"] for r in doc["rows"] if r["method"] in ("pruning", "paper", "paper (release)")
    }
    assert budgets == {1.5}
    assert {r["epochs"] for r in doc["rows"] if r["method"] == "pruning (release)"} == {1.0}
    tuned = [r for r in doc["rows"] if r["method"] in ("pruning", "paper")]
    assert all(r["tuning_epochs"] == 3 * 1.5 for r in tuned)  # three rate scales
    spent = [r["tuning_epochs"] for r in doc["rows"] if r["method"] == "random"]
    assert all(0 < e <= 1.5 + 1e-9 for e in spent)  # candidates that collapse spend less
    paper = [e for e in doc["summary"] if e["method"] == "paper"][0]
    assert paper["area_mm2_best_vs_paper"] == 1.0 and paper["n_seeds"] == 2
    # both accountings in every row, and the best packer never needs more crossbars
    for r in doc["rows"]:
        assert r["crossbars_best"] <= r["crossbars_paper"]
        assert r["meets_floor"]  # the delivered network meets the floor on validation
    for name in (
        "results.md",
        "pareto.png",
        "cost_per_crossbar_size.png",
        "ppo_learning_curve.png",
    ):
        assert (out / name).exists()
    assert set(methods) <= set(METHOD_COLOURS)
    assert main(args) == 2  # never overwrites silently
    assert "already holds results.json" in capsys.readouterr().err
