"""The crossbar circuit models against hand-solved circuits, the ideal product, each other."""

import numpy as np
import pytest

from hwmodel.clusters import Cluster
from hwmodel.crossbar_circuit import (
    exact_equivalent,
    fast_equivalent,
    layer_equivalent_weights,
    program_conductances,
)
from hwmodel.devices import PRESET_DEVICES, DeviceModel
from hwmodel.mapping import map_layer

DEVICE = PRESET_DEVICES["resparc"]


def test_one_cell_is_a_series_circuit():
    g, r_row, r_col = 1e-4, 10.0, 20.0
    expected = 1 / (r_row + 1 / g + r_col)
    assert exact_equivalent(np.array([[g]]), r_row, r_col)[0, 0] == pytest.approx(expected)
    assert fast_equivalent(np.array([[g]]), r_row, r_col)[0, 0] == pytest.approx(
        expected, rel=1e-5
    )


def _row_ladder(g0, g1, r):
    """One row of two cells to grounded columns: driver -r- a -r- b, cells to ground."""
    b_branch = 1 / (r + 1 / g1)
    v_a = (1 / (g0 + b_branch)) / (r + 1 / (g0 + b_branch))
    return v_a * g0, v_a * b_branch


def test_two_by_two_hand_solved_with_ideal_columns():
    # Ideal column wires: columns sit at virtual ground, each row is its own ladder.
    g = np.array([[1e-2, 2e-2], [3e-2, 5e-3]])
    r = 5.0
    expected = np.array([_row_ladder(*g[0], r), _row_ladder(*g[1], r)])
    np.testing.assert_allclose(exact_equivalent(g, r, 0.0), expected, rtol=1e-12)
    np.testing.assert_allclose(fast_equivalent(g, r, 0.0), expected, rtol=1e-12)


def test_two_by_two_hand_solved_with_ideal_rows():
    # Ideal row wires: each column is a ladder to its sensing circuit at row 0. Row 1
    # driven alone: its cell feeds node c1, which reaches ground through r then via
    # node c0 (whose cell leads to the undriven row at 0 V).
    g = np.array([[1e-2, 2e-2], [3e-2, 5e-3]])
    r = 4.0
    expected = np.empty((2, 2))
    for j in range(2):
        g0, g1 = g[0, j], g[1, j]
        # Row 0 driven: source -g0- c0 -r- ground, c0 -r- c1 -g1- ground.
        load = 1 / r + 1 / (r + 1 / g1)
        v_c0 = g0 / (g0 + load)
        expected[0, j] = v_c0 / r
        # Row 1 driven: source -g1- c1 -r- c0; c0 -r- ground and -g0- ground.
        z_c0 = 1 / (1 / r + g0)
        i_in = 1 / (1 / g1 + r + z_c0)
        expected[1, j] = i_in * z_c0 / r
    np.testing.assert_allclose(exact_equivalent(g, 0.0, r), expected, rtol=1e-12)
    np.testing.assert_allclose(fast_equivalent(g, 0.0, r), expected, rtol=1e-12)


def test_general_two_by_two_against_an_independent_netlist_solve():
    g = np.array([[1e-2, 2e-2], [3e-2, 5e-3]])
    rr, rc = 3.0, 7.0
    # Nodes: row (i, j) -> 2 i + j, column (i, j) -> 4 + 2 i + j; source and ground fixed.
    resistors = []  # (a, b, conductance); -1 = ground, "s" = source of a row
    for i in range(2):
        resistors += [(("s", i), 2 * i, 1 / rr), (2 * i, 2 * i + 1, 1 / rr)]
    for j in range(2):
        resistors += [(4 + j, -1, 1 / rc), (4 + j, 4 + 2 + j, 1 / rc)]
    for i in range(2):
        for j in range(2):
            resistors.append((2 * i + j, 4 + 2 * i + j, g[i, j]))
    e = np.empty((2, 2))
    for driven in range(2):
        a, b = np.zeros((8, 8)), np.zeros(8)
        for p, q, c in resistors:
            if isinstance(p, tuple):
                a[q, q] += c
                b[q] += c * (1.0 if p[1] == driven else 0.0)
                continue
            a[p, p] += c
            if q == -1:
                continue
            a[q, q] += c
            a[p, q] -= c
            a[q, p] -= c
        v = np.linalg.solve(a, b)
        e[driven] = v[4:6] / rc
    np.testing.assert_allclose(exact_equivalent(g, rr, rc), e, rtol=1e-12)


def test_without_wire_resistance_the_array_computes_the_ideal_product():
    rng = np.random.default_rng(0)
    g = 5e-6 + 4.5e-5 * rng.random((8, 6))
    np.testing.assert_array_equal(exact_equivalent(g, 0.0, 0.0), g)
    # A vanishing wire resistance converges to it through the full circuit solve.
    np.testing.assert_allclose(exact_equivalent(g, 1e-6, 1e-6), g, rtol=1e-8)
    np.testing.assert_allclose(fast_equivalent(g, 1e-6, 1e-6), g, rtol=1e-8)
    v = rng.random(8)
    np.testing.assert_allclose(v @ exact_equivalent(g, 1e-6, 1e-6), v @ g, rtol=1e-8)


# Stated error of the fast model: max |E_fast - E_exact| / g_on on random half-dense
# arrays at the preset wires (measured: scripts/nonideal_accuracy.py --circuit).
FAST_ERROR = {16: 1e-5, 32: 1e-4, 64: 1e-3}


