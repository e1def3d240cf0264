"""How often each crossbar is read, and how many of its rows are driven, per inference.

Energy in a spiking design is event driven: in a timestep a crossbar is read
only if at least one of its wired input rows spiked, and only the rows that
spiked are driven. Two numbers per crossbar follow, both per inference:

``reads``
    timesteps in which the crossbar is read;
``row_drives``
    (row, timestep) pairs in which one of its rows is driven.

With a measured input spike raster ``(n_samples, n_timesteps, n_inputs)`` they
are counted exactly; the raster is bit-packed over (sample, timestep), so a
crossbar's reads are the popcount of the OR of its inputs' bit sets. Crossbars
wired to the same inputs (every tile of a column of tiles) are counted once.
Without a raster, each input spikes with probability ``p`` per timestep:
``reads = T (1 - (1 - p)^r)`` and ``row_drives = T p r`` for ``r`` wired rows.
ADC designs (``kind == "adc"``) evaluate every crossbar every cycle with all its
rows driven, whatever the data: ``reads = T`` and ``row_drives = T r``.
"""

from __future__ import annotations

import numpy as np

from hwmodel._ragged import ptr_from_sizes, segment_sum

#: Upper bound on 64-bit words gathered at once when OR-ing bit sets (~32 MB).
_GATHER_WORDS = 1 << 22


def expected_activity(
    input_counts: np.ndarray, timesteps: int, spike_probability: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected reads and row drives per inference when inputs spike independently.

    :param input_counts: wired input rows ``r`` of each crossbar.
    :param timesteps: timesteps per inference ``T``.
    :param spike_probability: probability ``p`` that an input spikes in a timestep.
    :return: ``(reads, row_drives)``, one value per crossbar.
    """
    r = np.asarray(input_counts, dtype=np.float64)
    reads = timesteps * -np.expm1(r * np.log1p(-spike_probability)) if spike_probability < 1 \
        else timesteps * (r > 0).astype(np.float64)
    return reads, timesteps * spike_probability * r


def every_cycle_activity(input_counts: np.ndarray, timesteps: int) -> tuple[np.ndarray, np.ndarray]:
    """Reads and row drives when every crossbar is evaluated every cycle (ADC designs).

    :param input_counts: wired input rows of each crossbar.
    :param timesteps: evaluation cycles per inference.
    """
    r = np.asarray(input_counts, dtype=np.float64)
    return np.where(r > 0, float(timesteps), 0.0), timesteps * r


def as_raster(spikes: np.ndarray, n_inputs: int) -> np.ndarray:
    """Validate a spike raster; return it as boolean ``(n_samples * n_timesteps, n_inputs)``.

    :param spikes: ``(n_samples, n_timesteps, n_inputs)`` or ``(n_timesteps, n_inputs)``
        (one sample); boolean or 0/1 integers.
    :param n_inputs: the layer's input count.
    :raises ValueError: wrong shape or values other than 0 and 1.
    """
    x = np.asarray(spikes)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[2] != n_inputs:
        raise ValueError(
            f"spikes must be (n_samples, n_timesteps, {n_inputs}) for this layer, "
            f"got shape {np.shape(spikes)}"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"spikes hold no sample or no timestep (shape {x.shape})")
    if x.dtype != bool:
        if x.dtype.kind not in "biuf":
            raise ValueError(f"spikes must be boolean or 0/1, got dtype {x.dtype}")
        if x.dtype.kind in "iu" and x.dtype.itemsize == 1 and x.min() >= 0 and x.max() <= 1:
            x = x.view(bool)  # 0/1 bytes are already valid booleans: no copy
        else:
            if not np.isin(x, (0, 1)).all():
                raise ValueError("spikes must hold only 0 and 1 (a spike or none)")
            x = x != 0
    return x.reshape(-1, n_inputs)


def measured_activity(
    spikes: np.ndarray, input_ptr: np.ndarray, input_idx: np.ndarray, n_inputs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reads and row drives per inference, counted from a measured input spike raster.

    :param spikes: the layer's input raster, see :func:`as_raster`.
    :param input_ptr: offsets of each crossbar's inputs in ``input_idx`` (CSR style).
    :param input_idx: concatenated input indices of the crossbars.
    :param n_inputs: the layer's input count.
    :return: ``(reads, row_drives)`` per crossbar, averaged over samples.
    """
    n_samples = np.asarray(spikes).shape[0] if np.ndim(spikes) == 3 else 1
    raster = as_raster(spikes, n_inputs)
    bits = _pack_events(raster)
    spike_counts = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)
    row_drives = segment_sum(spike_counts[input_idx], input_ptr)

    unique_ptr, unique_idx, inverse = _unique_input_sets(input_ptr, input_idx)
    reads_unique = _or_popcount(bits, unique_ptr, unique_idx)
    return reads_unique[inverse] / n_samples, row_drives / n_samples


