"""SCIC: size-constrained iterative clustering of a layer's binary connectivity.

TraNNsformer (Ankit et al., ICCAD 2017 / TCAD 2019) gathers a pruned layer's
connections into dense blocks that each fill one memristive crossbar. For a
mask ``M`` (``n_out x n_in``, rows = output neurons) and crossbar size ``N``:

1. View ``M`` as a bipartite graph of outputs and inputs joined by its
   connections; drop isolated nodes.
2. Split the graph into candidate blocks (outputs x inputs of a group):
   connected components if there are several, else k-means on the
   eigenvectors of the random-walk Laplacian nearest zero (the top singular
   vectors of ``D_r^-1/2 M D_c^-1/2`` rescaled by ``D^-1/2``, i.e. Dhillon's
   bipartite co-clustering).
3. A candidate up to ``4N x 4N`` is first trimmed greedily: drop the row or
   column that most lowers the density until the block fits ``N x N``, avoids
   off-limits cells and has density (quality Q) >= the base quality, then
   shed lines under half that quality (fragments of a neighbouring block).
   If the trim keeps most of what a crossbar could hold it is accepted and
   trimming repeats on the rest; otherwise the candidate is split again
   inside itself, recursively: size is enforced *before* quality, so dense
   blocks are found inside sparse groups.
4. An accepted block grows by outside lines that are themselves >= Q dense in
   it while it has room, so a cluster fills its crossbar; its connections
   leave the graph and its cells become off-limits.
5. Rounds repeat on what is left until one finds nothing.

Deviations from the authors' released code (docs/design.md section 3) and why:

- The size limit is ``n_out <= N`` and ``n_in <= N`` (released: ``n_in + n_out
  <= 2N``, so a "cluster" could need several crossbars at low utilisation):
  every cluster occupies exactly one crossbar. Indices always refer to the
  caller's layer (the released code mixes trimmed and untrimmed positions).
- Blocks are disjoint from each other and from the caller's ``exclude`` cells.
- A cluster must hold ``min_connections`` connections, by default as many as
  an average ``N x N`` tile of the layer (at least ``N``): small dense blocks
  exist in any random mask and would waste a crossbar.
- k-means uses at most ``n_groups`` (5) groups, fewer when fewer crossbars
  span the candidate. A graph is split spectrally only if its second singular
  value clears the bulk edge of a random bipartite graph of its density
  (``sqrt((1-p)/p) (r^-1/2 + c^-1/2)``); without such community structure the
  densest core is peeled by trimming and, if one exists, ``2N x 2N`` tiles of
  the degree-sorted block are trimmed in turn. This keeps random masks cheap
  and still finds the dense core of degree-skewed (trained) layers.
- Spectral splits, recursion depth and rounds are capped, everything runs on
  one thread with seeded solvers: the result is bit-identical on repeat.

Speed: the greedy trimming, k-means and the component labelling are compiled
with numba (:mod:`tnf_env.transform.scic_kernels`, loaded once per process by
:func:`load_kernels`, compiled on a machine's first run); blocks are cut with
``take`` rather than ``np.ix_``. Two choices moved with the compiled code: equal
trimming scores go to the lower index (numpy's ``argpartition`` left ties to its
selection algorithm), and the k-means is the project's, not scikit-learn's (same
algorithm, other random draws). ``benchmarks/bench_clustering.py`` measures time
and quality against the earlier implementation.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgError, eigh, svd
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from threadpoolctl import ThreadpoolController

from hwmodel.clusters import Cluster
from hwmodel.crossbar_circuit import fast_equivalent
from hwmodel.crossbar_size import check_crossbar_size

from .scic_kernels import TOO_FEW, components, kmeans, trim_block


@functools.cache
def _threadpools() -> ThreadpoolController:
    # Inspecting the loaded BLAS/OpenMP libraries costs ~3 ms: do it once per process.
    return ThreadpoolController()


__all__ = ["cluster_quality", "kmeans", "load_kernels", "prune_clusters", "scic", "scic_multi"]

_DENSE_EIG_MAX = 300  # below this (smaller side) a dense Gram eigh beats ARPACK
_TRIM_FACTOR = 4  # greedy trimming is tried on candidates up to 4N x 4N
_KEEP = 0.5  # a trim must keep half of what one crossbar could take, else split
_EDGE_MARGIN = 1.2  # split only if sigma_2 clears the random-graph bulk edge by this
_MAX_DEPTH = 12
_LOCAL_ITERS = 16  # clusters peeled from one candidate before moving on
_MAX_ROUNDS = 64
_MAX_SPLITS = 2000  # spectral splits per call: a hard bound on worst cases


def cluster_quality(mask: np.ndarray, cluster: Cluster) -> float:
    """Quality Q of a cluster: the density of its block in ``mask``.

    :param mask: ``(n_out, n_in)`` connectivity, non-zero = connected.
    :param cluster: the block to measure.
    :return: fraction of the block's cells that are connected.
    """
    return float(np.count_nonzero(cluster.block(mask))) / cluster.size


def prune_clusters(
    clusters: Sequence[Cluster], mask_above_threshold: np.ndarray, fraction: float
) -> list[Cluster]:
    """Cluster pruning (docs/design.md section 3, step 5): drop clusters that hold too
    little of the layer's weight.

    A cluster's score is ``Q x (connections of its block in the mask)`` with Q
    its density in the same mask; clusters scoring ``<= fraction x`` the best
    score of the layer are dropped (so all go when every score is zero).

    :param clusters: the layer's clusters.
    :param mask_above_threshold: ``(n_out, n_in)`` mask of weights above threshold.
    :param fraction: the cluster-pruning fraction f (0.005 upwards in the paper).
    :return: the surviving clusters, in their original order.
    """
    if not clusters:
        return []
    nnz = [np.count_nonzero(c.block(mask_above_threshold)) for c in clusters]
    scores = [k / c.size * k for k, c in zip(nnz, clusters, strict=True)]
    cut = fraction * max(scores)
    return [c for c, s in zip(clusters, scores, strict=True) if s > cut]


class _Scic:
    """State of one SCIC call: the unclustered connections and off-limits cells."""

    def __init__(self, residual, forbidden, n, q, min_conn, n_groups, seed, memo=None,
                 first_only=False):
        self.memo = memo  # split results shared by the quality runs of one scic_multi
        self.residual = residual  # connections not yet in a cluster
        self.forbidden = forbidden  # cells inside a cluster block (ours or the caller's)
        self.n, self.q, self.min_conn = int(n), float(q), min_conn
        self.n_groups, self.seed = int(n_groups), int(seed)
        self.clusters: list[Cluster] = []
        self.splits_left = _MAX_SPLITS
        self.seeded = False  # did the seed reach a solver (eigen start, k-means)?
        self.first_only = first_only  # stop at the first cluster (a probe)

    def strip(self, rows, cols):
        """Drop the rows/cols of a candidate with no residual connection in it."""
        sub = _block(self.residual, rows, cols)
        rk, ck = sub.any(axis=1), sub.any(axis=0)
        return rows[rk], cols[ck], sub.compress(rk, axis=0).compress(ck, axis=1)

    def process(self, rows, cols, depth):
        """Find clusters inside the candidate block ``rows x cols``."""
        n, may_split = self.n, True
        for _ in range(_LOCAL_ITERS):
            rows, cols, sub = self.strip(rows, cols)
            nnz = int(np.count_nonzero(sub))
            if nnz < self.min_conn:
                return
            r, c = sub.shape
            small = r <= _TRIM_FACTOR * n and c <= _TRIM_FACTOR * n
            trimmed = self.trim(rows, cols, sub) if small else None
            if trimmed is not None and trimmed[2] >= _KEEP * min(nnz, n * n):
                self.accept(trimmed[0], trimmed[1])
                continue
            if may_split and depth < _MAX_DEPTH and min(r, c) >= 2 and self.splits_left > 0:
                before = len(self.clusters)
                for rr, cc in self.split(rows, cols, sub):
                    self.process(rr, cc, depth + 1)
                if len(self.clusters) > before:
                    return  # leftovers wait for the next round
                may_split = False  # splitting found nothing: only peel from now on
            if not small:
                # No community structure: density follows the degrees. Peel the
                # densest core; if there is one, sweep crossbar-scale tiles of
                # the degree-sorted block, densest first.
                trimmed = self.trim(rows, cols, sub)
                if trimmed is not None:
                    self.accept(trimmed[0], trimmed[1])
                    self.tile(rows, cols)
                return
            if trimmed is None:
                return
            # Nothing changed since the trim, so it is still valid.
            self.accept(trimmed[0], trimmed[1])

    def tile(self, rows, cols):
        """Trim ``2N x 2N`` tiles of the degree-sorted block, densest first, until
        tiles stop yielding clusters (two misses in a band, or a barren band)."""
        rows, cols, sub = self.strip(rows, cols)
        rows = rows[np.argsort(-sub.sum(axis=1), kind="stable")]
        cols = cols[np.argsort(-sub.sum(axis=0), kind="stable")]
        step = 2 * self.n
        for i in range(0, rows.size, step):
            band_start, misses = len(self.clusters), 0
            for j in range(0, cols.size, step):
                before = len(self.clusters)
                self.process(rows[i : i + step], cols[j : j + step], _MAX_DEPTH)
                misses = 0 if len(self.clusters) > before else misses + 1
                if misses == 2:
                    break
            if len(self.clusters) == band_start:
                return

    def trim(self, rows, cols, sub):
        """Greedily drop lines until the block fits ``N x N``, avoids off-limits
        cells and has density >= q; returns ``(rows, cols, nnz)`` or None."""
        outcome, keep_r, keep_c, nnz = trim_block(
            sub, self.forbidden, rows, cols, self.n, self.q, self.min_conn
        )
        if outcome == TOO_FEW:
            return None
        return rows[keep_r], cols[keep_c], int(nnz)

    def split(self, rows, cols, sub):
        """Groups worth exploring, as ``(rows, cols)`` pairs: the connected
        components, or else the k-means groups of the spectral embedding when
        the graph has community structure (none for a random-looking graph)."""
        self.splits_left -= 1
        key = None
        if self.memo is not None:
            # A split depends only on the block, N, the seed and min_conn, never on the
            # quality: the quality runs of scic_multi, which mostly all fail, share them.
            digest = hashlib.blake2b(np.packbits(sub).tobytes(), digest_size=16).digest()
            key = (rows.tobytes(), cols.tobytes(), sub.shape, digest, self.n, self.seed,
                   self.min_conn, self.n_groups)
            if key in self.memo:
                groups, seeded = self.memo[key]
                self.seeded |= seeded
                return groups
        before, self.seeded = self.seeded, False
        groups = self._split(rows, cols, sub)
        seeded, self.seeded = self.seeded, before or self.seeded
        if key is not None:
            self.memo[key] = (groups, seeded)
        return groups

    def _split(self, rows, cols, sub):
        r, c = sub.shape
        ri, ci = np.nonzero(sub)
        n_lab, labels = components(sub)
        if n_lab == 1:
            emb, sigma2 = self.embed(sub, ri, ci)
            # Bulk edge of a random bipartite graph of this density: singular
            # values of D^-1/2 M D^-1/2 below it are noise, not communities.
            p = ri.size / (r * c)
            if p >= 1.0 or sigma2 < _EDGE_MARGIN * np.sqrt((1 - p) / p) * (r**-0.5 + c**-0.5):
                return []
            n_lab = min(self.n_groups, max(2, math.ceil(max(r, c) / self.n)))
            labels = self.kmeans(emb, n_lab)
        lab_r, lab_c = labels[:r], labels[r:]
        same = lab_r[ri] == lab_c[ci]
        inside = np.bincount(lab_r[ri[same]], minlength=n_lab)
        groups = []
        for g in np.flatnonzero(inside >= self.min_conn):  # others can hold no cluster
            groups.append((rows[lab_r == g], cols[lab_c == g]))
        return groups

    def embed(self, sub, ri, ci):
        """Random-walk Laplacian eigenvectors nearest zero of the bipartite graph
        of the boolean block ``sub`` (connections at ``ri, ci``), one row per node
        (rows first, then columns), and the second singular value of
        ``D_r^-1/2 sub D_c^-1/2`` (the first is 1)."""
        ir = 1.0 / np.sqrt(np.count_nonzero(sub, axis=1).astype(np.float64))
        ic = 1.0 / np.sqrt(np.count_nonzero(sub, axis=0).astype(np.float64))
        m = min(sub.shape)
        dims = min(self.n_groups, m)
        u = None
        if m > _DENSE_EIG_MAX and dims < m - 1:
            # D_r^-1/2 sub D_c^-1/2 from its nonzeros, row-major as CSR keeps them: the
            # values and layout of diags(ir) @ csr(sub) @ diags(ic), without its products.
            sn = sp.csr_matrix((ir[ri] * ic[ci], (ri, ci)), shape=sub.shape)
            self.seeded = True
            v0 = np.random.default_rng(self.seed).uniform(-1.0, 1.0, m)
            with contextlib.suppress(ArpackNoConvergence):  # then the dense path below
                # Loose tol: k-means needs the subspace, not many digits.
                u, sv, vt = _svds(sn, k=dims, tol=1e-3, v0=v0, maxiter=20 * m)
                v = vt.T
        if u is None:
            d = np.zeros(sub.shape)
            d[ri, ci] = ir[ri] * ic[ci]  # D_r^-1/2 sub D_c^-1/2, one rounding per cell
            flip = d.shape[0] > d.shape[1]  # eigen-decompose the smaller Gram matrix
            if flip:
                d = d.T
            g = d @ d.T
            try:
                w, u = eigh(g, subset_by_index=[m - dims, m - 1])
            except LinAlgError:  # LAPACK's syevr rarely fails on degenerate spectra
                w, u = np.linalg.eigh(g)
                w, u = w[m - dims :], u[:, m - dims :]
            sv = np.sqrt(np.clip(w, 0.0, None))
            v = (d.T @ u) / np.maximum(sv, 1e-12)
            if flip:
                u, v = v, u
        sigma2 = np.sort(sv)[-2] if sv.size > 1 else 0.0
        return np.vstack([u * ir[:, None], v * ic[:, None]]), float(sigma2)

    def kmeans(self, emb, k):
        """k-means labels of the embedded nodes (seeded, a few restarts)."""
        self.seeded = True
        return kmeans(emb, k, self.seed)

    def accept(self, rows, cols):
        """Grow the block by dense outside lines while it has room, then claim it."""
        n, q, res, forb = self.n, self.q, self.residual, self.forbidden
        for _ in range(2):
            grown = False
            if rows.size < n:
                rows, g = _grow(res[:, cols], forb[:, cols], rows, n, q)
                grown |= g
            if cols.size < n:
                cols, g = _grow(res[rows].T, forb[rows].T, cols, n, q)
                grown |= g
            if not grown:
                break
        block = np.ix_(rows, cols)
        res[block] = False
        forb[block] = True
        self.clusters.append(Cluster(rows, cols))
        if self.first_only:
            raise _FirstFound


class _FirstFound(Exception):
    """A probe found its first cluster: the run has answered."""


def _svds(a: sp.csr_matrix, k: int, tol: float, v0: np.ndarray, maxiter: int):
    """``scipy.sparse.linalg.svds(a, k, tol=tol, v0=v0, maxiter=maxiter)`` (ARPACK on the
    smaller Gram matrix), step for step, with the Gram matrix's product as two direct
    sparse products: scipy's operator layers cost more than the products they wrap."""
    r, c = a.shape
    tall = r >= c
    at = a.T.conj()  # what svds's adjoint operator multiplies by (CSC)

    def gram(x):
        return at @ (a @ x) if tall else a @ (at @ x)

    op = LinearOperator((min(r, c), min(r, c)), matvec=gram, dtype=a.dtype)
    _, eigvec = eigsh(op, k=k, tol=tol**2, maxiter=maxiter, which="LM", v0=v0)
    eigvec, _ = np.linalg.qr(eigvec)  # as svds: ARPACK's vectors need not be orthonormal
    av = a @ eigvec if tall else at @ eigvec
    u, s, vh = svd(av, full_matrices=False, overwrite_a=True)
    u, s, vh = u[:, ::-1], s[::-1], vh[::-1]
    if tall:
        return u, s, vh @ eigvec.T
    return eigvec @ vh.T, s, u.T


