"""The fidelity study: episodes at full and at a level, their rank agreement, the report."""

import json

import pytest

from agents.experiments.fidelity import (
    Schedule,
    agreement,
    read_log,
    regret,
    run_study,
    schedules,
)
from agents.experiments.fidelity_report import summary, write_report

ENV = {"max_steps": 2, "crossbar_sizes": [32, 64], "allow_stop": False}
PLAN = [Schedule("paper-r10-N64", "paper", 10.0, 64),
        Schedule("pruning-r5-N32", "pruning", 5.0, 32),
        Schedule("random-0", "random", seed=0), Schedule("digits-policy", "digits")]


def test_the_study_spans_the_schedule_space():
    plan = schedules()
    assert len(plan) >= 24 and len({s.name for s in plan}) == len(plan)
    assert {s.kind for s in plan} == {"paper", "pruning", "random", "digits"}
    assert {s.size for s in plan if s.size} == {32, 64, 128}
    assert {s.rate_scale for s in plan if s.kind == "paper"} == {5.0, 10.0, 20.0}


def test_a_study_runs_resumes_and_reports(tmp_path):
    out = tmp_path / "study"
    rows = run_study(out, ["low"], [0], ENV, workers=1, plan=PLAN)
    assert len(rows) == 2 * len(PLAN)
    assert {r["fidelity"] for r in rows.values()} == {"full", "low"}
    with pytest.raises(SystemExit, match="--resume"):
        run_study(out, ["low"], [0], ENV, workers=1, plan=PLAN)
    # a torn last line (a kill mid-write) is dropped and its episode runs again
    log = out / "episodes.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    assert len(read_log(log)) == len(lines) - 1
    rows = run_study(out, ["low"], [0], ENV, workers=1, resume=True, plan=PLAN)
    assert len(rows) == len(lines)
    tau = agreement(rows, "low", [0], "return", "tau")
    assert -1.0 <= tau["value"] <= 1.0 and tau["n"] == 1
    assert regret(rows, "low", [0], len(PLAN)) == 0.0  # keeping all: nothing lost
    assert regret(rows, "low", [0], 1) >= 0.0
    _, table = summary(out)
    assert [r["level"] for r in table] == ["full", "low"]
    report = tmp_path / "fidelity.md"
    write_report(out, report)
    assert report.exists() and report.with_suffix(".png").exists()
    assert "| low |" in report.read_text()
    study = json.loads((out / "study.json").read_text())
    assert study["levels"] == ["low"] and study["seeds"] == [0]


def test_the_replicate_runs_full_from_another_episode_seed(tmp_path):
    from agents.experiments.fidelity import REPLICATE

    rows = run_study(tmp_path / "s", [REPLICATE], [0], ENV, workers=1, plan=PLAN[:2])
    again = [r for r in rows.values() if r["level"] == REPLICATE]
    assert len(again) == 2 and all(r["fidelity"] == "full" for r in again)
    with pytest.raises(SystemExit, match="--levels 'full'"):
        from agents.experiments.fidelity import main

        main(["--out", str(tmp_path / "t"), "--levels", "full"])
