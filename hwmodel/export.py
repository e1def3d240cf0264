"""JSON export of a network mapping for downstream circuit simulators.

Format (``"format": "hwmodel-mapping/1"``)::

    {
      "format": "hwmodel-mapping/1",
      "crossbar_sizes": [64, 64, 64],
      "strategy": "clustered",
      "layers": [
        {"layer": 0, "shape": [n_outputs, n_inputs], "crossbar_size": 64,
         "strategy": ..., "nnz": ..., "n_crossbars": ..., "lower_bound": ...,
         "utilization": ...,
         "crossbars": [
           {"index": 0, "layer": 0, "inputs": [...], "outputs": [...],
            "connections": 812, "utilization": 0.198, "cluster": -1,
            "excluded": [[output, input], ...]},
           ...]}
      ]
    }

A crossbar's row ``r`` is wired to input ``inputs[r]`` and its column ``c`` to output
``outputs[c]``; the cell ``(c, r)`` holds the weight of that connection if it is kept.
``excluded`` lists the kept connections inside a crossbar's block that another
crossbar holds (a leftover crossbar's block can overlap a cluster's): program those
cells off. It is omitted when empty, which it is for every crossbar of ``dense``,
``pruned`` and ``tiles`` mappings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hwmodel.mapping import LayerMapping

FORMAT = "hwmodel-mapping/1"


def _excluded(mapping: LayerMapping) -> dict[int, list[list[int]]]:
    """Per crossbar, kept connections in its block that another crossbar owns."""
    if mapping.owner_matrix is None:
        return {}
    owner = mapping.owner_matrix
    out: dict[int, list[list[int]]] = {}
    for k, (outs, ins) in enumerate(mapping.crossbars):
        block = owner[np.ix_(outs, ins)]
        r, c = np.nonzero((block >= 0) & (block != k))
        if r.size:
            out[k] = np.stack([outs[r], ins[c]], axis=1).tolist()
    return out


def mapping_to_dict(mappings: Sequence[LayerMapping]) -> dict:
    """The JSON-ready description of a network's mapping (see the module docstring).

    :param mappings: per layer its mapping, in forward order.
    """
    layers = []
    for i, m in enumerate(mappings):
        d = m.to_dict(layer=i)
        for k, cells in _excluded(m).items():
            d["crossbars"][k]["excluded"] = cells
        layers.append(d)
    strategies = {m.strategy for m in mappings}
    return {
        "format": FORMAT,
        "strategy": strategies.pop() if len(strategies) == 1 else "mixed",
        "crossbar_sizes": [m.crossbar_size for m in mappings],
        "layers": layers,
    }


def export_mapping(mappings: Sequence[LayerMapping], path: str | Path, **metadata) -> Path:
    """Write a network mapping as JSON.

    :param mappings: per layer its mapping, in forward order.
    :param path: output file.
    :param metadata: extra top-level fields (e.g. ``technology="resparc"``).
    :return: the path written.
    """
    p = Path(path)
    doc = mapping_to_dict(mappings)
    doc.update(metadata)
    p.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return p
