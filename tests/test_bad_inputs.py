"""Bad inputs, table-driven: every one is a clear error naming the field, never a traceback,
a silent misreading or a hang.

The environment's API raises a ``ValueError`` (or ``TypeError``) whose one-line message
names the setting; every command of ``train_agent.py`` prints one line on stderr and
exits with status 2. Each case is refused before any training starts, so it is fast.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

import tnf_env
from tnf_env.model.network import parse_topology

SMALL = dict(topology="64-32-10", crossbar_sizes=(16, 32), max_steps=2)
NAN, INF = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


# (settings, the name the error must give): tnf_env.make(**SMALL, **settings) refuses them.
BAD_SETTINGS = [
    # NaN and infinity: refused by name, before any training
    (dict(retrain_epochs=INF), "retrain_epochs=inf"),
    (dict(retrain_epochs=NAN), "retrain_epochs=nan"),
    (dict(retrain_epochs=1e9), "retrain_epochs"),  # a billion sub-iterations per step
    (dict(penalty_weight=NAN), "penalty_weight=nan"),
    (dict(prune_levels=[NAN]), "prune_levels=[nan]"),
    (dict(prune_levels=[0.0, INF]), "prune_levels"),
    (dict(area_weight=NAN), "area_weight=nan"),
    (dict(accuracy_tolerance=INF), "accuracy_tolerance=inf"),
    (dict(rate_scale=INF), "rate_scale=inf"),
    (dict(relative_rate=INF), "relative_rate=inf"),
    (dict(collapse_margin=INF), "collapse_margin=inf"),
    (dict(step_penalty_weight=NAN), "step_penalty_weight=nan"),
    (dict(settle_tolerance=NAN), "settle_tolerance=nan"),
    # wrong types: no traceback from deep inside, no misreading
    (dict(dataset=5), "dataset=5"),
    (dict(dataset="imagenet"), "dataset='imagenet'"),
    (dict(device=5), "device=5"),
    (dict(seed="abc"), "seed='abc'"),
    (dict(seed=1.5), "seed=1.5"),
    (dict(seed=-1), "seed=-1"),
    (dict(seed=True), "seed=True"),
    (dict(topology=5), "topology=5"),
    (dict(topology="64--32-10"), "topology='64--32-10'"),  # once trained 64-32-10
    (dict(topology="64-32.5-10"), "topology="),
    (dict(topology=[64, 32.5, 10]), "topology="),
    (dict(allow_stop="false"), "allow_stop='false'"),
    (dict(per_layer_crossbar="no"), "per_layer_crossbar='no'"),  # once switched them on
    (dict(gate_on_loss=1), "gate_on_loss=1"),
    (dict(max_steps=2.7), "max_steps=2.7"),
    (dict(max_steps="3"), "max_steps='3'"),
    (dict(val_size="100"), "val_size='100'"),
    (dict(snn_timesteps="35"), "snn_timesteps='35'"),
    (dict(crossbar_sizes=(0,)), "crossbar_sizes=(0,)"),
    (dict(crossbar_sizes=()), "crossbar_sizes=()"),
    (dict(crossbar_sizes=(16.5, 32)), "crossbar_sizes=(16.5, 32)"),  # once truncated to 16
    (dict(crossbar_sizes="16"), "crossbar_sizes='16'"),
    (dict(crossbar_sizes=(16, 1024)), "crossbar_sizes=(16, 1024): crossbar size 1024"),
    (dict(technology="nope"), "technology='nope'"),
    (dict(technology="missing.yaml"), "technology='missing.yaml'"),
    (dict(technology=5), "technology=5"),
    (dict(prune_unit=5), "prune_unit=5"),
    (dict(accounting=None), "accounting=None"),
    (dict(cache_dir=5), "cache_dir=5"),
    (dict(data_dir=5), "data_dir=5"),
    (dict(torch_threads=0), "torch_threads=0"),
    (dict(colour="red"), "unknown setting"),
    (dict(retrain_epochs=1e-300), "retrain_epochs=1e-300"),  # one image per step
    (dict(cache_dir="README.md"), "cache_dir='README.md'"),  # a file is no cache
    # a long value is named, not quoted whole: its first characters and its length
    (dict(prune_levels=list(range(100_000))), "... (100000 items)"),
    (dict(crossbar_sizes=tuple(range(16, 4096))), "... (4080 items)"),
]


@pytest.mark.parametrize(
    "settings,name", BAD_SETTINGS, ids=[repr(kw)[:60] for kw, _ in BAD_SETTINGS]
)
def test_make_refuses_a_bad_setting_by_name(settings, name):
    with pytest.raises((ValueError, TypeError)) as info:
        tnf_env.make(**{**SMALL, **settings})
    message = str(info.value)
    assert name in message and len(message.splitlines()) == 1 and len(message) < 800, message
    if "unknown setting" not in message:
        assert "allowed" in message, message


def test_valid_settings_keep_their_values():
    cfg = tnf_env.settings.EnvConfig.from_kwargs(
        dataset="MNIST_10K",
        topology=[64, np.int64(32), 10],
        crossbar_sizes=[np.int64(16), 32],
        retrain_epochs=2,
        area_weight=np.float32(0.25),
        prune_levels=(0, 1, 1.5),
        allow_stop=np.bool_(False),
    )
    assert cfg.dataset == "mnist-10k" and cfg.topology == (64, 32, 10)
    assert cfg.crossbar_sizes == (16, 32) and type(cfg.crossbar_sizes[0]) is int
    assert cfg.retrain_epochs == 2 and type(cfg.retrain_epochs) is int  # an int stays an int
    assert cfg.area_weight == 0.25 and cfg.allow_stop is False
    assert cfg.prune_levels == (0.0, 1.0, 1.5)
    assert cfg.to_dict()["topology"] == [64, 32, 10]


@pytest.mark.parametrize(
    "topology", ["64--5-10", "64-5-10-", "-64-5-10", "64-1_0-10", "64-5.5-10", "", "64"]
)
def test_parse_topology_refuses_empty_and_non_integer_parts(topology):
    with pytest.raises(ValueError, match="topology"):
        parse_topology(topology)


def test_parse_topology_refuses_non_integer_widths():
    with pytest.raises(ValueError, match="topology"):
        parse_topology([64, 5.5, 10])
    assert parse_topology(" 64, 5 - 10 ") == (64, 5, 10)
    assert parse_topology((64, np.int64(5), 10)) == (64, 5, 10)


@pytest.fixture(scope="module")
def env():
    return tnf_env.make(**SMALL)


@pytest.mark.parametrize("seed", [2**64, 2**63, -1, 1.5, "abc", True])
def test_reset_refuses_a_seed_out_of_range(env, seed):
    with pytest.raises(ValueError, match=r"seed=.*allowed an integer in \[0, 2\*\*63\)"):
        env.reset(seed=seed)


def test_reset_takes_large_and_numpy_seeds(env):
    _, info = env.reset(seed=np.int64(7))
    assert info["episode_seed"] == 7
    _, info = env.reset(seed=2**63 - 1)
    assert info["episode_seed"] == 2**63 - 1


def test_clustering_takes_seeds_beyond_two_to_the_32():
    from tnf_env.transform.clustering import scic

    rng = np.random.default_rng(0)
    m = rng.random((128, 128)) < 0.05
    m[:40, :40] |= rng.random((40, 40)) < 0.9
    m[60:100, 70:110] |= rng.random((40, 40)) < 0.9
    # scikit-learn's k-means took seeds below 2**32 only; these once raised
    big = scic(m, 32, 0.5, seed=2**32 + 5)
    assert len(big) > 0
    assert [c.outputs.tolist() for c in big] == [
        c.outputs.tolist() for c in scic(m, 32, 0.5, seed=2**32 + 5)
    ]


def test_step_and_reset_after_close_are_clear_errors():
    env = tnf_env.make(**SMALL)
    env.reset(seed=0)
    env.close()
    with pytest.raises(RuntimeError, match="closed"):
        env.step(np.zeros_like(env.action_space.nvec))
    with pytest.raises(RuntimeError, match="closed"):
        env.reset(seed=0)


# -- the command line ----------------------------------------------------------------------
TINY_ENV = {"dataset": "digits", "topology": "64-32-10", "crossbar_sizes": [16, 32], "max_steps": 2}


def _config(tmp_path, env_changes=None, **changes):
    """A tiny training config (conftest.TINY_TRAIN) with these changes, as a YAML path."""
    import yaml
    from conftest import TINY_TRAIN

    cfg = {**TINY_TRAIN, "env": {**TINY_TRAIN["env"], **(env_changes or {})}, **changes}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _schedule(tmp_path, text=None, **changes):
    doc = {"env": TINY_ENV, "seed": 0, "actions": [[0] * 8], "metrics": {"cost": 1.0}}
    path = tmp_path / "best_schedule.json"
    path.write_text(text if text is not None else json.dumps({**doc, **changes}))
    return str(path)


def _out(tmp_path):
    return str(tmp_path / "out")


def _dir(tmp_path, name):
    (tmp_path / name).mkdir()
    return str(tmp_path / name)


def _tech_file(tmp_path, text):
    """A technology file holding ``text``, as a path."""
    path = tmp_path / "tech.yaml"
    path.write_text(text)
    return str(path)


# (argv from tmp_path, what the one-line error must contain)
BAD_COMMANDS = [
    # train: the config's env and its own keys
    (lambda t: ["train", "--config", _config(t, {"retrain_epochs": INF}), "--out", _out(t)],
     "retrain_epochs=inf"),
    (lambda t: ["train", "--config", _config(t, {"penalty_weight": NAN}), "--out", _out(t)],
     "penalty_weight=nan"),
    (lambda t: ["train", "--config", _config(t, {"allow_stop": "false"}), "--out", _out(t)],
     "allow_stop='false'"),
    (lambda t: ["train", "--config", _config(t, {"per_layer_crossbar": "no"}), "--out", _out(t)],
     "per_layer_crossbar='no'"),
    (lambda t: ["train", "--config", _config(t, {"dataset": 5}), "--out", _out(t)], "dataset=5"),
    (lambda t: ["train", "--config", _config(t, {"device": 5}), "--out", _out(t)], "device=5"),
    (lambda t: ["train", "--config", _config(t, {"topology": 5}), "--out", _out(t)], "topology=5"),
    (lambda t: ["train", "--config", _config(t, {"topology": "64--5-10"}), "--out", _out(t)],
     "topology='64--5-10'"),
    (lambda t: ["train", "--config", _config(t, {"technology": "nope"}), "--out", _out(t)],
     "technology='nope'"),
    (lambda t: ["train", "--config", _config(t, {"crossbar_sizes": [0]}), "--out", _out(t)],
     "crossbar_sizes"),
    (lambda t: ["train", "--config", _config(t, seed="abc"), "--out", _out(t)], "'seed'"),
    (lambda t: ["train", "--config", _config(t, learning_rate=NAN), "--out", _out(t)],
     "'learning_rate'"),
    (lambda t: ["train", "--config", _config(t, gamma=True), "--out", _out(t)], "'gamma'"),
    (lambda t: ["train", "--config", _config(t, timesteps=8.7), "--out", _out(t)], "'timesteps'"),
    (lambda t: ["train", "--config", _config(t, net_arch=[64.5]), "--out", _out(t)],
     "'net_arch'"),
    (lambda t: ["train", "--config", _config(t, env=5), "--out", _out(t)],
     "'env'"),
    (lambda t: ["train", "--config", _config(t), "--set", "n_steps", "--out", _out(t)],
     "--set takes KEY=VALUE"),
    (lambda t: ["train", "--config", _config(t), "--set", "env.max_steps=-3", "--out", _out(t)],
     "max_steps"),
    (lambda t: ["train", "--config", _config(t), "--set", "n_epochs=2.5", "--out", _out(t)],
     "'n_epochs'"),
    # search: the space (checked before Ray starts)
    (lambda t: ["search", "--config", _config(t), "--space", "learning_rate", "--out", _out(t)],
     "--space takes"),
    (lambda t: ["search", "--config", _config(t), "--space", "learning_rate=1:nan",
                "--search-alg", "optuna", "--out", _out(t)], "LOW < HIGH"),
    (lambda t: ["search", "--config", _config(t), "--space", "env.rate_scale=-1,2",
                "--out", _out(t)], "rate_scale"),
    # replay: the schedule file
    (lambda t: ["replay", _schedule(t, text='{"env": {')], "not valid JSON"),
    (lambda t: ["replay", _schedule(t, text="[1, 2]")], "JSON object"),
    (lambda t: ["replay", _schedule(t, actions=[[1.7] + [0] * 7])], "'actions'"),  # was 1
    (lambda t: ["replay", _schedule(t, actions=[["a"]])], "'actions'"),
    (lambda t: ["replay", _schedule(t, actions=[])], "'actions'"),
    (lambda t: ["replay", _schedule(t, seed="abc")], "'seed'"),
    (lambda t: ["replay", _schedule(t, seed=-1)], "'seed'"),
    (lambda t: ["replay", _schedule(t, seed=2**64)], "'seed'"),
    (lambda t: ["replay", _schedule(t, env=5)], "'env'"),
    (lambda t: ["replay", _schedule(t, env={**TINY_ENV, "retrain_epochs": 1e999})],
     "retrain_epochs=inf"),
    (lambda t: ["replay", _schedule(t, metrics=[])], "'metrics'"),
    # benchmark
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--set",
                "env.retrain_epochs=.inf", "--out", _out(t)], "retrain_epochs=inf"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--set",
                "env.allow_stop=maybe", "--out", _out(t)], "allow_stop='maybe'"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--set", "env.seed=abc",
                "--out", _out(t)], "seed='abc'"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--set",
                "env.dataset=imagenet", "--out", _out(t)], "dataset='imagenet'"),
    (lambda t: ["benchmark", "--config", _config(t), "--rate-grid", "nan", "--out", _out(t)],
     "--rate-grid"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "--out", _out(t)], "--seeds"),
    # reproduce
    (lambda t: ["reproduce", "--topology", "64--5-10", "--out", _out(t)], "topology='64--5-10'"),
    (lambda t: ["reproduce", "--crossbar-sizes", "0", "--out", _out(t)], "crossbar_sizes=(0,)"),
    (lambda t: ["reproduce", "--dataset", "imagenet", "--out", _out(t)], "dataset='imagenet'"),
    (lambda t: ["reproduce", "--technology", "nope", "--out", _out(t)], "technology='nope'"),
    # a technology file's numbers: strict types, bounds, keys checked before use
    (lambda t: ["reproduce", "--technology", _tech_file(t, "base: isaac\nmin_crossbar: 16.0\n"),
                "--out", _out(t)], "field 'min_crossbar' must be an integer"),
    (lambda t: ["reproduce", "--technology", _tech_file(t, "base: [resparc]\n"), "--out",
                _out(t)], "field 'base' must name a preset"),
    (lambda t: ["train", "--config", _config(t, {"technology": _tech_file(
        t, "base: resparc\nrouter_group_scaling: 1000000\n")}), "--out", _out(t)],
     "field 'router_group_scaling' must be at most 8"),
    (lambda t: ["replay", _schedule(t, env={**TINY_ENV, "technology": _tech_file(
        t, "base: resparc\narray_area_mm2: 1.0e-320\n")})], "field 'array_area_mm2'"),
    (lambda t: ["reproduce", "--rate-scale", "inf", "--out", _out(t)],
     "--rate-scale must be a finite number in (0, 1000000], got inf"),
    (lambda t: ["reproduce", "--tolerance", "nan", "--out", _out(t)], "accuracy_tolerance=nan"),
    (lambda t: ["reproduce", "--steps", "0", "--out", _out(t)], "--steps"),
    (lambda t: ["reproduce", "--seeds", "--out", _out(t)], "--seeds"),
    # baseline
    (lambda t: ["baseline", "--epochs", "0"], "--epochs"),  # once cached an untrained network
    (lambda t: ["baseline", "--topology", "64--5-10"], "topology='64--5-10'"),  # once 64-5-10
    (lambda t: ["baseline", "--dataset", "imagenet"], "dataset 'imagenet'"),
    (lambda t: ["baseline", "--seed", "-1"], "--seed"),
    (lambda t: ["baseline", "--timesteps", "0"], "--timesteps"),
    (lambda t: ["baseline", "--percentile", "nan"], "--percentile"),
    # magnitudes: refused at the range check, never inside a conversion or a loop
    (lambda t: ["baseline", "--epochs", str(10**30)], "--epochs"),  # once trained on
    (lambda t: ["baseline", "--timesteps", str(2**64)], "--timesteps"),  # once a torch error
    (lambda t: ["reproduce", "--batch", str(10**30), "--out", _out(t)], "--batch"),  # once ran
    (lambda t: ["train", "--config", _config(t), "--set", f"n_envs={2**64}", "--out", _out(t)],
     "'n_envs'"),
    (lambda t: ["replay", _schedule(t, torch_threads=2**63)], "'torch_threads'"),
    (lambda t: ["replay", _schedule(t, actions=[[2**64] + [0] * 7])], "'actions'"),
    # only regular files: a directory (a FIFO would block: tests/test_regular_files.py)
    (lambda t: ["train", "--config", _dir(t, "cfg.yaml"), "--out", _out(t)],
     "a directory, not a regular file"),
    (lambda t: ["replay", _dir(t, "best_schedule.json")], "a directory, not a regular file"),
]


@pytest.fixture
def no_work(monkeypatch):
    """Every command's work: reaching one means a bad input was not refused first."""
    import agents.experiments.benchmark
    import agents.experiments.reproduce
    import agents.rl.replay
    import agents.rl.training
    import tnf_env.model.baseline

    def fail(*args, **kwargs):
        raise AssertionError("the work started before the inputs were checked")

    for module, name in (
        (agents.experiments.benchmark, "run_benchmark"),
        (agents.experiments.reproduce, "run_reproduce"),
        (agents.rl.replay, "replay"),
        (agents.rl.training, "train"),
        (tnf_env.model.baseline, "get_baseline"),  # the baseline command imports it when run
    ):
        monkeypatch.setattr(module, name, fail)


