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


def test_preset_and_dataset_names_come_from_their_registries(monkeypatch):
    """A preset or dataset added to its registry appears in every help text and message."""
    import hwmodel.technology as technology
    import tnf_env.data.datasets as datasets
    from hwmodel.cli import build_parser as hwmodel_parser
    from tnf_env import settings

    for name in technology.PRESETS:
        assert name in str(settings.invalid("technology", "nochip"))
    for name in datasets.DATASETS:
        assert name in str(settings.invalid("dataset", "nodata"))
    monkeypatch.setitem(technology.PRESETS, "newchip", technology.PRESETS["resparc"])
    monkeypatch.setattr(datasets, "DATASETS", (*datasets.DATASETS, "newdata"))
    subs = _subparsers(build_parser())
    reproduce = {a.dest: a for a in subs["reproduce"]._actions}
    assert "newchip" in reproduce["technology"].help
    assert reproduce["technology"].default == technology.DEFAULT_TECHNOLOGY
    assert "newdata" in reproduce["dataset"].help
    assert "newdata" in subs["baseline"]._option_string_actions["--dataset"].help
    hw = hwmodel_parser()._option_string_actions["--technology"]
    assert "newchip" in hw.help and hw.default == [technology.DEFAULT_TECHNOLOGY]
    assert "newchip" in str(_raises(technology.get_technology, "nochip"))
    assert EnvConfig().technology == technology.DEFAULT_TECHNOLOGY
    assert EnvConfig().dataset == datasets.DEFAULT_DATASET
    assert ReproduceConfig().technology == technology.DEFAULT_TECHNOLOGY
    assert ReproduceConfig().dataset == datasets.DEFAULT_DATASET


def _raises(fn, *args) -> BaseException:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError(f"{fn.__name__}{args} did not raise")
