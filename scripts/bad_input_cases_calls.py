"""The bad-input sweep's cases of the calls: each command's flags, ``--set``, the Python API
and ``gymnasium.make_vec`` (the file inputs: :mod:`bad_input_cases`)."""

from __future__ import annotations

from bad_input_cases import BIG, HUGE, SMALL, TOUCH, config, schedule
from bad_input_sweep import Case, Fifo, Fixture

TINY = {"c.yaml": config()}
SHIPPED = {"policies/digits": Fixture("repo:policies/digits")}  # headline's relative path
REPRO = ("reproduce", "--topology", "64-32-10", "--crossbar-sizes", "16", "--out", "out")
TRAIN = ("train", "--config", "c.yaml", "--out", "out")
BENCH = ("benchmark", "--config", "c.yaml", "--seeds", "0", "--out", "out")
COMPARE = ("compare", "--config", "c.yaml", "--out", "out")
SEARCH = ("search", "--config", "c.yaml", "--out", "out")


def flag(command: tuple[str, ...], flags: str, expect: str, files: dict | None = None,
         **kw) -> Case:
    """``train_agent.py COMMAND... FLAGS`` (``FLAGS`` split on spaces)."""
    return Case(f"flags: {command[0]}", flags, ("cli", *command, *flags.split()), expect,
                {**TINY, **(files or {})}, **kw)


