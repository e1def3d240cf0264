"""Pictures and tables of a network's connectivity and clusters.

Rows (outputs) and columns (inputs) are reordered so every cluster's block is
contiguous — clusters first, in order, then the remaining neurons by how many
connections they keep — and each cluster block is outlined: one cluster is one
crossbar (or a few, when it is larger than N).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hwmodel.clusters import Cluster


def cluster_order(mask: np.ndarray, clusters: Sequence[Cluster]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column orders that place each cluster's block contiguously."""
    orders = []
    for axis, attr in ((0, "outputs"), (1, "inputs")):
        seen: list[int] = []
        used = np.zeros(mask.shape[axis], bool)
        for c in clusters:
            idx = [int(i) for i in getattr(c, attr) if not used[i]]
            used[idx] = True
            seen += idx
        rest = np.flatnonzero(~used)
        degree = mask.sum(axis=1 - axis)[rest]
        orders.append(
            np.concatenate([np.asarray(seen, int), rest[np.argsort(-degree, kind="stable")]])
        )
    return orders[0], orders[1]


def _block_spans(order: np.ndarray, idx: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous [start, stop) runs that ``idx`` occupies in ``order``."""
    pos = np.sort(np.flatnonzero(np.isin(order, idx)))
    if pos.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(pos) > 1)
    starts = np.concatenate([[pos[0]], pos[breaks + 1]])
    stops = np.concatenate([pos[breaks] + 1, [pos[-1] + 1]])
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def draw_panel(
    ax, mask: np.ndarray, clusters: Sequence[Cluster], title: str, reorder: bool = True
) -> None:
    """Draw one layer's mask on ``ax``: kept connections dark, each cluster block outlined."""
    from matplotlib.patches import Rectangle

    if reorder:
        rows, cols = cluster_order(mask, clusters)
    else:
        rows, cols = np.arange(mask.shape[0]), np.arange(mask.shape[1])
    ax.imshow(
        mask[np.ix_(rows, cols)],
        cmap="Greys",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        aspect="auto",
    )
    for c in clusters:
        for r0, r1 in _block_spans(rows, c.outputs):
            for c0, c1 in _block_spans(cols, c.inputs):
                ax.add_patch(
                    Rectangle(
                        (c0 - 0.5, r0 - 0.5),
                        c1 - c0,
                        r1 - r0,
                        fill=False,
                        edgecolor="tab:red",
                        linewidth=0.5,
                    )
                )
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_connectivity(
    masks: Sequence[np.ndarray],
    clusters: Sequence[Sequence[Cluster]],
    titles: Sequence[str] | None = None,
    reorder: bool = True,
):
    """A matplotlib figure: one panel per layer, kept connections dark, clusters outlined.

    :param masks: per layer, a boolean (outputs x inputs) mask.
    :param clusters: per layer, its clusters.
    :param titles: per-layer panel titles.
    :param reorder: group each cluster's rows and columns together.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, len(masks), figsize=(4 * len(masks), 4), squeeze=False)
    for i, (ax, mask) in enumerate(zip(axes[0], masks, strict=True)):
        title = titles[i] if titles else f"layer {i}: {mask.shape[0]}x{mask.shape[1]}"
        draw_panel(ax, mask, clusters[i], title, reorder)
    fig.tight_layout()
    return fig


def figure_to_rgb(fig) -> np.ndarray:
    """Render a matplotlib figure to an ``(height, width, 3)`` uint8 array and close it."""
    from matplotlib import pyplot as plt

    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return rgb


def connectivity_rgb(transformation) -> np.ndarray:
    """The environment's ``rgb_array`` frame for a
    :class:`~tnf_env.transform.transformation.Transformation`."""
    tr = transformation
    titles = [
        f"layer {i} N={tr.crossbar_sizes[i]}: {len(tr.clusters[i])} clusters, {100 * s:.0f}% pruned"
        for i, s in enumerate(tr.sparsity())
    ]
    return figure_to_rgb(draw_connectivity(tr.masks(), tr.clusters, titles))


def layer_table(transformation, info: dict[str, Any]) -> str:
    """The environment's ``ansi`` frame: one row per layer, then the totals."""
    tr = transformation
    lines = [
        f"{'layer':>5} {'shape':>11} {'N':>4} {'pruned':>7} {'clusters':>8} "
        f"{'crossbars':>9} {'unclust.':>8}"
    ]
    for i in range(tr.n_layers):
        shape = "x".join(str(d) for d in tr.mask(i).shape)
        lines.append(
            f"{i:>5} {shape:>11} {tr.crossbar_sizes[i]:>4} {100 * tr.sparsity()[i]:>6.1f}% "
            f"{len(tr.clusters[i]):>8} {info['layer_crossbars'][i]:>9} "
            f"{100 * info['unclustered'][i]:>7.1f}%"
        )
    lines.append(
        f"step {info['step']}: accuracy {info['accuracy']:.4f} (floor {info['accuracy_floor']:.4f})"
        f", area {info['area_mm2']:.4f} mm2, energy {info['energy_nj']:.2f} nJ, "
        f"cost {info['cost']:.3f}, crossbars {info['crossbars']}, "
        f"utilisation {info['utilization']:.2f}"
    )
    return "\n".join(lines) + "\n"
