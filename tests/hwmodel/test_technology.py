"""Technology presets, their calibration, scaling with N, and loading from files."""

from __future__ import annotations

import json
import math

import pytest

from hwmodel import PRESETS, Technology, TechnologyError, get_technology, load_technology
from hwmodel.presets import PRESET_FIELDS


def test_presets_exist_with_contract_fields():
    r, i = PRESETS["resparc"], PRESETS["isaac"]
    assert (r.kind, r.timesteps, r.spike_probability) == ("spiking", 35, 0.7)
    assert i.kind == "adc"
    for t in (r, i):
        assert t.min_crossbar <= 16 and t.max_crossbar >= 128
        assert t.components[2] == ("neurons" if t.kind == "spiking" else "adcs")
        # every constant carries a source
        assert t.sources and all(isinstance(v, str) and v for v in t.sources.values())


def test_resparc_engine_calibration():
    """4 crossbars of 64x64 with their peripherals = the published engine."""
    r = PRESETS["resparc"]
    area = 4 * sum(r.crossbar_area_mm2(64).values())
    energy = r.read_energy_pj(64)
    engine_pj = 4 * (sum(energy.values()) - energy["routing"])
    assert area == pytest.approx(0.0196, rel=1e-12)
    assert engine_pj == pytest.approx(3.0187 * 100, rel=1e-12)  # 301.87 pJ, "about 302"
    assert round(engine_pj) == 302


def test_resparc_split_follows_cited_terms():
    r = PRESETS["resparc"]
    e = r.read_energy_pj(64)
    # N^2 V^2 g_avg with a 1 ns pulse; 64 IF updates of 2 pJ*45/65 shared by 4 crossbars
    assert e["arrays"] == pytest.approx(64**2 * 0.25 * (1 / 20e3 + 1 / 200e3) / 2 * 1e-9 * 1e12)
    assert e["neurons"] == pytest.approx(64 * 2 * 45 / 65 / 4)
    assert e["routing"] == pytest.approx(64 / 128 * (2 * 23.1 / 4 + 3 / 4) * 14.86)
    assert r.partial_sum_energy_pj() == pytest.approx(4 / 128 * (23.1 / 4 + 3 / 4) * 14.86)
    assert r.router_area_mm2 == 0.0259 and r.link_area_mm2 == 0.00996


def test_isaac_constants_from_design():
    i = PRESETS["isaac"]
    a, e = i.crossbar_area_mm2(128), i.read_energy_pj(128)
    assert i.array_area_mm2 == 2.5e-5 and e["arrays"] == pytest.approx(0.3 * 100)
    assert a["drivers"] == pytest.approx(128 * 1.67e-7)
    assert e["drivers"] == pytest.approx(128 * 3.9e-3 * 100)
    assert a["adcs"] == pytest.approx(0.0012 + 4e-5 / 8)
    assert e["adcs"] == pytest.approx((2.0 + 0.01 / 8) * 100)


@pytest.mark.parametrize("name", ["resparc", "isaac"])
def test_scaling_laws(name):
    t = PRESETS[name]
    a1, a2 = t.crossbar_area_mm2(32), t.crossbar_area_mm2(64)
    e1, e2 = t.read_energy_pj(32), t.read_energy_pj(64)
    col = t.column_component
    assert a2["arrays"] / a1["arrays"] == pytest.approx(4)  # N^2
    assert e2["arrays"] / e1["arrays"] == pytest.approx(4)
    assert a2["drivers"] / a1["drivers"] == pytest.approx(2)  # N
    assert e2["drivers"] / e1["drivers"] == pytest.approx(2)
    if t.kind == "spiking":  # IF neurons: fixed energy per update, N of them
        assert e2[col] / e1[col] == pytest.approx(2) and a2[col] / a1[col] == pytest.approx(2)
    else:  # N conversions per read at 7 instead of 6 bits (Accelergy IsaacADC table)
        assert e2[col] / e1[col] == pytest.approx(2 * 1.42 / 1.20)
        assert a2[col] / a1[col] == pytest.approx(2 * 845.18 / 626.91)
    assert a2["buffers"] / a1["buffers"] == pytest.approx(2**1.2)  # PUMAsim
    assert e2["buffers"] / e1["buffers"] == pytest.approx(2**1.2)
    assert a2["control"] == a1["control"] and e2["control"] == e1["control"]  # fixed
    assert e2["routing"] / e1["routing"] == pytest.approx(2)
    # a fixed number of crossbars per router, whatever N
    assert t.router_group(64) == t.router_group(32) == t.crossbars_per_router


