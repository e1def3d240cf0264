"""PPO (``stable_baselines3.PPO``), the default learner: clipped policy updates, several
passes over each rollout in minibatches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Learner

if TYPE_CHECKING:
    from stable_baselines3 import PPO


class PPOLearner(Learner):
    name = "ppo"
    own_fields = ("batch_size", "n_epochs", "clip_range")

    def algorithm(self) -> type[PPO]:
        from stable_baselines3 import PPO

        return PPO


LEARNER = PPOLearner()
