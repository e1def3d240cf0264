"""Seeded, class-stratified subsets of a split.

A subset keeps each class's share of the split (largest remainders decide the rounding),
draws its images with a seeded generator and returns them in their original order, so the
same split, size and seed give the same images on every machine.
"""

from __future__ import annotations

import numpy as np


def stratified_indices(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Indices of ``size`` images of ``labels``, each class in its share, sorted.

    :param labels: the split's integer labels.
    :param size: how many images to keep, 1 <= size; the whole split when size >= its length.
    :param seed: seed of the draw within each class.
    :return: sorted indices into ``labels``.

    >>> stratified_indices(np.array([0, 0, 0, 0, 1, 1]), 3).tolist()
    [0, 2, 5]
    """
    labels = np.asarray(labels)
    n = labels.size
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"a subset needs an integer size >= 1, got {size!r}")
    if size >= n:
        return np.arange(n)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (size / n)
    take = np.floor(exact).astype(np.int64)
    # Largest remainders get the images the floors left over (ties: the lower class).
    order = np.lexsort((classes, -(exact - take)))
    take[order[: size - int(take.sum())]] += 1
    rng = np.random.default_rng(seed)
    picked = [
        rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))
