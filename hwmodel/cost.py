"""Area and energy per inference of mapped layers and networks, by component.

Area of a layer: every crossbar with its own peripherals
(:meth:`Technology.crossbar_area_mm2`) plus ``ceil(n_crossbars / group)`` routers
with their links, ``group`` being :meth:`Technology.router_group` at the layer's
N. Routers are counted per layer: each layer's crossbars sit in their own router
groups, as the RESPARC mapping places layers on separate engines.

Energy of a layer per inference (see :mod:`hwmodel.activity` for the counts):

* arrays and drivers cost per driven row: ``row_drives * E_full / N``, where
  ``E_full`` is a full read with all N rows driven;
* neurons or ADCs, buffers, control and routing (the read's output spikes or
  values) cost per read: ``reads * E``;
* partial sums (:mod:`hwmodel.routing`): every crossbar holding part of an output
  that spans several crossbars sends one partial sum per event to the output's
  home crossbar, ``hops * partial_sum_bits / packet_bits * hop_energy_pj`` each.
  The event is a read for spiking designs (partial membrane potentials, every
  timestep the crossbar is read, as RESPARC-plc) and the inference for ADC
  designs (shift-and-add accumulates the input-bit cycles locally, as ISAAC).

So a full read of every row reproduces :meth:`Technology.read_energy_pj`, and a
sparse spike pattern pays for the rows it drives. ADC designs evaluate every
crossbar once per input-bit cycle with all rows driven, so their energy does not
depend on measured activity (spike rasters are ignored for them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwmodel.activity import every_cycle_activity, expected_activity, measured_activity
from hwmodel.clusters import Cluster
from hwmodel.mapping import LayerMapping, map_network, per_layer
from hwmodel.routing import hops_per_sender, transfer_hops
from hwmodel.technology import Technology, get_technology
from hwmodel.technology_checks import check_term

TechnologyLike = str | Path | Technology


@dataclass(frozen=True)
class LayerCost:
    """Cost of one mapped layer.

    :param technology: name of the technology used.
    :param strategy: mapping strategy.
    :param crossbar_size: N.
    :param shape: ``(n_outputs, n_inputs)``.
    :param nnz: kept connections.
    :param n_crossbars: crossbars used.
    :param lower_bound: ``ceil(nnz / N^2)``.
    :param utilization: kept connections / (crossbars * N^2).
    :param n_routers: routers (with links) serving the layer.
    :param reads: crossbar reads per inference, over all its crossbars.
    :param row_drives: driven (row, timestep) pairs per inference.
    :param activity: ``"measured"``, ``"expected"`` (default spike probability) or
        ``"every cycle"`` (ADC design).
    :param area_breakdown: mm^2 by component.
    :param energy_breakdown: nJ per inference by component.
    :param mapping: the mapping costed (not serialised).
    :param split_outputs: outputs whose connections span more than one crossbar.
    :param partial_sums: partial-sum transfers per evaluation (``sum(k - 1)`` over
        outputs held by ``k`` crossbars).
    :param partial_sum_hops: router hops of partial sums per inference (activity
        weighted).
    """

    technology: str
    strategy: str
    crossbar_size: int
    shape: tuple[int, int]
    nnz: int
    n_crossbars: int
    lower_bound: int
    utilization: float
    n_routers: int
    reads: float
    row_drives: float
    activity: str
    area_breakdown: dict[str, float]
    energy_breakdown: dict[str, float]
    mapping: LayerMapping | None = field(default=None, repr=False, compare=False)
    split_outputs: int = 0
    partial_sums: int = 0
    partial_sum_hops: float = 0.0

    @property
    def area_mm2(self) -> float:
        return float(sum(self.area_breakdown.values()))

    @property
    def energy_nj(self) -> float:
        """Energy per inference."""
        return float(sum(self.energy_breakdown.values()))

    def to_dict(self) -> dict:
        """JSON-ready summary (the mapping itself is left out)."""
        return {
            "technology": self.technology,
            "strategy": self.strategy,
            "crossbar_size": self.crossbar_size,
            "shape": list(self.shape),
            "nnz": self.nnz,
            "n_crossbars": self.n_crossbars,
            "lower_bound": self.lower_bound,
            "utilization": self.utilization,
            "n_routers": self.n_routers,
            "reads": self.reads,
            "row_drives": self.row_drives,
            "activity": self.activity,
            "split_outputs": self.split_outputs,
            "partial_sums": self.partial_sums,
            "partial_sum_hops": self.partial_sum_hops,
            "area_mm2": self.area_mm2,
            "energy_nj": self.energy_nj,
            "area_breakdown": dict(self.area_breakdown),
            "energy_breakdown": dict(self.energy_breakdown),
        }


@dataclass(frozen=True)
class NetworkCost:
    """Cost of a mapped network: its layers and their totals.

    :param technology: name of the technology used.
    :param strategy: mapping strategy.
    :param layers: per-layer costs, in forward order.
    """

    technology: str
    strategy: str
    layers: tuple[LayerCost, ...]

    @property
    def crossbar_sizes(self) -> list[int]:
        return [c.crossbar_size for c in self.layers]

    @property
    def area_mm2(self) -> float:
        return float(sum(c.area_mm2 for c in self.layers))

    @property
    def energy_nj(self) -> float:
        """Energy per inference."""
        return float(sum(c.energy_nj for c in self.layers))

    @property
    def n_crossbars(self) -> int:
        return sum(c.n_crossbars for c in self.layers)

    @property
    def nnz(self) -> int:
        return sum(c.nnz for c in self.layers)

    @property
    def lower_bound(self) -> int:
        return sum(c.lower_bound for c in self.layers)

    @property
    def n_cells(self) -> int:
        return sum(c.n_crossbars * c.crossbar_size**2 for c in self.layers)

    @property
    def utilization(self) -> float:
        """Kept connections / cells of all crossbars (each layer with its own N)."""
        return self.nnz / self.n_cells if self.n_cells else 0.0

    @property
    def area_breakdown(self) -> dict[str, float]:
        return _sum_dicts(c.area_breakdown for c in self.layers)

    @property
    def energy_breakdown(self) -> dict[str, float]:
        return _sum_dicts(c.energy_breakdown for c in self.layers)

    def to_dict(self) -> dict:
        """JSON-ready totals and per-layer costs."""
        return {
            "technology": self.technology,
            "strategy": self.strategy,
            "crossbar_sizes": self.crossbar_sizes,
            "area_mm2": self.area_mm2,
            "energy_nj": self.energy_nj,
            "n_crossbars": self.n_crossbars,
            "nnz": self.nnz,
            "lower_bound": self.lower_bound,
            "utilization": self.utilization,
            "area_breakdown": self.area_breakdown,
            "energy_breakdown": self.energy_breakdown,
            "layers": [c.to_dict() for c in self.layers],
        }


def _sum_dicts(dicts) -> dict[str, float]:
    total: dict[str, float] = {}
    for d in dicts:
        for k, v in d.items():
            total[k] = total.get(k, 0.0) + v
    return total


def cost_layer(
    mapping: LayerMapping,
    technology: TechnologyLike,
    spikes: np.ndarray | None = None,
) -> LayerCost:
    """Area and energy per inference of one mapped layer.

    :param mapping: the layer's crossbars (from :func:`hwmodel.mapping.map_layer`).
    :param technology: a :class:`Technology`, a preset name or a technology file.
    :param spikes: the layer's measured input spikes, ``(n_samples, n_timesteps,
        n_inputs)`` boolean or 0/1; ``None`` uses the technology's spike probability.
        Ignored by ADC technologies.
    :raises ValueError: crossbar size outside the technology's range, bad spikes.
    """
    tech = get_technology(technology)
    n = tech.check_crossbar_size(mapping.crossbar_size)
    counts = mapping.input_counts
    if tech.kind == "adc":
        reads, drives = every_cycle_activity(counts, tech.timesteps)
        activity = "every cycle"
    elif spikes is None:
        reads, drives = expected_activity(counts, tech.timesteps, tech.spike_probability)
        activity = "expected"
    else:
        reads, drives = measured_activity(
            spikes, mapping.input_ptr, mapping.input_idx, mapping.shape[1]
        )
        activity = "measured"
    total_reads, total_drives = float(reads.sum()), float(drives.sum())

    nx = mapping.n_crossbars
    area = {k: v * nx for k, v in tech.crossbar_area_mm2(n).items()}
    area["routing"] = tech.routing_area_mm2(nx, n)

    per_read = tech.read_energy_pj(n)
    energy_pj = {}
    for comp, e in per_read.items():
        # Array current and row drivers are paid per driven row; the rest per read.
        energy_pj[comp] = total_drives * e / n if comp in ("arrays", "drivers") else total_reads * e
    sender, receiver = mapping.partial_sum_transfers
    ps_hops = 0.0
    if sender.size:
        hops = transfer_hops(sender, receiver, tech.router_group(n), nx)
        events = (reads > 0).astype(np.float64) if tech.kind == "adc" else reads
        ps_hops = float(hops_per_sender(sender, hops, nx) @ events)
    energy_pj["partial_sums"] = ps_hops * tech.partial_sum_energy_pj()
    energy = {k: v / 1000.0 for k, v in energy_pj.items()}
    # Every cost returned is asserted finite (0 only where nothing is read or sent).
    for what, costs in (("area mm^2", area), ("energy nJ", energy)):
        for comp, value in costs.items():
            check_term(tech, f"layer {what} of {comp} at N={n}", value, zero=True)

    return LayerCost(
        technology=tech.name,
        strategy=mapping.strategy,
        crossbar_size=n,
        shape=mapping.shape,
        nnz=mapping.nnz,
        n_crossbars=nx,
        lower_bound=mapping.lower_bound,
        utilization=mapping.utilization,
        n_routers=tech.n_routers(nx, n),
        reads=total_reads,
        row_drives=total_drives,
        activity=activity,
        area_breakdown=area,
        energy_breakdown=energy,
        mapping=mapping,
        split_outputs=mapping.split_outputs,
        partial_sums=int(sender.size),
        partial_sum_hops=ps_hops,
    )


def cost_mappings(
    mappings: Sequence[LayerMapping],
    technology: TechnologyLike,
    spikes: Sequence[np.ndarray | None] | None = None,
) -> NetworkCost:
    """Cost already-mapped layers (map once, cost with several technologies).

    :param mappings: per layer its mapping, in forward order.
    :param technology: a :class:`Technology`, a preset name or a technology file.
    :param spikes: per layer its input raster or None (see :func:`cost_layer`).
    """
    tech = get_technology(technology)
    layer_spikes = per_layer(spikes, len(mappings), "spikes")
    layers = tuple(cost_layer(m, tech, s) for m, s in zip(mappings, layer_spikes, strict=True))
    strategies = {m.strategy for m in mappings}
    return NetworkCost(tech.name, strategies.pop() if len(strategies) == 1 else "mixed", layers)


def cost_network(
    masks: Sequence[np.ndarray],
    crossbar_size: int | Sequence[int],
    technology: TechnologyLike,
    strategy: str = "clustered",
    clusters: Sequence[Sequence[Cluster]] | None = None,
    spikes: Sequence[np.ndarray | None] | None = None,
    *,
    leftover: str = "band",
) -> NetworkCost:
    """Map every layer and cost the network.

    :param masks: per layer ``(n_outputs, n_inputs)`` connectivity (non-zero = kept), in
        forward order; consecutive layers must chain.
    :param crossbar_size: one N for all layers or one per layer.
    :param technology: a :class:`Technology`, a preset name or a technology file.
    :param strategy: one of :data:`hwmodel.mapping.STRATEGIES`.
    :param clusters: per layer its clusters (``clustered`` only).
    :param spikes: per layer its input spike raster or None.
    :param leftover: cover for connections outside clusters (``"band"`` or ``"greedy"``).
    :raises ValueError: shape mismatch between layers, bad mask, size outside the
        technology's range, overlapping clusters, bad spikes.

    >>> import numpy as np
    >>> c = cost_network([np.ones((10, 20))], 16, "resparc", "dense")
    >>> c.n_crossbars, round(c.utilization, 3)
    (2, 0.391)
    """
    tech = get_technology(technology)
    for n in per_layer(crossbar_size, len(masks), "crossbar_size"):
        tech.check_crossbar_size(n)
    mappings = map_network(masks, crossbar_size, strategy, clusters, leftover=leftover)
    return cost_mappings(mappings, tech, spikes)