@pytest.mark.parametrize(
    "argv,needle", BAD_COMMANDS, ids=[f"{k}-{n}" for k, (_, n) in enumerate(BAD_COMMANDS)]
)
def test_every_command_refuses_a_bad_input_in_one_line(tmp_path, capsys, no_work, argv, needle):
    from agents.cli import main

    args = argv(tmp_path)
    try:
        status = main(args)
    except SystemExit as exc:  # argparse's own errors (a flag without its values)
        status = exc.code
    err = capsys.readouterr().err.strip()
    assert status == 2 and "Traceback" not in err, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and needle in errors[0], err
    if not errors[0].startswith("usage:") and "argument" not in errors[0]:
        assert len(err.splitlines()) == 1, err  # argparse adds its usage line
    assert not (tmp_path / "out").exists()


# -- files users hand over: one reader (size, depth, aliases, tags, duplicate keys) ---------
BOMB = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)  # a few hundred bytes, 10**9 values to whoever walks them
FLOW_BOMB = "[&a [1,1,1,1,1,1,1,1,1,1], " + ", ".join(
    f"&{c} [" + ",".join([f"*{p}"] * 10) + "]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
) + "]"
DEEP = "[" * 100_000 + "]" * 100_000
MARK = "EXECUTED"  # a tag that ran code would create this file


