"""Every number of a technology file: strict types, bounded values, derived terms checked."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hwmodel import PRESETS, TechnologyError, cost_network, load_technology
from hwmodel.cli import main
from hwmodel.devices import DeviceError, DeviceModel
from hwmodel.numbers import Bound, check_number

ISAAC_ROWS = [[b, 1.0 + b / 10, 100.0 * b] for b in range(4, 11)]


def _yaml(tmp_path, text, name="t.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _refused(tmp_path, text, pattern, name="t.yaml"):
    path = _yaml(tmp_path, text, name)
    with pytest.raises(TechnologyError, match=pattern) as info:
        load_technology(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message, message
    return message


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        # an integer field takes an integer: once 16.0 reached range() as a TypeError
        ("base: isaac\nmin_crossbar: 16.0\n",
         r"field 'min_crossbar' must be an integer in \[1, 4096\], got 16\.0"),
        ("base: resparc\ntimesteps: 35.0\n", r"field 'timesteps' must be an integer"),
        ("base: resparc\ntimesteps: true\n", r"field 'timesteps' must be an integer .*got True"),
        ("base: resparc\narray_area_mm2: true\n", r"field 'array_area_mm2' must be a number"),
        ("base: resparc\ntimesteps: '35'\n", r"got '35' \(text, not a number"),
        ("base: resparc\narray_energy_pj: 1e3\n",
         r"field 'array_energy_pj' must be a number .*got '1e3' .*1\.0e\+3"),
        ("base: resparc\narray_energy_pj: .nan\n", r"field 'array_energy_pj' must be finite"),
        ("base: resparc\nrouting_energy_pj: -.inf\n", r"field 'routing_energy_pj' must be finite"),
        # magnitudes: compared as integers, never converted (no OverflowError)
        (f"base: resparc\ntimesteps: {2**70}\n", r"field 'timesteps' must be at most 100000"),
        (f"base: resparc\narray_energy_pj: {10**400}\n",
         r"field 'array_energy_pj' must be at most 1e\+12"),
        ("base: resparc\nadc_bits: 33\n", r"field 'adc_bits' must be at most 32"),
        ("base: resparc\npartial_sum_bits: 0.5\n", r"field 'partial_sum_bits' must be at least 1"),
        # a tiny constant would underflow a cost term to 0
        ("base: resparc\narray_area_mm2: 1.0e-320\n",
         r"field 'array_area_mm2' must be at least 1e-12 .*got 1e-320"),
        # exponents: overflow (huge N ratio) and underflow (once a ZeroDivisionError)
        ("base: resparc\narray_scaling: 1000000\n",
         r"field 'array_scaling' must be at most 8 \(allowed: a number in \[0, 8\]\)"),
        ("base: resparc\nrouter_group_scaling: 400\n", r"field 'router_group_scaling'"),
        ("base: resparc\nbuffer_scaling: -0.5\n", r"field 'buffer_scaling' must be >= 0"),
        # a field's type is checked before it is used as a key
        ("base: [resparc]\n", r"field 'base' must name a preset .*got \['resparc'\]"),
        ("base: {a: 1}\n", r"field 'base' must name a preset"),
        ("base: resparc\nkind: [adc]\n", r"field 'kind' must be one of"),
        ("base: resparc\nname: 5\n", r"field 'name' must be a non-empty string, got 5"),
        # the device's numbers
        ("base: resparc\ndevice: {levels: 4.0}\n", r"field 'device\.levels' must be an integer"),
        ("base: resparc\ndevice: {r_on_ohm: 1.0e-320}\n", r"field 'device\.r_on_ohm' must be at"),
        ("base: resparc\ndevice: {sigma: 100}\n", r"field 'device\.sigma' must be at most 4"),
        ("base: resparc\ndevice: {wire_row_ohm: 1.0e-300}\n", r"field 'device\.wire_row_ohm'"),
        ("base: resparc\ndevice: {stuck_on_rate: true}\n", r"field 'device\.stuck_on_rate'"),
    ],
)
def test_a_bad_number_is_one_line_naming_file_field_value_and_range(tmp_path, text, pattern):
    _refused(tmp_path, text, pattern)


@pytest.mark.parametrize(
    ("cell", "pattern"),
    [
        ([8, True, 1200.0], r"energy_pj must be a number .*got True"),
        ([8, "1.6", 1200.0], r"energy_pj must be a number .*got '1\.6' \(text"),
        (["8", 1.6, 1200.0], r"bits must be an integer in \[1, 64\], got '8'"),
        ([8.0, 1.6, 1200.0], r"bits must be an integer .*got 8\.0"),
        ([True, 1.6, 1200.0], r"bits must be an integer .*got True"),
        ([8, float("inf"), 1200.0], r"energy_pj must be finite"),  # once halved the ADC energy
        ([8, 1.6, float("nan")], r"area_um2 must be finite"),
        ([8, 1.6, 0.0], r"area_um2 must be positive"),
        ([8, 1e300, 1200.0], r"energy_pj must be at most 1e\+12"),
    ],
)

def test_adc_table_cells_are_not_coerced(tmp_path, cell, pattern):
    rows = [row if row[0] != 8 else cell for row in ISAAC_ROWS]
    text = json.dumps({"base": "isaac", "adc_table": rows})
    message = _refused(tmp_path, text, r"field 'adc_table' row \[.*\]: " + pattern, "t.json")
    assert f"row {cell!r}:".replace("'", "") in message.replace("'", "")


@pytest.mark.parametrize(("table", "pattern"), [
    ("abc", r"field 'adc_table' must be a list of rows .*got 'abc'"),
    (5, r"field 'adc_table' must be a list of rows .*got 5"),
    ([[8, 1.6]], r"field 'adc_table' rows must be \[bits, energy_pj, area_um2\], got \[8, 1\.6\]"),
])
def test_adc_table_shape(tmp_path, table, pattern):
    _refused(tmp_path, json.dumps({"base": "isaac", "adc_table": table}), pattern, "t.json")


def test_json_table_keys_spell_integers(tmp_path):
    """A mapping-form table from JSON has text keys: "8" is the integer 8, "8.0" is not."""
    table = {str(b): [e, a] for b, e, a in ISAAC_ROWS}
    path = _yaml(tmp_path, json.dumps({"base": "isaac", "adc_table": table}), "t.json")
    assert load_technology(path).adc_table[4] == (8, 1.8, 800.0)
    table["8.0"] = table.pop("8")
    _refused(tmp_path, json.dumps({"base": "isaac", "adc_table": table}),
             r"bits must be an integer .*got '8\.0'", "t.json")


def test_the_python_api_is_as_strict_as_a_file():
    r = PRESETS["resparc"]
    for change, pattern in [
        (dict(timesteps=35.0), "field 'timesteps' must be an integer"),
        (dict(packet_bits=False), "field 'packet_bits' must be an integer"),
        (dict(spike_probability="0.5"), "field 'spike_probability' must be a number"),
        (dict(control_energy_pj=None), "field 'control_energy_pj' must be a number"),
        (dict(array_scaling=9), "field 'array_scaling' must be at most 8"),
    ]:
        with pytest.raises(TechnologyError, match=pattern):
            r.replace(**change)
    # numpy numbers are numbers; the costs do not change
    same = r.replace(timesteps=np.int64(35), array_scaling=np.float64(2.0))
    assert same.read_energy_pj(32) == r.read_energy_pj(32)


@pytest.mark.parametrize("n", [float("inf"), float("nan"), 10**400, True, "16", 16.5])
def test_crossbar_size_is_checked_before_it_is_converted(n):
    with pytest.raises(ValueError, match="crossbar size") as info:
        PRESETS["resparc"].check_crossbar_size(n)
    assert not isinstance(info.value, OverflowError)


@pytest.mark.parametrize(
    ("field", "value", "size", "quantity"),
    [
        ("array_scaling", 2000.0, 8, r"arrays area at N=8 is 0\.0"),  # underflow
        ("array_scaling", 2000.0, 256, r"arrays area at N=256 is inf"),  # overflow
        ("router_group_scaling", 2000.0, 8, r"router group scaling term at N=8 is 0\.0"),
        ("control_energy_pj", float("nan"), 32, r"control read energy at N=32 is nan"),
    ],
)
def test_derived_terms_are_checked_where_they_are_used(field, value, size, quantity):
    """A technology whose fields were changed behind validation's back still never costs a
    network with a zero, infinite or NaN term: the costing asserts each one."""
    t = PRESETS["resparc"].replace(name="tampered")
    object.__setattr__(t, field, value)
    with pytest.raises(TechnologyError, match=r"technology 'tampered': " + quantity) as info:
        cost_network([np.ones((10, 20))], size, t, "dense")
    assert "must be finite" in str(info.value)


def test_presets_pass_the_checks_with_their_costs_unchanged():
    """Checking a term returns it as it is: the presets' costs are the product of the
    constant and the scaling term, bit for bit."""
    for t in PRESETS.values():
        n = t.max_crossbar
        assert t.read_energy_pj(n)["arrays"] == t.array_energy_pj * (
            (n / t.reference_crossbar) ** t.array_scaling)
        assert t.crossbar_area_mm2(n)["control"] == t.control_area_mm2


def test_device_conductance_range_is_checked():
    """Two neighbouring floats can have the same reciprocal: weights are read back through
    1 / (g_on - g_off), so that range is checked, not only r_off > r_on."""
    r_on, r_off = 1.6183689966753314, 1.6183689966753316
    assert r_off > r_on and 1 / r_on == 1 / r_off
    with pytest.raises(DeviceError, match=r"conductance range .* is 0\.0, must be finite"):
        DeviceModel(r_on_ohm=r_on, r_off_ohm=r_off, wire_row_ohm=0, wire_col_ohm=0)


def test_check_number_compares_huge_integers_exactly():
    with pytest.raises(ValueError, match=r"must be at most 10 .*got 1{40}"):
        check_number("x", int("1" * 40), Bound(True, 1, 10), ValueError)
    with pytest.raises(ValueError, match=r"got an integer of 401 digits$") as info:
        check_number("x", 10**400, Bound(True, 1, 10), ValueError)
    assert len(str(info.value)) < 120  # one short line, not the 401 digits
    check_number("x", 10, Bound(True, 1, 10), ValueError)
    check_number("x", 0, Bound(True, 1, 10, zero=True), ValueError)


# -- the command line: one line on stderr, status 2, never a traceback -----------------------
@pytest.fixture
def net(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, w0=np.ones((10, 20)), w1=np.ones((5, 10)))
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("base: isaac\nmin_crossbar: 16.0\n", "field 'min_crossbar' must be an integer"),
        ("base: [resparc]\n", "field 'base' must name a preset"),
        ("base: resparc\nrouter_group_scaling: 1000000\n", "field 'router_group_scaling'"),
        ("base: isaac\nadc_table: {4: [1, 1], 5: [1, 1], 6: [1, 1], 7: [1, 1], 8: [.inf, 1], "
         "9: [1, 1], 10: [1, 1]}\n", "energy_pj must be finite"),
    ],
)
def test_hwmodel_cli_refuses_a_bad_technology_in_one_line(tmp_path, capsys, net, text, needle):
    path = _yaml(tmp_path, text)
    assert main([str(net), "-n", "32", "-s", "dense", "-t", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hwmodel: error: ") and needle in err, err


def test_python_m_hwmodel_prints_one_line_and_no_traceback(tmp_path, net):
    path = _yaml(tmp_path, "base: isaac\nmin_crossbar: 16.0\n")
    proc = subprocess.run(
        [sys.executable, "-m", "hwmodel", str(net), "-n", "32", "-t", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "field 'min_crossbar' must be an integer in [1, 4096], got 16.0" in proc.stderr
