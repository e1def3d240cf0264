"""One result for one question: reproduce and benchmark give the same rows."""

import torch

from agents.benchmark import BenchmarkConfig, run_benchmark
from agents.reproduce import ReproduceConfig, run_reproduce


def test_reproduce_and_benchmark_produce_the_same_row():
    torch.set_num_threads(1)
    rcfg = ReproduceConfig(
        dataset="digits",
        topology="64-32-10",
        crossbar_sizes=(16,),
        seeds=(1,),
        epochs=6,
        steps=3,
        rate_grid=(1.0, 2.0),
        snn_timesteps=5,
    )
    rep = run_reproduce(rcfg, log=lambda s: None).doc
    bcfg = BenchmarkConfig(
        env=rcfg.env_settings(),
        seeds=(1,),
        crossbar_sizes=(16,),
        random_candidates=1,
        rate_grid=(1.0, 2.0),
        snn_timesteps=5,
    )
    bench = run_benchmark(bcfg, log=lambda s: None)
    shared = ("original", "pruning (release)", "pruning", "paper (release)", "paper")
    for method in shared:
        (a,) = [r for r in rep["rows"] if r["method"] == method]
        (b,) = [r for r in bench["rows"] if r["method"] == method]
        assert a == b, method
    # seed s is the baseline's seed and the transformation's
    assert rep["baseline"]["per_seed"][0]["seed"] == 1