def _block(a, rows, cols):
    """``a[np.ix_(rows, cols)]``, several times faster for boolean blocks."""
    return a.take(rows, axis=0).take(cols, axis=1)


def _grow(res_lines, forb_lines, idx, n, q):
    """Add to ``idx`` the lines (rows of ``res_lines``) with density >= q in the
    block and no off-limits cell, densest first, up to ``n`` lines in all."""
    dens = res_lines.sum(axis=1) / res_lines.shape[1]
    ok = (dens >= q) & ~forb_lines.any(axis=1)
    ok[idx] = False
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        return idx, False
    # Each added line is itself >= q dense, so the block stays >= q dense.
    cand = cand[np.argsort(-dens[cand], kind="stable")[: n - idx.size]]
    return np.union1d(idx, cand), True


@functools.cache
def load_kernels() -> None:
    """Load (or compile, on a machine's first run) the compiled parts of SCIC and of the
    crossbar circuit model: ~1 s once per process, which an environment pays when it is
    built rather than in a step."""
    kmeans(np.arange(8.0).reshape(4, 2), 2, 0)
    scic(np.eye(8, dtype=bool) | np.eye(8, k=1, dtype=bool), 2, min_connections=2)
    for dtype in (np.float32, np.float64):
        fast_equivalent(np.full((1, 2, 2), 1e-5), 1.0, 1.0, dtype=dtype)


