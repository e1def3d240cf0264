"""A baseline added as one registered method: magnitude pruning without retraining."""

import json

import numpy as np
import torch

from agents.cli import main


def test_magnitude_pruning_keeps_the_largest_weights_at_pruning_sparsity(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "rep"
    assert main(["reproduce", "--dataset", "digits", "--topology", "64-32-10",
                 "--crossbar-sizes", "16", "--epochs", "6", "--steps", "3", "--rate-scale", "20",
                 "--rate-grid", "1",
                 "--snn-timesteps", "3", "--methods", "original", "pruning",
                 "magnitude (no retraining)", "--out", str(out),
                 "--save-networks", str(tmp_path / "nets"), "--quiet"]) == 0
    doc = json.loads((out / "results.json").read_text())
    rows = {r["method"]: r for r in doc["rows"]}
    one_shot, pruning = rows["magnitude (no retraining)"], rows["pruning"]
    assert one_shot["epochs"] == 0 and one_shot["tuning_epochs"] == pruning["tuning_epochs"]
    assert one_shot["sparsity"] == pruning["sparsity"] > 0
    assert doc["budgets"]["magnitude (no retraining)"]["runs"] == 0
    assert "| 16 | magnitude (no retraining) |" in (out / "results.md").read_text()
    from agents.common.netstore import load_saved_network

    files = {e["method"]: e["file"] for e in
             json.loads((tmp_path / "nets" / "manifest.json").read_text())["networks"]}
    dense = load_saved_network(tmp_path / "nets" / files["original"])
    kept = load_saved_network(tmp_path / "nets" / files["magnitude (no retraining)"])
    for w, m, mk in zip(dense.weights, kept.masks, kept.weights, strict=True):
        assert np.array_equal(mk, np.where(m, w, 0))  # the dense weights, not retrained
        assert np.abs(w[m != 0]).min() >= np.abs(w[m == 0]).max()  # the largest ones