def flag_cases() -> list[Case]:
    """Each subcommand's flags: magnitudes, types, bounds, paths that are not directories."""
    base = ("baseline",)
    cases = [
        flag(base, f"--epochs {BIG}", "--epochs"),
        flag(base, "--epochs 1.5", "--epochs"),
        flag(base, "--epochs nan", "--epochs"),
        flag(base, f"--seed {BIG}", "--seed"),
        flag(base, "--seed 1e3", "--seed"),
        flag(base, f"--timesteps {BIG}", "--timesteps"),
        flag(base, "--timesteps -5", "--timesteps"),
        flag(base, "--percentile 101", "--percentile"),
        flag(base, "--percentile inf", "--percentile"),
        flag(base, f"--topology 64-{BIG}-10", "topology"),
        Case("flags: baseline", "--dataset ''", ("cli", "baseline", "--dataset", ""),
             "dataset"),
        flag(base, "--device cpu:99", "device"),
        flag(base, "--cache-dir keep.txt", "cache|keep\\.txt", {"keep.txt": "mine"},
             keep=("keep.txt",)),
        flag(base, "--dataset mnist-10k --data-dir nowhere", "nowhere|mnist"),
        flag(base, "--dataset mnist-10k --data-dir fifo", "fifo|mnist", {"fifo": Fifo()},
             timeout=10),
    ]
    cases += [flag(REPRO, f, e) for f, e in (
        (f"--steps {BIG}", "--steps"), ("--steps 1.5", "--steps"), ("--epochs -1", "--epochs"),
        ("--epochs inf", "--epochs"), (f"--epochs {BIG}", "--epochs"),
        ("--pruning-epochs 0", "--pruning-epochs"), ("--pruning-epochs 1e9", "--pruning-epochs"),
        ("--rate-scale 0", "rate_scale|--rate-scale"), ("--rate-grid 0", "--rate-grid"),
        ("--rate-grid -1", "--rate-grid"), ("--rate-grid 1e308", "--rate-grid"),
        ("--pruning-rate-scale nan", "--pruning-rate-scale"),
        ("--tolerance -1", "tolerance"), ("--tolerance 2", "tolerance"),
        ("--selection-margin nan", "selection.margin"),
        ("--selection-margin -1", "selection.margin"), ("--snn-timesteps 0", "--snn-timesteps"),
        ("--batch 0", "--batch"), (f"--batch {BIG}", "--batch"), ("--methods nope", "nope"),
        ("--methods paper paper", "--methods"), (f"--crossbar-sizes {BIG}", "crossbar"),
        ("--crossbar-sizes 16.0", "crossbar"), ("--seeds -1", "--seeds"),
        (f"--seeds {HUGE}", "--seeds"), ("--resume", "--resume|out"),
        ("--dataset digits --data-dir 5", "data"),
    )]
    cases += [
        flag(REPRO, "--cache-dir keep.txt", "cache|keep\\.txt", {"keep.txt": "mine"},
             keep=("keep.txt",)),
        flag(REPRO, "--save-networks keep.txt", "save-networks|keep\\.txt", {"keep.txt": "mine"},
             keep=("keep.txt",)),
        Case("flags: reproduce", "--out an existing file of the user's",
             ("cli", *REPRO[:-1], "keep.txt"), "keep\\.txt|--out", {"keep.txt": "mine"},
             keep=("keep.txt",)),
    ]
    cases += [flag(TRAIN, f, e) for f, e in (
        ("--timesteps 0", "--timesteps|timesteps"), ("--timesteps -1", "timesteps"),
        (f"--timesteps {BIG}", "timesteps"), ("--timesteps 1.5", "timesteps"),
        ("--n-envs 0", "n.envs"), (f"--n-envs {HUGE}", "n.envs"), ("--n-envs 1e3", "n.envs"),
        ("--seed -1", "seed"), (f"--seed {BIG}", "seed"), ("--device tpu", "device"),
        ("--config nope", "nope"), ("--timesteps 3", "timesteps|n_steps"),
    )]
    cases += [
        Case("flags: train", "--config ''", ("cli", "train", "--config", "", "--out", "out"),
             "config"),
        # a resumed run's checks are train()'s own: these run it
        flag(("train",), "--resume nowhere", "nowhere|--resume", real=True, timeout=60),
        flag(("train",), "--resume keep.txt", "keep\\.txt|--resume", {"keep.txt": "mine"},
             keep=("keep.txt",), real=True, timeout=60),
        Case("flags: train", "--out an existing file of the user's",
             ("cli", "train", "--config", "c.yaml", "--out", "keep.txt"), "keep\\.txt|--out",
             {**TINY, "keep.txt": "mine"}, keep=("keep.txt",)),
        Case("flags: train", "--resume a finished run with a bad --n-envs",
             ("cli", "train", "--resume", "run", "--n-envs", "0"), "n.envs",
             {"run": Fixture("run")}, keep=("run",)),
    ]
    cases += [flag(SEARCH, f, e) for f, e in (
        ("--timesteps 0", "timesteps"), ("--num-cpus 0", "--num-cpus"),
        (f"--num-cpus {BIG}", "--num-cpus"), ("--learning-rates nan", "learning.rate"),
        ("--learning-rates -1", "learning.rate"), ("--ent-coefs inf", "ent.coef"),
        ("--num-samples 0 --search-alg optuna", "--num-samples"),
        (f"--episodes {BIG} --target paper", "--episodes"), ("--crossbar-sizes 0", "crossbar"),
        ("--space env.rate_scale=1:0:log --search-alg optuna", "rate_scale|LOW"),
        ("--space foo=1,2", "foo"), ("--space learning_rate=a:b --search-alg optuna",
                                     "learning_rate"),
        (f"--space n_steps={BIG},8", "n_steps"), ("--space env.max_steps=", "max_steps|--space"),
    )]
    cases += [flag(BENCH, f, e) for f, e in (
        ("--budget nan", "--budget"), ("--budget -1", "--budget"),
        ("--random-candidates 0", "--random-candidates"), ("--rate-grid inf", "--rate-grid"),
        ("--pruning-rate-scale -1", "--pruning-rate-scale"),
        ("--snn-timesteps 0", "--snn-timesteps"), ("--batch 0", "--batch"),
        ("--env nokeyval", "--env|KEY=VALUE"), ("--env colour=1", "colour"),
        ("--methods nope", "nope"), ("--run nowhere", "nowhere|--run"),
        (f"--seeds {BIG}", "--seeds"), ("--crossbar-sizes 0", "crossbar"),
        ("--device cuda:x", "device"),
    )]
    cases += [flag(COMPARE, f, e, {"c.yaml": config(n_envs=2, timesteps=8)}) for f, e in (
        ("--timesteps 0", "timesteps"), ("--train-seeds -1", "--train-seeds"),
        (f"--eval-seeds {BIG}", "--eval-seeds"), ("--warm-start policy:nowhere", "warm.start"),
        ("--warm-start foo", "warm.start"), ("--rate-grid nan", "--rate-grid"),
        (f"--snn-timesteps {BIG}", "--snn-timesteps"), ("--reps 0", "--reps"),
        ("--batch 0", "batch"), ("--workers 0", "workers"),
        ("--workers 1000000", "workers"), ("--fixed-sizes 0", "fixed.sizes"),
        ("--methods policy:nowhere", "nowhere|--methods"), ("--methods nope", "nope"),
        ("--report-only", "report-only|out"), ("--search-budget-unit cpu --search-budget nan",
                                               "--search-budget"),
    )]
    cases += [
        Case("flags: headline", "--out an existing file of the user's",
             ("cli", "headline", "--out", "keep.txt"), "keep\\.txt|--out",
             {"keep.txt": "mine", **SHIPPED}, keep=("keep.txt",)),
        Case("flags: headline", "--resume with nothing to resume",
             ("cli", "headline", "--resume", "--out", "out"), "resume|out", SHIPPED),
        Case("flags: replay", "a missing schedule", ("cli", "replay", "nowhere.json"),
             "nowhere\\.json"),
        Case("flags: replay", "--render into a FIFO", ("cli", "replay", "s.json", "--render",
                                                       "fifo"), "render|fifo",
             {"s.json": schedule(), "fifo": Fifo()}, timeout=10),
    ]
    hw = ("hwmodel", "plain.npz")
    cases += [Case("flags: hwmodel", f, (*hw, *f.split()), e, {"plain.npz": Fixture("plain.npz")})
              for f, e in (
        ("-n 0", "crossbar|-n"), (f"-n {BIG}", "crossbar|-n"), ("-n 16.5", "crossbar|-n"),
        ("-n 100000", "crossbar|-n"), ("-t nope", "nope"), ("--clusters nowhere.json",
                                                            "nowhere\\.json"),
        ("--export-mapping nodir/m.json", "nodir|export"),
    )]
    cases += [
        Case("flags: hwmodel", "a missing network", ("hwmodel", "nowhere.npz"),
             "nowhere\\.npz"),
    ]
    return cases


