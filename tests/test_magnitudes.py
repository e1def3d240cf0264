"""Integers of any magnitude are refused at their range check, named as given: none fails
inside ``float()``, ``np.int64``, ``math`` or torch, and no count is large enough to hang."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import tnf_env
from hwmodel.clusters import Cluster
from tnf_env.state import check_state
from tnf_env.validation import INT_LIMIT, MAX_ENVS, check_int

SMALL = dict(dataset="digits", topology="64-32-10", crossbar_sizes=(16, 32), max_steps=2)
HUGE = [10**30, 2**64, 2**63, INT_LIMIT]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("value", [*HUGE, -(10**30), -1, True, np.bool_(True), 1.0, "3", None])
def test_check_int_refuses_what_is_not_an_integer_in_range(value):
    with pytest.raises(ValueError) as info:
        check_int(value, "setting n", 0, 100)
    message = str(info.value)
    assert message.startswith("invalid setting n=") and "allowed an integer in [0, 100]" in message
    assert len(message.splitlines()) == 1 and len(message) < 200


def test_check_int_takes_python_and_numpy_integers():
    assert check_int(np.int64(7), "n", 0, 100) == 7
    assert type(check_int(np.uint64(7), "n", 0, 100)) is int
    assert check_int(INT_LIMIT - 1, "n") == INT_LIMIT - 1


@pytest.mark.parametrize("num_envs", [10**30, 2**63, 10**6, MAX_ENVS + 1])
def test_make_vec_bounds_num_envs(num_envs):
    # it once built episodes until memory or patience ran out
    with pytest.raises(ValueError, match=rf"num_envs={num_envs}: allowed an integer in \[1, "
                                         rf"{MAX_ENVS}\]"):
        gym.make_vec("tnf_env/TraNNsformer-v0", num_envs=num_envs,
                     vectorization_mode="vector_entry_point", **SMALL)


@pytest.mark.parametrize("settings,needle", [
    (dict(threads=10**30), r"threads=10+: allowed an integer in \[1, 1024\]"),
    (dict(threads=0), r"threads=0: allowed"),
    (dict(baseline_seeds=[2**64]), r"baseline_seeds=18446744073709551616: allowed"),
    (dict(baseline_seeds=[0] * (MAX_ENVS + 1)), rf"at most {MAX_ENVS}"),
])
def test_make_vec_bounds_its_other_counts(settings, needle):
    with pytest.raises(ValueError, match=needle):
        gym.make_vec("tnf_env/TraNNsformer-v0", num_envs=1,
                     vectorization_mode="vector_entry_point", **SMALL, **settings)


@pytest.fixture(scope="module")
def env():
    torch.set_num_threads(1)
    e = tnf_env.make(**SMALL)
    e.reset(seed=0)
    return e


@pytest.mark.parametrize("make,shown", [
    (lambda n: [10**30] * n, "1000000000000000000000000000000"),
    (lambda n: [-(10**30)] * n, "-1000000000000000000000000000000"),
    (lambda n: [2**63] + [0] * (n - 1), "9223372036854775808"),  # once named as -2**63
    (lambda n: np.full(n, 2**64 - 1, np.uint64), "18446744073709551615"),  # once as -1
    (lambda n: np.full(n, 1e300), "1e+300"),
    (lambda n: np.full(n, np.inf), "inf"),
])
def test_step_names_a_huge_action_component_as_given(env, make, shown):
    n = env.action_space.nvec.size
    with pytest.raises(ValueError) as info:
        env.step(make(n))
    message = str(info.value)
    assert f"component 0 (prune0) is {shown}, allowed 0..4" in message, message
    assert len(message.splitlines()) == 1


def test_a_malformed_action_is_one_short_line(env):
    n = env.action_space.nvec.size
    for action in ([[1, 2], [3]], ["a"] * n, [True] * n, np.zeros(1000, np.int64)):
        with pytest.raises(ValueError) as info:
            env.step(action)
        message = str(info.value)
        assert message.startswith("invalid action") and len(message.splitlines()) == 1
        assert len(message) < 300, message


def test_in_range_actions_of_any_integer_type_still_step(env):
    n = env.action_space.nvec.size
    env.reset(seed=0)
    a = env.step(np.zeros(n, np.uint64))
    env.reset(seed=0)
    b = env.step([0] * n)
    assert a[1] == b[1] and np.array_equal(a[0], b[0])


@pytest.mark.parametrize("index", [2**31, 2**63, 10**30, -1])
def test_cluster_indices_are_bounded_before_numpy(index):
    with pytest.raises(ValueError, match=r"integer indices in \[0, 2\*\*31\)"):
        Cluster.from_dict({"outputs": [0, index], "inputs": [0]})
    with pytest.raises(ValueError, match=r"\[0, 2\*\*31\)"):
        Cluster([0], [index])


@pytest.mark.parametrize("threads", [2**63, 10**30, 1025, 0])
def test_state_refuses_torch_threads_out_of_range(env, threads):
    doc = {**env.unwrapped.get_state(), "torch_threads": threads}
    with pytest.raises(ValueError, match=r"torch_threads.*\[1, 1024\]"):
        check_state(doc)


@pytest.mark.parametrize("field", ["epochs", "batch_size", "augment_shift"])
def test_a_training_recipe_bounds_its_counts(field):
    from tnf_env.model.training import TrainingRecipe

    with pytest.raises(ValueError, match=rf"{field}={10**30}: allowed"):
        TrainingRecipe(**{field: 10**30})


@pytest.mark.parametrize("changes,needle", [
    (dict(seeds=(2**64,)), r"--seeds must be integers in \[0, 2\*\*32\), got 18446744073709551616"),
    (dict(num_cpus=10**30), r"--num-cpus must be an integer in \[1, 65536\]"),
])
def test_a_search_bounds_its_seeds_and_cpus(tmp_path, changes, needle):
    from agents.rl.config import load_config
    from agents.search.config import SearchConfig

    with pytest.raises(ValueError, match=needle):
        SearchConfig(load_config(), tmp_path / "s", **changes)


def test_an_object_array_of_huge_integers_is_named_as_given(env):
    n = env.action_space.nvec.size
    with pytest.raises(ValueError, match=f"component 0 \\(prune0\\) is {10**30}, allowed 0..4"):
        env.step(np.array([10**30] * n, dtype=object))
