"""The rules of the first model, kept as presets ``resparc-legacy`` and ``isaac-legacy``.

These scaling rules are NOT what the cited simulators do: column
circuits grow as N^2 and a router serves ``16 * 64 / N`` crossbars, routing
energy is one 1 ns router + link traversal per packet and partial sums are not
charged. They are kept, with their constants, so results under the old model
can be reproduced and compared (``--technology resparc-legacy``). The current
presets are in :mod:`hwmodel.presets`.

Everything here is plain data; :mod:`hwmodel.technology` turns them into
:class:`~hwmodel.technology.Technology` objects. Constants are per crossbar at
the preset's reference size; areas mm^2, energies pJ, powers mW, times ns.

RESPARC (spiking)
-----------------
Source: the RESPARC follow-on model (github Aayush-Ankit/RESPARC-plc,
``src/compute_energy_latency_mlp.py``): a processing engine of 4 crossbars of
64 x 64 draws 3.0187 mW, occupies 0.0196 mm^2 and evaluates in 100 ns, i.e.
301.87 pJ per engine evaluation; a router (23.1 mW, 0.0259 mm^2) and its link
(3 mW, 0.00996 mm^2) serve 4 engines; router and link take 1 ns per packet of
128 bits. Older terms of the same model (``src/compute_energy.py``): read
power N^2 V^2 g with V = 0.5 V and devices between 20 kOhm and 200 kOhm; an
integrate-and-fire neuron update costs 2 pJ at 65 nm, scaled to 45 nm by 45/65;
spike probability 0.7.

The engine totals are split into the components that scale differently with N
(the published totals leave the split open, so it is our modelling choice):

* arrays (N^2): ``N^2 V^2 g_avg t_read`` with ``g_avg`` the mean of 1/20k and
  1/200k S and a 1 ns read pulse: 28.16 pJ. Area: an effective 0.1 um^2 per cell
  (about 50 F^2 at 45 nm, lines included): 0.00041 mm^2.
* neurons (N^2, see below): the 4 crossbars of an engine map the same 64
  outputs and share their 64 IF neurons (the RESPARC-plc mapping keeps crossbars
  of the same outputs in one engine), so a crossbar carries 64 / 4 updates of
  1.385 pJ: 22.15 pJ; 16 neurons' worth of area at 100 um^2 each.
* drivers (N): 0.1 pJ per driven row (line charge and level shifting); 15 um^2
  per row driver.
* buffers (N) and control (fixed): the remainder of the engine's energy and area
  (input/output spike buffers, control, their leakage over the 100 ns), 3/4 to
  the buffers, which hold a crossbar's N inputs and N outputs, and 1/4 to the
  control logic, so that 4 crossbars at N = 64 give exactly 0.0196 mm^2 and
  301.87 pJ.
* routing: one router and one link per 16 crossbars of 64 x 64 (a router per 4
  engines); per crossbar read its N output spikes travel as N/128 packets
  through a router and a link, 1 ns each: 0.5 x 26.1 mW x 1 ns = 13.05 pJ at
  N = 64, scaling with N.

Two exponents differ from the plain "drivers and neurons scale with N, buffers
are fixed, a router serves a fixed number of crossbars" model, because that
model picks the largest N for every network, even one whose connections sit in
blocks far smaller than the crossbar (the per-crossbar parts then dominate
small arrays), which is not what designs observe:

* column circuits scale as N^2: a column sums the currents of up to N rows, so
  the circuit that reads it needs N times the range; ISAAC adds one ADC bit per
  doubling of rows (SAR energy and area double per bit), and an integrate-and-
  fire neuron needs an integrator (capacitor or accumulator range) sized to N
  rows. N columns of a size growing with N give N^2.
* routers are provisioned for traffic: a crossbar read emits N outputs, so a
  router serves ``16 * 64 / N`` crossbars of size N (``router_group_scaling`` 1).

A technology file can set ``column_scaling: 1`` and ``router_group_scaling: 0``
to get the plain model back.

Allowed N: 8..128 (the TraNNsformer paper's 16..128 and a smaller size for
experiments; larger arrays are not reliable for analog reads).

ISAAC (ADC-based)
-----------------
Source: ISAAC (Shafiee et al., ISCA 2016, Table 6, 32 nm, one 128 x 128 array
per crossbar, 100 ns per crossbar operation), as also used by PUMAsim:
array 0.3 mW and 2.5e-5 mm^2; 1-bit DAC 3.9 uW and 1.67e-7 mm^2 per row;
8-bit ADC at 1.28 GS/s 2 mW and 0.0012 mm^2, one per array; per IMA of 8
arrays: sample-and-hold 10 uW / 4e-5 mm^2, shift-and-add 0.2 mW / 2.4e-4 mm^2,
input register 1.24 mW / 2.1e-3 mm^2, output register 0.23 mW / 7.7e-4 mm^2;
per tile of 12 IMAs (96 arrays): eDRAM buffer 20.7 mW / 0.083 mm^2,
eDRAM-to-IMA bus 7 mW / 0.090 mm^2, and a quarter of a router shared by 4
tiles (42 mW / 0.151 mm^2).

* arrays (N^2), drivers (N): the array and its 1-bit DACs, per 100 ns cycle.
* adcs (N^2): the ADC plus sample-and-hold. ISAAC sizes the ADC to the array: a
  column sums up to N rows, so resolution grows by one bit per doubling of N,
  and a SAR ADC's energy per conversion and area double per bit (Walden figure
  of merit); with N conversions per cycle the ADC costs grow as N^2.
* buffers (N): an eighth of the IMA's input and output registers and a 96th of
  the tile's eDRAM buffer; control (fixed): an eighth of the shift-and-add units.
* routing: the tile (96 crossbars of 128 x 128) is the group, provisioned for
  traffic like RESPARC's; its bus is the link and a quarter router its router;
  per crossbar read (42/384 + 7/96) mW x 100 ns.

``timesteps`` is 16: ISAAC streams 16-bit inputs one bit per cycle and
evaluates every crossbar every cycle, whatever the data. Allowed N: 16..128
(ISAAC's 8-bit ADC and IR drop stop at 128 rows).
"""

