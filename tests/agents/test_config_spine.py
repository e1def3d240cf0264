"""The configuration's names and defaults are written once: the SNN length, the
presets and datasets in messages, and one override syntax (``--set a.b=value``)."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

import agents.experiments.benchmark
import agents.experiments.reproduce
from agents.cli import main
from agents.cli.commands import build_parser
from agents.common.overrides import (
    ENV_SETTINGS,
    OverrideError,
    apply_overrides,
    parse_override,
)
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
        assert config.model_fields["snn_timesteps"].get_default() == SNN_TIMESTEPS, config
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
    from tnf_env.data import registry

    for name in technology.PRESETS:
        assert name in str(settings.invalid("technology", "nochip"))
    for name in datasets.DATASETS:
        assert name in str(settings.invalid("dataset", "nodata"))
    monkeypatch.setitem(technology.PRESETS, "newchip", technology.PRESETS["resparc"])
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone after
    datasets.register(dataclasses.replace(datasets.dataset_spec("digits"), name="newdata"))
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


# One override syntax: --set a.b=value, parsed by agents.common.overrides for every command.

class _Reached(Exception):
    """The work function was reached, with the configuration it was given."""


@pytest.fixture
def captured(monkeypatch):
    """Replace the studies' work functions: record their config and stop there."""
    seen: dict = {}

    def stop(name):
        def fake(cfg, *args, **kwargs):
            seen[name] = cfg
            raise _Reached(name)

        return fake

    monkeypatch.setattr(agents.experiments.benchmark, "run_benchmark", stop("benchmark"))
    monkeypatch.setattr(agents.experiments.reproduce, "run_reproduce", stop("reproduce"))
    return seen


def test_parse_override_reads_a_dotted_key_and_a_yaml_value():
    assert parse_override("env.crossbar_sizes=[16, 32]") == (("env", "crossbar_sizes"), [16, 32])
    assert parse_override("n_steps=8") == (("n_steps",), 8)
    for bad in ("n_steps", "=3", "env.=3", ".x=1"):
        with pytest.raises(OverrideError, match="--set takes KEY=VALUE"):
            parse_override(bad)


def test_apply_overrides_names_the_key_and_what_is_allowed():
    data = {"env": {"max_steps": 3}, "n_steps": 4}
    out = apply_overrides(data, ["env.area_weight=0.8", "n_steps=8"], top=["n_steps"])
    assert out == {"env": {"max_steps": 3, "area_weight": 0.8}, "n_steps": 8}
    assert data == {"env": {"max_steps": 3}, "n_steps": 4}  # a copy
    with pytest.raises(OverrideError) as bad_env:
        apply_overrides(data, ["env.area_wieght=0.8"])
    assert "env.area_wieght" in str(bad_env.value) and "area_weight" in str(bad_env.value)
    with pytest.raises(OverrideError) as bad_top:
        apply_overrides(data, ["n_stepz=8"], top=["n_steps"])
    assert "n_stepz" in str(bad_top.value) and "allowed: n_steps, env.SETTING" in str(
        bad_top.value
    )
    with pytest.raises(OverrideError, match="env is a mapping"):
        apply_overrides(data, ["env=3"])
    assert set(ENV_SETTINGS) == set(EnvConfig.model_fields)


def _one_line(capsys, *needles) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["train", "--set", "env.max_stepz=3"], ["--set env.max_stepz", "max_steps"]),
        (["train", "--set", "n_stepz=3"], ["--set n_stepz", "n_steps", "env.SETTING"]),
        (["compare", "--set", "env.bogus=1"], ["--set env.bogus", "allowed", "area_weight"]),
        (["search", "--set", "env.bogus=1"], ["--set env.bogus", "allowed", "area_weight"]),
        (["benchmark", "--set", "n_steps=3"], ["--set n_steps", "allowed: env.SETTING"]),
        (["benchmark", "--set", "env.bogus=1"], ["--set env.bogus", "area_weight"]),
        (["reproduce", "--set", "epochs=3"], ["--set epochs", "allowed: env.SETTING"]),
        (["reproduce", "--set", "env.bogus"], ["--set takes KEY=VALUE"]),
    ],
)
def test_every_command_refuses_a_bad_set_naming_the_key_and_what_is_allowed(
    tmp_path, capsys, captured, argv, needles
):
    status = main([*argv, "--out", str(tmp_path / "out")])
    assert status == 2
    _one_line(capsys, *needles)
    assert not captured