def test_isaac_tile_totals_per_array():
    """ISAAC Table 6: a tile of 96 arrays draws 330 mW on 0.372 mm^2, i.e. about 3.44 mW
    and 0.00388 mm^2 per array; the model leaves out the tile's sigmoid, shift-and-add,
    max-pool and output register (about 1%)."""
    i = PRESETS["isaac"]
    power_mw = sum(i.read_energy_pj(128).values()) / 100  # pJ per 100 ns cycle
    area = sum(i.crossbar_area_mm2(128).values()) + i.routing_area_mm2(96, 128) / 96
    assert power_mw == pytest.approx(3.44, rel=0.02)
    assert area == pytest.approx(0.00388, rel=0.02)


def test_adc_bits_grow_one_per_doubling_of_rows():
    i = PRESETS["isaac"]
    assert [i.adc_bits_at(n) for n in (16, 32, 64, 100, 128)] == [5, 6, 7, 8, 8]
    assert PRESETS["resparc"].adc_bits_at(64) == 0  # spiking: no ADC
    # at N = 16: 16 conversions at 5 bits against 128 at 8 bits
    e = i.read_energy_pj(16)["adcs"] / i.read_energy_pj(128)["adcs"]
    assert e == pytest.approx(16 / 128 * 0.99 / 1.666666667)


def test_pumasim_buffer_fit():
    import numpy as np

    from hwmodel.published import (
        PUMASIM_BUFFER_AREA_MM2,
        PUMASIM_BUFFER_POWER_MW,
        PUMASIM_BUFFER_SIZES,
    )

    x = np.log2(PUMASIM_BUFFER_SIZES)
    for y in (PUMASIM_BUFFER_AREA_MM2, PUMASIM_BUFFER_POWER_MW):
        slope = np.polyfit(x, np.log2(y), 1)[0]
        assert slope == pytest.approx(PRESETS["resparc"].buffer_scaling, abs=0.03)


def test_legacy_rules_are_kept():
    old = PRESETS["resparc-legacy"]
    assert (old.column_scaling, old.router_group_scaling, old.partial_sum_bits) == (2, 1, 0)
    assert old.read_energy_pj(128)["neurons"] == pytest.approx(4 * old.column_energy_pj)
    assert old.read_energy_pj(64)["routing"] == pytest.approx(64 / 128 * (23.1 + 3))
    assert old.n_routers(64, 16) == 1 and old.n_routers(65, 16) == 2
    assert get_technology("isaac-legacy").read_energy_pj(64)["adcs"] == pytest.approx(
        PRESETS["isaac"].column_energy_pj / 4)
    # the same calibrated constants at the reference size
    new = PRESETS["resparc"]
    assert old.crossbar_area_mm2(64) == new.crossbar_area_mm2(64)


def test_router_count_per_group():
    r = PRESETS["resparc"]
    assert r.n_routers(0, 64) == 0
    assert r.n_routers(16, 64) == 1 and r.n_routers(17, 64) == 2
    assert r.n_routers(16, 16) == 1 and r.n_routers(17, 16) == 2  # 16 per router, any N
    assert r.routing_area_mm2(16, 64) == pytest.approx(0.0259 + 0.00996)


def test_check_crossbar_size():
    r = PRESETS["resparc"]
    assert r.check_crossbar_size(100) == 100  # not only powers of two
    assert r.check_crossbar_size(256) == 256  # the non-ideal floor, not a limit, caps N
    for bad in (4, 257, 512):
        with pytest.raises(ValueError, match=r"outside the range 8\.\.256.*resparc"):
            r.check_crossbar_size(bad)
    with pytest.raises(ValueError, match="integer"):
        r.check_crossbar_size(64.5)


def test_get_technology_forms(tmp_path):
    t = PRESETS["isaac"]
    assert get_technology("isaac") is t and get_technology("ISAAC") is t
    assert get_technology(t) is t
    with pytest.raises(TechnologyError, match="unknown technology 'foo'"):
        get_technology("foo")
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(PRESETS["resparc"].to_dict()))
    assert get_technology(path) == PRESETS["resparc"]
    assert get_technology(str(path)) == PRESETS["resparc"]


