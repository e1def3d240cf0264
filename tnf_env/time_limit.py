"""A warning when a ``TimeLimit`` would end episodes before the environment delivers.

The environment truncates itself at its horizon (the ``max_steps`` setting) and only then
delivers its latest network that meets the floor, with the reward that telescopes to that
network's saving. A :class:`gymnasium.wrappers.TimeLimit` with fewer steps truncates the
episode first: the delivery never happens, and nothing else says so. The environment
cannot see the wrappers around it (``gymnasium.make`` keeps ``max_episode_steps`` on the
``TimeLimit``, not on the environment), so the check walks a wrapped environment from
outside: :func:`tnf_env.make` and :class:`~tnf_env.wrappers.DiscreteMenu` run it, and
code that builds the environment with ``gymnasium.make`` can call it.
"""

from __future__ import annotations

import warnings

import gymnasium as gym


def time_limit_cut(env: gym.Env) -> tuple[int, int] | None:
    """The shortest ``TimeLimit`` around ``env`` and the horizon, when the limit is shorter.

    :param env: a TraNNsformer environment with any wrappers.
    :return: ``(limit, horizon)``, or None when no ``TimeLimit`` cuts an episode short.
    """
    task = getattr(env.unwrapped, "task", None)
    horizon = getattr(task, "horizon", None)
    limits = []
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.TimeLimit):
            limits.append(int(layer._max_episode_steps))  # gymnasium keeps it only here
        layer = layer.env
    if horizon is None or not limits or min(limits) >= horizon:
        return None
    return min(limits), int(horizon)


def check_time_limit(env: gym.Env, stacklevel: int = 1) -> bool:
    """Warn when a ``TimeLimit`` around ``env`` is shorter than its horizon (``max_steps``).

    >>> import gymnasium, tnf_env
    >>> env = gymnasium.make(tnf_env.ENV_ID, max_steps=3, max_episode_steps=3)
    >>> check_time_limit(env)
    False

    :param env: a TraNNsformer environment with any wrappers.
    :param stacklevel: which caller the warning names (1: the line that called this).
    :return: whether it warned.
    """
    cut = time_limit_cut(env)
    if cut is None:
        return False
    limit, horizon = cut
    warnings.warn(
        f"a TimeLimit of {limit} steps (max_episode_steps) is shorter than the episode's "
        f"horizon max_steps={horizon}: it truncates every episode before the environment "
        f"delivers its network, so no episode's return or info reports a delivered network; "
        f"set max_steps={limit} instead",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
    return True
