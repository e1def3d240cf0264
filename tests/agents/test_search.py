"""``train_agent.py search``: PPO trials on a local 2-CPU Ray instance."""

import builtins
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import write_train_config

from agents.cli import main
from agents.rl.config import load_config
from agents.search.tune import SearchConfig, SearchError, run_search, trial_configs

ray = pytest.importorskip("ray", reason="needs Ray (the distributed extra: make distributed)")
pytestmark = pytest.mark.extras


@pytest.fixture(scope="module")
def local_ray():
    # Trials read the isolated baseline cache that conftest set in this process.
    builtin_print = builtins.print  # Tune swaps in its own print; later tests get theirs back
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
    builtins.print = builtin_print


def test_grid_names_each_trial_after_what_it_varies(tmp_path):
    base = load_config(str(write_train_config(tmp_path)))
    cfg = SearchConfig(
        base, tmp_path / "s", seeds=(0, 1), crossbar_sizes=(16, 32), learning_rates=(1e-3,)
    )
    names = [c.run_name for c in trial_configs(cfg)]
    assert names == [
        "tiny-N16-lr0.001-s0",
        "tiny-N32-lr0.001-s0",
        "tiny-N16-lr0.001-s1",
        "tiny-N32-lr0.001-s1",
    ]
    assert [c.env["crossbar_sizes"] for c in trial_configs(cfg)][:2] == [[16], [32]]
    with pytest.raises(SearchError, match="--seeds must be distinct"):
        SearchConfig(base, tmp_path / "s", seeds=(0, 0))
    with pytest.raises(SearchError, match="repeats a point"):
        trial_configs(SearchConfig(base, tmp_path / "s", learning_rates=(1e-3, 1e-3)))


def test_search_writes_run_directories_that_replay_and_benchmark_read(tmp_path, capsys, local_ray):
    out = tmp_path / "search"
    cfg = write_train_config(tmp_path)
    argv = ["search", "--config", str(cfg), "--seeds", "0", "1", "--out", str(out)]
    assert main(argv) == 0
    doc = json.loads((out / "results.json").read_text())
    assert [t["error"] for t in doc["trials"]] == [None, None]
    assert {t["name"] for t in doc["trials"]} == {"tiny-s0", "tiny-s1"}
    for t in doc["trials"]:
        assert not Path(t["run_dir"]).is_absolute()  # relative: the directory may move
        run = out / t["run_dir"]
        assert (run / "best_model.zip").exists() and (run / "tb").is_dir()
        assert t["best_return"] is not None and "accuracy" in t["metrics"]
    assert doc["best_run"] == doc["trials"][0]["run_dir"]
    assert "| tiny-s" in (out / "results.md").read_text()
    capsys.readouterr()
    assert main(["replay", str(out / "best_schedule.json")]) == 0
    assert "DIFFERENT" not in capsys.readouterr().out
    from agents.rl.ppo import PPOPolicy
    from agents.rl.run_dir import resolve_run_dir

    assert resolve_run_dir(out) == out.resolve() / doc["best_run"]
    # the best trial's best model: saved at one of its evaluations (every 24 steps)
    assert PPOPolicy.load(out).model.num_timesteps in (24, 48)
    # a finished search is never overwritten
    assert main(argv) == 2
    assert "already holds a search" in capsys.readouterr().err
    moved = tmp_path / "moved"
    out.rename(moved)  # a search directory moved elsewhere is still read
    assert PPOPolicy.load(moved).model.num_timesteps in (24, 48)


def _kill_first_attempt(run_dir: Path, killed: list) -> None:
    deadline = time.time() + 240
    while time.time() < deadline:
        ckpts = list((run_dir / "checkpoints").glob("rl_model_*_steps.zip"))
        log = run_dir / "attempts.log"
        # with two checkpoints the first is complete; the run is far from its end
        if len(ckpts) >= 2 and log.exists() and not (run_dir / "final_model.zip").exists():
            pid = int(log.read_text().split()[2])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.02)


