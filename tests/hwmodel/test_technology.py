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
    assert e["routing"] == pytest.approx(64 / 128 * (23.1 + 3))
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
    assert e2[col] / e1[col] == pytest.approx(2**t.column_scaling)
    assert a2["buffers"] / a1["buffers"] == pytest.approx(2)
    assert a2["control"] == a1["control"] and e2["control"] == e1["control"]  # fixed
    assert e2["routing"] / e1["routing"] == pytest.approx(2)
    # routers are provisioned for traffic: half as many 64s as 32s per router
    assert t.router_group(64) == pytest.approx(t.router_group(32) / 2)


def test_plain_scaling_is_available():
    t = PRESETS["resparc"].replace(column_scaling=1.0, router_group_scaling=0.0)
    assert t.read_energy_pj(128)["neurons"] == pytest.approx(2 * t.column_energy_pj)
    assert t.n_routers(17, 16) == t.n_routers(17, 128) == 2


def test_router_count_per_group():
    r = PRESETS["resparc"]
    assert r.n_routers(0, 64) == 0
    assert r.n_routers(16, 64) == 1 and r.n_routers(17, 64) == 2
    assert r.n_routers(64, 16) == 1 and r.n_routers(65, 16) == 2
    assert r.routing_area_mm2(16, 64) == pytest.approx(0.0259 + 0.00996)


def test_check_crossbar_size():
    r = PRESETS["resparc"]
    assert r.check_crossbar_size(100) == 100  # not only powers of two
    for bad in (4, 129, 256):
        with pytest.raises(ValueError, match=r"outside the range 8\.\.128.*resparc"):
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
    path.write_text("base: resparc\nname: hot\nspike_probability: 0.2\nmax_crossbar: 256\n")
    t = load_technology(path)
    assert (t.name, t.spike_probability, t.max_crossbar) == ("hot", 0.2, 256)
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
        ({"min_crossbar": 200}, "'min_crossbar' .* exceeds 'max_crossbar'"),
        ({"timesteps": 3.5}, "field 'timesteps' must be an integer"),
        ({"column_scaling": -1}, "field 'column_scaling' must be >= 0"),
        ({"name": ""}, "field 'name'"),
        ({"array_energy_pj": "lots"}, "field 'array_energy_pj' must be a number"),
        ({"base": "nope"}, "field 'base' must name a preset"),
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
