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
        "6",
        "--steps",
        "3",
        "--rate-scale",
        "20",
        "--seeds",
        "0",
        "1",
        "--snn-timesteps",
        "10",
        "--out",
        str(out),
        "--save-networks",
        str(tmp_path / "nets"),
        "--quiet",
    ]
    assert main(args) == 0
    doc = json.loads((out / "results.json").read_text())
    for key in ("dataset", "topology", "seeds", "technology", "baseline", "rows"):
        assert key in doc
    assert set(doc["baseline"]) >= {"accuracy_val", "accuracy_test"}
    assert {r["method"] for r in doc["rows"]} == {
        "original", "pruning (release)", "pruning", "offline", "paper (release)", "paper"
    }
    assert len(doc["rows"]) == 2 * 2 * 6  # seeds x sizes x methods
    row = doc["rows"][0]
    for key in (
        "crossbar_size",
        "accuracy_val",
        "accuracy_test",
        "accuracy_test_snn",
        "meets_floor",
        "meets_floor_test",
        "area_mm2_best",
        "energy_nj_paper",
        "crossbars_best",
        "utilization_paper",
        "sparsity",
        "epochs",
        "delivered_step",
        "accuracy_test_hw",  # ReLU and spiking test accuracy on the preset's non-ideal
        "accuracy_test_snn_hw",  # crossbars
    ):
        assert key in row
    orig = [r for r in doc["rows"] if r["method"] == "original"]
    assert all(r["sparsity"] == 0 and r["epochs"] == 0 for r in orig)
    for acc in ("best", "paper"):
        assert all(r[f"crossbars_{acc}"] >= r[f"lower_bound_{acc}"] for r in doc["rows"])
    # the tuned rows report what every grid point spent (three rate scales x at most 6 epochs;
    # an episode whose accuracy collapses ends early)
    tuned = [r for r in doc["rows"] if r["method"] == "paper"]
    assert all(r["epochs"] <= r["tuning_epochs"] <= 18 for r in tuned)
    # the frontier holds every step of every tuned run, the delivered networks among them
    points = doc["frontier_points"]
    assert {p["method"] for p in points} == {"pruning", "paper"}
    for r in tuned:
        same = [p for p in points if (p["method"], p["seed"], p["crossbar_size"], p["rate_scale"],
                                      p["step"]) == ("paper", r["seed"], r["crossbar_size"],
                                                     r["rate_scale"], r["delivered_step"])]
        assert same and same[0]["accuracy_test"] == r["accuracy_test"]
        assert same[0]["area_mm2"] == r["area_mm2_best"]
    assert [e["crossbar_size"] for e in doc["iso_accuracy"]] == [16, 32]
    assert doc["selection_margin"] == 1.0
    assert (out / "iso_accuracy_N16.png").stat().st_size > 1000
    md = (out / "results.md").read_text()
    assert "## At iso-accuracy" in md and "paper / pruning area" in md
    assert "Test floor met, (seed, N) cases per method: `original` " in md
    assert "| 16 | paper |" in md and "energy vs pruning" in md and "paper accounting" in md
    assert "non-ideal test acc. (ANN / SNN)" in md
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
    # --save-networks: every row's network, readable without pickles
    import numpy as np

    from agents.common.netstore import load_saved_network

    manifest = json.loads((tmp_path / "nets" / "manifest.json").read_text())["networks"]
    assert len(manifest) == len(doc["rows"])
    (entry,) = [e for e in manifest
                if (e["seed"], e["method"], e["crossbar_size"]) == (0, "paper", 32)]
    saved = load_saved_network(tmp_path / "nets" / entry["file"])
    with np.load(net) as z:
        assert all(((z[f"layer{i}"] != 0) == m).all() for i, m in enumerate(saved.masks))
    assert all(((w != 0) <= m).all() for w, m in zip(saved.weights, saved.masks, strict=True))
    assert [w.shape for w in saved.weights] == [(32, 64), (10, 32)]
    assert entry["row"]["method"] == "paper"
    # an existing result is never overwritten silently
    assert main(args) == 2
    assert "already holds results.json" in capsys.readouterr().err


def test_reproduce_validates_the_env_settings_once(tmp_path, settings_validations):
    # The command's check is the run's one full validation: each baseline seed's task
    # reads only its seed, and each override only what it changes.
    torch.set_num_threads(1)
    args = ["reproduce", "--dataset", "digits", "--topology", "64-32-10",
            "--crossbar-sizes", "16", "--epochs", "2", "--steps", "1", "--rate-grid", "1",
            "--seeds", "0", "1", "--snn-timesteps", "5", "--out", str(tmp_path / "rep"),
            "--quiet"]
    assert main(args) == 0
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [b["seed"] for b in doc["baseline"]["per_seed"]] == [0, 1]  # two environments
    assert settings_validations["from_kwargs"] == settings_validations["validate"] == 1
