"""The iso-accuracy comparison: frontiers, interpolation at the matched accuracy and the
summary over seeds (scipy.stats.bootstrap)."""

import math

import numpy as np
import pytest

from agents.experiments.frontier import cost_at, floor_rates, frontier, iso_accuracy, iso_table


def test_frontier_keeps_only_undominated_networks():
    acc = [0.90, 0.95, 0.93, 0.97, 0.96]
    area = [1.0, 2.0, 3.0, 4.0, 5.0]  # 0.93 at 3.0 and 0.96 at 5.0 are beaten
    a, c = frontier(acc, area)
    assert a.tolist() == [0.90, 0.95, 0.97] and c.tolist() == [1.0, 2.0, 4.0]


def test_cost_at_interpolates_between_neighbours():
    acc, area = [0.90, 0.95, 0.97], [1.0, 2.0, 4.0]
    assert cost_at(acc, area, 0.96) == pytest.approx(3.0)
    assert cost_at(acc, area, 0.95) == pytest.approx(2.0)
    assert cost_at(acc, area, 0.80) == 1.0  # the cheapest network already reaches it
    assert math.isnan(cost_at(acc, area, 0.98))  # no network reaches it


def _doc(seeds, pruning_area, paper_area):
    points = []
    for s in seeds:
        for method, areas in (("pruning", pruning_area), ("paper", paper_area)):
            for acc, area in zip((0.94, 0.96, 0.98), areas[s], strict=True):
                points.append({"method": method, "seed": s, "crossbar_size": 16,
                               "accuracy_test": acc, "area_mm2": area, "energy_nj": 10 * area})
    return {"frontier_points": points, "tolerance": 0.01,
            "baseline": {"per_seed": [{"seed": s, "accuracy_test": 0.98} for s in seeds]}}


def test_iso_accuracy_ratios_and_bootstrap_interval_over_seeds():
    seeds = (0, 1, 2)
    pruning = {s: (1.0, 2.0, 4.0) for s in seeds}
    paper = {0: (0.5, 1.0, 2.0), 1: (0.5, 1.5, 2.0), 2: (0.5, 1.8, 2.2)}
    (e,) = iso_accuracy(_doc(seeds, pruning, paper))  # matched accuracy 0.97
    assert e["crossbar_size"] == 16 and e["seeds"] == 3
    assert e["pruning_area"][0] == pytest.approx(3.0)
    ratios = [1.5 / 3, 1.75 / 3, 2.0 / 3]
    mean, lo, hi = e["ratio_area"]
    assert mean == pytest.approx(np.mean(ratios))
    assert min(ratios) <= lo < mean < hi <= max(ratios)
    assert e["ratio_energy"][0] == pytest.approx(mean)
    assert e["pruning_reached"] == e["paper_reached"] == 3
    table = iso_table([e])
    assert "| 16 | 3.0000 [3.0000, 3.0000] |" in table and "3/3 / 3/3" in table


def test_one_seed_has_no_interval_and_unreached_accuracy_is_said():
    pruning = {0: (1.0, 2.0, 4.0)}
    paper = {0: (0.5, 1.0, 2.0)}
    doc = _doc((0,), pruning, paper)
    doc["baseline"]["per_seed"][0]["accuracy_test"] = 1.0  # matched 0.99: nobody reaches it
    (e,) = iso_accuracy(doc)
    assert e["pruning_reached"] == 0 and math.isnan(e["pruning_area"][0])
    assert "not reached" in iso_table([e])
    (e,) = iso_accuracy(_doc((0,), pruning, paper))
    assert e["ratio_area"][0] == pytest.approx(1.5 / 3) and math.isnan(e["ratio_area"][1])


def test_floor_rates_count_test_floor_cases_per_method():
    rows = [{"method": "paper", "meets_floor_test": ok} for ok in (True, False, True)]
    rows.append({"method": "pruning", "meets_floor_test": True})
    line = floor_rates(rows, ("original", "pruning", "paper"))
    assert line.endswith("`pruning` 1/1, `paper` 2/3.")
