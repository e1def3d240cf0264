"""The batched vector environment: sub-episode k with seed s is the single env's episode."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import tnf_env
from tnf_env import BatchedTraNNsformerEnv, Task, TraNNsformerEnv
from tnf_env.model.training import TrainingDiverged
from tnf_env.transform.batched import StackedNets, retrain_stacked
from tnf_env.transform.transformation import Transformation


@pytest.fixture(scope="module")
def task64(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # the session's cache, as conftest sets it
        mp.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))
        # 1.5 epochs per step: sub-iterations of 1 and 0.5 epochs, onsets, settle tests.
        return Task.build(dtype="float64", max_steps=2, retrain_epochs=1.5, allow_stop=True)


def _actions(space, n_steps, seed):
    space.seed(seed)
    acts = [space.sample() for _ in range(n_steps)]
    for a in acts:
        a[:, -1] = 0  # no stop: every step retrains
        a[:, :3] = np.minimum(a[:, :3], 2)  # gentle pruning: no episode collapses early
    return acts


def test_sub_episodes_equal_single_episodes_in_float64(task64):
    _assert_batched_equals_single(task64, seeds=[5, 6])


def test_sub_episodes_equal_single_episodes_with_training_subsets(tmp_path_factory):
    """Retraining on 500 of digits' 899 training images and the loss gate on 300 of them:
    the batched step retrains and measures on the same images as the single env."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))
        task = Task.build(dtype="float64", max_steps=2, retrain_epochs=1.5, allow_stop=True,
                          gate_images=300, train_images=500)
    assert task.x_gate.shape[0] == 300 and task.x_retrain.shape[0] == 500
    assert task.x_train.shape[0] > 500
    _assert_batched_equals_single(task, seeds=[5, 6])