def scic(
    mask: np.ndarray,
    crossbar_size: int,
    base_quality: float = 0.7,
    *,
    n_groups: int = 5,
    seed: int = 0,
    max_rounds: int | None = None,
    exclude: np.ndarray | None = None,
    min_connections: int | None = None,
    _memo: dict | None = None,
    _stats: dict | None = None,
    _first_only: bool = False,
) -> list[Cluster]:
    """Cluster a layer's connectivity into dense blocks that each fit one crossbar.

    Every returned cluster has at most ``crossbar_size`` outputs and inputs,
    density >= ``base_quality`` in ``mask``, at least ``min_connections``
    connections, and a block disjoint from every other returned block and from
    the True cells of ``exclude``.

    :param mask: ``(n_out, n_in)`` connectivity, non-zero = connected.
    :param crossbar_size: the crossbar size N.
    :param base_quality: minimum density (quality Q) of a cluster, in (0, 1].
    :param n_groups: eigenvectors and (at most) k-means groups per split (5 in the paper).
    :param seed: seed of the eigen-solver start and of k-means; same seed, same result.
    :param max_rounds: cap on the cluster-and-remove rounds (None: until a round finds
        nothing, at most 64).
    :param exclude: optional ``(n_out, n_in)`` boolean map of cells already owned by
        clusters (a cmap); their connections are ignored and new blocks avoid them.
    :param min_connections: fewest connections a cluster may hold; default: as many as
        an average ``N x N`` tile of the non-excluded layer holds, and at least N.
    :return: the clusters, in the order found.
    """
    m = np.asarray(mask) != 0
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D (n_out, n_in), got shape {m.shape}")
    check_crossbar_size(crossbar_size)
    if not 0.0 < base_quality <= 1.0:
        raise ValueError(f"base_quality must be in (0, 1], got {base_quality}")
    if n_groups < 2:
        raise ValueError(f"n_groups must be >= 2, got {n_groups}")
    if exclude is None:
        forbidden = np.zeros(m.shape, dtype=bool)
    else:
        forbidden = np.array(exclude, dtype=bool)
        if forbidden.shape != m.shape:
            raise ValueError(f"exclude has shape {forbidden.shape}, mask {m.shape}")
    residual = m & ~forbidden
    # By default a cluster must use its crossbar at least as well as the layer's
    # average N x N tile would (and hold one crossbar row's worth).
    free = max(1, forbidden.size - int(np.count_nonzero(forbidden)))
    min_conn = max(crossbar_size, math.ceil(residual.sum() / free * crossbar_size**2))
    if min_connections is not None:
        min_conn = max(1, int(min_connections))
    state = _Scic(
        residual, forbidden, crossbar_size, base_quality, min_conn, n_groups, seed, _memo,
        _first_only,
    )
    rounds = _MAX_ROUNDS if max_rounds is None else int(max_rounds)
    # One thread: BLAS/OpenMP start-up dominates these small problems, and the
    # result must not depend on the core count.
    with _threadpools().limit(limits=1), contextlib.suppress(_FirstFound):
        for _ in range(rounds):
            found = len(state.clusters)
            if np.count_nonzero(state.residual) < min_conn:
                break
            rows = np.flatnonzero(state.residual.any(axis=1))
            cols = np.flatnonzero(state.residual.any(axis=0))
            state.process(rows, cols, 0)
            if len(state.clusters) == found:
                break
    if _stats is not None:
        _stats["runs"] = _stats.get("runs", 0) + 1
        _stats["seeded"] = _stats.get("seeded", False) or state.seeded
    return state.clusters