def _pack_events(raster: np.ndarray) -> np.ndarray:
    """Bit set of each input over all (sample, timestep) events: ``(n_inputs, words)`` uint64.

    Eight consecutive events make one byte; a weighted sum over them is several times
    faster than ``np.packbits`` along the long axis.
    """
    n_events, n_inputs = raster.shape
    n_bytes = -(-n_events // 8)
    weights = (1 << np.arange(8, dtype=np.uint8))[None, :, None]
    packed = np.zeros((n_inputs, -(-n_bytes // 8) * 8), dtype=np.uint8)
    full = n_events // 8
    if full:
        groups = raster[: full * 8].reshape(full, 8, n_inputs).view(np.uint8)
        packed[:, :full] = (groups * weights).sum(axis=1, dtype=np.uint8).T
    if n_events % 8:
        tail = np.zeros((1, 8, n_inputs), dtype=np.uint8)
        tail[0, : n_events % 8] = raster[full * 8 :]
        packed[:, full] = (tail * weights).sum(axis=1, dtype=np.uint8)[0]
    return packed.view(np.uint64)


def _unique_input_sets(
    ptr: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct input sets among the crossbars, and which one each crossbar has."""
    sizes = np.diff(ptr)
    n = sizes.size
    if n == 0:
        return ptr, idx, np.zeros(0, dtype=np.int64)
    width = max(int(sizes.max()), 1)
    padded = np.full((n, width), -1, dtype=np.int64)
    padded[np.repeat(np.arange(n), sizes), np.arange(idx.size) - np.repeat(ptr[:-1], sizes)] = idx
    rows, first, inverse = np.unique(padded, axis=0, return_index=True, return_inverse=True)
    usizes = sizes[first]
    uptr = ptr_from_sizes(usizes)
    return uptr, rows[rows >= 0], inverse.ravel()


def _or_popcount(bits: np.ndarray, ptr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Per segment of ``idx``: popcount of the OR of those inputs' bit sets."""
    n_sets = ptr.size - 1
    out = np.zeros(n_sets, dtype=np.int64)
    words = bits.shape[1]
    sizes = np.diff(ptr)
    start = 0
    while start < n_sets:
        # Take as many whole sets as fit the gather budget (at least one).
        limit = ptr[start] + max(_GATHER_WORDS // max(words, 1), 1)
        stop = max(int(np.searchsorted(ptr, limit, side="right")) - 1, start + 1)
        stop = min(stop, n_sets)
        seg = slice(ptr[start], ptr[stop])
        nonempty = np.flatnonzero(sizes[start:stop])
        if nonempty.size:
            gathered = bits[idx[seg]]
            offsets = ptr[start:stop][nonempty] - ptr[start]
            merged = np.bitwise_or.reduceat(gathered, offsets, axis=0)
            out[start + nonempty] = np.bitwise_count(merged).sum(axis=1, dtype=np.int64)
        start = stop
    return out
