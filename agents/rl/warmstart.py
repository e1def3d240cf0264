"""Warm start: teach a fresh policy a fixed schedule before reinforcement learning.

An episode on mnist-10k costs about a minute, so the learner (PPO, A2C) cannot afford to
rediscover the paper's schedule from uniform random actions. Behaviour cloning fits the
actor to the schedule's actions (and the critic to its returns) until the
schedule's choices carry ``confidence`` mean probability per action component:
the learner then starts at the paper's schedule and explores around it.

Example::

    from agents.rl.warmstart import collect_demonstrations, behaviour_clone
    demo = collect_demonstrations(env, PaperPolicy(), seeds=[20_000, 20_001])
    stats = behaviour_clone(model, demo, confidence=0.8)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from tnf_env.actions import action_group
from tnf_env.rollout import Policy, rollout

WARM_START_SEED = 20_000  # demonstration episodes use seeds WARM_START_SEED + k


@dataclass
class Demonstrations:
    """Observations, the actions a schedule took there, and the discounted returns-to-go."""

    obs: np.ndarray  # (steps, obs_dim)
    actions: np.ndarray  # (steps, components)
    returns: np.ndarray  # (steps,)
    episode_returns: list[float]


def collect_demonstrations(
    env: gym.Env, policy: Policy, seeds: Sequence[int], gamma: float = 0.99
) -> Demonstrations:
    """Run ``policy`` for one episode per seed and record what it saw and did.

    :param env: the training environment (same spaces as the model's).
    :param policy: the schedule to imitate, e.g. :func:`agents.rl.policies.PaperPolicy`.
    :param seeds: one episode per seed.
    :param gamma: discount of the returns-to-go the critic is fitted to.
    """
    seen = _Seen(policy)
    results = rollout([env] * len(seeds), [seen] * len(seeds), [int(s) for s in seeds])
    ret_all: list[float] = []
    for result in results:
        togo, acc = [], 0.0
        for r in reversed(result.rewards):
            acc = r + gamma * acc
            togo.append(acc)
        ret_all.extend(reversed(togo))
    return Demonstrations(
        np.stack(seen.obs), np.stack(seen.actions), np.asarray(ret_all, dtype=np.float32),
        [sum(r.rewards) for r in results],
    )


class _Seen:
    """``policy``, recording each observation it sees and the action it takes there."""

    def __init__(self, policy: Policy) -> None:
        self.policy, self.name = policy, policy.name
        self.obs: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []

    def reset(self, env: gym.Env) -> None:
        self.policy.reset(env)

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        action = np.asarray(self.policy.act(obs, info), dtype=np.int64)
        self.obs.append(np.asarray(obs, dtype=np.float32))
        self.actions.append(action)
        return action


def _component_log_probs(model: OnPolicyAlgorithm, obs: torch.Tensor,
                         acts: torch.Tensor) -> torch.Tensor:
    """(steps, components) log-probabilities of the demonstrated choices."""
    dist = model.policy.get_distribution(obs).distribution
    if not isinstance(dist, list):  # one distribution per component of a MultiDiscrete
        raise TypeError(f"cloning needs a MultiDiscrete action space, got {model.action_space}")
    return torch.stack([d.log_prob(acts[:, k]) for k, d in enumerate(dist)], dim=1)


def component_probabilities(model: OnPolicyAlgorithm, demo: Demonstrations) -> np.ndarray:
    """Per action component, the mean probability the policy gives the demo's choice."""
    obs = torch.as_tensor(demo.obs, device=model.device)
    acts = torch.as_tensor(demo.actions, device=model.device)
    with torch.no_grad():
        return _component_log_probs(model, obs, acts).exp().mean(dim=0).cpu().numpy()


def choice_probability(model: OnPolicyAlgorithm, demo: Demonstrations) -> float:
    """Mean probability, over steps and action components, the policy gives the demo's choice."""
    return float(component_probabilities(model, demo).mean())


def confidence_targets(confidence: float | Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """Per action component, the probability cloning aims for.

    :param confidence: one probability for every component, or one per component group,
        keyed by the component's name without its layer index (``prune``, ``cluster``,
        ``cluster_prune``, ``crossbar``, ``stop``); groups left out get ``default`` if given,
        else 0.8.
    :param names: the action components' names (:meth:`tnf_env.actions.ActionCodec.names`).
    """
    if isinstance(confidence, Mapping):
        groups = {action_group(n) for n in names}
        unknown = sorted(set(confidence) - groups - {"default"})
        if unknown:
            raise ValueError(
                f"warm-start confidence for unknown action group(s) {unknown}: "
                f"allowed {sorted(groups | {'default'})}"
            )
        default = confidence.get("default", 0.8)
        values = [confidence.get(action_group(n), default) for n in names]
    else:
        values = [confidence] * len(names)
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < 1:
            raise ValueError(f"warm-start confidence must be in (0, 1), got {v!r}")
    return np.asarray(values, dtype=np.float64)


def behaviour_clone(
    model: OnPolicyAlgorithm,
    demo: Demonstrations,
    confidence: float | Sequence[float] | np.ndarray = 0.8,
    max_updates: int = 2_000,
    learning_rate: float = 1e-3,
) -> dict[str, Any]:
    """Fit ``model``'s actor to the demonstrated actions and its critic to their returns.

    A component stops being fitted once the demonstrated choices have mean probability
    ``confidence`` there (below 1, so PPO still explores); cloning ends when every
    component has, or after ``max_updates`` full-batch steps. Per-component targets let
    PPO explore some decisions (say clustering) while holding others (pruning) close to
    the schedule.

    :param model: a model (PPO, A2C: :mod:`.learners`) with a ``MultiDiscrete`` action
        space.
    :param demo: from :func:`collect_demonstrations`.
    :param confidence: target probability of the demonstrated choices, in (0, 1): one
        number, or one per action component (see :func:`confidence_targets`).
    :param max_updates: most gradient steps.
    :param learning_rate: Adam step size of the cloning (the learner keeps its own optimiser).
    :returns: the probability reached, updates taken, and final value error.
    """
    n = demo.actions.shape[1]
    target = np.asarray(confidence, dtype=np.float64)
    if target.ndim > 1 or target.size not in (1, n):
        raise ValueError(f"confidence must be one number or {n} (one per component)")
    target = np.broadcast_to(target, (n,)).copy()
    if not np.all((target > 0) & (target < 1)):
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    policy = model.policy
    policy.set_training_mode(True)
    opt = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    obs = torch.as_tensor(demo.obs, device=model.device)
    acts = torch.as_tensor(demo.actions, device=model.device)
    returns = torch.as_tensor(demo.returns, device=model.device)
    updates, value_loss = 0, float("nan")
    goal = torch.as_tensor(target, device=model.device)
    while updates < max_updates:
        log_probs = _component_log_probs(model, obs, acts)
        below = log_probs.detach().exp().mean(dim=0) < goal
        if not below.any():
            break
        values = policy.predict_values(obs)
        log_prob = log_probs[:, below]
        v_loss = torch.nn.functional.mse_loss(values.flatten(), returns)
        loss = -log_prob.sum(dim=1).mean() + v_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        updates += 1
        value_loss = float(v_loss.detach())
    policy.set_training_mode(False)
    return {
        "choice_probability": choice_probability(model, demo),
        "component_probability": [round(float(p), 4) for p in component_probabilities(model, demo)],
        "updates": float(updates),
        "value_loss": value_loss,
        "demo_return": float(np.mean(demo.episode_returns)),
    }