def test_set_reaches_the_environment_of_benchmark_and_reproduce(tmp_path, capsys, captured):
    with pytest.raises(_Reached):
        main(["benchmark", "--set", "env.area_weight=0.8", "--out", str(tmp_path / "b")])
    assert captured["benchmark"].env["area_weight"] == 0.8
    with pytest.raises(_Reached):
        main(["reproduce", "--set", "env.area_weight=0.8", "--out", str(tmp_path / "r")])
    cfg = captured["reproduce"]
    assert cfg.env_settings()["area_weight"] == 0.8 and cfg.identity()["env"] == cfg.env
    assert capsys.readouterr().err == ""


def test_reproduce_without_set_keeps_its_identity():
    """Runs journalled before --set existed still resume: no env key when nothing is set."""
    assert "env" not in ReproduceConfig().identity()


def test_the_old_env_flag_is_a_deprecated_alias_of_set(tmp_path, capsys, captured):
    with pytest.raises(_Reached):
        main(["benchmark", "--env", "area_weight=0.8", "--env", "max_steps=2",
              "--out", str(tmp_path / "b")])
    env = captured["benchmark"].env
    assert (env["area_weight"], env["max_steps"]) == (0.8, 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["note: --env KEY=VALUE is deprecated; use --set env.KEY=VALUE"]


def test_benchmark_builds_no_task_for_the_configs_own_seed(monkeypatch, tmp_path):
    """The settings are read as settings; data and baselines are built per benchmark seed
    only (the config's own seed once cost a whole extra task, baseline included)."""
    import tnf_env
    from agents.experiments.benchmark import run_benchmark

    built = []

    def build(self, config, data_from=None):
        built.append(config.seed)
        raise _Reached("task")

    monkeypatch.setattr(tnf_env.Task, "__init__", build)
    cfg = BenchmarkConfig(env={"seed": 7, "max_steps": 2}, seeds=(3,), methods=("original",))
    with pytest.raises(_Reached):
        run_benchmark(cfg, log=lambda line: None)
    assert built == [3]
    with pytest.raises(ValueError, match="crossbar size 12 is not among"):
        run_benchmark(cfg.model_copy(update={"crossbar_sizes": (12,)}),
                      log=lambda line: None)


def test_a_training_configs_env_is_validated_once_into_an_env_config(monkeypatch):
    from agents.rl.config import ConfigError, load_config
    from tnf_env import settings

    calls = []
    real = settings.EnvConfig.from_kwargs.__func__

    def counting(cls, **kwargs):
        calls.append(kwargs)
        return real(cls, **kwargs)

    monkeypatch.setattr(settings.EnvConfig, "from_kwargs", classmethod(counting))
    cfg = load_config(None, ["env.max_steps=3"])
    assert len(calls) == 1
    env = cfg.env_config
    assert isinstance(env, EnvConfig) and env.max_steps == 3 and cfg.env_config is env
    assert env.device == EnvConfig().device  # the default named once, in EnvConfig
    assert len(calls) == 1
    cfg.env["max_steps"] = 4  # changed since: read again
    assert cfg.env_config.max_steps == 4 and len(calls) == 2
    cfg.env["max_steps"] = -1
    with pytest.raises(ConfigError, match="config key 'env'.*max_steps"):
        cfg.env_config  # noqa: B018


def test_every_training_key_describes_itself_and_round_trips():
    from agents.rl.config import TrainConfig, config_from_dict

    rows = TrainConfig.describe()
    assert [r["name"] for r in rows] == list(TrainConfig.model_fields)
    default = TrainConfig()
    for row in rows:
        assert row["meaning"] and row["default"] == getattr(default, row["name"]), row
    cfg = config_from_dict({"n_steps": 8, "batch_size": 8, "env": {"max_steps": 3}})
    assert config_from_dict(cfg.to_dict()) == cfg  # what config.yaml holds loads back
    assert cfg.to_dict()["env"] == {"max_steps": 3}  # the settings as given
