"""The compiled inner loops of SCIC (:mod:`tnf_env.transform.clustering`), with numba.

Each was a Python/numpy loop whose per-iteration overhead was most of a step's
clustering time: the greedy trimming passes, the labelling of a bipartite graph's
connected components and Lloyd's k-means on the small spectral embeddings.
``cache=True`` compiles each once per machine (about 20 s on an idle 2-core CPU)
and loads it in about a second per process afterwards.
"""

from __future__ import annotations

import numba
import numpy as np

GONE = 1e30  # connection count that marks a line trimmed away


TOO_FEW, VALID = 0, 1  # outcomes of trim_passes


@numba.njit(cache=True, nogil=True)
def trim_passes(sub, sub_t, f, f_t, r_conn, c_conn, r_forb, c_forb, size, sums, n, q,
                min_conn, big, has_forb):  # pragma: no cover - compiled; tested through SCIC
    """SCIC's greedy trimming of one candidate block, in place, until the block is
    valid (``VALID``) or too sparse (``TOO_FEW``).

    A pass scores the lines of one side (over N first, else the side with the worst
    line): density when the block is valid but holds lines under ``q / 2``, else
    ``connections - q * length - big * off-limits``. It drops half the excess over N,
    else every clean line under density ``thr`` (at least one, at most a quarter),
    worst first, ties to the lower index; a line with off-limits cells goes alone.
    So trimming takes O(log) passes. Without off-limits cells (``has_forb`` False) their
    counts stay zero and ``f``, ``f_t`` are not read.
    """
    nr, nc = size[0], size[1]
    while sums[0] >= min_conn:  # connections only fall: stop once too few
        valid = nr <= n and nc <= n and sums[1] == 0 and sums[0] >= q * nr * nc
        r_score = np.empty(r_conn.size)
        c_score = np.empty(c_conn.size)
        if valid:
            # Still shed lines under half the quality: they belong to a neighbouring
            # block, whose fragments would waste crossbars.
            for i in range(r_conn.size):
                r_score[i] = r_conn[i] / nc
            for j in range(c_conn.size):
                c_score[j] = c_conn[j] / nr
            if min(r_score.min(), c_score.min()) >= q / 2:
                size[0], size[1] = nr, nc
                return VALID
            rows_side, thr = r_score.min() <= c_score.min(), q / 2
        else:
            # Removing a line changes sum(M - q) over the block by -(conn - q*len).
            with_r, with_c = nr > n or nc <= n, nc > n or nr <= n
            for i in range(r_conn.size):
                r_score[i] = r_conn[i] - q * nc - big * r_forb[i]
            for j in range(c_conn.size):
                c_score[j] = c_conn[j] - q * nr - big * c_forb[j]
            rows_side = not with_c or (with_r and r_score.min() <= c_score.min())
            thr = 0.5 * sums[0] / (nr * nc)
        if rows_side:
            score, conn, forb, length, n_on = r_score, r_conn, r_forb, nc, nr
        else:
            score, conn, forb, length, n_on = c_score, c_conn, c_forb, nr, nc
        if n_on > n:
            k = (n_on - n + 1) // 2
        else:
            k = 1
            if forb[np.argmin(score)] == 0:
                under = 0
                for i in range(conn.size):
                    under += conn[i] / length < thr  # dropped lines are ~GONE dense
                k = max(1, min(under, n_on // 4))
        drop = np.argsort(score, kind="mergesort")[:k]  # stable: ties to the lower index
        for line in drop:
            sums[0] -= conn[line]
            sums[1] -= forb[line]
            if rows_side:
                for j in range(c_conn.size):
                    c_conn[j] -= sub[line, j]
                if has_forb:
                    for j in range(c_conn.size):
                        c_forb[j] -= f[line, j]
            else:
                for i in range(r_conn.size):
                    r_conn[i] -= sub_t[line, i]
                if has_forb:
                    for i in range(r_conn.size):
                        r_forb[i] -= f_t[line, i]
        for line in drop:
            conn[line] = GONE  # removed lines score worst-last from now on
        if rows_side:
            nr -= k
        else:
            nc -= k
    size[0], size[1] = nr, nc
    return TOO_FEW


@numba.njit(cache=True, nogil=True)
def trim_block(sub, forbidden, rows, cols, n, q, min_conn):  # pragma: no cover - compiled
    """:func:`trim_passes` on the candidate ``rows x cols`` whose residual block is
    ``sub``, with its off-limits cells gathered from ``forbidden`` and every count made
    here: ``(outcome, rows kept, cols kept, connections kept)``, where a kept line
    survived trimming and still holds a connection of the trimmed block."""
    nr, nc = sub.shape
    sub_t = np.empty((nc, nr), dtype=np.bool_)
    r_conn, c_conn = np.zeros(nr), np.zeros(nc)
    r_forb, c_forb = np.zeros(nr), np.zeros(nc)
    for i in range(nr):
        line = forbidden[rows[i]]
        for j in range(nc):
            s = sub[i, j]
            sub_t[j, i] = s
            if s:
                r_conn[i] += 1.0
                c_conn[j] += 1.0
            if line[cols[j]]:
                r_forb[i] += 1.0
                c_forb[j] += 1.0
    sums = np.array([r_conn.sum(), r_forb.sum()])  # small integers: exact in float64
    has_forb = sums[1] > 0
    # The off-limits cells of the block, gathered only when it has any (most have none).
    f = np.empty((nr if has_forb else 0, nc), dtype=np.bool_)
    f_t = np.empty((nc if has_forb else 0, nr), dtype=np.bool_)
    if has_forb:
        for i in range(nr):
            line = forbidden[rows[i]]
            for j in range(nc):
                x = line[cols[j]]
                f[i, j], f_t[j, i] = x, x
    size = np.array([nr, nc], dtype=np.int64)
    outcome = trim_passes(sub, sub_t, f, f_t, r_conn, c_conn, r_forb, c_forb, size, sums,
                          n, q, min_conn, float(nr + nc + 1), has_forb)
    # A trimmed line's count is ~GONE; a kept one's counts only the kept lines across.
    keep_r = (r_conn > 0.0) & (r_conn < GONE / 2)
    keep_c = (c_conn > 0.0) & (c_conn < GONE / 2)
    return outcome, keep_r, keep_c, sums[0]


def components(sub: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the bipartite graph of ``sub`` (rows, then columns):
    ``(count, labels)``, numbered in order of each component's first node, exactly as
    scipy's ``connected_components`` numbers them."""
    labels = np.full(sum(sub.shape), -1, dtype=np.int32)
    return _label_components(sub, np.ascontiguousarray(sub.T), labels), labels


@numba.njit(cache=True, nogil=True)
def _label_components(sub, sub_t, labels):  # pragma: no cover - compiled
    r = sub.shape[0]
    stack = np.empty(labels.size, dtype=np.int64)
    count = 0
    for start in range(labels.size):
        if labels[start] >= 0:
            continue
        labels[start], stack[0], top = count, start, 1
        while top:
            top -= 1
            v = stack[top]
            lines = sub[v] if v < r else sub_t[v - r]  # a row's columns, a column's rows
            offset = r if v < r else 0
            for j in range(lines.size):
                if lines[j] and labels[offset + j] < 0:
                    labels[offset + j] = count
                    stack[top] = offset + j
                    top += 1
        count += 1
    return count


def kmeans(
    x: np.ndarray, k: int, seed: int, n_init: int = 3, max_iter: int = 100, tol: float = 1e-4
) -> np.ndarray:
    """Lloyd's k-means, best of ``n_init`` k-means++ starts; the labels of ``x``'s rows.

    scikit-learn's algorithm (greedy k-means++ with ``2 + log k`` trials per centre,
    Lloyd until the labels stop changing or the centres move less than ``tol`` times
    the mean feature variance), compiled: its per-call overhead was most of the time
    on the small embeddings SCIC clusters. The random draws come from ``seed``.

    :param x: ``(n, d)`` points.
    :param k: number of groups (at most ``n``).
    :param seed: seeds the starts; same seed, same labels.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    k = min(int(k), x.shape[0])
    trials = 2 + int(np.log(k))
    rng = np.random.default_rng(seed)
    draws = rng.random((n_init, 1 + (k - 1) * trials))
    scaled_tol = tol * float(np.mean(np.var(x, axis=0)))
    return _kmeans(x, k, draws, trials, max_iter, scaled_tol)


@numba.njit(cache=True, nogil=True, inline="always")
def _d2(a, i, b, j):  # pragma: no cover - compiled
    """Squared distance between row ``i`` of ``a`` and row ``j`` of ``b``."""
    s = 0.0
    for t in range(a.shape[1]):
        diff = a[i, t] - b[j, t]
        s += diff * diff
    return s


@numba.njit(cache=True, nogil=True, inline="always")
def _nearest(x, i, centers):  # pragma: no cover - compiled
    """The centre nearest row ``i`` of ``x`` (the first of equals) and its squared distance."""
    lab, dist = 0, np.inf
    for c in range(centers.shape[0]):
        dc = _d2(x, i, centers, c)
        if dc < dist:
            lab, dist = c, dc
    return lab, dist


@numba.njit(cache=True, nogil=True)
def _kmeans(x, k, draws, trials, max_iter, tol):  # pragma: no cover - compiled
    n, d = x.shape
    best_labels = np.zeros(n, np.int64)
    best_inertia = np.inf
    centers = np.empty((k, d))
    closest = np.empty(n)
    labels = np.empty(n, np.int64)
    for run in range(draws.shape[0]):
        u = draws[run]
        first = min(int(u[0] * n), n - 1)
        centers[0] = x[first]
        for i in range(n):
            closest[i] = _d2(x, i, centers, 0)
        for c in range(1, k):
            cum = np.cumsum(closest)
            best_pot, best_id = np.inf, 0
            for t in range(trials):
                cand = min(np.searchsorted(cum, u[1 + (c - 1) * trials + t] * cum[-1]), n - 1)
                pot = 0.0
                for i in range(n):
                    pot += min(closest[i], _d2(x, i, x, cand))
                if pot < best_pot:
                    best_pot, best_id = pot, cand
            centers[c] = x[best_id]
            for i in range(n):
                closest[i] = min(closest[i], _d2(x, i, centers, c))
        labels[:] = -1
        sums = np.zeros((k, d))
        counts = np.zeros(k)
        for _ in range(max_iter):
            changed = False
            for i in range(n):
                lab, _ = _nearest(x, i, centers)
                changed |= lab != labels[i]
                labels[i] = lab
            sums[:] = 0.0
            counts[:] = 0.0
            for i in range(n):
                counts[labels[i]] += 1
                for t in range(d):
                    sums[labels[i], t] += x[i, t]
            shift = 0.0
            for c in range(k):
                if counts[c] > 0:  # an empty group keeps its centre
                    for t in range(d):
                        new = sums[c, t] / counts[c]
                        shift += (new - centers[c, t]) ** 2
                        centers[c, t] = new
            if not changed or shift <= tol:
                break
        inertia = 0.0  # and the labels of the final centres
        for i in range(n):
            labels[i], dist = _nearest(x, i, centers)
            inertia += dist
        if inertia < best_inertia:
            best_inertia = inertia
            best_labels[:] = labels
    return best_labels
