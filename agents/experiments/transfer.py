"""Transfer from digits: is the shipped digits policy a head start on mnist-10k?

Four ways to get an mnist-10k schedule, each judged at ``full`` fidelity on baseline
networks none of them trained on, against the CPU-seconds each spent learning:

- the shipped digits policy, zero-shot (no CPU spent on mnist-10k);
- PPO warm-started from its weights and fine-tuned on cheaper (``--level``) episodes;
- PPO from scratch on the same episodes, the same budget and the same spaces;
- TPE over the fixed schedule's constants on the same episodes and budget.

The two PPO runs act through :class:`SourceMenu`, so both have the digits policy's
spaces (crossbar sizes 32 and 64, one-epoch steps' action). Each method's result is
written to ``OUT/<method>.json`` as it ends; ``--resume`` skips the finished ones.

Example::

    python -m agents.experiments.transfer --out runs/transfer --episodes 24
    python -m agents.experiments.transfer --out runs/transfer --report docs/results/transfer.png
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from .fidelity import DEFAULT_CONFIG, DIGITS_POLICY, EPISODE_SEED, config_env

METHODS = ("zero-shot", "ppo-warm", "ppo-scratch", "tpe")


class SourceMenu(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """The target environment with a source task's spaces: what a
    :class:`~agents.rl.transfer.MenuAdapter` shows its policy, as an environment a learner
    trains on.

    :param env: the target environment.
    :param source_sizes: the crossbar sizes of the source's action.
    :param source_sub_iterations: sub-iterations of a source step.
    """

    def __init__(self, env: gym.Env, source_sizes: Sequence[int],
                 source_sub_iterations: int = 1) -> None:
        from agents.rl.transfer import MenuAdapter

        gym.utils.RecordConstructorArgs.__init__(
            self, source_sizes=tuple(source_sizes), source_sub_iterations=source_sub_iterations)
        gym.Wrapper.__init__(self, env)
        self.adapter = MenuAdapter(_Nothing(), source_sizes, source_sub_iterations)
        self.adapter.reset(env)
        n = len(self.adapter.source_names)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (n,), np.float32)
        self.action_space = self.adapter.source.space

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return self.adapter.observation(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(self.adapter.action(action))
        return self.adapter.observation(obs), reward, terminated, truncated, info


class _Nothing:
    name = "none"

    def reset(self, env) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray | None:
        raise RuntimeError("the menu wrapper maps observations and actions: nothing acts here")


def _source() -> tuple[tuple[int, ...], int]:
    """The digits policy's menu: its crossbar sizes and sub-iterations per step."""
    from agents.rl.sb3_policy import SB3Policy

    menu = SB3Policy.load(DIGITS_POLICY).menu
    if menu is None:  # load reads it from the run
        raise ValueError(f"{DIGITS_POLICY}: the policy's run records no action menu")
    return menu


def evaluate_at_full(policy: Any, env_settings: dict, seeds: Sequence[int],
                     overrides: dict | None = None) -> list[float]:
    """Full-fidelity returns of ``policy`` on each baseline seed (episode seed
    ``EPISODE_SEED + seed``), the settings with ``overrides`` (a searched schedule's)."""
    import tnf_env
    from agents.rl.full_delivery import at_full
    from tnf_env.rollout import rollout

    out = []
    for s in seeds:  # one environment per baseline seed, closed before the next
        env = tnf_env.make(**{**at_full(env_settings), **(overrides or {}), "seed": s})
        out.append(rollout([env], [policy], [EPISODE_SEED + s])[0].episode_return)
        env.close()
    return out


