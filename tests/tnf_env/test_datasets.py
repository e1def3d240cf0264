"""Tests for tnf_env.data.datasets: tiny files in each real format, written here and read back."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from tnf_env.data import datasets
from tnf_env.data.datasets import DATASETS, Dataset, DatasetError, load_dataset, resolve_data_dir

IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
SHARED_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --------------------------------------------------------------------- writers


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 0x0000 08 ndim, big-endian dims, data."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def tiny_images(n: int, seed: int, shape=(28, 28)) -> tuple[np.ndarray, np.ndarray]:
    """Random images whose first pixel is their index (to trace rows), labels cycling 0..9."""
    images = np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)
    images.reshape(n, -1)[:, 0] = np.arange(n)
    return images, (np.arange(n) % 10).astype(np.uint8)


def write_mnist(directory: Path, n_train=30, n_test=20, gz=True, parts=("train", "t10k")):
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for part, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        if part not in parts:
            continue
        images, labels = tiny_images(n, seed)
        suffix = ".gz" if gz else ""
        write_idx(directory / f"{part}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{part}-labels-idx1-ubyte{suffix}", labels)
        out[part] = images, labels
    return out


def rgb_images(n: int, seed: int) -> np.ndarray:
    """(n, 32, 32, 3) uint8, pixel (0, 0) grey = index; pixel (1, 2) of image 0 pure red."""
    rgb = np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    rgb[:, 0, 0] = np.arange(n)[:, None]
    rgb[0, 1, 2] = (255, 0, 0)
    rgb[0, 3, 4] = (10, 20, 30)
    return rgb


def luma(rgb: np.ndarray) -> np.ndarray:
    """Reference BT.601 grey in float64, (n, 1024)."""
    grey = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
    return grey.reshape(len(rgb), -1)


def write_svhn(directory: Path, n_train=25, n_test=10):
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n, seed in (("train", n_train, 3), ("test", n_test, 4)):
        rgb = rgb_images(n, seed)
        labels = np.arange(n) % 10
        y = np.where(labels == 0, 10, labels).astype(np.uint8).reshape(n, 1)
        scipy.io.savemat(directory / f"{split}_32x32.mat", {"X": rgb.transpose(1, 2, 3, 0), "y": y})
        out[split] = rgb, labels
    return out


def cifar_batch(rgb: np.ndarray, labels: np.ndarray) -> bytes:
    data = rgb.transpose(0, 3, 1, 2).reshape(len(rgb), 3072)  # R plane, G plane, B plane
    return pickle.dumps(
        {
            b"batch_label": b"tiny",
            b"labels": [int(v) for v in labels],
            b"data": np.ascontiguousarray(data),
            b"filenames": [],
        },
        protocol=2,
    )


def write_cifar(directory: Path, n_per_batch=6, n_test=8, subdir=True):
    target = directory / "cifar-10-batches-py" if subdir else directory
    target.mkdir(parents=True, exist_ok=True)
    batches = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    out = {}
    for i, name in enumerate(batches):
        n = n_test if name == "test_batch" else n_per_batch
        rgb, labels = rgb_images(n, 10 + i), (np.arange(n) + i) % 10
        (target / name).write_bytes(cifar_batch(rgb, labels))
        out[name] = rgb, labels
    return out


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the user's TNF_DATA or writes into their cache."""
    monkeypatch.delenv("TNF_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def check_dataset(ds: Dataset, n_inputs: int) -> None:
    assert ds.n_inputs == n_inputs and ds.n_classes == 10
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.ndim == 2 and x.shape == (len(y), n_inputs)
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert y.min() >= 0 and y.max() <= 9


def assert_same(a: Dataset, b: Dataset) -> None:
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


# ---------------------------------------------------------------- names, digits


def test_unknown_name_lists_known_names():
    with pytest.raises(DatasetError) as info:
        load_dataset("imagenet")
    message = str(info.value)
    assert "imagenet" in message and all(name in message for name in DATASETS)
    assert isinstance(info.value, ValueError)
    with pytest.raises(DatasetError, match="known datasets"):
        resolve_data_dir("cifar100")


def test_digits_default_needs_no_files():
    ds = load_dataset()
    assert ds.name == "digits"
    check_dataset(ds, 64)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (899, 539, 359)
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert set(np.unique(y)) == set(range(10))
    assert ds.x_train.max() == 1.0  # 16 / 16
    assert "digits" in repr(ds) and "899" in ds.summary() and "539" in repr(ds)
    assert resolve_data_dir("digits") is None
    assert load_dataset("Digits").name == "digits"


def test_splits_are_deterministic_and_seeded():
    assert_same(load_dataset("digits"), load_dataset("digits", seed=datasets.SPLIT_SEED))
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(other.y_test, load_dataset("digits").y_test)
    small_val = load_dataset("digits", n_val=100)
    assert len(small_val.y_val) == 100 and len(small_val.y_train) == 1797 - 359 - 100
    np.testing.assert_array_equal(small_val.x_test, load_dataset("digits").x_test)


@pytest.mark.parametrize("n_val", [-1, 1797, 2.5, True])
def test_bad_n_val_is_rejected(n_val):
    with pytest.raises(DatasetError, match="n_val"):
        load_dataset("digits", n_val=n_val)


def test_dataset_rejects_bad_arrays():
    x, y = np.zeros((2, 3), np.float32), np.zeros(2, np.int64)
    Dataset("ok", x, y, x, y, x, y)
    with pytest.raises(DatasetError, match="float32"):
        Dataset("bad", x.astype(np.float64), y, x, y, x, y)
    with pytest.raises(DatasetError, match=r"\[0, 1\]"):
        Dataset("bad", x + 2, y, x, y, x, y)
    with pytest.raises(DatasetError, match="int64"):
        Dataset("bad", x, y, x, y.astype(np.int32), x, y)


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_round_trip(tmp_path, name, gz):
    written = write_mnist(tmp_path, gz=gz)
    ds = load_dataset(name, tmp_path, n_val=6, download=False, verify=False)
    check_dataset(ds, 784)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (24, 6, 20)
    images, labels = written["t10k"]
    np.testing.assert_array_equal(ds.x_test, images.reshape(20, -1) / np.float32(255))
    np.testing.assert_array_equal(ds.y_test, labels)
    # train + val are exactly the training file, each row once, each split in file order
    images, labels = written["train"]
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val)):
        rows = np.rint(x[:, 0] * 255).astype(int)
        assert np.all(np.diff(rows) > 0)
        np.testing.assert_array_equal(x, images.reshape(30, -1)[rows] / np.float32(255))
        np.testing.assert_array_equal(y, labels[rows])
    both = np.concatenate([np.rint(ds.x_train[:, 0] * 255), np.rint(ds.x_val[:, 0] * 255)])
    assert sorted(both.astype(int)) == list(range(30))
    assert_same(ds, load_dataset(name, tmp_path, n_val=6, download=False, verify=False))


