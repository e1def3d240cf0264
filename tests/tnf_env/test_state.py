"""The one episode-state document: what ``get_state`` writes is what ``check_state`` reads;
unknown keys, bad types and actions of the wrong length are named before anything runs."""

import json
from pathlib import Path

import pytest

from tnf_env.settings import explicit_settings
from tnf_env.state import EpisodeState, action_space_of, check_state, state_document

ENV = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": [16, 32], "max_steps": 2}
N = 7  # 2 layers x (prune, cluster, cluster prune) + the chip's crossbar size


def _doc(**changes):
    doc = state_document(ENV, 3, [[0] * N], 0.25, {"accuracy": 0.9, "step": 1})
    return {**doc, **changes}


def test_the_written_document_reads_back_with_the_run_fields_optional():
    doc = _doc()
    assert doc["metrics"] == {"accuracy": 0.9} and doc["env"] == explicit_settings(ENV)
    state = check_state(json.loads(json.dumps(doc)), replayable=True)
    assert state.seed == 3 and state.config is None and state.trained_at is None
    assert len(action_space_of(state.settings())) == N
    run = _doc(config={"name": "x"}, timesteps=8, mean_eval_return=0.1, episodes=2,
               trained_at={"env": ENV})
    assert check_state(run).timesteps == 8


@pytest.mark.parametrize("changes,needle", [
    ({"extra": 1}, "unknown key 'extra'"),
    ({"actions": [[0] * (N + 1)]}, f"actions of {N} integers"),
    ({"actions": [[0] * (N - 1) + [2]]}, "got actions[0]="),  # crossbar index 2 of 2 sizes
    ({"actions": [[0] * (N - 1) + [2]]}, "component 6 (crossbar0) is 2, allowed 0..1"),
    ({"actions": [[0] * N, [1.5] + [0] * (N - 1)]}, "got actions[1][0]=1.5"),
    ({"actions": "abc"}, "got actions='abc'"),
    ({"seed": -1}, "key 'seed' must be an integer in [0, 2**63)"),
    ({"metrics": {"cost": float("nan")}}, "key 'metrics'"),
    ({"env": {**ENV, "max_steps": 0}}, "key 'env': invalid setting max_steps=0"),
    ({"timesteps": "many"}, "key 'timesteps'"),
])
def test_a_bad_document_is_refused_in_one_line_naming_the_key(changes, needle):
    with pytest.raises(ValueError) as info:
        check_state(_doc(**changes))
    message = str(info.value)
    assert needle in message and len(message.splitlines()) == 1, message


def test_a_replayable_document_needs_metrics_and_an_action():
    doc = _doc()
    del doc["metrics"]
    check_state(doc)  # a state may leave them out
    with pytest.raises(ValueError, match=r"lacks \['metrics'\]"):
        check_state(doc, replayable=True)
    with pytest.raises(ValueError, match="non-empty"):
        check_state(_doc(actions=[]), replayable=True)


def test_a_schedule_written_by_an_earlier_version_still_validates():
    """``best_schedule.json`` of a headline run, written before the document had a model
    (run fields at the top, ``trained_at`` of a low-fidelity run)."""
    path = Path(__file__).parents[1] / "agents" / "data" / "best_schedule_headline_mnist10k.json"
    state = check_state(json.loads(path.read_text()), replayable=True)
    assert isinstance(state, EpisodeState) and state.trained_at["env"]["fidelity"] == "low"
    assert len(state.actions[0]) == len(action_space_of(state.settings())) == 12
