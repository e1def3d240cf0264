"""Vectorised helpers for ragged index lists stored as ``(ptr, idx)`` pairs.

A ragged list of ``n`` index arrays is kept flat, like a CSR matrix: the
``k``-th array is ``idx[ptr[k]:ptr[k + 1]]``. Building and reducing these with
numpy avoids a Python loop over crossbars or connections.
"""

from __future__ import annotations

import numpy as np


def ptr_from_sizes(sizes: np.ndarray) -> np.ndarray:
    """Offsets ``ptr`` (length ``len(sizes) + 1``) of consecutive segments of ``sizes``."""
    ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


def ragged_arange(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each pair of ``starts`` and ``sizes``.

    >>> ragged_arange(np.array([5, 0]), np.array([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ptr = ptr_from_sizes(sizes)
    # Each element is its segment's start plus its offset inside the segment.
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - ptr[:-1], sizes)
    return shift + np.arange(total, dtype=np.int64)


def segment_sum(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Sum of ``values[ptr[k]:ptr[k + 1]]`` for every segment (empty segments give 0)."""
    csum = np.zeros(len(values) + 1, dtype=np.result_type(values, np.int64))
    np.cumsum(values, out=csum[1:])
    return csum[ptr[1:]] - csum[ptr[:-1]]


def segment_ids(ptr: np.ndarray) -> np.ndarray:
    """For each flat position, the index of the segment it belongs to."""
    return np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))


def sort_within_segments(seg: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reorder ``(seg, idx)`` pairs by segment, then by index (segment order kept)."""
    order = np.lexsort((idx, seg))
    return seg[order], idx[order]