def test_default_validation_size_is_at_most_a_fifth(tmp_path):
    write_mnist(tmp_path)
    ds = load_dataset("mnist", tmp_path, download=False, verify=False)
    assert (len(ds.y_train), len(ds.y_val)) == (24, 6)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 40), gz=st.booleans(), data=st.data())
def test_idx_reader_round_trip_and_every_truncation_fails(tmp_path_factory, n, gz, data):
    directory = tmp_path_factory.mktemp("idx")
    images = np.random.default_rng(n).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    path = write_idx(directory / ("x.gz" if gz else "x"), images)
    array, raw = datasets._read_idx(path, 2051, (28, 28))
    np.testing.assert_array_equal(array, images)
    assert raw == idx_bytes(images)
    cut = data.draw(st.integers(0, len(raw) - 1))
    path.write_bytes(gzip.compress(raw[:cut]) if gz else raw[:cut])
    with pytest.raises(DatasetError, match=str(path.name)):
        datasets._read_idx(path, 2051, (28, 28))


def test_truncated_idx_names_file_and_sizes(tmp_path):
    write_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    full = path.read_bytes()
    path.write_bytes(full[:-100])
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", tmp_path, download=False, verify=False)
    message = str(info.value)
    assert str(path) in message and "truncated" in message
    assert str(len(full)) in message and str(len(full) - 100) in message


