"""Datasets: :func:`load_dataset` gets any of :data:`DATASETS` by name.

Every dataset comes back as a :class:`Dataset` holding deterministic
train / validation / test splits: images as float32 rows in [0, 1] (flattened
row-major), labels as int64 in 0..9.

- ``digits``: scikit-learn's bundled 8x8 digits (64 inputs, /16), no files;
  899 / 539 / 359.
- ``mnist-10k``: the official MNIST test set, ``t10k-images-idx3-ubyte`` and
  ``t10k-labels-idx1-ubyte`` (784 inputs); 6000 / 2000 / 2000.
- ``mnist``, ``fashion-mnist``: the four ``train-*`` / ``t10k-*`` IDX files
  (784 inputs); 55000 / 5000 / 10000.
- ``svhn``: ``train_32x32.mat`` and ``test_32x32.mat`` (1024 grey inputs);
  68257 / 5000 / 26032.
- ``cifar10``: ``cifar-10-batches-py/data_batch_1..5`` and ``test_batch``
  (1024 grey inputs); 45000 / 5000 / 10000.

IDX files may be gzip-compressed (``.gz``) or not.  Colour images become grey
with the ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B.

Splits are fixed: they depend only on the files and on ``seed`` (default
:data:`SPLIT_SEED`), never on global random state, so every run of the project
compares on the same test images.  ``digits`` and ``mnist-10k`` are one pool of
images: a seeded permutation gives the test fifth, then the validation images
(3/10 of digits, a fifth of mnist-10k), then training.  The other datasets keep
their official test files as the test split and carve validation from the
training files with a seeded permutation.

Data directory (:func:`resolve_data_dir`): the ``data_dir`` argument; else, for
``mnist-10k``, ``../shared/data/mnist-10k`` next to the repository when it
exists; else ``$TNF_DATA/<name>`` (for ``mnist-10k`` also ``$TNF_DATA`` itself);
else the download cache ``<user cache>/tnf_env/data/<name>`` (platformdirs:
``$XDG_CACHE_HOME``, default ``~/.cache``, on Linux).  Missing files are
downloaded there by pooch when ``download=True`` and a network is reachable: to
a temporary file, checked against the published MD5, then renamed, so no
partial file is ever left.

``verify=True`` (the default) insists on the official files: the MD5 of their
contents (for IDX files, of the uncompressed bytes, so recompressed copies
pass) where this module knows it, and the official image counts.
``verify=False`` reads any well-formed files of the same format, such as
subsets or the tiny files the tests write.  Structure (magic numbers, shapes,
lengths, label ranges) is always checked; bad input raises
:class:`DatasetError`, never partial data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS", "DEFAULT_DATASET", "SPLIT_SEED", "Dataset", "DatasetError", "load_dataset",
    "resolve_data_dir",
]

DATASETS = ("digits", "mnist-10k", "mnist", "fashion-mnist", "svhn", "cifar10")
#: The dataset of every command and the environment unless told otherwise (offline).
DEFAULT_DATASET = "digits"
N_CLASSES = 10
SPLIT_SEED = 0
# Validation share of the pooled datasets: digits takes 3/10 (539 images) so that
# its validation accuracy has a standard error of about 0.8 points, not 1.0.
_POOLED_VAL_FRACTION = {"digits": 0.3, "mnist-10k": 0.2}
# Accuracy floor tolerance: about two standard errors of the validation accuracy
# (sqrt(p (1 - p) / n) at p = 0.965: digits 539 images 0.79 points; mnist-10k 2000
# images 0.41 points, where the paper's 0.5-point iso-accuracy band is kept).
_FLOOR_TOLERANCE = {"digits": 0.015}
DEFAULT_TOLERANCE = 0.005


def default_tolerance(name: str) -> float:
    """The accuracy floor's default tolerance on dataset ``name`` (a fraction)."""
    return _FLOOR_TOLERANCE.get(name, DEFAULT_TOLERANCE)