def _tech(t, text, suffix=".yaml"):
    path = t / f"tech{suffix}"
    path.write_text(text)
    return lambda: tnf_env.settings.EnvConfig.from_kwargs(technology=str(path))


def _net(t, change=lambda w, m, c: (w, m, c)):
    """A saved two-layer network (agents.common.netstore's files), changed by ``change``."""
    from agents.common.netstore import save_network
    from hwmodel.clusters import Cluster

    w = [np.ones((32, 64), np.float32), np.ones((10, 32), np.float32)]
    m = [np.ones_like(x, bool) for x in w]
    save_network(t / "n", *change(w, m, [[Cluster([0, 1], [0, 1])], []]))
    return t / "n"


def _load_net(t, change=lambda w, m, c: (w, m, c), after=None):
    from agents.common.netstore import load_saved_network

    stem = _net(t, change)
    if after is not None:
        after(t)
    return lambda: load_saved_network(stem)


def _manifest(t, file, link=False, **extra):
    from agents.common.netstore import load_manifest

    (t / "nets").mkdir()
    _net(t)
    if link:
        (t / "nets" / "x.npz").symlink_to(t / "n.npz")
    entry = {"seed": 0, "method": "paper", "crossbar_size": 16, "file": file, "row": {},
             **extra}
    (t / "nets" / "manifest.json").write_text(json.dumps({"networks": [entry]}))
    return lambda: load_manifest(t / "nets")


