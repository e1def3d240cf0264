"""Bad inputs, table-driven: every one is a clear error naming the field, never a traceback,
a silent misreading or a hang.

The environment's API raises a ``ValueError`` (or ``TypeError``) whose one-line message
names the setting; every command of ``train_agent.py`` prints one line on stderr and
exits with status 2. Each case is refused before any training starts, so it is fast.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import tnf_env
from tnf_env.network import parse_topology

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
]


@pytest.mark.parametrize(
    "settings,name", BAD_SETTINGS, ids=[repr(kw) for kw, _ in BAD_SETTINGS]
)
def test_make_refuses_a_bad_setting_by_name(settings, name):
    with pytest.raises((ValueError, TypeError)) as info:
        tnf_env.make(**{**SMALL, **settings})
    message = str(info.value)
    assert name in message and len(message.splitlines()) == 1, message
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
    from tnf_env.clustering import scic

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
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--env",
                "retrain_epochs=.inf", "--out", _out(t)], "retrain_epochs=inf"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--env",
                "allow_stop=maybe", "--out", _out(t)], "allow_stop='maybe'"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--env", "seed=abc",
                "--out", _out(t)], "seed='abc'"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "0", "--env",
                "dataset=imagenet", "--out", _out(t)], "dataset='imagenet'"),
    (lambda t: ["benchmark", "--config", _config(t), "--rate-grid", "nan", "--out", _out(t)],
     "--rate-grid"),
    (lambda t: ["benchmark", "--config", _config(t), "--seeds", "--out", _out(t)], "--seeds"),
    # reproduce
    (lambda t: ["reproduce", "--topology", "64--5-10", "--out", _out(t)], "topology='64--5-10'"),
    (lambda t: ["reproduce", "--crossbar-sizes", "0", "--out", _out(t)], "crossbar_sizes=(0,)"),
    (lambda t: ["reproduce", "--dataset", "imagenet", "--out", _out(t)], "dataset='imagenet'"),
    (lambda t: ["reproduce", "--technology", "nope", "--out", _out(t)], "technology='nope'"),
    (lambda t: ["reproduce", "--rate-scale", "inf", "--out", _out(t)], "rate_scale=inf"),
    (lambda t: ["reproduce", "--tolerance", "nan", "--out", _out(t)], "accuracy_tolerance=nan"),
    (lambda t: ["reproduce", "--steps", "0", "--out", _out(t)], "--steps"),
    (lambda t: ["reproduce", "--seeds", "--out", _out(t)], "--seeds"),
    # baseline
    (lambda t: ["baseline", "--epochs", "0"], "--epochs"),  # once cached an untrained network
    (lambda t: ["baseline", "--topology", "64--5-10"], "topology '64--5-10'"),  # once 64-5-10
    (lambda t: ["baseline", "--dataset", "imagenet"], "dataset 'imagenet'"),
    (lambda t: ["baseline", "--seed", "-1"], "--seed"),
    (lambda t: ["baseline", "--timesteps", "0"], "--timesteps"),
    (lambda t: ["baseline", "--percentile", "nan"], "--percentile"),
]


@pytest.fixture
def no_work(monkeypatch):
    """Every command's work: reaching one means a bad input was not refused first."""
    import agents.benchmark
    import agents.cli
    import agents.ppo
    import agents.replay
    import agents.reproduce

    def fail(*args, **kwargs):
        raise AssertionError("the work started before the inputs were checked")

    for module, name in (
        (agents.benchmark, "run_benchmark"),
        (agents.reproduce, "run_reproduce"),
        (agents.replay, "replay"),
        (agents.ppo, "train"),
        (agents.cli, "get_baseline"),
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
