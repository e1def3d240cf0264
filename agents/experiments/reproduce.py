"""The paper's experiment: original vs pruning vs offline clustering vs TraNNsformer.

Every method runs in one study (:mod:`agents.experiments`: the environment,
its sub-iterations and its selection on validation) and is scored by the one
scoring path, in both accountings. For each seed ``s`` (dense baseline and
transformation seeded with ``s``) and crossbar size:

- ``original``: the dense network;
- ``pruning``: the pruning-only schedule, its rate scale tuned on validation;
- ``pruning (release)``: the release's pruning run (2/3 of the epochs, 0.7x the rate);
- ``offline``: SCIC once on the tuned pruning network, without retraining;
- ``paper``: TraNNsformer, the paper's schedule with its rate scale tuned on validation;
- ``paper (release)``: the paper's schedule at the project's rate scale
  (docs/design.md, section 3);
- any other registered method asked for with ``--methods``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwmodel.clusters import Cluster
from tnf_env.model.spiking import SNNSettings
from tnf_env.settings import EnvConfig

from ..common.netstore import NetworkStore
from . import methods as m
from .configs import ReproduceConfig
from .episodes import EpisodeRunner
from .frontier import floor_rates, iso_accuracy, iso_figure, iso_table
from .report import markdown, method_order, network_fields
from .report import write_outputs as write_report
from .results import results_table, spread_text
from .results import summarize as summarize_rows
from .study import Study, StudyContext

METHODS = ("original", "pruning (release)", "pruning", "offline", "paper (release)", "paper")
REFERENCES = ("original", "pruning")


@dataclass
class ReproduceResult:
    """The ``results.json`` document and, for figures, the first seed's connectivity:
    per crossbar size, (original masks, TraNNsformer masks, TraNNsformer clusters)."""

    doc: dict
    connectivity: dict = field(default_factory=dict)


def reproduce_methods(cfg: ReproduceConfig, release_steps: int) -> list[m.Method]:
    """The study's methods: the defaults with this run's constants, then ``cfg.methods``."""
    defaults: dict[str, m.Method] = {
        "original": m.Original(),
        "pruning (release)": m.PruningRelease(release_steps, cfg.pruning_rate_scale),
        "pruning": m.PruningTuned(),
        "offline": m.OfflineClustering(),
        "paper (release)": m.PaperRelease(),
        "paper": m.PaperTuned(),
    }
    return [defaults.get(k) or m.create(k) for k in cfg.methods or METHODS]


class ReproduceStudy(Study):
    """The study, plus per seed the dense baseline's accuracy, the tuned runs' frontier
    points, the first seed's connectivity and (``--save-networks``) every network."""

    kind = "reproduce"

    def __init__(self, context: StudyContext, methods, seeds, store: NetworkStore | None, log,
                 identity, progress: bool = False):
        super().__init__(context, methods, seeds, context.sizes, log, identity, progress,
                         advice="raise --epochs (more retraining per step, gentler pruning "
                         "per epoch), lower --rate-scale or loosen the floor (--tolerance)")
        if context.points is None:  # its rows carry the tuned runs' frontier points
            raise ValueError("a reproduce study records every step: its context needs points=[]")
        self.points: list[dict] = context.points
        self.connectivity: list[dict] = []
        self.store = store

    def resumed(self, entries: list[dict]) -> None:
        if self.store is not None:
            self.store.keep_seeds({e["seed"] for e in entries})

    def started(self, seed: int) -> None:
        task = self.context.fixed.task(seed)
        self.baseline = {"seed": seed, "accuracy_val": task.baseline_accuracy,
                         "accuracy_test": task.baseline.accuracy_test}
        self.log(f"seed {seed}: {task.describe()}")
        self.mark, self.connectivity = len(self.points), []

    def cell(self, seed: int, crossbar_size: int | None, results: dict[str, m.MethodResult],
             rows: list[dict]) -> None:
        if self.store is not None:
            for row in rows:
                d = results[row["method"]].delivered
                self.store.add(d, seed, row["method"], crossbar_size, row)
        if seed == self.seeds[0] and "paper" in results:
            paper = results["paper"].delivered
            self.connectivity.append({
                "crossbar_size": crossbar_size,
                "original": [_pack(x) for x in self.context.original(seed).net.masks_numpy()],
                "paper": [_pack(x) for x in paper.net.masks_numpy()],
                "clusters": [[c.to_dict() for c in layer] for layer in paper.clusters],
            })

    def seed_extra(self, seed: int) -> dict:
        return {"baseline": self.baseline, "points": self.points[self.mark:],
                "connectivity": self.connectivity}