def set_cases() -> list[Case]:
    """``--set KEY=VALUE`` on train, reproduce, benchmark, compare and search."""
    values = (
        ("n_steps=0", "n_steps"), (f"n_steps={BIG}", "n_steps"), ("batch_size=3", "batch_size"),
        ("batch_size=64", "batch_size"), ("env.max_steps=1e999", "max_steps"),
        ("env.retrain_epochs=.nan", "retrain_epochs"), ("env.colour=1", "colour"),
        ("colour=1", "colour"), ("=5", "--set"), ("env.=1", "--set|env"),
        ("env.crossbar_sizes=[16, 1e400]", "crossbar_sizes"),
        ("env.topology=[64, 32.0, 10]", "topology"), ("seed=1.5", "seed"),
        ("learning_rate='0.1'", "learning_rate"), (f"env.torch_threads={BIG}", "torch_threads"),
        ("env.prune_levels=[1e308]", "prune_levels"), (f"env.val_size={BIG}", "val_size"),
        ("env.max_steps=true", "max_steps"), ("env={}", "env"), ("env.max_steps", "--set"),
        (f"env.seed={TOUCH}", "seed|tag"), ("name=../../escape", "name"),
    )
    cases = [Case("--set", f"train {v}", ("cli", "train", "--config", "c.yaml", "--set", v,
                                          *(() if v.startswith("name") else ("--out", "out"))),
                  e, TINY) for v, e in values]
    env_only = [(v, e) for v, e in values if v.startswith("env.") or v[0] == "="]
    for command in (REPRO, BENCH):
        cases += [Case("--set", f"{command[0]} {v}", ("cli", *command, "--set", v), e, TINY)
                  for v, e in env_only]
    cases += [Case("--set", f"reproduce {v}", ("cli", *REPRO, "--set", v), e)
              for v, e in (("n_steps=8", "n_steps|env\\."), ("env.seed=3", "seed"))]
    cases += [Case("--set", f"{c[0]} {v}", ("cli", *c, "--set", v), e,
                   {"c.yaml": config(n_envs=2, timesteps=8)})
              for c in (COMPARE, SEARCH) for v, e in (
                  ("n_steps=0", "n_steps"), ("batch_size=3", "batch_size"),
                  (f"env.max_steps={BIG}", "max_steps"), ("colour=1", "colour"))]
    return cases


