"""Leftover covers: the released window scan, reproduced, and the band cover that beats it."""

from __future__ import annotations

import numpy as np

from hwmodel.cover import band_count, band_cover, coorder, greedy_window_cover


def _windows(cover):
    """(first output, first input) of each greedy window's connections."""
    out = np.split(cover.output_idx, np.cumsum(cover.output_sizes)[:-1])
    inp = np.split(cover.input_idx, np.cumsum(cover.input_sizes)[:-1])
    return [(int(o[0]), int(i.min())) for o, i in zip(out, inp, strict=True)]


def test_greedy_window_scan_by_hand():
    # N = 2. Scan: (0,0) opens rows 0-1 x cols 0-1 and takes (1,1); (0,3) opens rows 0-1 x
    # cols 3-4; (2,0) opens rows 2-3 x cols 0-1 and takes (3,1); (3,4) is alone.
    m = np.zeros((4, 5), dtype=bool)
    for r, c in [(0, 0), (1, 1), (0, 3), (1, 4), (2, 0), (3, 1), (3, 4)]:
        m[r, c] = True
    g = greedy_window_cover(m, 2)
    assert g.n_crossbars == 4
    assert _windows(g) == [(0, 0), (0, 3), (2, 0), (3, 4)]
    assert g.owner[1, 1] == 0 and g.owner[1, 4] == 1 and g.owner[3, 1] == 2
    assert (g.owner[~m] == -1).all()


def test_greedy_windows_can_straddle_the_grid():
    # A window starts at the first uncovered connection, not on a grid line:
    # (0,1) takes (1,2); (2,3) takes (3,4); (4,5) and (5,0) each open their own.
    m = np.zeros((6, 6), dtype=bool)
    m[[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]] = True
    assert greedy_window_cover(m, 2).n_crossbars == 4


def test_band_cover_owner_and_lines():
    rng = np.random.default_rng(5)
    m = rng.random((40, 30)) < 0.1
    c = band_cover(m, 8)
    assert (c.owner[m] >= 0).all() and (c.owner[~m] == -1).all()
    assert c.output_sizes.max() <= 8 and c.input_sizes.max() <= 8
    assert c.output_sizes.sum() == c.output_idx.size


def test_band_cover_beats_the_window_scan_on_sparse_and_block_masks():
    rng = np.random.default_rng(0)
    sparse = rng.random((300, 300)) < 0.03
    blocks = np.kron(np.eye(10, dtype=bool), np.ones((30, 30), dtype=bool))
    blocks = blocks[rng.permutation(300)][:, rng.permutation(300)]
    for m in (sparse, blocks):
        for n in (8, 16, 32):
            assert band_cover(m, n).n_crossbars < greedy_window_cover(m, n).n_crossbars


def test_coordering_recovers_shuffled_blocks():
    rng = np.random.default_rng(1)
    blocks = np.kron(np.eye(6, dtype=bool), np.ones((16, 16), dtype=bool))
    rp, cp = rng.permutation(96), rng.permutation(96)
    shuffled = blocks[rp][:, cp]
    rows, _ = coorder(shuffled)
    # each band of 16 co-ordered rows is one block: 6 crossbars, the lower bound
    assert band_count(shuffled, 16, rows) == 6
    assert band_cover(shuffled, 16).n_crossbars == 6
    assert band_count(shuffled, 16, np.arange(96)) > 6


def test_empty_and_full():
    assert band_cover(np.zeros((3, 4)), 2).n_crossbars == 0
    assert greedy_window_cover(np.zeros((3, 4)), 2).n_crossbars == 0
    assert band_cover(np.ones((5, 5)), 2).n_crossbars == 9
