"""Validation of a technology's fields: every error names the offending field.

Called by :class:`hwmodel.technology.Technology` on construction, so presets,
``replace`` and files are checked the same way. Every number has a type and a range
(:data:`BOUNDS`, listed in docs/hardware-model.md):

======================================  =======  ===========================
fields                                  type     allowed
======================================  =======  ===========================
min_crossbar, max_crossbar,             integer  1 .. 4096
reference_crossbar
timesteps                               integer  1 .. 100000
crossbars_per_router                    integer  1 .. 1000000
adc_bits                                integer  0 (off) or 1 .. 32
packet_bits                             integer  1 .. 4096
spike_probability                       number   1e-12 .. 1
``*_area_mm2``, ``*_energy_pj``         number   1e-12 .. 1e12
hop_energy_pj                           number   0 (off) or 1e-12 .. 1e12
partial_sum_bits                        number   0 (off) or 1 .. 4096
``*_scaling`` (exponents of N)          number   0 .. 8
adc_table rows                          bits an integer 1 .. 64; energy and
                                        area numbers 1e-12 .. 1e12
======================================  =======  ===========================

The ranges keep every derived quantity a normal float: with N and N_ref in 1..4096 a
scaling term ``(N / N_ref) ** e`` lies in 2^-96 .. 2^96, so a cost term is within
1e-41 .. 1e41, never 0 or infinite. :func:`validate` still computes the per-crossbar
costs at the smallest, the reference and the largest N (power laws are monotone in
N, so these bound every size) and asserts them finite and positive, as the costing
does again where it uses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from hwmodel.adc import adc_bits
from hwmodel.devices import DeviceModel
from hwmodel.numbers import Bound, check_derived, check_number, show

KINDS = ("spiking", "adc")


class TechnologyError(ValueError):
    """A technology description is invalid; the message names the offending field."""


#: A cost constant: mm^2 or pJ. The range spans every cited design with decades to spare.
COST = Bound(False, 1e-12, 1e12)
#: An exponent of N: no cited component grows faster than N^2.
EXPONENT = Bound(False, 0.0, 8.0)
#: Largest crossbar size: the mapping loops run once per size and ADC row per bit.
MAX_SIZE = 4096
SIZE = Bound(True, 1, MAX_SIZE)

BOUNDS: dict[str, Bound] = {
    "min_crossbar": SIZE,
    "max_crossbar": SIZE,
    "reference_crossbar": SIZE,
    "timesteps": Bound(True, 1, 100_000),
    "spike_probability": Bound(False, 1e-12, 1.0),
    "crossbars_per_router": Bound(True, 1, 1_000_000),
    "adc_bits": Bound(True, 1, 32, zero=True),
    "packet_bits": Bound(True, 1, 4096),
    "partial_sum_bits": Bound(False, 1, 4096, zero=True),
    "hop_energy_pj": Bound(False, COST.low, COST.high, zero=True),
    "array_scaling": EXPONENT,
    "driver_scaling": EXPONENT,
    "column_scaling": EXPONENT,
    "buffer_scaling": EXPONENT,
    "routing_scaling": EXPONENT,
    "router_group_scaling": EXPONENT,
}
_NOT_NUMBERS = ("name", "kind", "description", "sources", "adc_table", "device")


def bound_of(name: str) -> Bound:
    """The :class:`Bound` of numeric field ``name`` (cost constants: :data:`COST`)."""
    return BOUNDS.get(name, COST)


def validate(t) -> None:
    """Raise :class:`TechnologyError` naming the first invalid field of ``t``."""
    if not isinstance(t.name, str) or not t.name:
        raise TechnologyError(f"field 'name' must be a non-empty string, got {show(t.name)}")
    if not isinstance(t.kind, str) or t.kind not in KINDS:
        raise TechnologyError(f"field 'kind' must be one of {', '.join(KINDS)}, got {show(t.kind)}")
    for f in dataclasses.fields(t):
        if f.name not in _NOT_NUMBERS:
            check_number(f.name, getattr(t, f.name), bound_of(f.name), TechnologyError)
    if t.min_crossbar > t.max_crossbar:
        raise TechnologyError(
            f"field 'min_crossbar' ({t.min_crossbar}) exceeds 'max_crossbar' ({t.max_crossbar})"
        )
    if t.adc_bits:
        validate_adc(t)
    if t.device is not None and not isinstance(t.device, DeviceModel):
        raise TechnologyError("field 'device' must be a DeviceModel or None")
    if t.partial_sum_bits and not t.hop_energy_pj:
        raise TechnologyError("field 'hop_energy_pj' must be positive when partial sums are "
                              "charged (partial_sum_bits > 0)")
    if not isinstance(t.description, str):
        raise TechnologyError("field 'description' must be a string")
    if not isinstance(t.sources, Mapping):
        raise TechnologyError("field 'sources' must map field names to citations")
    for n in sorted({t.min_crossbar, t.reference_crossbar, t.max_crossbar}):
        # Each method asserts its own terms finite and positive (check_term).
        t.crossbar_area_mm2(n)
        t.read_energy_pj(n)
        t.router_group(n)
    t.partial_sum_energy_pj()


def check_term(t, quantity: str, value: float, zero: bool = False) -> float:
    """``value`` if finite and positive (``>= 0`` with ``zero``), else :class:`TechnologyError`.

    :param t: the technology (named in the message).
    :param quantity: what ``value`` is, e.g. ``"arrays area at N=16"``.
    """
    return check_derived(f"technology '{t.name}'", quantity, value, TechnologyError, zero)


def validate_adc(t) -> None:
    """The ADC table must hold the resolution of every allowed crossbar size."""
    have = {row[0] for row in t.adc_table}
    need = sorted({adc_bits(n, t.reference_crossbar, t.adc_bits)
                   for n in range(t.min_crossbar, t.max_crossbar + 1)} | {t.adc_bits})
    missing = [b for b in need if b not in have]
    if missing:
        raise TechnologyError(
            f"field 'adc_table' lacks the {missing[0]}-bit row: crossbar sizes "
            f"{t.min_crossbar}..{t.max_crossbar} need ADCs of {need[0]}..{need[-1]} bits "
            f"(adc_bits {t.adc_bits} at N = {t.reference_crossbar})"
        )