def _huge_header_npz(t):
    import io
    import zipfile

    from numpy.lib import format as npy_format

    out = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    npy_format.write_array_header_1_0(out, header)
    with zipfile.ZipFile(t / "n.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("weight0.npy", out.getvalue())
        zf.writestr("mask0.npy", out.getvalue())


def _dir_tech(t):
    (t / "tech.yaml").mkdir()
    return lambda: tnf_env.settings.EnvConfig.from_kwargs(technology=str(t / "tech.yaml"))


def _object_npz(t):
    np.savez(t / "n.npz", weight0=np.array([{"a": 1}], dtype=object), mask0=np.ones(1))


def _policy(t, files=None, name="p"):
    """A copy of the shipped digits policy under ``t`` with ``files`` (name: bytes, text or
    None to remove) changed; its path."""
    import shutil
    from pathlib import Path

    d = Path(shutil.copytree(Path(__file__).resolve().parents[1] / "policies" / "digits",
                             t / name))
    for f, content in (files or {}).items():
        if content is None:
            (d / f).unlink()
        elif isinstance(content, bytes):
            (d / f).write_bytes(content)
        else:
            (d / f).write_text(content)
    return str(d)


def _zip_with_pickle():
    """The shipped policy's model zip with weights that are a pickle of a callable (never
    to be unpickled)."""
    import io
    import os
    import pickle
    import zipfile
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "policies" / "digits" / "best_model.zip"
    with zipfile.ZipFile(shipped) as z:
        data = z.read("data")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data", data)
        z.writestr("policy.pth", pickle.dumps(os.system, protocol=2))
    return buf.getvalue()


def _dataset_files(t, images):
    """A data directory whose MNIST images file is ``images`` (a FIFO or a directory)."""
    import os

    from tnf_env.data.datasets import load_dataset

    d = t / "d"
    d.mkdir()
    (d / "t10k-labels-idx1-ubyte").write_bytes(b"")
    if images == "fifo":
        os.mkfifo(d / "t10k-images-idx3-ubyte")
    else:
        (d / "t10k-images-idx3-ubyte").mkdir()
    return lambda: load_dataset("mnist-10k", data_dir=d, download=False)


def _load_dataset(**kw):
    from tnf_env.data.datasets import load_dataset

    return lambda t: lambda: load_dataset(**kw, download=False)


def _load_policy(t, files):
    from agents.rl.sb3_policy import SB3Policy

    return lambda: SB3Policy.load(_policy(t, files))


INF_ADC_CELL = ("base: isaac\nadc_table: {4: [1, 1], 5: [1, 1], 6: [1, 1], 7: [1, 1], "
                "8: [.inf, 1], 9: [1, 1], 10: [1, 1]}\n")


# (surface, what it reads from tmp_path as a callable, the name the one-line error gives)
BAD_FILES = [
    ("technology", lambda t: _tech(t, BOMB), "expands to more than"),
    ("technology", lambda t: _tech(t, DEEP), "nested deeper than 64"),
    ("technology", lambda t: _tech(t, DEEP, ".json"), "nested too deeply"),
    ("technology", lambda t: _tech(t, "base: resparc\nbase: isaac\n"), "'base' is given twice"),
    ("technology", lambda t: _tech(t, '{"base": "resparc", "base": "isaac"}', ".json"),
     "'base' is given twice"),
    ("technology", lambda t: _tech(t, f"base: !!python/object/apply:os.system ['touch {MARK}']"),
     "python/object/apply:os.system"),
    ("technology", lambda t: _tech(t, "base: resparc\nadc_bits: !!binary aGk=\n"), "YAML tag"),
    ("technology", lambda t: _tech(t, "base: resparc\n" + "#" * (2**20 + 1)), "larger than"),
    ("technology", lambda t: _tech(t, "base: resparc\ndevice: {levels: 1000000000000}\n"),
     "device.levels"),
    ("technology", lambda t: _tech(t, "base: resparc\nmax_crossbar: 100000000\n"),
     "'max_crossbar' must be at most 4096"),
    ("technology", lambda t: _tech(t, "base: resparc\nadc_bits: '8'\n"), "adc_bits"),
    ("technology", lambda t: _tech(t, "base: resparc\nadc_bits: .inf\n"), "adc_bits"),
    # class by class: float for an integer, a boolean, a numeric string, an infinite table
    # cell, an exponent whose term overflows or underflows, a tiny constant, an unhashable key
    ("technology", lambda t: _tech(t, "base: isaac\nmin_crossbar: 16.0\n"),
     "field 'min_crossbar' must be an integer in [1, 4096], got 16.0"),
    ("technology", lambda t: _tech(t, "base: resparc\ntimesteps: true\n"),
     "field 'timesteps' must be an integer in [1, 100000], got True"),
    ("technology", lambda t: _tech(t, "base: resparc\ncolumn_energy_pj: '22'\n"),
     "field 'column_energy_pj' must be a number in [1e-12, 1e+12], got '22'"),
    ("technology", lambda t: _tech(t, INF_ADC_CELL),
     "row [8, inf, 1]: energy_pj must be finite"),
    ("technology", lambda t: _tech(t, "base: resparc\narray_scaling: 1000000\n"),
     "field 'array_scaling' must be at most 8"),
    ("technology", lambda t: _tech(t, "base: resparc\nrouter_group_scaling: 400\n"),
     "field 'router_group_scaling' must be at most 8"),
    ("technology", lambda t: _tech(t, "base: resparc\ncontrol_area_mm2: 1.0e-320\n"),
     "field 'control_area_mm2' must be at least 1e-12"),
    ("technology", lambda t: _tech(t, f"base: resparc\ntimesteps: {2**70}\n"),
     "field 'timesteps' must be at most 100000"),
    ("technology", lambda t: _tech(t, "base: {a: 1}\n"), "field 'base' must name a preset"),
    ("saved network", lambda t: _load_net(t, after=_object_npz), "numeric arrays only"),
    ("saved network", lambda t: _load_net(t, lambda w, m, c: ([w[0] * np.nan, w[1]], m, c)),
     "weight0 holds NaN"),
    ("saved network", lambda t: _load_net(t, lambda w, m, c: ([w[0], w[1] * np.inf], m, c)),
     "weight1 holds NaN or infinite"),
    ("saved network", lambda t: _load_net(t, lambda w, m, c: (w, [m[0][:5], m[1]], c)),
     "mask0 must be a 0/1 array of weight0's shape (32, 64)"),
    ("saved network", lambda t: _load_net(t, lambda w, m, c: ([w[0], w[1][:, :7]],
                                                              [m[0], m[1][:, :7]], c)),
     "weight1 takes 7 inputs"),
    ("saved network", lambda t: _load_net(
        t, lambda w, m, c: (w, m, [[type(c[0][0])([0, 999], [0])], []])), "outside the layer"),
    ("saved network", lambda t: _load_net(t, after=lambda t: (t / "n_clusters.json").unlink()),
     "cannot read it"),
    ("saved network", lambda t: _load_net(
        t, after=lambda t: (t / "n_clusters.json").write_text(DEEP)), "nested too deeply"),
    ("technology", lambda t: _tech(t, "# nothing yet\n"), "the file is empty"),
    ("saved network", lambda t: _load_net(t, after=lambda t: (t / "n_clusters.json").write_text(
        '{"clusters": [[{"outputs": [0], "inputs": [0], "weight": 1}], []]}')),
     "unknown key 'weight'"),
    ("saved network", lambda t: _load_net(t, after=lambda t: (t / "n_clusters.json").write_text(
        '{"clusters": [[{"outputs": [0, 0], "inputs": [0]}], []]}')), "index 0 twice"),
    ("saved network", lambda t: _load_net(t, after=lambda t: (t / "n_clusters.json").write_text(
        '{"clusters": [[], [], []]}')), "expected a list of 2 per-layer cluster lists"),
    ("saved network", lambda t: _load_net(t, after=lambda t: (t / "n_clusters.json").write_text(
        '{"clusters": [[], []], "layers": 2}')), "unknown key 'layers'"),
    ("manifest", lambda t: _manifest(t, "../n"), "leads outside"),
    ("manifest", lambda t: _manifest(t, str(t / "n")), "allowed a relative path"),
    ("manifest", lambda t: _manifest(t, "x", link=True), "leads outside"),
    ("manifest", lambda t: _manifest(t, 5), "file=5"),
    ("manifest", lambda t: _manifest(t, "n", weights="n.npz"), "entry 0: unknown key 'weights'"),
    # an array header asking for terabytes is refused before numpy allocates it
    ("saved network", lambda t: _load_net(t, after=_huge_header_npz), "4000000000000 bytes"),
    ("technology", _dir_tech, "a directory, not a regular file"),
    # dataset files that are not regular files; split seeds and data directories
    ("dataset", lambda t: _dataset_files(t, "fifo"),
     "t10k-images-idx3-ubyte: a FIFO (named pipe), not a regular file"),
    ("dataset", lambda t: _dataset_files(t, "dir"),
     "t10k-images-idx3-ubyte: a directory, not a regular file"),
    ("dataset", _load_dataset(name="digits", seed=-1),
     "invalid seed=-1: allowed an integer in [0, 2**32)"),
    ("dataset", _load_dataset(name="digits", seed="0"), "invalid seed='0'"),
    ("dataset", _load_dataset(name="digits", seed=2**70), "invalid seed=1180591620717411303424"),
    ("dataset", _load_dataset(name="mnist-10k", data_dir=5),
     "invalid data_dir=5: allowed a path (str or os.PathLike) or None"),
    # a policy's spaces.json: the file and the key named
    ("policy", lambda t: _load_policy(t, {"spaces.json": json.dumps(
        {"observation": {"shape": [37], "low": -1, "high": 1}, "action": {"nvec": [2**70]}})}),
     "spaces.json: key 'action.nvec' must be a list of 1 to 100000 integers"),
    ("policy", lambda t: _load_policy(t, {"spaces.json": json.dumps(
        {"action_nvec": [2], "observation_shape": [3]})}), "spaces.json: unknown key"),
    ("policy", lambda t: _load_policy(t, {"best_model.zip": _zip_with_pickle()}),
     "objects other than tensors"),
]


@pytest.mark.parametrize(
    "surface,reader,needle", BAD_FILES, ids=[f"{s}-{k}" for k, (s, _, _) in enumerate(BAD_FILES)]
)
def test_every_file_reader_refuses_a_bad_file_in_one_line(
    tmp_path, monkeypatch, surface, reader, needle
):
    monkeypatch.chdir(tmp_path)
    read = reader(tmp_path)
    with pytest.raises(ValueError) as info:
        read()
    message = str(info.value)
    assert needle in message and len(message.splitlines()) == 1 and len(message) < 800, message
    assert not (tmp_path / MARK).exists()  # no tag ever runs code


def _state_with(env, **changes):
    env.reset(seed=0)
    return {**env.unwrapped.get_state(), **changes}


@pytest.mark.parametrize(
    "actions,needle",
    [([[1.7] + [0] * 10], "actions[0]"), ([[0] * 3], "actions[0]"), ([[True] + [0] * 10],
     "actions[0]"), ([[99] + [0] * 10], "actions[0]"), ("abc", "actions=")],
)
def test_a_bad_state_document_leaves_the_episode_untouched(env, actions, needle):
    obs, _ = env.reset(seed=3)
    state = _state_with(env, actions=actions)
    env.reset(seed=3)
    steps = env.unwrapped.episode.steps
    with pytest.raises(ValueError, match=re.escape(needle)):
        env.reset(options={"state": state})
    assert env.unwrapped.episode.steps == steps and env.unwrapped.episode.seed == 3


@pytest.mark.parametrize("options,error,needle", [
    (5, TypeError, "takes None or a mapping"),
    ({"stat": {}}, ValueError, "unknown option(s) ['stat']"),  # was a fresh episode
])
def test_reset_refuses_options_it_does_not_know(env, options, error, needle):
    with pytest.raises(error, match=re.escape(needle)):
        env.reset(options=options)
    env.reset(options={})  # no option: a fresh episode, as None


def test_fork_names_what_it_expects():
    with pytest.raises(TypeError, match="expected a TraNNsformer environment"):
        tnf_env.fork(5)


def _cfg(t, **changes):
    import yaml
    from conftest import TINY_TRAIN

    path = t / "c.yaml"
    path.write_text(yaml.safe_dump({**TINY_TRAIN, **changes}))
    return str(path)


def _held(t):
    """An output directory another process is writing (its lock held)."""
    from filelock import FileLock

    (t / "out").mkdir()
    lock = FileLock(t / "out" / ".lock", timeout=0)
    lock.acquire()
    _HELD.append(lock)  # released by the test
    return str(t / "out")


_HELD: list = []


REPRO = ["reproduce", "--topology", "64-32-10", "--crossbar-sizes", "16"]
NO_GPU = not torch.cuda.is_available()
# (argv from tmp_path, what the one-line error must contain): the new flags and files
BAD_NEW_COMMANDS = [
    (lambda t: ["train", "--config", _cfg(t, colour=1), "--out", _out(t)], "unknown config key"),
    (lambda t: ["train", "--config", (t / "c.yaml").write_text(BOMB) and str(t / "c.yaml"),
                "--out", _out(t)], "expands to more than"),
    (lambda t: ["train", "--config", (t / "c.yaml").write_text(DEEP) and str(t / "c.yaml"),
                "--out", _out(t)], "nested deeper than"),
    (lambda t: ["train", "--config", (t / "c.yaml").write_text("seed: 1\nseed: 2\n")
                and str(t / "c.yaml"), "--out", _out(t)], "'seed' is given twice"),
    (lambda t: ["train", "--config", _cfg(t, seed=2**40), "--out", _out(t)],
     "'seed' must be an integer in [0, 2**32)"),
    (lambda t: ["train", "--config", _cfg(t, timesteps=10**15), "--out", _out(t)],
     "'timesteps' must be an integer in [1, 1000000000]"),
    (lambda t: ["train", "--config", _cfg(t, net_arch=[10**9]), "--out", _out(t)], "'net_arch'"),
    (lambda t: ["train", "--config", _cfg(t, n_envs=10**6), "--out", _out(t)], "'n_envs'"),
    (lambda t: ["train", "--config", _cfg(t, baseline_seeds=[0, 2**70]), "--out", _out(t)],
     "'baseline_seeds'"),
    (lambda t: ["train", "--config", _cfg(t), "--set", "env.snn_timesteps=1000000000000",
                "--out", _out(t)], "snn_timesteps=1000000000000"),
    (lambda t: ["train", "--config", _cfg(t), "--set", "env.max_steps=1000000000000",
                "--out", _out(t)], "max_steps=1000000000000"),
    (lambda t: ["train", "--config", _cfg(t), "--set", "env.topology=64-10000000000-10",
                "--out", _out(t)], "topology='64-10000000000-10'"),
    (lambda t: ["train", "--config", _cfg(t), "--set",
                f"seed=!!python/object/apply:os.system ['touch {MARK}']", "--out", _out(t)],
     "--set seed"),
    (lambda t: ["train", "--config", _cfg(t), "--set", "env.prune_levels=" + FLOW_BOMB,
                "--out", _out(t)], "--set env.prune_levels: expands to more than"),
    (lambda t: ["train", "--config", _cfg(t), "--out", _held(t)], "in use by another process"),
    (lambda t: ["replay", str((t / "s.json").write_text(DEEP) and t / "s.json")],
     "nested too deeply"),
    (lambda t: ["replay", _schedule(t, text='{"seed": 0, "seed": 1}')], "'seed' is given twice"),
    (lambda t: ["replay", _schedule(t, actions=[[0] * 8] * 20_000)], "'actions'"),
    (lambda t: ["replay", _schedule(t, metrics={"cost": NAN})], "'metrics'"),
    (lambda t: [*REPRO, "--seeds", "0", "0", "--out", _out(t)], "--seeds must be distinct"),
    (lambda t: [*REPRO, "--seeds", str(2**40), "--out", _out(t)], "--seeds must be integers"),
    (lambda t: [*REPRO, "--snn-timesteps", "1000000000000", "--out", _out(t)],
     "--snn-timesteps must be an integer in [1, 100000]"),
    (lambda t: [*REPRO, "--rate-grid", "1", "1", "--out", _out(t)], "--rate-grid"),
    (lambda t: [*REPRO, "--device", "cuda:7", "--out", _out(t)], "device='cuda:7'"),
    (lambda t: [*REPRO, "--out", _held(t)], "in use by another process"),
    (lambda t: [*REPRO, "--out", (_out(t), (t / "out").mkdir(), (t / "out" / "results.json")
                                  .write_text("{}"))[0]], "already holds results.json"),
    (lambda t: [*REPRO, "--out", _out(t), "--save-networks", (str(t / "n"), (t / "n").mkdir(),
                (t / "n" / "manifest.json").write_text("{}"))[0]],
     "--save-networks"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--seeds", "0", "0", "--out", _out(t)],
     "--seeds must be distinct"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--crossbar-sizes", "16", "16", "--out",
                _out(t)], "--crossbar-sizes must be distinct"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--random-candidates", "1000000000000",
                "--out", _out(t)], "--random-candidates"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--snn-timesteps", "1000000000000",
                "--out", _out(t)], "--snn-timesteps"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--budget", "1e12", "--out", _out(t)],
     "--budget must be a number of epochs in (0, 10000000]"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--set", "env.seed=!!python/name:os.system",
                "--out", _out(t)], "--set env.seed: YAML tag"),
    (lambda t: ["benchmark", "--run", str(t), "--out", _out(t)], "--run"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--search-budget", "1e12",
                "--out", _out(t)], "--search-budget"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--search-budget", "inf",
                "--out", _out(t)], "--search-budget"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--search-budget", "0",
                "--out", _out(t)], "--search-budget"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--reps", "1000000000000",
                "--out", _out(t)], "--reps"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--search-seed", "-1",
                "--out", _out(t)], "--search-seed"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--train-seeds", "0", "0",
                "--out", _out(t)], "--train-seeds must be distinct"),
    (lambda t: ["compare", "--config", _cfg(t), "--train-seeds", "0", "--eval-seeds", "0",
                "--out", _out(t)], "overlap the training seeds"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--out", _held(t)], "in use"),
    (lambda t: ["search", "--config", _cfg(t), "--max-failures", "-1", "--out", _out(t)],
     "--max-failures must be an integer in [0, 100], got -1"),
    (lambda t: ["search", "--config", _cfg(t), "--n-envs", "2", "--num-cpus", "1",
                "--out", _out(t)], "--n-envs 2 exceeds --num-cpus 1"),
    (lambda t: ["search", "--config", _cfg(t, timesteps=2000), "--n-envs", "250", "--out",
                _out(t)], "exceeds this machine's"),
    (lambda t: ["search", "--config", _cfg(t), "--search-alg", "optuna", "--num-samples",
                "1000000000000", "--out", _out(t)], "--num-samples"),
    (lambda t: ["search", "--config", _cfg(t), "--target", "paper", "--episodes", "0",
                "--out", _out(t)], "--episodes"),
    (lambda t: ["search", "--config", _cfg(t), "--seeds", "0", "0", "--out", _out(t)],
     "--seeds must be distinct"),
    # surplus or missing data: an empty config, minibatches that do not split the rollout,
    # a schedule's unknown metric or level key and actions beyond the episode
    (lambda t: ["train", "--config", (t / "c.yaml").write_text("# all defaults?\n")
                and str(t / "c.yaml"), "--out", _out(t)], "is empty"),
    (lambda t: ["compare", "--config", (t / "c.yaml").write_text("null\n") and str(t / "c.yaml"),
                "--out", _out(t)], "is empty"),
    (lambda t: ["train", "--config", _cfg(t, batch_size=6), "--out", _out(t)],
     "'batch_size' must divide the rollout n_steps * n_envs = 8 * 1 = 8"),
    (lambda t: ["train", "--config", _cfg(t), "--set", "n_steps=4", "--out", _out(t)],
     "got batch_size=8"),
    (lambda t: ["replay", _schedule(t, metrics={"cost": 1.0, "costt": 1.0})],
     "unknown metric 'costt'"),
    (lambda t: ["replay", _schedule(t, trained_at={"env": TINY_ENV, "seed": 0})],
     "unknown key 'trained_at.seed'"),
    (lambda t: ["replay", _schedule(t, config={"name": "x", "n_stepz": 8})],
     "unknown key 'config.n_stepz'"),
    (lambda t: ["replay", _schedule(t, actions=[[0] * 8] * 3)],
     "3 given, the episode has at most 2 steps"),
    # a policy directory checked whole before the output directory is claimed
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--warm-start",
                "policy:" + _policy(t, {"best_model.zip": b"garbage"}), "--no-cold",
                "--out", _out(t)], "best_model.zip is unreadable: BadZipFile"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--warm-start",
                "policy:" + _policy(t, {"best_model.zip": _zip_with_pickle()}), "--no-cold",
                "--out", _out(t)], "objects other than tensors"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--methods", "policy:nowhere",
                "--out", _out(t)], "'policy:nowhere' is not a usable policy"),
    (lambda t: ["compare", "--config", _cfg(t, n_envs=2), "--methods",
                "policy:" + _policy(t, {"config.yaml": ""}), "--out", _out(t)], "config.yaml"),
    (lambda t: ["benchmark", "--run", _policy(t, {"best_model.zip": None}), "--seeds", "0",
                "--out", _out(t)], "no best_model.zip"),
    (lambda t: ["train", "--config", _cfg(t, warm_start="policy:" + _policy(
        t, {"spaces.json": "{}"})), "--out", _out(t)], "spaces.json: key 'observation' missing"),
]

