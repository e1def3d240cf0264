"""``train_agent.py`` subcommands, their parser and :func:`main`.

Each subcommand is a function ``cmd_NAME(args) -> int`` (``compare``'s is in
:mod:`.compare`); user errors raise :class:`~.checks.CLIError`, printed as one line with
exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import yaml

from hwmodel.technology import preset_names
from tnf_env.data.datasets import DEFAULT_DATASET, DatasetError, dataset_names, tolerance_note
from tnf_env.model import SNN_TIMESTEPS

from ..common.outputs import JOURNAL, atomic_write, claim_dir
from ..common.overrides import DeprecatedOverride, add_set_flag, apply_overrides
from ..common.progress import add_quiet_flag, library_progress, progress_bar
from ..experiments.configs import BenchmarkConfig, ReproduceConfig
from ..experiments.flags import add_study_flags, check_batch, check_methods
from ..search.config import SearchConfig
from .checks import (
    FLAG_LIMITS,
    CLIError,
    check_budget,
    check_device,
    check_distinct,
    check_env_settings,
    check_out_dir,
    check_positive,
    check_rate_grid,
    check_resumable,
    check_seeds,
    require_modules,
)
from .model_flags import DefaultsFormatter, add_config_flags, config_from_args

# The handlers import what they run (torch, SB3, the studies): the parser, built on every
# call and for --help, needs none of it.


def cmd_baseline(args: argparse.Namespace) -> int:
    """Train (or load from the cache) the dense baseline and score ANN and SNN."""
    from tnf_env.data.datasets import load_dataset
    from tnf_env.model.baseline import get_baseline
    from tnf_env.model.network import default_topology, format_topology, parse_topology
    from tnf_env.model.spiking import normalization_scales, simulate_snn
    from tnf_env.model.training import default_recipe, to_tensors

    check_positive(args, "epochs")  # 0 would cache an untrained network
    check_seeds([args.seed], "--seed")
    high = FLAG_LIMITS["snn_timesteps"]
    bad = [t for t in args.timesteps if not 1 <= t <= high]
    if bad:
        raise CLIError(f"--timesteps must be integers in [1, {high}], got {bad[0]}")
    if not 0 < args.percentile <= 100:
        raise CLIError(f"--percentile must be a number in (0, 100], got {args.percentile}")
    check_device(args.device, "--device")
    if args.cache_dir is not None:
        check_out_dir(Path(args.cache_dir), "--cache-dir")
    if args.topology is not None:  # the environment's bounds on widths and layers
        check_env_settings({"dataset": args.dataset, "topology": args.topology})
    data = load_dataset(args.dataset, args.data_dir)
    topology = parse_topology(args.topology or default_topology(data.name))
    recipe = default_recipe(data.name)
    if args.epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=args.epochs)

    def progress(epoch: int, loss: float, acc: float) -> None:
        print(f"  epoch {epoch + 1}/{recipe.epochs}  loss {loss:.4f}  val {acc:.4f}", flush=True)

    print(
        f"dense baseline {data.name} {format_topology(topology)} seed {args.seed}: {data.summary()}"
    )
    base = get_baseline(
        data,
        topology,
        args.seed,
        recipe,
        args.cache_dir,
        progress=None if args.quiet else progress,
        device=args.device,
    )
    xt, _ = to_tensors(data.x_train, data.y_train, base.net.mask(0).device)
    xs, ys = to_tensors(data.x_test, data.y_test, base.net.mask(0).device)
    scales = normalization_scales(base.net, xt, args.percentile)
    result = {
        "dataset": data.name,
        "topology": format_topology(base.net.topology),
        "seed": args.seed,
        "accuracy_val": base.accuracy_val,
        "accuracy_test": base.accuracy_test,
        "train_seconds": round(base.train_seconds, 2),
        "from_cache": base.from_cache,
        "snn": [],
    }
    for t in args.timesteps:
        t0 = time.perf_counter()
        snn = simulate_snn(
            base.net, xs, ys, scales, timesteps=t, coding=args.coding, seed=args.seed
        )
        result["snn"].append(
            {
                "timesteps": t,
                "accuracy_test": snn.accuracy,
                "spike_rates": snn.spike_rates,
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        src = "cache" if base.from_cache else f"trained in {base.train_seconds:.1f} s"
        print(f"ANN  val {base.accuracy_val:.4f}  test {base.accuracy_test:.4f}  ({src})")
        for row in result["snn"]:
            print(
                f"SNN  T={row['timesteps']:<4d} test {row['accuracy_test']:.4f}  "
                f"({row['seconds']:.1f} s)"
            )
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """The paper's experiment: original / pruning / offline / TraNNsformer per crossbar size."""

    from ..experiments.reproduce import results_markdown, run_reproduce, write_outputs

    out = Path(args.out)
    check_out_dir(out, "--out")
    check_resumable(out, args.resume)
    check_seeds(args.seeds)
    check_positive(args, "epochs", "steps", "pruning_epochs", "snn_timesteps")
    nets = Path(args.save_networks) if args.save_networks else None
    if nets is not None:
        check_out_dir(nets, "--save-networks")
    require_modules(("matplotlib", "the figures"))
    env_set = apply_overrides({}, args.set or (), top=()).get("env", {})
    if "seed" in env_set:  # each of --seeds is a baseline's seed: one env.seed would be lost
        raise CLIError(f"--set env.seed={env_set['seed']!r}: reproduce runs one baseline per "
                       "seed of --seeds (allowed: --seeds SEED ...)")
    cfg = config_from_args(ReproduceConfig, args, env=env_set)
    check_rate_grid(cfg.rate_grid)
    env = check_env_settings(cfg.env_settings())  # the run's one validation of them
    check_device(cfg.device, "device")
    check_methods(args.methods)
    check_batch(args.batch)
    again = args.force or args.resume
    with ExitStack() as claims:  # checked and locked before the first epoch
        claims.enter_context(claim_dir(out, "--out", replace=again))
        if nets is not None:
            claims.enter_context(
                claim_dir(nets, "--save-networks", ("manifest.json",), replace=again)
            )
        result = run_reproduce(cfg, progress=not args.quiet, journal=out / JOURNAL,
                               resume=args.resume, env=env)
        paths = write_outputs(result, out)
    print(results_markdown(result.doc))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """The configuration's learner on the environment, then learned vs the paper's schedule
    vs random."""

    from ..rl.callbacks import EVAL_SEED
    from ..rl.config import load_config
    from ..rl.full_delivery import at_full, is_full
    from ..rl.policies import (
        PaperPolicy,
        RandomPolicy,
        comparison_table,
        delivery_warnings,
        evaluate_policy,
        summarize,
    )
    from ..rl.run_dir import load_run_config
    from ..rl.sb3_policy import SB3Policy
    from ..rl.training import train

    if args.resume:
        given = [
            f
            for f in ("config", "n_envs", "seed", "device", "out", "set")
            if getattr(args, f) is not None
        ]
        if given:
            raise CLIError(
                f"--resume continues a run with its own config.yaml (only --timesteps may "
                f"change, the new total); drop "
                f"{', '.join('--' + f.replace('_', '-') for f in given)}"
            )
        check_positive(args, "timesteps")
        out = Path(args.resume)
        cfg = load_config(None)  # replaced by the run's own config.yaml
    else:
        cfg = load_config(
            args.config,
            args.set or (),
            timesteps=args.timesteps,
            n_envs=args.n_envs,
            seed=args.seed,
            device=args.device,
        )
        out = Path(args.out or Path("runs") / cfg.run_name)
        check_out_dir(out, "--out")
        check_device(cfg.device, "device")  # the learner's networks
        check_device(cfg.env_config.device, "env.device")  # retraining
    with claim_dir(out, "--resume" if args.resume else "--out", products=()):
        # locked from before the first step to the last comparison file written
        t0 = time.perf_counter()
        model = train(
            cfg,
            out,
            resume=bool(args.resume),
            progress_bar=not args.quiet,
            timesteps=args.timesteps if args.resume else None,
        )
        train_s = time.perf_counter() - t0
        cfg_used = load_run_config(out, own=True)
        # Every row at full fidelity, whatever fidelity the training episodes had.
        full = at_full(cfg_used.env)
        env = tnf_env_make(full)
        # The fixed schedules need the paper's pruning unit; the policy keeps its own.
        paper_env = tnf_env_make({**full, "prune_unit": "paper"})
        seeds = [EVAL_SEED + 100 + k for k in range(cfg_used.compare_episodes)]
        learner = cfg_used.learner
        with progress_bar(3 * len(seeds), "comparison", not args.quiet) as bar:

            def tick(_result) -> None:
                bar.update()

            rows = {
                f"{learner} (learned)": summarize(
                    evaluate_policy(env, SB3Policy(model, name=learner), seeds, tick)),
                "paper schedule": summarize(
                    evaluate_policy(paper_env, PaperPolicy(), seeds, tick)
                ),
                "random": summarize(
                    evaluate_policy(paper_env, RandomPolicy(seed=cfg_used.seed), seeds, tick)
                ),
            }
        table = comparison_table(rows)
        atomic_write(out / "comparison.md", table + "\n")
        atomic_write(out / "comparison.json", json.dumps(rows, indent=2))
    print(f"\n{model.num_timesteps} timesteps in {train_s:.0f} s -> {out}")
    level = cfg_used.env.get("fidelity", "full")
    if not is_full(cfg_used.env):
        print(f"trained on {level}-fidelity episodes; best_schedule.json and this table are "
              "re-run at full fidelity")
    print(f"evaluation episodes at full fidelity (seeds {seeds[0]}..{seeds[-1]}, never trained "
          "on):")
    print(table)
    # the random baseline falls back by nature: warnings are for the schedules a user tunes
    for line in delivery_warnings({k: v for k, v in rows.items() if k != "random"}):
        print(line)
    return 0


