"""``python -m hwmodel``: tables, JSON, export, and one-line errors with status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hwmodel.cli import main
from hwmodel.netfile import load_network, natural_key


@pytest.fixture
def net(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "net.npz"
    np.savez(
        path,
        layer0=rng.standard_normal((24, 40)) * (rng.random((24, 40)) < 0.4),
        layer1=rng.standard_normal((24, 24)),
        layer2=rng.standard_normal((10, 24)),
    )
    return path


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_table(net, capsys):
    status, out, err = run([net, "-n", "16", "32", "-t", "resparc", "isaac"], capsys)
    assert status == 0 and err == ""
    assert "3 layers: 24x40, 24x24, 10x24" in out
    rows = [line for line in out.splitlines() if line.startswith(("resparc", "isaac"))]
    assert len(rows) == 2 * 2 * 4  # technologies x sizes x strategies
    assert "cheapest N" in out


def test_json_output(net, capsys):
    status, out, _ = run([net, "-n", "16", "-s", "dense", "tiles", "--json"], capsys)
    doc = json.loads(out)
    assert status == 0 and [r["strategy"] for r in doc["results"]] == ["dense", "tiles"]
    dense = doc["results"][0]
    assert dense["crossbar_size"] == 16 and dense["n_crossbars"] == 2 * 3 + 2 * 2 + 1 * 2
    assert {"area_mm2", "energy_nj", "utilization", "layers"} <= set(dense)
    assert [layer["name"] for layer in doc["layers"]] == ["layer0", "layer1", "layer2"]


def test_export_mapping(net, tmp_path, capsys):
    out_path = tmp_path / "map.json"
    status, out, _ = run([net, "-n", "16", "-s", "tiles", "--export-mapping", out_path], capsys)
    assert status == 0 and f"wrote {out_path}" in out
    doc = json.loads(out_path.read_text())
    assert len(doc["layers"]) == 3 and doc["layers"][0]["crossbars"][0]["layer"] == 0
    status, _, _ = run([net, "-n", "16", "32", "-s", "tiles", "--export-mapping", out_path], capsys)
    assert status == 0 and (tmp_path / "map-n32-tiles.json").exists()


def test_masks_and_clusters(tmp_path, capsys):
    path = tmp_path / "masks.npz"
    np.savez(path, arr_0=np.ones((8, 12), dtype=np.uint8), arr_1=np.eye(8, dtype=bool))
    clusters = tmp_path / "clusters.json"
    clusters.write_text(json.dumps([[{"outputs": [0, 1, 2], "inputs": [0, 1]}], []]))
    status, out, _ = run(
        [path, "--masks", "-n", "8", "-s", "clustered", "--clusters", clusters, "--json"], capsys
    )
    assert status == 0
    assert json.loads(out)["results"][0]["layers"][0]["nnz"] == 96


def assert_one_line_error(status, out, err, pattern):
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("hwmodel: error: ")
    assert "Traceback" not in err
    assert pattern in err


def test_error_malformed_file(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip archive")
    assert_one_line_error(*run([bad], capsys), "not a readable .npz archive")
    assert_one_line_error(*run([tmp_path / "absent.npz"], capsys), "no such file")
    one = tmp_path / "one.npy"
    np.save(one, np.ones((2, 2)))
    assert_one_line_error(*run([one], capsys), "got one array")
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    assert_one_line_error(*run([empty], capsys), "holds no arrays")
    vec = tmp_path / "vec.npz"
    np.savez(vec, layer0=np.ones(5))
    assert_one_line_error(*run([vec], capsys), "layer 'layer0' must be a 2-D")
    nan = tmp_path / "nan.npz"
    np.savez(nan, layer0=np.array([[1.0, np.nan]]))
    assert_one_line_error(*run([nan], capsys), "NaN")
    text = tmp_path / "text.npz"
    np.savez(text, layer0=np.array([["a", "b"]]))
    assert_one_line_error(*run([text], capsys), "must be numeric")


def test_error_non_binary_mask(net, capsys):
    assert_one_line_error(*run([net, "--masks"], capsys), "layer 'layer0' is not a binary mask")


def test_error_shape_mismatch(tmp_path, capsys):
    path = tmp_path / "mismatch.npz"
    np.savez(path, layer0=np.ones((5, 4)), layer1=np.ones((3, 6)))
    assert_one_line_error(
        *run([path], capsys), "layer 'layer1' (3, 6) has 6 inputs but layer 'layer0' (5, 4) has 5"
    )


def test_error_size_and_technology(net, tmp_path, capsys):
    assert_one_line_error(*run([net, "-n", "512"], capsys), "outside the range 8..256")
    tech = tmp_path / "tech.yaml"
    tech.write_text("base: resparc\nbogus: 1\n")
    assert_one_line_error(*run([net, "-t", tech], capsys), "unknown key 'bogus'")
    assert_one_line_error(*run([net, "-t", "nope"], capsys), "unknown technology 'nope'")
    clusters = tmp_path / "c.json"
    clusters.write_text("[[], []]")
    assert_one_line_error(*run([net, "--clusters", clusters], capsys), "list of 3")


def test_usage_errors_exit_2(net, capsys):
    status, _, err = run([net, "-s", "magic"], capsys)
    assert status == 2 and "invalid choice" in err


def test_natural_order(tmp_path):
    path = tmp_path / "n.npz"
    np.savez(path, layer10=np.ones((2, 3)), layer2=np.ones((3, 4)), layer1=np.ones((4, 5)))
    assert load_network(path).names == ("layer1", "layer2", "layer10")
    assert sorted(["arr_10", "arr_2"], key=natural_key) == ["arr_2", "arr_10"]


def test_module_entry_point(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, layer0=np.ones((5, 4)), layer1=np.ones((3, 6)))
    proc = subprocess.run(
        [sys.executable, "-m", "hwmodel", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("hwmodel: error: ")


def test_hwmodel_never_imports_torch():
    code = "import sys, hwmodel, hwmodel.cli; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
