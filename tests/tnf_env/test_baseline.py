import multiprocessing as mp

import pytest
import torch

from tnf_env.model.baseline import get_baseline
from tnf_env.model.training import TrainingRecipe

RECIPE = TrainingRecipe(batch_size=50, epochs=5)


def test_cache_roundtrip(blobs, tmp_path):
    a = get_baseline(blobs, "16-20-10", seed=0, recipe=RECIPE, cache_dir=tmp_path)
    b = get_baseline(blobs, "16-20-10", seed=0, recipe=RECIPE, cache_dir=tmp_path)
    assert not a.from_cache and b.from_cache
    assert b.accuracy_test == a.accuracy_test
    for la, lb in zip(a.net.layers, b.net.layers, strict=True):
        assert torch.equal(la.weight, lb.weight)
    assert len(list((tmp_path / "baselines").glob("*.pt"))) == 1


def test_key_changes_with_settings(blobs, tmp_path):
    a = get_baseline(blobs, "16-20-10", seed=0, recipe=RECIPE, cache_dir=tmp_path)
    b = get_baseline(blobs, "16-20-10", seed=1, recipe=RECIPE, cache_dir=tmp_path)
    c = get_baseline(
        blobs,
        "16-20-10",
        seed=0,
        recipe=TrainingRecipe(batch_size=50, epochs=6),
        cache_dir=tmp_path,
    )
    assert len({a.key, b.key, c.key}) == 3 and not (b.from_cache or c.from_cache)


def test_corrupt_entry_is_reported_and_retrained(blobs, tmp_path):
    a = get_baseline(blobs, "16-20-10", seed=0, recipe=RECIPE, cache_dir=tmp_path)
    (entry,) = (tmp_path / "baselines").glob("*.pt")
    entry.write_bytes(entry.read_bytes()[:100])  # truncated by a crash or a full disk
    with pytest.warns(RuntimeWarning, match="corrupt"):
        b = get_baseline(blobs, "16-20-10", seed=0, recipe=RECIPE, cache_dir=tmp_path)
    assert not b.from_cache and b.accuracy_test == a.accuracy_test
    c = get_baseline(blobs, "16-20-10", seed=0, recipe=RECIPE, cache_dir=tmp_path)
    assert c.from_cache


def test_topology_must_fit_dataset(blobs, tmp_path):
    with pytest.raises(ValueError, match="16 inputs and 10 outputs"):
        get_baseline(blobs, "15-20-10", recipe=RECIPE, cache_dir=tmp_path)


def _worker(cache_dir, queue):
    from conftest import make_blobs_dataset

    b = get_baseline(make_blobs_dataset(), "16-20-10", seed=0, recipe=RECIPE, cache_dir=cache_dir)
    queue.put(b.from_cache)


def test_parallel_processes_train_once(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert sorted(queue.get(timeout=5) for _ in procs) == [False, True]
