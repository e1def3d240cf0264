"""The dataset registry: one record per dataset, read by loading, settings, model defaults
and the docs."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from tnf_env.data import registry
from tnf_env.data.datasets import (
    DATASETS,
    DatasetError,
    DatasetSpec,
    dataset_names,
    dataset_spec,
    default_tolerance,
    load_dataset,
    register,
    resolve_data_dir,
    tolerance_note,
)
from tnf_env.data.formats import read_digits
from tnf_env.model.network import default_topology
from tnf_env.model.training import TrainingRecipe, default_recipe
from tnf_env.settings import EnvConfig
from tnf_env.task import Task

ENV_DOC = Path(__file__).resolve().parents[2] / "docs" / "environment.md"


def read_four_digits(spec, part, files, verify):
    """scikit-learn's digits 0-3 only: a real four-class dataset without files."""
    x, y = read_digits(spec, part, files, verify)
    keep = y < 4
    return x[keep], y[keep]


FOUR = DatasetSpec(
    "digits-four", "digits 0-3 of scikit-learn's digits", 64, (64, 32, 4), read_four_digits,
    parts={"all": ()}, n_classes=4, val_fraction=0.3, pixel_max=16.0, tolerance=0.02,
    recipe={"batch_size": 25, "epochs": 20},
)


@pytest.fixture
def four(monkeypatch):
    """``FOUR`` registered for one test (the registry is restored afterwards)."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    return register(FOUR)


def test_a_new_dataset_is_one_record(four, tmp_path):
    data = load_dataset("Digits_Four")
    assert data.name == "digits-four" and data.n_classes == 4 and data.n_inputs == 64
    assert set(np.unique(data.y_train)) == {0, 1, 2, 3}
    n = len(data.y_train) + len(data.y_val) + len(data.y_test)
    assert (len(data.y_test), len(data.y_val)) == (n // 5, int(n * 0.3))
    assert resolve_data_dir("digits-four") is None  # no files
    assert "digits-four" in dataset_names() and "digits-four 0.02" in tolerance_note()
    assert default_topology("digits-four") == (64, 32, 4)
    assert default_recipe("digits-four") == TrainingRecipe(batch_size=25, epochs=20)
    assert default_tolerance("digits-four") == 0.02
    assert EnvConfig.from_kwargs(dataset="DIGITS_four").validate().dataset == "digits-four"
    # The environment runs on it: the network, floor and recipe come from the record.
    task = Task.build(dataset="digits-four", crossbar_sizes=(16,), cache_dir=str(tmp_path))
    assert task.topology == (64, 32, 4) and task.recipe.batch_size == 25
    assert task.floor == task.baseline_accuracy - 0.02
    env = gym.make("tnf_env/TraNNsformer-v0", dataset="digits-four", crossbar_sizes=(16,),
                   max_steps=1, cache_dir=str(tmp_path))
    env.reset(seed=0)
    info = env.step(env.action_space.sample())[-1]
    assert info["crossbars"] >= 1 and "error" not in info


def test_builtin_records_give_the_defaults():
    assert DATASETS == ("digits", "mnist-10k", "mnist", "fashion-mnist", "svhn", "cifar10")
    for name in DATASETS:
        spec = dataset_spec(name)
        assert default_topology(name) == spec.topology
        assert default_recipe(name) == TrainingRecipe(**spec.recipe)  # every departure builds
    assert default_recipe("digits").batch_size == 50
    assert default_recipe("mnist-10k").augment_shift == 2
    assert dataset_spec("cifar10").split_sizes() == (45000, 5000, 10000)
    digits = load_dataset("digits")
    sizes = (len(digits.y_train), len(digits.y_val), len(digits.y_test))
    assert dataset_spec("digits").split_sizes() == sizes


def test_records_are_checked_when_made():
    with pytest.raises(DatasetError, match="'odd'.*start with its 32 inputs"):
        DatasetSpec("odd", "", 32, (64, 10), read_digits, parts={"all": ()}, val_fraction=0.2)
    with pytest.raises(DatasetError, match="end with its 4 classes"):
        DatasetSpec("odd", "", 64, (64, 10), read_digits, parts={"all": ()}, n_classes=4,
                    val_fraction=0.2)
    with pytest.raises(DatasetError, match="'train' and 'test'"):
        DatasetSpec("odd", "", 64, (64, 10), read_digits, parts={"all": ()})
    with pytest.raises(DatasetError, match=r"without accepted paths: \['a'\]"):
        DatasetSpec("odd", "", 64, (64, 10), read_digits, parts={"train": ("a",), "test": ()})
    with pytest.raises(DatasetError, match="lower case"):
        DatasetSpec("Odd_One", "", 64, (64, 10), read_digits, parts={"all": ()},
                    val_fraction=0.2)


def test_names_are_unique_and_unknown_names_list_the_known(four):
    with pytest.raises(DatasetError, match="'digits-four' is registered already"):
        register(FOUR)
    with pytest.raises(DatasetError, match="unknown dataset 'emnist'; known datasets: digits,"):
        load_dataset("emnist")
    with pytest.raises(ValueError, match="unknown dataset 'emnist'"):
        default_topology("emnist")
    assert default_recipe("emnist") == TrainingRecipe()  # unknown names train the paper's way


def test_a_table_entry_replaces_the_record(four):
    mirrors = registry.SpecTable("mirrors")
    mirrors["digits-four"] = ("http://127.0.0.1:9/",)
    assert dataset_spec("digits-four").mirrors == ("http://127.0.0.1:9/",)
    assert dataset_spec("digits-four").topology == FOUR.topology  # the rest is kept
    with pytest.raises(TypeError, match="replaced, not removed"):
        del mirrors["digits-four"]
    with pytest.raises(ValueError, match="no field 'colour'"):
        registry.SpecTable("colour")


def test_environment_doc_shows_the_registry():
    assert registry.datasets_table() in ENV_DOC.read_text(), (
        "docs/environment.md: paste `python -m tnf_env.data.datasets`'s table"
    )
