"""The fast paths of SCIC compute exactly what the plain scipy/numpy forms compute, and
a futile recluster is skipped without changing the episode."""

from __future__ import annotations

import subprocess
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import svds

from tnf_env.model.network import MaskedMLP
from tnf_env.transform.clustering import _block, _svds, scic, scic_multi
from tnf_env.transform.scic_kernels import components, kmeans
from tnf_env.transform.transformation import Transformation

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "abe78da"  # SCIC before its fast paths


def _blocky(seed: int, shape=(120, 90), blocks=4) -> np.ndarray:
    """A sparse mask made of a few disjoint dense blocks plus noise (several components)."""
    rng = np.random.default_rng(seed)
    m = np.zeros(shape, bool)
    r0 = c0 = 0
    for _ in range(blocks):
        h, w = rng.integers(5, 25), rng.integers(5, 20)
        m[r0 : r0 + h, c0 : c0 + w] = rng.random((h, w)) < 0.8
        r0, c0 = r0 + h, c0 + w
    m |= rng.random(shape) < (0.002 if seed % 2 else 0.0)
    m = m[rng.permutation(shape[0])][:, rng.permutation(shape[1])]
    return m[m.any(axis=1)][:, m.any(axis=0)]


@pytest.mark.parametrize("seed", range(6))
def test_components_label_as_scipy_on_the_bipartite_graph(seed):
    sub = _blocky(seed)
    s = sp.csr_matrix(sub, dtype=np.float64)
    adj = sp.bmat([[None, s], [s.T, None]], format="csr")
    want = connected_components(adj, directed=False)
    got = components(sub)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


def test_block_is_fancy_indexing():
    rng = np.random.default_rng(0)
    a = rng.random((50, 40)) < 0.3
    rows = np.sort(rng.choice(50, 20, replace=False))
    cols = np.sort(rng.choice(40, 7, replace=False))
    np.testing.assert_array_equal(_block(a, rows, cols), a[np.ix_(rows, cols)])