@pytest.mark.parametrize("n", sorted(FAST_ERROR))
def test_fast_model_within_its_stated_error(n):
    rng = np.random.default_rng(n)
    x = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    g = program_conductances(x, DEVICE)
    exact = exact_equivalent(g, DEVICE.wire_row_ohm, DEVICE.wire_col_ohm)
    fast = fast_equivalent(g, DEVICE.wire_row_ohm, DEVICE.wire_col_ohm)
    err = np.abs(fast - exact).max() * DEVICE.r_on_ohm
    drift = np.abs(exact - g).max() * DEVICE.r_on_ohm
    assert err <= FAST_ERROR[n]
    assert err < 0.1 * drift  # it captures most of the drift


def test_sparse_blocks_drift_less_than_dense_ones():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(64, 64))
    sparse = w * (rng.random(w.shape) < 0.1)
    drift = {}
    for name, m in (("dense", w), ("sparse", sparse)):
        mapping = map_layer(m != 0, 64, "dense")
        eff = layer_equivalent_weights(m, mapping, DEVICE)
        held = m != 0
        drift[name] = np.abs(eff[held] - m[held]).mean() / np.abs(m[held]).mean()
    assert drift["sparse"] < 0.75 * drift["dense"]


def test_layer_weights_ideal_device_reads_back_the_weights_exactly():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(40, 50)) * (rng.random((40, 50)) < 0.3)
    ideal = DEVICE.replace(wire_row_ohm=0.0, wire_col_ohm=0.0)
    for mapping in (
        map_layer(w != 0, 16, "tiles"),
        map_layer(w != 0, 16, "clustered", [Cluster(np.arange(10), np.arange(12))]),
    ):
        # The fast path computes in float32: exact up to its rounding.
        eff = layer_equivalent_weights(w, mapping, ideal)
        np.testing.assert_allclose(eff, w, atol=1e-6 * np.abs(w).max())
        exact = layer_equivalent_weights(w, mapping, ideal, method="exact")
        np.testing.assert_allclose(exact, w, atol=1e-12)


def test_layer_weights_fast_matches_exact_and_larger_crossbars_drift_more():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(30, 40))
    errors = []
    for n in (8, 32):
        mapping = map_layer(np.ones_like(w, bool), n, "dense")
        fast = layer_equivalent_weights(w, mapping, DEVICE)
        exact = layer_equivalent_weights(w, mapping, DEVICE, method="exact")
        assert np.abs(fast - exact).max() <= 1e-3 * np.abs(w).max()
        errors.append(np.abs(exact - w).mean())
    assert errors[1] > 2 * errors[0]


def test_variation_and_faults_are_seeded():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(20, 20))
    mapping = map_layer(np.ones_like(w, bool), 16, "dense")
    noisy = DEVICE.replace(sigma=0.2, stuck_on_rate=0.01, stuck_off_rate=0.02, levels=16)
    a = layer_equivalent_weights(w, mapping, noisy, seed=5)
    b = layer_equivalent_weights(w, mapping, noisy, seed=5)
    c = layer_equivalent_weights(w, mapping, noisy, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gaussian = noisy.replace(variation="gaussian")
    assert np.isfinite(layer_equivalent_weights(w, mapping, gaussian, seed=5)).all()


def test_levels_quantise_the_conductance():
    d = DeviceModel(r_on_ohm=1.0, r_off_ohm=2.0, wire_row_ohm=0.0, wire_col_ohm=0.0, levels=3)
    g = program_conductances(np.array([0.0, 0.2, 0.3, 0.7, 1.0]), d)
    np.testing.assert_allclose(g, [0.5, 0.5, 0.75, 0.75, 1.0])


def _thomas_numpy(diag, g, axis):
    """The tridiagonal sweep written plainly with numpy, vectorised over the batch."""
    d = np.moveaxis(diag, axis, 0)
    g = d.dtype.type(g)
    q, x = np.empty_like(d), np.empty_like(d)
    q[0] = g / d[0]
    x[0] = q[0]
    for k in range(1, d.shape[0]):
        q[k] = g / (q[k - 1] * -g + d[k])
        x[k] = x[k - 1] * q[k]
    for k in range(d.shape[0] - 2, -1, -1):
        x[k] += q[k] * x[k + 1]
    return np.moveaxis(x, 0, axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 16, 16), (2, 5, 7), (1, 1, 1)])
def test_compiled_ladder_solve_equals_the_numpy_sweep(dtype, shape):
    from hwmodel.crossbar_circuit import _ladder_first_column

    diag = (np.random.default_rng(0).random(shape) * 1e-4 + 2e-2).astype(dtype)
    for axis in (-1, -2):
        x = _ladder_first_column(diag, 0.01, axis)
        assert x.dtype == dtype and x.shape == shape
        # Same operations in the same order: equal up to the last bit's rounding.
        np.testing.assert_allclose(x, _thomas_numpy(diag, 0.01, axis), rtol=4 * np.finfo(dtype).eps)
        # And it solves the system: T x = g e_0 along the axis.
        t = np.moveaxis(x, axis, 0)
        d = np.moveaxis(diag, axis, 0)
        r = d * t
        r[1:] -= 0.01 * t[:-1]
        r[:-1] -= 0.01 * t[1:]
        np.testing.assert_allclose(r[0], 0.01, rtol=1e-3 if dtype == np.float32 else 1e-9)
        np.testing.assert_allclose(r[1:], 0.0, atol=1e-6 if dtype == np.float32 else 1e-12)
