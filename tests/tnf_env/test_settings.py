"""The settings model: fields that describe themselves, and settings validated once.

An environment built from a Task, a Task under other settings and the environments of
an EpisodeRunner or a batched environment read only the settings that change: the count
of full validations below is what each path costs (the settings of a Task are
validated when it is built, not again by every environment that serves it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import tnf_env
from agents.experiments.episodes import EpisodeRunner
from tnf_env import BatchedTraNNsformerEnv, Task
from tnf_env.settings import EnvConfig, allowed, invalid, settings_table

SMALL = dict(topology="64-32-10", crossbar_sizes=[16, 32], max_steps=2)
NAN = float("nan")


def test_every_setting_describes_itself():
    rows = EnvConfig.describe()
    assert [r["name"] for r in rows] == list(EnvConfig.model_fields)
    for row in rows:
        assert row["meaning"] and "\n" not in row["meaning"], row
        assert row["allowed"] == allowed(row["name"]), row
        assert row["default"] == getattr(EnvConfig(), row["name"]), row
        assert f"| `{row['name']}` |" in settings_table()
    assert str(invalid("seed", -1)) == "invalid setting seed=-1: allowed " + allowed("seed")


def test_the_model_is_strict_and_keeps_equality_and_copies():
    a, b = EnvConfig.from_kwargs(**SMALL), EnvConfig.from_kwargs(**SMALL)
    assert a == b and a is not b and a != EnvConfig.from_kwargs(**{**SMALL, "seed": 1})
    assert a.to_dict()["crossbar_sizes"] == [16, 32] and a.crossbar_sizes == (16, 32)
    assert EnvConfig.from_kwargs(**a.to_dict()) == a  # the keywords round-trip
    with pytest.raises(ValueError, match="unknown setting"):
        EnvConfig.from_kwargs(colour="red")
    with pytest.raises(ValueError):
        EnvConfig(colour="red")


# Overrides of a validated config, each refused as from_kwargs refuses the merged settings.
BAD_OVERRIDES = [
    dict(seed=True),  # equal to 1, but not an integer
    dict(gate_on_loss=1),  # equal to True, but not a boolean
    dict(max_steps="3"),
    dict(max_steps=0),
    dict(crossbar_sizes=(16.5, 32)),
    dict(crossbar_sizes=(16, 1024)),  # outside the technology's range
    dict(prune_levels=[NAN]),
    dict(technology="nope"),
    dict(area_weight=NAN),
    dict(colour="red"),
]


@pytest.mark.parametrize("overrides", BAD_OVERRIDES, ids=repr)
def test_with_overrides_refuses_as_from_kwargs_does(overrides):
    base = EnvConfig.from_kwargs(**{**SMALL, "seed": 1})
    with pytest.raises(ValueError) as full:
        EnvConfig.from_kwargs(**{**base.to_dict(), **overrides})
    with pytest.raises(ValueError) as partial:
        base.with_overrides(**overrides)
    assert str(partial.value) == str(full.value)
    assert base == EnvConfig.from_kwargs(**{**SMALL, "seed": 1})  # untouched


def test_with_overrides_reads_only_what_changes():
    base = EnvConfig.from_kwargs(**SMALL)
    # the held values, as given or as held (a list for a tuple): nothing to read again
    assert base.with_overrides() is base
    assert base.with_overrides(**SMALL, seed=0, rate_scale=10.0) is base
    changed = base.with_overrides(
        seed=np.int64(3), crossbar_sizes=[32], retrain_epochs=2, dataset="DIGITS"
    )
    assert changed == EnvConfig.from_kwargs(
        **{**base.to_dict(), "seed": 3, "crossbar_sizes": [32], "retrain_epochs": 2}
    )
    assert type(changed.seed) is int and type(changed.retrain_epochs) is int
    assert changed.dataset == "digits" and base.seed == 0  # normalised; base untouched


def test_an_environment_validates_its_settings_once(settings_validations):
    gym.make("tnf_env/TraNNsformer-v0", **SMALL).close()
    assert settings_validations == {"from_kwargs": 1, "validate": 1, "partial": 0}
    task = Task.build(**SMALL)
    assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 0}
    # Environments serving a task read only the settings given that differ from it.
    gym.make("tnf_env/TraNNsformer-v0", task=task).close()
    tnf_env.make(task=task, **SMALL).close()
    assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 0}
    with pytest.raises(ValueError, match=r"differ in \['rate_scale'\]"):
        tnf_env.make(task=task, **SMALL, rate_scale=3.0)  # read, and not the task's
    assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 1}
    # A task under the settings it has is itself; under others, only they are read.
    assert task.with_settings(**SMALL) is task
    assert task.with_settings(rate_scale=3.0).config.rate_scale == 3.0
    assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 2}


def test_batched_and_experiment_environments_validate_once(settings_validations):
    # One validation for the settings; the second baseline seed reads only its seed.
    venv = BatchedTraNNsformerEnv(num_envs=4, baseline_seeds=[0, 1], **SMALL)
    assert [e.task.config.seed for e in venv.envs] == [0, 1, 0, 1]
    venv.close()
    assert settings_validations == {"from_kwargs": 1, "validate": 1, "partial": 1}
    exp = EpisodeRunner(SMALL)
    try:
        exp.env(0)
        # the settings; seed 0 is theirs
        assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 1}
        exp.env(1)  # another baseline seed: only the seed is read
        assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 2}
        exp.env(0, rate_scale=3.0)  # the override, once
        exp.env(0)  # built already
        assert settings_validations == {"from_kwargs": 2, "validate": 2, "partial": 3}
    finally:
        exp.close()


def test_overrides_check_the_settings_whose_rules_read_them():
    base = EnvConfig.from_kwargs(**SMALL)
    # the technology's range is checked again when only the sizes change
    with pytest.raises(ValueError, match="crossbar_sizes=.*outside the range"):
        base.with_overrides(crossbar_sizes=[16, 1024])
    # a setting given as None again takes its default from the dataset, as when built
    assert base.with_overrides(accuracy_tolerance=None) == base


def test_the_settings_are_a_leaf_the_registries_tell_their_names():
    """Importing the settings imports no registry, no hwmodel and no torch; the registries
    are read when a value is first checked."""
    code = (
        "import sys, tnf_env.settings as s\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'hwmodel', "
        "'tnf_env')))\n"
        "c = s.EnvConfig.from_kwargs(dataset='MNIST_10K', technology='isaac', fidelity='low')\n"
        "print(c.dataset, c.accuracy_tolerance > 0, 'torch' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == ["['tnf_env', 'tnf_env.settings', 'tnf_env.validation']",
                   "mnist-10k True False"]


def test_a_setting_declares_whether_it_defines_the_instance():
    from tnf_env.settings import settings_marked
    from tnf_env.task import DATA_FIELDS, EPISODE_ONLY, INSTANCE_FIELDS

    assert (INSTANCE_FIELDS, DATA_FIELDS, EPISODE_ONLY) == tuple(
        settings_marked(m) for m in ("instance", "data", "local"))
    assert set(DATA_FIELDS) <= set(INSTANCE_FIELDS)  # other data is another instance
    assert "rate_scale" not in INSTANCE_FIELDS and "seed" in INSTANCE_FIELDS
    with pytest.raises(KeyError):
        settings_marked("nonsense")
