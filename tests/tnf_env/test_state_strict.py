"""The state document is strict all the way down: unknown metrics, unknown keys of
``trained_at`` and actions an episode cannot take (more than its steps, any after a stop)
are refused by name, and what the project writes still reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tnf_env.settings import explicit_settings
from tnf_env.state import check_state, state_document

ENV = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": [16, 32], "max_steps": 3}
# as the writers record a level's settings: every setting whose default changed spelled out
LEVEL_ENV = explicit_settings(ENV)
N = 7  # 2 layers x (prune, cluster, cluster prune) + the chip's crossbar size
STOP_ENV = {**ENV, "allow_stop": True}
OLD = Path(__file__).parents[1] / "agents" / "data" / "best_schedule_headline_mnist10k.json"


def _doc(env=ENV, actions=((0,) * N,), **changes):
    doc = state_document(env, 3, [list(a) for a in actions], 0.25, {"accuracy": 0.9})
    return {**doc, **changes}


def _refused(doc) -> str:
    with pytest.raises(ValueError) as info:
        check_state(doc)
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return message


@pytest.mark.parametrize("n", [1, 3])
def test_up_to_the_episode_s_steps_are_accepted(n):
    assert len(check_state(_doc(actions=[[0] * N] * n)).actions) == n


@pytest.mark.parametrize("max_steps,n", [(3, 4), (None, 11)])
def test_more_actions_than_the_episode_has_steps_are_refused(max_steps, n):
    message = _refused(_doc(env={**ENV, "max_steps": max_steps}, actions=[[0] * N] * n))
    horizon = max_steps or 10  # the default episode
    assert f"{n} given, the episode has at most {horizon} steps" in message


def test_an_action_after_the_stop_action_is_refused():
    stop, go = [0] * N + [1], [0] * N + [0]
    assert check_state(_doc(env=STOP_ENV, actions=[go, stop])).actions[-1] == stop
    message = _refused(_doc(env=STOP_ENV, actions=[go, stop, go]))
    assert "actions[1] stops the episode" in message and "1 more follow" in message


def test_an_unknown_metric_is_named():
    message = _refused(_doc(metrics={"accuracy": 0.9, "acuracy": 0.9}))
    assert "unknown metric 'acuracy'" in message and "'accuracy'" in message


def test_a_nan_inside_a_per_layer_metric_is_refused():
    assert "key 'metrics'" in _refused(_doc(metrics={"sparsity": [0.5, float("nan")]}))


@pytest.mark.parametrize("level,needle", [
    ({"env": LEVEL_ENV, "best_of": 3}, "unknown key 'trained_at.best_of'"),
    ({"episode_return": 0.1}, "key 'trained_at' lacks 'env'"),
    ({"env": LEVEL_ENV, "metrics": {"costs": 1.0}},
     "key 'trained_at.metrics': unknown metric 'costs'"),
    ({"env": LEVEL_ENV, "actions": [[0.5] * N]}, "key 'trained_at.actions' must be"),
    ({"env": LEVEL_ENV, "actions": [[0] * N] * 4}, "key 'trained_at.actions': 4 given"),
    ({"env": LEVEL_ENV, "actions": [[0] * (N + 1)]}, f"actions of {N} integers"),
    ({"env": {**LEVEL_ENV, "colour": 1}}, "key 'trained_at.env': unknown setting"),
    ({"env": LEVEL_ENV, "episode_return": "high"}, "key 'trained_at.episode_return' must be"),
])
def test_the_level_a_schedule_was_found_at_is_as_strict(level, needle):
    assert needle in _refused(_doc(trained_at=level))


def test_what_the_project_writes_reads_back():
    level = {"env": {**LEVEL_ENV, "fidelity": "low"}, "episode_return": 0.2,
             "metrics": {"accuracy": 0.8, "sparsity": [0.1, 0.2]}, "actions": [[0] * N] * 2}
    state = check_state(json.loads(json.dumps(_doc(trained_at=level))), replayable=True)
    assert state.trained_at == level  # a mapping for readers, as before
    old = check_state(json.loads(OLD.read_text()), replayable=True)
    assert old.trained_at is not None and len(old.trained_at["actions"]) == 12
