"""A trained SB3 model (of any learner) as a schedule: :class:`SB3Policy` acts behind the
:class:`~agents.rl.policies.Policy` interface, deterministically in float64, and loads a
run's weights without unpickling anything.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

from tnf_env.transform.step_plan import sub_epochs

from .learners import DEFAULT_LEARNER, get_learner
from .policy_dir import policy_model
from .run_dir import load_run_config
from .spaces import stored_spaces

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm


class SB3Policy:
    """A trained model of any learner (:mod:`.learners`) behind the
    :class:`~agents.rl.policies.Policy` interface.

    :param model: the SB3 model (an on-policy actor-critic).
    :param deterministic: act by the most probable action (float64, :meth:`greedy`).
    :param name: the policy's name in tables (:meth:`load`: the run's learner).
    :param menu: the crossbar sizes and sub-iterations per step of the task it learned on
        (:meth:`load` reads them from the run): on an environment whose action menu
        differs only there, it acts through a :class:`~.transfer.MenuAdapter` (sizes by
        value, onsets at a step's first sub-iteration). None: the environment's own.
    """

    def __init__(self, model: OnPolicyAlgorithm, deterministic: bool = True,
                 name: str = DEFAULT_LEARNER,
                 menu: tuple[tuple[int, ...], int] | None = None) -> None:
        self.model, self.deterministic, self.name = model, deterministic, name
        self.menu = menu
        self._adapter: Any = None

    @classmethod
    def load(cls, run_dir: str | Path, which: str = "best") -> SB3Policy:
        """The run's best (or latest checkpointed) policy, rebuilt from its ``config.yaml``
        by the run's learner; named after the learner.

        Only weights are read from the model zip (:func:`.run_dir.load_weights`): no code
        runs.

        :param run_dir: a training run, or a search directory (its best trial).
        :param which: ``"best"`` (``best_model.zip``) or ``"latest"`` (newest checkpoint).
        """
        run, path = policy_model(run_dir, which)
        cfg = load_run_config(run)
        # the policy's spaces as stored with the run: no environment (nor its baseline) built
        stand_in = partial(_SpacesOnly, *stored_spaces(run, path))
        # one stand-in per training worker: the (unused) rollout buffer fits the batch size
        model = get_learner(cfg.learner).load(cfg, path, DummyVecEnv([stand_in] * cfg.n_envs))
        sizes = tuple(int(n) for n in cfg.env_config.crossbar_sizes)
        return cls(model, name=cfg.learner,
                   menu=(sizes, len(sub_epochs(cfg.env_config.retrain_epochs))))

    def reset(self, env) -> None:
        """Act through a menu adapter when ``env``'s action menu is not the one learned on."""
        from .transfer import MenuAdapter, menus_differ

        self._adapter = None
        if self.menu is not None and menus_differ(env, *self.menu):
            self._adapter = MenuAdapter(_OwnMenu(self), *self.menu)
            self._adapter.reset(env)
            n_obs = self.model.observation_space.shape[0]
            if len(self._adapter.source_names) != n_obs or not np.array_equal(
                self._adapter.source.nvec, self.model.action_space.nvec
            ):
                self._adapter = None
                raise ValueError(
                    f"policy {self.name!r} learned on another network or action set: its "
                    f"spaces ({n_obs} observations, action {self.model.action_space.nvec.tolist()})"
                    " do not map onto this environment's beyond the crossbar sizes and onsets"
                )

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        if self._adapter is not None:
            return self._adapter.act(obs, info)
        return self.own_act(obs, info)

    def own_act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        """The action on the menu it learned on, from an observation of that menu."""
        if not self.deterministic:
            action, _ = self.model.predict(obs, deterministic=False)
            return action
        return self.greedy(obs)

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """The most probable action (or one per row of a 2-D ``obs``), computed in float64
        from a float64 copy of the weights: float32 kernels differ between processors in
        the last bits, which can flip the choice between two near-equal logits."""
        x = np.asarray(obs, dtype=np.float64)
        actions = np.stack([p.argmax(1).numpy() for p in self.logits(x.reshape(-1, x.shape[-1]))],
                           axis=1)
        return actions.reshape(-1) if x.ndim == 1 else actions

    def logits(self, obs: np.ndarray) -> list[torch.Tensor]:
        """Per action component, the float64 logits (rows: observations) of a 2-D ``obs``.

        SB3's own path casts the observation to float32 (``preprocess_obs``), so this one
        runs the actor's layers directly: features, the actor's MLP, the action head."""
        if getattr(self, "_policy64", None) is None:
            # A new policy with the model's weights, not a deepcopy: a policy that has
            # trained in this process holds its last distribution's non-leaf tensors.
            m = self.model
            pi = m.policy_class(m.observation_space, m.action_space, m.lr_schedule,
                                **m.policy_kwargs)
            pi.load_state_dict(m.policy.state_dict())
            self._policy64 = pi.to(torch.float64).eval()
        pi = self._policy64
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(obs, dtype=np.float64))
            latent = pi.mlp_extractor.forward_actor(pi.pi_features_extractor(x))
            logits = pi.action_net(latent)
        return list(torch.split(logits, [int(n) for n in pi.action_space.nvec], dim=1))


class _OwnMenu:
    """A :class:`SB3Policy` acting on its own menu (what a menu adapter wraps)."""

    def __init__(self, policy: SB3Policy) -> None:
        self.policy, self.name = policy, policy.name

    def reset(self, env) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        return self.policy.own_act(obs, info)


class _SpacesOnly(gymnasium.Env):
    """An environment that only has spaces: enough to build a model for prediction."""

    def __init__(self, observation_space: gymnasium.Space, action_space: gymnasium.Space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        raise RuntimeError("a policy loaded for prediction has no environment to step")

    def step(self, action):
        raise RuntimeError("a policy loaded for prediction has no environment to step")
