"""How a transformed network is counted: the release's accounting and the best packer.

Every method of an experiment is mapped by the same rules, so a saving comes
from the schedule, not from a kinder packer. Two accountings:

``paper``
    As the authors' release counts: a network without clusters (original,
    pruning) is tiled densely over its non-empty rows and columns (``pruned``);
    a network with clusters puts each cluster on crossbars of its own and packs
    the rest with the release's greedy window scan (``clustered``, ``greedy``).
``best``
    The project's best packer for every method: neurons that can never change
    the output are removed first (:func:`live_masks`), then each layer takes the
    cheaper of its clusters plus the band cover, and the band cover alone.

>>> import numpy as np
>>> masks = [np.eye(4, dtype=bool), np.ones((2, 4), bool)]
>>> masks[0][3, 3] = False  # hidden neuron 3 has no input: its outgoing column goes too
>>> [int(m.sum()) for m in live_masks(masks)]
[3, 6]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hwmodel.clusters import Cluster
from hwmodel.cost import NetworkCost, TechnologyLike, cost_layer, cost_mappings
from hwmodel.mapping import LayerMapping, as_mask, check_chain, map_layer, per_layer
from hwmodel.technology import get_technology

ACCOUNTINGS = ("paper", "best")


def live_masks(masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The masks without connections of neurons that cannot affect the output.

    In a bias-free ReLU (or integrate-and-fire) network a hidden neuron with no
    input connection always outputs 0, so its outgoing connections carry
    nothing; a hidden neuron with no output connection feeds nothing, so its
    incoming connections are useless. Removing one can strand another, so the
    rule is applied until nothing changes. The network's outputs are unchanged
    exactly (``tests/tnf_env/test_scoring.py`` checks it on real networks).

    :param masks: per layer ``(n_outputs, n_inputs)`` connectivity, in forward order.
    :return: new boolean masks of the same shapes.
    """
    live = [as_mask(m, f"layer {i} mask") for i, m in enumerate(masks)]
    check_chain([m.shape for m in live])
    changed = True
    while changed:
        changed = False
        for i in range(len(live) - 1):
            # Hidden layer i's neurons: outputs of layer i, inputs of layer i + 1.
            fed = live[i].any(axis=1)
            used = live[i + 1].any(axis=0)
            dead = ~(fed & used)
            if (live[i][dead].any()) or (live[i + 1][:, dead].any()):
                live[i][dead, :] = False
                live[i + 1][:, dead] = False
                changed = True
    return live


def live_clusters(
    clusters: Sequence[Cluster], mask: np.ndarray, live_in: np.ndarray, live_out: np.ndarray
) -> list[Cluster]:
    """``clusters`` restricted to live neurons; a cluster left without a connection is dropped.

    :param mask: the layer's live mask (clusters that hold none of it vanish).
    :param live_in: boolean per input neuron of the layer: alive.
    :param live_out: boolean per output neuron of the layer: alive.
    """
    out = []
    for c in clusters:
        outs, ins = c.outputs[live_out[c.outputs]], c.inputs[live_in[c.inputs]]
        if outs.size and ins.size and mask[np.ix_(outs, ins)].any():
            out.append(Cluster(outs, ins))
    return out


def _liveness(live: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer (live inputs, live outputs); the network's own inputs and outputs stay."""
    res = []
    for i, m in enumerate(live):
        ins = np.ones(m.shape[1], bool) if i == 0 else np.any(live[i - 1], axis=1)
        outs = np.ones(m.shape[0], bool) if i == len(live) - 1 else np.any(live[i + 1], axis=0)
        res.append((ins, outs))
    return res


def map_accounted(
    masks: Sequence[np.ndarray],
    crossbar_size: int | Sequence[int],
    accounting: str,
    clusters: Sequence[Sequence[Cluster]] | None = None,
    technology: TechnologyLike = "resparc",
    spikes: Sequence[np.ndarray | None] | None = None,
) -> list[LayerMapping]:
    """Map a network under ``accounting`` (see the module docstring).

    :param masks: per layer connectivity, in forward order.
    :param crossbar_size: one N for the chip, or one per layer.
    :param accounting: ``"paper"`` or ``"best"``.
    :param clusters: per layer its clusters (None or empty: no clusters).
    :param technology: decides, under ``best``, which of two candidate mappings is cheaper.
    :param spikes: per layer measured input spikes for that decision (None: expected).
    """
    if accounting not in ACCOUNTINGS:
        raise ValueError(f"unknown accounting {accounting!r}: allowed {', '.join(ACCOUNTINGS)}")
    n_layers = len(masks)
    sizes = per_layer(crossbar_size, n_layers, "crossbar_size")
    layer_clusters = (
        [list(c or ()) for c in per_layer(clusters, n_layers, "clusters")]
        if clusters is not None
        else [[] for _ in range(n_layers)]
    )
    if accounting == "paper":
        mats = [as_mask(m, f"layer {i} mask") for i, m in enumerate(masks)]
        check_chain([m.shape for m in mats])
        if not any(layer_clusters):
            return [map_layer(m, n, "pruned") for m, n in zip(mats, sizes, strict=True)]
        return [
            map_layer(m, n, "clustered", c, leftover="greedy")
            for m, n, c in zip(mats, sizes, layer_clusters, strict=True)
        ]
    tech = get_technology(technology)
    live = live_masks(masks)
    layer_spikes = per_layer(spikes, n_layers, "spikes")
    out = []
    for i, ((ins, outs), m) in enumerate(zip(_liveness(live), live, strict=True)):
        band = map_layer(m, sizes[i], "clustered", [])
        kept = live_clusters(layer_clusters[i], m, ins, outs)
        if kept:
            with_clusters = map_layer(m, sizes[i], "clustered", kept)
            costs = [cost_layer(x, tech, layer_spikes[i]) for x in (with_clusters, band)]
            # Cheaper: fewer crossbars, then less area, then less energy.
            keys = [(c.n_crossbars, c.area_mm2, c.energy_nj) for c in costs]
            if keys[0] < keys[1]:
                band = with_clusters
        out.append(band)
    return out


def cost_accounted(
    masks: Sequence[np.ndarray],
    crossbar_size: int | Sequence[int],
    technology: TechnologyLike,
    accounting: str,
    clusters: Sequence[Sequence[Cluster]] | None = None,
    spikes: Sequence[np.ndarray | None] | None = None,
) -> NetworkCost:
    """Map a network under ``accounting`` and cost it (:func:`map_accounted`, then cost).

    >>> import numpy as np
    >>> m = [np.ones((8, 8), bool), np.ones((2, 8), bool)]
    >>> [cost_accounted(m, 4, "resparc", a).n_crossbars for a in ACCOUNTINGS]
    [6, 6]
    """
    tech = get_technology(technology)
    for n in per_layer(crossbar_size, len(masks), "crossbar_size"):
        tech.check_crossbar_size(n)
    mappings = map_accounted(masks, crossbar_size, accounting, clusters, tech, spikes)
    return cost_mappings(mappings, tech, spikes)
