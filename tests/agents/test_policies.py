"""Policies: the paper's schedule as a policy reproduces the fixed-schedule driver."""

import numpy as np
import pytest
import torch
from reference_schedule import run_schedule

import tnf_env
from agents.rl.policies import PaperPolicy, PruningPolicy, RandomPolicy, run_episode
from tnf_env.transform.transformation import Transformation


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_paper_policy_reproduces_the_driver_bit_for_bit():
    # The last network, not the delivered one: the schedule's trajectory is compared.
    env = tnf_env.make(topology="64-32-10", crossbar_sizes=(16,), max_steps=8, rate_scale=5.0,
                       select_on_validation=False)
    result = run_episode(env, PaperPolicy(), seed=3)
    u = env.unwrapped
    t = u.task
    tr = Transformation(t.baseline.net, t.x_train, t.y_train, [16, 16], t.recipe, seed=3)
    run = run_schedule(tr, u.paper_schedule())
    assert result.steps == len(run.reports) == 8
    assert sum(len(c) for c in tr.clusters) > 0  # the schedule did cluster
    for a, b in zip(tr.masks(), u.transformation.masks(), strict=True):
        assert np.array_equal(a, b)
    for la, lb in zip(tr.net.layers, u.transformation.net.layers, strict=True):
        assert torch.equal(la.weight, lb.weight)
    assert [len(c) for c in tr.clusters] == result.final_info["clusters"]


def test_pruning_policy_never_clusters_and_random_never_stops():
    env = tnf_env.make(topology="64-32-10", crossbar_sizes=(16,), max_steps=3, allow_stop=True)
    res = run_episode(env, PruningPolicy(), seed=0)
    assert res.final_info["clusters"] == [0, 0] and res.steps == 3
    res = run_episode(env, RandomPolicy(seed=1), seed=0)
    assert all(a[-1] == 0 for a in res.actions)


def test_comparison_table_gives_no_spread_over_one_episode():
    from agents.rl.policies import comparison_table

    s = {"return": 0.4, "return_std": 0.0, "accuracy": 0.96, "cost": 0.6, "area_ratio": 0.5,
         "energy_ratio": 0.7, "crossbars": 40, "success": 1.0}
    one = comparison_table({"ppo": {**s, "episodes": 1}})
    assert "| 0.400 (n = 1) |" in one and "±" not in one
    assert "| 0.400 ± 0.000 |" in comparison_table({"ppo": {**s, "episodes": 3}})


def test_summary_flags_episodes_that_handed_back_an_earlier_network():
    """A margin no network can clear hands back the dense start: the table says so, and
    so do the warnings, whatever the processor's float32 trajectory."""
    from agents.rl.policies import comparison_table, delivery_warnings, summarize

    env = tnf_env.make(topology="64-32-10", crossbar_sizes=(16,), max_steps=2,
                       selection_margin=1e6)
    s = summarize([run_episode(env, PruningPolicy(), seed=0)])
    assert s["untouched"] == 1.0 and s["fell_back"] == 0.0
    table = comparison_table({"pruning": s})
    assert "| last step 0/1, untouched 1/1 |" in table
    warnings = delivery_warnings({"pruning": s})
    assert any("untouched 1/1" in w for w in warnings)
    worse = delivery_warnings({"x": {**s, "untouched": 0.0, "cost": 2.06}})
    assert worse == ["warning: x: its delivered networks cost 2.06x the original network's "
                     "hardware: worse than not transforming it"]


def test_policies_act_on_a_bare_episode_as_on_its_environment():
    """rollout hands a policy a bare Episode when given one: the schedules read it directly
    and take the actions they take through a wrapped environment."""
    from agents.rl.policies import session
    from tnf_env.rollout import rollout

    env = tnf_env.make(topology="64-32-10", crossbar_sizes=(16,), max_steps=2)
    episode = tnf_env.Episode(tnf_env.task_of(env))
    assert session(episode) is episode and session(env) is tnf_env.episode_of(env)
    with pytest.raises(TypeError, match="expected a TraNNsformer environment"):
        session(object())
    for make_policy in (PaperPolicy, lambda: RandomPolicy(seed=2)):
        on_env, on_episode = (rollout([e], [make_policy()], [0])[0] for e in (env, episode))
        assert on_episode.actions == on_env.actions and on_env.steps == 2
