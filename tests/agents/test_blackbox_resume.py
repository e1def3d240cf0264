"""A black-box search killed mid-way (SIGKILL) and started again loses no trial, runs none
twice, counts every epoch once and draws what an uninterrupted search draws."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from agents.search.blackbox import run_search

ROOT = Path(__file__).resolve().parents[2]
# one baseline seed, 2 steps of half an epoch: a trial is one retraining epoch (~0.5 s)
SETTINGS = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": [16, 32],
            "max_steps": 2, "retrain_epochs": 0.5, "prune_unit": "paper", "torch_threads": 1}
BUDGET = 8.0
SCRIPT = (
    "import sys, json; from agents.search.blackbox import run_search; "
    "run_search(json.loads(sys.argv[1]), [0], float(sys.argv[2]), 'random', 3, "
    "log=lambda s: None, journal=sys.argv[3])"
)


def _lines(path: Path) -> list[dict]:
    text = path.read_text() if path.exists() else ""
    return [json.loads(x) for x in text.split("\n")[:-1]]  # complete lines only


def test_a_killed_search_resumes_without_losing_or_repeating_a_trial(tmp_path):
    torch.set_num_threads(1)
    quiet = {"log": lambda s: None}
    whole = run_search(SETTINGS, [0], BUDGET, "random", 3, journal=tmp_path / "whole.jsonl",
                       **quiet)
    journal = tmp_path / "killed.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, json.dumps(SETTINGS), str(BUDGET), str(journal)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while len(_lines(journal)) < 3 and time.time() < deadline:  # header + 2 trials
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = len(_lines(journal)) - 1
    assert 2 <= done < len(whole["trials"]), "killed after the search had finished"
    with open(journal, "a") as fh:  # the line a kill cut short: dropped, its trial rerun
        fh.write('{"number": ')
    resumed = run_search(SETTINGS, [0], BUDGET, "random", 3, journal=journal, **quiet)

    numbers = [t["number"] for t in resumed["trials"]]
    assert numbers == list(range(len(whole["trials"])))  # none lost, none twice
    assert [t["params"] for t in resumed["trials"]] == [t["params"] for t in whole["trials"]]
    for a, b in zip(resumed["trials"], whole["trials"], strict=True):
        assert a["objective"] == pytest.approx(b["objective"], rel=1e-9, abs=1e-12)
    # the budget: every finished trial's epochs counted once, and no room for another
    epochs = [t["epochs"] for t in resumed["trials"]]
    assert resumed["epochs"] == pytest.approx(sum(epochs)) == pytest.approx(whole["epochs"])
    assert resumed["epochs"] + 1.0 > BUDGET >= resumed["epochs"]
    assert len(_lines(journal)) == len(whole["trials"]) + 1
    # started again once finished: nothing more runs
    again = run_search(SETTINGS, [0], BUDGET, "random", 3, journal=journal, **quiet)
    assert len(again["trials"]) == len(whole["trials"])


def test_a_journal_of_another_search_is_refused(tmp_path):
    journal = tmp_path / "j.jsonl"
    journal.write_text(json.dumps({"search": "blackbox", "budget_epochs": 1.0}) + "\n")
    with pytest.raises(ValueError, match="holds another search"):
        run_search(SETTINGS, [0], BUDGET, "random", 3, journal=journal, log=lambda s: None)
    with pytest.raises(ValueError, match="budget_epochs must be a finite number"):
        run_search(SETTINGS, [0], float("inf"), "random", 3, log=lambda s: None)


# float64: trials whose episodes run batched equal trials run one after the other
BATCHED = {**SETTINGS, "dtype": "float64"}


def test_a_batched_search_draws_and_scores_what_one_trial_at_a_time_does(tmp_path):
    torch.set_num_threads(1)
    quiet = {"log": lambda s: None}
    one = run_search(BATCHED, [0, 1], 14.0, "random", 3, **quiet)
    three = run_search(BATCHED, [0, 1], 14.0, "random", 3, batch=3, **quiet)
    # a group reserves full trials of the budget: episodes that end early leave one trial
    # at a time room for more
    assert 7 <= len(three["trials"]) <= len(one["trials"])
    for a, b in zip(one["trials"], three["trials"], strict=False):
        assert a["params"] == b["params"]
        assert (a["objective"], a["costs"], a["epochs"]) == (b["objective"], b["costs"],
                                                             b["epochs"])


def test_a_batched_search_cut_inside_a_group_resumes_as_the_whole_one(tmp_path):
    torch.set_num_threads(1)
    quiet = {"log": lambda s: None}
    whole_journal = tmp_path / "whole.jsonl"
    whole = run_search(BATCHED, [0], 7.0, "tpe", 3, journal=whole_journal, batch=3, **quiet)
    lines = whole_journal.read_text().splitlines(keepends=True)
    journal = tmp_path / "cut.jsonl"
    journal.write_text("".join(lines[:5]))  # the header, a group of 3 and 1 of the next
    resumed = run_search(BATCHED, [0], 7.0, "tpe", 3, journal=journal, batch=3, **quiet)
    assert [t["params"] for t in resumed["trials"]] == [t["params"] for t in whole["trials"]]
    assert [t["objective"] for t in resumed["trials"]] == [t["objective"]
                                                           for t in whole["trials"]]
    assert len(journal.read_text().splitlines()) == len(lines)
    with pytest.raises(ValueError, match="holds another search"):  # the batch is the search's
        run_search(BATCHED, [0], 7.0, "tpe", 3, journal=journal, batch=2, **quiet)


def test_a_cpu_second_budget_stops_once_spent_and_resumes_from_its_journal(tmp_path):
    """budget_seconds: trials run until this process has spent the budget's CPU-seconds on
    them (the crossing trial counts whole); a journal carries what was spent."""
    torch.set_num_threads(1)
    quiet = {"log": lambda s: None}
    journal = tmp_path / "cpu.jsonl"
    res = run_search(SETTINGS, [0], None, "random", 3, journal=journal, budget_seconds=1.0,
                     **quiet)
    cpu = [t["cpu_seconds"] for t in res["trials"]]
    assert all(c > 0 for c in cpu) and res["cpu_seconds"] == pytest.approx(sum(cpu))
    assert res["cpu_seconds"] >= 1.0 > res["cpu_seconds"] - cpu[-1]
    assert res["budget_seconds"] == 1.0 and res["budget_epochs"] is None
    again = run_search(SETTINGS, [0], None, "random", 3, journal=journal, budget_seconds=1.0,
                       **quiet)
    assert len(again["trials"]) == len(res["trials"])  # spent: nothing more runs
    for both in ((BUDGET, 1.0), (None, None)):
        with pytest.raises(ValueError, match="give one budget"):
            run_search(SETTINGS, [0], both[0], "random", 3, budget_seconds=both[1], **quiet)
