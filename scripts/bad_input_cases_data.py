"""The bad-input sweep's cases of the data files: saved networks (``.npz`` + clusters JSON),
dataset files in their formats and trained policies' directories (the other files:
:mod:`bad_input_cases`)."""

from __future__ import annotations

import io
import json
import zipfile
import zlib

import numpy as np
from bad_input_cases import (
    BIG,
    TOUCH,
    config,
    idx,
    npy_header_claiming,
    npz,
    pickled_payload,
    sb3_zip_with_pickle,
    zip_bomb,
)
from bad_input_sweep import Case, Fifo, Fixture


def network_cases() -> list[Case]:
    """A saved network: ``.npz`` layer matrices and a clusters JSON (``python -m hwmodel``,
    ``agents.common.netstore.load_saved_network``)."""
    def hw(name: str, data: bytes, expect: str, *flags: str, **kw) -> Case:
        return Case("saved network", name, ("hwmodel", "n.npz", "-n", "16", *flags), expect,
                    {"n.npz": data}, **kw)

    def clusters(name: str, entries: object, expect: str) -> Case:
        return Case("saved network", f"clusters: {name}",
                    ("hwmodel", "plain.npz", "-n", "16", "-s", "clustered", "--clusters",
                     "c.json"), expect,
                    {"plain.npz": Fixture("plain.npz"), "c.json": json.dumps(entries)})

    def saved(name: str, change: str, expect: str) -> Case:
        code = ("import json, numpy as np\nfrom pathlib import Path\n"
                "from agents.common.netstore import load_saved_network\n"
                f"{change}\nload_saved_network(Path('net'))")
        return Case("saved network", f"netstore: {name}", ("py", code), expect,
                    {"net.npz": Fixture("net.npz"),
                     "net_clusters.json": Fixture("net_clusters.json")})

    w0, w1 = np.ones((32, 64)), np.ones((10, 32))
    ok = [[{"outputs": [0, 1], "inputs": [0, 1]}], []]
    return [
        hw("header declares 10**12 floats (8 TB)", npy_header_claiming((10**12,)), "n\\.npz"),
        hw("header declares 10**5 x 10**5 floats", npy_header_claiming((10**5, 10**5)),
           "n\\.npz"),
        hw("header declares a 2**62 element shape", npy_header_claiming((2**31, 2**31)),
           "n\\.npz"),
        hw("a deflate bomb (1 GiB of zeros)", zip_bomb(), "n\\.npz", timeout=30),
        hw("an object array (pickle)", npz(w0=np.array([{"a": 1}], dtype=object)), "n\\.npz"),
        hw("a pickle payload in an .npy", _npz_with_pickle(), "n\\.npz"),
        hw("no arrays", npz(), "n\\.npz"),
        hw("a 0-d array", npz(w0=np.array(1.0)), "w0"),
        hw("a 3-d array", npz(w0=np.ones((2, 2, 2))), "w0"),
        hw("NaN weights", npz(w0=w0 * np.nan, w1=w1), "w0"),
        hw("infinite weights", npz(w0=w0, w1=w1 * np.inf), "w1"),
        hw("complex weights", npz(w0=w0.astype(complex), w1=w1), "w0"),
        hw("string weights", npz(w0=np.array([["a"]]), w1=w1), "w0"),
        hw("mismatched layer widths", npz(w0=w0, w1=np.ones((10, 31))), "w1"),
        hw("masks with a 2", npz(w0=w0 * 2, w1=w1), "w0", "--masks"),
        hw("an empty layer (0 x 64)", npz(w0=np.ones((0, 64)), w1=np.ones((10, 0))), "w0"),
        hw("a layer of 100000 x 100000 bools (10 GB)",
           npy_header_claiming((100000, 100000), "|b1"), "n\\.npz"),
        hw("not a zip", b"PK\x03\x04garbage", "n\\.npz"),
        hw("a text file", b"hello\n", "n\\.npz"),
        Case("saved network", "a FIFO", ("hwmodel", "n.npz"), "n\\.npz", {"n.npz": Fifo()},
             timeout=10),
        Case("saved network", "/dev/zero", ("hwmodel", "/dev/zero"), "/dev/zero", timeout=10),
        Case("saved network", "a directory", ("hwmodel", "n.npz"), "n\\.npz", {"n.npz/x": "1"}),
        clusters("an unknown key in an entry", [[{**ok[0][0], "colour": 1}], []], "colour"),
        clusters("an index beyond int64", [[{"outputs": [2**70], "inputs": [0]}], []],
                 "outputs"),
        clusters("a negative index", [[{"outputs": [-1], "inputs": [0]}], []], "outputs"),
        clusters("a float index", [[{"outputs": [0.5], "inputs": [0]}], []], "outputs"),
        clusters("a boolean index", [[{"outputs": [True], "inputs": [0]}], []], "outputs"),
        clusters("a string index", [[{"outputs": ["0"], "inputs": [0]}], []], "outputs"),
        clusters("duplicate indices", [[{"outputs": [0, 0], "inputs": [0]}], []], "outputs"),
        clusters("an index past the layer", [[{"outputs": [32], "inputs": [0]}], []],
                 "outputs|outside"),
        clusters("more entries than layers", [*ok, [], []], "clusters|layer"),
        clusters("fewer entries than layers", ok[:1], "clusters|layer"),
        clusters("not a list", {"a": 1}, "c\\.json|clusters"),
        clusters("an entry missing inputs", [[{"outputs": [0]}], []], "inputs"),
        clusters("overlapping clusters", [[{"outputs": [0, 1], "inputs": [0, 1]},
                                           {"outputs": [1], "inputs": [1]}], []],
                 "overlap|cluster"),
        saved("clusters an unknown key",
              "p = Path('net_clusters.json'); d = json.loads(p.read_text());\n"
              "d['clusters'][0][0]['colour'] = 1; p.write_text(json.dumps(d))", "colour"),
        saved("clusters an index beyond int64",
              "p = Path('net_clusters.json'); d = json.loads(p.read_text());\n"
              "d['clusters'][0][0]['outputs'] = [2**70]; p.write_text(json.dumps(d))", "outputs"),
        saved("surplus cluster layers",
              "p = Path('net_clusters.json'); d = json.loads(p.read_text());\n"
              "d['clusters'] += [[], []]; p.write_text(json.dumps(d))", "clusters|layer"),
        saved("an npz header of 10**12 floats",
              f"Path('net.npz').write_bytes({npy_header_claiming((10**12,))!r})", "net\\.npz"),
        saved("a FIFO as the clusters file",
              "import os; Path('net_clusters.json').unlink(); os.mkfifo('net_clusters.json')",
              "net_clusters\\.json"),
    ]