def test_truncated_gzip_is_an_error(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        load_dataset("mnist", tmp_path, download=False, verify=False)


def test_trailing_bytes_are_an_error(tmp_path):
    write_mnist(tmp_path, gz=False)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DatasetError, match="trailing bytes"):
        load_dataset("mnist", tmp_path, download=False, verify=False)


def test_wrong_magic_number(tmp_path):
    write_mnist(tmp_path)
    # a label file where an image file belongs
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros(30, np.uint8))
    with pytest.raises(DatasetError, match="magic number 2049, expected 2051"):
        load_dataset("mnist", tmp_path, download=False, verify=False)


def test_wrong_image_shape(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", tiny_images(30, 0, shape=(27, 28))[0])
    with pytest.raises(DatasetError, match=r"\(27, 28\), expected \(28, 28\)"):
        load_dataset("mnist", tmp_path, download=False, verify=False)


def test_image_label_count_mismatch(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(DatasetError, match="20 images but .* 19 labels"):
        load_dataset("mnist", tmp_path, download=False, verify=False)


def test_label_out_of_range(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(20, 10, np.uint8))
    with pytest.raises(DatasetError, match=r"labels outside 0\.\.9"):
        load_dataset("mnist", tmp_path, download=False, verify=False)


def test_mnist_10k_pool_split_from_custom_directory(tmp_path):
    written = write_mnist(tmp_path, n_test=50, gz=False, parts=("t10k",))
    ds = load_dataset("mnist-10k", tmp_path, download=False, verify=False)
    check_dataset(ds, 784)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (30, 10, 10)
    rows = np.concatenate([np.rint(x[:, 0] * 255) for x in (ds.x_train, ds.x_val, ds.x_test)])
    assert sorted(rows.astype(int)) == list(range(50))
    assert (
        ds.y_test.tolist()
        == (written["t10k"][1][np.rint(ds.x_test[:, 0] * 255).astype(int)]).tolist()
    )
    bigger_val = load_dataset("mnist-10k", tmp_path, n_val=20, download=False, verify=False)
    np.testing.assert_array_equal(bigger_val.x_test, ds.x_test)  # test split ignores n_val
    assert len(bigger_val.y_val) == 20 and len(bigger_val.y_train) == 20


def test_checksum_mismatch_on_load(tmp_path):
    write_mnist(tmp_path, parts=("t10k",))
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist-10k", tmp_path)
    message = str(info.value)
    assert "checksum mismatch" in message and "t10k-images-idx3-ubyte.gz" in message
    assert "2646ac647ad5339dbf082846283269ea" in message and "verify=False" in message


def test_verify_requires_official_counts(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(DatasetError, match="30 train images, but the official fashion-mnist"):
        load_dataset("fashion-mnist", tmp_path, download=False)


# -------------------------------------------------------------------------- SVHN


def test_svhn_mat_round_trip_and_greyscale(tmp_path):
    written = write_svhn(tmp_path)
    ds = load_dataset("svhn", tmp_path, n_val=5, download=False, verify=False)
    check_dataset(ds, 1024)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (20, 5, 10)
    rgb, labels = written["test"]
    np.testing.assert_array_equal(ds.y_test, labels)  # label 10 read back as 0
    assert ds.y_test[0] == 0 and ds.y_test[1] == 1
    assert ds.x_test[0, 1 * 32 + 2] == pytest.approx(0.299, abs=1e-7)  # pure red pixel (1, 2)
    assert ds.x_test[0, 3 * 32 + 4] == pytest.approx(
        (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255, abs=1e-7
    )
    np.testing.assert_allclose(ds.x_test, luma(rgb), rtol=0, atol=1e-6)
    rgb, labels = written["train"]
    rows = np.rint(ds.x_val[:, 0] * 255).astype(int)
    np.testing.assert_allclose(ds.x_val, luma(rgb)[rows], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ds.y_val, labels[rows])


def test_svhn_bad_files(tmp_path):
    write_svhn(tmp_path)
    path = tmp_path / "test_32x32.mat"
    scipy.io.savemat(path, {"X": np.zeros((28, 28, 3, 2), np.uint8), "y": np.ones((2, 1))})
    with pytest.raises(DatasetError, match=r"X must be uint8 \(32, 32, 3, n\)"):
        load_dataset("svhn", tmp_path, n_val=5, download=False, verify=False)
    write_svhn(tmp_path)
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(DatasetError, match="truncated or corrupt") as info:
        load_dataset("svhn", tmp_path, n_val=5, download=False, verify=False)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------- CIFAR-10


@pytest.mark.parametrize("subdir", [True, False])
def test_cifar_pickle_round_trip_and_greyscale(tmp_path, subdir):
    written = write_cifar(tmp_path, subdir=subdir)
    ds = load_dataset("cifar10", tmp_path, n_val=5, download=False, verify=False)
    check_dataset(ds, 1024)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (25, 5, 8)
    rgb, labels = written["test_batch"]
    np.testing.assert_array_equal(ds.y_test, labels)
    assert ds.x_test[0, 1 * 32 + 2] == pytest.approx(0.299, abs=1e-7)
    np.testing.assert_allclose(ds.x_test, luma(rgb), rtol=0, atol=1e-6)
    train_rgb = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    train_grey = luma(train_rgb)
    for x in (ds.x_train, ds.x_val):  # every row is one of the training images
        assert np.abs(x[:, None, :] - train_grey[None]).max(axis=2).min(axis=1).max() < 1e-6
    assert_same(ds, load_dataset("cifar10", tmp_path, n_val=5, download=False, verify=False))


def test_cifar_bad_batches(tmp_path):
    write_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    full = path.read_bytes()
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DatasetError, match="data_batch_3.*truncated or corrupt"):
        load_dataset("cifar10", tmp_path, n_val=5, download=False, verify=False)
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DatasetError, match=r"uint8 \(n, 3072\)"):
        load_dataset("cifar10", tmp_path, n_val=5, download=False, verify=False)


class _Exploit:
    def __reduce__(self):
        return (print, ("pickle code ran",))


def test_cifar_pickle_cannot_run_code(tmp_path, capsys):
    write_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps({b"data": _Exploit(), b"labels": []}))
    with pytest.raises(DatasetError, match=r"refusing to load [\w.]*print"):
        load_dataset("cifar10", tmp_path, n_val=5, download=False, verify=False)
    assert "pickle code ran" not in capsys.readouterr().out


# ---------------------------------------------------- directories and downloads


def test_resolve_data_dir_order(tmp_path, monkeypatch):
    shared = tmp_path / "shared" / "data" / "mnist-10k"
    monkeypatch.setattr(datasets, "_SHARED_MNIST_10K", shared)
    cache = tmp_path / "xdg-cache" / "tnf_env" / "data"
    assert resolve_data_dir("mnist") == cache / "mnist"
    assert resolve_data_dir("mnist-10k") == cache / "mnist-10k"
    monkeypatch.setenv("TNF_DATA", str(tmp_path / "data"))
    assert resolve_data_dir("svhn") == tmp_path / "data" / "svhn"
    assert resolve_data_dir("mnist-10k") == tmp_path / "data" / "mnist-10k"
    write_mnist(tmp_path / "data", parts=("t10k",))  # files directly in $TNF_DATA
    assert resolve_data_dir("mnist-10k") == tmp_path / "data"
    shared.mkdir(parents=True)
    assert resolve_data_dir("mnist-10k") == shared
    assert resolve_data_dir("mnist-10k", tmp_path / "mine") == tmp_path / "mine"
    assert resolve_data_dir("cifar10", str(tmp_path)) == tmp_path


def test_missing_files_message(tmp_path):
    directory = tmp_path / "nowhere"
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", directory, download=False)
    message = str(info.value)
    for name in IDX_NAMES:
        assert name + ".gz" in message
        assert "https://ossci-datasets.s3.amazonaws.com/mnist/" + name + ".gz" in message
    assert str(directory) in message and "download=False" in message
    assert not directory.exists()


def test_missing_files_default_directory_explains_search(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "_SHARED_MNIST_10K", tmp_path / "absent")
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist-10k", download=False)
    message = str(info.value)
    assert str(tmp_path / "xdg-cache" / "tnf_env" / "data" / "mnist-10k") in message
    assert "TNF_DATA unset" in message and str(tmp_path / "absent") in message
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message


def test_failed_download_names_files_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(datasets._MIRRORS, "svhn", ("http://127.0.0.1:9/",))
    with pytest.raises(DatasetError) as info:
        load_dataset("svhn", tmp_path / "svhn")
    message = str(info.value)
    assert "Download failed" in message and "http://127.0.0.1:9/train_32x32.mat" in message
    assert "train_32x32.mat" in message and "test_32x32.mat" in message
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.fixture
def serve_files(monkeypatch):
    """``serve(name, files)``: point the download mirror of ``name`` at a local HTTP server
    of the files' folder (as pooch downloads it), MD5s to match."""
    servers = []

    def serve(name: str, files: dict[str, Path]) -> None:
        folder = next(iter(files.values())).parent
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        monkeypatch.setitem(datasets._MIRRORS, name, (url,))
        monkeypatch.setitem(datasets._DOWNLOAD_MD5, name, {k: md5(p) for k, p in files.items()})

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_download_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch, serve_files):
    write_mnist(tmp_path / "server")
    serve_files(
        "mnist", {n + ".gz": tmp_path / "server" / (n + ".gz") for n in IDX_NAMES}
    )
    monkeypatch.setitem(datasets._DOWNLOAD_MD5["mnist"], "train-images-idx3-ubyte.gz", "0" * 32)
    target = tmp_path / "target"
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", target, verify=False)
    message = str(info.value)
    assert "checksum mismatch" in message and "0" * 32 in message
    assert "train-images-idx3-ubyte.gz" in message
    assert not any(p.is_file() for p in target.rglob("*"))


