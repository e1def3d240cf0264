"""Checks of the command line's flags and files, made before any work starts.

A user error raises :class:`CLIError`; :func:`agents.cli.commands.main` prints it as one
line with exit status 2. Every subcommand's module uses these, none uses another's.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tnf_env.validation import NUMPY_SEED_LIMIT, seed_range

from ..common.outputs import JOURNAL, check_writable

if TYPE_CHECKING:  # imported where used: torch stays out of the parser's imports
    from tnf_env.settings import EnvConfig


class CLIError(Exception):
    """A user error: bad flag value, missing file, unknown name."""


def check_out_dir(path: Path, flag: str) -> None:
    """Refuse, before any work starts, an output directory that cannot be created or written.

    :param path: the directory the command will write (it may not exist yet).
    :param flag: the flag that named it, for the message.
    """
    check_writable(path, flag)


def check_resumable(out: Path, resume: bool) -> None:
    """With ``--resume``, ``out`` must hold a study's journal: resuming nothing would start
    a fresh run under a flag that promised to continue one.

    :param out: the ``--out`` directory.
    :param resume: whether ``--resume`` was given.
    """
    if resume and not (out / JOURNAL).is_file():
        raise CLIError(f"--resume: --out {out} holds no run to resume (no {JOURNAL}); drop "
                       "--resume to start one there")


def check_seeds(seeds: Sequence[int], flag: str = "--seeds") -> None:
    """Distinct integers in ``[0, NUMPY_SEED_LIMIT)`` (a seed given twice would count one
    network twice in every mean): a learner's or a sampler's seed goes to numpy's global
    generator, and a study derives the seeds of its episodes from its own."""
    bad = [s for s in seeds if not 0 <= s < NUMPY_SEED_LIMIT]
    if bad:
        raise CLIError(f"{flag} must be integers in {seed_range(NUMPY_SEED_LIMIT)}, got {bad[0]}")
    if len(set(seeds)) != len(seeds):
        twice = sorted({s for s in seeds if list(seeds).count(s) > 1})
        raise CLIError(f"{flag} must be distinct, got {twice[0]} twice")


def check_distinct(values: Sequence | None, flag: str) -> None:
    """A list flag whose repeated entries would be counted twice (crossbar sizes, seeds)."""
    if values and len(set(values)) != len(values):
        raise CLIError(f"{flag} must be distinct values, got {list(values)}")


# Upper bounds of integer flags: larger values pass argparse and then run for years or fail
# deep inside numpy or torch.
FLAG_LIMITS = {
    "epochs": 100_000,
    "steps": 10_000,
    "pruning_epochs": 100_000,
    "snn_timesteps": 100_000,
    "random_candidates": 10_000,
    "reps": 1_000_000,
    "timesteps": 10**9,
}
MAX_BUDGET = 10**7  # retraining epochs of a search or a benchmark transformation


def check_positive(args: argparse.Namespace, *names: str) -> None:
    """Integer flags that must be in ``[1, FLAG_LIMITS[name]]`` (None: the default applies)."""
    for name in names:
        value = getattr(args, name)
        high = FLAG_LIMITS.get(name, 10**9)
        if value is not None and not 1 <= value <= high:
            flag = "--" + name.replace("_", "-")
            raise CLIError(f"{flag} must be an integer in [1, {high}], got {value}")


def check_budget(value: float | None, flag: str) -> None:
    """A number of retraining epochs: finite, > 0 and at most :data:`MAX_BUDGET`."""
    if value is not None and not (0 < value <= MAX_BUDGET and math.isfinite(value)):
        raise CLIError(f"{flag} must be a number of epochs in (0, {MAX_BUDGET}], got {value}")


def check_rate_grid(grid: Sequence[float]) -> None:
    bad = [g for g in grid if not (0 < g <= 1000 and math.isfinite(g))]
    if bad:
        raise CLIError(f"--rate-grid must be finite numbers in (0, 1000], got {bad[0]}")
    if len(set(grid)) != len(grid) or len(grid) > 64:
        raise CLIError(f"--rate-grid must be at most 64 distinct numbers, got {list(grid)}")


def require_modules(*needs: tuple[str, str]) -> None:
    """Optional packages a command needs at its end: missing ones are said before any work.

    :param needs: ``(module, what needs it)`` pairs.
    """
    import importlib.util

    for module, what in needs:
        if importlib.util.find_spec(module) is None:
            raise CLIError(f"{what} need {module}, which is not installed: pip install {module}")


def check_device(name: object, what: str) -> None:
    """A device this machine has, said before any work (a file naming ``cuda`` stays
    readable on a machine without one: only the commands that run here check this).

    :param name: the device's name.
    :param what: the flag or key that gave it.
    """
    from tnf_env.model.torch_device import resolve_device

    if isinstance(name, str):
        try:
            resolve_device(name)
        except ValueError as exc:
            raise CLIError(f"invalid {what}={name!r}: {exc}") from None


def check_env_settings(settings: dict) -> EnvConfig:
    """Refuse bad environment settings before any network is trained; the settings as
    the typed :class:`EnvConfig` (every default filled in)."""
    from tnf_env.settings import EnvConfig

    return EnvConfig.from_kwargs(**settings)
