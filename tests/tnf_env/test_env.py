"""The Gymnasium environment: API conformance, determinism, errors, vector envs."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import tnf_env

SMALL = dict(topology="64-32-10", crossbar_sizes=(16, 32), max_steps=4, allow_stop=True)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _make(**kw):
    settings = {**SMALL, **kw}
    return tnf_env.make(**settings)


def test_registered_and_make_matches_the_time_limit():
    assert gym.spec("tnf_env/TraNNsformer-v0").max_episode_steps is None  # test_horizon.py
    assert _make().spec.max_episode_steps == SMALL["max_steps"]


@pytest.mark.parametrize(
    "kw",
    [
        {},
        dict(
            SMALL,
            per_layer_crossbar=True,
            technology="isaac",
            area_weight=1.0,
            val_size=100,
            retrain_epochs=0.5,
        ),
    ],
)
def test_gymnasium_and_sb3_checkers_pass(kw):
    env = gym.make("tnf_env/TraNNsformer-v0", **kw).unwrapped
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=True)


def test_spaces_and_info_describe_the_step():
    env = _make()
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert info["cost"] == pytest.approx(1.0)
    a = env.action_space.sample()
    a[-1] = 0
    obs, reward, terminated, truncated, info = env.step(a)
    assert env.observation_space.contains(obs)
    for key in (
        "accuracy",
        "area_mm2",
        "energy_nj",
        "crossbars",
        "utilization",
        "sparsity",
        "is_success",
    ):
        assert key in info
    assert len(info["sparsity"]) == 2
    assert reward == pytest.approx(1.0 - info["cost"], abs=1e-9)  # not final: no penalty


def _rollout(env, actions, seed):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append((obs, r, info["accuracy"], info["cost"]))
        if term or trunc:
            break
    return out, [layer.weight.clone() for layer in env.unwrapped.transformation.net.layers]


def test_same_seed_same_trajectory_bit_for_bit():
    env = _make()
    rng = np.random.default_rng(0)
    actions = [np.r_[rng.integers(0, env.action_space.nvec[:-1]), 0] for _ in range(4)]
    t1, w1 = _rollout(env, actions, seed=5)
    t2, w2 = _rollout(_make(), actions, seed=5)
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))
    for a, b in zip(t1[1:], t2[1:], strict=True):
        assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]


def test_truncates_at_horizon_and_stop_terminates():
    env = _make()
    env.reset(seed=0)
    zero = np.zeros_like(env.action_space.nvec)
    flags = [env.step(zero)[2:4] for _ in range(4)]
    assert flags[-1] == (False, True) and all(f == (False, False) for f in flags[:-1])
    env.reset(seed=0)
    stop = zero.copy()
    stop[-1] = 1
    _, reward, terminated, truncated, info = env.step(stop)
    assert terminated and not truncated and reward == 0.0


def test_without_stop_component_episodes_run_to_the_horizon():
    env = _make(allow_stop=False)
    assert len(env.action_space.nvec) == len(_make().action_space.nvec) - 1
    env.reset(seed=0)
    ones = np.ones_like(env.action_space.nvec)
    flags = [env.step(ones)[2:4] for _ in range(4)]
    assert flags[-1] == (False, True)


def test_invalid_action_and_step_after_end_are_clear_errors():
    env = _make().unwrapped
    env.reset(seed=0)
    bad = np.zeros_like(env.action_space.nvec)
    bad[0] = 99
    with pytest.raises(ValueError, match="component 0 .prune0. is 99, allowed 0..4"):
        env.step(bad)
    with pytest.raises(ValueError, match="expected"):
        env.step(np.zeros(3, dtype=np.int64))
    stop = np.zeros_like(env.action_space.nvec)
    stop[-1] = 1
    env.step(stop)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(stop * 0)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(dataset="imagenet"), "dataset='imagenet': allowed one of digits"),
        (dict(crossbar_sizes=(1,)), "crossbar_sizes"),
        (dict(area_weight=2.0), "area_weight=2.0: allowed a number in \\[0, 1\\]"),
        (dict(accounting="magic"), "accounting='magic'"),
        (dict(colour="red"), "unknown setting"),
        (dict(crossbar_sizes=(1024,)), "1024"),
        (dict(prune_levels=(1.0, 1.0)), "prune_levels=.*distinct numbers in \\[0, 1000\\]"),
        (dict(prune_levels=(-1.0, 1.0)), "prune_levels"),
    ],
)
def test_invalid_settings_name_the_setting(kw, match):
    with pytest.raises(ValueError, match=match):
        tnf_env.TraNNsformerEnv(**{**SMALL, **kw})


def test_nan_loss_ends_episode_with_error():
    env = _make()
    env.reset(seed=0)
    with torch.no_grad():
        env.unwrapped.transformation.net.layers[0].weight.fill_(float("nan"))
    _, _, terminated, _, info = env.step(np.zeros_like(env.action_space.nvec))
    assert terminated and "TrainingDiverged" in info["error"]


def test_render_modes():
    env = _make(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "layer" in text and "accuracy" in text and len(text.splitlines()) == 4
    env = _make(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert frame.std() > 0


def test_gymnasium_vector_env():
    envs = gym.vector.SyncVectorEnv([lambda: _make() for _ in range(2)])
    obs, _ = envs.reset(seed=[0, 1])
    assert obs.shape == (2, envs.single_observation_space.shape[0])
    actions = np.zeros((2, len(envs.single_action_space.nvec)), dtype=np.int64)
    obs, rewards, term, trunc, infos = envs.step(actions)
    assert rewards.shape == (2,) and "accuracy" in infos
    envs.close()


def test_sb3_subproc_vec_env():
    from stable_baselines3.common.vec_env import SubprocVecEnv

    venv = SubprocVecEnv([lambda: _make(torch_threads=1) for _ in range(2)], start_method="spawn")
    venv.seed(0)
    obs = venv.reset()
    actions = np.zeros((2, len(venv.action_space.nvec)), dtype=np.int64)
    obs, rewards, dones, infos = venv.step(actions)
    assert obs.shape[0] == 2 and len(infos) == 2 and "cost" in infos[0]
    venv.close()


def test_snn_at_end_reports_spiking_accuracy_and_measured_energy():
    env = _make(snn_at_end=True, snn_timesteps=5, max_steps=2)
    env.reset(seed=0)
    zero = np.zeros_like(env.action_space.nvec)
    _, _, _, _, info = env.step(zero)
    assert "snn_accuracy_test" not in info  # only when the episode ends
    _, _, _, truncated, info = env.step(zero)
    assert truncated and 0.0 <= info["snn_accuracy_test"] <= 1.0
    assert info["snn_energy_nj"] > 0 and info["snn_energy_nj"] != info["energy_nj"]


def test_relative_prune_unit_scales_with_the_weights():
    env = _make(prune_unit="relative", relative_rate=0.5).unwrapped
    assert env.task.unit_rates() == pytest.approx([0.5 * s for s in env.task.weight_scale])
    assert _make().unwrapped.task.unit_rates() == env.paper_schedule().rates(2)
    from agents.rl.policies import PaperPolicy

    with pytest.raises(ValueError, match="prune_unit='paper'"):
        PaperPolicy().reset(env)


def test_floor_give_back_setting_changes_only_the_final_penalty():
    rewards, infos = {}, {}
    for give_back in (True, False):
        env = _make(
            max_steps=1, accuracy_tolerance=0.0, floor_give_back=give_back,
            select_on_validation=False,
        )
        _, start = env.reset(seed=3)
        harsh = np.zeros_like(env.action_space.nvec)
        harsh[: env.unwrapped.task.n_layers] = 4  # prune level 4 on every layer: below the floor
        _, rewards[give_back], _, _, infos[give_back] = env.step(harsh)
        env.close()
    info = infos[False]
    assert info["accuracy"] < info["accuracy_floor"] and info["cost"] < start["cost"]
    assert infos[True]["cost"] == info["cost"]
    # the give-back returns the episode's saving
    assert rewards[False] - rewards[True] == pytest.approx(start["cost"] - info["cost"], abs=1e-9)


def test_prune_levels_setting_sets_the_prune_choices():
    env = _make(prune_levels=(0.0, 1.0, 1.25, 1.5), gate_on_loss=False)
    codec = env.unwrapped.codec
    assert env.action_space.nvec[: env.unwrapped.task.n_layers].tolist() == [4, 4]
    action = np.zeros_like(env.action_space.nvec)
    action[:2] = [2, 3]
    assert codec.decode(action).prune_levels == [1.25, 1.5]
    env.reset(seed=0)
    _, _, _, _, info = env.step(action)
    # level x raises the layer's threshold from 0 by x times its unit rate
    rates = env.unwrapped.task.unit_rates()
    thresholds = env.unwrapped.transformation.thresholds
    assert thresholds == pytest.approx([1.25 * rates[0], 1.5 * rates[1]])
    env.close()


def test_compaction_on_and_off_give_the_same_episode():
    from agents.rl.policies import PaperPolicy

    results = []
    for compact in (True, False):
        env = tnf_env.make(dataset="digits", max_steps=6, compact=compact)
        obs, info = env.reset(seed=0)
        env.unwrapped.transformation.net.min_saved_cells = 0  # digits is below the default
        policy = PaperPolicy()
        policy.reset(env)
        infos, done = [], False
        while not done:
            obs, _, term, trunc, info = env.step(policy.act(obs, info))
            infos.append(info)
            done = term or trunc
        if compact:  # dead inputs were dropped from the products
            assert env.unwrapped.transformation.net.live_plan().inputs is not None
        results.append((infos, env.unwrapped.transformation.masks()))
    (infos_c, masks_c), (infos_d, masks_d) = results
    assert any(s > 0.3 for s in infos_c[-1]["sparsity"])  # pruned enough for neurons to die
    assert env.unwrapped.transformation.net.compact is False
    for a, b in zip(infos_c, infos_d, strict=True):
        assert a["accuracy"] == pytest.approx(b["accuracy"], abs=2e-3)  # one image at most
        assert a["crossbars"] == b["crossbars"]
    for a, b in zip(masks_c, masks_d, strict=True):
        assert np.count_nonzero(a != b) <= 1e-3 * a.size  # summation order only


def test_device_setting():
    env = tnf_env.make(dataset="digits", max_steps=2, device="auto")
    expected = "cuda" if torch.cuda.is_available() else env.unwrapped.task.device.type
    assert env.unwrapped.task.device.type == expected
    assert env.unwrapped.task.x_train.device.type == expected
    env.reset(seed=0)
    env.step(env.action_space.sample())
    with pytest.raises(ValueError, match="device"):
        tnf_env.make(dataset="digits", device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            tnf_env.make(dataset="digits", device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_episode_runs_on_the_gpu():
    # A CUDA baseline is its own network (cached apart): compare behaviour, not digits.
    env = tnf_env.make(dataset="digits", max_steps=3, device="cuda")
    env.reset(seed=0)
    infos = [env.step(np.zeros_like(env.action_space.nvec))[4] for _ in range(3)]
    assert env.unwrapped.transformation.net.mask(0).is_cuda
    assert all(i["accuracy"] > 0.8 and "error" not in i for i in infos)


def _final_info(env, seed=0):
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while True:
        a = rng.integers(env.action_space.nvec)
        _, _, terminated, truncated, info = env.step(a)
        if terminated or truncated:
            return info


def test_info_says_when_the_delivered_network_is_not_the_last_steps():
    # a floor no step can clear by the margin: the start, step 0, comes back
    env = _make(allow_stop=False, max_steps=2, selection_margin=1e6)
    info = _final_info(env)
    assert info["step"] >= 1 and info["delivered_step"] == 0 and info["fell_back"]
    assert not info["is_success"] and not any(info["sparsity"])  # the untouched network
    assert {"last_accuracy", "last_cost"} <= set(info)
    # judged on the last step, the last step is what is delivered
    env = _make(allow_stop=False, max_steps=2, select_on_validation=False)
    info = _final_info(env)
    assert info["delivered_step"] == info["step"] >= 1 and not info["fell_back"]
    env.reset(seed=0)
    a = env.action_space.sample()
    a[:] = 0
    _, _, _, _, info = env.step(a)
    assert "fell_back" not in info  # only the episode's last info says what it delivered
