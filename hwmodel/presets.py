"""The preset technologies, with the scaling rules of the cited simulators.

Everything here is plain data; :mod:`hwmodel.technology` turns ``PRESET_FIELDS``
into :class:`~hwmodel.technology.Technology` objects. The published numbers are
in :mod:`hwmodel.published`; areas mm^2, energies pJ, powers mW, times ns.

Per-crossbar constants at the reference size are split exactly as before (so
the calibration points hold: a RESPARC engine of 4 crossbars of 64 x 64 is
0.0196 mm^2 and 301.87 pJ per evaluation; an ISAAC array with its share of IMA
and tile is 3.41 mW and 0.00384 mm^2 against Table 6's 3.44 mW and 0.00388 mm^2
per array, the rest being the tile's sigmoid, shift-and-add, max-pool and
output register, left out); see :mod:`hwmodel.presets_legacy` for that split.
What changes is how each part scales with N, and what traffic is charged:

========================  ==========================================================
rule                      source
========================  ==========================================================
arrays N^2, drivers N     PUMAsim ``include/constants.py``; MNSIM-2.0
                          ``Hardware_Model/Crossbar.py``; NeuroSim ``SwitchMatrix.cpp``
IF neurons N (fixed       RESPARC-plc ``src/compute_energy_latency_mlp.py`` (fixed
energy per update)        4-bit membrane potential), MLP_NeuroSim ``ReadCircuit.cpp``
ADCs: N conversions per   ISAAC section 5 (bits = log2 rows + 1 at 1-bit DACs, 2-bit
read at bits(N); cost     cells), one 1.28 GS/s ADC per 128 columns (Table 6); per-bit
per bit from one table    table: Accelergy ``library/isaac.py`` IsaacADC (:mod:`hwmodel.adc`)
buffers N^1.2             PUMAsim ``xbar_inMem``/``xbar_outMem`` dicts, N = 32..256:
                          log-log fit 1.22 (area), 1.21 (dynamic power)
fixed crossbars per       RESPARC-plc ``noc_conc = 4`` engines of 4; ISAAC a tile of
router                    96 arrays on a router shared by 4 tiles
spike packets             RESPARC-plc inter-layer: N/128 packets per read, each hop
                          ``(2 * router/4 + link/4) * 14.86 ns`` (one hop charged)
partial sums              RESPARC-plc intra-layer: 4-bit potentials, 128-bit packets,
                          ``(router/4 + link/4) * 14.86 ns`` per packet-hop; ISAAC:
                          16-bit sums, Accelergy IsaacRouter 20.74 pJ per 256 bits +
                          IsaacEDRAMBus 0.054 pJ/bit per hop
========================  ==========================================================

Spiking partial sums are sent every time a crossbar is read (every timestep it
has input spikes, as RESPARC-plc charges them per evaluation); ISAAC's shift-and-
add units accumulate the 16 input-bit cycles locally, so its partial sums move
once per inference.

ISAAC's routing energy per read stays the crossbar's share of the tile's router
and bus power over one 100 ns cycle (Table 6), growing with the N outputs it moves.

Allowed N: RESPARC 8..256, ISAAC 16..256 (PUMAsim's tables reach 256). With these
rules the largest N is the cheapest; what caps it is wire resistance, which the
non-ideal crossbar model and the accuracy floor on it account for.
"""

from __future__ import annotations

from hwmodel import presets_legacy as _legacy
from hwmodel.adc import ACCELERGY_ISAAC_ADC_TABLE
from hwmodel.published import (
    ACCELERGY_SOURCE,
    ISAAC_ADC_BITS,
    ISAAC_BUS_PJ_PER_BIT,
    ISAAC_PARTIAL_SUM_BITS,
    ISAAC_ROUTER_BITS,
    ISAAC_ROUTER_TRANSFER_PJ,
    ISAAC_SOURCE,
    PUMASIM_SOURCE,
    RESPARC_ENGINES_PER_ROUTER,
    RESPARC_HOP_LATENCY_NS,
    RESPARC_LINK_POWER_MW,
    RESPARC_N,
    RESPARC_PACKET_BITS,
    RESPARC_ROUTER_POWER_MW,
    RESPARC_SOURCE,
    RESPARC_VMEM_BITS,
)

#: PUMAsim per-crossbar input + output memory, area and dynamic power against N
#: (log-log fits 1.22 and 1.21; tests/hwmodel/test_presets.py refits them).
BUFFER_SCALING = 1.2
#: Router hops a spike packet is charged between layers (RESPARC-plc charges x + y + 1
#: >= 1 column hops; one is the lower bound, the mapping does not place layers).
SPIKE_HOPS = 1.0

_ROUTER_SHARE_MW = RESPARC_ROUTER_POWER_MW / RESPARC_ENGINES_PER_ROUTER  # per engine
_LINK_SHARE_MW = RESPARC_LINK_POWER_MW / RESPARC_ENGINES_PER_ROUTER
#: RESPARC-plc intra-layer packet-hop: (router_pow + link_pow) per PE x 14.86 ns = 96.96 pJ.
RESPARC_PARTIAL_HOP_PJ = (_ROUTER_SHARE_MW + _LINK_SHARE_MW) * RESPARC_HOP_LATENCY_NS
#: RESPARC-plc inter-layer packet-hop: (2 router_pow + link_pow) per PE x 14.86 ns = 182.8 pJ.
RESPARC_SPIKE_HOP_PJ = (2 * _ROUTER_SHARE_MW + _LINK_SHARE_MW) * RESPARC_HOP_LATENCY_NS
#: ISAAC partial-sum packet-hop: one router transfer and the bus for 256 bits = 34.56 pJ.
ISAAC_HOP_PJ = ISAAC_ROUTER_TRANSFER_PJ + ISAAC_BUS_PJ_PER_BIT * ISAAC_ROUTER_BITS


