"""Published constants the presets are built from, each with its source.

Plain numbers only; :mod:`hwmodel.presets` (the current rules) and
:mod:`hwmodel.presets_legacy` (the rules of the first model) turn them into
technology fields. Units: mW, mm^2, ns, pJ, bits.
"""

from __future__ import annotations

# ------------------------------------------------------------------------ RESPARC-plc
# Source: github Aayush-Ankit/RESPARC-plc, src/compute_energy_latency_mlp.py
# ("power (mw), area (mm2) and latency (ns)" block and the NoC tables).
RESPARC_SOURCE = "RESPARC-plc src/compute_energy_latency_mlp.py (Aayush-Ankit)"
RESPARC_OLD_SOURCE = "RESPARC-plc src/compute_energy.py (older terms of the same model)"
RESPARC_N = 64  # xbar_size
RESPARC_CROSSBARS_PER_ENGINE = 4  # num_xbar_per_pe
RESPARC_ENGINE_POWER_MW = 3.0187  # compute_pow
RESPARC_ENGINE_AREA_MM2 = 0.0196  # compute_area
RESPARC_ENGINE_LATENCY_NS = 100.0  # compute_lat
RESPARC_ROUTER_POWER_MW = 23.1  # router_pow before the division by noc_conc
RESPARC_ROUTER_AREA_MM2 = 0.0259
RESPARC_LINK_POWER_MW = 3.0  # link_pow before the division by noc_conc
RESPARC_LINK_AREA_MM2 = 0.00996
RESPARC_ENGINES_PER_ROUTER = 4  # noc_conc
RESPARC_HOP_NS = 1.0  # router_lat = link_lat = 1 (used by the legacy rules only)
RESPARC_PACKET_BITS = 128  # packet_width
RESPARC_VMEM_BITS = 4  # vmem_precision: partial membrane potentials sent between crossbars
# booksim average packet latency / average hops of a 2x2 concentrated mesh
# (noc_average_latency['2'] / noc_average_hop['2'] = 14.86 ns / 1.0 hop): the latency
# RESPARC-plc charges every intra-layer (partial-sum) packet. Larger meshes in the
# same table give 9.6-13.4 ns per hop.
RESPARC_HOP_LATENCY_NS = 14.86 / 1.0
# Older terms of the same model (src/compute_energy.py).
READ_VOLTAGE_V = 0.5
R_LOW_OHM, R_HIGH_OHM = 20e3, 200e3
NEURON_UPDATE_PJ = 2.0 * 45 / 65  # 2 pJ per IF update at 65 nm scaled to 45 nm
SPIKE_PROBABILITY = 0.7

# ------------------------------------------------------------------------------ ISAAC
# Source: Shafiee et al., ISCA 2016, Table 6 (32 nm), as also used by PUMAsim.
ISAAC_SOURCE = "ISAAC (Shafiee et al., ISCA 2016) Table 6"
ISAAC_N = 128
ISAAC_CYCLE_NS = 100.0
ISAAC_ARRAY_MW, ISAAC_ARRAY_MM2 = 0.3, 2.5e-5
ISAAC_DAC_MW, ISAAC_DAC_MM2 = 3.9e-3, 1.67e-7
ISAAC_ADC_MW, ISAAC_ADC_MM2 = 2.0, 0.0012
ISAAC_ADC_BITS = 8  # at 128 rows: log2(128) + 1 (section 5 of the paper)
ISAAC_ARRAYS_PER_IMA = 8
ISAAC_IMA_SH_MW, ISAAC_IMA_SH_MM2 = 0.01, 4e-5
ISAAC_IMA_SA_MW, ISAAC_IMA_SA_MM2 = 0.2, 2.4e-4
ISAAC_IMA_IR_MW, ISAAC_IMA_IR_MM2 = 1.24, 2.1e-3
ISAAC_IMA_OR_MW, ISAAC_IMA_OR_MM2 = 0.23, 7.7e-4
ISAAC_ARRAYS_PER_TILE = 96  # 12 IMAs x 8 arrays
ISAAC_EDRAM_MW, ISAAC_EDRAM_MM2 = 20.7, 0.083
ISAAC_BUS_MW, ISAAC_BUS_MM2 = 7.0, 0.090
ISAAC_ROUTER_MW, ISAAC_ROUTER_MM2 = 42.0, 0.151
ISAAC_TILES_PER_ROUTER = 4
ISAAC_INPUT_BITS = 16
# Table 6 tile totals (for calibration tests): 330 mW and 0.372 mm^2 for 96 arrays.
ISAAC_TILE_MW, ISAAC_TILE_MM2 = 330.0, 0.372

# Accelergy hwcomponents-library, hwcomponents_library/library/isaac.py (ISAAC models):
ACCELERGY_SOURCE = "Accelergy hwcomponents-library library/isaac.py"
ISAAC_ROUTER_TRANSFER_PJ = 20.74  # IsaacRouter: one 256-bit transfer
ISAAC_ROUTER_BITS = 256  # IsaacRouter width
ISAAC_BUS_PJ_PER_BIT = 0.054  # IsaacEDRAMBus: energy per bit moved
ISAAC_PARTIAL_SUM_BITS = 16  # IsaacShiftAdd width: the 16-bit sums ISAAC accumulates

# ---------------------------------------------------------------------------- PUMAsim
# Source: github Aayush-Ankit/puma-simulator, include/constants.py: per-crossbar input
# and output memories (xbar_inMem_*, xbar_outMem_* dicts, N = 32, 64, 128, 256).
PUMASIM_SOURCE = "PUMAsim include/constants.py (xbar_inMem/xbar_outMem dicts)"
PUMASIM_BUFFER_SIZES = (32, 64, 128, 256)
PUMASIM_BUFFER_AREA_MM2 = (0.00015 * 2, 0.00033 * 2, 0.00078 * 2, 0.0019 * 2)  # in + out
PUMASIM_BUFFER_POWER_MW = (0.3 + 0.1, 0.7 + 0.1, 1.7 + 0.16, 4.7 + 0.2)  # in read + out dyn