def dataset_names() -> str:
    """The dataset names, comma-separated, for help texts and error messages."""
    return ", ".join(DATASETS)


def tolerance_note() -> str:
    """The default floor tolerances in words, e.g. ``digits 0.015, the others 0.005``."""
    own = [f"{n} {default_tolerance(n):g}" for n in DATASETS if n in _FLOOR_TOLERANCE]
    return ", ".join([*own, f"the others {DEFAULT_TOLERANCE:g}"])
DOWNLOAD_TIMEOUT_S = 30.0
# ../shared beside the repository: this file is REPO/tnf_env/data/datasets.py.
_SHARED_MNIST_10K = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist-10k"

_IDX = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_SVHN = {"train": ("train_32x32.mat",), "test": ("test_32x32.mat",)}
_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
_CIFAR_ARCHIVE = "cifar-10-python.tar.gz"


def _idx_files(*splits: str) -> dict[str, tuple[str, ...]]:
    return {stem: (stem + ".gz", stem) for split in splits for stem in _IDX[split]}


# File key -> accepted paths relative to the data directory, first one preferred.
_FILES: dict[str, dict[str, tuple[str, ...]]] = {
    "mnist-10k": _idx_files("test"),
    "mnist": _idx_files("train", "test"),
    "fashion-mnist": _idx_files("train", "test"),
    "svhn": {f: (f,) for split in ("train", "test") for f in _SVHN[split]},
    "cifar10": {b: (f"{_CIFAR_DIR}/{b}", b) for split in ("train", "test") for b in _CIFAR[split]},
}
_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist-10k": _MNIST_MIRRORS,
    "mnist": _MNIST_MIRRORS,
    "fashion-mnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    "svhn": ("http://ufldl.stanford.edu/housenumbers/",),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}
