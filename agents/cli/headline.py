"""The ``headline`` subcommand: the project's question at the paper's scale, one command on
two CPU cores (results: docs/results/headline-mnist10k.md).

It is ``compare`` with the protocol below: mnist-10k (784-1200-1200-10, resparc, 12 steps
x 5 epochs = the paper's 60-epoch budget per delivered network); PPO warm-started from
the shipped digits policy and trained at the ``low`` fidelity on dev seeds 0 and 1; TPE
and random search over the fixed schedule's constants at the same fidelity and PPO's
CPU-seconds; the paper's schedule, magnitude pruning and crossbar-tile pruning tuned on
each held-out network (rate grid x crossbar sizes 32, 64, 128); the digits policy
zero-shot; every delivered network re-run and scored at ``full`` fidelity on held-out
seeds 7, 8 and 9, which nothing else in the project uses. Two worker processes of one
thread each. ``--resume`` continues a cut run: PPO from its checkpoints, the searches
from their journals, each held-out job after its last finished seed.
"""

from __future__ import annotations

import argparse

from ..common.progress import add_quiet_flag

TIMESTEPS = 1200  # PPO's environment steps: 100 low-fidelity episodes on two workers
PROTOCOL = (
    "--config", "mnist10k", "--set", "env.fidelity=low", "--timesteps", str(TIMESTEPS),
    "--warm-start", "policy:policies/digits", "--no-cold", "--search-budget-unit", "cpu",
    "--train-seeds", "0", "1", "--eval-seeds", "7", "8", "9", "--fixed-sizes", "32", "64",
    "128", "--methods", "tiles", "policy:policies/digits", "--workers", "2",
)


def compare_argv(out: str, resume: bool = False, quiet: bool = False,
                 force: bool = False) -> list[str]:
    """The ``compare`` arguments of the protocol, written to ``out``.

    :param out: the output directory.
    :param resume: continue a run cut short.
    :param quiet: no progress bars.
    :param force: replace the results in ``out``.
    """
    return ["compare", *PROTOCOL, "--out", out, *(["--resume"] if resume else []),
            *(["--quiet"] if quiet else []), *(["--force"] if force else [])]


def cmd_headline(args: argparse.Namespace) -> int:
    """Run (or print) the protocol's ``compare``.

    :param args: the parsed ``headline`` flags.
    """
    argv = compare_argv(args.out, args.resume, args.quiet, args.force)
    if args.print_command:
        print("python train_agent.py " + " ".join(argv))
        return 0
    from .commands import build_parser

    parsed = build_parser().parse_args(argv)
    return parsed.func(parsed)


def add_parser(sub) -> None:
    """Register ``headline`` on the subcommand parsers ``sub``."""
    p = sub.add_parser("headline", help="learned vs tuned fixed vs black-box on mnist-10k, "
                       "held-out seeds 7-9, the whole protocol on 2 CPU cores (~1.5 h)")
    p.add_argument("--out", default="runs/headline", help="output directory")
    p.add_argument("--resume", action="store_true",
                   help="continue a run cut short (PPO, searches and held-out jobs)")
    p.add_argument("--force", action="store_true", help="overwrite results in --out")
    p.add_argument("--print-command", action="store_true",
                   help="print the protocol's compare command and exit")
    add_quiet_flag(p)
    p.set_defaults(func=cmd_headline)
