"""A ``Discrete`` menu of actions, for agents that need a ``Discrete`` action (DQN and kin).

The environment's action is a ``MultiDiscrete`` vector whose product space is huge (about
78.6 million actions on the default three-layer network), far too many for one output per
action. :class:`DiscreteMenu` offers a list of whole actions instead: action ``i`` of its
``Discrete(len(menu))`` space is the vector ``menu[i]``. :func:`default_menu` builds the
menu every layer treated alike, which holds every action of the paper's schedule and of
the pruning baseline:

>>> import tnf_env
>>> env = tnf_env.DiscreteMenu(tnf_env.make(max_steps=3, crossbar_sizes=(32, 64)))
>>> env.action_space
Discrete(80)
>>> env.describe(0)
'prune 0.0, cluster none, cluster-prune off, N=32'
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .actions import ActionCodec, DecodedAction
from .time_limit import check_time_limit
from .transform.step_plan import CLUSTER_OPTIONS


def _codec(env: gym.Env) -> ActionCodec | None:
    codec = getattr(env.unwrapped, "codec", None)
    return codec if isinstance(codec, ActionCodec) else None


def default_menu(
    env: gym.Env,
    prune_levels: Sequence[float] | None = None,
    cluster_options: Sequence[str] | None = None,
    cluster_prune: Sequence[float | None] | None = None,
    crossbar_sizes: Sequence[int] | None = None,
) -> list[np.ndarray]:
    """Every combination of one prune level, cluster option, cluster-prune fraction and
    crossbar size, each applied to every layer alike, plus the stop action when the space
    has one (last).

    When a step has k > 1 epochs, the paper's schedule places its first clustering and the
    start of cluster pruning inside a step with the onset components: entries with a
    cluster option other than ``"none"`` come with the cluster onset 0 and the paper's, and
    those with cluster pruning with the cluster-prune onset 0 and the paper's. With the
    defaults below the menu holds every action of the paper's schedule
    (``agents.rl.policies.PaperPolicy``) and of the pruning baseline (``PruningPolicy``)
    at every crossbar size. Order: sizes, then levels, options, fractions, onsets.

    :param env: a TraNNsformer environment (wrapped or not).
    :param prune_levels: the levels to offer (default: all of the ``prune_levels`` setting).
    :param cluster_options: keys of ``CLUSTER_OPTIONS`` (default: all four).
    :param cluster_prune: starting fractions f0, None meaning off (default: off and the
        paper's f0).
    :param crossbar_sizes: the chip sizes to offer (default: all of ``crossbar_sizes``).
    :raises ValueError: a value the action space cannot express.
    """
    codec = _codec(env)
    if codec is None:
        raise ValueError(
            f"the default menu needs a TraNNsformer environment, got "
            f"{type(env.unwrapped).__name__}; give DiscreteMenu a menu of actions instead"
        )
    schedule = env.unwrapped.task.paper_schedule()
    k = codec.sub_iterations
    levels = codec.prune_levels if prune_levels is None else tuple(prune_levels)
    options = tuple(CLUSTER_OPTIONS) if cluster_options is None else tuple(cluster_options)
    fractions = (None, schedule.cluster_prune_initial) if cluster_prune is None else tuple(
        cluster_prune
    )
    sizes = codec.sizes if crossbar_sizes is None else tuple(crossbar_sizes)
    for what, values in (("prune_levels", levels), ("cluster_options", options),
                         ("cluster_prune", fractions), ("crossbar_sizes", sizes)):
        if len(values) == 0:
            raise ValueError(f"invalid {what}=(): give at least one value")
    # The paper's onsets: where its first clustering and cluster pruning fall in a step.
    cluster_onsets = sorted({0, schedule.first_cluster_iteration % k})
    prune_onsets = sorted({0, schedule.first_cluster_prune_iteration % k})
    n = codec.n_layers
    menu = []
    for size, level, option, f0 in itertools.product(sizes, levels, options, fractions):
        for c_on, p_on in itertools.product(
            cluster_onsets if option != "none" else [0], prune_onsets if f0 is not None else [0]
        ):
            action = DecodedAction(
                prune_levels=[float(level)] * n,
                cluster_options=[option] * n,
                cluster_prune=[f0] * n,
                crossbar_sizes=[size] * n,
                cluster_onset=c_on,
                cluster_prune_onset=p_on,
            )
            menu.append(codec.encode(action))
    if codec.allow_stop:
        menu.append(codec.with_group(np.zeros(codec.nvec.size, dtype=np.int64), "stop", 1))
    return menu


class DiscreteMenu(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """A ``Discrete`` action space over a list of the wrapped environment's actions.

    Action ``i`` steps the wrapped environment with ``menu[i]``; observations, rewards and
    ``info`` pass through unchanged. Wrap outside any ``TimeLimit``
    (``DiscreteMenu(tnf_env.make(...))``); a limit shorter than the horizon is warned about.

    :param env: the environment (wrapped or not) with a ``MultiDiscrete`` action space.
    :param menu: the actions to offer, each a vector of ``env``'s action space (None:
        :func:`default_menu`, which needs a TraNNsformer environment).
    :raises ValueError: an empty menu, an entry outside the space, or a repeated entry.
    """

    def __init__(self, env: gym.Env, menu: Sequence[Sequence[int]] | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, menu=menu)
        gym.ActionWrapper.__init__(self, env)
        space = env.action_space
        if not isinstance(space, spaces.MultiDiscrete) or len(space.shape) != 1:
            raise ValueError(
                f"DiscreteMenu wraps a one-dimensional MultiDiscrete action space, got {space}"
            )
        self._codec = _codec(env)
        if self._codec is not None and not np.array_equal(self._codec.nvec, space.nvec):
            self._codec = None  # another wrapper changed the space: check against it
        entries = default_menu(env) if menu is None else [
            self._entry(space, a, k) for k, a in enumerate(menu)
        ]
        if not entries:
            raise ValueError("invalid menu: it is empty; give at least one action")
        seen: dict[tuple[int, ...], int] = {}
        for k, a in enumerate(entries):
            key = tuple(int(x) for x in a)
            if key in seen:
                raise ValueError(
                    f"invalid menu: entries {seen[key]} and {k} are the same action {list(key)}"
                )
            seen[key] = k
            a.setflags(write=False)
        self._positions = seen
        self.menu: tuple[np.ndarray, ...] = tuple(entries)
        self.action_space = spaces.Discrete(len(entries))
        check_time_limit(env, stacklevel=2)

    def _entry(self, space: spaces.MultiDiscrete, action, k: int) -> np.ndarray:
        """Entry ``k`` of a given menu as an action array, or a one-line error."""
        try:
            if self._codec is not None:
                return self._codec.check(action).copy()
            a = np.asarray(action)
            if a.shape != space.shape or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"expected {space.shape[0]} integers")
            a = a.astype(np.int64)
            if not space.contains(a):
                raise ValueError(f"component k must lie in [0, {space.nvec.tolist()}[k])")
            return a
        except ValueError as exc:
            raise ValueError(f"invalid menu entry {k} ({action!r}): {exc}") from None

    def action(self, action) -> np.ndarray:
        """The wrapped environment's action for menu position ``action``."""
        try:
            i = operator.index(action.item() if isinstance(action, np.ndarray) else action)
        except (TypeError, ValueError):
            i = -1
        if not 0 <= i < len(self.menu):
            raise ValueError(
                f"invalid action {action!r}: the menu has {len(self.menu)} actions, "
                f"allowed 0..{len(self.menu) - 1}"
            )
        return self.menu[i].copy()

    def index(self, action) -> int:
        """The menu position of a ``MultiDiscrete`` action of the wrapped environment.

        :raises ValueError: the action is not on the menu.
        """
        key = tuple(int(x) for x in np.asarray(action).ravel())
        if key not in self._positions:
            raise ValueError(f"action {list(key)} is not on the menu")
        return self._positions[key]

    def describe(self, i: int) -> str:
        """Menu entry ``i`` in plain terms (per layer where the layers differ)."""
        a = self.action(i)
        if self._codec is None:
            return str(a.tolist())
        d = self._codec.decode(a)
        if d.stop:
            return "stop"

        def one(values: list) -> str:
            return str(values[0]) if len(set(values)) == 1 else str(values)

        fractions = ["off" if f is None else f"{f:g}" for f in d.cluster_prune]
        text = (f"prune {one(d.prune_levels)}, cluster {one(d.cluster_options)}, "
                f"cluster-prune {one(fractions)}, N={one(d.crossbar_sizes)}")
        if self._codec.n_onset_slots:
            text += f", onsets {d.cluster_onset}/{d.cluster_prune_onset}"
        return text
