"""Array files checked before they are loaded: every ``.npy`` header read first.

An ``.npy`` header declares an array's shape and dtype, and numpy allocates that much
before it reads a byte of data: a compressed ``.npz`` of a few hundred bytes can ask for
terabytes. :func:`check_npz` reads each member's header (``numpy.lib.format``) without
loading any data and refuses, in one line naming the file and the member:

- a file that is not a regular file, not a zip archive, or holds more than
  :data:`MAX_MEMBERS` members, or a member that is not an ``.npy`` array;
- an object dtype (loading it would unpickle) or a header numpy cannot read;
- an array larger than :data:`MAX_ARRAY_BYTES`, or arrays larger than
  :data:`MAX_ARCHIVE_BYTES` together;
- a header whose shape x itemsize disagrees with the member's size in the archive
  (a truncated or padded member).

:func:`read_member` reads one member of any zip (a policy's weights) only when its
declared size is within :data:`MAX_MEMBER_BYTES`.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

from hwmodel.safeload import DocumentError, regular_file

# 2 GiB per array: the widest network the project maps (784-1200-1200-10) has 5.8 MB
# layers, and 2 GiB still holds a 23,000 x 23,000 float32 matrix; a header asking more
# is damage or an attack, and would be allocated whole before its data is read.
MAX_ARRAY_BYTES = 2**31
MAX_ARCHIVE_BYTES = 2**32  # all arrays of one archive: weights and masks of every layer
MAX_MEMBERS = 1024  # a saved network holds two arrays per layer, at most 64 layers
# The largest member of any zip read into memory whole (a policy's weights are a few MB).
MAX_MEMBER_BYTES = MAX_ARRAY_BYTES


class ArrayFileError(ValueError):
    """An array file that cannot be loaded safely; the message names the file and member."""


def _gib(n: int) -> str:
    return f"{n / 2**30:g} GiB"


def npy_header(fh: IO[bytes], where: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an ``.npy`` stream declares, its position left after the header.

    :param fh: a binary file object at the start of the ``.npy`` data.
    :param where: what to name in errors (``file: member``).
    :raises ArrayFileError: not an ``.npy`` header, or one numpy cannot read.
    """
    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"format version {version} (allowed: 1.0 and 2.0)")
    except (ValueError, EOFError, OSError, SyntaxError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ArrayFileError(
            f"{where}: not a readable .npy array ({reason}; allowed: numpy's .npy format "
            "1.0 or 2.0)"
        ) from None
    return tuple(int(n) for n in shape), np.dtype(dtype)


def check_npz(path: str | Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each array's shape and dtype in the ``.npz`` archive ``path``, read from the headers
    alone; raises before anything large is allocated.

    :param path: the archive.
    :raises ArrayFileError: one line naming the file (and member), what is wrong and what
        is allowed (see the module's list).
    """
    try:
        p = regular_file(path)
    except DocumentError as exc:
        raise ArrayFileError(str(exc)) from None
    arrays: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    total = 0
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ArrayFileError(
                    f"{p}: {len(infos)} members (allowed: at most {MAX_MEMBERS} arrays)"
                )
            for info in infos:
                where = f"{p}: member '{info.filename}'"
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise ArrayFileError(f"{where} is not an .npy array (allowed: .npy only)")
                with zf.open(info) as fh:
                    shape, dtype = npy_header(fh, where)
                    start = fh.tell()
                if dtype.hasobject:
                    raise ArrayFileError(
                        f"{where} holds objects ({dtype}); loading them would unpickle "
                        "(allowed: numeric arrays only)"
                    )
                if any(n < 0 for n in shape):
                    raise ArrayFileError(
                        f"{where}: shape {shape} has a negative dimension (allowed: sizes >= 0)"
                    )
                nbytes = math.prod(shape) * dtype.itemsize  # exact: Python integers
                if nbytes > MAX_ARRAY_BYTES:
                    raise ArrayFileError(
                        f"{where}: its header declares {dtype} {shape}, {nbytes} bytes "
                        f"(allowed: at most {_gib(MAX_ARRAY_BYTES)} per array)"
                    )
                if info.file_size != start + nbytes:
                    raise ArrayFileError(
                        f"{where}: its header declares {dtype} {shape}, {start + nbytes} "
                        f"bytes with the header, but the member holds {info.file_size} (allowed: "
                        "exactly what its header declares)"
                    )
                total += nbytes
                arrays[info.filename[: -len(".npy")]] = (shape, dtype)
    except ArrayFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ArrayFileError(
            f"{p}: not a readable .npz archive ({reason}; allowed: a zip of .npy arrays)"
        ) from None
    if total > MAX_ARCHIVE_BYTES:
        raise ArrayFileError(
            f"{p}: its arrays declare {total} bytes together (allowed: at most "
            f"{_gib(MAX_ARCHIVE_BYTES)})"
        )
    return arrays


def read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """The bytes of ``zf``'s member ``name``, refused by its declared size before they are
    inflated (a member of a few kilobytes can inflate to gigabytes; zipfile stops at the
    declared size and checks the CRC).

    :param zf: an open archive.
    :param name: the member.
    :param limit: the largest size accepted.
    :raises KeyError: no such member.
    :raises ValueError: a member larger than ``limit``.
    """
    size = zf.getinfo(name).file_size
    if size > limit:
        raise ValueError(f"member {name!r} declares {size} bytes (allowed: at most {limit})")
    return zf.read(name)
