"""PPO's view of the batched environment: the same rollouts as one environment per worker."""

import numpy as np
import yaml
from conftest import write_train_config
from stable_baselines3.common.vec_env import DummyVecEnv

import tnf_env
from agents.cli import main
from agents.rl.batched_vec import BatchedVecEnv

SETTINGS = {
    "dataset": "digits",
    "topology": "64-32-10",
    "crossbar_sizes": [16, 32],
    "max_steps": 2,
    "retrain_epochs": 0.5,
    "dtype": "float64",
    "allow_stop": True,
}


def test_rollouts_equal_those_of_one_environment_per_worker():
    batched = BatchedVecEnv(2, baseline_seeds=[0, 3], **SETTINGS)
    plain = DummyVecEnv(
        [lambda s=s: tnf_env.make(**{**SETTINGS, "seed": s}) for s in (0, 3)]
    )
    for venv in (batched, plain):
        venv.seed(3)
    obs_b, obs_p = batched.reset(), plain.reset()
    np.testing.assert_array_equal(obs_b, obs_p)
    assert [i["episode_seed"] for i in batched.reset_infos] == [3, 4]
    space = plain.action_space
    space.seed(0)
    ended = 0
    for t in range(5):  # episodes end (stop or horizon) and restart in both alike
        actions = np.stack([space.sample() for _ in range(2)])
        actions[:, -1] = [t == 0, 0]
        obs_b, rew_b, done_b, info_b = batched.step(actions)
        obs_p, rew_p, done_p, info_p = plain.step(actions)
        np.testing.assert_array_equal(obs_b, obs_p)
        np.testing.assert_array_equal(rew_b, rew_p)
        np.testing.assert_array_equal(done_b, done_p)
        for a, b in zip(info_b, info_p, strict=True):
            assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
            for key in ("accuracy", "cost", "crossbars", "is_success", "delivered_step"):
                assert a.get(key) == b.get(key), key
            if "terminal_observation" in b:
                np.testing.assert_array_equal(a["terminal_observation"], b["terminal_observation"])
                ended += 1
    assert ended >= 3
    assert [t.horizon for t in batched.get_attr("task")] == [2, 2]
    assert batched.env_method("describe")[1].startswith("digits 64-32-10 seed 3")
    batched.close()


def test_ppo_trains_through_the_batched_environment(tmp_path, capsys):
    cfg = write_train_config(
        tmp_path,
        env={"max_steps": 2, "allow_stop": False},
        vectorization="batched",
        n_envs=2,
        timesteps=8,
        n_steps=2,
        batch_size=4,
        n_epochs=1,
        checkpoint_every=8,
        eval_every=8,
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["vectorization"] == "batched"
    from stable_baselines3.common.monitor import load_results

    episodes = load_results(str(out / "monitor"))
    assert len(episodes) == 4 and set(episodes["l"]) == {2}
    bad = write_train_config(tmp_path, vectorization="threads")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "'vectorization' must be 'subprocess' or 'batched'" in capsys.readouterr().err
