"""Command line: cost a saved network at several crossbar sizes and technologies.

Example::

    python -m hwmodel net.npz --crossbar-sizes 16 32 64 128 --technology resparc isaac
    python -m hwmodel net.npz --strategy clustered --clusters clusters.json --json
    python -m hwmodel masks.npz --masks --crossbar-sizes 64 --export-mapping map.json

Bad input (malformed file, non-binary mask under ``--masks``, layers whose
shapes do not chain, a size the technology does not allow) prints one line
``hwmodel: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from hwmodel.clusters import Cluster, clusters_from_document
from hwmodel.cost import NetworkCost, cost_mappings
from hwmodel.export import export_mapping
from hwmodel.mapping import LEFTOVER_COVERS, STRATEGIES, map_network
from hwmodel.netfile import Network, load_network
from hwmodel.safeload import DocumentError, load_document
from hwmodel.technology import DEFAULT_TECHNOLOGY, get_technology, preset_names

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hwmodel",
        description="Map a saved network (an .npz of weight or mask matrices, one per layer, "
        "(n_outputs, n_inputs), non-zero = kept) onto memristive crossbars and report "
        "crossbars, utilisation, area and energy per inference.",
    )
    p.add_argument("network", type=Path, help=".npz of layer matrices in natural key order")
    p.add_argument("--crossbar-sizes", "-n", type=int, nargs="+", default=[16, 32, 64, 128],
                   metavar="N", help="crossbar sizes to evaluate (default: 16 32 64 128)")
    p.add_argument("--technology", "-t", nargs="+", default=[DEFAULT_TECHNOLOGY], metavar="TECH",
                   help=f"preset names ({preset_names()}; the *-legacy ones: the rules of the "
                   f"first model) or .yaml/.json files (default: {DEFAULT_TECHNOLOGY})")
    p.add_argument("--strategy", "-s", nargs="+", default=list(STRATEGIES),
                   choices=STRATEGIES, help="mapping strategies (default: all)")
    p.add_argument("--leftover", choices=LEFTOVER_COVERS, default="band",
                   help="cover for connections outside clusters (default: band)")
    p.add_argument("--masks", action="store_true",
                   help="the arrays are 0/1 masks: reject any other value")
    p.add_argument("--clusters", type=Path, metavar="JSON",
                   help="per-layer clusters: a JSON list (one entry per layer) of lists of "
                   '{"outputs": [...], "inputs": [...]}')
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--export-mapping", type=Path, metavar="PATH",
                   help="write the mapping as JSON (one file per size and strategy, "
                   "suffixed -n<N>-<strategy>, when several are evaluated)")
    return p


def load_clusters(path: Path, n_layers: int) -> list[list[Cluster]]:
    """Read per-layer clusters from JSON; raise ``ValueError`` with a one-line reason."""
    try:  # size, depth and duplicate-key limits: the one reader of user files
        data = load_document(path, "json")
    except DocumentError as exc:
        raise ValueError(str(exc)) from None
    try:
        return clusters_from_document(data, n_layers)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _table(net: Network, path: Path, rows: list[tuple[int, NetworkCost]]) -> str:
    shapes = ", ".join(f"{o}x{i}" for o, i in net.shapes)
    nnz = sum(int(m.sum()) for m in net.masks)
    lines = [
        f"network: {path} ({len(net.names)} layers: {shapes}; {nnz:,} kept connections)",
        f"{'technology':<12}{'N':>5}  {'strategy':<10}{'crossbars':>10}{'bound':>8}"
        f"{'util':>8}{'area mm2':>12}{'energy nJ':>12}",
    ]
    for n, c in rows:
        lines.append(
            f"{c.technology:<12}{n:>5}  {c.strategy:<10}{c.n_crossbars:>10}{c.lower_bound:>8}"
            f"{c.utilization:>8.3f}{c.area_mm2:>12.4f}{c.energy_nj:>12.2f}"
        )
    best: dict[tuple[str, str], list[tuple[int, NetworkCost]]] = {}
    for n, c in rows:
        best.setdefault((c.technology, c.strategy), []).append((n, c))
    if any(len(v) > 1 for v in best.values()):
        lines.append("cheapest N (area / energy):")
        for (tech, strat), v in best.items():
            na = min(v, key=lambda r: r[1].area_mm2)[0]
            ne = min(v, key=lambda r: r[1].energy_nj)[0]
            lines.append(f"  {tech:<10} {strat:<10} area N={na}, energy N={ne}")
    return "\n".join(lines)


def _export_path(base: Path, n: int, strategy: str, several: bool) -> Path:
    return base.with_name(f"{base.stem}-n{n}-{strategy}{base.suffix}") if several else base


def run(args: argparse.Namespace) -> int:
    net = load_network(args.network, masks=args.masks)
    techs = [get_technology(t) for t in args.technology]
    for tech in techs:
        for n in args.crossbar_sizes:
            tech.check_crossbar_size(n)
    clusters = load_clusters(args.clusters, len(net.names)) if args.clusters else None
    masks = net.masks
    several = len(args.crossbar_sizes) * len(args.strategy) > 1
    rows: list[tuple[int, NetworkCost]] = []
    written = []
    for n in args.crossbar_sizes:
        for strategy in args.strategy:
            mappings = map_network(masks, n, strategy, clusters, leftover=args.leftover)
            if args.export_mapping:
                path = _export_path(args.export_mapping, n, strategy, several)
                export_mapping(mappings, path, network=str(args.network))
                written.append(path)
            rows.extend((n, cost_mappings(mappings, tech)) for tech in techs)
    rows.sort(key=lambda r: (techs.index(next(t for t in techs if t.name == r[1].technology)),
                             r[0], STRATEGIES.index(r[1].strategy)))
    if args.json:
        doc = {
            "network": str(args.network),
            "layers": [{"name": k, "shape": list(s)} for k, s in zip(net.names, net.shapes,
                                                                      strict=True)],
            "results": [c.to_dict() | {"crossbar_size": n} for n, c in rows],
            "exported": [str(p) for p in written],
        }
        print(json.dumps(doc, indent=1))
    else:
        print(_table(net, args.network, rows))
        for p in written:
            print(f"wrote {p}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hwmodel`` and ``tnf-hwmodel``; returns the exit status.

    :param argv: arguments (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code or 0)
    try:
        return run(args)
    except (ValueError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"hwmodel: error: {message}", file=sys.stderr)
        return EXIT_USAGE
