"""Rows that did nothing are flagged: a row carries the step it delivers, and one that fell
back to an earlier step, or to the untouched network (step 0), is marked in the table and
warned about on the console."""

import json

import torch

from agents.cli import main
from agents.experiments.delivery import (
    FELL_BACK,
    UNTOUCHED,
    delivery_cell,
    delivery_warning,
    flag,
    step_text,
)
from agents.experiments.results import results_table, summarize


def _row(method: str, seed: int = 0, delivered: int = 3, last: int | None = 3) -> dict:
    row = {"method": method, "seed": seed, "crossbar_size": 32, "delivered_step": delivered,
           "epochs": 6.0, "accuracy_val": 0.95, "accuracy_test": 0.96,
           "accuracy_test_snn": 0.95, "meets_floor": True, "meets_floor_test": True}
    for acc in ("best", "paper"):
        row.update({f"area_mm2_{acc}": 0.2, f"energy_nj_{acc}": 100.0,
                    f"crossbars_{acc}": 40, f"lower_bound_{acc}": 20,
                    f"utilization_{acc}": 0.5})
    if last is not None:
        row["last_step"] = last
    return row


def test_a_row_is_flagged_when_it_delivers_an_earlier_step_than_its_last():
    assert flag(_row("paper")) == "" and step_text(_row("paper")) == "3/3"
    fell = _row("paper", delivered=1, last=3)
    assert flag(fell) == FELL_BACK and step_text(fell) == "1/3 fell back"
    empty = _row("pruning", delivered=0, last=3)
    assert flag(empty) == UNTOUCHED and step_text(empty) == "0/3 untouched"
    stopped = _row("ppo", delivered=0, last=0)  # stopped before its first step
    assert flag(stopped) == UNTOUCHED
    # no episode made these networks: the step alone, never flagged
    original = _row("original", delivered=0, last=None)
    assert flag(original) == "" and step_text(original) == "0"
    assert delivery_cell([_row("paper", 0), fell]) == "3/3, 1/3 fell back"


def test_the_warning_names_the_row_says_what_happened_and_what_to_change():
    assert delivery_warning(_row("paper"), "raise --epochs") is None
    assert delivery_warning(_row("original", delivered=0, last=None), "x") is None
    line = delivery_warning(_row("pruning", seed=2, delivered=0, last=3), "raise --epochs")
    assert "\n" not in line and line.startswith("warning: pruning (seed 2, N=32)")
    assert "step 0 of 3, the untouched dense network" in line and "budget too short" in line
    assert line.endswith("raise --epochs")
    line = delivery_warning(_row("paper", delivered=1, last=3), "raise --epochs")
    assert "fell back to step 1" in line and "last step (3) missed the floor" in line
    assert "stopped before its first step" in delivery_warning(
        _row("ppo", delivered=0, last=0), "y")


def test_the_table_carries_each_rows_delivered_step_and_warns_under_it():
    rows = [_row("original", delivered=0, last=None), _row("pruning", delivered=0, last=3),
            _row("paper", delivered=1, last=2), _row("paper (release)")]
    table = results_table(summarize(rows, ["original", "pruning", "paper", "paper (release)"],
                                    ["original"]), ["original"])
    lines = table.splitlines()
    assert "delivered step |" in lines[2]
    row = {m: next(x for x in lines if x.startswith(f"| 32 | {m} |"))
           for m in ("original", "pruning", "paper", "paper (release)")}
    assert row["original"].endswith("| 0 |")
    assert row["pruning"].endswith("| 0/3 untouched |")
    assert row["paper"].endswith("| 1/2 fell back |")
    assert row["paper (release)"].endswith("| 3/3 |")
    warning = next(x for x in lines if x.startswith("**Warning**"))
    assert "`pruning` (N = 32): untouched" in warning and "`paper` (N = 32): fell back" in warning
    clean = results_table(summarize([_row("original", delivered=0, last=None), _row("paper")],
                                    ["original", "paper"], ["original"]), ["original"])
    assert "**Warning**" not in clean


def test_reproduce_flags_and_warns_when_no_step_meets_the_floor(tmp_path, capsys):
    torch.set_num_threads(1)
    out = tmp_path / "rep"
    # a selection margin no network clears: every episode hands back its start, step 0
    assert main(["reproduce", "--dataset", "digits", "--topology", "64-32-10",
                 "--crossbar-sizes", "16", "--epochs", "2", "--steps", "2", "--seeds", "0",
                 "--rate-grid", "1", "--selection-margin", "1e6", "--snn-timesteps", "5",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    rows = {r["method"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert "last_step" not in rows["original"]
    episodes = [m for m in rows if m != "original"]
    for m in episodes:
        assert rows[m]["delivered_step"] == 0 and rows[m]["last_step"] >= 1, m
        warning = [x for x in printed.splitlines() if x.startswith(f"warning: {m} (seed 0, N=16)")]
        assert len(warning) == 1 and "untouched dense network" in warning[0], m
        assert "raise --epochs" in warning[0]
    assert not [x for x in printed.splitlines() if x.startswith("warning: original")]
    md = (out / "results.md").read_text()
    assert md.count("untouched |") == 2 * len(episodes)  # both accountings' tables
    assert "**Warning**: rows that did not deliver their last step" in md