def _file(t, name="keep.txt"):
    """A user's regular file where a directory is asked for."""
    (t / name).write_text("mine")
    return str(t / name)


BIG = str(2**70)
# every flag and argument checked before the work (the rollout, the scales, the grids)
BAD_NEW_COMMANDS += [
    (lambda t: ["train", "--config", _cfg(t, batch_size=1), "--out", _out(t)],
     "'batch_size' must be at least 2"),
    (lambda t: ["train", "--config", _cfg(t), "--timesteps", "3", "--out", _out(t)],
     "'timesteps' must be at least one rollout, n_steps * n_envs = 8 * 1 = 8"),
    (lambda t: ["train", "--config", "", "--out", _out(t)], "config '' is an empty name"),
    (lambda t: ["search", "--config", _cfg(t), "--learning-rates", "nan", "--out", _out(t)],
     "--learning-rates nan: config key 'learning_rate'"),
    (lambda t: ["search", "--config", _cfg(t), "--ent-coefs", "inf", "--out", _out(t)],
     "--ent-coefs inf: config key 'ent_coef'"),
    (lambda t: ["search", "--config", _cfg(t), "--crossbar-sizes", "0", "--out", _out(t)],
     "--crossbar-sizes 0: config key 'env': invalid setting crossbar_sizes"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--seeds", "0", "--pruning-rate-scale", "-1",
                "--out", _out(t)], "--pruning-rate-scale must be a finite number"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--seeds", "0", "--crossbar-sizes", "0",
                "--out", _out(t)], "--crossbar-sizes must be at most"),
    (lambda t: ["benchmark", "--config", _cfg(t), "--seeds", "0", "--resume", "--out",
                _out(t)], "holds no run to resume"),
    (lambda t: [*REPRO, "--rate-scale", "0", "--out", _out(t)], "--rate-scale must be"),
    (lambda t: [*REPRO, "--pruning-rate-scale", "nan", "--out", _out(t)],
     "--pruning-rate-scale must be a finite number"),
    (lambda t: [*REPRO, "--resume", "--out", _out(t)], "holds no run to resume"),
    (lambda t: [*REPRO, "--set", "env.seed=3", "--out", _out(t)], "--set env.seed=3"),
    (lambda t: [*REPRO, "--cache-dir", _file(t), "--out", _out(t)], "invalid setting cache_dir"),
    (lambda t: ["baseline", "--topology", f"64-{BIG}-10"], "invalid setting topology"),
    (lambda t: ["baseline", "--device", "cpu:99"], "unknown device 'cpu:99'"),
    (lambda t: ["baseline", "--cache-dir", _file(t)], "exists and is not a directory"),
    (lambda t: ["replay", _schedule(t, episode_return="1")], "key 'episode_return' must be"),
    (lambda t: ["replay", _schedule(t, metrics={"cost": "1"})], "key 'metrics' must be"),
]
if NO_GPU:  # a GPU this machine lacks: said before any baseline trains
    BAD_NEW_COMMANDS += [
        (lambda t: [*REPRO, "--device", "cuda", "--out", _out(t)], "torch sees no CUDA GPU"),
        (lambda t: ["train", "--config", _cfg(t), "--device", "cuda", "--out", _out(t)],
         "torch sees no CUDA GPU"),
    ]


