"""Event-driven read counts: measured rasters against a brute-force count."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodel._ragged import ptr_from_sizes
from hwmodel.activity import (
    _pack_events,
    as_raster,
    every_cycle_activity,
    expected_activity,
    measured_activity,
)


def brute_force(spikes, sets):
    s = spikes.reshape(spikes.shape[0], -1, spikes.shape[-1]).astype(bool)
    reads = [s[:, :, list(i)].any(axis=2).sum() / s.shape[0] if i else 0.0 for i in sets]
    drives = [s[:, :, list(i)].sum() / s.shape[0] for i in sets]
    return np.array(reads), np.array(drives)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 40),
    st.integers(1, 20),
    st.floats(0, 1),
    st.integers(0, 2**32 - 1),
)
def test_measured_matches_brute_force(n_samples, n_steps, n_inputs, rate, seed):
    rng = np.random.default_rng(seed)
    spikes = (rng.random((n_samples, n_steps, n_inputs)) < rate).astype(np.uint8)
    sets = [
        sorted(rng.choice(n_inputs, size=int(rng.integers(0, n_inputs + 1)), replace=False))
        for _ in range(6)
    ]
    sets.append(sets[0])  # a repeated set is counted once, reported twice
    ptr = ptr_from_sizes(np.array([len(s) for s in sets]))
    idx = np.array([i for s in sets for i in s], dtype=np.int64)
    reads, drives = measured_activity(spikes, ptr, idx, n_inputs)
    want_reads, want_drives = brute_force(spikes, sets)
    np.testing.assert_allclose(reads, want_reads)
    np.testing.assert_allclose(drives, want_drives)


def test_pack_events_matches_packbits():
    rng = np.random.default_rng(0)
    for n_events in (1, 7, 8, 9, 64, 65, 130):
        x = rng.random((n_events, 3)) < 0.5
        bits = _pack_events(x)
        ref = np.packbits(x, axis=0, bitorder="little").T
        assert (bits.view(np.uint8)[:, : ref.shape[1]] == ref).all()
        assert (np.bitwise_count(bits).sum(axis=1) == x.sum(axis=0)).all()


def test_expected_and_every_cycle():
    reads, drives = expected_activity(np.array([0, 1, 3]), 35, 0.7)
    np.testing.assert_allclose(reads, 35 * (1 - 0.3 ** np.array([0, 1, 3])))
    np.testing.assert_allclose(drives, 35 * 0.7 * np.array([0, 1, 3]))
    reads, drives = expected_activity(np.array([0, 2]), 10, 1.0)
    assert reads.tolist() == [0, 10] and drives.tolist() == [0, 20]
    reads, drives = every_cycle_activity(np.array([0, 4]), 16)
    assert reads.tolist() == [0, 16] and drives.tolist() == [0, 64]


def test_raster_validation():
    assert as_raster(np.zeros((4, 3)), 3).shape == (4, 3)  # one sample
    with pytest.raises(ValueError, match=r"\(n_samples, n_timesteps, 3\)"):
        as_raster(np.zeros((2, 4, 5)), 3)
    with pytest.raises(ValueError, match="only 0 and 1"):
        as_raster(np.full((1, 2, 3), 2), 3)
    with pytest.raises(ValueError, match="no sample"):
        as_raster(np.zeros((0, 2, 3)), 3)