from __future__ import annotations

from hwmodel.published import (
    ISAAC_ADC_MM2,
    ISAAC_ADC_MW,
    ISAAC_ARRAY_MM2,
    ISAAC_ARRAY_MW,
    ISAAC_ARRAYS_PER_IMA,
    ISAAC_ARRAYS_PER_TILE,
    ISAAC_BUS_MM2,
    ISAAC_BUS_MW,
    ISAAC_CYCLE_NS,
    ISAAC_DAC_MM2,
    ISAAC_DAC_MW,
    ISAAC_EDRAM_MM2,
    ISAAC_EDRAM_MW,
    ISAAC_IMA_IR_MM2,
    ISAAC_IMA_IR_MW,
    ISAAC_IMA_OR_MM2,
    ISAAC_IMA_OR_MW,
    ISAAC_IMA_SA_MM2,
    ISAAC_IMA_SA_MW,
    ISAAC_IMA_SH_MM2,
    ISAAC_IMA_SH_MW,
    ISAAC_INPUT_BITS,
    ISAAC_N,
    ISAAC_ROUTER_MM2,
    ISAAC_ROUTER_MW,
    ISAAC_TILES_PER_ROUTER,
    NEURON_UPDATE_PJ,
    R_HIGH_OHM,
    R_LOW_OHM,
    READ_VOLTAGE_V,
    RESPARC_CROSSBARS_PER_ENGINE,
    RESPARC_ENGINE_AREA_MM2,
    RESPARC_ENGINE_LATENCY_NS,
    RESPARC_ENGINE_POWER_MW,
    RESPARC_ENGINES_PER_ROUTER,
    RESPARC_HOP_NS,
    RESPARC_LINK_AREA_MM2,
    RESPARC_LINK_POWER_MW,
    RESPARC_N,
    RESPARC_OLD_SOURCE,
    RESPARC_PACKET_BITS,
    RESPARC_ROUTER_AREA_MM2,
    RESPARC_ROUTER_POWER_MW,
    RESPARC_SOURCE,
    SPIKE_PROBABILITY,
)

# ------------------------------------------------------------ RESPARC modelling assumptions
READ_PULSE_NS = 1.0
CELL_AREA_UM2 = 0.1
NEURON_AREA_UM2 = 100.0
DRIVER_ENERGY_PER_ROW_PJ = 0.1
DRIVER_AREA_UM2 = 15.0
CONTROL_SHARE = 0.25  # of what is left for buffers and control: the fixed control logic

_UM2 = 1e-6  # mm^2 per um^2