def test_yaml_file_with_base(tmp_path):
    path = tmp_path / "tech.yaml"
    path.write_text("base: resparc\nname: hot\nspike_probability: 0.2\nmax_crossbar: 192\n")
    t = load_technology(path)
    assert (t.name, t.spike_probability, t.max_crossbar) == ("hot", 0.2, 192)
    assert t.array_energy_pj == PRESETS["resparc"].array_energy_pj


def test_full_yaml_round_trip(tmp_path):
    import yaml

    d = PRESETS["isaac"].to_dict()
    path = tmp_path / "isaac.yml"
    path.write_text(yaml.safe_dump(d))
    assert load_technology(path) == PRESETS["isaac"]


def _write(tmp_path, data, suffix=".json"):
    path = tmp_path / f"t{suffix}"
    path.write_text(json.dumps(data) if suffix == ".json" else data)
    return path


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"colour": 1}, "unknown key 'colour'"),
        ({"timesteps": 0}, "field 'timesteps' must be positive"),
        ({"array_area_mm2": -1.0}, "field 'array_area_mm2' must be positive"),
        ({"router_area_mm2": 0}, "field 'router_area_mm2' must be positive"),
        ({"kind": "optical"}, "field 'kind'"),
        ({"spike_probability": 1.5}, "field 'spike_probability'"),
        ({"min_crossbar": 300}, "'min_crossbar' .* exceeds 'max_crossbar'"),
        ({"timesteps": 3.5}, "field 'timesteps' must be an integer"),
        ({"column_scaling": -1}, "field 'column_scaling' must be >= 0"),
        ({"name": ""}, "field 'name'"),
        ({"array_energy_pj": "lots"}, "field 'array_energy_pj' must be a number"),
        ({"base": "nope"}, "field 'base' must name a preset"),
        ({"adc_bits": 8}, "field 'adc_table' lacks the 5-bit row"),
        ({"adc_bits": 7, "adc_table": [[6, 1.0, 2.0], [7, 1.2, 3.0]]},
         "field 'adc_table' lacks the 4-bit row"),
        ({"adc_table": [[8, 1.0]]}, "field 'adc_table' rows must be"),
        ({"adc_table": {"8": [1.0, "x"]}}, "field 'adc_table' row .* must be a number"),
        ({"adc_bits": 2.5}, "field 'adc_bits' must be an integer"),
        ({"hop_energy_pj": 0.0}, "field 'hop_energy_pj' must be positive when partial"),
        ({"partial_sum_bits": -4}, "field 'partial_sum_bits' must be >= 0"),
        ({"packet_bits": 0}, "field 'packet_bits' must be positive"),
    ],
)
def test_bad_files_name_the_field(tmp_path, change, pattern):
    data = dict(PRESET_FIELDS["resparc"]) | change
    path = _write(tmp_path, data)
    with pytest.raises(TechnologyError, match=pattern) as info:
        load_technology(path)
    assert str(path) in str(info.value)


def test_missing_key(tmp_path):
    data = dict(PRESET_FIELDS["resparc"])
    del data["link_area_mm2"]
    with pytest.raises(TechnologyError, match="missing key 'link_area_mm2'"):
        load_technology(_write(tmp_path, data))


def test_malformed_files(tmp_path):
    with pytest.raises(TechnologyError, match="not valid YAML"):
        load_technology(_write(tmp_path, "name: [unclosed\n", ".yaml"))
    with pytest.raises(TechnologyError, match="not valid JSON"):
        load_technology(_write(tmp_path, "{", ".yml").rename(tmp_path / "x.json"))
    with pytest.raises(TechnologyError, match="expected a mapping"):
        load_technology(_write(tmp_path, "- 1\n- 2\n", ".yaml"))
    with pytest.raises(TechnologyError, match="cannot read"):
        load_technology(tmp_path / "absent.yaml")
    with pytest.raises(TechnologyError, match=r"\.yaml, \.yml or \.json"):
        load_technology(tmp_path / "tech.txt")


def test_technology_is_frozen_and_validated_in_code():
    t = PRESETS["resparc"]
    with pytest.raises(AttributeError):
        t.timesteps = 10  # type: ignore[misc]
    with pytest.raises(TechnologyError, match="timesteps"):
        t.replace(timesteps=-3)
    assert isinstance(t, Technology) and math.isfinite(t.buffer_area_mm2)
