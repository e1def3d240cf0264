"""Readers of the dataset file formats: IDX (MNIST), SVHN's .mat, CIFAR-10's pickles and
scikit-learn's bundled digits.

Each reader is a :data:`~tnf_env.data.registry.Reader`: it reads one part of a dataset's
files as its :class:`~tnf_env.data.registry.DatasetSpec` describes them, checks their
structure always and, with ``verify``, the official checksums and image counts. Colour
images become grey with the ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B. Bad input
raises :class:`~tnf_env.data.registry.DatasetError`, never partial data.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import pickle
import zlib
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from hwmodel.safeload import DocumentError, open_regular, regular_file

from .registry import N_CLASSES, DatasetError, DatasetSpec

# The largest IDX file read (uncompressed): MNIST's training images are 47 MB; a header
# declaring more than 2 GiB is damage, and would be read whole into memory.
MAX_IDX_BYTES = 2**31

__all__ = ["read_cifar", "read_digits", "read_idx", "read_idx_part", "read_svhn"]

_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601


def _md5(data: bytes | Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    if isinstance(data, Path):
        with data.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    else:
        digest.update(data)
    return digest.hexdigest()


def _verify(spec: DatasetSpec, key: str, path: Path, contents: bytes | Path, verify: bool) -> None:
    expected = spec.content_md5.get(key)
    if verify and expected and (got := _md5(contents)) != expected:
        what = "uncompressed contents" if path.suffix == ".gz" else "contents"
        raise DatasetError(
            f"{path}: checksum mismatch: MD5 of the {what} is {got}, expected {expected} for "
            f"the official {spec.name} file. The file is corrupt or not the official one: "
            "delete it and get it again, or pass verify=False to read other files in this "
            "format."
        )


def _check_count(spec: DatasetSpec, part: str, n: int, path: Path, verify: bool) -> None:
    official = spec.official_counts.get(part)
    if verify and official is not None and n != official:
        raise DatasetError(
            f"{path}: {n} {part} images, but the official {spec.name} files have "
            f"{official}; pass verify=False to read other files in this format."
        )


def read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> tuple[np.ndarray, bytes]:
    """Array and uncompressed bytes of an IDX file (``magic`` 2051: images, 2049: labels).

    :param path: the file, gzip-compressed (``.gz``) or not.
    :param magic: the magic number it must start with.
    :param item_shape: the shape of one item (``(28, 28)`` for images, ``()`` for labels).
    """
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    try:
        # Only a regular file, and only as many bytes as its header declares (checked against
        # MAX_IDX_BYTES first): a gzip of a few kilobytes can inflate to gigabytes.
        with open_regular(path) as plain, (
            gzip.GzipFile(fileobj=plain, mode="rb") if path.suffix == ".gz" else nullcontext(plain)
        ) as fh:
            raw = fh.read(header)
            found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
            if found != magic:
                raise DatasetError(
                    f"{path}: not an IDX {'image' if ndim == 3 else 'label'} file: "
                    f"magic number {found}, expected {magic}."
                )
            if len(raw) < header:
                raise DatasetError(
                    f"{path}: truncated: {len(raw)} bytes, shorter than the header."
                )
            dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
            if dims[1:] != item_shape:
                raise DatasetError(f"{path}: items of shape {dims[1:]}, expected {item_shape}.")
            size = math.prod(dims)  # exact: numpy's prod would wrap around in int64
            if size > MAX_IDX_BYTES:
                raise DatasetError(
                    f"{path}: its header declares {dims[0]} items, {size} bytes (allowed: at "
                    f"most {MAX_IDX_BYTES} bytes, {MAX_IDX_BYTES // 784} images of 28x28)."
                )
            raw += fh.read(size + 1)
    except DocumentError as exc:
        raise DatasetError(str(exc)) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{path}: cannot read ({exc}); the file is truncated or corrupt: "
            "delete it and get it again."
        ) from exc
    expected = header + size
    if len(raw) != expected:
        if len(raw) < expected:
            raise DatasetError(
                f"{path}: truncated: its header promises {dims[0]} items, "
                f"{expected} bytes, but it holds {len(raw)} bytes."
            )
        raise DatasetError(
            f"{path}: has trailing bytes: its header promises {dims[0]} items, "
            f"{expected} bytes, but it holds more."
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims), raw


def _labels(y: Any, path: Path, top: int = N_CLASSES - 1) -> np.ndarray:
    try:
        y = np.asarray(y).astype(np.int64).ravel()
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: labels are not integers ({exc}).") from exc
    if y.size and (y.min() < 0 or y.max() > top):
        raise DatasetError(f"{path}: labels outside 0..{top} ({y.min()}..{y.max()}).")
    return y


def read_idx_part(
    spec: DatasetSpec, part: str, files: Mapping[str, Path], verify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-format images (28x28, uint8) and labels: the part's image and label files.

    :param spec: the dataset; ``spec.parts[part]`` is ``(image file key, label file key)``.
    :param part: which part to read.
    :param files: the path found for each file key.
    :param verify: check the content MD5s and official counts.
    """
    img_key, lbl_key = spec.parts[part]
    images, img_raw = read_idx(files[img_key], 2051, (28, 28))
    labels, lbl_raw = read_idx(files[lbl_key], 2049, ())
    if len(images) != len(labels):
        raise DatasetError(
            f"{files[img_key]} holds {len(images)} images but "
            f"{files[lbl_key]} holds {len(labels)} labels."
        )
    _verify(spec, img_key, files[img_key], img_raw, verify)
    _verify(spec, lbl_key, files[lbl_key], lbl_raw, verify)
    _check_count(spec, part, len(images), files[img_key], verify)
    return images.reshape(len(images), -1), _labels(labels, files[lbl_key])


