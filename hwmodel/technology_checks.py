"""Validation of a technology's fields: every error names the offending field.

Called by :class:`hwmodel.technology.Technology` on construction, so presets,
``replace`` and files are checked the same way.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from hwmodel.adc import adc_bits
from hwmodel.devices import DeviceModel

KINDS = ("spiking", "adc")


class TechnologyError(ValueError):
    """A technology description is invalid; the message names the offending field."""


_INT_FIELDS = ("min_crossbar", "max_crossbar", "reference_crossbar", "timesteps",
               "crossbars_per_router", "adc_bits", "packet_bits")
# Upper bounds of the integer fields: larger values pass every other check but make the
# mapping loops (one pass per crossbar size, ADC table rows per bit) spin or overflow.
_INT_LIMITS = {"min_crossbar": 4096, "max_crossbar": 4096, "reference_crossbar": 4096,
               "timesteps": 100_000, "crossbars_per_router": 1_000_000, "adc_bits": 32,
               "packet_bits": 4096}
# Fields that may be 0 (exponents; 0 turns the ADC or partial-sum rule off).
_SCALING_FIELDS = ("array_scaling", "driver_scaling", "column_scaling", "buffer_scaling",
                   "routing_scaling", "router_group_scaling", "adc_bits", "partial_sum_bits",
                   "hop_energy_pj")


def validate(t) -> None:
    """Raise :class:`TechnologyError` naming the first invalid field of ``t``."""
    if not isinstance(t.name, str) or not t.name:
        raise TechnologyError("field 'name' must be a non-empty string")
    if t.kind not in KINDS:
        raise TechnologyError(f"field 'kind' must be one of {', '.join(KINDS)}, got {t.kind!r}")
    for f in dataclasses.fields(t):
        value = getattr(t, f.name)
        if f.name in ("name", "kind", "description", "sources", "adc_table", "device"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TechnologyError(f"field '{f.name}' must be a number, got {value!r}")
        if not math.isfinite(value):
            raise TechnologyError(f"field '{f.name}' must be finite, got {value!r}")
        if f.name in _INT_FIELDS and int(value) != value:
            raise TechnologyError(f"field '{f.name}' must be an integer, got {value!r}")
        if f.name in _INT_LIMITS and value > _INT_LIMITS[f.name]:
            raise TechnologyError(
                f"field '{f.name}' must be at most {_INT_LIMITS[f.name]}, got {value!r}"
            )
        if f.name in _SCALING_FIELDS:
            if value < 0:
                raise TechnologyError(f"field '{f.name}' must be >= 0, got {value!r}")
        elif value <= 0:
            raise TechnologyError(f"field '{f.name}' must be positive, got {value!r}")
    if t.spike_probability > 1:
        raise TechnologyError(
            f"field 'spike_probability' must be in (0, 1], got {t.spike_probability!r}"
        )
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
