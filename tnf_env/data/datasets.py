"""Datasets: :func:`load_dataset` gets any registered dataset by name.

Every dataset comes back as a :class:`Dataset` holding deterministic
train / validation / test splits: images as float32 rows in [0, 1] (flattened
row-major), labels as int64 in 0..9. Each dataset is one
:class:`~tnf_env.data.registry.DatasetSpec` record, registered below; adding a dataset
is one record (plus a reader in :mod:`.formats` for a new file format).
``python -m tnf_env.data.datasets`` prints the registry as docs/environment.md shows it.

Splits are fixed: they depend only on the files and on ``seed`` (default
:data:`SPLIT_SEED`), never on global random state, so every run of the project
compares on the same test images. Pooled datasets (``digits``, ``mnist-10k``) are one
pool of images: a seeded permutation gives the test fifth, then the validation images
(the record's ``val_fraction``), then training. The others keep their official test
files as the test split and carve validation from the training files with a seeded
permutation.

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
pass) where the record knows it, and the official image counts.
``verify=False`` reads any well-formed files of the same format, such as
subsets or the tiny files the tests write.  Structure (magic numbers, shapes,
lengths, label ranges) is always checked; bad input raises
:class:`DatasetError`, never partial data.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwmodel.safeload import DocumentError, regular_file

from ..settings import DEFAULT_DATASET  # the dataset unless told otherwise (offline)
from ..validation import NUMPY_SEED_LIMIT, check_seed
from .formats import read_cifar, read_digits, read_idx, read_idx_part, read_svhn
from .registry import (
    DEFAULT_N_VAL,
    DEFAULT_TOLERANCE,
    N_CLASSES,
    DatasetError,
    DatasetSpec,
    SpecTable,
    dataset_names,
    dataset_spec,
    datasets_table,
    default_tolerance,
    register,
    registered,
    tolerance_note,
)

__all__ = [
    "DATASETS", "DEFAULT_DATASET", "DEFAULT_TOLERANCE", "SPLIT_SEED", "SPLIT_SEED_LIMIT",
    "Dataset", "DatasetError", "DatasetSpec", "dataset_names", "dataset_spec",
    "default_tolerance", "load_dataset", "register", "resolve_data_dir", "tolerance_note",
]

SPLIT_SEED = 0
# Split seeds go to numpy's generators: the limit of every numpy-seeded value.
SPLIT_SEED_LIMIT = NUMPY_SEED_LIMIT
DOWNLOAD_TIMEOUT_S = 30.0
# ../shared beside the repository: this file is REPO/tnf_env/data/datasets.py.
_SHARED_MNIST_10K = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist-10k"

# ---------------------------------------------------------------- the records

_IDX = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _idx_files(*parts: str) -> dict[str, tuple[str, ...]]:
    """IDX file keys of ``parts``, each accepted gzip-compressed (preferred) or not."""
    return {stem: (stem + ".gz", stem) for part in parts for stem in _IDX[part]}


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_MNIST_GZ_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_MNIST_T10K_MD5 = {
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
_MLP_784 = (784, 1200, 1200, 10)  # the paper's MNIST network (docs/design.md section 3)
_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_SVHN_MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
}

register(DatasetSpec(
    "digits", "scikit-learn's bundled 8×8 digits, no files needed", 64, (64, 256, 256, 10),
    read_digits, parts={"all": ()}, pixel_max=16.0, official_counts={"all": 1797},
    # 3/10 as validation (539 images): its accuracy's standard error is 0.8 points, not 1.0
    val_fraction=0.3,
    # two standard errors of that accuracy at p = 0.965 (sqrt(p (1 - p) / 539) = 0.79 points)
    tolerance=0.015,
    # 1,079 training images: batches of 400 give too few steps
    recipe={"batch_size": 50},
))
register(DatasetSpec(
    "mnist-10k", "the official MNIST test set, read from `../shared/data/mnist-10k`", 784,
    _MLP_784, read_idx_part, parts={"test": _IDX["test"]}, files=_idx_files("test"),
    val_fraction=0.2, mirrors=_MNIST_MIRRORS,
    download_md5={k: v for k, v in _MNIST_GZ_MD5.items() if k.startswith("t10k")},
    content_md5=_MNIST_T10K_MD5, official_counts={"test": 10000},
    # random shifts lift 784-1200-1200-10 on 6,000 training images from ~95.4% to ~97% test
    recipe={"augment_shift": 2},
))
register(DatasetSpec(
    "mnist", "the four official IDX files", 784, _MLP_784, read_idx_part, parts=_IDX,
    files=_idx_files("train", "test"), mirrors=_MNIST_MIRRORS, download_md5=_MNIST_GZ_MD5,
    content_md5=_MNIST_T10K_MD5, official_counts={"train": 60000, "test": 10000},
))
register(DatasetSpec(
    "fashion-mnist", "the four official IDX files", 784, _MLP_784, read_idx_part,
    parts=_IDX, files=_idx_files("train", "test"),
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    download_md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    official_counts={"train": 60000, "test": 10000},
))
register(DatasetSpec(
    "svhn", "`train_32x32.mat`, `test_32x32.mat`, as 32×32 greyscale", 1024,
    (1024, 1200, 1200, 1200, 10), read_svhn,
    parts={"train": ("train_32x32.mat",), "test": ("test_32x32.mat",)},
    files={f: (f,) for f in _SVHN_MD5}, mirrors=("http://ufldl.stanford.edu/housenumbers/",),
    download_md5=_SVHN_MD5, content_md5=_SVHN_MD5,
    official_counts={"train": 73257, "test": 26032},
))
register(DatasetSpec(
    "cifar10", "`cifar-10-batches-py/` pickles, as 32×32 greyscale", 1024,
    (1024, 1200, 1200, 1200, 1200, 10), read_cifar,
    parts={"train": _CIFAR_BATCHES, "test": ("test_batch",)},
    files={b: (f"{_CIFAR_DIR}/{b}", b) for b in (*_CIFAR_BATCHES, "test_batch")},
    mirrors=("https://www.cs.toronto.edu/~kriz/",), archive="cifar-10-python.tar.gz",
    download_md5={"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
    content_md5={
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
    },
    official_counts={"train": 50000, "test": 10000},
))

#: The project's datasets, in the order help texts list them.
DATASETS = registered()
# The records' download sources by dataset name (writing one replaces the record's field).
_MIRRORS = SpecTable("mirrors")
_DOWNLOAD_MD5 = SpecTable("download_md5")
_read_idx = read_idx  # the IDX reader, by the name the format tests use


# ---------------------------------------------------------------- the splits

@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """Train / validation / test splits: x float32 (n, n_inputs) in [0, 1], y int64 labels.

    :param n_classes: labels lie in 0..n_classes-1 (the record's; 10 for every dataset here).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int = N_CLASSES

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
            if y.size and not (y.min() >= 0 and y.max() < self.n_classes):
                raise DatasetError(f"y_{split}: labels outside 0..{self.n_classes - 1}")

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    def summary(self) -> str:
        return (
            f"{self.name}: {self.n_inputs} inputs, {self.n_classes} classes, "
            f"train {len(self.y_train)} / val {len(self.y_val)} / test {len(self.y_test)}"
        )

    def __repr__(self) -> str:
        return f"Dataset({self.summary()})"


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


def _check_split_seed(seed: Any, name: str) -> int:
    """The split's seed as an int in ``[0, SPLIT_SEED_LIMIT)``, checked before numpy sees
    it (its own errors name no argument)."""
    try:
        return check_seed(seed, "seed", SPLIT_SEED_LIMIT)
    except ValueError as exc:
        raise DatasetError(f"load_dataset({name!r}): {exc}") from None


def _pooled(
    spec: DatasetSpec, x: np.ndarray, y: np.ndarray, seed: int, n_val: int | None
) -> Dataset:
    """One pool: permutation -> test (a fifth), validation (default: the record's share),
    training."""
    assert spec.val_fraction is not None  # load_dataset pools only such records
    n = len(y)
    n_test = n // 5
    default_val = int(n * spec.val_fraction)
    n_val = _check_n_val(default_val if n_val is None else n_val, n - n_test, spec.name)
    order = np.random.default_rng(seed).permutation(n)
    parts = (
        np.sort(order[:n_test]),
        np.sort(order[n_test : n_test + n_val]),
        np.sort(order[n_test + n_val :]),
    )
    test, val, train = ((_as_float(x[i], spec.pixel_max), y[i]) for i in parts)
    return Dataset(spec.name, *train, *val, *test, n_classes=spec.n_classes)


def _carved(
    spec: DatasetSpec,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    seed: int,
    n_val: int | None,
) -> Dataset:
    """Official test files; validation carved from the training files by a seeded permutation."""
    (x, y), n = train, len(train[1])
    n_val = _check_n_val(min(DEFAULT_N_VAL, n // 5) if n_val is None else n_val, n, spec.name)
    order = np.random.default_rng(seed).permutation(n)
    val, rest = np.sort(order[:n_val]), np.sort(order[n_val:])
    scale = spec.pixel_max
    return Dataset(
        spec.name, _as_float(x[rest], scale), y[rest], _as_float(x[val], scale), y[val],
        _as_float(test[0], scale), test[1], n_classes=spec.n_classes,
    )


# ------------------------------------------------------------ files and downloads


def _shared_copy(name: str) -> Path | None:
    """The copy the project's machines keep beside the repository (only of mnist-10k)."""
    return _SHARED_MNIST_10K if name == "mnist-10k" else None


def _resolve(name: str, data_dir: str | os.PathLike | None) -> tuple[Path, str]:
    """The data directory for ``name`` and how it was chosen (for error messages)."""
    if data_dir is not None:
        return Path(data_dir).expanduser(), "given as data_dir"
    copy = _shared_copy(name)
    if copy is not None and copy.is_dir():
        return copy, "the shared copy next to the repository"
    shared = f", {copy} absent" if copy is not None else ""
    if os.environ.get("TNF_DATA"):
        root = Path(os.environ["TNF_DATA"]).expanduser()
        if copy is not None and _holds(dataset_spec(name), root):  # the shared copy's layout
            return root, f"$TNF_DATA{shared}"
        return root / name, f"$TNF_DATA/{name}{shared}"
    from platformdirs import user_cache_path  # honours $XDG_CACHE_HOME on Linux

    return (
        user_cache_path("tnf_env") / "data" / name,
        f"the download cache: no data_dir argument, TNF_DATA unset{shared}",
    )


def resolve_data_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """Directory ``load_dataset`` reads ``name`` from (None for one that needs no files).

    Order: ``data_dir``; for ``mnist-10k`` the repository's ``../shared/data/mnist-10k``
    if it exists; ``$TNF_DATA/<name>`` (``mnist-10k``: ``$TNF_DATA`` itself when it holds
    the files); else platformdirs' user cache (Linux: ``$XDG_CACHE_HOME``, default
    ``~/.cache``) ``/tnf_env/data/<name>``.

    :param name: a registered dataset's name.
    :param data_dir: the directory given by the user, if any.
    """
    spec = dataset_spec(name)
    return None if not spec.files else _resolve(spec.name, data_dir)[0]


def _locate(directory: Path, candidates: tuple[str, ...]) -> Path | None:
    return next((directory / c for c in candidates if (directory / c).is_file()), None)


def _holds(spec: DatasetSpec, directory: Path) -> bool:
    return all(_locate(directory, cands) for cands in spec.files.values())


def _fetch(spec: DatasetSpec, archive: str, directory: Path) -> Path:
    """Download ``archive`` into ``directory`` with pooch, MD5-checked (pooch streams it to
    a temporary file there and keeps it only if the checksum matches); raise OSError if
    every mirror fails."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # no "Downloading ..." lines on stderr
    expected, errors = spec.download_md5.get(archive), []
    if expected is None:  # never keep a download nothing can check
        raise OSError(f"the {spec.name} record has no published MD5 of {archive}")
    for base in spec.mirrors:
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


def _extract(spec: DatasetSpec, archive: Path, directory: Path) -> None:
    """Unpack the record's files (their preferred paths) from a tar ``archive``, each
    atomically; nothing else in the archive is written."""
    wanted = {cands[0] for cands in spec.files.values()}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not (member.isfile() and member.name in wanted):
                continue
            src = tar.extractfile(member)
            assert src is not None  # a regular file (checked above) always has content
            target = directory / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".part", dir=target.parent
            )
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(src.read())
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
    archive.unlink()


def _refuse_non_regular(spec: DatasetSpec, directory: Path, candidates: tuple[str, ...]) -> None:
    """A file's place taken by a directory, a FIFO or a device is no file to read (opening a
    FIFO would block) nor one to download over: refused in one line naming it."""
    for c in candidates:
        path = directory / c
        if path.exists() and not path.is_file():
            try:
                regular_file(path)
            except DocumentError as exc:
                raise DatasetError(f"dataset {spec.name!r}: {exc}") from None


def _find_files(spec: DatasetSpec, directory: Path, how: str, download: bool) -> dict[str, Path]:
    """Paths of all files of ``spec``; download missing ones or raise a DatasetError."""
    found = {k: _locate(directory, c) for k, c in spec.files.items()}
    for key, path in found.items():
        if path is None:
            _refuse_non_regular(spec, directory, spec.files[key])
    note = "Downloading was not attempted (download=False)."
    if download and None in found.values():
        try:
            missing = [k for k, p in found.items() if p is None]
            archives = list(dict.fromkeys(spec.archive_of(k) for k in missing))
            for archive in archives:
                path = _fetch(spec, archive, directory)
                if spec.archive is not None:
                    _extract(spec, path, directory)
            note = f"Downloaded {', '.join(archives)}, which did not provide them all."
        except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
            note = f"Download failed: {exc}"
        found = {k: _locate(directory, c) for k, c in spec.files.items()}
    missing = [k for k, p in found.items() if p is None]
    if missing:
        urls = dict.fromkeys(f"{spec.mirrors[0]}{spec.archive_of(k)}" for k in missing)
        gzipped = any(c[0].endswith(".gz") and len(c) > 1 for c in spec.files.values())
        raise DatasetError(
            f"dataset {spec.name!r}: {len(missing)} file(s) missing: "
            f"{', '.join(spec.files[k][0] for k in missing)}"
            f"{' (or uncompressed)' if gzipped else ''}.\n"
            f"Looked in {directory} ({how}).\n{note}\n"
            f"To get them, download\n  "
            + "\n  ".join(urls)
            + f"\ninto {directory}"
            + (" and unpack it there" if spec.archive is not None else "")
            + ", or pass data_dir= (or set TNF_DATA) to a directory that holds them."
        )
    return {k: p for k, p in found.items() if p is not None}


def load_dataset(
    name: str = DEFAULT_DATASET,
    data_dir: str | os.PathLike | None = None,
    *,
    seed: int = SPLIT_SEED,
    n_val: int | None = None,
    download: bool = True,
    verify: bool = True,
) -> Dataset:
    """Load dataset ``name`` (one of :data:`DATASETS`) with deterministic splits.

    :param name: a registered dataset (case and ``_`` / ``-`` do not matter).
    :param data_dir: where the files are (see :func:`resolve_data_dir`; ignored by a
        dataset that needs no files, such as ``digits``).
    :param seed: seed of the split permutation; keep the default so that every run
        compares on the same test images.
    :param n_val: validation size (default: the record's share of a pooled dataset, 3/10
        for ``digits`` and a fifth for ``mnist-10k``, whose test fifth does not change with
        it; 5000 from the training files otherwise).
    :param download: fetch missing files (MD5-checked) when a network is reachable.
    :param verify: require the official files (content MD5 where known, official counts).
    :raises DatasetError: with a clear message on any problem.
    """
    spec = dataset_spec(name)
    seed = _check_split_seed(seed, spec.name)
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise DatasetError(f"load_dataset({spec.name!r}): invalid data_dir={data_dir!r}: "
                           "allowed a path (str or os.PathLike) or None")
    files: Mapping[str, Path] = {}
    if spec.files:
        directory, how = _resolve(spec.name, data_dir)
        files = _find_files(spec, directory, how, download)
    if spec.val_fraction is not None:
        (part,) = spec.parts
        x, y = spec.read(spec, part, files, verify)
        return _pooled(spec, x, y, seed, n_val)
    train = spec.read(spec, "train", files, verify)
    return _carved(spec, train, spec.read(spec, "test", files, verify), seed, n_val)


if __name__ == "__main__":
    print(datasets_table())
