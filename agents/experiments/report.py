"""One results writer and one report template for every study.

A study's output directory holds ``results.json`` (the document: settings, one row per
method, seed and crossbar size, the summary, each method's declared budget), ``results.md``
(:func:`markdown`: a title, a paragraph saying what was run and how it was judged, then
the study's tables) and the study's figures, all written by :func:`write_outputs`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tnf_env.model.network import format_topology

from .results import write_results

Figure = tuple[str, Callable[[dict, Path], Path | None]]  # file name, what draws it


def markdown(title: str, intro: str, *blocks: str) -> str:
    """The report: ``# title``, the intro paragraph, then each block on its own lines."""
    return "\n".join([f"# {title}", "", intro, "", *blocks]) + "\n"


def network_fields(task) -> dict:
    """The document's description of the network a study transforms."""
    return {"dataset": task.data.name, "topology": format_topology(task.topology),
            "technology": task.technology.name}


def write_outputs(doc: dict, report: str, out: Path, figures: Sequence[Figure] = ()
                  ) -> list[Path]:
    """``results.json``, ``results.md`` and the figures under ``out``; the paths written
    (a figure whose drawer returns None is left out)."""
    paths = write_results(doc, report, out)
    for name, draw in figures:
        path = draw(doc, out / name)
        if path is not None:
            paths.append(path)
    return paths


def method_order(rows: Sequence[dict], preferred: Sequence[str]) -> list[str]:
    """The methods of ``rows``: those of ``preferred`` in its order, then the others in
    the order they first appear (a baseline a study was asked to add)."""
    present = list(dict.fromkeys(r["method"] for r in rows))
    return [m for m in preferred if m in present] + [m for m in present if m not in preferred]
