"""Cluster JSON files: indices must be whole numbers, never silently cast."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwmodel.cli import load_clusters, main
from hwmodel.clusters import Cluster


@pytest.mark.parametrize(
    "cluster,shown",
    [
        ({"outputs": [0.5, 1], "inputs": [0, 2]}, "0.5"),
        ({"outputs": [0, 1], "inputs": [True, 2]}, "True"),
        ({"outputs": [0, "1"], "inputs": [0]}, "'1'"),
        ({"outputs": 3, "inputs": [0]}, "3"),
    ],
)
def test_non_integer_indices_are_refused(tmp_path, capsys, cluster, shown):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([[cluster], []]))
    with pytest.raises(ValueError, match="integer indices") as err:
        load_clusters(path, 2)
    assert "layer 0" in str(err.value) and shown in str(err.value)
    net = tmp_path / "net.npz"
    rng = np.random.default_rng(0)
    np.savez(net, layer0=rng.standard_normal((24, 40)), layer1=rng.standard_normal((10, 24)))
    assert main([str(net), "-n", "8", "-s", "clustered", "--clusters", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "integer indices" in err


def test_whole_number_indices_still_load(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([[{"outputs": [2, 0], "inputs": [1]}], []]))
    assert load_clusters(path, 2) == [[Cluster([0, 2], [1])], []]


@pytest.mark.parametrize(
    "doc,shown",
    [
        ([[{"outputs": [0], "inputs": [1], "weight": 0.5}], []], "unknown key 'weight'"),
        ([[{"outputs": [0]}], []], "lacks key 'inputs'"),
        ([[{"outputs": [0, 2, 0], "inputs": [1]}], []], "outputs holds index 0 twice"),
        ([[{"outputs": [0], "inputs": [1]}, 7], []], "bad cluster 1"),
        ([[], [], []], "expected a list of 2 per-layer cluster lists"),
        ([[]], "got 1 lists"),
        ({"clusters": [[], []], "layers": 2}, "unknown key 'layers'"),
        ({"cluster": [[], []]}, "unknown key 'cluster'"),
        ({}, "no key 'clusters'"),
    ],
)
def test_surplus_and_missing_cluster_data_is_named(tmp_path, capsys, doc, shown):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError) as err:
        load_clusters(path, 2)
    assert shown in str(err.value) and str(path) in str(err.value)
    net = tmp_path / "net.npz"
    rng = np.random.default_rng(0)
    np.savez(net, layer0=rng.standard_normal((24, 40)), layer1=rng.standard_normal((10, 24)))
    assert main([str(net), "-n", "8", "-s", "clustered", "--clusters", str(path)]) == 2
    err_line = capsys.readouterr().err.strip()
    assert len(err_line.splitlines()) == 1 and shown in err_line