def _resparc() -> dict:
    n, per_engine = RESPARC_N, RESPARC_CROSSBARS_PER_ENGINE
    crossbar_pj = RESPARC_ENGINE_POWER_MW * RESPARC_ENGINE_LATENCY_NS / per_engine
    crossbar_mm2 = RESPARC_ENGINE_AREA_MM2 / per_engine
    g_avg = (1 / R_LOW_OHM + 1 / R_HIGH_OHM) / 2
    array_pj = n**2 * READ_VOLTAGE_V**2 * g_avg * READ_PULSE_NS * 1e-9 * 1e12
    neuron_pj = n * NEURON_UPDATE_PJ / per_engine
    driver_pj = n * DRIVER_ENERGY_PER_ROW_PJ
    array_mm2 = n**2 * CELL_AREA_UM2 * _UM2
    neuron_mm2 = n / per_engine * NEURON_AREA_UM2 * _UM2
    driver_mm2 = n * DRIVER_AREA_UM2 * _UM2
    packets = n / RESPARC_PACKET_BITS
    rest_pj = crossbar_pj - array_pj - neuron_pj - driver_pj
    rest_mm2 = crossbar_mm2 - array_mm2 - neuron_mm2 - driver_mm2
    return {
        "name": "resparc-legacy",
        "kind": "spiking",
        "description": "Rules of the first model (N^2 neurons, traffic-provisioned "
        "routers). RESPARC-like: 64x64 crossbars, 4 per engine, routers per 4 engines.",
        "min_crossbar": 8,
        "max_crossbar": 128,
        "reference_crossbar": n,
        "timesteps": 35,
        "spike_probability": SPIKE_PROBABILITY,
        "crossbars_per_router": RESPARC_ENGINES_PER_ROUTER * per_engine,
        "array_area_mm2": array_mm2,
        "driver_area_mm2": driver_mm2,
        "column_area_mm2": neuron_mm2,
        "buffer_area_mm2": rest_mm2 * (1 - CONTROL_SHARE),
        "control_area_mm2": rest_mm2 * CONTROL_SHARE,
        "array_energy_pj": array_pj,
        "driver_energy_pj": driver_pj,
        "column_energy_pj": neuron_pj,
        "buffer_energy_pj": rest_pj * (1 - CONTROL_SHARE),
        "control_energy_pj": rest_pj * CONTROL_SHARE,
        "router_area_mm2": RESPARC_ROUTER_AREA_MM2,
        "link_area_mm2": RESPARC_LINK_AREA_MM2,
        "routing_energy_pj": packets
        * (RESPARC_ROUTER_POWER_MW + RESPARC_LINK_POWER_MW)
        * RESPARC_HOP_NS,
        "column_scaling": 2.0,
        "router_group_scaling": 1.0,
        "sources": {
            "timesteps": "Diehl et al. 2015 reference SNN: 1 ms steps over 35 ms",
            "spike_probability": RESPARC_OLD_SOURCE,
            "crossbars_per_router": RESPARC_SOURCE + ": router shared by 4 engines of 4",
            "array_energy_pj": f"{RESPARC_OLD_SOURCE}: N^2 V^2 g_avg, V=0.5 V, 20k..200k ohm; "
            f"read pulse {READ_PULSE_NS} ns assumed",
            "array_area_mm2": f"assumed {CELL_AREA_UM2} um^2 per cell",
            "column_energy_pj": f"{RESPARC_OLD_SOURCE}: 2 pJ x 45/65 per IF update, 64 "
            "neurons shared by the engine's 4 crossbars",
            "column_area_mm2": f"assumed {NEURON_AREA_UM2} um^2 per IF neuron, shared by 4",
            "driver_energy_pj": f"assumed {DRIVER_ENERGY_PER_ROW_PJ} pJ per driven row",
            "driver_area_mm2": f"assumed {DRIVER_AREA_UM2} um^2 per row driver",
            "buffer_energy_pj": RESPARC_SOURCE + ": engine 3.0187 mW x 100 ns / 4, "
            "minus the other components, 3/4 of it",
            "buffer_area_mm2": RESPARC_SOURCE + ": engine 0.0196 mm^2 / 4, minus the others, "
            "3/4 of it",
            "control_energy_pj": "the other 1/4 of the engine's remainder",
            "control_area_mm2": "the other 1/4 of the engine's remainder",
            "column_scaling": "a column reads the sum of N rows: its integrator's range grows "
            "with N",
            "router_group_scaling": "routers provisioned for output traffic (N per read)",
            "router_area_mm2": RESPARC_SOURCE,
            "link_area_mm2": RESPARC_SOURCE,
            "routing_energy_pj": RESPARC_SOURCE + ": (23.1 + 3) mW x 1 ns per 128-bit "
            "packet, N/128 packets per read",
        },
    }


