"""The learners: one module per SB3 algorithm that trains a policy for the environment.

A learner is a module here that defines ``LEARNER``, an instance of
:class:`.base.Learner` whose ``name`` is the module's name; the config key ``learner``
chooses one by that name. Adding a learner is adding its module (and its test): nothing
else lists them, :func:`learner_names` finds the modules without importing them.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Learner, LearnerError

__all__ = ["DEFAULT_LEARNER", "Learner", "LearnerError", "get_learner", "learner_names"]

DEFAULT_LEARNER = "ppo"  # what every configuration and run directory without the key means


@cache
def learner_names() -> tuple[str, ...]:
    """The learners' names, sorted: the modules of this package other than ``base``."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__)
                        if m.name != "base" and not m.name.startswith("_")))


def get_learner(name: str) -> Learner:
    """The learner called ``name``.

    :param name: one of :func:`learner_names`.
    :raises LearnerError: no learner of that name (the message lists the allowed ones).
    """
    if name not in learner_names():
        raise LearnerError(f"unknown learner {name!r}; allowed: {', '.join(learner_names())}")
    learner = importlib.import_module(f"{__name__}.{name}").LEARNER
    if not isinstance(learner, Learner) or learner.name != name:
        raise LearnerError(f"module {__name__}.{name} must define LEARNER, a Learner named "
                           f"{name!r}")
    return learner
