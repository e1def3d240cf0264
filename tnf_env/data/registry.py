"""The dataset registry: one :class:`DatasetSpec` record per dataset.

A record says everything the project knows about a dataset: its files and where to
download them, their checksums, how its splits are made, its input size and classes, the
network the paper uses on it, the accuracy floor's tolerance and its departures from the
paper's training recipe. Loading (:mod:`.datasets`), the settings' allowed names, the
command line's help and the docs' table read the registry; nothing else names a dataset.
The records of the project's datasets are registered in :mod:`.datasets`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import provide

__all__ = [
    "DEFAULT_N_VAL", "DEFAULT_TOLERANCE", "N_CLASSES", "DatasetError", "DatasetSpec", "Reader",
    "SpecTable", "dataset_names", "dataset_spec", "datasets_table", "default_tolerance", "register",
    "registered", "tolerance_note",
]

N_CLASSES = 10
#: The accuracy floor's tolerance unless a dataset's record says otherwise: the paper's
#: 0.5-point iso-accuracy band (about two standard errors on 2,000 validation images).
DEFAULT_TOLERANCE = 0.005
#: Validation images carved from official training files: at most a fifth of them.
DEFAULT_N_VAL = 5000


class DatasetError(ValueError):
    """A dataset cannot be loaded: unknown name, missing or malformed files, bad arguments."""


#: ``read(spec, part, files, verify) -> (x, y)``: the images (uint8, or float32 in [0, 1],
#: or any float scaled by ``spec.pixel_max``) and int64 labels of one part of the files;
#: ``files`` maps each file key of the record to the path found for it.
Reader = Callable[["DatasetSpec", str, Mapping[str, Path], bool], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what :func:`~tnf_env.data.datasets.load_dataset` needs, and its defaults.

    :param name: the name users give (lower case, ``-`` between words).
    :param description: its source in a few words (the docs' table).
    :param n_inputs: inputs per image (flattened row-major).
    :param topology: the network used on it unless told otherwise, inputs first.
    :param read: reads one part of the files (:data:`Reader`).
    :param parts: part name -> the file keys ``read`` reads for it: ``train`` and ``test``
        (official test files; validation carved from ``train``), or one pooled part.
    :param files: file key -> paths accepted for it, relative to the data directory; the
        first is preferred and is the name a download gets (empty: no files needed).
    :param n_classes: classes, labels 0..n_classes-1.
    :param val_fraction: None for official train/test files; else the only part is one
        pool: a seeded permutation gives the test fifth, then this share as validation.
    :param pixel_max: what integer or float64 images are divided by to land in [0, 1].
    :param mirrors: URLs of folders holding the downloadable files, tried in order.
    :param download_md5: MD5 of each downloadable file as published.
    :param content_md5: MD5 of each file's contents (IDX: uncompressed), checked when
        ``verify=True``.
    :param official_counts: images of each part in the official files (checked when
        ``verify=True``; they also give the split sizes of the docs' table).
    :param archive: one downloadable archive that holds every file (unpacked after download).
    :param tolerance: the accuracy floor's default tolerance, a fraction.
    :param recipe: departures from the paper's training recipe
        (:class:`~tnf_env.model.training.TrainingRecipe` fields), each chosen on validation.
    """

    name: str
    description: str
    n_inputs: int
    topology: tuple[int, ...]
    read: Reader
    parts: Mapping[str, tuple[str, ...]]
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    n_classes: int = N_CLASSES
    val_fraction: float | None = None
    pixel_max: float = 255.0
    mirrors: tuple[str, ...] = ()
    download_md5: Mapping[str, str] = field(default_factory=dict)
    content_md5: Mapping[str, str] = field(default_factory=dict)
    official_counts: Mapping[str, int] = field(default_factory=dict)
    archive: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    recipe: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def bad(what: str) -> DatasetError:
            return DatasetError(f"dataset record {self.name!r}: {what}")

        if self.name != _key(self.name):
            raise bad("the name must be lower case with '-' between words")
        if len(self.topology) < 2 or self.topology[0] != self.n_inputs:
            raise bad(f"topology {self.topology} must start with its {self.n_inputs} inputs")
        if self.topology[-1] != self.n_classes:
            raise bad(f"topology {self.topology} must end with its {self.n_classes} classes")
        fraction = self.val_fraction
        if fraction is not None and (len(self.parts) != 1 or not 0 < fraction < 0.8):
            raise bad("a pooled dataset has one part and a val_fraction in (0, 0.8)")
        if fraction is None and set(self.parts) != {"train", "test"}:
            raise bad("official files come as the parts 'train' and 'test'")
        unknown = {k for keys in self.parts.values() for k in keys} - set(self.files)
        if unknown:
            raise bad(f"parts name file keys without accepted paths: {sorted(unknown)}")
        if self.files and not self.mirrors:
            raise bad("files need at least one download mirror")
        if not 0 <= self.tolerance < 1:
            raise bad(f"tolerance {self.tolerance} must be a fraction in [0, 1)")

    def archive_of(self, key: str) -> str:
        """The downloadable file that brings file ``key``: the archive, or its first path."""
        return self.archive or self.files[key][0]

    def split_sizes(self) -> tuple[int, int, int] | None:
        """Train / validation / test images of the official files at the default ``n_val``
        (None when the record gives no official counts)."""
        if set(self.official_counts) != set(self.parts):
            return None
        if self.val_fraction is not None:
            n = sum(self.official_counts.values())
            n_test, n_val = n // 5, int(n * self.val_fraction)
            return n - n_test - n_val, n_val, n_test
        n_train = self.official_counts["train"]
        n_val = min(DEFAULT_N_VAL, n_train // 5)
        return n_train - n_val, n_val, self.official_counts["test"]


_REGISTRY: dict[str, DatasetSpec] = {}


def _key(name: object) -> str | None:
    return name.strip().lower().replace("_", "-") if isinstance(name, str) else None


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` to the registry (its name must be new) and return it.

    :param spec: the dataset's record.
    :raises DatasetError: when a dataset of that name is registered already.
    """
    if spec.name in _REGISTRY:
        raise DatasetError(f"dataset {spec.name!r} is registered already")
    _REGISTRY[spec.name] = spec
    return spec


def registered() -> tuple[str, ...]:
    """The registered dataset names, in registration order."""
    return tuple(_REGISTRY)


def dataset_spec(name: str) -> DatasetSpec:
    """The record of dataset ``name`` (case and ``_`` / ``-`` do not matter).

    :param name: a dataset name, e.g. ``"mnist_10k"``.
    :raises DatasetError: for a name no record has, listing the known ones.
    """
    key = _key(name)
    if key not in _REGISTRY:
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {dataset_names()}")
    return _REGISTRY[key]


def dataset_names() -> str:
    """The dataset names, comma-separated, for help texts and error messages."""
    return ", ".join(_REGISTRY)


def default_tolerance(name: str) -> float:
    """The accuracy floor's default tolerance on dataset ``name`` (a fraction).

    :param name: a registered dataset's name; other names get :data:`DEFAULT_TOLERANCE`.
    """
    spec = _REGISTRY.get(name)
    return DEFAULT_TOLERANCE if spec is None else spec.tolerance


def tolerance_note() -> str:
    """The default floor tolerances in words, e.g. ``digits 0.015, the others 0.005``."""
    own = [f"{s.name} {s.tolerance:g}" for s in _REGISTRY.values()
           if s.tolerance != DEFAULT_TOLERANCE]
    return ", ".join([*own, f"the others {DEFAULT_TOLERANCE:g}"])


def datasets_table() -> str:
    """The registry as the Markdown table of docs/environment.md."""
    rows = ["| name | source | inputs | splits (train/val/test) | default network |",
            "|---|---|---|---|---|"]
    for s in _REGISTRY.values():
        sizes = s.split_sizes()
        splits = " / ".join(str(n) for n in sizes) if sizes else "—"
        network = "-".join(str(w) for w in s.topology)
        rows.append(f"| `{s.name}` | {s.description} | {s.n_inputs} | {splits} | {network} |")
    return "\n".join(rows)


class SpecTable(MutableMapping[str, Any]):
    """One field of every record, by dataset name; writing an entry replaces the record.

    ``SpecTable("mirrors")["svhn"] = (url,)`` points svhn's downloads at ``url`` (the
    tests serve files from a local server this way).

    :param field_name: a :class:`DatasetSpec` field.
    """

    def __init__(self, field_name: str) -> None:
        if field_name not in {f.name for f in dataclasses.fields(DatasetSpec)}:
            raise ValueError(f"DatasetSpec has no field {field_name!r}")
        self.field_name = field_name

    def __getitem__(self, name: str) -> Any:
        return getattr(_REGISTRY[name], self.field_name)

    def __setitem__(self, name: str, value: Any) -> None:
        _REGISTRY[name] = dataclasses.replace(_REGISTRY[name], **{self.field_name: value})

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"a record's {self.field_name} can be replaced, not removed")

    def __iter__(self) -> Iterator[str]:
        return iter(_REGISTRY)

    def __len__(self) -> int:
        return len(_REGISTRY)


# The settings' dataset: these names, each case and _/- spelling of them; the default
# tolerance of the accuracy floor.
provide(
    dataset_names=dataset_names,
    canonical_dataset=lambda name: dataset_spec(name).name,
    default_tolerance=default_tolerance,
)
