"""Worker processes of a study split into jobs: one thread each, so that ``workers``
processes use ``workers`` cores (on a 2-core CPU two processes of one thread retrain
faster than one of two threads; docs/results/speed.md)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..common.outputs import mark_started


def _one_thread() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh (spawned) one-thread processes. The command's work has
    begun (:func:`~agents.common.outputs.mark_started`): the workers' journals are
    finished units this process does not see written, so a failure keeps them."""
    mark_started()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_one_thread)


def _log(line: str) -> None:
    print(f"[{os.getpid()}] {line}", flush=True)


def search_job(kwargs: dict[str, Any]) -> dict:
    """:func:`agents.search.blackbox.run_search` with ``kwargs``: a line per trial (no bar in a
    worker), tagged with the pid."""
    from ..search.blackbox import run_search

    return run_search(log=_log, progress=False, log_every=1, **kwargs)


def eval_job(kwargs: dict[str, Any]) -> dict:
    """:func:`agents.experiments.compare.eval_study` with ``kwargs``: a line per method
    delivered (no bar in a worker), tagged with the pid."""
    from .compare import eval_study

    return eval_study(log=_log, progress=False, log_methods=True, **kwargs)
