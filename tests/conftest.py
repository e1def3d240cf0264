"""Shared fixtures: every test gets its own baseline cache and data directory."""

from __future__ import annotations

import numpy as np
import pytest

from tnf_env.datasets import Dataset


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # Never touch the user's ~/.cache: a test's baselines live and die with the session.
    monkeypatch.setenv("TNF_CACHE", str(tmp_path_factory.getbasetemp() / "tnf_cache"))


def make_blobs_dataset(n_inputs: int = 16, n_per_class: int = 30, seed: int = 0) -> Dataset:
    """A tiny separable 10-class dataset: class c lights up its own pixels."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.repeat(np.arange(10), n)
        x = rng.uniform(0, 0.2, size=(y.size, n_inputs)).astype(np.float32)
        for c in range(10):
            x[y == c, (c * n_inputs) // 10] = 0.9
        return x, y.astype(np.int64)

    xt, yt = split(n_per_class)
    xv, yv = split(n_per_class // 3)
    xs, ys = split(n_per_class // 3)
    return Dataset("blobs", xt, yt, xv, yv, xs, ys)


@pytest.fixture
def blobs() -> Dataset:
    return make_blobs_dataset()