_MNIST_GZ_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_SVHN_MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
}
# MD5 of each downloadable file as published.
_DOWNLOAD_MD5: dict[str, dict[str, str]] = {
    "mnist-10k": {k: v for k, v in _MNIST_GZ_MD5.items() if k.startswith("t10k")},
    "mnist": _MNIST_GZ_MD5,
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "svhn": _SVHN_MD5,
    "cifar10": {_CIFAR_ARCHIVE: "c58f30108f718f92721af3b95e74349a"},
}
_MNIST_T10K_MD5 = {
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# MD5 of each file's contents (IDX: uncompressed), checked when verify=True.
_CONTENT_MD5: dict[str, dict[str, str]] = {
    "mnist-10k": _MNIST_T10K_MD5,
    "mnist": _MNIST_T10K_MD5,
    "svhn": _SVHN_MD5,
    "cifar10": {
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
    },
}
_OFFICIAL_COUNTS = {
    "mnist-10k": {"test": 10000},
    "mnist": {"train": 60000, "test": 10000},
    "fashion-mnist": {"train": 60000, "test": 10000},
    "svhn": {"train": 73257, "test": 26032},
    "cifar10": {"train": 50000, "test": 10000},
}
_DEFAULT_N_VAL = 5000  # for datasets with official train/test files, at most a fifth of train
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601


class DatasetError(ValueError):
    """A dataset cannot be loaded: unknown name, missing or malformed files, bad arguments."""


@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """Train / validation / test splits: x float32 (n, n_inputs) in [0, 1], y int64 in 0..9."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self) -> None:
        width = self.x_train.shape[1] if self.x_train.ndim == 2 else None
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != width:
                raise DatasetError(
                    f"x_{split}: expected float32 (n, {width}), got {x.dtype} {x.shape}"
                )
            if y.dtype != np.int64 or y.shape != (len(x),):
                raise DatasetError(
                    f"y_{split}: expected int64 ({len(x)},), got {y.dtype} {y.shape}"
                )
            if x.size and not (x.min() >= 0.0 and x.max() <= 1.0):
                raise DatasetError(f"x_{split}: values outside [0, 1]")
            if y.size and not (y.min() >= 0 and y.max() < N_CLASSES):
                raise DatasetError(f"y_{split}: labels outside 0..{N_CLASSES - 1}")

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return N_CLASSES

    def summary(self) -> str:
        return (
            f"{self.name}: {self.n_inputs} inputs, {self.n_classes} classes, "
            f"train {len(self.y_train)} / val {len(self.y_val)} / test {len(self.y_test)}"
        )

    def __repr__(self) -> str:
        return f"Dataset({self.summary()})"


def _canonical(name: str) -> str:
    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else None
    if key not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return key


def _holds(name: str, directory: Path) -> bool:
    return all(_locate(directory, cands) for cands in _FILES[name].values())


def _resolve(name: str, data_dir: str | os.PathLike | None) -> tuple[Path, str]:
    """The data directory for ``name`` and how it was chosen (for error messages)."""
    if data_dir is not None:
        return Path(data_dir).expanduser(), "given as data_dir"
    if name == "mnist-10k" and _SHARED_MNIST_10K.is_dir():
        return _SHARED_MNIST_10K, "the shared copy next to the repository"
    shared = f", {_SHARED_MNIST_10K} absent" if name == "mnist-10k" else ""
    if os.environ.get("TNF_DATA"):
        root = Path(os.environ["TNF_DATA"]).expanduser()
        if name == "mnist-10k" and _holds(name, root):
            return root, f"$TNF_DATA{shared}"
        return root / name, f"$TNF_DATA/{name}{shared}"
    from platformdirs import user_cache_path  # honours $XDG_CACHE_HOME on Linux

    return (
        user_cache_path("tnf_env") / "data" / name,
        f"the download cache: no data_dir argument, TNF_DATA unset{shared}",
    )


def resolve_data_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """Directory ``load_dataset`` reads ``name`` from (None for ``digits``, which needs none).

    Order: ``data_dir``; for ``mnist-10k`` the repository's ``../shared/data/mnist-10k``
    if it exists; ``$TNF_DATA/<name>`` (``mnist-10k``: ``$TNF_DATA`` itself when it holds
    the files); else platformdirs' user cache (Linux: ``$XDG_CACHE_HOME``, default
    ``~/.cache``) ``/tnf_env/data/<name>``.
    """
    name = _canonical(name)
    return None if name == "digits" else _resolve(name, data_dir)[0]


def _locate(directory: Path, candidates: tuple[str, ...]) -> Path | None:
    return next((directory / c for c in candidates if (directory / c).is_file()), None)


def _archive_for(name: str, key: str) -> str:
    if name == "cifar10":
        return _CIFAR_ARCHIVE
    return key if key in _DOWNLOAD_MD5[name] else key + ".gz"


def _md5(data: bytes | Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    if isinstance(data, Path):
        with data.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    else:
        digest.update(data)
    return digest.hexdigest()


def _fetch(name: str, archive: str, directory: Path) -> Path:
    """Download ``archive`` into ``directory`` with pooch, MD5-checked (pooch streams it to
    a temporary file there and keeps it only if the checksum matches); raise OSError if
    every mirror fails."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # no "Downloading ..." lines on stderr
    expected, errors = _DOWNLOAD_MD5[name][archive], []
    for base in _MIRRORS[name]:
        url = base.rstrip("/") + "/" + archive
        try:
            return Path(
                pooch.retrieve(
                    url,
                    known_hash=f"md5:{expected}",
                    fname=archive,
                    path=directory,
                    downloader=pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT_S),
                )
            )
        except ValueError as exc:  # pooch's checksum mismatch (it names both MD5s)
            errors.append(f"{url}: checksum mismatch ({exc})")
        except OSError as exc:  # requests' errors are OSErrors too
            errors.append(f"{url}: {exc}")
    raise OSError("; ".join(errors))


def _extract_cifar(archive: Path, directory: Path) -> None:
    wanted = set(_FILES["cifar10"])
    target = directory / _CIFAR_DIR
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if not (
                member.isfile()
                and len(parts) == 2
                and parts[0] == _CIFAR_DIR
                and parts[1] in wanted
            ):
                continue
            src = tar.extractfile(member)
            assert src is not None  # a regular file (checked above) always has content
            target.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{parts[1]}.", suffix=".part", dir=target)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(src.read())
                os.replace(tmp, target / parts[1])
            finally:
                Path(tmp).unlink(missing_ok=True)
    archive.unlink()


