"""ADC resolution as a function of crossbar rows, and the cost of one more bit.

ISAAC (Shafiee et al., ISCA 2016, section 5 "the ADC resolution") sizes the ADC
to the array: a column sums up to N rows, so a full-precision read needs one more
bit per doubling of rows. With 1-bit inputs, 2-bit cells and ISAAC's encoding
trick that saves a bit, a 128-row array needs 8 bits: ``bits(N) = log2(N) + 1``.
In general, for a technology whose ADC has ``b_ref`` bits at ``N_ref`` rows::

    bits(N) = b_ref + ceil(log2(N / N_ref))

(rounded up, so a size between two powers of two gets the larger ADC).

How much a bit costs differs between ADC designs (docs/references.md); a technology
takes ONE table of energy per conversion and area per ADC against resolution,
area and energy separately, and the column component at N is its value at
``N_ref`` times ``table(bits(N)) / table(b_ref)``. The ISAAC preset uses the table
of Accelergy's ISAAC ADC model (hwcomponents-library ``library/isaac.py``,
``IsaacADC``: 8-bit point from ISAAC Table 6 / Kull et al. ISSCC 2013, other
resolutions scaled after Saberi et al. 2011), :data:`ACCELERGY_ISAAC_ADC_TABLE`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hwmodel.numbers import Bound, check_number, show

#: (bits, energy per conversion pJ, area um^2) at 32 nm, 1.2 GS/s: Accelergy
#: hwcomponents-library ``hwcomponents_library/library/isaac.py`` (IsaacADC table,
#: 4..10 bits). Between 4 and 8 bits energy grows 1.19-1.24x per bit and area
#: 1.32-1.42x per bit; 9 and 10 bits grow faster.
ACCELERGY_ISAAC_ADC_TABLE: tuple[tuple[int, float, float], ...] = (
    (4, 0.79, 361.04),
    (5, 0.99, 476.91),
    (6, 1.20, 626.91),
    (7, 1.42, 845.18),
    (8, 1.666666667, 1200.0),
    (9, 1.969078145, 1827.911647),
    (10, 2.379022742, 3002.008032),
)


def adc_bits(n: int, reference_crossbar: int, reference_bits: int) -> int:
    """ADC resolution for ``n`` rows: one bit per doubling of rows (ISAAC).

    >>> [adc_bits(n, 128, 8) for n in (16, 32, 64, 100, 128)]
    [5, 6, 7, 8, 8]
    """
    return int(reference_bits + math.ceil(math.log2(n / reference_crossbar) - 1e-9))


def table_lookup(table: Sequence[Sequence[float]], bits: int) -> tuple[float, float]:
    """``(energy, area)`` of the table's row for ``bits``; ``KeyError`` when absent."""
    for row in table:
        if int(row[0]) == bits:
            return float(row[1]), float(row[2])
    raise KeyError(bits)


def adc_factors(
    n: int, reference_crossbar: int, reference_bits: int, table: Sequence[Sequence[float]]
) -> tuple[float, float]:
    """``(energy, area)`` of an ADC for ``n`` rows relative to the reference ADC.

    >>> e, a = adc_factors(64, 128, 8, ACCELERGY_ISAAC_ADC_TABLE)
    >>> round(e, 3), round(a, 3)
    (0.852, 0.704)
    """
    e, a = table_lookup(table, adc_bits(n, reference_crossbar, reference_bits))
    e0, a0 = table_lookup(table, reference_bits)
    return e / e0, a / a0


#: What an ``adc_table`` row may hold (see :mod:`hwmodel.numbers`).
TABLE_BITS = Bound(True, 1, 64)
TABLE_COST = Bound(False, 1e-12, 1e12)


def normalize_table(value, field: str = "adc_table") -> tuple[tuple[int, float, float], ...]:
    """A table given as rows ``[bits, energy, area]`` or a mapping ``bits: [energy, area]``
    (as YAML/JSON write it) as a sorted tuple of ``(int, float, float)`` rows.

    Cells are not coerced: bits must be an integer (a mapping's key may also be its
    decimal spelling, as JSON writes keys), energy and area numbers, within
    :data:`TABLE_BITS` and :data:`TABLE_COST`.

    :raises ValueError: a malformed row; the message names ``field`` and the cell.
    """
    if isinstance(value, dict):
        rows = [(_key(k), *v) if isinstance(v, (list, tuple)) else (k, v)
                for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        rows = list(value)
    else:
        raise ValueError(f"field '{field}' must be a list of rows [bits, energy_pj, area_um2] "
                         f"or a mapping bits: [energy_pj, area_um2], got {show(value)}")
    out = []
    for row in rows:
        if not isinstance(row, (list, tuple)) or len(row) != 3:
            raise ValueError(f"field '{field}' rows must be [bits, energy_pj, area_um2], "
                             f"got {show(row)}")
        for i, (cell, bound) in enumerate(zip(row, (TABLE_BITS, TABLE_COST, TABLE_COST),
                                              strict=True)):
            label = ("bits", "energy_pj", "area_um2")[i]
            check_number(label, cell, bound, ValueError,
                         f"field '{field}' row {show(list(row), 80)}: {label}")
        out.append((int(row[0]), float(row[1]), float(row[2])))
    resolutions = [r[0] for r in out]
    if len(set(resolutions)) != len(resolutions):
        raise ValueError(f"field '{field}' lists a resolution twice")
    return tuple(sorted(out))


def _key(key: object) -> object:
    """A mapping key that spells a small decimal integer ("8", as JSON keys are) as int."""
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 2:
        return int(key)
    return key
