"""``env.fork()``, ``tnf_env.fork(env)`` and ``get_state()`` / ``set_state()``: a copy or a
restored state continues exactly as the original would, bit for bit on the CPU."""

import json

import numpy as np
import pytest
import torch

import tnf_env

KW = dict(topology="64-32-10", crossbar_sizes=(16, 32), max_steps=5, retrain_epochs=0.5,
          allow_stop=True)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _actions(env, n, seed=0):
    rng = np.random.default_rng(seed)
    nvec = env.action_space.nvec
    return [np.r_[rng.integers(0, nvec[:-1]), 0] for _ in range(n)]  # never stop


def _run(env, actions):
    out = [env.step(a) for a in actions]
    weights = [w.detach().clone() for w in env.unwrapped.transformation.net.parameters()]
    return out, weights


def _same(a, b):
    (ta, wa), (tb, wb) = a, b
    assert all(torch.equal(x, y) for x, y in zip(wa, wb, strict=True))
    for (oa, *ra), (ob, *rb) in zip(ta, tb, strict=True):
        assert np.array_equal(oa, ob) and ra == rb


def test_fork_mid_episode_continues_as_the_original_would():
    env = tnf_env.make(**KW)
    first, rest = _actions(env, 2), _actions(env, 3, seed=1)
    env.reset(seed=3)
    for a in first:
        env.step(a)
    child = tnf_env.fork(env)  # wrappers (TimeLimit count) included
    inner = env.unwrapped.fork()
    assert child.unwrapped is not env.unwrapped
    assert child.unwrapped.task.data is env.unwrapped.task.data
    from_child, from_inner = _run(child, rest), _run(inner, rest)
    from_env = _run(env, rest)  # the original was not disturbed by its forks' steps
    _same(from_child, from_env)
    _same(from_inner, from_env)
    assert from_env[0][-1][3]  # the last step truncated the episode, in every copy
    fresh = tnf_env.make(**KW)  # and the original went on as if it had never been forked
    fresh.reset(seed=3)
    for a in first:
        fresh.step(a)
    _same(_run(fresh, rest), from_env)


def test_get_state_is_a_replayable_schedule_and_set_state_restores_it(tmp_path):
    from agents.rl.replay import load_schedule, replay

    env = tnf_env.make(**KW)
    first, rest = _actions(env, 2), _actions(env, 3, seed=1)
    env.reset(seed=7)
    for a in first:
        env.step(a)
    state = env.unwrapped.get_state()
    assert state["seed"] == 7 and state["actions"] == [a.tolist() for a in first]
    json.dumps(state)  # plain JSON
    reference = _run(env.unwrapped.fork(), rest)
    restored = tnf_env.make(**KW)
    restored.unwrapped.set_state(state)
    _same(_run(restored.unwrapped, rest), reference)
    other = tnf_env.make(**KW)  # through the wrappers: reset(options={"state": ...})
    other.reset(options={"state": state})
    _same(_run(other, rest), reference)
    _run(env, rest)
    # the end-of-episode state is what best_schedule.json holds: replay reproduces it
    final = env.unwrapped.get_state()
    path = tmp_path / "state.json"
    path.write_text(json.dumps(final))
    result, compared = replay(load_schedule(path))
    assert all(rec == now for rec, now in compared.values())
    assert result.episode_return == pytest.approx(final["episode_return"], abs=1e-12)


def test_set_state_refuses_other_settings():
    env = tnf_env.make(**KW)
    env.reset(seed=0)
    state = env.unwrapped.get_state()
    other = tnf_env.make(**{**KW, "max_steps": 4})
    with pytest.raises(ValueError, match="max_steps"):
        other.unwrapped.set_state(state)