def _reference_module() -> types.ModuleType:
    """The SCIC of the reference commit, loaded from git history (skip without it), with
    the two choices that deliberately changed: the compiled k-means, and ties between
    equal trimming scores going to the lower index (numpy's argpartition left them to
    its selection algorithm)."""
    try:
        src = subprocess.run(
            # the module's path at that commit (it now lives in tnf_env/transform/)
            ["git", "-C", str(ROOT), "show", f"{REFERENCE}:tnf_env/clustering.py"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip(f"needs the git history holding {REFERENCE}")
    module = types.ModuleType("scic_reference")
    exec(compile(src, "scic_reference.py", "exec"), module.__dict__)  # our own history
    batch = module._batch

    def stable_batch(score, *args):
        drop = batch(score, *args)
        return np.argsort(score, kind="stable")[: drop.size]

    module._batch = stable_batch
    module._Scic.kmeans = lambda self, emb, k: kmeans(emb, k, self.seed)
    return module


def _trained_like(seed: int, shape=(300, 200)) -> np.ndarray:
    """Degree-skewed sparse mask, a stand-in for a pruned trained layer."""
    rng = np.random.default_rng(seed)
    p = np.outer(rng.lognormal(0, 1, shape[0]), rng.lognormal(0, 1, shape[1]))
    return rng.random(shape) < np.clip(p * 0.15 / p.mean(), 0, 1)


@pytest.mark.parametrize("n", [16, 32])
def test_clusters_identical_to_the_reference_implementation(n):
    ref = _reference_module()
    rng = np.random.default_rng(n)
    cases = [_trained_like(n), _blocky(n, (300, 240), 8)]
    excl = rng.random(cases[0].shape) < 0.0
    excl[:n, :n] = True  # an existing cluster the new ones must avoid
    for mask, exclude in [(cases[0], None), (cases[1], None), (cases[0], excl)]:
        for multi in (False, True):
            f_new = scic_multi if multi else scic
            f_ref = ref.scic_multi if multi else ref.scic
            got = f_new(mask, n, seed=3, exclude=exclude)
            want = f_ref(mask, n, seed=3, exclude=exclude)
            assert [(c.outputs.tolist(), c.inputs.tolist()) for c in got] == [
                (c.outputs.tolist(), c.inputs.tolist()) for c in want
            ]


def _in_order(mask, n, qualities, **kwargs):
    """Reclustering without the probe: each quality in turn, first non-empty wins."""
    for q in qualities:
        found = scic(mask, n, q, **kwargs)
        if found:
            return found
    return []


def _planted(seed: int, density: float, shape=(160, 128), blocks=5, b=16) -> np.ndarray:
    """Blocks of the given density on 2% noise, rows and columns permuted."""
    rng = np.random.default_rng(seed)
    m = rng.random(shape) < 0.02
    for i in range(blocks):
        m[i * b : (i + 1) * b, i * b : (i + 1) * b] = rng.random((b, b)) < density
    return m[rng.permutation(shape[0])][:, rng.permutation(shape[1])]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_lowest_quality_probe_keeps_the_first_quality_that_finds(seed):
    qualities = (0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
    found_at = set()
    for density in (0.5, 0.42, 0.36, 0.3):
        mask = _planted(seed, density)
        want = _in_order(mask, 16, qualities, seed=seed)
        got = scic_multi(mask, 16, qualities, seed=seed)
        assert [(c.outputs.tolist(), c.inputs.tolist()) for c in got] == [
            (c.outputs.tolist(), c.inputs.tolist()) for c in want
        ]
        found_at.add(next((q for q in qualities if scic(mask, 16, q, seed=seed)), None))
    assert len(found_at) >= 2  # the cases find their clusters at different qualities


def test_stats_count_runs_and_seed_use():
    rng = np.random.default_rng(0)
    sparse = rng.random((64, 64)) < 0.01  # too few connections: no solver runs
    stats: dict = {}
    assert scic_multi(sparse, 8, (0.7, 0.6), stats=stats, seed=1) == []
    assert stats == {"runs": 1, "seeded": False}  # the 0.6 probe found nothing: 0.7 not run
    stats = {}
    scic_multi(_trained_like(1), 16, (0.9, 0.8), stats=stats, seed=1)
    assert stats["runs"] >= 1 and stats["seeded"] is True


def _transformation(mask: np.ndarray) -> Transformation:
    net = MaskedMLP([mask.shape[1], mask.shape[0], 4], seed=0)
    net.set_mask(0, torch.from_numpy(mask))
    x, y = torch.rand(8, mask.shape[1]), torch.randint(0, 4, (8,))
    return Transformation(net, x, y, [8, 8], seed=5, initial_loss=1.0)


def test_a_futile_recluster_on_an_unchanged_mask_is_skipped():
    rng = np.random.default_rng(1)
    tr = _transformation(rng.random((64, 48)) < 0.05)  # scattered: nothing clusters
    assert tr.cluster(0, (0.7, 0.6)) == []
    runs, seed_calls = tr.scic_runs, tr._cluster_calls
    assert runs == 1  # the lowest-quality probe found nothing
    assert tr.cluster(0, (0.7, 0.6)) == []  # same input, seed unused last time: skipped
    assert tr.scic_skipped == 1 and tr.scic_runs == runs
    assert tr._cluster_calls == seed_calls + 1  # later seeds stay where they were
    tr.cluster(0, (0.5,))  # other qualities: run again
    assert tr.scic_runs == runs + 1


def test_a_recluster_whose_seed_mattered_runs_again():
    tr = _transformation(_trained_like(2, (96, 80)))
    tr.cluster(0, (0.99,))  # too strict to accept anything, but k-means ran
    if tr._unclusterable.get(0) is not None:
        pytest.skip("the solver was not reached on this platform")
    before = tr.scic_runs
    tr.cluster(0, (0.99,))
    assert tr.scic_runs == before + 1 and tr.scic_skipped == 0


@pytest.mark.parametrize("shape", [(420, 310), (310, 420)])
def test_compiled_arpack_products_follow_scipy_svds(shape):
    rng = np.random.default_rng(shape[0])
    mask = rng.random(shape) < 0.08
    mask[:, 0] = mask[0, :] = True  # no empty line
    ri, ci = np.nonzero(mask)
    ir, ic = 1 / np.sqrt(mask.sum(axis=1)), 1 / np.sqrt(mask.sum(axis=0))
    a = sp.csr_matrix((ir[ri] * ic[ci], (ri, ci)), shape=shape)
    v0 = rng.uniform(-1.0, 1.0, min(shape))
    want = svds(a, k=5, tol=1e-3, v0=v0, maxiter=20 * min(shape))
    got = _svds(a, 5, 1e-3, v0, 20 * min(shape))
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