def _npz_with_pickle() -> bytes:
    """An .npz whose object-dtype .npy holds a pickle that runs a command if loaded."""
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".ljust(118) + "\n"
    body = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("w0.npy", body + pickled_payload())
    return buf.getvalue()


def dataset_cases() -> list[Case]:
    """Dataset files in their formats, under a data directory (``load_dataset``)."""
    def load(name: str, files: dict, expect: str, dataset: str = "mnist-10k",
             verify: bool = False, **kw) -> Case:
        code = ("from tnf_env.data.datasets import load_dataset\n"
                f"load_dataset({dataset!r}, data_dir='d', download=False, verify={verify})")
        return Case("dataset file", name, ("py", code), expect,
                    {f"d/{k}": v for k, v in files.items()}, **kw)

    img, lbl = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
    good_lbl = idx(2049, (10000,), bytes(10000))
    cases = [
        load("images declare 2**32-1 items", {img: idx(2051, (2**32 - 1, 28, 28), b""),
                                              lbl: good_lbl}, img),
        load("images truncated", {img: idx(2051, (10000, 28, 28), bytes(100)), lbl: good_lbl},
             img),
        load("images of 29x28 pixels", {img: idx(2051, (10, 29, 28), bytes(10 * 29 * 28)),
                                        lbl: good_lbl}, img),
        load("labels above 9", {img: idx(2051, (10000, 28, 28), bytes(7840000)),
                                lbl: idx(2049, (10000,), bytes([42]) * 10000)}, lbl),
        load("fewer labels than images", {img: idx(2051, (10000, 28, 28), bytes(7840000)),
                                          lbl: idx(2049, (10,), bytes(10))}, lbl),
        load("10 images, not the official 10000", {img: idx(2051, (10, 28, 28), bytes(7840)),
                                                   lbl: idx(2049, (10,), bytes(10))},
             img, verify=True),
        load("wrong magic", {img: idx(2049, (10000,), bytes(10000)), lbl: good_lbl}, img),
        load("a corrupt .gz", {img + ".gz": b"\x1f\x8b\x08\x00garbage", lbl: good_lbl}, img),
        load("a gzip bomb (1 GiB of zeros)", {img + ".gz": _gzip_zeros(2**30), lbl: good_lbl},
             img, timeout=30),
        load("images a FIFO", {img: Fifo(), lbl: good_lbl}, img, timeout=10),
        load("images a directory", {f"{img}/x": "1", lbl: good_lbl}, img),
        load("cifar10: a pickle payload", {f"cifar-10-batches-py/{b}": pickled_payload()
                                           for b in ("data_batch_1", "data_batch_2",
                                                     "data_batch_3", "data_batch_4",
                                                     "data_batch_5", "test_batch")},
             "data_batch_1", dataset="cifar10"),
        load("svhn: a .mat of garbage", {"train_32x32.mat": b"MATLAB 5.0 garbage",
                                         "test_32x32.mat": b"MATLAB 5.0 garbage"},
             "train_32x32\\.mat", dataset="svhn"),
    ]
    for arg, value in (("n_val", BIG), ("n_val", "-1"), ("n_val", "1.5"), ("n_val", "True"),
                       ("seed", BIG), ("seed", "-1"), ("seed", "'0'"), ("name", "5"),
                       ("data_dir", "5")):
        dataset = "mnist-10k" if arg == "data_dir" else "digits"  # digits reads no files
        call = (f"load_dataset({value}, download=False)" if arg == "name" else
                f"load_dataset({dataset!r}, {arg}={value}, download=False)")
        cases.append(Case("dataset file", f"load_dataset({arg}={value})",
                          ("py", "from tnf_env.data.datasets import load_dataset\n" + call),
                          arg if arg != "name" else "dataset|name"))
    return cases


