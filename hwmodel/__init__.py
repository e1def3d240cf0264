"""Crossbar mapping and area/energy model for memristive SNN hardware (numpy/scipy only).

Map each layer's connectivity (``(n_outputs, n_inputs)``, non-zero = kept) onto
N x N crossbars with one of four strategies, then cost the result with a
technology (a preset or your own YAML/JSON file)::

    >>> import numpy as np
    >>> from hwmodel import cost_network, map_layer
    >>> rng = np.random.default_rng(0)
    >>> masks = [rng.random((32, 48)) < 0.3, rng.random((10, 32)) < 0.3]
    >>> m = map_layer(masks[0], 16, "tiles")
    >>> m.n_crossbars, m.lower_bound
    (6, 2)
    >>> cost = cost_network(masks, 16, "resparc", strategy="clustered")
    >>> cost.n_crossbars, cost.area_mm2 > 0, sorted(cost.energy_breakdown)
    (8, True, ['arrays', 'buffers', 'control', 'drivers', 'neurons', 'partial_sums', 'routing'])

Modules: :mod:`~hwmodel.technology` (what a crossbar costs, presets in
:mod:`~hwmodel.presets` from the numbers in :mod:`~hwmodel.published`; the rules
of the first model in :mod:`~hwmodel.presets_legacy`; cells and wires in
:mod:`~hwmodel.devices`), :mod:`~hwmodel.crossbar_circuit` (the weights a crossbar
really applies, with wire resistance), :mod:`~hwmodel.mapping` (strategies) and
:mod:`~hwmodel.layer_mapping` (their result and its invariants),
:mod:`~hwmodel.cover` (packing scattered connections), :mod:`~hwmodel.crossbar_size`
(the one check of a size N), :mod:`~hwmodel.activity`
(event-driven read counts), :mod:`~hwmodel.routing` (partial sums and their hops),
:mod:`~hwmodel.adc` (ADC bits against rows), :mod:`~hwmodel.cost`, :mod:`~hwmodel.export`,
:mod:`~hwmodel.netfile` and :mod:`~hwmodel.cli` (``python -m hwmodel``).
"""

from hwmodel.clusters import Cluster, cluster_labels, clusters_mask
from hwmodel.cost import LayerCost, NetworkCost, cost_layer, cost_mappings, cost_network
from hwmodel.cover import Cover, band_cover, greedy_window_cover
from hwmodel.export import export_mapping, mapping_to_dict
from hwmodel.mapping import (
    STRATEGIES,
    Crossbar,
    InvariantError,
    LayerMapping,
    map_layer,
    map_network,
)
from hwmodel.netfile import Network, NetworkFileError, load_network
from hwmodel.technology import (
    PRESETS,
    Technology,
    TechnologyError,
    get_technology,
    load_technology,
)

__all__ = [
    "PRESETS",
    "STRATEGIES",
    "Cluster",
    "Cover",
    "Crossbar",
    "InvariantError",
    "LayerCost",
    "LayerMapping",
    "Network",
    "NetworkCost",
    "NetworkFileError",
    "Technology",
    "TechnologyError",
    "band_cover",
    "cluster_labels",
    "clusters_mask",
    "cost_layer",
    "cost_mappings",
    "cost_network",
    "export_mapping",
    "get_technology",
    "greedy_window_cover",
    "load_network",
    "load_technology",
    "map_layer",
    "map_network",
    "mapping_to_dict",
]
