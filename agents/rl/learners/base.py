"""What a learner is: an SB3 on-policy actor-critic algorithm, built from a run's
configuration, whose trained weights load back without unpickling anything.

:func:`agents.rl.training.train` drives any learner (vectorised environments,
checkpoints, evaluation, the best schedule); :class:`agents.rl.sb3_policy.SB3Policy`
acts with any learner's trained model. A learner only says how its model is made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    from ..config import TrainConfig

# Configuration keys every learner reads (``seed`` and ``device`` besides).
SHARED_FIELDS = ("n_steps", "learning_rate", "gamma", "gae_lambda", "ent_coef", "net_arch")


class LearnerError(ValueError):
    """An unknown learner, or a learner module that does not define one."""


class Learner(ABC):
    """An on-policy SB3 algorithm with an ``MlpPolicy`` actor-critic over the environment's
    observation vector and ``MultiDiscrete`` action.

    :cvar name: the config key ``learner``'s value that chooses it (its module's name).
    :cvar own_fields: the configuration keys it reads beyond :data:`SHARED_FIELDS`; the
        others of the configuration (another learner's) it ignores.
    """

    name: ClassVar[str]
    own_fields: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def algorithm(self) -> type[OnPolicyAlgorithm]:
        """The SB3 class (imported when a model is built, not when a config is read)."""

    def hyperparameters(self, cfg: TrainConfig) -> dict[str, Any]:
        """The algorithm's keyword arguments from ``cfg``: the shared keys and ``own_fields``
        by the same names (a learner whose keys are named otherwise overrides this)."""
        keys = (*SHARED_FIELDS, *self.own_fields)
        kwargs = {k: getattr(cfg, k) for k in keys if k != "net_arch"}
        return {**kwargs, "policy_kwargs": {"net_arch": list(cfg.net_arch)}}

    def build(self, cfg: TrainConfig, env: Any, device: str,
              tensorboard_log: str | None = None) -> OnPolicyAlgorithm:
        """A fresh model with the run's hyperparameters and network on ``env``.

        :param cfg: the run's configuration.
        :param env: the environment (or vectorised environments) whose spaces it acts in.
        :param device: torch device of the networks.
        :param tensorboard_log: TensorBoard directory (None: no logs).
        """
        return self.algorithm()("MlpPolicy", env, **self.hyperparameters(cfg), seed=cfg.seed,
                                device=device, tensorboard_log=tensorboard_log, verbose=0)

    def load(self, cfg: TrainConfig, path: Path, env: Any, device: str = "cpu",
             optimizer: bool = False, tensorboard_log: str | None = None) -> OnPolicyAlgorithm:
        """A model built from ``cfg`` with the weights of the zip ``path``, read with
        ``torch.load(weights_only=True)`` (:func:`agents.rl.run_dir.load_weights`): no
        pickled object of the zip is decoded.

        :param cfg: the run's configuration (its ``config.yaml``).
        :param path: a model zip written by SB3's ``save`` for this learner.
        :param env: an environment with the run's spaces (a stand-in for prediction).
        :param device: torch device of the networks.
        :param optimizer: also restore the optimiser's state (to resume training).
        :param tensorboard_log: TensorBoard directory (None: no logs).
        :raises agents.rl.run_dir.RunError: the zip is unreadable or does not fit.
        """
        from ..run_dir import load_weights

        model = self.build(cfg, env, device, tensorboard_log)
        load_weights(model, path, optimizer=optimizer)
        return model