def _ppo(env_settings: dict, level: str, train_seed: int, episodes: int, warm: bool,
         out: Path) -> tuple[Any, float]:
    """PPO on ``level`` episodes of baseline ``train_seed`` through the digits menu; the
    model and the CPU-seconds of its training."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    import tnf_env
    from agents.rl.run_dir import load_weights

    sizes, subs = _source()
    settings = {**env_settings, "seed": train_seed, "fidelity": level}
    venv = DummyVecEnv([lambda: SourceMenu(tnf_env.make(**settings), sizes, subs)])
    horizon = tnf_env.task_of(venv.envs[0]).horizon
    model = PPO("MlpPolicy", venv, n_steps=4 * horizon, batch_size=4 * horizon, n_epochs=5,
                learning_rate=1e-4 if warm else 3e-4, ent_coef=0.0 if warm else 0.01,
                policy_kwargs={"net_arch": [64, 64]}, seed=0, device="cpu", verbose=0)
    if warm:
        load_weights(model, DIGITS_POLICY / "best_model.zip")
    t0 = time.process_time()
    model.learn(episodes * horizon)
    cpu = time.process_time() - t0
    model.save(out)
    return model, cpu


def run_method(method: str, env_settings: dict, level: str, train_seed: int,
               eval_seeds: Sequence[int], episodes: int, out: Path) -> dict[str, Any]:
    """Learn with ``method`` (nothing for zero-shot) and judge at full; its result."""
    import torch

    from agents.rl.sb3_policy import SB3Policy

    torch.set_num_threads(1)
    cpu, extra, overrides = 0.0, {}, {}
    if method == "zero-shot":
        policy: Any = SB3Policy.load(DIGITS_POLICY)  # adapts to this menu by itself
    elif method in ("ppo-warm", "ppo-scratch"):
        model, cpu = _ppo(env_settings, level, train_seed, episodes, method == "ppo-warm",
                          out / f"{method}.zip")
        policy = SB3Policy(model, menu=_source())
    elif method == "tpe":
        from agents.search.blackbox import ParamSchedule, ScheduleParams, run_search
        from tnf_env.settings import EnvConfig
        from tnf_env.task import DEFAULT_MAX_STEPS

        settings = {**env_settings, "seed": train_seed, "fidelity": level,
                    "prune_unit": "paper"}
        t0 = time.process_time()
        config = EnvConfig.from_kwargs(**settings)
        horizon_epochs = (config.max_steps or DEFAULT_MAX_STEPS) * config.retrain_epochs
        res = run_search(settings, [train_seed], episodes * horizon_epochs, "tpe", 0,
                         log=lambda line: None, journal=out / "tpe.jsonl")
        cpu = time.process_time() - t0
        params = ScheduleParams.from_dict(res["best"]["params"])
        policy, overrides = ParamSchedule(params), {**params.env_overrides(),
                                                    "prune_unit": "paper"}
        extra = {"trials": len(res["trials"]), "best_params": res["best"]["params"]}
    else:
        raise ValueError(f"unknown method {method!r}: allowed {', '.join(METHODS)}")
    returns = evaluate_at_full(policy, env_settings, eval_seeds, overrides)
    return {"method": method, "level": level, "train_seed": train_seed, "episodes": episodes,
            "train_cpu_seconds": cpu, "eval_seeds": list(eval_seeds),
            "full_returns": returns, "mean_full_return": float(np.mean(returns)), **extra}



def plot(out: Path, figure: Path) -> None:
    """Full-fidelity return against CPU-hours of learning, one marker per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for m in METHODS:
        path = out / f"{m}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        x = r["train_cpu_seconds"] / 3600
        ax.errorbar([x], [r["mean_full_return"]], yerr=[[r["mean_full_return"] - min(
            r["full_returns"])], [max(r["full_returns"]) - r["mean_full_return"]]],
            fmt="o", capsize=3, label=f"{m} ({r['level']}, {r['episodes']} episodes)"
            if m != "zero-shot" else "digits policy zero-shot")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("CPU-hours spent learning on mnist-10k (one thread)")
    ax.set_ylabel("full-fidelity return (held-out baselines)")
    ax.set_title("transfer from digits to mnist-10k (bars: the held-out seeds' range)",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the study's directory")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the config whose env to use")
    parser.add_argument("--level", default="low", help="fidelity of the learning episodes")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--train-seed", type=int, default=0, help="baseline seed learned on")
    parser.add_argument("--eval-seeds", type=int, nargs="+", default=[1, 2],
                        help="baseline seeds judged on, at full fidelity")
    parser.add_argument("--episodes", type=int, default=24, help="learning episodes per method")
    parser.add_argument("--resume", action="store_true", help="skip the methods already done")
    parser.add_argument("--report", type=Path, help="only draw the figure (PNG)")
    args = parser.parse_args(argv)
    if args.report is not None:
        plot(args.out, args.report)
        return
    env = config_env(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    for m in args.methods:
        path = args.out / f"{m}.json"
        if path.exists():
            if args.resume:
                continue
            raise SystemExit(f"{path} exists: pass --resume, or another --out")
        t0 = time.perf_counter()
        result = run_method(m, env, args.level, args.train_seed, args.eval_seeds,
                            args.episodes, args.out)
        result["wall_seconds"] = time.perf_counter() - t0
        path.write_text(json.dumps(result, indent=1))
        print(f"{m}: full-fidelity return {result['mean_full_return']:+.3f} "
              f"(seeds {args.eval_seeds}), {result['train_cpu_seconds']:.0f} CPU-s learning",
              flush=True)


if __name__ == "__main__":
    main()
