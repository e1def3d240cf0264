"""Array headers are read and checked before anything is allocated: a few bytes declaring a
terabyte are refused in one line naming the file, the member and the limit."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from hwmodel.arrayfile import (
    MAX_ARRAY_BYTES,
    MAX_MEMBERS,
    ArrayFileError,
    check_npz,
    read_member,
)


def _npy(shape, descr="<f4", data=b""):
    out = io.BytesIO()
    npy_format.write_array_header_1_0(
        out, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return out.getvalue() + data


def _npz(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    return path


HUGE = (10**6, 10**6)  # 4 TB of float32 from a few hundred bytes


@pytest.mark.parametrize("members,needle", [
    ({"a.npy": _npy(HUGE)}, "declares float32 (1000000, 1000000), 4000000000000 bytes"),
    ({"a.npy": _npy((2**31 + 1,), "|u1") + b"\0" * 4}, "at most 2 GiB per array"),
    ({"a.npy": _npy((4, 8), data=b"\0" * 64)}, "the member holds"),  # truncated: 128 promised
    ({"a.npy": _npy((2, 2), data=b"\0" * 64)}, "the member holds"),  # padded
    ({"a.npy": _npy((2,), "|O", b"\0" * 16)}, "numeric arrays only"),
    ({"a.txt": b"hello"}, "is not an .npy array"),
    ({"a.npy": b"not an npy header at all"}, "not a readable .npy array"),
    ({f"a{k}.npy": _npy((1,), data=b"\0" * 4) for k in range(MAX_MEMBERS + 1)}, "members"),
])
def test_check_npz_refuses_a_header_before_loading(tmp_path, members, needle):
    path = _npz(tmp_path / "x.npz", members)
    with pytest.raises(ArrayFileError) as info:
        check_npz(path)
    message = str(info.value)
    assert needle in message and str(path) in message, message
    assert len(message.splitlines()) == 1 and "allowed" in message


def test_check_npz_refuses_what_is_not_an_archive(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ArrayFileError, match="not a readable .npz archive"):
        check_npz(tmp_path / "x.npz")


def test_check_npz_reads_the_headers_of_a_real_archive(tmp_path):
    np.savez_compressed(tmp_path / "x.npz", w=np.ones((3, 5), np.float32),
                        m=np.ones((3, 5), np.uint8))
    assert check_npz(tmp_path / "x.npz") == {
        "w": ((3, 5), np.dtype(np.float32)), "m": ((3, 5), np.dtype(np.uint8))}


def test_the_network_loaders_check_headers_first(tmp_path):
    from agents.common.netstore import SavedNetworkError, load_saved_network
    from hwmodel.netfile import NetworkFileError, load_network

    _npz(tmp_path / "n.npz", {"weight0.npy": _npy(HUGE), "mask0.npy": _npy(HUGE, "|u1")})
    with pytest.raises(NetworkFileError, match="weight0.npy.*declares"):
        load_network(tmp_path / "n.npz")
    with pytest.raises(SavedNetworkError, match="declares"):
        load_saved_network(tmp_path / "n")
    one = tmp_path / "one.npy"
    one.write_bytes(_npy(HUGE))  # refused from its magic, never loaded
    with pytest.raises(NetworkFileError, match="got one array"):
        load_network(one)


def test_read_member_refuses_a_member_by_its_declared_size(tmp_path):
    with zipfile.ZipFile(tmp_path / "m.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data", b"\0" * 10_000)  # a few bytes compressed
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        with pytest.raises(ValueError, match="member 'data' declares 10000 bytes"):
            read_member(zf, "data", limit=1000)
        assert read_member(zf, "data") == b"\0" * 10_000
    assert MAX_ARRAY_BYTES == 2**31


def _idx(path, n, data, compress=False):
    raw = (2051).to_bytes(4, "big") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + data
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_an_idx_header_is_bounded_before_reading(tmp_path, compress):
    from tnf_env.data.formats import MAX_IDX_BYTES, read_idx
    from tnf_env.data.registry import DatasetError

    path = _idx(tmp_path / ("x.gz" if compress else "x"), 2**32 - 1, b"", compress)
    with pytest.raises(DatasetError, match=rf"declares 4294967295 items.*{MAX_IDX_BYTES}"):
        read_idx(path, 2051, (28, 28))


def test_a_gzip_bomb_is_not_inflated_past_its_header(tmp_path):
    from tnf_env.data.formats import read_idx
    from tnf_env.data.registry import DatasetError

    # two images declared, 64 MB of zeros behind them (64 kB compressed)
    path = _idx(tmp_path / "x.gz", 2, b"\0" * (2 * 784 + 64 * 2**20), compress=True)
    with pytest.raises(DatasetError, match="has trailing bytes"):
        read_idx(path, 2051, (28, 28))
    good = _idx(tmp_path / "y.gz", 2, bytes(range(256)) * 6 + b"\1" * 32, compress=True)
    images, raw = read_idx(good, 2051, (28, 28))
    assert images.shape == (2, 28, 28) and len(raw) == 16 + 2 * 784