@pytest.fixture
def no_new_work(no_work, monkeypatch):
    import agents.experiments.compare
    import agents.search.tune

    def fail(*args, **kwargs):
        raise AssertionError("the work started before the inputs were checked")

    monkeypatch.setattr(agents.experiments.compare, "run_compare", fail)
    monkeypatch.setattr(agents.search.tune, "run_search", fail)


@pytest.mark.parametrize(
    "argv,needle", BAD_NEW_COMMANDS,
    ids=[f"{k}-{n}" for k, (_, n) in enumerate(BAD_NEW_COMMANDS)],
)
def test_every_new_flag_and_file_is_refused_in_one_line(
    tmp_path, capsys, monkeypatch, no_new_work, argv, needle
):
    from agents.cli import main

    monkeypatch.chdir(tmp_path)
    args = argv(tmp_path)
    held = (tmp_path / "out").exists()
    try:
        status = main(args)
    finally:
        while _HELD:
            _HELD.pop().release()
    err = capsys.readouterr().err.strip()
    assert status == 2 and "Traceback" not in err, err
    assert len(err.splitlines()) == 1 and needle in err and len(err) < 800, err
    assert not (tmp_path / MARK).exists()
    if not held:  # nothing half-written: a refused command leaves no output directory
        assert not (tmp_path / "out").exists()
    else:
        assert not (tmp_path / "out" / "config.yaml").exists()


