"""scripts/fixed_schedules.py: fixed per-layer schedules scored like episodes."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fixed_schedules.py"


@pytest.fixture(scope="module")
def fixed_schedules():
    spec = importlib.util.spec_from_file_location("fixed_schedules", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_levels_outside_the_action_set_are_run(fixed_schedules, tmp_path, capsys):
    out = tmp_path / "rows.json"
    fixed_schedules.main(
        [
            "--config",
            "digits",
            "--levels",
            "0,0,0",
            "1.5,1.5,1.5",
            "--seeds",
            "0",
            "--out",
            str(out),
        ]
    )
    rows = json.loads(out.read_text())
    assert [r["levels"] for r in rows] == [[0, 0, 0], [1.5, 1.5, 1.5]]
    none, strong = rows
    assert strong["sparsity"][0] > none["sparsity"][0]
    assert strong["cost"] < none["cost"]
    assert none["floor_met"] == (none["margin_points"] >= 0)
    assert "| 1.5,1.5,1.5 | None | 0 |" in capsys.readouterr().out


def test_bad_levels_say_what_is_expected(fixed_schedules):
    with pytest.raises(SystemExit, match="expected 3 numbers >= 0"):
        fixed_schedules.main(["--config", "digits", "--levels", "1,1"])
    with pytest.raises(SystemExit, match="comma-separated numbers"):
        fixed_schedules.main(["--config", "digits", "--levels", "a,b,c"])
