"""tnf_env: datasets, the masked spiking MLP and the TraNNsformer environment.

>>> from tnf_env import load_dataset, get_baseline
>>> data = load_dataset("digits")
>>> data.n_inputs, data.n_classes
(64, 10)
"""

import importlib

# The package's names, loaded on first use (PEP 562): ``import tnf_env`` only registers the
# environment, so that a program reading a submodule (the command line's parser reads the
# dataset names) does not pay for torch.
_LAZY = {
    "DATASETS": "data.datasets", "Dataset": "data.datasets", "DatasetError": "data.datasets",
    "load_dataset": "data.datasets",
    "Baseline": "model.baseline", "get_baseline": "model.baseline",
    "train_baseline": "model.baseline",
    "MaskedMLP": "model.network", "default_topology": "model.network",
    "parse_topology": "model.network",
    "SNNResult": "model.spiking", "normalization_scales": "model.spiking",
    "simulate_snn": "model.spiking",
    "TrainingDiverged": "model.training", "TrainingRecipe": "model.training",
    "default_recipe": "model.training",
    "DEFAULT_MAX_STEPS": "task", "TraNNsformerEnv": "env", "Task": "task", "Episode": "episode",
    "episode_of": "env", "task_of": "env",
    "BatchedTraNNsformerEnv": "vector_env",
    "check_time_limit": "time_limit", "DiscreteMenu": "wrappers", "default_menu": "wrappers",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "DATASETS",
    "Baseline",
    "Dataset",
    "DatasetError",
    "MaskedMLP",
    "SNNResult",
    "TrainingDiverged",
    "TrainingRecipe",
    "default_recipe",
    "default_topology",
    "get_baseline",
    "load_dataset",
    "normalization_scales",
    "parse_topology",
    "simulate_snn",
    "train_baseline",
]

from gymnasium.envs.registration import register as _register  # noqa: E402

# No max_episode_steps: the environment truncates itself at its own horizon (the
# max_steps setting), so gymnasium.make, make_vec and SB3's make_vec_env, which build it
# from this registration, end episodes where the environment does; a registered limit
# would cut a 12-step episode at 10.
_register(
    id="tnf_env/TraNNsformer-v0",  # ENV_ID
    entry_point="tnf_env.env:TraNNsformerEnv",
    vector_entry_point="tnf_env.vector_env:BatchedTraNNsformerEnv",
)
ENV_ID = "tnf_env/TraNNsformer-v0"


def make(render_mode: str | None = None, max_episode_steps: int | None = None, **settings):
    """``gymnasium.make(ENV_ID, ...)`` with a TimeLimit equal to ``max_steps`` (so that
    ``env.spec.max_episode_steps`` reports the horizon).

    >>> env = make(max_steps=3)
    >>> env.spec.max_episode_steps
    3

    :param max_episode_steps: the TimeLimit (None: the horizon); one shorter than the
        horizon cuts every episode before its delivery, and is warned about
        (:func:`check_time_limit`).
    """
    import gymnasium

    from .task import DEFAULT_MAX_STEPS
    from .time_limit import check_time_limit

    task = settings.get("task")
    steps = settings.get("max_steps") or (task.horizon if task is not None else DEFAULT_MAX_STEPS)
    env = gymnasium.make(
        ENV_ID,
        render_mode=render_mode,
        max_episode_steps=steps if max_episode_steps is None else max_episode_steps,
        **settings,
    )
    check_time_limit(env, stacklevel=2)
    return env


def fork(env):
    """A copy of ``env`` (``tnf_env.make``'s or ``gymnasium.make``'s, wrappers and their
    counters included) that continues exactly as ``env`` would; see
    :meth:`TraNNsformerEnv.fork`.

    :raises TypeError: ``env`` does not wrap a :class:`TraNNsformerEnv`.
    """
    import copy

    from .env import episode_of

    episode_of(env)  # a TraNNsformer env, possibly wrapped: said in one line
    inner = env.unwrapped.fork()  # the memo maps the inner environment to its fork
    return copy.deepcopy(env, {id(env.unwrapped): inner})


__all__ += [
    "ENV_ID",
    "BatchedTraNNsformerEnv",
    "DiscreteMenu",
    "Episode",
    "Task",
    "TraNNsformerEnv",
    "check_time_limit",
    "default_menu",
    "fork",
    "make",
]
