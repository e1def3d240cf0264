"""Output directories: checked and locked before any work, written atomically.

Every command that writes results (``reproduce``, ``benchmark``, ``compare``, ``train``,
``search``) claims its directory with :func:`claim_dir` before the first epoch: the
directory must be creatable and writable, must not already hold another run's results
(unless the command was told to overwrite or resume), and is locked for the whole
command, so a second command on the same directory fails at once instead of one result
set silently replacing the other. Documents are written with :func:`atomic_write`
(a temporary file in the same directory, then ``os.replace``): a reader, or a kill,
never sees half a file.

A claimed directory's lock passes for the work the command runs inside the claim (a
``train`` command holds its run from before the first step to the last comparison file,
and :func:`agents.rl.training.train` locks the run too); any other holder is refused at once.

A command whose start fails (a bad setting found after the claim, a dataset that does not
load) leaves the directory as it found it: absent, or without what the claim added (its
lock, a journal of no finished unit, a run's ``config.yaml``). The start ends at
:func:`mark_started`, which the work calls once it has begun (a journal's first finished
unit, a learner's first step, a search's first trial, worker processes taking jobs): a
later failure keeps everything, for ``--resume``. Files that were there before the claim
are never removed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from hwmodel.safeload import DocumentError, parse_document

LOCK_NAME = ".lock"  # held by the process that writes a directory
JOURNAL = "study.jsonl"  # a study's finished seeds (agents.experiments.study), to resume
_CLAIMED: dict[str, int] = {}  # directories claimed by a command: path -> its thread
_STARTED: set[str] = set()  # claimed directories whose command's work has begun
MAX_SNAPSHOT = 100_000  # paths listed to undo a failed start; a larger tree is left alone


class OutputError(ValueError):
    """An output directory that cannot be used: the message names it and why."""


def check_writable(path: Path, flag: str) -> None:
    """Refuse, before any work, an output directory that cannot be created or written.

    :param path: the directory the command will write (it may not exist yet).
    :param flag: the flag that named it, for the message.
    """
    for p in (path, *path.parents):  # the nearest existing path must be a writable directory
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"{flag} {path}: {p} exists and is not a directory")
            if not os.access(p, os.W_OK | os.X_OK):
                raise OutputError(f"{flag} {path}: {p} is not writable (allowed: a directory "
                                  "this user may write)")
            return


@contextmanager
def dir_lock(path: Path, what: str = "--out", claim: bool = False) -> Iterator[None]:
    """Hold ``path/.lock`` (``path`` must exist); another holder is an error, at once.

    :param path: the directory.
    :param what: how to name it in the message.
    :param claim: this command owns the directory until the block ends: locks taken on it
        inside the block (by the work the command runs) are already held and pass.
    """
    key = str(Path(path).resolve())
    if key in _CLAIMED and _CLAIMED[key] == threading.get_ident():
        yield  # the command that claimed it runs work that locks it again
        return
    lock = FileLock(Path(key) / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"{what} {path} is in use by another process (it holds {Path(path) / LOCK_NAME}): "
            "wait for it to finish, or choose another directory"
        ) from None
    if claim:
        _CLAIMED[key] = threading.get_ident()
    try:
        yield
    finally:
        if claim:
            _CLAIMED.pop(key, None)
        lock.release()


@contextmanager
def claim_dir(
    path: Path, flag: str, products: Sequence[str] = ("results.json",), replace: bool = False
) -> Iterator[Path]:
    """Check, create and lock an output directory for one command.

    :param path: the directory.
    :param flag: the flag that named it, for messages.
    :param products: files of a finished run: their presence refuses the directory
        unless ``replace`` (``--force``).
    :param replace: the user asked to overwrite those files.
    :raises OutputError: not writable, in use, or holding results already.
    """
    check_writable(path, flag)
    if _CLAIMED.get(str(path.resolve())) == threading.get_ident():
        yield path  # claimed already by this command: the outer claim undoes a failed start
        return
    top = None  # the outermost directory the claim creates
    for p in (path, *path.parents):
        if p.exists():
            break
        top = p
    before = None if top is not None else _snapshot(path)
    path.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    ok = locked = started = False
    try:
        with dir_lock(path, flag, claim=True):
            locked = True  # another holder's files are never ours to undo
            try:
                held = [p for p in products if (path / p).exists()]
                if held and not replace:
                    raise OutputError(
                        f"{flag} {path} already holds {held[0]}: choose another {flag}, or "
                        "pass --force to replace it"
                    )
                yield path
                ok = True
            finally:
                started = key in _STARTED
                _STARTED.discard(key)
    finally:  # after the lock's release: its file may go too
        if locked and not ok and not started:
            undo_start(path, top, before)


def mark_started() -> None:
    """The work of the command running in this thread has begun: a failure from now on
    keeps what its claimed directories hold (finished units to ``--resume`` from)."""
    me = threading.get_ident()
    _STARTED.update(key for key, thread in _CLAIMED.items() if thread == me)


def _snapshot(path: Path) -> set[str] | None:
    """The paths under ``path`` (relative, links not followed); None when it holds more
    than :data:`MAX_SNAPSHOT` or cannot be listed (a failed start then removes nothing)."""
    seen: set[str] = set()
    try:
        for root, dirs, files in os.walk(path, onerror=_raise):
            rel = Path(root).relative_to(path)
            seen.update(str(rel / name) for name in (*dirs, *files))
            if len(seen) > MAX_SNAPSHOT:
                return None
    except OSError:
        return None
    return seen


def _raise(exc: OSError) -> None:
    raise exc


def undo_start(path: Path, created: Path | None, before: set[str] | None) -> None:
    """Remove what a failed start added under ``path``: the directories the claim created
    (``created``, ``path`` or a parent), else every path under ``path`` that was not in
    ``before`` (files first, then the emptied directories it made). Nothing of ``before``
    is touched.

    :param path: the claimed directory.
    :param created: the outermost directory the claim created (None: ``path`` existed).
    :param before: its paths when claimed (:func:`_snapshot`); None: leave it alone.
    """
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
        return
    if before is None:
        return
    after = _snapshot(path)
    if after is None:
        return
    added = sorted(after - before, key=lambda rel: rel.count(os.sep), reverse=True)
    for rel in added:  # deepest first: a new directory is empty once its new files are gone
        p = path / rel
        try:
            if p.is_dir() and not p.is_symlink():
                p.rmdir()
            else:
                p.unlink()
        except OSError:
            pass  # not ours to force: a directory someone else filled meanwhile stays


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``.

    :param path: the destination (its directory must exist).
    :param text: the whole content.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Journal:
    """The finished units of one long job (search trials, a study's seeds), one JSON line
    each after a header line, locked while in use; a job killed at any moment and started
    again with the same arguments goes on after its last finished unit.

    A line cut short by a kill (the last, without its newline) is dropped; a journal of
    another job (another header) is refused.

    :param path: the ``.jsonl`` file.
    :param header: what identifies the job (its first line).
    :param kind: what the job is, for messages ("search", "study").
    :param identity: what the header holds, for the message refusing another job's journal.
    :param valid: whether a unit's line is well formed (besides its ``number``).
    :param unit: what one line after the header is, for messages ("trial", "seed").
    """

    def __init__(self, path: Path, header: dict, kind: str = "search",
                 identity: str = "settings", valid: Callable[[dict], bool] = lambda d: True,
                 unit: str = "trial") -> None:
        self.path, self.header = Path(path), json.loads(json.dumps(header))
        self.kind, self.identity, self.valid, self.unit = kind, identity, valid, unit
        self.entries: list[dict] = []
        self._lock = FileLock(f"{path}.lock", timeout=0)

    @property
    def trials(self) -> list[dict]:
        """The finished units (a search's trials)."""
        return self.entries

    def __enter__(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise ValueError(f"{self.path} is in use by another {self.kind}") from None
        try:
            self._read()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()

    def _read(self) -> None:
        if not self.path.exists():
            self._write_line(self.header, "w")
            return
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        keep = len(raw) if raw.endswith(b"\n") else len(raw) - len(lines[-1])
        docs = []
        for line in lines[:-1]:  # complete lines only
            try:
                docs.append(parse_document(line.decode("utf-8"), str(self.path), "json"))
            except (DocumentError, UnicodeDecodeError) as exc:
                raise ValueError(f"{self.path}: a damaged line ({exc})") from None
        if not docs or docs[0] != self.header:
            raise ValueError(
                f"{self.path} holds another {self.kind} (its first line differs from this "
                f"{self.kind}'s {self.identity}): choose another directory"
            )
        for k, doc in enumerate(docs[1:]):
            if not isinstance(doc, dict) or doc.get("number") != k or not self.valid(doc):
                raise ValueError(f"{self.path}: {self.unit} line {k + 1} is not {self.unit} {k}")
        self.entries = docs[1:]
        if keep < len(raw):  # the unit being written when it was killed: run again
            with open(self.path, "r+b") as fh:
                fh.truncate(keep)

    def append(self, entry: dict) -> None:
        """Record a finished unit (synced to disk before the next one starts); the
        command's start is over (:func:`mark_started`)."""
        self._write_line(entry, "a")
        mark_started()

    def _write_line(self, doc: dict, mode: str) -> None:
        with open(self.path, mode) as fh:
            fh.write(json.dumps(doc) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
