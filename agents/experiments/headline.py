"""The headline at the paper's scale, one command on two CPU cores.

``python -m agents.experiments.headline --out runs/headline`` runs ``compare`` with the
protocol below: mnist-10k (784-1200-1200-10, resparc, 12 steps x 5 epochs = the paper's
60-epoch budget per delivered network); PPO warm-started from the shipped digits policy
and trained at the ``low`` fidelity on dev seeds 0 and 1; TPE and random search over the
fixed schedule's constants at the same fidelity and PPO's CPU-seconds; the paper's
schedule, magnitude pruning and crossbar-tile pruning tuned on each held-out network
(rate grid x crossbar sizes 32, 64, 128); the digits policy zero-shot; every delivered
network re-run and scored at ``full`` fidelity on held-out seeds 7, 8 and 9, which nothing
else in the project uses. Two worker processes of one thread each; ``--resume`` continues
a cut run (PPO from its checkpoints, the searches from their journals, the held-out jobs
after their last finished seed). Results: ``results.md``, ``results.json``,
``area_accuracy.png`` and ``learning_curves.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

TIMESTEPS = 1200  # PPO's environment steps: 100 low-fidelity episodes on two workers
PROTOCOL = (
    "--config", "mnist10k", "--set", "env.fidelity=low", "--timesteps", str(TIMESTEPS),
    "--warm-start", "policy:policies/digits", "--no-cold", "--search-budget-unit", "cpu",
    "--train-seeds", "0", "1", "--eval-seeds", "7", "8", "9", "--fixed-sizes", "32", "64",
    "128", "--methods", "tiles", "policy:policies/digits", "--workers", "2",
)


def command(out: str, resume: bool = False, quiet: bool = False, force: bool = False) -> list[str]:
    """The ``train_agent.py`` arguments of the protocol, written to ``out``."""
    return ["compare", *PROTOCOL, "--out", out, *(["--resume"] if resume else []),
            *(["--quiet"] if quiet else []), *(["--force"] if force else [])]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m agents.experiments.headline",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/headline", help="output directory")
    p.add_argument("--resume", action="store_true", help="continue a run cut short")
    p.add_argument("--force", action="store_true", help="overwrite results in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--print-command", action="store_true",
                   help="print the train_agent.py command of the protocol and exit")
    args = p.parse_args(argv)
    argv_compare = command(args.out, args.resume, args.quiet, args.force)
    if args.print_command:
        print("python train_agent.py " + " ".join(argv_compare))
        return 0
    from ..cli import main as cli_main

    return cli_main(argv_compare)


if __name__ == "__main__":
    sys.exit(main())
