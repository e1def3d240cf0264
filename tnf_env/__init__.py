"""tnf_env: datasets, the masked spiking MLP and the TraNNsformer environment.

>>> from tnf_env import load_dataset, get_baseline
>>> data = load_dataset("digits")
>>> data.n_inputs, data.n_classes
(64, 10)
"""

from .data.datasets import DATASETS, Dataset, DatasetError, load_dataset
from .model.baseline import Baseline, get_baseline, train_baseline
from .model.network import MaskedMLP, default_topology, parse_topology
from .model.spiking import SNNResult, normalization_scales, simulate_snn
from .model.training import TrainingDiverged, TrainingRecipe, default_recipe

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

from gymnasium.envs.registration import register as _register

from .env import DEFAULT_MAX_STEPS, TraNNsformerEnv  # noqa: E402
from .task import Task  # noqa: E402
from .time_limit import check_time_limit  # noqa: E402
from .vector_env import BatchedTraNNsformerEnv  # noqa: E402
from .wrappers import DiscreteMenu, default_menu  # noqa: E402

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
    :meth:`TraNNsformerEnv.fork`."""
    import copy

    inner = env.unwrapped.fork()  # the memo maps the inner environment to its fork
    return copy.deepcopy(env, {id(env.unwrapped): inner})


__all__ += [
    "ENV_ID",
    "BatchedTraNNsformerEnv",
    "DiscreteMenu",
    "Task",
    "TraNNsformerEnv",
    "check_time_limit",
    "default_menu",
    "fork",
    "make",
]
