"""Progress of long work, on stderr so that the tables a command prints on stdout stay clean.

:func:`progress_bar` is a tqdm bar with an ETA. On a terminal it redraws in place at most every
half second; elsewhere (a CI log, a file) it writes a line at most every
:data:`LOG_INTERVAL` seconds, so a log gets its first and last state and a line per half
minute, not one per update. Disabled
(a command's ``--quiet``, and every library call, whose default is off) it shows nothing.

:func:`library_progress` shows what :mod:`tnf_env` reports on its logger at INFO (the dense
baseline's training, epoch by epoch): the environment never prints, the command line
decides whether its log is shown.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

LOG_INTERVAL = 30.0  # seconds between redraws when stderr is not a terminal
LIBRARY_LOGGER = "tnf_env"


def add_quiet_flag(p: argparse.ArgumentParser) -> None:
    """``--quiet``: the command shows no progress (its bars and the library's log)."""
    p.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (bars with an ETA, the dense baseline's "
                   "training log)")


def _interactive() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress_bar(total: float, desc: str, enabled: bool = True, unit: str = "episode") -> tqdm:
    """A progress bar on stderr (a no-op one when not ``enabled``); close it, or use it as a
    context manager.

    :param total: units of work the bar counts to.
    :param desc: what the work is, shown before the bar.
    :param enabled: False: nothing is shown.
    :param unit: the name of one unit.
    """
    if _interactive():
        return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr,
                    mininterval=0.5, dynamic_ncols=True)
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=_Lines(),
                mininterval=LOG_INTERVAL, ncols=100)


class _Lines:
    """stderr for a bar off a terminal: each redraw on a line of its own (tqdm redraws in
    place with a carriage return, which a log file keeps as one line, other lines and all)."""

    def write(self, text: str) -> None:
        text = text.replace("\r", "").rstrip()
        if text:
            sys.stderr.write(text + "\n")

    def flush(self) -> None:
        sys.stderr.flush()


def around_bars(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` that, on a terminal, lifts the bars while it writes (a line printed under a
    bar would otherwise be drawn over by it)."""
    if not _interactive():
        return log

    def write(line: str) -> None:
        with tqdm.external_write_mode():
            log(line)

    return write


def show(bar: tqdm, text: str) -> None:
    """Say on ``bar`` what runs now (redrawn at once on a terminal only: a log would get a
    line per call)."""
    bar.set_postfix_str(text, refresh=_interactive())


class _BarSafeHandler(logging.Handler):
    """A logging handler that writes to stderr, on a terminal through ``tqdm.write`` (bars
    stay whole; elsewhere a bar is not redrawn per line)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if _interactive():
                tqdm.write(self.format(record), file=sys.stderr)
            else:
                sys.stderr.write(self.format(record) + "\n")
                sys.stderr.flush()
        except Exception:  # a broken stream must not end the command
            self.handleError(record)


@contextmanager
def library_progress(enabled: bool) -> Iterator[None]:
    """While the block runs, show :mod:`tnf_env`'s INFO messages on stderr, one line each.

    :param enabled: False: nothing is changed (the library stays silent).
    """
    if not enabled:
        yield
        return
    logger = logging.getLogger(LIBRARY_LOGGER)
    handler = _BarSafeHandler(logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
