"""The configuration's names and defaults are written once: the SNN length, the
presets and datasets in messages, and one override syntax (``--set a.b=value``)."""

from __future__ import annotations

import argparse
import dataclasses

from agents.cli.commands import build_parser
from agents.experiments.benchmark import BenchmarkConfig
from agents.experiments.compare import CompareConfig
from agents.experiments.reproduce import ReproduceConfig
from tnf_env.model.spiking import SNN_TIMESTEPS, SNNSettings, simulate_snn
from tnf_env.settings import EnvConfig


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_the_snn_length_is_one_name_and_the_default_everywhere():
    import inspect

    assert SNNSettings().timesteps == SNN_TIMESTEPS
    assert inspect.signature(simulate_snn).parameters["timesteps"].default == SNN_TIMESTEPS
    assert EnvConfig().snn_timesteps == SNN_TIMESTEPS
    for config in (BenchmarkConfig, CompareConfig, ReproduceConfig):
        defaults = {f.name: f.default for f in dataclasses.fields(config)}
        assert defaults["snn_timesteps"] == SNN_TIMESTEPS, config
    subs = _subparsers(build_parser())
    seen = 0
    for name, p in subs.items():
        for action in p._actions:
            if action.dest == "snn_timesteps":
                assert action.default == SNN_TIMESTEPS, name
                assert str(SNN_TIMESTEPS) in action.help, name
                seen += 1
            if name == "baseline" and action.dest == "timesteps":
                assert action.default == [SNN_TIMESTEPS]
                seen += 1
    assert seen >= 4
