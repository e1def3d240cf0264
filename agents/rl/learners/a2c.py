"""A2C (``stable_baselines3.A2C``): one synchronous update per rollout of ``n_steps`` per
worker, no minibatches, no clipping; SB3's defaults otherwise (RMSprop, as in the paper).

It reads the shared keys of the configuration (``n_steps``, ``learning_rate``, ``gamma``,
``gae_lambda``, ``ent_coef``, ``net_arch``) and ignores PPO's (``batch_size``,
``n_epochs``, ``clip_range``), so every shipped configuration runs with
``--set learner=a2c``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Learner

if TYPE_CHECKING:
    from stable_baselines3 import A2C


class A2CLearner(Learner):
    name = "a2c"

    def algorithm(self) -> type[A2C]:
        from stable_baselines3 import A2C

        return A2C


LEARNER = A2CLearner()