def test_a_killed_trial_is_restarted_and_resumes_from_its_checkpoint(tmp_path, local_ray):
    steps = 400  # long enough that the kill lands mid-run on a fast machine
    base = load_config(str(write_train_config(tmp_path, timesteps=steps, eval_every=1000)))
    out = tmp_path / "search"
    run_dir = out / "trials" / "tiny-s0"
    killed: list = []
    killer = threading.Thread(target=_kill_first_attempt, args=(run_dir, killed), daemon=True)
    killer.start()
    doc = run_search(SearchConfig(base, out, seeds=(0,), max_failures=2), log=lambda s: None)
    killer.join(timeout=1)
    assert killed, "the trial finished before it could be killed"
    (trial,) = doc["trials"]
    assert trial["error"] is None and trial["attempts"] == 2
    lines = (run_dir / "attempts.log").read_text().splitlines()
    assert lines[0].endswith("resume False") and lines[1].endswith("resume True")
    assert int(lines[1].split()[2]) != killed[0]
    from stable_baselines3 import PPO

    assert PPO.load(run_dir / "final_model.zip").num_timesteps == steps


def test_search_without_ray_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    cfg = write_train_config(tmp_path)
    assert main(["search", "--config", str(cfg), "--out", str(tmp_path / "s")]) == 2
    assert "pip install -e '.[distributed]'" in capsys.readouterr().err


def test_space_items_parse_and_bad_ones_are_refused(tmp_path):
    from agents.search.tune import parse_dimension

    assert parse_dimension("learning_rate=1e-4:1e-3:log").kind == "log"
    assert parse_dimension("env.rate_scale=5,10").values == (5, 10)
    base = load_config(str(write_train_config(tmp_path)))
    for space, match in [
        (("learning_rate=1:0",), "LOW < HIGH"),
        (("nope=1,2",), "unknown config key"),
        (("env.rate_scale=-1,2",), "rate_scale"),
    ]:
        with pytest.raises(SearchError, match=match):
            SearchConfig(base, tmp_path / "s", space=space)
    with pytest.raises(SearchError, match="lists of values"):
        SearchConfig(base, tmp_path / "s", space=("learning_rate=1e-4:1e-3",))
    cfg = SearchConfig(base, tmp_path / "s", search_alg="optuna", target="paper")
    assert [d.key for d in cfg.dimensions][0] == "env.rate_scale"  # the schedule's constants


def test_optuna_search_with_asha_reports_returns_and_ranks_trials(tmp_path, local_ray):
    out = tmp_path / "optuna"
    cfg = write_train_config(tmp_path)  # 48 steps, rollouts of 8: 6 reports, then the last
    argv = ["search", "--config", str(cfg), "--search-alg", "optuna", "--scheduler", "asha",
            "--num-samples", "3", "--space", "learning_rate=1e-4:1e-2:log", "--out", str(out)]
    assert main(argv) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["search_alg"] == "optuna" and len(doc["trials"]) == 3
    lrs = {t["params"]["learning_rate"] for t in doc["trials"]}
    assert len(lrs) == 3 and all(1e-4 <= lr <= 1e-2 for lr in lrs)
    assert all(t["error"] is None and t["last_return"] is not None for t in doc["trials"])
    assert doc["trials"][0]["complete"]  # the best is a trial ASHA let finish
    assert (out / "best_schedule.json").exists()


def test_grid_over_the_fixed_schedule_constants(tmp_path, capsys, local_ray):
    out = tmp_path / "paper"
    cfg = write_train_config(tmp_path)
    argv = ["search", "--config", str(cfg), "--target", "paper", "--episodes", "2",
            "--space", "env.rate_scale=5,20", "--scheduler", "asha", "--out", str(out)]
    assert main(argv) == 0
    doc = json.loads((out / "results.json").read_text())
    names = sorted(t["name"] for t in doc["trials"])
    assert names == ["tiny-rate_scale20-s0", "tiny-rate_scale5-s0"]
    assert {t["params"]["env.rate_scale"] for t in doc["trials"]} == {5, 20}
    capsys.readouterr()
    assert main(["replay", str(out / "best_schedule.json")]) == 0  # the best trial's episode
    assert "DIFFERENT" not in capsys.readouterr().out