@pytest.mark.parametrize("error", ["gpu", "host"])
def test_out_of_memory_mid_run_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch, error):
    """A GPU (or host) running out of memory mid-run: injected, as CI has no GPU to fill."""
    import agents.experiments.reproduce
    from agents.cli.commands import _gpu_out_of_memory, main

    def oom(*args, **kwargs):
        raise (_gpu_out_of_memory() if error == "gpu" else MemoryError)("CUDA out of memory.")

    monkeypatch.setattr(agents.experiments.reproduce, "run_reproduce", oom)
    assert main([*REPRO, "--out", _out(tmp_path)]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"out of {'GPU' if error == 'gpu' else 'host'} memory" in err, err
    assert not (tmp_path / "out").exists()  # the claimed, still empty directory is removed


def test_a_file_handed_over_does_not_choose_where_baselines_are_written(tmp_path):
    """``env.cache_dir`` in a schedule file or another run's config.yaml is not followed."""
    import yaml
    from conftest import TINY_TRAIN

    from agents.rl.replay import load_schedule
    from agents.rl.run_dir import load_run_config

    elsewhere = str(tmp_path / "elsewhere")
    doc = load_schedule(_schedule(tmp_path, env={**TINY_ENV, "cache_dir": elsewhere}))
    assert doc["env"]["cache_dir"] is None
    run = tmp_path / "run"
    run.mkdir()
    cfg = {**TINY_TRAIN, "env": {**TINY_TRAIN["env"], "cache_dir": elsewhere}}
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert load_run_config(run).env["cache_dir"] is None  # read as input
    assert load_run_config(run, own=True).env["cache_dir"] == elsewhere  # resumed by its owner
