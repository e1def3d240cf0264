"""One result for one question: reproduce, benchmark and compare give the same rows, and
the same rows as the per-command loops the study runner replaced."""

import pytest
import torch

from agents.experiments import methods as m
from agents.experiments.benchmark import BenchmarkConfig, run_benchmark
from agents.experiments.episodes import EpisodeRunner, tune
from agents.experiments.reproduce import ReproduceConfig, run_reproduce
from agents.experiments.study import Study, StudyContext
from agents.rl.policies import PaperPolicy, PruningPolicy, RandomPolicy
from tnf_env.model.spiking import SNNSettings

SIZES = (16, 32)
RCFG = ReproduceConfig(dataset="digits", topology="64-32-10", crossbar_sizes=SIZES, seeds=(1,),
                       epochs=6, steps=3, rate_grid=(1.0, 2.0), snn_timesteps=5)


def _reference_rows(seed: int) -> tuple[list[dict], list[dict]]:
    """The rows as ``benchmark`` (with ``offline`` as ``reproduce`` adds it) and ``compare``
    computed them before they shared a study runner: their loops, written out."""
    settings = RCFG.env_settings()
    exp = EpisodeRunner(settings, SNNSettings(timesteps=RCFG.snn_timesteps))
    try:
        rate = RCFG.rate_scale
        grid = [rate * g for g in RCFG.rate_grid]
        pruning = tune(exp, lambda r: exp.transform(PruningPolicy(SIZES[0]), seed, SIZES[0],
                                                    rate_scale=r), grid, seed, SIZES)
        release_pruning = exp.transform(PruningPolicy(SIZES[0]), seed, SIZES[0], max_steps=2,
                                        rate_scale=RCFG.pruning_rate_scale * rate)
        per_size, papers = [], {}
        for n in SIZES:
            papers[n] = tune(exp, lambda r, n=n: exp.transform(PaperPolicy(n), seed, n,
                                                               rate_scale=r), grid, seed, [n])
            candidate = exp.transform(RandomPolicy(seed=1000 * seed), seed, n,
                                      retrain_epochs=float(settings["retrain_epochs"]))
            for name, d, extra in (
                ("original", exp.original(seed), {}),
                ("pruning (release)", release_pruning, {}),
                ("pruning", pruning.chosen[n], {"tuning_epochs": pruning.epochs}),
                ("offline", exp.offline(pruning.chosen[n], seed, n),
                 {"tuning_epochs": pruning.epochs}),
                ("paper (release)", papers[n].runs[rate], {}),
                ("paper", papers[n].chosen[n], {"tuning_epochs": papers[n].epochs}),
                ("random", candidate, {"tuning_epochs": float(candidate.epochs)}),
            ):
                per_size.append(exp.score(d, seed, n, method=name, **extra))

        def best(runs):  # compare: the size of least validation cost
            n = min(runs, key=lambda k: exp.selection_key(runs[k], seed, k))
            return n, runs[n]

        chosen = [("original", SIZES[0], exp.original(seed), {})]
        n, d = best(pruning.chosen)
        chosen.append(("pruning", n, d, {"tuning_epochs": pruning.epochs}))
        release = exp.transform(PruningPolicy(SIZES[0]), seed, SIZES[0])  # compare's release
        chosen.append(("pruning (release)", *best(dict.fromkeys(SIZES, release)), {}))
        n, d = best({k: t.chosen[k] for k, t in papers.items()})
        chosen.append(("paper", n, d, {"tuning_epochs": float(sum(t.epochs
                                                                  for t in papers.values()))}))
        chosen.append(("paper (release)", *best({k: t.runs[rate] for k, t in papers.items()}),
                       {}))
        size_open = [exp.score(d, seed, n, method=name, **extra) for name, n, d, extra in chosen]
        return per_size, size_open
    finally:
        exp.close()


@pytest.fixture(scope="module")
def reference():
    torch.set_num_threads(1)
    return _reference_rows(1)


def test_reproduce_and_benchmark_rows_equal_the_loops_they_replaced(reference):
    torch.set_num_threads(1)
    per_size, _ = reference
    rep = run_reproduce(RCFG, log=lambda s: None).doc
    bcfg = BenchmarkConfig(env=RCFG.env_settings(), seeds=(1,), crossbar_sizes=SIZES,
                           random_candidates=1, rate_grid=(1.0, 2.0), snn_timesteps=5)
    bench = run_benchmark(bcfg, log=lambda s: None)
    assert [r["method"] for r in bench["rows"][:6]] == [
        "original", "pruning (release)", "pruning", "paper (release)", "paper", "random"]
    for doc in (rep, bench):
        for row in doc["rows"]:
            (ref,) = [r for r in per_size
                      if (r["method"], r["crossbar_size"]) == (row["method"], row["crossbar_size"])]
            assert row == ref, (row["method"], row["crossbar_size"])
    assert len(rep["rows"]) == len(SIZES) * 6 and len(bench["rows"]) == len(SIZES) * 6
    # seed s is the baseline's seed and the transformation's
    assert rep["baseline"]["per_seed"][0]["seed"] == 1
    # every method states what it spends
    assert bench["budgets"]["pruning"] == {"runs": 2, "epochs": 6.0, "per_size": False,
                                           "note": "one grid for every size"}


def test_an_open_crossbar_size_keeps_the_size_of_least_validation_cost(reference):
    """compare's rows: one per method and seed, at the size the method keeps."""
    torch.set_num_threads(1)
    _, size_open = reference
    exp = EpisodeRunner({**RCFG.env_settings(), "prune_unit": "paper"}, SNNSettings(timesteps=5))
    lab = StudyContext(exp, SIZES, [RCFG.rate_scale * g for g in RCFG.rate_grid], RCFG.rate_scale,
              RCFG.steps, 2.0)
    methods = [m.Original(), m.PruningTuned(), m.PruningRelease(), m.PaperTuned(),
               m.PaperRelease()]
    try:
        entries = Study(lab, methods, [1], None, log=lambda s: None).run()
    finally:
        lab.close()
    assert entries[0]["rows"] == size_open
