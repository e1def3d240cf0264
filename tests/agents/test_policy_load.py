"""A policy is rebuilt from the spaces stored with its run: no environment is built, so no
dense baseline is loaded or trained; files that lead out of the run are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agents.rl.ppo import PPOPolicy
from agents.rl.run_dir import RunError
from agents.rl.spaces import SPACES_FILE, SpacesError

POLICY = Path(__file__).resolve().parents[2] / "policies" / "digits"


def test_the_shipped_policy_loads_without_its_baseline(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TNF_CACHE", str(cache))
    policy = PPOPolicy.load(POLICY)
    assert not cache.exists() or not any(cache.rglob("*"))  # nothing trained, nothing cached
    assert policy.model.observation_space.shape == (37,)
    assert list(policy.model.action_space.nvec) == [5, 5, 5, 4, 4, 4, 17, 17, 17, 2]


@pytest.mark.parametrize(
    "doc,needle",
    [
        ({"observation": {"shape": [10**9], "low": -1, "high": 1}, "action": {"nvec": [2]}},
         r"key 'observation.shape' must be a list of one integer in \[1, 100000\]"),
        ({"observation": {"shape": [3], "low": 1, "high": -1}, "action": {"nvec": [2]}},
         "key 'observation.low' .* must be below"),
        ({"observation": {"shape": [3], "low": -1, "high": 1}, "action": {"nvec": [2.5]}},
         "key 'action.nvec' must be a list of 1 to 100000 integers"),
        ({"observation": {"shape": [3]}}, "key 'action' missing"),
        ({"observation": {"shape": [3]}, "action": {"nvec": [2]}},
         "key 'low' missing from 'observation'"),
        # the names of another format, an integer beyond int64, a boolean, infinity
        ({"action_nvec": [2**70], "observation_shape": [3]}, "unknown key 'action_nvec'"),
        ({"observation": {"shape": [3], "low": -1, "high": 1}, "action": {"nvec": [2**70]}},
         r"key 'action.nvec' .*got \[1180591620717411303424\]"),
        ({"observation": {"shape": [True], "low": -1, "high": 1}, "action": {"nvec": [2]}},
         "key 'observation.shape'"),
        ({"observation": {"shape": [3], "low": -1, "high": 1e999}, "action": {"nvec": [2]}},
         "key 'observation.high' must be a finite number"),
        ({"observation": {"shape": [3], "low": -1, "high": 1, "dtype": "f4"},
          "action": {"nvec": [2]}}, "unknown key 'dtype' in 'observation'"),
    ],
)
def test_bad_stored_spaces_are_refused(tmp_path, doc, needle):
    run = tmp_path / "run"
    shutil.copytree(POLICY, run)
    (run / SPACES_FILE).write_text(json.dumps(doc))
    with pytest.raises(SpacesError, match=needle) as info:
        PPOPolicy.load(run)
    assert str(info.value).startswith(str(run / SPACES_FILE) + ":")  # names the file
    assert len(str(info.value).splitlines()) == 1


def test_a_model_linked_from_outside_the_run_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(POLICY / "config.yaml", run / "config.yaml")
    (run / "best_model.zip").symlink_to(POLICY / "best_model.zip")
    with pytest.raises(RunError, match="leads outside"):
        PPOPolicy.load(run)
