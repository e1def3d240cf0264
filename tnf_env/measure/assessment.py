"""A network assessed once: its masks, crossbar mappings, costs and non-ideal weights.

Mapping a layer onto crossbars (and costing it, and solving its non-ideal circuit) is
the expensive part of looking at a network. Every reader of one network at one step
-- the environment's ``info`` and observation, the delivered-network selection,
tuning's selection cost and the scoring path -- asks one :class:`Assessment`, which
maps on first use per (accounting, spike activity) and keeps the result.

>>> import numpy as np
>>> from hwmodel import get_technology
>>> a = Assessment([np.ones((4, 4), bool)], [[]], [4], get_technology("resparc"))
>>> a.cost("best").n_crossbars, a.mappings("best") is a.mappings("best")
(1, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from hwmodel import Technology
from hwmodel.accounting import map_accounted
from hwmodel.clusters import Cluster, clusters_mask
from hwmodel.cost import NetworkCost, cost_mappings
from hwmodel.layer_mapping import LayerMapping

from ..model.network import MaskedMLP
from .nonideal import HardwareWeights

Spikes = Sequence[np.ndarray | None] | None


def _spikes_key(spikes: Spikes) -> bytes | None:
    if spikes is None:
        return None
    h = hashlib.blake2b(digest_size=16)
    for s in spikes:
        # .data: the array's bytes as a memoryview (the same bytes hashed as the array)
        h.update(b"-" if s is None else np.ascontiguousarray(s).view(np.uint8).ravel().data)
    return h.digest()


class Assessment:
    """One network at one moment, mapped and costed at most once per accounting.

    :param masks: per layer its boolean connectivity (outputs x inputs).
    :param clusters: per layer its clusters.
    :param crossbar_sizes: N per layer.
    :param technology: the resolved technology (names are resolved by the caller, once).
    :param cmaps: per layer the boolean map of its cluster blocks, if already known.
    """

    def __init__(
        self,
        masks: Sequence[np.ndarray],
        clusters: Sequence[Sequence[Cluster]],
        crossbar_sizes: Sequence[int],
        technology: Technology,
        cmaps: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.masks = [np.asarray(m) != 0 for m in masks]
        self.clusters = [list(c) for c in clusters]
        self.crossbar_sizes = [int(n) for n in crossbar_sizes]
        self.technology = technology
        self.cmaps = (
            list(cmaps)
            if cmaps is not None
            else [clusters_mask(m.shape, c) for m, c in zip(self.masks, self.clusters, strict=True)]
        )
        self._mappings: dict[tuple, list[LayerMapping]] = {}
        self._costs: dict[tuple, NetworkCost] = {}
        self._hardware: dict[tuple, list[np.ndarray]] = {}

    @classmethod
    def of(
        cls,
        net: MaskedMLP,
        clusters: Sequence[Sequence[Cluster]],
        crossbar_sizes: Sequence[int],
        technology: Technology,
        cmaps: Sequence[np.ndarray] | None = None,
    ) -> Assessment:
        """The assessment of ``net`` as it is now (its masks are copied)."""
        return cls(net.masks_numpy(), clusters, crossbar_sizes, technology, cmaps)

    # -- connectivity ------------------------------------------------------
    @property
    def sparsity(self) -> list[float]:
        """Per layer the share of cells masked out."""
        return [1.0 - float(np.count_nonzero(m)) / m.size for m in self.masks]

    @property
    def unclustered(self) -> list[float]:
        """Per layer the share of cells kept but outside every cluster."""
        return [
            float(np.count_nonzero(m & ~c)) / m.size
            for m, c in zip(self.masks, self.cmaps, strict=True)
        ]

    @property
    def in_clusters(self) -> list[int]:
        """Per layer the kept connections inside a cluster block."""
        return [int(np.count_nonzero(m & c)) for m, c in zip(self.masks, self.cmaps, strict=True)]

    def matches(self, crossbar_sizes: Sequence[int], technology: Technology) -> bool:
        """Whether this assessment is of the chip ``crossbar_sizes`` on ``technology``."""
        return self.technology is technology and self.crossbar_sizes == [
            int(n) for n in crossbar_sizes
        ]

    # -- hardware ----------------------------------------------------------
    def mappings(self, accounting: str = "best", spikes: Spikes = None) -> list[LayerMapping]:
        """The layers' crossbar mappings under ``accounting`` (spikes guide ``best``)."""
        key = (accounting, _spikes_key(spikes))
        if key not in self._mappings:
            self._mappings[key] = map_accounted(
                self.masks,
                self.crossbar_sizes,
                accounting,
                self.clusters,
                self.technology,
                list(spikes) if spikes is not None else None,
            )
        return self._mappings[key]

    def cost(self, accounting: str = "best", spikes: Spikes = None) -> NetworkCost:
        """Area, energy and crossbars under ``accounting``, energy from ``spikes`` (None:
        the technology's expected activity)."""
        key = (accounting, _spikes_key(spikes))
        if key not in self._costs:  # cost_mappings checks each size against the technology
            self._costs[key] = cost_mappings(
                self.mappings(accounting, spikes),
                self.technology,
                list(spikes) if spikes is not None else None,
            )
        return self._costs[key]

    def hardware_weights(
        self,
        net: MaskedMLP,
        hardware: HardwareWeights,
        accounting: str = "best",
        spikes: Spikes = None,
    ) -> list[np.ndarray]:
        """Effective weights of ``net`` (the network assessed) on the technology's
        non-ideal crossbars, as ``accounting`` maps it."""
        key = (accounting, _spikes_key(spikes), hardware.seed)
        if key not in self._hardware:
            self._hardware[key] = hardware(net, self.mappings(accounting, spikes))
        return self._hardware[key]