def scic_multi(
    mask: np.ndarray,
    crossbar_size: int,
    qualities: Sequence[float] = (0.7, 0.6, 0.5, 0.4),
    stats: dict | None = None,
    **kwargs,
) -> list[Cluster]:
    """Reclustering (docs/design.md section 3, step 4): try SCIC at each base quality in
    turn, first non-empty wins.

    :param mask: ``(n_out, n_in)`` connectivity, non-zero = connected.
    :param crossbar_size: the crossbar size N.
    :param qualities: base qualities to try, in order.
    :param kwargs: passed on to :func:`scic` (``seed``, ``exclude``, ...).
    :param stats: if given, ``stats["runs"]`` counts the SCIC runs and ``stats["seeded"]``
        says whether the seed reached a solver (if not, the result holds for any seed).
    :return: the first non-empty cluster list, or ``[]``.

    Most calls of an episode find nothing at any quality. So, with several qualities,
    a probe runs the most permissive (lowest) one first and stops at its first cluster;
    if it finds none the others are not run. A lower quality stops trimming sooner and
    keeps more of each block, so it finds clusters whenever a higher one does -- in
    practice, not by proof: ``benchmarks/bench_clustering.py --probe`` counts the calls
    where it fails (the only calls whose result the probe changes; none in the recorded
    episodes). A split's result is shared through the memo, so the runs' order changes
    no run's clusters.
    """
    memo: dict = {}
    if len(qualities) > 1 and not scic(
        mask, crossbar_size, min(qualities), _memo=memo, _stats=stats, _first_only=True,
        **kwargs,
    ):
        return []
    for q in qualities:
        found = scic(mask, crossbar_size, q, _memo=memo, _stats=stats, **kwargs)
        if found:
            return found
    return []
