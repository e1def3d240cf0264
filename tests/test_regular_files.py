"""Every loader of a user's file opens only a regular file: a FIFO (whose open blocks until a
writer comes), a directory or a device is refused in one line naming the path and what it is.

A loader that regressed would block on the FIFO: each read runs under an alarm that turns
the hang into a failure (Python does not retry an open a signal handler interrupted).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


class Hang(Exception):
    pass


def _within(seconds: int, read):
    def alarm(signum, frame):
        raise Hang(f"still blocked after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return read()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _special(t: Path, name: str, kind: str) -> Path:
    path = t / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    else:  # a link to a device
        path.symlink_to("/dev/zero")
    return path


def _technology(path):
    from tnf_env.settings import EnvConfig

    return lambda: EnvConfig.from_kwargs(technology=str(path))


def _network(path):
    from hwmodel.netfile import load_network

    return lambda: load_network(path)


def _saved_network(path):
    from agents.common.netstore import load_saved_network

    return lambda: load_saved_network(path.with_suffix(""))


def _config(path):
    from agents.rl.config import load_config

    return lambda: load_config(str(path))


def _idx(path):
    from tnf_env.data.formats import read_idx

    return lambda: read_idx(path, 2051, (28, 28))


def _document(path):
    from hwmodel.safeload import load_document

    return lambda: load_document(path)


def _schedule(path):
    from agents.rl.replay import load_schedule

    return lambda: load_schedule(path)


def _policy(path):
    from agents.rl.sb3_policy import SB3Policy

    run = path.parent
    (run / "config.yaml").write_text((Path("policies/digits/config.yaml")).read_text())
    return lambda: SB3Policy.load(run)


# (loader, the file name it is given)
LOADERS = [
    (_technology, "tech.yaml"),
    (_network, "net.npz"),
    (_saved_network, "s0.npz"),
    (_config, "cfg.yaml"),
    (_idx, "images-idx3-ubyte"),
    (_idx, "images-idx3-ubyte.gz"),
    (_document, "doc.json"),
    (_schedule, "best_schedule.json"),
    (_policy, "best_model.zip"),
]


@pytest.mark.parametrize("kind", ["fifo", "dir", "device"])
@pytest.mark.parametrize("loader,name", LOADERS, ids=[n for _, n in LOADERS])
def test_a_loader_refuses_what_is_not_a_regular_file(tmp_path, monkeypatch, loader, name, kind):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # policies/digits for _policy
    if kind == "device" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    path = _special(tmp_path, name, kind)
    read = loader(path)
    with pytest.raises(ValueError) as info:
        _within(20, read)
    message = str(info.value)
    what = {"fifo": "a FIFO (named pipe)", "dir": "a directory",
            "device": "a character device"}[kind]
    linked_out = loader is _policy and kind == "device"  # a run's files stay inside it
    assert f"{what}, not a regular file" in message or (
        linked_out and "leads outside" in message
    ), message
    assert len(message.splitlines()) == 1


def test_regular_files_and_links_to_them_still_load(tmp_path):
    from hwmodel.netfile import load_network
    from hwmodel.safeload import load_document

    np.savez(tmp_path / "net.npz", a=np.ones((4, 8)), b=np.ones((2, 4)))
    (tmp_path / "link.npz").symlink_to(tmp_path / "net.npz")
    assert load_network(tmp_path / "link.npz").shapes == [(4, 8), (2, 4)]
    (tmp_path / "d.json").write_text(json.dumps({"a": 1}))
    assert _within(20, lambda: load_document(tmp_path / "d.json")) == {"a": 1}


def test_the_commands_refuse_a_fifo_in_one_line(tmp_path, capsys):
    from agents.cli import main
    from hwmodel.cli import main as hwmodel_main

    fifo = _special(tmp_path, "f.yaml", "fifo")
    np.savez(tmp_path / "net.npz", a=np.ones((4, 8)), b=np.ones((2, 4)))
    for run, argv in (
        (main, ["train", "--config", str(fifo), "--out", str(tmp_path / "out")]),
        (main, ["replay", str(fifo)]),
        (hwmodel_main, [str(tmp_path / "net.npz"), "--technology", str(fifo)]),
    ):
        status = _within(20, lambda run=run, argv=argv: run(argv))
        err = capsys.readouterr().err.strip()
        assert status == 2 and "a FIFO (named pipe), not a regular file" in err, err
        assert len(err.splitlines()) == 1, err