def _gzip_zeros(n: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(2**24)
    return b"".join([*(z.compress(chunk) for _ in range(n // len(chunk))), z.flush()])


def policy_cases() -> list[Case]:
    """A trained policy's directory (``compare --warm-start/--methods policy:DIR``,
    ``benchmark --run DIR``, ``train --resume DIR``, ``SB3Policy.load``)."""
    run = {"p": Fixture("run")}
    resumed = dict(keep=("p",), real=True, timeout=60)  # train() checks a resumed run: run it

    def pol(name: str, change: dict, expect: str, argv: tuple[str, ...] | None = None,
            **kw) -> Case:
        argv = argv or ("cli", "compare", "--config", "c.yaml", "--warm-start", "policy:p",
                        "--no-cold", "--out", "out")
        return Case("policy directory", name, argv, expect,
                    {**run, "c.yaml": config(n_envs=2, timesteps=8), **change}, **kw)

    load = ("py", "from agents.rl.sb3_policy import SB3Policy\nSB3Policy.load('p')")
    return [
        pol("best_model.zip garbage", {"p/best_model.zip": b"garbage"}, "best_model\\.zip"),
        pol("best_model.zip carries a pickle (load)", {"p/best_model.zip": sb3_zip_with_pickle()},
            "best_model\\.zip", load),
        pol("best_model.zip carries a pickle (compare)",
            {"p/best_model.zip": sb3_zip_with_pickle()}, "best_model\\.zip", real=False),
        pol("compare --methods: a policy directory that does not exist", {}, "policy:nowhere",
            ("cli", "compare", "--config", "c.yaml", "--methods", "policy:nowhere",
             "--out", "out")),
        pol("config.yaml a YAML tag", {"p/config.yaml": f"name: {TOUCH}\n"}, "config\\.yaml|tag",
            load),
        pol("config.yaml unknown key", {"p/config.yaml": config(colour=1)}, "colour", load),
        pol("config.yaml empty", {"p/config.yaml": ""}, "config\\.yaml", load),
        pol("spaces.json garbage", {"p/spaces.json": "{"}, "spaces\\.json", load),
        pol("spaces.json an nvec beyond int64",
            {"p/spaces.json": json.dumps({"action_nvec": [2**70], "observation_shape": [3]})},
            "spaces\\.json|nvec", load),
        pol("best_model.zip a FIFO", {"p/best_model.zip": Fifo()}, "best_model\\.zip", load,
            timeout=10),
        pol("benchmark --run: config.yaml unknown key", {"p/config.yaml": config(colour=1)},
            "colour", ("cli", "benchmark", "--run", "p", "--seeds", "0", "--out", "out")),
        pol("benchmark --run: best_model.zip missing", {"p/best_model.zip": None},
            "best_model", ("cli", "benchmark", "--run", "p", "--seeds", "0", "--out", "out")),
        pol("train --resume: a smaller --timesteps", {},
            "timesteps", ("cli", "train", "--resume", "p", "--timesteps", "1"), **resumed),
        pol("train --resume: --set n_steps beyond int64", {}, "n_steps|--set",
            ("cli", "train", "--resume", "p", "--set", f"n_steps={BIG}"), **resumed),
        pol("train --resume: config.yaml a YAML tag", {"p/config.yaml": f"seed: {TOUCH}\n"},
            "config\\.yaml|tag", ("cli", "train", "--resume", "p"), **resumed),
        pol("train --resume: a checkpoint truncated",
            {"p/checkpoints/rl_model_4_steps.zip": b"PK"}, "checkpoint|truncated",
            ("cli", "train", "--resume", "p", "--timesteps", "8"), **resumed),
    ]
