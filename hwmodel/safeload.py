"""One reader for every YAML or JSON document a user hands over.

Technology files, training configurations, ``--set`` values, schedule files, cluster
files, manifests and result documents all go through :func:`load_document` or
:func:`parse_document`, which refuse, in one line naming the source:

- files larger than a size limit (a document is read whole into memory);
- nesting deeper than :data:`MAX_DEPTH` (Python's parsers recurse: a few hundred
  kilobytes of ``[[[[`` would otherwise end in a ``RecursionError``);
- documents whose YAML aliases expand to more than :data:`MAX_NODES` values (an
  "alias bomb" of a few hundred bytes is a billion values to whoever walks it);
- explicit YAML tags (``!!python/...``, ``!!binary``, ``!!set``, ``!custom``): a plain
  document needs none, and none is ever turned into an object;
- a key given twice in one mapping (YAML and JSON both let the last one win silently).

Only plain data comes back: dicts, lists, strings, numbers, booleans and None.

Every file a user names (documents here, and networks, datasets, policies elsewhere) is
opened only when it is a regular file: :func:`regular_file` and :func:`open_regular`
refuse a directory, a FIFO (whose open would block until a writer came), a device or a
socket, in one line naming the path and what it is.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 16 * 2**20  # larger than any document the project writes (results with curves)
MAX_DEPTH = 64  # the deepest document the project writes nests about 6 levels
MAX_NODES = 1_000_000  # values after alias expansion (a large results.json holds ~1e5)


class DocumentError(ValueError):
    """A YAML or JSON document that cannot be read safely; the message names its source."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with duplicate keys refused (YAML 1.2 forbids them)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                dup = key in seen
            except TypeError:  # an unhashable key (a list): SafeLoader's own error follows
                break
            if dup:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


def _check_events(text: str, origin: str) -> None:
    """Depth and tags from the event stream (PyYAML's parser is iterative, its composer
    recursive: checked before any node is composed)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise DocumentError(
                    f"{origin}: nested deeper than {MAX_DEPTH} levels (allowed: at most "
                    f"{MAX_DEPTH})"
                )
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        tag = getattr(event, "tag", None)
        implicit = getattr(event, "implicit", True)
        explicit = tag is not None and (
            implicit is False or (isinstance(implicit, tuple) and not any(implicit))
        )
        if explicit and tag not in ("!",):
            # The parser marks every event; the stubs allow a mark-less one.
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            raise DocumentError(
                f"{origin}: YAML tag {tag!r} at line {line} is not "
                "accepted (allowed: plain mappings, lists, strings, numbers, booleans, null)"
            )


def _count_nodes(value: Any, origin: str) -> None:
    """Refuse a document whose values (aliases expanded) exceed :data:`MAX_NODES`."""
    count, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            what = "values" if count > MAX_NODES else "levels"
            limit = MAX_NODES if count > MAX_NODES else MAX_DEPTH
            raise DocumentError(
                f"{origin}: expands to more than {limit} {what} (YAML aliases?); "
                f"allowed: at most {limit}"
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DocumentError(f"key {key!r} is given twice")
        out[key] = value
    return out


def parse_document(text: str, origin: str, fmt: str = "yaml") -> Any:
    """Plain data from YAML (``fmt="yaml"``, which also reads JSON) or strict JSON text.

    :param text: the document.
    :param origin: what to name in errors (a path, or ``--set KEY``).
    :param fmt: ``"yaml"`` or ``"json"``.
    :raises DocumentError: one line naming ``origin``, what is wrong and what is allowed.
    """
    if len(text) > MAX_BYTES:
        raise DocumentError(
            f"{origin}: {len(text)} characters, larger than the {MAX_BYTES} allowed"
        )
    if fmt == "json":
        try:
            data = json.loads(text, object_pairs_hook=_refuse_duplicates)
        except DocumentError as exc:
            raise DocumentError(f"{origin}: {exc} (allowed: each key once)") from None
        except RecursionError:
            raise DocumentError(
                f"{origin}: nested too deeply (allowed: at most {MAX_DEPTH} levels)"
            ) from None
        except json.JSONDecodeError as exc:
            raise DocumentError(
                f"{origin}: not valid JSON ({exc.msg}, line {exc.lineno})"
            ) from None
    else:
        try:
            _check_events(text, origin)
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            reason = " ".join(str(exc).split())
            if len(reason) > 200:
                reason = reason[:197] + "..."
            raise DocumentError(f"{origin}: not valid YAML ({reason})") from None
        except RecursionError:
            raise DocumentError(
                f"{origin}: nested too deeply (allowed: at most {MAX_DEPTH} levels)"
            ) from None
    _count_nodes(data, origin)
    return data


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(path: Path, mode: int) -> DocumentError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a plain file")
    return DocumentError(f"{path}: {kind}, not a regular file (allowed: a regular file)")


def regular_file(path: str | os.PathLike[str]) -> Path:
    """``path`` when it names a regular file (a symbolic link to one included), checked
    before anything opens it.

    :param path: the file a user named.
    :raises DocumentError: it does not exist or cannot be examined, or it is a directory,
        a FIFO, a device or a socket.
    """
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:
        raise DocumentError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:  # an embedded NUL byte
        raise DocumentError(f"{p!r}: not a usable path ({exc})") from None
    if not stat.S_ISREG(mode):
        raise _not_regular(p, mode)
    return p


def open_regular(path: str | os.PathLike[str]) -> io.BufferedReader:
    """``path`` opened for binary reading, only if it is a regular file: opened without
    blocking, then examined (no window in which it could be swapped for a FIFO).

    :param path: the file a user named.
    :raises DocumentError: as :func:`regular_file`, or it cannot be opened.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DocumentError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise DocumentError(f"{p!r}: not a usable path ({exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(p, mode)
    return os.fdopen(fd, "rb")


def load_document(path: str | Path, fmt: str | None = None, max_bytes: int = MAX_BYTES) -> Any:
    """Read a YAML or JSON file (by its suffix unless ``fmt`` says) with the limits above.

    :param path: the file.
    :param fmt: ``"yaml"`` or ``"json"``; None: ``.json`` files are JSON, others YAML.
    :param max_bytes: the largest file accepted.
    :raises DocumentError: unreadable, not a regular file, too large, or not a plain document.
    """
    p = Path(path)
    fmt = fmt or ("json" if p.suffix.lower() == ".json" else "yaml")
    try:
        with open_regular(p) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise DocumentError(f"{p}: {size} bytes, larger than the {max_bytes} allowed")
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:  # it grew after it was examined
        raise DocumentError(f"{p}: larger than the {max_bytes} bytes allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{p}: not UTF-8 text") from None
    return parse_document(text, str(p), fmt)


def confined(root: str | Path, name: Any, what: str) -> Path:
    """``root / name`` when it stays inside ``root`` (symbolic links resolved).

    :param root: the directory a document's paths are relative to.
    :param name: a relative path read from the document.
    :param what: what to name in the error (``manifest entry 'file'``).
    :raises DocumentError: an absolute path, ``..`` climbing out, or a link leading out.
    """
    base = Path(root).resolve()
    if not isinstance(name, str) or not name or Path(name).is_absolute():
        raise DocumentError(
            f"{what}={name!r}: allowed a relative path inside {base}"
        )
    path = base / name
    if not path.resolve().is_relative_to(base):
        raise DocumentError(
            f"{what}={name!r} leads outside {base} (allowed: a path inside it, "
            "no '..' and no link out)"
        )
    return path