ISAAC_SOURCE = "ISAAC (Shafiee et al., ISCA 2016) Table 6; docs/design.md section 4"


def _isaac() -> dict:
    n, t = ISAAC_N, ISAAC_CYCLE_NS
    per_ima, per_tile = ISAAC_ARRAYS_PER_IMA, ISAAC_ARRAYS_PER_TILE
    ima_mw = ISAAC_IMA_IR_MW + ISAAC_IMA_OR_MW
    ima_mm2 = ISAAC_IMA_IR_MM2 + ISAAC_IMA_OR_MM2
    router_share_mw = ISAAC_ROUTER_MW / ISAAC_TILES_PER_ROUTER
    return {
        "name": "isaac-legacy",
        "kind": "adc",
        "description": "Rules of the first model (N^2 ADCs, traffic-provisioned "
        "routers). ISAAC-like: 128x128 arrays, one 8-bit ADC per array, 16 input bits.",
        "min_crossbar": 16,
        "max_crossbar": 128,
        "reference_crossbar": n,
        "timesteps": ISAAC_INPUT_BITS,
        "spike_probability": 0.5,
        "crossbars_per_router": per_tile,
        "array_area_mm2": ISAAC_ARRAY_MM2,
        "driver_area_mm2": n * ISAAC_DAC_MM2,
        "column_area_mm2": ISAAC_ADC_MM2 + ISAAC_IMA_SH_MM2 / per_ima,
        "buffer_area_mm2": ima_mm2 / per_ima + ISAAC_EDRAM_MM2 / per_tile,
        "control_area_mm2": ISAAC_IMA_SA_MM2 / per_ima,
        "array_energy_pj": ISAAC_ARRAY_MW * t,
        "driver_energy_pj": n * ISAAC_DAC_MW * t,
        "column_energy_pj": (ISAAC_ADC_MW + ISAAC_IMA_SH_MW / per_ima) * t,
        "buffer_energy_pj": (ima_mw / per_ima + ISAAC_EDRAM_MW / per_tile) * t,
        "control_energy_pj": ISAAC_IMA_SA_MW / per_ima * t,
        "router_area_mm2": ISAAC_ROUTER_MM2 / ISAAC_TILES_PER_ROUTER,
        "link_area_mm2": ISAAC_BUS_MM2,
        "routing_energy_pj": (router_share_mw + ISAAC_BUS_MW) / per_tile * t,
        "column_scaling": 2.0,
        "router_group_scaling": 1.0,
        "sources": {
            "timesteps": ISAAC_SOURCE + ": 16-bit inputs, one bit per 100 ns cycle",
            "spike_probability": "unused: ADC designs evaluate every crossbar every cycle",
            "array_area_mm2": ISAAC_SOURCE,
            "array_energy_pj": ISAAC_SOURCE + ": 0.3 mW x 100 ns",
            "driver_area_mm2": ISAAC_SOURCE + ": 1-bit DAC per row",
            "driver_energy_pj": ISAAC_SOURCE + ": 3.9 uW per DAC x 100 ns",
            "column_area_mm2": ISAAC_SOURCE + ": 8-bit ADC + sample-and-hold",
            "column_energy_pj": ISAAC_SOURCE + ": 2 mW x 100 ns per ADC",
            "column_scaling": "ISAAC: ADC resolution log2(rows)+1 bits; energy and area "
            "per conversion double per bit",
            "buffer_area_mm2": ISAAC_SOURCE + ": IMA IR, OR / 8 + tile eDRAM / 96",
            "buffer_energy_pj": ISAAC_SOURCE + ": IMA IR, OR / 8 + tile eDRAM / 96",
            "control_area_mm2": ISAAC_SOURCE + ": IMA shift-and-add / 8",
            "control_energy_pj": ISAAC_SOURCE + ": IMA shift-and-add / 8",
            "router_group_scaling": "routers provisioned for output traffic (N per read)",
            "crossbars_per_router": ISAAC_SOURCE + ": 12 IMAs x 8 arrays per tile",
            "router_area_mm2": ISAAC_SOURCE + ": router shared by 4 tiles",
            "link_area_mm2": ISAAC_SOURCE + ": eDRAM-to-IMA bus per tile",
            "routing_energy_pj": ISAAC_SOURCE + ": (42/4 + 7) mW per tile / 96 x 100 ns",
        },
    }


LEGACY_FIELDS: dict[str, dict] = {"resparc-legacy": _resparc(), "isaac-legacy": _isaac()}

