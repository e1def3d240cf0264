"""The ``compare`` subcommand: equal-compute comparison of PPO, tuned fixed schedules,
black-box (Optuna TPE) and random search (:mod:`agents.experiments.compare`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..common.overrides import add_set_flag
from ..common.progress import add_quiet_flag
from ..experiments.configs import CompareConfig
from .model_flags import add_config_flags, config_from_args


def cmd_compare(args: argparse.Namespace) -> int:
    """Train, tune and search on the training seeds; score every method on held-out seeds.

    :param args: the parsed ``compare`` flags.
    """
    from ..common.outputs import claim_dir
    from ..experiments.compare import run_compare
    from ..experiments.compare_report import results_markdown, write_outputs
    from ..rl.config import load_config
    from .checks import (
        CLIError,
        check_budget,
        check_device,
        check_out_dir,
        check_positive,
        check_rate_grid,
        check_seeds,
        require_modules,
    )

    out = Path(args.out)
    if args.report_only:  # the tables and figure again, from the rows already measured
        from ..experiments.compare_report import resummarize

        print(results_markdown(resummarize(out, args.reps)))
        return 0
    check_out_dir(out, "--out")
    check_seeds(args.train_seeds, "--train-seeds")
    check_seeds(args.eval_seeds, "--eval-seeds")
    check_seeds([args.search_seed], "--search-seed")
    check_rate_grid(args.rate_grid)
    check_positive(args, "snn_timesteps", "reps", "timesteps")
    check_budget(args.search_budget, "--search-budget")
    train = load_config(args.config, args.set or (), timesteps=args.timesteps)
    if (out / train.learner).exists() and not args.resume:
        raise CLIError(
            f"{out}/{train.learner} already holds training runs: pass --resume to continue "
            "that comparison, or choose another --out"
        )
    check_device(train.device, "device")
    check_device(train.env_config.device, "env.device")
    cfg = config_from_args(CompareConfig, args, train=train, out=out, cold=not args.no_cold)
    with claim_dir(out, "--out", replace=args.force):  # locked before PPO's first step
        # The figure needs it at the end: said before hours of PPO, and after the flags
        # and the output, which are the user's to fix first.
        require_modules(("matplotlib", "the learning-curve figure"))
        _same_comparison(cfg, out, args.resume)
        doc = run_compare(cfg, resume=args.resume, progress=not args.quiet)
        paths = write_outputs(doc, out)
    print(results_markdown(doc))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _same_comparison(cfg, out: Path, resume: bool) -> None:
    """Record the comparison in ``out/compare.json``; a resumed one must match it (its PPO
    runs, search journals and budgets are continued, not mixed with other settings)."""
    import json

    from hwmodel.safeload import load_document

    from ..common.outputs import atomic_write
    from .checks import CLIError

    path = out / "compare.json"
    if not resume:
        atomic_write(path, json.dumps(cfg.identity(), indent=1))
        return
    if not path.is_file():
        raise CLIError(f"--resume {out}: no comparison there (no compare.json)")
    if load_document(path, "json") != cfg.identity():
        raise CLIError(
            f"--resume {out}: its compare.json was written with other flags or config; "
            "give the same ones to continue it"
        )


def add_parser(sub) -> None:
    """Register ``compare`` on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "compare", help="PPO vs tuned fixed schedules vs black-box and random search, "
        "equal retraining epochs, held-out seeds"
    )
    p.add_argument("--config", default=None,
                   help="a name under configs/ or a YAML path (default digits)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="PPO's environment steps (default: the config's)")
    add_set_flag(p, "a configuration field or env.SETTING (as train --set)")
    add_config_flags(p, CompareConfig, skip=("train", "out", "cold", "extra"),
                     metavars={"warm_start": "{none,paper,pruning,policy:DIR}", "batch": "B",
                               "methods": "METHOD", "fixed_sizes": "N"})
    p.add_argument("--out", default="runs/compare", help="output directory")
    p.add_argument("--force", action="store_true", help="overwrite results in --out")
    p.add_argument("--resume", action="store_true",
                   help="continue a comparison in --out that was stopped (same flags): PPO "
                   "from its checkpoints, the searches from their journals, the held-out "
                   "seeds after the last one scored")
    p.add_argument("--no-cold", action="store_true",
                   help="train only the --warm-start PPO run (its CPU then sets the searches' "
                   "budget), not a cold one too")
    p.add_argument("--report-only", action="store_true",
                   help="recompute results.md, the summary and the figure from --out's rows")
    add_quiet_flag(p)
    p.set_defaults(func=cmd_compare)
