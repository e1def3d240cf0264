"""Memristive devices and wires of a crossbar: what makes its dot products inexact.

A :class:`DeviceModel` describes the cells and the wires of a technology's
crossbars for :mod:`hwmodel.crossbar_circuit`: the resistance range of a cell
(``r_on_ohm`` .. ``r_off_ohm``), the wire resistance of every row and column
segment between two neighbouring cells, an optional number of conductance
levels, optional device-to-device variation and stuck-at faults. A
:class:`~hwmodel.technology.Technology` carries one in its optional ``device``
field; a technology file sets it as a ``device:`` mapping of the fields below
(with ``base: <preset>`` only the fields to change).

Preset values and where they come from
--------------------------------------
* ``r_on_ohm`` / ``r_off_ohm``: 20 kOhm and 200 kOhm, the device range of the
  RESPARC follow-on model (github Aayush-Ankit/RESPARC-plc,
  ``src/compute_energy.py``), the range the presets' array energy already uses.
  ISAAC's Table 6 gives no resistances, so the isaac preset uses the same range.
* ``wire_row_ohm`` / ``wire_col_ohm``: one segment is a copper line one cell
  pitch long, ``rho * pitch / (width * height)``, with pitch 2F, width F and
  height 2F (aspect ratio 2) and an effective resistivity that includes the
  size effect of narrow lines (about 2.5x bulk copper's 1.7 uOhm cm at these
  widths): 4.0 uOhm cm at F = 45 nm (RESPARC) gives 0.89 Ohm, 5.0 uOhm cm at
  F = 32 nm (ISAAC) gives 1.56 Ohm. Both lie in the 0.5 - 3 Ohm range over which
  published crossbar studies sweep the wire resistance (e.g. Tran et al., "A
  Parasitic Resistance-Adapted Programming Scheme for Memristor Crossbar-Based
  Neuromorphic Computing Systems", Materials 12(24):4097, 2019, 0.5 - 3.0 Ohm).
  The geometry is our modelling assumption; a technology file can change it.
* ``levels``: 0 (analog). ISAAC stores a 16-bit weight bit-sliced over 2-bit
  cells and RESPARC-plc programs analog conductances; the circuit model does not
  bit-slice, so the presets read weights at full precision.
* ``sigma``, ``stuck_on_rate``, ``stuck_off_rate``: 0 in the presets, so that
  the shipped environment is deterministic and the crossbar-size trade-off comes
  from the wires alone; set them in a file to study variation and faults.

Validation: every number must be finite; resistances positive; wire
resistances >= 0 (0 is an ideal wire); ``r_off_ohm`` > ``r_on_ohm``; ``levels``
0 or an integer >= 2; ``sigma`` >= 0; stuck-at rates in [0, 1) with their sum
< 1. A bad value raises :class:`DeviceError` naming the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hwmodel.numbers import Bound, check_derived, check_number

VARIATIONS = ("lognormal", "gaussian")


class DeviceError(ValueError):
    """A device description is invalid; the message names the offending field."""


@dataclass(frozen=True)
class DeviceModel:
    """Cells and wires of a technology's crossbars (see the module docstring).

    :param r_on_ohm: lowest cell resistance (the largest |weight|).
    :param r_off_ohm: highest cell resistance (a zero weight, and every unused cell).
    :param wire_row_ohm: resistance of one row (input line) segment between two cells;
        the driver sees one segment before the first cell.
    :param wire_col_ohm: resistance of one column (output line) segment; the column's
        sensing circuit (virtual ground) sees one segment after the first cell.
    :param levels: conductance levels per cell, 0 for analog cells.
    :param sigma: device-to-device variation of each conductance (0: none).
    :param variation: ``"lognormal"`` (G * exp(sigma z)) or ``"gaussian"`` (G * (1 + sigma z)).
    :param stuck_on_rate: fraction of cells stuck at ``1 / r_on_ohm``.
    :param stuck_off_rate: fraction of cells stuck at ``1 / r_off_ohm``.
    :param sources: where each value comes from, by field name.
    """

    r_on_ohm: float
    r_off_ohm: float
    wire_row_ohm: float
    wire_col_ohm: float
    levels: int = 0
    sigma: float = 0.0
    variation: str = "lognormal"
    stuck_on_rate: float = 0.0
    stuck_off_rate: float = 0.0
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def g_on(self) -> float:
        """Largest cell conductance, S."""
        return 1.0 / self.r_on_ohm

    @property
    def g_off(self) -> float:
        """Smallest cell conductance, S (zero weights and unused cells)."""
        return 1.0 / self.r_off_ohm

    @property
    def has_variation(self) -> bool:
        """Whether programming draws random numbers (variation or faults)."""
        return self.sigma > 0 or self.stuck_on_rate > 0 or self.stuck_off_rate > 0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["sources"] = dict(self.sources)
        return d

    def replace(self, **changes: Any) -> DeviceModel:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Any, base: DeviceModel | None = None) -> DeviceModel:
        """A device from a mapping of fields; ``base`` supplies the fields not given.

        :raises DeviceError: not a mapping, unknown or missing key, bad value; the
            message names the field.
        """
        if not isinstance(data, Mapping):
            raise DeviceError(f"expected a mapping of device fields, got {type(data).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        values = base.to_dict() if base is not None else {}
        for key, value in data.items():
            if key not in names:
                raise DeviceError(f"unknown key '{key}' (allowed: {', '.join(names)})")
            values[key] = value
        missing = missing_fields(cls, values)
        if missing:
            raise DeviceError(f"missing key '{missing[0]}'")
        return cls(**values)


MAX_LEVELS = 2**16  # conductance levels: 16 bits is beyond any reported device
#: What each numeric field may hold (see :mod:`hwmodel.numbers`); the resistance ranges
#: keep every conductance and the circuit solve's matrix entries normal floats.
DEVICE_BOUNDS: dict[str, Bound] = {
    "r_on_ohm": Bound(False, 1e-3, 1e12),
    "r_off_ohm": Bound(False, 1e-3, 1e12),
    "wire_row_ohm": Bound(False, 1e-9, 1e6, zero=True),
    "wire_col_ohm": Bound(False, 1e-9, 1e6, zero=True),
    "levels": Bound(True, 2, MAX_LEVELS, zero=True),
    "sigma": Bound(False, 0.0, 4.0),
    "stuck_on_rate": Bound(False, 0.0, 1.0),
    "stuck_off_rate": Bound(False, 0.0, 1.0),
}


def _validate(d: DeviceModel) -> None:
    for name, bound in DEVICE_BOUNDS.items():
        check_number(name, getattr(d, name), bound, DeviceError)
    if d.r_off_ohm <= d.r_on_ohm:
        raise DeviceError(
            f"field 'r_off_ohm' ({d.r_off_ohm!r}) must exceed 'r_on_ohm' ({d.r_on_ohm!r})"
        )
    # Weights are read back through 1 / (g_on - g_off): it must be a finite, positive number.
    check_derived("device", "conductance range 1/r_on_ohm - 1/r_off_ohm", d.g_on - d.g_off,
                  DeviceError)
    if d.variation not in VARIATIONS:
        raise DeviceError(
            f"field 'variation' must be one of {', '.join(VARIATIONS)}, got {d.variation!r}"
        )
    for name in ("stuck_on_rate", "stuck_off_rate"):
        if not getattr(d, name) < 1:
            raise DeviceError(f"field '{name}' must be in [0, 1), got {getattr(d, name)!r}")
    if d.stuck_on_rate + d.stuck_off_rate >= 1:
        raise DeviceError("field 'stuck_off_rate': stuck_on_rate + stuck_off_rate must be < 1")
    if not isinstance(d.sources, Mapping):
        raise DeviceError("field 'sources' must map field names to citations")


# ----------------------------------------------------------------------------- presets
RESPARC_DEVICE_SOURCE = "RESPARC-plc src/compute_energy.py: devices between 20 kOhm and 200 kOhm"
COPPER_BULK_UOHM_CM = 1.7


def wire_segment_ohm(feature_nm: float, resistivity_uohm_cm: float) -> float:
    """One cell-pitch segment of a line of width F, height 2F, pitch 2F: rho * 2F / (F * 2F)."""
    rho = resistivity_uohm_cm * 1e-8  # Ohm m
    f = feature_nm * 1e-9
    return rho * (2 * f) / (f * 2 * f)


def _preset(feature_nm: float, rho: float, note: str) -> DeviceModel:
    wire = wire_segment_ohm(feature_nm, rho)
    geometry = (
        f"copper line, pitch 2F, width F, height 2F at F = {feature_nm:g} nm, effective "
        f"resistivity {rho:g} uOhm cm (size effect, ~{rho / COPPER_BULK_UOHM_CM:.1f}x bulk): "
        f"{wire:.2f} Ohm; within the 0.5-3 Ohm range of Tran et al., Materials 12:4097 (2019)"
    )
    return DeviceModel(
        r_on_ohm=20e3,
        r_off_ohm=200e3,
        wire_row_ohm=wire,
        wire_col_ohm=wire,
        sources={
            "r_on_ohm": RESPARC_DEVICE_SOURCE + note,
            "r_off_ohm": RESPARC_DEVICE_SOURCE + note,
            "wire_row_ohm": geometry,
            "wire_col_ohm": geometry,
            "levels": "analog cells (ISAAC bit-slices 16-bit weights; not modelled)",
            "sigma": "off in the preset (deterministic environment); set in a file",
            "stuck_on_rate": "off in the preset; set in a file",
            "stuck_off_rate": "off in the preset; set in a file",
        },
    )


PRESET_DEVICES: dict[str, DeviceModel] = {
    "resparc": _preset(45.0, 4.0, ""),
    "isaac": _preset(32.0, 5.0, " (ISAAC Table 6 gives no resistances: same range)"),
}


def preset_device(name: str) -> DeviceModel | None:
    """The device of preset ``name``; a ``-legacy`` preset has its current twin's."""
    return PRESET_DEVICES.get(name.removesuffix("-legacy"))


def missing_fields(cls: type, values: Mapping[str, Any]) -> list[str]:
    """Fields of dataclass ``cls`` without a default that ``values`` does not set."""
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