def test_sub_episodes_equal_single_episodes_at_low_fidelity(tmp_path_factory):
    """fidelity="low": the batched step retrains each network on the same fresh quarter of
    each epoch's images as the single env."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))
        task = Task.build(dtype="float64", max_steps=2, retrain_epochs=1.5, allow_stop=True,
                          fidelity="low", collapse_margin=1.0)  # no early end
    assert task.epoch_share == 0.25
    _assert_batched_equals_single(task, seeds=[5, 6])


def _assert_batched_equals_single(task64, seeds):
    # Two threads for the episodes' own work: results do not depend on them.
    venv = BatchedTraNNsformerEnv(num_envs=2, task=task64, threads=2)
    obs0, info0 = venv.reset(seed=seeds)
    assert venv.observation_space.contains(obs0)
    acts = _actions(venv.action_space, task64.horizon, seed=1)
    steps = [venv.step(a) for a in acts]
    single = TraNNsformerEnv(task=task64)
    for k, s in enumerate(seeds):
        obs, info = single.reset(seed=s)
        np.testing.assert_array_equal(obs, obs0[k])
        assert info0["episode_seed"][k] == s
        for a, (b_obs, b_rew, b_term, b_trunc, b_info) in zip(acts, steps, strict=True):
            obs, rew, term, trunc, info = single.step(a[k])
            np.testing.assert_array_equal(obs, b_obs[k])
            assert rew == b_rew[k]
            assert (term, trunc) == (b_term[k], b_trunc[k])
            for key, value in info.items():
                assert b_info[f"_{key}"][k], key
                np.testing.assert_array_equal(np.asarray(value), np.asarray(b_info[key][k]))
        assert term or trunc  # the end: the delivered network is restored in both
        mine, theirs = single.transformation, venv.envs[k].transformation
        assert info["delivered_step"] == b_info["delivered_step"][k]
        for i in range(mine.n_layers):
            np.testing.assert_array_equal(mine.mask(i), theirs.mask(i))
            np.testing.assert_allclose(mine.weight(i), theirs.weight(i), rtol=0, atol=1e-12)
        assert mine.clusters == theirs.clusters
        assert mine.thresholds == theirs.thresholds
    assert venv.envs[0].transformation.clusters != venv.envs[1].transformation.clusters


def test_stacked_retraining_draws_each_networks_own_stream(task64):
    def fresh(seed):
        tr = Transformation(task64.dense_net, task64.x_train, task64.y_train, [16] * 3,
                            task64.recipe, seed=seed, initial_loss=task64.start_loss)
        tr.prune(1, 0.1)
        return tr

    alone, together = [fresh(s) for s in (3, 4)], [fresh(s) for s in (3, 4)]
    losses = []
    for tr in alone:
        tr.retrain(0.5)
        losses.append(tr.train_loss())
    got = retrain_stacked(together, 0.5)
    assert got == pytest.approx(losses, rel=1e-12)
    for a, b in zip(alone, together, strict=True):
        assert torch.equal(a.generator.get_state(), b.generator.get_state())
        assert a.epochs_trained == b.epochs_trained == 0.5
        for i in range(3):
            np.testing.assert_allclose(a.weight(i), b.weight(i), rtol=0, atol=1e-12)


def test_a_diverging_network_stops_alone(task64):
    trs = [Transformation(task64.dense_net, task64.x_train, task64.y_train, [16] * 3,
                          task64.recipe, seed=s) for s in (1, 2)]
    with torch.no_grad():
        trs[0].net.layers[0].weight.fill_(float("nan"))
    out = retrain_stacked(trs, 1.0)
    assert isinstance(out[0], TrainingDiverged)
    assert np.isfinite(out[1])
    assert trs[1].epochs_trained == 1.0 and trs[0].epochs_trained == 0.0
    assert np.isfinite(trs[1].weight(0)).all()


def test_make_vec_autoreset_next_step_and_info_arrays():
    envs = gym.make_vec(
        tnf_env.ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", max_steps=2,
        allow_stop=True,
    )
    assert isinstance(envs.unwrapped, BatchedTraNNsformerEnv)
    assert envs.metadata["autoreset_mode"] is gym.vector.AutoresetMode.NEXT_STEP
    envs.reset(seed=10)
    stop = np.zeros(envs.action_space.shape, dtype=np.int64)  # no pruning or clustering
    stop[:, -1] = [1, 0]  # episode 0 stops, episode 1 retrains
    obs, rew, term, trunc, info = envs.step(stop)
    assert term.tolist() == [True, False] and not trunc.any()
    assert isinstance(info["accuracy"], np.ndarray) and info["accuracy"].shape == (2,)
    assert info["_delivered_step"].tolist() == [True, False]
    # stopped before any step: the start is the last step, nothing was handed back
    assert info["_fell_back"].tolist() == [True, False] and not info["fell_back"][0]
    go = stop.copy()
    go[:, -1] = 0
    obs, rew, term, trunc, info = envs.step(go)  # episode 0 resets; 1 hits its horizon
    assert rew[0] == 0.0 and not term[0] and not trunc[0]
    assert info["_episode_seed"].tolist() == [True, False]
    assert trunc[1]
    assert envs.observation_space.contains(obs)
    envs.close()


def test_same_step_autoreset_keeps_the_final_observation():
    envs = BatchedTraNNsformerEnv(
        num_envs=2, autoreset_mode="SameStep", max_steps=1, allow_stop=True
    )
    obs0, _ = envs.reset(seed=[3, 4])
    a = np.zeros(envs.action_space.shape, dtype=np.int64)
    a[:, -1] = 1
    obs, _, term, _, info = envs.step(a)
    assert term.all()
    assert info["_final_obs"].all() and info["final_info"]["is_success"].shape == (2,)
    np.testing.assert_array_equal(obs, obs0)  # already reset: the start observation again


def test_bad_settings_and_actions_are_refused_in_one_line():
    with pytest.raises(ValueError, match="num_envs=0"):
        BatchedTraNNsformerEnv(num_envs=0)
    with pytest.raises(ValueError, match="autoreset_mode='later'"):
        BatchedTraNNsformerEnv(num_envs=1, autoreset_mode="later")
    task = Task.build(max_steps=2, allow_stop=True)
    with pytest.raises(ValueError, match=r"differ in \['max_steps'\]"):
        BatchedTraNNsformerEnv(num_envs=1, task=task, max_steps=3)
    envs = BatchedTraNNsformerEnv(num_envs=2, task=task)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="expected \\(2, ...\\)"):
        envs.step(np.zeros((3, envs.single_action_space.shape[0]), dtype=np.int64))
    bad = envs.action_space.sample()
    bad[1, 0] = 99
    with pytest.raises(ValueError, match="invalid action"):
        envs.step(bad)
    assert all(len(e.episode.actions) == 0 for e in envs.envs)  # a refused step changed nothing


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_stacked_retraining_on_cuda_matches_the_single_network():
    task = Task.build(dtype="float64", device="cuda")
    trs = [Transformation(task.dense_net, task.x_train, task.y_train, [16] * 3, task.recipe,
                          seed=s) for s in (1, 2, 1, 2)]
    retrain_stacked(trs[:2], 1.0)
    for tr in trs[2:]:
        tr.retrain(1.0)
    for a, b in zip(trs[:2], trs[2:], strict=True):
        assert a.weight(0).shape == b.weight(0).shape
        for i in range(3):
            np.testing.assert_allclose(a.weight(i), b.weight(i), rtol=0, atol=1e-10)
    assert StackedNets(trs).weights[0].device.type == "cuda"