def tnf_env_make(settings: dict):
    import tnf_env

    return tnf_env.make(**settings)


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-run a saved schedule and check it reproduces its recorded metrics."""

    from ..rl.replay import load_schedule, replay, same

    render_dir = Path(args.render) if args.render else None
    if render_dir is not None:
        check_out_dir(render_dir, "--render")
    doc = load_schedule(args.schedule)
    result, compared = replay(doc, render_dir)
    all_same = True
    for key, (rec, now) in compared.items():
        ok = same(rec, now)
        all_same &= ok
        print(f"{key:>15}: recorded {rec}  replayed {now}  {'ok' if ok else 'DIFFERENT'}")
    print(f"return {result.episode_return:.4f} over {result.steps} steps")
    if render_dir:
        print(f"frames written to {render_dir}")
    if not all_same:
        print("replay differs from the recorded metrics", file=sys.stderr)
        return 1
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Original, pruning, the paper's schedule, random search and PPO on one configuration."""

    from ..experiments.benchmark import results_markdown, run_benchmark, write_outputs
    from ..rl.config import load_config

    out = Path(args.out)
    check_out_dir(out, "--out")
    check_resumable(out, args.resume)
    check_seeds(args.seeds)
    check_positive(args, "snn_timesteps", "random_candidates")  # budget / candidates epochs
    check_budget(args.budget, "--budget")
    check_distinct(args.crossbar_sizes, "--crossbar-sizes")
    require_modules(("matplotlib", "the figures"))
    run_dir, learned = None, tuple[str, ...]()
    if args.run:
        from ..rl.policy_dir import check_policy_dir
        from ..rl.run_dir import load_run_config

        try:  # every file the policy loads from, before --out is claimed
            run_dir = str(check_policy_dir(args.run))
        except ValueError as exc:
            raise CLIError(f"--run {args.run}: no usable trained policy there ({exc})") from None
        run_cfg = load_run_config(Path(run_dir))
        env_settings, learned = run_cfg.env, (run_cfg.learner,)  # the policy's own spaces
    else:
        env_settings = load_config(args.config).env
    # e.g. evaluate a policy on a wider network, untrained there; only the env is used
    env_settings = apply_overrides({"env": env_settings}, args.set or (), top=())["env"]
    if args.device is not None:
        env_settings["device"] = args.device
    cfg = config_from_args(BenchmarkConfig, args, env=env_settings, run_dir=run_dir)
    check_rate_grid(cfg.rate_grid)
    check_device(check_env_settings(cfg.env).device, "device")
    check_methods(args.methods, learned)  # the policy's rows are named after its learner
    check_batch(args.batch)
    # locked before the first epoch
    with claim_dir(out, "--out", replace=args.force or args.resume):
        doc = run_benchmark(cfg, journal=out / JOURNAL, resume=args.resume,
                            progress=not args.quiet)
        paths = write_outputs(doc, out)
    print(results_markdown(doc))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """PPO (or fixed-schedule) trials by grid or Optuna, spread over a Ray cluster (or a
    local Ray instance), weak ones stopped early by ASHA when asked."""

    from ..rl.config import load_config
    from ..search.tune import run_search

    check_seeds(args.seeds)
    base = load_config(
        args.config, args.set or (), timesteps=args.timesteps, n_envs=args.n_envs
    )
    out = Path(args.out or Path("runs") / f"search-{base.name}")
    check_out_dir(out, "--out")
    cfg = config_from_args(SearchConfig, args, base=base, out=out,
                           space=tuple(args.space or ()))
    run_search(cfg)
    return 0


