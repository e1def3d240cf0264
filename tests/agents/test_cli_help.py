"""``--help`` answers without importing torch and shows every subcommand's defaults."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from agents.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "stable_baselines3", "optuna", "matplotlib", "sklearn", "numba")


def test_building_the_parser_imports_none_of_the_heavy_packages():
    code = ("import sys; from agents.cli.commands import build_parser; "
            "build_parser().parse_args(['train']); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("command, shown", [
    ("train", "a name under configs/ or a YAML path (default digits)"),
    ("baseline", "(default poisson)"),
    ("reproduce", "(default 60)"),
    ("benchmark", "(default 0 1 2)"),
    ("compare", "(default 0 1)"),
    ("search", "(default grid)"),
])
def test_every_subcommand_help_shows_its_defaults(command, shown):
    text = " ".join(_subcommands()[command].format_help().split())
    assert shown in text


def test_a_flag_with_a_default_says_it_unless_its_help_already_does():
    for name, p in _subcommands().items():
        for action in p._actions:
            if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
                continue
            line = p._get_formatter()._get_help_string(action)
            assert line.count("default") == 1, (name, action.option_strings, line)