def _grey(rgb: np.ndarray) -> np.ndarray:
    """uint8 (n, 3, ...) RGB planes -> float32 (n, pixels) luma in [0, 1], in blocks."""
    out = np.empty((len(rgb), int(np.prod(rgb.shape[2:]))), np.float32)
    for start in range(0, len(rgb), 4096):
        block = rgb[start : start + 4096].astype(np.float32).reshape(-1, 3, out.shape[1])
        grey = block[:, 0] * _LUMA[0] + block[:, 1] * _LUMA[1] + block[:, 2] * _LUMA[2]
        out[start : start + 4096] = np.minimum(grey / np.float32(255.0), np.float32(1.0))
    return out


def read_svhn(
    spec: DatasetSpec, part: str, files: Mapping[str, Path], verify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """SVHN's cropped digits: one .mat file per part (``X`` 32x32x3xn, ``y`` 1..10), grey.

    :param spec: the dataset; ``spec.parts[part]`` names the part's one file key.
    :param part: which part to read.
    :param files: the path found for each file key.
    :param verify: check the content MD5 and official count.
    """
    from scipy.io import loadmat

    key = spec.parts[part][0]
    path = files[key]
    try:
        mat = loadmat(regular_file(path))
    except DocumentError as exc:
        raise DatasetError(str(exc)) from None
    except Exception as exc:  # scipy raises many types for a damaged file
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
    _verify(spec, key, path, path, verify)
    _check_count(spec, part, x.shape[3], path, verify)
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

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar(
    spec: DatasetSpec, part: str, files: Mapping[str, Path], verify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10's python batches (pickled dicts of uint8 (n, 3072) RGB planes), grey.

    :param spec: the dataset; ``spec.parts[part]`` names the part's batch files.
    :param part: which part to read.
    :param files: the path found for each file key.
    :param verify: check the content MD5s and official count.
    """
    xs, ys = [], []
    for key in spec.parts[part]:
        path = files[key]
        try:
            with open_regular(path) as fh:
                batch = _Unpickler(fh, encoding="latin1").load()
            data = batch.get(b"data", batch.get("data"))
            labels = batch.get(b"labels", batch.get("labels"))
        except DocumentError as exc:
            raise DatasetError(str(exc)) from None
        except Exception as exc:  # a damaged pickle raises almost anything
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
        _verify(spec, key, path, path, verify)
        xs.append(_grey(data.reshape(-1, 3, 1024)))
        ys.append(_labels(labels, path))
    x, y = np.concatenate(xs), np.concatenate(ys)
    _check_count(spec, part, len(x), files[spec.parts[part][0]].parent, verify)
    return x, y


def read_digits(
    spec: DatasetSpec, part: str, files: Mapping[str, Path], verify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (float64 pixels 0..16); no files.

    :param spec: the dataset (unused: the images come with scikit-learn).
    :param part: its one part.
    :param files: empty.
    :param verify: unused: the bundled copy is the official one.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data, digits.target.astype(np.int64)