def _find_files(name: str, directory: Path, how: str, download: bool) -> dict[str, Path]:
    """Paths of all files of ``name``; download missing ones or raise a DatasetError."""
    found = {k: _locate(directory, c) for k, c in _FILES[name].items()}
    note = "Downloading was not attempted (download=False)."
    if download and None in found.values():
        try:
            missing = [k for k, p in found.items() if p is None]
            archives = list(dict.fromkeys(_archive_for(name, k) for k in missing))
            for archive in archives:
                path = _fetch(name, archive, directory)
                if name == "cifar10":
                    _extract_cifar(path, directory)
            note = f"Downloaded {', '.join(archives)}, which did not provide them all."
        except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
            note = f"Download failed: {exc}"
        found = {k: _locate(directory, c) for k, c in _FILES[name].items()}
    missing = [k for k, p in found.items() if p is None]
    if missing:
        urls = dict.fromkeys(f"{_MIRRORS[name][0]}{_archive_for(name, k)}" for k in missing)
        extra = " (or uncompressed)" if name in ("mnist-10k", "mnist", "fashion-mnist") else ""
        raise DatasetError(
            f"dataset {name!r}: {len(missing)} file(s) missing: "
            f"{', '.join(_FILES[name][k][0] for k in missing)}{extra}.\n"
            f"Looked in {directory} ({how}).\n{note}\n"
            f"To get them, download\n  "
            + "\n  ".join(urls)
            + f"\ninto {directory}"
            + (" and unpack it there" if name == "cifar10" else "")
            + ", or pass data_dir= (or set TNF_DATA) to a directory that holds them."
        )
    return found  # type: ignore[return-value]


def _verify(name: str, key: str, path: Path, contents: bytes | Path, verify: bool) -> None:
    expected = _CONTENT_MD5.get(name, {}).get(key)
    if verify and expected and (got := _md5(contents)) != expected:
        what = "uncompressed contents" if path.suffix == ".gz" else "contents"
        raise DatasetError(
            f"{path}: checksum mismatch: MD5 of the {what} is {got}, expected {expected} for "
            f"the official {name} file. The file is corrupt or not the official one: delete it "
            "and get it again, or pass verify=False to read other files in this format."
        )


def _check_count(name: str, split: str, n: int, path: Path, verify: bool) -> None:
    official = _OFFICIAL_COUNTS[name][split]
    if verify and n != official:
        raise DatasetError(
            f"{path}: {n} {split} images, but the official {name} files have "
            f"{official}; pass verify=False to read other files in this format."
        )