#: Largest N whose scaling the sources cover (PUMAsim's buffer table runs to 256). What
#: caps N for a network is no longer this limit but the floor on the non-ideal
#: crossbars (hwmodel.crossbar_circuit): dense and pruned mnist networks break it at 256.
MAX_CROSSBAR = 256
MAX_CROSSBAR_SOURCE = (
    PUMASIM_SOURCE + ": in/out buffer tables for N = 32..256; reliability is left to the "
    "non-ideal crossbar model (wire resistance), which the floor is checked on"
)


def _resparc() -> dict:
    f = _legacy._resparc()  # the calibrated per-crossbar split at N = 64
    f.update(
        name="resparc",
        description="RESPARC-like spiking design: memristive crossbars (64x64 reference), "
        "4 per engine, 16 per router, IF neurons, NoC partial sums (45 nm).",
        column_scaling=1.0,
        buffer_scaling=BUFFER_SCALING,
        router_group_scaling=0.0,
        routing_energy_pj=RESPARC_N / RESPARC_PACKET_BITS * SPIKE_HOPS * RESPARC_SPIKE_HOP_PJ,
        partial_sum_bits=RESPARC_VMEM_BITS,
        packet_bits=RESPARC_PACKET_BITS,
        hop_energy_pj=RESPARC_PARTIAL_HOP_PJ,
        max_crossbar=MAX_CROSSBAR,
    )
    f["sources"] = dict(f["sources"]) | {
        "column_scaling": RESPARC_SOURCE + ": fixed 4-bit membrane potential, fixed energy "
        "per neuron update (MLP_NeuroSim ReadCircuit.cpp likewise): neurons scale with N",
        "buffer_scaling": PUMASIM_SOURCE + ": log-log fit of area 1.22, power 1.21",
        "router_group_scaling": RESPARC_SOURCE + ": noc_conc = 4 engines per router, fixed",
        "routing_energy_pj": RESPARC_SOURCE + ": inter-layer N/128 packets per read x "
        "(2 x 23.1/4 + 3/4) mW x 14.86 ns per hop (booksim 2x2 cmesh), one hop",
        "partial_sum_bits": RESPARC_SOURCE + ": vmem_precision = 4",
        "packet_bits": RESPARC_SOURCE + ": packet_width = 128",
        "hop_energy_pj": RESPARC_SOURCE + ": intra-layer (23.1/4 + 3/4) mW x 14.86 ns",
        "max_crossbar": MAX_CROSSBAR_SOURCE,
    }
    return f


def _isaac() -> dict:
    f = _legacy._isaac()  # the Table 6 per-array split at N = 128
    f.update(
        name="isaac",
        description="ISAAC-like ADC design: 128x128 reference arrays, 1-bit DACs, one ADC "
        "per 128 columns with log2(N)+1 bits, 96 arrays per tile and router share (32 nm).",
        column_scaling=1.0,
        adc_bits=ISAAC_ADC_BITS,
        adc_table=ACCELERGY_ISAAC_ADC_TABLE,
        buffer_scaling=BUFFER_SCALING,
        router_group_scaling=0.0,
        partial_sum_bits=ISAAC_PARTIAL_SUM_BITS,
        packet_bits=ISAAC_ROUTER_BITS,
        hop_energy_pj=ISAAC_HOP_PJ,
        max_crossbar=MAX_CROSSBAR,
    )
    f["sources"] = dict(f["sources"]) | {
        "column_scaling": ISAAC_SOURCE + ": one 1.28 GS/s ADC converts 128 columns per 100 ns;"
        " N columns need N conversions",
        "adc_bits": "ISAAC section 5: log2(128) + 1 = 8 bits at 1-bit DACs, 2-bit cells",
        "adc_table": ACCELERGY_SOURCE + ": IsaacADC energy and area for 4..10 bits",
        "buffer_scaling": PUMASIM_SOURCE + ": log-log fit of area 1.22, power 1.21",
        "router_group_scaling": ISAAC_SOURCE + ": 96 arrays per tile, fixed",
        "partial_sum_bits": ACCELERGY_SOURCE + ": IsaacShiftAdd width 16",
        "packet_bits": ACCELERGY_SOURCE + ": IsaacRouter width 256",
        "hop_energy_pj": ACCELERGY_SOURCE + ": IsaacRouter 20.74 pJ per transfer + "
        "IsaacEDRAMBus 0.054 pJ/bit x 256",
        "max_crossbar": MAX_CROSSBAR_SOURCE,
    }
    return f


PRESET_FIELDS: dict[str, dict] = {"resparc": _resparc(), "isaac": _isaac(),
                                  **_legacy.LEGACY_FIELDS}
