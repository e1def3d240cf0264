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
from .vector_env import BatchedTraNNsformerEnv  # noqa: E402

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


def make(render_mode: str | None = None, **settings):
    """``gymnasium.make(ENV_ID, ...)`` with a TimeLimit equal to ``max_steps`` (so that
    ``env.spec.max_episode_steps`` reports the horizon).

    >>> env = make(max_steps=3)
    >>> env.spec.max_episode_steps
    3
    """
    import gymnasium

    task = settings.get("task")
    steps = settings.get("max_steps") or (task.horizon if task is not None else DEFAULT_MAX_STEPS)
    return gymnasium.make(ENV_ID, render_mode=render_mode, max_episode_steps=steps, **settings)


def fork(env):
    """A copy of ``env`` (``tnf_env.make``'s or ``gymnasium.make``'s, wrappers and their
    counters included) that continues exactly as ``env`` would; see
    :meth:`TraNNsformerEnv.fork`."""
    import copy

    inner = env.unwrapped.fork()  # the memo maps the inner environment to its fork
    return copy.deepcopy(env, {id(env.unwrapped): inner})


__all__ += ["ENV_ID", "BatchedTraNNsformerEnv", "Task", "TraNNsformerEnv", "fork", "make"]
