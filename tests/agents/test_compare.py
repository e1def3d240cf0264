"""``train_agent.py compare``: equal-compute comparison, black-box search, statistics."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_TRAIN, write_train_config

from agents.cli import main
from agents.experiments import stats
from agents.experiments.compare import CompareConfig, CompareError, ppo_epochs
from agents.rl.config import ConfigError, TrainConfig, config_from_dict
from agents.search.blackbox import (
    TPE_STARTUP,
    ParamSchedule,
    ScheduleParams,
    penalized_cost,
    run_search,
)

TINY_ENV = {**TINY_TRAIN["env"], "max_steps": 2, "allow_stop": False, "prune_unit": "paper"}


def test_mean_interval_brackets_the_mean_and_constant_values_have_no_width():
    iv = stats.mean_interval([0.8, 0.9, 1.0], reps=500)
    assert iv.low <= iv.mean <= iv.high and iv.mean == pytest.approx(0.9)
    assert stats.mean_interval([2.0, 2.0]) == stats.Interval(2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="finite"):
        stats.mean_interval([1.0, float("nan")])
    assert stats.backend() in ("rliable", "numpy")


def test_probability_of_improvement_counts_pairs_and_ties_half():
    assert stats.probability_of_improvement([2, 3], [1, 1]) == 1.0
    assert stats.probability_of_improvement([1, 1], [1, 1]) == 0.5
    assert stats.probability_of_improvement([0, 2], [1, 1]) == 0.5
    iv = stats.poi_interval([2, 3, 4], [1, 1, 1], reps=200)
    assert iv.mean == iv.low == iv.high == 1.0


def test_baseline_seeds_are_validated_and_spread_over_workers(tmp_path):
    with pytest.raises(ConfigError, match="baseline_seeds"):
        config_from_dict({**TINY_TRAIN, "baseline_seeds": [1, 1]})
    from agents.rl.ppo import make_vec_env

    cfg = config_from_dict({**TINY_TRAIN, "baseline_seeds": [3]})
    venv = make_vec_env(cfg, cores=1)
    try:
        assert venv.get_attr("config")[0].seed == 3
    finally:
        venv.close()


def test_compare_config_refuses_overlapping_seeds_and_bad_budgets(tmp_path):
    train = TrainConfig(**{**TINY_TRAIN, "n_envs": 2}).validate()
    with pytest.raises(CompareError, match="overlap"):
        CompareConfig(train, tmp_path, train_seeds=(0, 1), eval_seeds=(1, 2))
    with pytest.raises(CompareError, match="warm_start"):
        CompareConfig(train, tmp_path, warm_start="teacher")
    with pytest.raises(CompareError, match="search_budget"):
        CompareConfig(train, tmp_path, search_budget=0)
    with pytest.raises(CompareError, match="'epochs' or 'cpu'"):
        CompareConfig(train, tmp_path, search_budget_unit="hours")
    # an epoch budget's identity is the one comparisons recorded before the unit existed
    assert "search_budget_unit" not in CompareConfig(train, tmp_path).identity()
    assert CompareConfig(train, tmp_path, search_budget_unit="cpu").identity()[
        "search_budget_unit"] == "cpu"
    with pytest.raises(CompareError, match="n_envs"):  # one worker cannot cover two seeds
        CompareConfig(TrainConfig(**TINY_TRAIN), tmp_path, eval_seeds=(2,))


def test_ppo_epochs_count_training_evaluations_and_demonstrations():
    cfg = TrainConfig(**{**TINY_TRAIN, "warm_start": "pruning"}).validate()
    # 48 steps, evaluations at 24 and 48 plus the final one (1 episode each), 2 demos
    assert ppo_epochs(48, cfg, horizon=4, step_epochs=0.5) == (48 + (3 * 1 + 2) * 4) * 0.5


def test_schedule_params_round_trip_and_refuse_unknown_keys():
    p = ScheduleParams(clustering=False, crossbar_size=16, levels=(0.5, 2.0))
    assert ScheduleParams.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    with pytest.raises(ValueError, match="unknown"):
        ScheduleParams.from_dict({"rate": 1.0})
    assert penalized_cost(0.4, True) == 0.4 and penalized_cost(0.4, False) == 1.4


def test_param_schedule_sets_per_layer_levels():
    import tnf_env
    from agents.rl.policies import run_episode

    torch.set_num_threads(1)
    env = tnf_env.make(**TINY_ENV)
    try:
        pol = ParamSchedule(ScheduleParams(crossbar_size=16, levels=(0.0, 4.0)))
        res = run_episode(env, pol, 0)
        decoded = env.unwrapped.codec.decode(res.actions[0])
        assert list(decoded.prune_levels) == [0.0, 4.0]
        assert set(decoded.crossbar_sizes) == {16}
    finally:
        env.close()


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_search_spends_at_most_its_budget(sampler):
    torch.set_num_threads(1)
    per_trial = 2 * 2 * 0.5  # two seeds x two steps x half an epoch
    budget = 3 * per_trial + 0.5
    res = run_search(TINY_ENV, (0, 1), budget, sampler, log=lambda s: None)
    # an episode that collapses ends early and spends less: trials run while a whole
    # trial's epochs still fit, and every trial's epochs are counted once
    spent = [t["epochs_spent"] for t in res["trials"]]
    assert spent == pytest.approx(list(np.cumsum([t["epochs"] for t in res["trials"]])))
    assert res["epochs"] == spent[-1] <= budget < spent[-1] + per_trial
    assert len(res["trials"]) >= 3 and all(0 < t["epochs"] <= per_trial for t in res["trials"])
    assert res["best"]["objective"] == min(t["objective"] for t in res["trials"])
    # a search this short never leaves TPE's random start-up trials
    assert res["model_trials"] == 0
    assert res["startup_trials"] == (TPE_STARTUP if sampler == "tpe" else None)
    with pytest.raises(ValueError, match="less than one trial"):
        run_search(TINY_ENV, (0, 1), 1.0, sampler)


def test_compare_cli_scores_every_method_on_held_out_seeds(tmp_path, capsys):
    torch.set_num_threads(1)
    cfg = write_train_config(
        tmp_path, env={"max_steps": 2, "allow_stop": False}, timesteps=8, n_steps=4,
        batch_size=4, n_epochs=1, checkpoint_every=8, eval_every=8, n_envs=2,
    )
    out = tmp_path / "cmp"
    args = ["compare", "--config", str(cfg), "--eval-seeds", "2", "--rate-grid", "1",
            "--snn-timesteps", "3", "--reps", "100", "--out", str(out)]
    assert main(args) == 0
    doc = json.loads((out / "results.json").read_text())
    methods = {e["method"] for e in doc["summary"]["methods"]}
    assert methods == {"original", "pruning (release)", "pruning", "paper (release)", "paper",
                       "black-box (TPE)", "random search", "ppo"}
    assert {r["seed"] for r in doc["rows"]} == {2}
    # each search got exactly PPO's epochs (or less, by under one trial)
    ppo = doc["training"]["ppo"]["epochs"]
    for name in ("black-box (TPE)", "random search"):
        assert ppo - 2 <= doc["training"][name]["epochs"] <= ppo
    assert Path(out / "learning_curves.png").stat().st_size > 0
    assert "cost vs best fixed" in (out / "results.md").read_text()
    ppo_entry = next(e for e in doc["summary"]["methods"] if e["method"] == "ppo")
    assert 0 <= ppo_entry["poi_vs_black_box"]["mean"] <= 1
    (out / "results.md").unlink()  # --report-only rebuilds it from the rows
    assert main(["compare", "--report-only", "--out", str(out), "--reps", "100"]) == 0
    assert (out / "results.md").is_file()
    # overlapping seeds are refused with a one-line error
    assert main(["compare", "--config", str(cfg), "--train-seeds", "0", "--eval-seeds", "0",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "overlap" in capsys.readouterr().err


def _compare_doc(seeds, tpe_model_trials=3):
    """A compare document built from rows directly (no run): every method on ``seeds``."""
    rows = []
    for s in seeds:
        for k, m in enumerate(["original", "pruning", "paper", "black-box (TPE)",
                               "random search", "ppo"]):
            delivered = 0 if m == "ppo" else 2
            rows.append({"method": m, "seed": s, "crossbar_size": 32,
                         "area_mm2_best": 1.0 - 0.1 * k + 0.01 * s,
                         "energy_nj_best": 100.0 - 5 * k - s, "accuracy_test": 0.96,
                         "meets_floor": True, "meets_floor_test": True, "epochs": 4.0,
                         "delivered_step": 0 if m == "original" else delivered,
                         **({} if m == "original" else {"last_step": 2})})
    search = {"epochs": 40.0, "wall_seconds": 1.0, "trials": 13, "startup_trials": 10}
    return {
        "dataset": "digits", "topology": "64-32-10", "technology": "resparc",
        "crossbar_sizes": [32], "steps": 2, "retrain_epochs_per_step": 2.0,
        "train_seeds": [0, 1], "eval_seeds": list(seeds), "rate_grid": [10.0],
        "search_budget_epochs": 40.0, "area_weight": 0.5, "baseline_accuracy_test": 0.97,
        "training": {"ppo": {"epochs": 40.0, "wall_seconds": 1.0},
                     "black-box (TPE)": {**search, "model_trials": tpe_model_trials},
                     "random search": {**search, "startup_trials": None, "model_trials": 0}},
        "eval_wall_seconds": {}, "rows": rows, "wall_seconds": 1.0,
    }


def _table_rows(md):
    return {line.split(" | ")[0][2:]: line for line in md.splitlines()
            if line.startswith("| ") and not line.startswith("| method")}


def test_one_seed_prints_no_interval_and_no_probability_of_improvement():
    from agents.experiments.compare_report import results_markdown, summarize

    doc = _compare_doc([2])
    doc["summary"] = summarize(doc, reps=50)
    md = results_markdown(doc)
    rows = _table_rows(md)
    assert "n = 1 (one held-out seed" in md and "bootstrap interval" not in md
    for name, line in rows.items():
        assert "[" not in line and "±" not in line, name
    assert rows["paper"].split(" | ")[6:8] == ["-", "n = 1"]  # the best fixed: no reference
    assert rows["ppo"].split(" | ")[6:8] == ["n = 1", "n = 1"]
    assert "1.000" not in rows["ppo"].split(" | ")[6]
    # two seeds: intervals and probabilities of improvement
    doc = _compare_doc([2, 3])
    doc["summary"] = summarize(doc, reps=50)
    rows = _table_rows(results_markdown(doc))
    assert rows["ppo"].count("[") == 6 and "n = 1" not in rows["ppo"]


def test_compare_rows_carry_their_delivered_step():
    from agents.experiments.compare_report import results_markdown, summarize

    doc = _compare_doc([2, 3])
    doc["summary"] = summarize(doc, reps=50)
    md = results_markdown(doc)
    rows = _table_rows(md)
    assert rows["ppo"].endswith("| 0/2 untouched, 0/2 untouched |")
    assert rows["paper"].endswith("| 2/2, 2/2 |") and rows["original"].endswith("| 0, 0 |")
    assert "**Warning**: rows that did not deliver their last step: `ppo`: untouched" in md


def test_tpe_row_within_its_random_start_up_is_marked_as_random_search():
    from agents.experiments.compare_report import results_markdown, summarize
    from agents.search.blackbox import TPE_STARTUP, model_trials

    # trial k is drawn from the finished groups before it; TPE's model needs TPE_STARTUP
    assert model_trials(TPE_STARTUP, 1, "tpe") == 0
    assert model_trials(TPE_STARTUP + 3, 1, "tpe") == 3
    assert model_trials(TPE_STARTUP + 3, 4, "tpe") == 1  # groups start at 0, 4, 8, 12
    assert model_trials(50, 1, "random") == 0
    doc = _compare_doc([2, 3], tpe_model_trials=0)
    doc["summary"] = summarize(doc, reps=50)
    md = results_markdown(doc)
    rows = _table_rows(md)
    assert "black-box (TPE) (start-up only)" in rows
    assert "random search" in rows and "random search (start-up only)" not in rows
    assert f"were TPE's random start-up trials (the first {TPE_STARTUP})" in md
    doc = _compare_doc([2, 3], tpe_model_trials=3)
    doc["summary"] = summarize(doc, reps=50)
    md = results_markdown(doc)
    assert "black-box (TPE)" in _table_rows(md) and "start-up only" not in md


def test_searches_get_ppos_cpu_seconds_with_a_cpu_budget(tmp_path):
    """--search-budget-unit cpu: each search runs until it has spent what PPO's training
    took in CPU-seconds (its workers included), the crossing trial whole."""
    torch.set_num_threads(1)
    cfg = write_train_config(
        tmp_path, env={"max_steps": 2, "allow_stop": False}, timesteps=8, n_steps=4,
        batch_size=4, n_epochs=1, checkpoint_every=8, eval_every=8, n_envs=2,
    )
    out = tmp_path / "cmp"
    assert main(["compare", "--config", str(cfg), "--eval-seeds", "2", "--rate-grid", "1",
                 "--snn-timesteps", "3", "--reps", "100", "--out", str(out),
                 "--search-budget-unit", "cpu", "--quiet"]) == 0
    doc = json.loads((out / "results.json").read_text())
    ppo = doc["training"]["ppo"]["cpu_seconds"]
    assert ppo > 0
    for name in ("black-box (TPE)", "random search"):
        entry = doc["training"][name]
        assert entry["cpu_seconds"] >= ppo
