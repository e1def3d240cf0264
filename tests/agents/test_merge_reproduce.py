"""Reproduce runs made one seed per process merge into the run of all seeds at once."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from agents.cli import main

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "merge_reproduce.py"


def _merge_module():
    spec = importlib.util.spec_from_file_location("merge_reproduce", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(out: Path, seeds: list[str]) -> dict:
    args = ["reproduce", "--dataset", "digits", "--topology", "64-32-10", "--crossbar-sizes",
            "16", "--epochs", "2", "--steps", "2", "--rate-grid", "1", "--rate-scale",
            "20", "--snn-timesteps", "5", "--seeds", *seeds, "--out", str(out), "--quiet"]
    assert main(args) == 0
    return json.loads((out / "results.json").read_text())


def test_merged_seeds_equal_one_run_of_all_seeds(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    both = _run(tmp_path / "both", ["0", "1"])
    _run(tmp_path / "s0", ["0"])
    _run(tmp_path / "s1", ["1"])
    merger = _merge_module()
    monkeypatch.setattr("sys.argv", ["merge", str(tmp_path / "s0"), str(tmp_path / "s1"),
                                     "--out", str(tmp_path / "merged")])
    merger.main()
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    for key, value in both.items():
        if key != "wall_seconds":
            assert merged[key] == value, key
    assert (tmp_path / "merged" / "results.md").stat().st_size > 0

    # Runs of different experiments, or of the same seed twice, are refused.
    s1 = json.loads((tmp_path / "s1" / "results.json").read_text())
    with pytest.raises(ValueError, match="rate_scale"):
        merger.merge([both, dict(s1, rate_scale=10.0)])
    with pytest.raises(ValueError, match="more than one run"):
        merger.merge([both, s1])