def build_parser(prog: str = "train_agent.py") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="TraNNsformer gym: transform spiking MLPs for memristive crossbars.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("baseline", help="train or load the dense baseline; ANN and SNN accuracy")
    p.add_argument("--dataset", default=DEFAULT_DATASET,
                   help=f"one of {dataset_names()} (default {DEFAULT_DATASET})")
    p.add_argument("--data-dir", default=None, help="directory holding the dataset files")
    p.add_argument("--topology", default=None, help="layer widths, e.g. 784-1200-1200-10")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and training")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default 60)")
    p.add_argument("--cache-dir", default=None, help="baseline cache (default ~/.cache/tnf_env)")
    p.add_argument("--timesteps", type=int, nargs="+", default=[SNN_TIMESTEPS],
                   help=f"SNN lengths T (default {SNN_TIMESTEPS})")
    p.add_argument("--coding", default="poisson", choices=["poisson", "deterministic"],
                   help="how inputs become spikes")
    p.add_argument(
        "--percentile",
        type=float,
        default=99.9,
        help="activation percentile for SNN weight normalisation (100 = max)",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument(
        "--device", default="cpu", help="torch device of retraining: cpu, cuda[:k], mps or auto"
    )
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("reproduce", help="the paper's experiment and its table")
    add_config_flags(p, ReproduceConfig, skip=("methods", "batch", "env"),
                     aliases={"seeds": ["--seed"]},
                     metavars={"selection_margin": "K", "save_networks": "DIR",
                               "crossbar_sizes": "N", "seeds": "SEED", "rate_grid": "FACTOR"},
                     fill={"datasets": dataset_names(), "presets": preset_names(),
                           "tolerances": tolerance_note()})
    p.add_argument("--out", default="runs/reproduce", help="output directory")
    p.add_argument("--force", action="store_true", help="overwrite results in --out")
    add_study_flags(p)
    add_quiet_flag(p)
    add_set_flag(p, "an environment setting the flags above do not (env.SETTING only; it wins "
                 "over them), e.g. --set env.area_weight=0.8")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("train", help="train an agent (the config's learner, PPO unless "
                       "--set learner=a2c; default: the offline digits config)")
    p.add_argument("--config", default=None,
                   help="a name under configs/ or a YAML path (default digits)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="total environment steps (default: the config's)")
    p.add_argument("--n-envs", type=int, default=None,
                   help="parallel environment workers (default: the config's)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the learner and the environments (default: the config's)")
    p.add_argument("--device", default=None,
                   help="the learner's torch device: cpu, cuda or auto (default: the config's)")
    p.add_argument("--out", default=None, help="run directory (default runs/NAME-sSEED)")
    add_set_flag(p, "a configuration field (n_steps=8, learner=a2c) or environment setting "
                 "(env.SETTING)")
    p.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its latest checkpoint (with --timesteps N: "
        "train on to N steps in total)",
    )
    add_quiet_flag(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "search", help="PPO or fixed-schedule trials by grid or Optuna on Ray (pip extra)"
    )
    p.add_argument("--config", default=None,
                   help="a name under configs/ or a YAML path (default digits)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="environment steps per trial (default: the config's)")
    p.add_argument("--n-envs", type=int, default=None,
                   help="environment workers per trial (default: the config's)")
    add_config_flags(p, SearchConfig, skip=("base", "out", "resume", "space"),
                     metavars={"crossbar_sizes": "N", "seeds": "SEED"})
    p.add_argument("--out", default=None, help="search directory (default runs/search-NAME)")
    search_fields = SearchConfig.model_fields  # a switch and a repeated flag
    p.add_argument("--resume", action="store_true", help=search_fields["resume"].description)
    add_set_flag(p, "a configuration field or env.SETTING held fixed in every trial")
    p.add_argument("--space", action="append", metavar="KEY=SPEC",
                   help=search_fields["space"].description)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("benchmark", help="learned schedules against the paper's heuristic")
    p.add_argument("--config", default=None,
                   help="training config whose env to use (default digits)")
    p.add_argument("--run", default=None, help="a trained PPO run directory (adds ppo rows)")
    add_config_flags(p, BenchmarkConfig, skip=("env", "run_dir", "methods", "batch", "extra"),
                     metavars={"crossbar_sizes": "N", "seeds": "SEED", "rate_grid": "FACTOR"})
    add_set_flag(p, "an environment setting of the config or run (env.SETTING only), e.g. "
                 "--set env.topology=64-128-128-10 (generalisation of a trained policy)")
    p.add_argument("--env", action=DeprecatedOverride, prefix="env.", dest="set",
                   metavar="KEY=VALUE", help="deprecated: --set env.KEY=VALUE")
    p.add_argument("--out", default="runs/benchmark", help="output directory")
    p.add_argument("--force", action="store_true", help="overwrite results in --out")
    add_study_flags(p)
    add_quiet_flag(p)
    p.add_argument(
        "--device", default=None,
        help="torch device of retraining: cpu, cuda[:k], mps or auto (default: the config's)",
    )
    p.set_defaults(func=cmd_benchmark)

    from .compare import add_parser as add_compare

    add_compare(sub)
    from .headline import add_parser as add_headline

    add_headline(sub)

    p = sub.add_parser("replay", help="re-run a saved best_schedule.json")
    p.add_argument("schedule", help="path to best_schedule.json")
    p.add_argument("--render", default=None, metavar="DIR", help="save a PNG per step here")
    p.set_defaults(func=cmd_replay)
    for p in sub.choices.values():  # every subcommand's --help shows the defaults
        p.formatter_class = DefaultsFormatter
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "train_agent.py") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        with library_progress(not getattr(args, "quiet", False)):
            return args.func(args)
    except (CLIError, DatasetError, ValueError, OSError, yaml.YAMLError) as exc:
        # ConfigError, RunError, ScheduleFileError, DocumentError, OutputError, pydantic's
        # ValidationError and the technology's errors are ValueErrors: one line, status 2.
        if os.environ.get("TNF_DEBUG"):  # developers: see the traceback
            raise
        print(f"{prog} {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except (MemoryError, _gpu_out_of_memory()) as exc:
        if os.environ.get("TNF_DEBUG"):
            raise
        where = "GPU" if not isinstance(exc, MemoryError) else "host"
        print(
            f"{prog} {args.command}: error: out of {where} memory ({one_line(exc, 200)}); "
            "a smaller topology, fewer environment workers or --device cpu may fit "
            "(train --resume RUN_DIR continues a training run from its last checkpoint)",
            file=sys.stderr,
        )
        return 3


def _gpu_out_of_memory() -> type[BaseException]:
    """torch's CUDA out-of-memory error (a RuntimeError; older torch: under torch.cuda)."""
    import torch

    return getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError


def one_line(exc: BaseException, limit: int = 600) -> str:
    """An error as one line of at most ``limit`` characters (a library's message may span
    several, or quote a whole document)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tnf_main() -> int:
    """The ``tnf`` console command: the same as ``python train_agent.py``."""
    return main(prog="tnf")
