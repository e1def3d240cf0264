"""Command-line flags generated from a configuration's fields."""

import argparse

import pytest
from pydantic import Field

from agents.cli import build_parser
from agents.cli.model_flags import add_config_flags, config_from_args
from agents.common.configs import CommandConfig
from agents.experiments.benchmark import BenchmarkConfig
from agents.experiments.reproduce import ReproduceConfig


class Toy(CommandConfig):
    name: str = Field("a", description="a name from {names}")
    sizes: tuple[int, ...] = Field((16, 32), description="crossbar sizes")
    tolerance: float | None = Field(None, description="a tolerance")
    epochs: int = Field(60, description="retraining epochs (default 60 in the paper)")
    extra: dict = Field(default_factory=dict, description="set otherwise")


def _parser(**kw) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_config_flags(p, Toy, skip=("extra",), fill={"names": "a, b"}, **kw)
    return p


def test_flags_follow_the_fields_types_defaults_and_meanings():
    p = _parser(aliases={"sizes": ["--size"]}, metavars={"sizes": "N"})
    assert config_from_args(Toy, p.parse_args([])) == Toy()
    args = p.parse_args(["--size", "8", "64", "--tolerance", "0.01", "--epochs", "5",
                         "--name", "b"])
    assert config_from_args(Toy, args, extra={"k": 1}) == Toy(
        name="b", sizes=(8, 64), tolerance=0.01, epochs=5, extra={"k": 1})
    helps = {a.dest: a for a in p._actions}
    assert helps["name"].help == "a name from a, b (default a)"
    assert helps["sizes"].help == "crossbar sizes (default 16 32)"
    assert helps["tolerance"].help == "a tolerance"  # None: no default to show
    assert helps["epochs"].help == "retraining epochs (default 60 in the paper)"  # not twice
    assert helps["sizes"].metavar == "N" and "extra" not in helps
    with pytest.raises(SystemExit):  # argparse refuses a value of the wrong type
        p.parse_args(["--epochs", "2.5"])


def test_a_field_without_a_flag_type_is_refused():
    class Bad(CommandConfig):
        table: dict = Field(default_factory=dict, description="no flag for this")

    with pytest.raises(TypeError, match="no command-line flag"):
        add_config_flags(argparse.ArgumentParser(), Bad)


@pytest.mark.parametrize("command, config, given", [
    ("reproduce", ReproduceConfig, {"env": {}}),
    ("benchmark", BenchmarkConfig, {"env": {}, "run_dir": None, "extra": {}}),
])
def test_a_studys_flags_are_its_config_fields(command, config, given):
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    p = sub.choices[command]
    dests = {a.dest for a in p._actions}
    # methods and batch are the study flags; the given ones come from elsewhere
    assert set(config.model_fields) <= dests | set(given)
    assert config_from_args(config, p.parse_args([]), **given) == config(**given)
    assert p.parse_args(["--seeds", "3", "4"]).seeds == [3, 4]


def test_a_config_refuses_in_one_line_when_built_and_when_copied():
    with pytest.raises(ValueError, match=r"^invalid epochs='x': input should be a valid integer"):
        Toy(epochs="x")
    with pytest.raises(ValueError, match="^invalid colour=1: extra inputs are not permitted$"):
        Toy(colour=1)
    toy = Toy(epochs=5)
    assert toy.model_copy(update={"sizes": [8]}) == Toy(epochs=5, sizes=(8,))
    with pytest.raises(ValueError, match="^invalid sizes.0='x'"):  # validated, unlike pydantic's
        toy.model_copy(update={"sizes": ["x"]})
    assert toy.model_copy() == toy and toy.epochs == 5