def _pack(mask: np.ndarray) -> dict:
    """A boolean mask as JSON: its shape and its bits in base64."""
    bits = np.packbits(np.asarray(mask, dtype=bool), axis=None)
    return {"shape": list(mask.shape), "bits": base64.b64encode(bits.tobytes()).decode()}


def _unpack(d: dict) -> np.ndarray:
    bits = np.frombuffer(base64.b64decode(d["bits"]), dtype=np.uint8)
    shape = tuple(d["shape"])
    return np.unpackbits(bits, count=int(np.prod(shape))).astype(bool).reshape(shape)


def run_reproduce(
    cfg: ReproduceConfig, log: Callable[[str], None] = print, progress: bool = False,
    journal: Path | None = None, resume: bool = False, env: EnvConfig | None = None,
) -> ReproduceResult:
    """Run the experiment; returns the ``results.json`` document and figure data.

    :param env: ``cfg.env_settings()`` validated already (the command's check), so that
        the run validates them once (None: validated here).
    :param log: receives one line per finished phase.
    :param progress: a bar on stderr over the rows, with an ETA (off with ``--quiet``).
    :param journal: where finished seeds are recorded (``--resume`` continues after them).
    :param resume: continue the run the journal holds (and the network store's manifest).
    """
    settings = cfg.env_settings()
    step_epochs = cfg.epochs // cfg.steps
    release_epochs = cfg.pruning_epochs or max(1, round(cfg.epochs * 2 / 3))
    release_steps = max(1, round(release_epochs / step_epochs))
    methods = reproduce_methods(cfg, release_steps)
    store = NetworkStore(cfg.save_networks) if cfg.save_networks else None
    runner = EpisodeRunner(settings, SNNSettings(timesteps=cfg.snn_timesteps), config=env)
    grid = [cfg.rate_scale * g for g in cfg.rate_grid]
    context = StudyContext(runner, cfg.crossbar_sizes, grid, cfg.rate_scale, cfg.steps,
                           step_epochs, points=[], batch=cfg.batch)
    t_start = time.perf_counter()
    study = ReproduceStudy(context, methods, cfg.seeds, store, log,
                           {"reproduce": json.loads(json.dumps(cfg.identity()))}, progress)
    done = study.finish(journal, resume)
    task, rows, entries = done.task, done.rows, done.entries
    baselines = [e["extra"]["baseline"] for e in entries]
    connectivity = {
        c["crossbar_size"]: ([_unpack(x) for x in c["original"]], [_unpack(x) for x in c["paper"]],
                             [[Cluster.from_dict(k) for k in layer] for layer in c["clusters"]])
        for c in entries[0]["extra"]["connectivity"]
    }
    doc = {
        **network_fields(task),
        "seeds": list(cfg.seeds),
        "tolerance": task.config.accuracy_tolerance,
        "epochs": cfg.epochs,
        "steps": cfg.steps,
        "rate_scale": cfg.rate_scale,
        "rate_grid": grid,
        "pruning_release": {"epochs": release_steps * step_epochs,
                            "rate_scale": cfg.pruning_rate_scale * cfg.rate_scale},
        **seed_fields(baselines, rows, [p for e in entries for p in e["extra"]["points"]]),
        "selection_margin": task.config.selection_margin,
        "wall_seconds": time.perf_counter() - t_start,
        "budgets": done.budgets,
    }
    doc["iso_accuracy"] = iso_accuracy(doc)
    return ReproduceResult(doc, connectivity)


