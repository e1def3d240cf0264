"""Merge ``reproduce`` runs of the same experiment made one seed per process.

Run: ``.venv/bin/python scripts/merge_reproduce.py RUN_DIR... --out DIR``

A seed per process uses both cores of a small machine; the rows of each run do not
depend on the other seeds, so the merged document is the one ``--seeds 0 1 2`` in one
process would write, except ``wall_seconds`` (here: the longest run) and the figures
of the first seed's connectivity (not written). The runs must agree on everything but
their seeds; results.json files are read as JSON, never unpickled.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agents.experiments.frontier import iso_accuracy
from agents.experiments.reproduce import ReproduceResult, seed_fields, write_outputs

SAME = ("dataset", "topology", "technology", "tolerance", "epochs", "steps", "rate_scale",
        "rate_grid", "pruning_release", "selection_margin", "budgets")


def merge(docs: list[dict]) -> dict:
    """One results document from several of the same experiment on other seeds."""
    first = docs[0]
    for d in docs[1:]:
        bad = [k for k in SAME if d.get(k) != first.get(k)]
        if bad:
            raise ValueError(f"the runs differ in {bad}: merge only runs of one experiment")
    seeds = [s for d in docs for s in d["seeds"]]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed is in more than one run: {seeds}")
    doc = {k: first[k] for k in SAME if k in first}
    doc.update(
        seeds=seeds,
        **seed_fields([b for d in docs for b in d["baseline"]["per_seed"]],
                      [r for d in docs for r in d["rows"]],
                      [p for d in docs for p in d.get("frontier_points", [])]),
        wall_seconds=max(d["wall_seconds"] for d in docs),
        merged_from=[d.get("source", "") for d in docs],
    )
    doc["iso_accuracy"] = iso_accuracy(doc)
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="reproduce output directories")
    ap.add_argument("--out", type=Path, required=True, help="directory for the merged run")
    args = ap.parse_args()
    docs = []
    for run in args.runs:
        doc = json.loads((run / "results.json").read_text())
        doc["source"] = str(run)
        docs.append(doc)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in write_outputs(ReproduceResult(merge(docs)), args.out):
        print(path)


if __name__ == "__main__":
    main()