def api(name: str, code: str, expect: str, **kw) -> Case:
    return Case("python API", name, ("py", SMALL + code), expect, **kw)


def api_cases() -> list[Case]:
    """``gymnasium.make``, ``tnf_env.make``, ``step``, ``reset``, ``Task.build``."""
    make = "gym.make('tnf_env/TraNNsformer-v0', **{**SMALL, %s})"
    cases = [api(f"gym.make({s})", make % s, e) for s, e in (
        (f"'max_steps': {BIG}", "max_steps"), ("'retrain_epochs': True", "retrain_epochs"),
        (f"'crossbar_sizes': (16, {BIG})", "crossbar_sizes"),
        (f"'topology': (64, {HUGE}, 10)", "topology"), ("'prune_levels': [True]", "prune_levels"),
        ("'prune_levels': ['1']", "prune_levels"), (f"'torch_threads': {BIG}", "torch_threads"),
        (f"'snn_timesteps': {HUGE}", "snn_timesteps"), (f"'val_size': {BIG}", "val_size"),
        (f"'seed': {BIG}", "seed"), ("'colour': 1", "colour"),
        ("'render_mode': 'bogus'", "render_mode|bogus"),
        ("'max_episode_steps': 0", "max_episode_steps"),
        ("'retrain_epochs': 1e-300", "retrain_epochs"), ("'area_weight': 1e308", "area_weight"),
        ("'prune_levels': list(range(100000))", "prune_levels"),
        ("'crossbar_sizes': tuple(range(16, 4096))", "crossbar_sizes"),
        ("'data_dir': '\\x00'", "data_dir"),
    )]
    cases.append(api("gym.make('cache_dir': 'keep.txt')", make % "'cache_dir': 'keep.txt'",
                     "cache_dir|keep", files={"keep.txt": "mine"}, keep=("keep.txt",)))
    # gymnasium's own keyword: -1 means no TimeLimit (gymnasium.make documents it), and a
    # limit past the horizon never strikes, the environment truncating itself at max_steps
    gymnasium_limit = "left to gymnasium (docs/environment.md, max_episode_steps)"
    cases += [Case("python API", f"gym.make({s})", ("py", SMALL + make % s), "max_episode_steps",
                   accepted=gymnasium_limit)
              for s in ("'max_episode_steps': -1", f"'max_episode_steps': {BIG}")]
    step = "env = tnf_env.make(**SMALL)\nenv.reset(seed=0)\nenv.step(%s)"
    cases += [api(f"step({a})", step % a, e) for a, e in (
        (f"[{BIG}] * 8", "action"), ("[-1] * 8", "action"), ("[0] * 3", "action"),
        ("[0] * 80", "action"), ("[0.5] * 8", "action"), ("None", "action"),
        ("'abc'", "action"), ("np.ones(8, bool)", "action"), ("[[0] * 8]", "action"),
        ("np.full(8, np.nan)", "action"), ("{'a': 1}", "action"),
        ("np.array([2**62] * 8)", "action"),
    )]
    cases += [
        api("step before reset", "env = tnf_env.make(**SMALL)\nenv.step([0] * 8)", "reset"),
        api("reset(seed=np.uint64(2**64-1))",
            "env = tnf_env.make(**SMALL)\nenv.reset(seed=np.uint64(2**64 - 1))", "seed"),
        api("reset(seed=np.float64(1))",
            "env = tnf_env.make(**SMALL)\nenv.reset(seed=np.float64(1))", "seed"),
        api("reset(seed='0')", "env = tnf_env.make(**SMALL)\nenv.reset(seed='0')", "seed"),
        api("reset(seed=2**70)", f"env = tnf_env.make(**SMALL)\nenv.reset(seed={BIG})", "seed"),
        api("Task.build(topology with a 0 width)",
            "from tnf_env.task import Task\nTask.build(**{**SMALL, 'topology': '64-0-10'})",
            "topology"),
        api("Task.build(max_steps beyond int64)",
            f"from tnf_env.task import Task\nTask.build(**{{**SMALL, 'max_steps': {BIG}}})",
            "max_steps"),
        api("Task.build(technology a FIFO)",
            "import os\nos.mkfifo('t.yaml')\nfrom tnf_env.task import Task\n"
            "Task.build(**{**SMALL, 'technology': 't.yaml'})", "t\\.yaml", timeout=10),
        api("tnf_env.fork(5)", "tnf_env.fork(5)", "fork|env"),
        api("tnf_env.episode_of(5)", "tnf_env.episode_of(5)", "env"),
        api("DiscreteMenu step(99)", "env = tnf_env.DiscreteMenu(tnf_env.make(**SMALL))\n"
            "env.reset(seed=0)\nenv.step(99)", "action"),
        api("DiscreteMenu step(2**70)", "env = tnf_env.DiscreteMenu(tnf_env.make(**SMALL))\n"
            f"env.reset(seed=0)\nenv.step({BIG})", "action"),
    ]
    return cases


