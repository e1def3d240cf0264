"""Reading a saved network: an ``.npz`` of weight or mask matrices, one per layer.

Layers are the archive's arrays in natural key order (``layer2`` before
``layer10``, ``arr_0``, ``arr_1``, ...). Each is ``(n_outputs, n_inputs)`` like a
torch ``nn.Linear`` weight; a non-zero entry is a kept connection. Every problem
raises :class:`NetworkFileError` with a one-line message naming the file and,
where it applies, the layer.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from hwmodel.arrayfile import ArrayFileError, check_npz
from hwmodel.mapping import check_chain
from hwmodel.safeload import DocumentError, open_regular


class NetworkFileError(ValueError):
    """A network file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Network:
    """Layers read from a network file.

    :param names: the archive key of each layer, in forward order.
    :param matrices: per layer its ``(n_outputs, n_inputs)`` weights or mask.
    """

    names: tuple[str, ...]
    matrices: tuple[np.ndarray, ...]

    @property
    def masks(self) -> list[np.ndarray]:
        """Per layer, the kept connections (non-zero entries) as a boolean matrix."""
        return [m != 0 for m in self.matrices]

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return [tuple(m.shape) for m in self.matrices]


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers numerically: ``layer2`` < ``layer10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def load_network(path: str | Path, *, masks: bool = False) -> Network:
    """Read and validate a network file.

    :param path: the ``.npz`` file.
    :param masks: require every array to be a binary 0/1 mask.
    :raises NetworkFileError: unreadable or malformed file, an array that is not a 2-D
        finite numeric matrix, a non-binary mask when ``masks`` is set, or consecutive
        layers whose shapes do not chain.
    """
    p = Path(path)
    if not p.exists():
        raise NetworkFileError(f"{p}: no such file")
    try:
        with open_regular(p) as fh:
            one_array = fh.read(len(npy_format.MAGIC_PREFIX)) == npy_format.MAGIC_PREFIX
    except DocumentError as exc:
        raise NetworkFileError(str(exc)) from None
    if one_array:  # refused from its first bytes: loading it would allocate its shape
        raise NetworkFileError(f"{p}: expected an .npz archive of layer matrices, got one array")
    try:
        check_npz(p)  # every header read before any array is allocated
        archive = np.load(p, allow_pickle=False)
    except ArrayFileError as exc:
        raise NetworkFileError(str(exc)) from None
    except FileNotFoundError:
        raise NetworkFileError(f"{p}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise NetworkFileError(f"{p}: not a readable .npz archive ({_short(exc)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise NetworkFileError(f"{p}: expected an .npz archive of layer matrices, got one array")
    with archive:
        keys = sorted(archive.files, key=natural_key)
        if not keys:
            raise NetworkFileError(f"{p}: the archive holds no arrays")
        matrices = []
        for key in keys:
            try:
                a = archive[key]
            except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
                reason = _short(exc)
                raise NetworkFileError(f"{p}: layer '{key}' cannot be read ({reason})") from None
            matrices.append(_check_layer(p, key, a, masks))
    try:
        check_chain([m.shape for m in matrices], [f"layer '{k}'" for k in keys])
    except ValueError as exc:
        raise NetworkFileError(f"{p}: {exc}") from None
    return Network(tuple(keys), tuple(matrices))


def _check_layer(path: Path, key: str, a: np.ndarray, masks: bool) -> np.ndarray:
    where = f"{path}: layer '{key}'"
    if a.ndim != 2:
        raise NetworkFileError(f"{where} must be a 2-D (n_outputs, n_inputs) matrix, "
                               f"got shape {a.shape}")
    if 0 in a.shape:
        raise NetworkFileError(f"{where} is empty (shape {a.shape})")
    if a.dtype.kind not in "biuf":
        raise NetworkFileError(f"{where} must be numeric, got dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise NetworkFileError(f"{where} contains NaN or infinite values")
    if masks and a.dtype != bool:
        bad = (a != 0) & (a != 1)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise NetworkFileError(
                f"{where} is not a binary mask: entry ({r}, {c}) is {a[r, c].item()!r} "
                "(masks must hold only 0 and 1; drop --masks to keep every non-zero weight)"
            )
    return a


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
