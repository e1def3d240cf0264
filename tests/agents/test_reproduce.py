"""``train_agent.py reproduce`` on a tiny digits run."""

import json

import torch

from agents.cli import main


def test_reproduce_writes_results_table_and_figures(tmp_path, capsys):
    torch.set_num_threads(1)
    out = tmp_path / "rep"
    args = [
        "reproduce",
        "--dataset",
        "digits",
        "--topology",
        "64-32-10",
        "--crossbar-sizes",
        "16",
        "32",
        "--epochs",
        "5",
        "--rate-scale",
        "20",
        "--seeds",
        "0",
        "1",
        "--snn-timesteps",
        "10",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    doc = json.loads((out / "results.json").read_text())
    for key in ("dataset", "topology", "seed", "technology", "baseline", "rows"):
        assert key in doc
    assert set(doc["baseline"]) >= {"accuracy_val", "accuracy_test"}
    assert {r["method"] for r in doc["rows"]} == {"original", "pruning", "offline", "trannsformer"}
    assert len(doc["rows"]) == 2 * 2 * 4  # seeds x sizes x methods
    row = doc["rows"][0]
    for key in (
        "crossbar_size",
        "accuracy_val",
        "accuracy_test",
        "accuracy_test_snn",
        "meets_floor",
        "area_mm2",
        "energy_nj",
        "crossbars",
        "utilization",
        "sparsity",
        "epochs",
    ):
        assert key in row
    orig = [r for r in doc["rows"] if r["method"] == "original"]
    assert all(r["sparsity"] == 0 and r["epochs"] == 0 for r in orig)
    assert all(r["crossbars"] >= r["lower_bound"] for r in doc["rows"])
    md = (out / "results.md").read_text()
    assert "| 16 | trannsformer |" in md and "energy saved vs pruning" in md
    assert (out / "cost_per_crossbar_size.png").stat().st_size > 1000
    assert (out / "connectivity_N32.png").exists()
    # the transformed network can be costed on its own with hwmodel's command line
    from hwmodel.cli import main as hwmodel_main

    net, clus = out / "trannsformer_N32.npz", out / "trannsformer_N32_clusters.json"
    assert (
        hwmodel_main(
            [
                str(net),
                "--masks",
                "--strategy",
                "clustered",
                "--clusters",
                str(clus),
                "--crossbar-sizes",
                "32",
                "--json",
            ]
        )
        == 0
    )
    # an existing result is never overwritten silently
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
