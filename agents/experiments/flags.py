"""Command-line flags every study shares (``reproduce``, ``benchmark``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..common.outputs import JOURNAL


def add_study_flags(p: argparse.ArgumentParser) -> None:
    """``--methods``, ``--resume`` and ``--batch``."""
    p.add_argument(
        "--methods", nargs="+", default=None, metavar="NAME",
        help="the rows' methods, in order (default: the study's; any registered method of "
        "agents.experiments.methods)",
    )
    p.add_argument(
        "--resume", action="store_true",
        help="continue a run in --out that was stopped (same flags), after its last "
        f"finished seed ({JOURNAL})",
    )
    p.add_argument(
        "--batch", type=int, default=1, metavar="B",
        help="run up to B episodes of a seed at once, their networks retrained as one batched "
        "computation (the way to use a GPU; default 1: one after the other). Every B >= 2 "
        "gives the same rows; in float32 they differ from B=1's as another draw of the "
        "rounding does",
    )


def check_batch(batch: int) -> None:
    """Refuse an episode batch outside ``[1, MAX_ENVS]`` (each episode of a batch holds its
    own networks: no machine holds more than that many at once)."""
    from tnf_env.validation import MAX_ENVS

    if not 1 <= batch <= MAX_ENVS:
        raise ValueError(f"--batch {batch}: allowed an integer in [1, {MAX_ENVS}]")


def check_methods(names: Sequence[str] | None, extra: Sequence[str] = ()) -> None:
    """Refuse, before any work, a method that is not registered or named twice.

    :param names: the ``--methods`` given (None: the study's own).
    :param extra: names the study accepts besides the registry (``ppo`` with ``--run``).
    :raises ValueError: one line naming the method and the registered ones.
    """
    from .methods import REGISTRY

    names = list(names or ())
    if len(set(names)) != len(names):
        raise ValueError(f"--methods {names}: a method is named twice")
    known = [*REGISTRY, *extra]
    for name in names:
        if name not in known:
            raise ValueError(f"--methods {name!r}: not a method; registered: "
                             f"{', '.join(repr(k) for k in known)}")
