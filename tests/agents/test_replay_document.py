"""``best_schedule.json`` is the episode-state document: files written before it had a
model still load, unknown keys are named, and a search's fixed-schedule trial writes one
that replays (its episodes run through the one rollout, alone or stepped together)."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import TINY_TRAIN

import tnf_env
from agents.rl.config import config_from_dict
from agents.rl.replay import ScheduleFileError, load_schedule, replay, same
from agents.search.tune import _schedule_trial

OLD = Path(__file__).parent / "data" / "best_schedule_headline_mnist10k.json"


def test_a_schedule_file_of_an_earlier_version_loads(tmp_path):
    path = tmp_path / "best_schedule.json"
    shutil.copyfile(OLD, path)
    doc = load_schedule(path)
    assert doc["env"]["dataset"] == "mnist-10k" and doc["timesteps"] == 480
    assert doc["trained_at"]["env"]["fidelity"] == "low" and len(doc["actions"]) == 12


def test_an_unknown_key_is_named_with_the_file(tmp_path):
    doc = json.loads(OLD.read_text())
    path = tmp_path / "best_schedule.json"
    path.write_text(json.dumps({**doc, "best_of": 3}))
    with pytest.raises(ScheduleFileError, match=f"schedule file {path}: unknown key 'best_of'"):
        load_schedule(path)


@pytest.mark.parametrize("vectorization", ["subprocess", "batched"])
def test_a_fixed_schedule_trial_writes_a_state_document_that_replays(tmp_path, vectorization):
    torch.set_num_threads(1)
    env = {**TINY_TRAIN["env"], "max_steps": 2, "allow_stop": False, "dtype": "float64"}
    cfg = config_from_dict({**TINY_TRAIN, "env": env, "vectorization": vectorization})
    reports = []
    _schedule_trial(cfg, tmp_path, "paper", 2, lambda s: tnf_env.make(**s), reports.append)
    assert [r["episodes"] for r in reports] == [1, 2]  # one report per episode, in seed order
    doc = load_schedule(tmp_path / "best_schedule.json")
    assert doc["episodes"] == 2 and doc["timesteps"] == 4 and doc["config"]["name"] == "tiny"
    result, compared = replay(doc)
    assert compared and all(same(rec, now) for rec, now in compared.values())
    assert result.episode_return == doc["episode_return"]


def test_a_replay_renders_a_frame_per_action(tmp_path):
    from agents.rl.policies import PaperPolicy, run_episode

    env = tnf_env.make(topology="64-32-10", crossbar_sizes=(16,), max_steps=2)
    run_episode(env, PaperPolicy(), 0)
    result, compared = replay(tnf_env.episode_of(env).get_state(), render_dir=tmp_path)
    assert result.steps == 2 and all(same(*pair) for pair in compared.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_001.png", "step_002.png"]
