"""A saved network's clusters file (agents.common.netstore) is read as strictly as
``python -m hwmodel --clusters``: unknown keys and the bare list are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents.common.netstore import SavedNetworkError, load_saved_network, save_network
from hwmodel.clusters import Cluster


def test_a_saved_network_s_clusters_are_as_strict(tmp_path):
    w = [np.ones((4, 6), np.float32), np.ones((2, 4), np.float32)]
    m = [np.ones_like(x, bool) for x in w]
    save_network(tmp_path / "n", w, m, [[Cluster([0, 1], [0, 1])], []])
    assert load_saved_network(tmp_path / "n").clusters == [[Cluster([0, 1], [0, 1])], []]
    clusters = tmp_path / "n_clusters.json"
    clusters.write_text(json.dumps({"clusters": [[{"outputs": [0], "inputs": [0], "q": 1}],
                                                 []]}))
    with pytest.raises(SavedNetworkError, match="unknown key 'q'"):
        load_saved_network(tmp_path / "n")
    clusters.write_text(json.dumps([[], []]))  # what save_network writes is the mapping
    with pytest.raises(SavedNetworkError, match="expected a mapping, got a list"):
        load_saved_network(tmp_path / "n")
