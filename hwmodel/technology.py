"""Description of a memristive crossbar technology and how its costs scale with N.

A :class:`Technology` gives, for one crossbar at a reference size ``N_ref``, the
area and the energy of one full read (every row driven) of each component,
and an exponent saying how the component scales with the crossbar size N:

============  =================================================  =================
component     what                                               default scaling
============  =================================================  =================
arrays        the memristor cells and their read current         N^2
drivers       one row driver (or input DAC) per row              N
neurons /     one integrate-and-fire neuron (spiking) or the     N (times the ADC
adcs          column sensing and ADCs (adc) per column           per-bit factor)
buffers       input/output buffers holding a crossbar's N        N (``buffer_scaling``)
              inputs and N outputs
control       the fixed part of a crossbar: control logic        1 (fixed)
routing       router + link per group of crossbars; per read,    per group (area);
              the energy of moving the crossbar's N outputs      N (energy)
partial_sums  energy of the partial sums a crossbar sends to     per transfer-hop
              outputs spanning several crossbars (energy only)
============  =================================================  =================

so that a component worth ``x`` at ``N_ref`` is worth ``x * (N / N_ref) ** e`` at N.
With ``adc_bits > 0`` the column component is also multiplied by the ADC's cost at
``bits(N)`` over its cost at ``adc_bits`` (one bit per doubling of rows, from the
per-bit table ``adc_table``: :mod:`hwmodel.adc`), area and energy separately.
A router group holds ``crossbars_per_router`` crossbars at ``N_ref`` and, with
``router_group_scaling = g``, ``crossbars_per_router * (N_ref / N) ** g`` at N:
``g = 0`` (the default, as every cited simulator has it) gives a fixed number of
crossbars per router. A partial sum of ``partial_sum_bits`` bits costs
``partial_sum_bits / packet_bits * hop_energy_pj`` per router hop
(:mod:`hwmodel.routing`); ``partial_sum_bits = 0`` leaves partial sums uncharged.
Each preset documents its choices (see :mod:`hwmodel.presets`; the rules this
module had first are the ``*-legacy`` presets of
:mod:`hwmodel.presets_legacy`). Areas are mm^2 and energies pJ. ``min_crossbar`` and
``max_crossbar`` bound the sizes the technology can build reliably (IR drop and
sneak paths cap N) and over which its scaling is trusted.

``get_technology`` accepts a preset name, a :class:`Technology`, or a YAML/JSON file
holding the fields below; a file may name a preset as ``base`` and override only
some fields. Unknown or missing keys, a value of the wrong type (an integer field
takes an integer; no booleans or text for numbers) and a value outside its range
(:data:`hwmodel.technology_checks.BOUNDS`) are errors that name the file, the field,
the value and what is allowed; the derived costs are asserted finite and positive
where they are computed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwmodel import presets as _presets
from hwmodel.adc import adc_bits, adc_factors, normalize_table
from hwmodel.devices import DeviceError, DeviceModel, missing_fields, preset_device
from hwmodel.numbers import integer_valued, show
from hwmodel.safeload import DocumentError, load_document
from hwmodel.technology_checks import KINDS, TechnologyError, check_term, validate

__all__ = ["COMPONENTS", "DEFAULT_TECHNOLOGY", "KINDS", "PRESETS", "Technology", "TechnologyError",
           "get_technology", "load_technology"]

#: Per-crossbar components, in reporting order; the column one is named by kind.
MAX_TECHNOLOGY_BYTES = 2**20  # a technology file is a few kilobytes
COMPONENTS = ("arrays", "drivers", "neurons", "adcs", "buffers", "control", "routing",
              "partial_sums")


@dataclass(frozen=True)
class Technology:
    """A memristive crossbar technology with its peripherals.

    :param name: short name, used in tables.
    :param kind: ``"spiking"`` (event-driven, integrate-and-fire neurons on the columns)
        or ``"adc"`` (every crossbar evaluated each cycle, columns read by ADCs).
    :param min_crossbar: smallest allowed crossbar size N.
    :param max_crossbar: largest allowed N (reliable operation).
    :param reference_crossbar: the N at which the per-crossbar constants are given.
    :param timesteps: crossbar evaluation steps per inference: SNN timesteps (spiking)
        or input-bit cycles (adc).
    :param spike_probability: per input per timestep, used when no activity is measured.
    :param crossbars_per_router: crossbars sharing one router and link at
        ``reference_crossbar`` (see ``router_group_scaling``).
    :param array_area_mm2: memristor array area at ``reference_crossbar``.
    :param driver_area_mm2: row drivers (DACs) of one crossbar.
    :param column_area_mm2: column neurons (spiking) or ADCs and sample-and-hold (adc).
    :param buffer_area_mm2: a crossbar's input and output buffers.
    :param control_area_mm2: a crossbar's control logic (fixed per crossbar).
    :param array_energy_pj: array read energy of one full read (every row driven).
    :param driver_energy_pj: row drivers' energy of one full read.
    :param column_energy_pj: column neurons' or ADCs' energy of one read.
    :param buffer_energy_pj: buffers' energy of one read.
    :param control_energy_pj: control energy of one read (fixed per crossbar).
    :param router_area_mm2: one router.
    :param link_area_mm2: one router's links.
    :param routing_energy_pj: routing energy per crossbar read (moving its outputs).
    :param array_scaling: exponent of N for the arrays (area and energy).
    :param driver_scaling: exponent of N for the drivers.
    :param column_scaling: exponent of N for the neurons or ADCs.
    :param buffer_scaling: exponent of N for the buffers.
    :param routing_scaling: exponent of N for the routing energy per read.
    :param router_group_scaling: exponent of ``N_ref / N`` for the crossbars per router.
    :param adc_bits: ADC resolution at ``reference_crossbar`` (0: no resolution scaling).
    :param adc_table: rows ``(bits, energy pJ per conversion, area um^2)`` of one cited ADC
        model; only ratios to the ``adc_bits`` row are used.
    :param partial_sum_bits: bits of one partial sum sent between crossbars (0: uncharged).
    :param packet_bits: payload bits of one network packet.
    :param hop_energy_pj: energy of one packet over one router hop (router and link).
    :param device: the cells and wires (:class:`~hwmodel.devices.DeviceModel`) that make
        the crossbars' dot products inexact; ``None`` for ideal crossbars. A file sets it
        as a ``device:`` mapping (over the ``base`` preset's device, if any).
    :param description: free text.
    :param sources: where each constant comes from, by field name.
    """

    name: str
    kind: str
    min_crossbar: int
    max_crossbar: int
    reference_crossbar: int
    timesteps: int
    spike_probability: float
    crossbars_per_router: int
    array_area_mm2: float
    driver_area_mm2: float
    column_area_mm2: float
    buffer_area_mm2: float
    control_area_mm2: float
    array_energy_pj: float
    driver_energy_pj: float
    column_energy_pj: float
    buffer_energy_pj: float
    control_energy_pj: float
    router_area_mm2: float
    link_area_mm2: float
    routing_energy_pj: float
    array_scaling: float = 2.0
    driver_scaling: float = 1.0
    column_scaling: float = 1.0
    buffer_scaling: float = 1.0
    routing_scaling: float = 1.0
    router_group_scaling: float = 0.0
    adc_bits: int = 0
    adc_table: tuple = ()
    partial_sum_bits: float = 0.0
    packet_bits: int = 128
    hop_energy_pj: float = 0.0
    device: DeviceModel | None = None
    description: str = ""
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "adc_table", normalize_table(self.adc_table))
        except (TypeError, ValueError) as exc:
            raise TechnologyError(str(exc) if "adc_table" in str(exc) else
                                  f"field 'adc_table' is not a table ({exc})") from None
        validate(self)

    # ------------------------------------------------------------------ sizes and scaling

    @property
    def column_component(self) -> str:
        """Name of the column component: ``"neurons"`` (spiking) or ``"adcs"`` (adc)."""
        return "neurons" if self.kind == "spiking" else "adcs"

    @property
    def components(self) -> tuple[str, ...]:
        """Component names used in breakdowns, in reporting order."""
        return ("arrays", "drivers", self.column_component, "buffers", "control", "routing",
                "partial_sums")

    def check_crossbar_size(self, n: Any) -> int:
        """Return ``n`` as an int; raise ``ValueError`` naming the allowed range otherwise.

        :param n: a crossbar size N (an integer, or a float with an integer value).
        """
        if not integer_valued(n):
            raise ValueError(f"crossbar size must be an integer, got {n!r}")
        if not self.min_crossbar <= n <= self.max_crossbar:
            raise ValueError(
                f"crossbar size {int(n)} is outside the range {self.min_crossbar}.."
                f"{self.max_crossbar} allowed by technology '{self.name}'"
            )
        return int(n)

    def _scale(self, n: int, exponent: float) -> float:
        try:
            return (n / self.reference_crossbar) ** exponent
        except OverflowError:  # float ** raises where * gives inf: let check_term name it
            return math.inf

    def _term(self, what: str, n: int, constant: float, factor: float) -> float:
        """``constant * factor``, asserted finite and positive (see ``check_term``)."""
        return check_term(self, f"{what} at N={n}", constant * factor)

    def adc_bits_at(self, n: int) -> int:
        """ADC resolution for ``n`` rows (0 when the technology has no ADC scaling)."""
        return adc_bits(n, self.reference_crossbar, self.adc_bits) if self.adc_bits else 0

    def _column(self, n: int) -> tuple[float, float]:
        """``(energy, area)`` multipliers of the column component at ``n``."""
        s = self._scale(n, self.column_scaling)
        if not self.adc_bits:
            return s, s
        e, a = adc_factors(n, self.reference_crossbar, self.adc_bits, self.adc_table)
        return s * e, s * a

    def partial_sum_energy_pj(self) -> float:
        """Energy of one partial sum over one router hop."""
        energy = self.partial_sum_bits / self.packet_bits * self.hop_energy_pj
        return check_term(self, "partial-sum energy per hop", energy,
                          zero=not self.partial_sum_bits)

    def crossbar_area_mm2(self, n: int) -> dict[str, float]:
        """Area of one N x N crossbar with its own peripherals, by component (no routing).

        :param n: crossbar size N.
        """
        col = self.column_component
        return {
            "arrays": self._term("arrays area", n, self.array_area_mm2,
                                 self._scale(n, self.array_scaling)),
            "drivers": self._term("drivers area", n, self.driver_area_mm2,
                                  self._scale(n, self.driver_scaling)),
            col: self._term(f"{col} area", n, self.column_area_mm2, self._column(n)[1]),
            "buffers": self._term("buffers area", n, self.buffer_area_mm2,
                                  self._scale(n, self.buffer_scaling)),
            "control": self._term("control area", n, self.control_area_mm2, 1.0),
        }

    def read_energy_pj(self, n: int) -> dict[str, float]:
        """Energy of one full read of an N x N crossbar (every row driven), by component.

        :param n: crossbar size N.
        """
        col = self.column_component
        return {
            "arrays": self._term("arrays read energy", n, self.array_energy_pj,
                                 self._scale(n, self.array_scaling)),
            "drivers": self._term("drivers read energy", n, self.driver_energy_pj,
                                  self._scale(n, self.driver_scaling)),
            col: self._term(f"{col} read energy", n, self.column_energy_pj, self._column(n)[0]),
            "buffers": self._term("buffers read energy", n, self.buffer_energy_pj,
                                  self._scale(n, self.buffer_scaling)),
            "control": self._term("control read energy", n, self.control_energy_pj, 1.0),
            "routing": self._term("routing read energy", n, self.routing_energy_pj,
                                  self._scale(n, self.routing_scaling)),
        }

    def router_group(self, n: int) -> float:
        """Crossbars of size ``n`` that share one router and its links."""
        scale = check_term(self, f"router group scaling term at N={n}",
                           self._scale(n, self.router_group_scaling))
        return check_term(self, f"crossbars per router at N={n}", self.crossbars_per_router / scale)

    def n_routers(self, n_crossbars: int, n: int | None = None) -> int:
        """Routers (each with its links) serving ``n_crossbars`` crossbars of size ``n``.

        :param n_crossbars: crossbars to serve.
        :param n: their size N (default: the reference size).
        """
        group = self.router_group(self.reference_crossbar if n is None else n)
        # The epsilon keeps exact multiples from rounding up after the float division.
        return math.ceil(int(n_crossbars) / group - 1e-9) if n_crossbars > 0 else 0

    def routing_area_mm2(self, n_crossbars: int, n: int | None = None) -> float:
        """Area of the routers and links serving ``n_crossbars`` crossbars of size ``n``."""
        return self.n_routers(n_crossbars, n) * (self.router_area_mm2 + self.link_area_mm2)

    # --------------------------------------------------------------------- serialisation

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain JSON/YAML values (``from_dict`` reads it back)."""
        d = dataclasses.asdict(self)
        d["sources"] = dict(self.sources)
        d["adc_table"] = [list(row) for row in self.adc_table]
        d["device"] = self.device.to_dict() if self.device is not None else None
        return d

    def replace(self, **changes: Any) -> Technology:
        """A copy with some fields changed (validated like any technology)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: object, origin: str = "technology") -> Technology:
        """Build a technology from a mapping of field values, validating every key.

        :param data: field values; ``base`` may name a preset to take missing fields from.
        :param origin: where the data came from, for error messages.
        :raises TechnologyError: unknown or missing key, bad value.
        """
        if not isinstance(data, Mapping):
            kind = type(data).__name__
            raise TechnologyError(f"{origin}: expected a mapping of fields, got {kind}")
        names = [f.name for f in dataclasses.fields(cls)]
        values: dict[str, Any] = {}
        if "base" in data:
            base = data["base"]
            if not isinstance(base, str) or base not in _presets.PRESET_FIELDS:
                known = ", ".join(_presets.PRESET_FIELDS)
                raise TechnologyError(
                    f"{origin}: field 'base' must name a preset ({known}), got {show(base)}"
                )
            values.update(_presets.PRESET_FIELDS[base])
            values["device"] = preset_device(base)
        for key, value in data.items():
            if key == "base":
                continue
            if key == "device":
                values[key] = _device(value, values.get("device"), origin)
                continue
            if key not in names:
                raise TechnologyError(
                    f"{origin}: unknown key {show(key)} (allowed: base, {', '.join(names)})"
                )
            values[key] = value
        missing = missing_fields(cls, values)
        if missing:
            raise TechnologyError(f"{origin}: missing key '{missing[0]}'" + (
                f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1
                else ""))
        try:
            return cls(**values)
        except TechnologyError as exc:
            raise TechnologyError(f"{origin}: {exc}") from None


def _device(value: Any, base: DeviceModel | None, origin: str) -> DeviceModel | None:
    """A technology file's ``device:`` entry (None: ideal crossbars) over ``base``."""
    if value is None or isinstance(value, DeviceModel):
        return value
    if not isinstance(value, Mapping):
        raise TechnologyError(f"{origin}: field 'device' must be a mapping of device fields or "
                              f"null (ideal crossbars), got {show(value)}")
    try:
        return DeviceModel.from_dict(value, base)
    except DeviceError as exc:
        msg = str(exc).replace("field '", "field 'device.", 1).replace("key '", "key 'device.", 1)
        raise TechnologyError(f"{origin}: {msg}") from None


def load_technology(path: str | Path) -> Technology:
    """Read a technology from a ``.yaml``/``.yml`` or ``.json`` file.

    :param path: the file; its top level is a mapping of :class:`Technology` fields,
        optionally with ``base: <preset>``.
    :raises TechnologyError: unreadable file, bad syntax, or an invalid field.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise TechnologyError(f"{p}: technology files must end in .yaml, .yml or .json")
    try:  # size, depth, alias, tag and duplicate-key limits: one reader for user files
        data = load_document(p, max_bytes=MAX_TECHNOLOGY_BYTES)
    except DocumentError as exc:
        raise TechnologyError(str(exc)) from None
    return Technology.from_dict(data if data is not None else {}, origin=str(p))


PRESETS: dict[str, Technology] = {
    name: Technology(**fields, device=preset_device(name))
    for name, fields in _presets.PRESET_FIELDS.items()
}
#: The preset every command and the environment use unless told otherwise.
DEFAULT_TECHNOLOGY = "resparc"


def preset_names() -> str:
    """The preset names, comma-separated, for help texts and error messages."""
    return ", ".join(PRESETS)


def get_technology(name_or_path: str | Path | Technology) -> Technology:
    """A technology from a preset name, a YAML/JSON file, or a :class:`Technology` itself.

    :param name_or_path: ``"resparc"``, ``"isaac"``, a path to a technology file, or a
        :class:`Technology` (returned unchanged).
    :raises TechnologyError: unknown name, or an invalid file.
    """
    if isinstance(name_or_path, Technology):
        return name_or_path
    key = str(name_or_path)
    if key.lower() in PRESETS:
        return PRESETS[key.lower()]
    if isinstance(name_or_path, Path) or Path(key).suffix.lower() in (".yaml", ".yml", ".json"):
        return load_technology(key)
    raise TechnologyError(
        f"unknown technology {key!r}: use a preset ({preset_names()}) or a .yaml/.json file"
    )