def seed_fields(baselines: list[dict], rows: list[dict], points: list[dict]) -> dict:
    """The parts of ``results.json`` that come from the seeds: the baselines and their
    means, the rows and their summary, the frontier points."""
    return {
        "baseline": {
            "accuracy_val": float(np.mean([b["accuracy_val"] for b in baselines])),
            "accuracy_test": float(np.mean([b["accuracy_test"] for b in baselines])),
            "per_seed": baselines,
        },
        "rows": rows,
        "summary": summarize(rows),
        "frontier_points": points,
    }


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and spread over seeds per (method, crossbar size), ratios to original and pruning."""
    return summarize_rows(rows, method_order(rows, METHODS), REFERENCES)


def results_markdown(doc: dict) -> str:
    """The paper-style tables of a ``results.json`` document."""
    grid = ", ".join(f"{g:g}" for g in doc["rate_grid"])
    rel = doc["pruning_release"]
    title = (f"TraNNsformer on {doc['dataset']} {doc['topology']} ({doc['technology']}), "
             f"seeds {doc['seeds']}")
    intro = (
        f"Dense baseline: validation {100 * doc['baseline']['accuracy_val']:.2f}%, "
        f"test {100 * doc['baseline']['accuracy_test']:.2f}%. Floor: accuracy >= baseline - "
        f"{100 * doc['tolerance']:.1f} points (judged on validation; the test column is "
        "reported only). Every network is the latest step of its schedule meeting the floor "
        f"on validation. Budget: {doc['epochs']} retraining epochs per transformation in "
        f"{doc['steps']} steps; `pruning` and `paper` tune the rate scale over {{{grid}}} on "
        "validation (least `best` cost; all grid points' epochs under 'tuning'); "
        f"`pruning (release)`: {rel['epochs']} epochs at rate scale {rel['rate_scale']:g}; "
        f"`paper (release)`: rate scale {doc['rate_scale']:g}. Area and energy are ratios "
        "per seed to the reference method at the same crossbar size, "
        f"{spread_text(len(doc['seeds']))}."
    )
    lines = [
        results_table(doc["summary"], REFERENCES),
        floor_rates(doc["rows"], method_order(doc["rows"], METHODS)),
        "",
        f"Wall time {doc['wall_seconds']:.0f} s.",
    ]
    if doc.get("iso_accuracy"):
        lines += [
            "",
            "## At iso-accuracy",
            "",
            "Each tuned method's frontier over every network its tuning produced (rate grid "
            "points x steps; `best` accounting, expected activity): its area and energy at "
            "the matched test accuracy (each seed's dense test accuracy - "
            f"{100 * doc['tolerance']:.1f} points), interpolated on the frontier; "
            + ("mean over seeds [95% percentile bootstrap, scipy.stats.bootstrap]; ratios "
               "paired by seed. " if len(doc["seeds"]) > 1 else
               "n = 1 (one seed: single values, no interval). ")
            + f"Selection margin k = {doc.get('selection_margin', 0):g} standard errors.",
            "",
            iso_table(doc["iso_accuracy"]),
        ]
    return markdown(title, intro, *lines)


def write_outputs(result: ReproduceResult, out: Path) -> list[Path]:
    """Write results.json, results.md and the PNG figures into ``out``."""
    from .figures import connectivity_figure, cost_figure

    figures: list = [("cost_per_crossbar_size.png", cost_figure)]
    for e in result.doc.get("iso_accuracy", []):
        n = e["crossbar_size"]
        figures.append((f"iso_accuracy_N{n}.png", lambda doc, path, n=n: iso_figure(doc, n, path)))
    paths = write_report(result.doc, results_markdown(result.doc), out, figures)
    for n, (before, after, clusters) in result.connectivity.items():
        paths.append(
            connectivity_figure(before, after, clusters, n, out / f"connectivity_N{n}.png")
        )
        # The transformed network in hwmodel's formats: python -m hwmodel FILE.npz --masks
        # --strategy clustered --clusters FILE_clusters.json
        net = out / f"trannsformer_N{n}.npz"
        np.savez_compressed(net, **{f"layer{i}": m.astype(np.uint8) for i, m in enumerate(after)})
        clus = out / f"trannsformer_N{n}_clusters.json"
        clus.write_text(
            json.dumps({"clusters": [[c.to_dict() for c in layer] for layer in clusters]})
        )
        paths += [net, clus]
    return paths
