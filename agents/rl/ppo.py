"""The names this package had while PPO was its only learner, kept for code that imports
them: ``PPOPolicy`` is :class:`.sb3_policy.SB3Policy` (it loads any learner's run);
``train``, ``make_env`` and ``make_vec_env`` are :mod:`.training`'s. PPO itself is the
learner :mod:`.learners.ppo`.
"""

from __future__ import annotations

from .sb3_policy import SB3Policy as PPOPolicy
from .training import make_env, make_vec_env, train

__all__ = ["PPOPolicy", "make_env", "make_vec_env", "train"]
