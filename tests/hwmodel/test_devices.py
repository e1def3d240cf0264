"""Device parameters of technologies: presets with sources, files, one-line errors."""

from __future__ import annotations

import json

import pytest

from hwmodel import PRESETS, TechnologyError, load_technology
from hwmodel.devices import DeviceError, DeviceModel
from hwmodel.presets import PRESET_FIELDS


@pytest.mark.parametrize("name", ["resparc", "isaac"])
def test_presets_carry_a_cited_device(name):
    d = PRESETS[name].device
    assert isinstance(d, DeviceModel)
    assert d.r_off_ohm > d.r_on_ohm > 0 and 0.5 <= d.wire_row_ohm <= 3.0
    for f in ("r_on_ohm", "r_off_ohm", "wire_row_ohm", "wire_col_ohm", "levels", "sigma",
              "stuck_on_rate", "stuck_off_rate"):
        assert d.sources.get(f), f"no source for {f}"


def test_file_overrides_part_of_the_base_device(tmp_path):
    path = tmp_path / "tech.yaml"
    path.write_text("base: isaac\nname: mine\ndevice:\n  wire_row_ohm: 2.5\n  sigma: 0.1\n")
    t = load_technology(path)
    assert t.device.wire_row_ohm == 2.5 and t.device.sigma == 0.1
    assert t.device.wire_col_ohm == PRESETS["isaac"].device.wire_col_ohm


def test_file_without_device_or_with_null_device_has_ideal_crossbars(tmp_path):
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(PRESET_FIELDS["resparc"]))
    assert load_technology(path).device is None
    path = tmp_path / "null.yaml"
    path.write_text("base: resparc\ndevice: null\n")
    assert load_technology(path).device is None


@pytest.mark.parametrize(
    ("device", "pattern"),
    [
        ({"r_on_ohm": -20e3}, r"field 'device\.r_on_ohm' must be positive"),
        ({"r_off_ohm": 0}, r"field 'device\.r_off_ohm' must be positive"),
        ({"wire_row_ohm": -1}, r"field 'device\.wire_row_ohm' must be >= 0"),
        ({"wire_col_ohm": float("nan")}, r"field 'device\.wire_col_ohm' must be finite"),
        ({"sigma": "large"}, r"field 'device\.sigma' must be a number"),
        ({"levels": 1}, r"field 'device\.levels'"),
        ({"levels": 2.5}, r"field 'device\.levels'"),
        ({"stuck_on_rate": 1.0}, r"field 'device\.stuck_on_rate' must be in \[0, 1\)"),
        ({"r_off_ohm": 10e3}, r"field 'device\.r_off_ohm' .* must exceed 'r_on_ohm'"),
        ({"variation": "uniform"}, r"field 'device\.variation'"),
        ({"colour": 1}, r"unknown key 'device\.colour'"),
    ],
)
def test_bad_device_values_get_one_line_naming_the_field(tmp_path, device, pattern):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"base": "resparc", "device": device}))
    with pytest.raises(TechnologyError, match=pattern) as info:
        load_technology(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg


def test_full_device_needed_without_a_base(tmp_path):
    data = dict(PRESET_FIELDS["resparc"]) | {"device": {"r_on_ohm": 1e3, "r_off_ohm": 1e4}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    with pytest.raises(TechnologyError, match=r"missing key 'device\.wire_row_ohm'"):
        load_technology(path)


def test_device_is_validated_in_code():
    with pytest.raises(DeviceError, match="field 'sigma'"):
        DeviceModel(r_on_ohm=1.0, r_off_ohm=2.0, wire_row_ohm=0, wire_col_ohm=0, sigma=-1)
    with pytest.raises(TechnologyError, match="field 'device'"):
        PRESETS["resparc"].replace(device={"r_on_ohm": 1})