def _read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> tuple[np.ndarray, bytes]:
    """Array and uncompressed bytes of an IDX file (``magic`` 2051: images, 2049: labels)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{path}: cannot read ({exc}); the file is truncated or corrupt: "
            "delete it and get it again."
        ) from exc
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        raise DatasetError(
            f"{path}: not an IDX {'image' if ndim == 3 else 'label'} file: "
            f"magic number {found}, expected {magic}."
        )
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated: {len(raw)} bytes, shorter than the header.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims[1:] != item_shape:
        raise DatasetError(f"{path}: items of shape {dims[1:]}, expected {item_shape}.")
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "has trailing bytes"
        raise DatasetError(
            f"{path}: {state}: its header promises {dims[0]} items, "
            f"{expected} bytes, but it holds {len(raw)} bytes."
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims), raw


def _labels(y: np.ndarray, path: Path, top: int = N_CLASSES - 1) -> np.ndarray:
    try:
        y = np.asarray(y).astype(np.int64).ravel()
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: labels are not integers ({exc}).") from exc
    if y.size and (y.min() < 0 or y.max() > top):
        raise DatasetError(f"{path}: labels outside 0..{top} ({y.min()}..{y.max()}).")
    return y


def _load_idx(name: str, split: str, files: dict[str, Path], verify: bool):
    img_key, lbl_key = _IDX[split]
    images, img_raw = _read_idx(files[img_key], 2051, (28, 28))
    labels, lbl_raw = _read_idx(files[lbl_key], 2049, ())
    if len(images) != len(labels):
        raise DatasetError(
            f"{files[img_key]} holds {len(images)} images but "
            f"{files[lbl_key]} holds {len(labels)} labels."
        )
    _verify(name, img_key, files[img_key], img_raw, verify)
    _verify(name, lbl_key, files[lbl_key], lbl_raw, verify)
    _check_count(name, split, len(images), files[img_key], verify)
    return images.reshape(len(images), -1), _labels(labels, files[lbl_key])


def _grey(rgb: np.ndarray) -> np.ndarray:
    """uint8 (n, 3, ...) RGB planes -> float32 (n, pixels) luma in [0, 1], in blocks."""
    out = np.empty((len(rgb), int(np.prod(rgb.shape[2:]))), np.float32)
    for start in range(0, len(rgb), 4096):
        block = rgb[start : start + 4096].astype(np.float32).reshape(-1, 3, out.shape[1])
        grey = block[:, 0] * _LUMA[0] + block[:, 1] * _LUMA[1] + block[:, 2] * _LUMA[2]
        out[start : start + 4096] = np.minimum(grey / np.float32(255.0), np.float32(1.0))
    return out


def _load_svhn(name: str, split: str, files: dict[str, Path], verify: bool):
    from scipy.io import loadmat

    key = _SVHN[split][0]
    path = files[key]
    try:
        mat = loadmat(path)
    except Exception as exc:
        raise DatasetError(
            f"{path}: cannot read the .mat file ({type(exc).__name__}: {exc}); "
            "it is truncated or corrupt: delete it and get it again."
        ) from exc
    x, y = mat.get("X"), mat.get("y")
    if (
        not isinstance(x, np.ndarray)
        or x.dtype != np.uint8
        or x.ndim != 4
        or x.shape[:3] != (32, 32, 3)
    ):
        got = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else repr(type(x).__name__)
        raise DatasetError(f"{path}: variable X must be uint8 (32, 32, 3, n), got {got}.")
    if not isinstance(y, np.ndarray) or y.size != x.shape[3]:
        raise DatasetError(f"{path}: variable y must hold {x.shape[3]} labels, one per image.")
    _verify(name, key, path, path, verify)
    _check_count(name, split, x.shape[3], path, verify)
    labels = _labels(y, path, top=10) % 10  # SVHN writes digit 0 as label 10
    return _grey(x.transpose(3, 2, 0, 1)), labels


class _Unpickler(pickle.Unpickler):
    """Refuses every global but those a pickled numpy array needs: no code runs."""

    _ALLOWED = {
        *(
            (f"numpy.{core}.{mod}", fn)
            for core in ("core", "_core")
            for mod, fn in (
                ("multiarray", "_reconstruct"),
                ("multiarray", "scalar"),
                ("numeric", "_frombuffer"),
            )
        ),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _load_cifar(name: str, split: str, files: dict[str, Path], verify: bool):
    xs, ys = [], []
    for key in _CIFAR[split]:
        path = files[key]
        try:
            with path.open("rb") as fh:
                batch = _Unpickler(fh, encoding="latin1").load()
            data = batch.get(b"data", batch.get("data"))
            labels = batch.get(b"labels", batch.get("labels"))
        except Exception as exc:
            raise DatasetError(
                f"{path}: not a CIFAR-10 batch ({type(exc).__name__}: {exc}); "
                "it is truncated or corrupt: delete it and get it again."
            ) from exc
        if not (
            isinstance(data, np.ndarray)
            and data.dtype == np.uint8
            and data.ndim == 2
            and data.shape[1] == 3072
        ):
            got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data)
            raise DatasetError(f"{path}: 'data' must be uint8 (n, 3072), got {got}.")
        if labels is None or len(labels) != len(data):
            raise DatasetError(f"{path}: 'labels' must hold {len(data)} labels, one per image.")
        _verify(name, key, path, path, verify)
        xs.append(_grey(data.reshape(-1, 3, 1024)))
        ys.append(_labels(labels, path))
    x, y = np.concatenate(xs), np.concatenate(ys)
    _check_count(name, split, len(x), files[_CIFAR[split][0]].parent, verify)
    return x, y


def _as_float(x: np.ndarray, scale: float = 255.0) -> np.ndarray:
    return x if x.dtype == np.float32 else x.astype(np.float32) / np.float32(scale)


def _check_n_val(n_val: int, available: int, name: str) -> int:
    if (
        isinstance(n_val, bool)
        or not isinstance(n_val, int | np.integer)
        or not 0 <= n_val < available
    ):
        raise DatasetError(
            f"{name}: n_val must be an integer in 0..{available - 1} (leaving at "
            f"least one training image), got {n_val!r}."
        )
    return int(n_val)


def _pooled(name, x, y, seed, n_val, scale=255.0) -> Dataset:
    """One pool: permutation -> test (a fifth), validation (default a fifth), training."""
    n = len(y)
    n_test = n // 5
    default_val = int(n * _POOLED_VAL_FRACTION[name])
    n_val = _check_n_val(default_val if n_val is None else n_val, n - n_test, name)
    order = np.random.default_rng(seed).permutation(n)
    parts = (
        np.sort(order[:n_test]),
        np.sort(order[n_test : n_test + n_val]),
        np.sort(order[n_test + n_val :]),
    )
    test, val, train = ((_as_float(x[i], scale), y[i]) for i in parts)
    return Dataset(name, *train, *val, *test)


def _carved(name, train, test, seed, n_val) -> Dataset:
    """Official test files; validation carved from the training files by a seeded permutation."""
    (x, y), n = train, len(train[1])
    n_val = _check_n_val(min(_DEFAULT_N_VAL, n // 5) if n_val is None else n_val, n, name)
    order = np.random.default_rng(seed).permutation(n)
    val, rest = np.sort(order[:n_val]), np.sort(order[n_val:])
    return Dataset(
        name, _as_float(x[rest]), y[rest], _as_float(x[val]), y[val], _as_float(test[0]), test[1]
    )


_LOADERS = {
    "mnist-10k": _load_idx,
    "mnist": _load_idx,
    "fashion-mnist": _load_idx,
    "svhn": _load_svhn,
    "cifar10": _load_cifar,
}


def load_dataset(
    name: str = "digits",
    data_dir: str | os.PathLike | None = None,
    *,
    seed: int = SPLIT_SEED,
    n_val: int | None = None,
    download: bool = True,
    verify: bool = True,
) -> Dataset:
    """Load dataset ``name`` (one of :data:`DATASETS`) with deterministic splits.

    ``data_dir``: where the files are (see :func:`resolve_data_dir`; ignored by ``digits``).
    ``seed``: seed of the split permutation; keep the default so that every run compares on
    the same test images.  ``n_val``: validation size (default: 3/10 for ``digits``, a fifth
    for ``mnist-10k``, whose test fifth does not change with it; 5000 from the training files
    otherwise).  ``download``: fetch missing files (MD5-checked) when a network is reachable.
    ``verify``: require the official files (content MD5 where known, official counts).
    Raises :class:`DatasetError` with a clear message on any problem.
    """
    name = _canonical(name)
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return _pooled(name, digits.data, digits.target.astype(np.int64), seed, n_val, 16.0)
    directory, how = _resolve(name, data_dir)
    files = _find_files(name, directory, how, download)
    load = _LOADERS[name]
    if name == "mnist-10k":
        x, y = load(name, "test", files, verify)
        return _pooled(name, x, y, seed, n_val)
    return _carved(
        name, load(name, "train", files, verify), load(name, "test", files, verify), seed, n_val
    )
