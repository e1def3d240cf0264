"""JSON export of a network mapping."""

from __future__ import annotations

import json

import numpy as np

from hwmodel import Cluster, export_mapping, map_layer, map_network, mapping_to_dict
from hwmodel.export import FORMAT


def test_export_lists_each_crossbar(tmp_path):
    rng = np.random.default_rng(0)
    masks = [rng.random((20, 30)) < 0.3, rng.random((5, 20)) < 0.5]
    mappings = map_network(masks, 8, "tiles")
    path = export_mapping(mappings, tmp_path / "map.json", technology="resparc")
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and doc["technology"] == "resparc"
    assert doc["crossbar_sizes"] == [8, 8] and doc["strategy"] == "tiles"
    for i, (layer, m, mask) in enumerate(zip(doc["layers"], mappings, masks, strict=True)):
        assert layer["n_crossbars"] == m.n_crossbars == len(layer["crossbars"])
        held = 0
        for k, x in enumerate(layer["crossbars"]):
            assert x["layer"] == i and x["index"] == k and "excluded" not in x
            block = mask[np.ix_(x["outputs"], x["inputs"])]
            assert x["connections"] == block.sum()  # disjoint blocks: all of it is held
            assert x["utilization"] == x["connections"] / 64
            held += x["connections"]
        assert held == mask.sum()


def test_export_marks_cells_owned_elsewhere():
    # The leftover crossbar's block (outputs {0, 3} x inputs {1, 4}) overlaps the
    # cluster's block (outputs {0, 1} x inputs {0, 1}) at the kept cell (0, 1).
    mask = np.zeros((4, 5), dtype=bool)
    mask[0, 0] = mask[0, 1] = mask[1, 0] = True
    mask[3, 1] = mask[0, 4] = True
    m = map_layer(mask, 2, "clustered", [Cluster([0, 1], [0, 1])])
    m.verify()
    doc = mapping_to_dict([m])
    xbars = doc["layers"][0]["crossbars"]
    assert xbars[0]["cluster"] == 0 and xbars[0]["connections"] == 3
    leftover = [x for x in xbars if x["cluster"] == -1]
    assert sum(x["connections"] for x in leftover) == 2
    excluded = [c for x in leftover for c in x.get("excluded", [])]
    for x in leftover:  # every kept cell of a block is held there or listed as excluded
        block = mask[np.ix_(x["outputs"], x["inputs"])]
        assert block.sum() == x["connections"] + len(x.get("excluded", []))
    assert excluded == [[0, 1]]
