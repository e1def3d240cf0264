"""The crossbar-aware structured pruning row (``tiles``): scored, tuned and run like the others."""

import copy
import json

import numpy as np
import pytest
import torch
from conftest import write_train_config

from agents.cli import main
from agents.experiments import methods as m
from agents.experiments.episodes import DeliveredNetwork, EpisodeRunner
from agents.experiments.figures import METHOD_COLOURS
from agents.experiments.study import StudyContext
from tnf_env.transform.tiles import live_tiles, tile_grid

SETTINGS = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": (16, 32),
            "retrain_epochs": 1.0, "max_steps": 3, "rate_scale": 20.0, "prune_unit": "paper",
            "allow_stop": False}


@pytest.fixture(scope="module")
def lab():
    torch.set_num_threads(1)
    exp = EpisodeRunner(SETTINGS)
    lab = StudyContext(exp, (16,), [10.0, 20.0, 40.0], 20.0, 3, 1.0, points=[])
    yield lab
    lab.close()


def _whole_tiles(mask: np.ndarray, n: int) -> bool:
    """Every tile of the dense mapping at ``n`` is all kept or all removed."""
    grid = tile_grid(mask.shape, n)
    live = np.flatnonzero(live_tiles(mask, n))
    return bool(np.array_equal(mask, np.isin(grid, live)))


def test_removing_one_tile_frees_one_crossbar_in_the_scoring_path(lab):
    exp = lab.fixed
    dense = exp.original(0)
    net = copy.deepcopy(dense.net)
    mask = net.masks_numpy()[0]
    mask[tile_grid(mask.shape, 16) == 0] = False  # the first crossbar's block of layer 0
    net.set_mask(0, mask)
    cut = DeliveredNetwork(net, dense.clusters, 0.0, 0, dense.rate_scale)
    before, after = exp.score(dense, 0, 16), exp.score(cut, 0, 16)
    assert after["crossbars_best"] == before["crossbars_best"] - 1
    assert after["area_mm2_best"] < before["area_mm2_best"]


def test_tuned_tiles_deliver_whole_tiles_meeting_the_floor_or_the_start(lab):
    method = m.create("tiles")
    out = method.deliver(lab, 0, 16)
    d = out.delivered
    assert d.meets_floor or d.delivered_step == 0
    assert d.delivered_step <= d.last_step <= 3 and d.epochs <= 3.0
    assert set(out.spent) == {"tiles N=16"} and 0 < out.spent["tiles N=16"] <= 3 * 3.0
    assert all(_whole_tiles(mk, 16) for mk in d.net.masks_numpy())
    # tuning chose the grid run of least validation cost among those meeting the floor
    runs = lab.memo(0, ("tune", "tiles", method.fraction, 16), lambda: None).runs
    assert set(runs) == {10.0, 20.0, 40.0}
    assert d is min(runs.values(), key=lambda r: lab.fixed.selection_key(r, 0, 16))
    # every judged network is a frontier point, the delivered one among them
    pts = [p for p in lab.points if p["method"] == "tiles"]
    assert {p["rate_scale"] for p in pts} == set(runs) and {p["step"] for p in pts} <= {0, 1, 2, 3}
    assert any((p["rate_scale"], p["step"]) == (d.rate_scale, d.delivered_step) for p in pts)
    assert method.budget(lab).to_dict()["runs"] == 3


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, True, "0.1", None])
def test_bad_fractions_are_refused_in_one_line(bad):
    with pytest.raises(ValueError, match=r"invalid tile fraction .*allowed a number in \(0, 1\)"):
        m.create("tiles", fraction=bad)


def test_reproduce_and_benchmark_run_the_tiles_row(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "rep"
    assert main(["reproduce", "--dataset", "digits", "--topology", "64-32-10",
                 "--crossbar-sizes", "16", "--epochs", "6", "--steps", "3", "--rate-scale", "20",
                 "--snn-timesteps", "3", "--methods", "original", "tiles", "--out", str(out),
                 "--save-networks", str(tmp_path / "nets"), "--quiet"]) == 0
    doc = json.loads((out / "results.json").read_text())
    row = {r["method"]: r for r in doc["rows"]}["tiles"]
    assert row["meets_floor_margin"] or (row["delivered_step"] == 0 and row["sparsity"] == 0)
    assert row["crossbars_best"] <= {r["method"]: r for r in doc["rows"]}["original"][
        "crossbars_best"]
    assert row["epochs"] <= 6 and row["epochs"] <= row["tuning_epochs"] <= 3 * 6
    assert doc["budgets"]["tiles"]["per_size"] and doc["budgets"]["tiles"]["runs"] == 3
    assert "| 16 | tiles |" in (out / "results.md").read_text()
    from agents.common.netstore import load_saved_network

    files = {e["method"]: e["file"] for e in
             json.loads((tmp_path / "nets" / "manifest.json").read_text())["networks"]}
    saved = load_saved_network(tmp_path / "nets" / files["tiles"])
    assert all(_whole_tiles(np.asarray(mk) != 0, 16) for mk in saved.masks)

    bench = tmp_path / "bench"
    assert main(["benchmark", "--config", str(write_train_config(tmp_path)), "--seeds", "0",
                 "--crossbar-sizes", "16", "--snn-timesteps", "3", "--methods", "original",
                 "paper", "tiles", "--out", str(bench), "--quiet"]) == 0
    doc = json.loads((bench / "results.json").read_text())
    rows = {r["method"]: r for r in doc["rows"]}
    # the same retraining per transformation as the paper's schedule (4 steps x 0.5 epochs)
    assert rows["tiles"]["epochs"] <= 2.0 and rows["tiles"]["tuning_epochs"] <= 3 * 2.0
    assert set(rows) <= set(METHOD_COLOURS)