def make_vec_cases() -> list[Case]:
    """``gymnasium.make_vec(..., vectorization_mode="vector_entry_point", num_envs=...)``."""
    vec = ("gym.make_vec('tnf_env/TraNNsformer-v0', vectorization_mode='vector_entry_point', "
           "num_envs=%s, **SMALL)")
    cases = [Case("make_vec", f"num_envs={n}", ("py", SMALL + vec % n), "num_envs",
                  timeout=15)
             for n in ("0", "-1", BIG, "10**6", "1.5", "'2'", "True", "None")]
    step = "v = " + vec % "2" + "\nv.reset(seed=0)\nv.step(%s)"
    cases += [Case("make_vec", f"step({a})", ("py", SMALL + step % a), "action")
              for a in ("np.zeros((3, 8), int)", "np.full((2, 8), -1)", "np.zeros((2, 8)) + 0.5",
                        f"[[{BIG}] * 8] * 2")]
    cases += [
        Case("make_vec", "reset(seed=-1)", ("py", SMALL + "v = " + vec % "2" +
                                            "\nv.reset(seed=-1)"), "seed"),
        Case("make_vec", "baseline_seeds too few",
             ("py", SMALL + vec.replace("**SMALL", "baseline_seeds=[0], **SMALL") % "2"),
             "baseline_seeds", accepted="episode k uses baseline_seeds[k % len] "
             "(BatchedTraNNsformerEnv, as TrainConfig.baseline_seeds)"),
        Case("make_vec", "autoreset_mode bogus",
             ("py", SMALL + vec.replace("**SMALL", "autoreset_mode='bogus', **SMALL") % "2"),
             "autoreset"),
    ]
    return cases