def test_download_from_mirror_then_load(tmp_path, serve_files):
    write_mnist(tmp_path / "server")
    serve_files(
        "mnist", {n + ".gz": tmp_path / "server" / (n + ".gz") for n in IDX_NAMES}
    )
    target = tmp_path / "target"
    ds = load_dataset("mnist", target, n_val=6, verify=False)
    assert sorted(p.name for p in target.iterdir()) == sorted(n + ".gz" for n in IDX_NAMES)
    assert_same(ds, load_dataset("mnist", tmp_path / "server", n_val=6, verify=False))


def test_cifar_download_extracts_archive(tmp_path, serve_files):
    write_cifar(tmp_path / "src")
    server = tmp_path / "server"
    server.mkdir()
    archive = server / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        tar.addfile(tarfile.TarInfo("../escape"), io.BytesIO(b""))  # ignored, never written
    serve_files("cifar10", {archive.name: archive})
    target = tmp_path / "target"
    ds = load_dataset("cifar10", target, n_val=5, verify=False)
    assert_same(ds, load_dataset("cifar10", tmp_path / "src", n_val=5, verify=False))
    assert [p.name for p in target.iterdir()] == ["cifar-10-batches-py"]
    assert not (tmp_path / "escape").exists()


# ----------------------------------------------------------- the real mnist-10k


@pytest.fixture(scope="module")
def shared_mnist_10k() -> Dataset:
    if not datasets._SHARED_MNIST_10K.is_dir():
        pytest.skip(f"{datasets._SHARED_MNIST_10K} is absent")
    return load_dataset("mnist-10k")


def test_mnist_10k_from_shared_directory(shared_mnist_10k):
    ds = shared_mnist_10k
    check_dataset(ds, 784)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (6000, 2000, 2000)
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert set(np.unique(y)) == set(range(10))
    all_labels = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    assert np.bincount(all_labels).tolist() == SHARED_LABEL_COUNTS
    hashes = [
        {hashlib.sha1(row.tobytes()).digest() for row in x}
        for x in (ds.x_train, ds.x_val, ds.x_test)
    ]
    assert not (hashes[0] & hashes[1] or hashes[0] & hashes[2] or hashes[1] & hashes[2])
    assert ds.x_train.max() == 1.0 and ds.x_train.min() == 0.0


def test_mnist_10k_is_deterministic(shared_mnist_10k):
    assert_same(shared_mnist_10k, load_dataset("mnist-10k", datasets._SHARED_MNIST_10K))
