"""TraNNsformer steps and the paper's schedule on a small digits network."""

import numpy as np
import pytest
import torch
from reference_schedule import decide, run_schedule

from hwmodel.clusters import clusters_mask
from tnf_env.data.datasets import load_dataset
from tnf_env.model.baseline import get_baseline
from tnf_env.model.training import TrainingDiverged, TrainingRecipe, to_tensors
from tnf_env.transform.schedule import PaperSchedule, offline_clustering
from tnf_env.transform.transformation import StepDecision, Transformation

RECIPE = TrainingRecipe(batch_size=50, epochs=30)


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    data = load_dataset("digits")
    base = get_baseline(data, "64-48-10", seed=0, recipe=RECIPE)
    xt, yt = to_tensors(data.x_train, data.y_train)
    return base, xt, yt


def _tr(setup, sizes=(16, 16), seed=0):
    base, xt, yt = setup
    return Transformation(base.net, xt, yt, list(sizes), RECIPE, seed=seed)


def test_pruning_only_shrinks_masks(setup):
    tr = _tr(setup)
    before = tr.masks()
    for thr in (0.05, 0.1, 0.2):
        for i in range(tr.n_layers):
            tr.prune(i, thr)
        after = tr.masks()
        for b, a in zip(before, after, strict=True):
            assert not (a & ~b).any()  # nothing outside clusters comes back
        before = after
    assert tr.sparsity()[0] > 0.3
    # a lower threshold does not revive pruned weights
    tr.prune(0, 0.0)
    assert np.array_equal(tr.mask(0), before[0])


def test_clusters_fit_their_crossbars_and_are_kept_whole(setup):
    tr = _tr(setup, sizes=(16, 8))
    for i in range(tr.n_layers):
        tr.prune(i, 0.15)
    new = [tr.cluster(i, (0.7, 0.6, 0.5)) for i in range(tr.n_layers)]
    assert sum(map(len, new)) > 0
    for i, clusters in enumerate(tr.clusters):
        n = tr.crossbar_sizes[i]
        assert all(c.shape[0] <= n and c.shape[1] <= n for c in clusters)
        cmap = clusters_mask(tr.mask(i).shape, clusters)
        assert (tr.mask(i) >= cmap).all()  # the whole block is enabled
    # pruning hard keeps every cluster block; retraining lets block weights regrow
    for i in range(tr.n_layers):
        tr.prune(i, 10.0)
    for i in range(tr.n_layers):
        assert np.array_equal(tr.mask(i), tr.cmap(i))
    tr.retrain(1)
    w = tr.weight(0)[tr.cmap(0)]
    # inputs that are always 0 (digits' blank corner pixels) get no gradient, others regrow
    assert np.count_nonzero(w) >= 0.95 * w.size


def test_cluster_pruning_drops_weak_clusters(setup):
    tr = _tr(setup)
    for i in range(tr.n_layers):
        tr.prune(i, 0.15)
        tr.cluster(i, (0.6,))
    n0 = len(tr.clusters[0])
    assert n0 >= 2
    dropped = tr.prune_clusters(0, 1.0)  # keep only the best-scoring cluster(s)
    assert len(dropped) >= 1 and len(tr.clusters[0]) == n0 - len(dropped)


def test_offline_clustering_does_not_change_weights(setup):
    tr = _tr(setup)
    for i in range(tr.n_layers):
        tr.prune(i, 0.2)
    w = [tr.weight(i).copy() for i in range(tr.n_layers)]
    found = offline_clustering(tr)
    assert found >= 0
    for i in range(tr.n_layers):
        assert np.array_equal(tr.weight(i), w[i])


def test_fixed_schedule_is_deterministic(setup):
    sched = PaperSchedule(epochs=6, rate_scale=20.0)
    runs = []
    for _ in range(2):
        tr = _tr(setup, seed=4)
        run = run_schedule(tr, sched)
        runs.append((tr, run))
    (a, ra), (b, rb) = runs
    assert [r.train_loss for r in ra.reports] == [r.train_loss for r in rb.reports]
    for i in range(a.n_layers):
        assert np.array_equal(a.mask(i), b.mask(i))
        assert [c.to_dict() for c in a.clusters[i]] == [c.to_dict() for c in b.clusters[i]]
    assert sum(len(c) for c in a.clusters) > 0
    assert a.epochs_trained == 6


def test_schedule_decisions_follow_the_paper():
    s = PaperSchedule(epochs=10)
    assert s.first_cluster_iteration == 2 and s.first_cluster_prune_iteration == 8
    assert s.rates(3) == pytest.approx([0.002, 0.002, 0.01])  # (40/10)*0.001*[0.5,0.5,2.5]
    assert decide(s, 0, [], 3).cluster_qualities == [(), (), ()]
    assert decide(s, 2, [], 3).cluster_qualities == [(0.7,)] * 3
    assert decide(PaperSchedule.pruning_only(), 2, [], 3).cluster_qualities == [(), (), ()]


def test_diverging_retraining_raises(setup):
    tr = _tr(setup)
    with torch.no_grad():
        tr.net.layers[0].weight.fill_(float("inf"))
    with pytest.raises(TrainingDiverged):
        tr.iterate(StepDecision(retrain_epochs=0.1, threshold_steps=[0.0, 0.0]))
