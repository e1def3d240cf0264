"""The bad-input sweep's machinery (scripts/bad_input_sweep.py) classifies what it sees: a few
cases of each kind, run as the sweep runs them (forked, timed out, checked before and after)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def sweep_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(SCRIPTS))
        import bad_input_sweep

        yield bad_input_sweep


def test_the_sweep_puts_each_case_in_its_column(sweep_module, tmp_path):
    s = sweep_module
    cases = {
        "clear": s.Case("cli", "seed -1", ("cli", "baseline", "--seed", "-1"), r"--seed.*-1"),
        "vague": s.Case("py", "names nothing", ("py", "raise ValueError('bad input')"), "seed"),
        "misread": s.Case("py", "accepted", ("py", "x = 1"), "never"),
        "misread-stub": s.Case("cli", "work reached", ("cli", "baseline", "--seed", "3"),
                               "never"),
        "traceback": s.Case("py", "overflow", ("py", "import math\nmath.exp(1e6)"), "x"),
        "hang": s.Case("py", "fifo", ("py", "open('f').read()"), "f", {"f": s.Fifo()},
                       timeout=2),
        "executed": s.Case("py", "marker", ("py", f"open({s.MARK!r}, 'w')"), "x"),
        "escaped": s.Case("py", "outside", ("py", "open('../outside/new', 'w')"), "x"),
        "lost": s.Case("py", "deleted", ("py", "import os\nos.remove('mine.txt')"), "x",
                       {"mine.txt": "the user's"}, keep=("mine.txt",)),
    }
    records = s.sweep(list(cases.values()), tmp_path, jobs=2)
    got = {k: r["column"] for k, r in zip(cases, records, strict=True)}
    assert got == {k: k.split("-")[0] for k in cases}, records
    clear = records[0]
    assert clear["returncode"] == 2 and "--seed" in clear["message"][0]
    assert records[3]["reason"] == "accepted: ACCEPTED: get_baseline started"
    assert records[5]["seconds"] < 10  # the timeout struck, the case was killed
    table = s.report(records, 1.0)
    assert "| **all** | 9 | 1 | 1 | 1 | 2 | 1 | 1 | 1 | 1 |" in table, table
    json.dumps(records)  # sweep.json holds them as they are


def test_classify_reads_argparse_usage_and_warnings_as_one_line(sweep_module):
    facts = {"executed": False, "escaped": [], "lost": [], "left_behind": []}
    err = "usage: x [-h]\n       [--seed S]\nx: error: argument --seed: invalid int value: '1.5'"
    assert sweep_module.classify("--seed", 2, "", err, False, facts)[0] == "clear"
    two = "warning: slow\nx: error: a\nx: error: b"
    assert sweep_module.classify("error", 2, "", two, False, facts)[0] == "vague"
    left = {**facts, "left_behind": ["out"]}
    assert sweep_module.classify("x", 2, "", "x: error: x", False, left)[0] == "misread"
