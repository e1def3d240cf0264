"""The live sub-network: the part of a masked MLP that can still change its output.

Late in a transformation most weights are masked and whole inputs and neurons
are dead. In a bias-free ReLU network a hidden neuron with no incoming
connection always outputs 0 and one with no outgoing connection feeds nothing,
so both can be left out of every matrix product (and removing one can strand
another: the rule runs to a fixpoint). :class:`LivePlan` gathers the live rows
and columns of each weight matrix once per mask change, and its forward pass
multiplies only those. Gradients flow back into the full weight tensors through
the gather, so the optimiser, pruning and snapshots see the usual full
matrices; dead connections get the exact zero gradient the dense pass gives.

Very sparse live blocks use a CSR kernel (:class:`_SparseLinear`) where it is
faster (``benchmarks/bench_compact.py`` measures the crossover). Dropout is
drawn for the full layer width and then gathered, so the random streams, and
hence the results, match the dense masked computation up to floating-point
summation order (``tests/tnf_env/test_compact.py`` checks it in float64).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch.nn import functional as F

#: Below this density (kept / cells of the live block) a layer uses the CSR kernel,
#: per device type. CPU: under the crossover that benchmarks/bench_compact.py (random
#: masks; batch 400, one thread, AVX-512 MKL: CSR/dense 0.75-0.85 at 20% on 1200x1200 and
#: 600x600 layers, 0.93-1.04 at 25%) and benchmarks/bench_products.py (an mnist-10k
#: episode's own masks: 0.64-0.76 at 15-20% on the hidden layer) measure. An earlier
#: processor put it nearer 15%: 20% keeps the slower side small there. Other devices stay
#: dense until measured.
SPARSE_BELOW = {"cpu": 0.2}
#: The same for the first layer, whose input needs no gradient (the CSR backward then
#: skips its costlier half): bench_products.py measured 0.77-0.84 at 24-26% density on
#: mnist-10k's first layer and 0.97 at 31%.
SPARSE_BELOW_FIRST = {"cpu": 0.25}

#: Gathers and the CSR kernel cost a few extra operations per batch: a network
#: compacts only when that saves at least this many multiply-adds per sample, and a
#: layer uses CSR only when it has this many cells (bench_env: compacting digits'
#: 64-256-256-10, 84k cells in all, made its episode 1.4x slower).
MIN_SAVED_CELLS = 100_000


# The CSR kernels used here (sparse.mm, sampled_addmm) are stable; torch flags the layout
# itself as beta on every first use.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def live_indices(masks: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per neuron layer (inputs, hidden..., outputs), a boolean vector of live neurons.

    Hidden neurons are live when they have an incoming connection from a live
    neuron and an outgoing one to a live neuron, to a fixpoint; inputs when they
    feed a live neuron; outputs always (the logits are all needed).
    """
    # Connection counts as matrix-vector products of 0/1 matrices (exact in float32 up to
    # 2^24 inputs): three times faster than masking whole matrices in every round.
    nz = [(m != 0).to(torch.float32) for m in masks]
    live = [torch.ones(nz[0].shape[1], dtype=torch.bool, device=nz[0].device)]
    live += [torch.ones(m.shape[0], dtype=torch.bool, device=m.device) for m in nz]

    def reaches(matrix: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
        return torch.mv(matrix, alive.to(torch.float32)) > 0

    changed = True
    while changed:
        changed = False
        for i in range(1, len(nz)):  # hidden layer i: outputs of weight layer i - 1
            fed = reaches(nz[i - 1], live[i - 1])
            used = reaches(nz[i].t(), live[i + 1])
            new = live[i] & fed & used
            if not torch.equal(new, live[i]):
                live[i], changed = new, True
    live[0] = reaches(nz[0].t(), live[1])
    return live


class _SparseLinear(torch.autograd.Function):
    """``x @ W.T`` for a CSR ``W`` whose structure is fixed and values are differentiable."""

    @staticmethod
    def forward(ctx, x, values, layout):  # noqa: D102
        w = torch.sparse_csr_tensor(
            layout.crow, layout.col, values, layout.shape, check_invariants=False
        )
        ctx.save_for_backward(x, values)
        ctx.layout = layout
        return torch.sparse.mm(w, x.t()).t()

    @staticmethod
    def backward(ctx, grad_out):  # noqa: D102
        x, values = ctx.saved_tensors
        lay = ctx.layout
        grad_x = grad_values = None
        if ctx.needs_input_grad[0]:
            wt = torch.sparse_csr_tensor(
                lay.crow_t, lay.col_t, values[lay.perm_t], (lay.shape[1], lay.shape[0]),
                check_invariants=False,
            )
            grad_x = torch.sparse.mm(wt, grad_out.t()).t()
        if ctx.needs_input_grad[1]:
            pattern = torch.sparse_csr_tensor(
                lay.crow, lay.col, values, lay.shape, check_invariants=False
            )
            sampled = torch.sparse.sampled_addmm(
                pattern, grad_out.t().contiguous(), x.contiguous(), beta=0.0
            )
            grad_values = sampled.values()
        return grad_x, grad_values, None


@dataclass
class _CSRLayout:
    crow: torch.Tensor
    col: torch.Tensor
    flat: torch.Tensor  # positions of the kept cells in the full weight, row-major
    crow_t: torch.Tensor
    col_t: torch.Tensor
    perm_t: torch.Tensor  # CSR value order of W.T, as indices into the values of W
    shape: tuple[int, int]


@dataclass
class _Layer:
    rows: torch.Tensor | None  # live outputs (None: all)
    cols: torch.Tensor | None  # live inputs (None: all)
    mask: torch.Tensor | None  # the gathered mask (dense kernel)
    csr: _CSRLayout | None  # set when the layer uses the CSR kernel
    flat: torch.Tensor | None = None  # cached flat_indices of a gathered dense block


def _csr_layout(mask: torch.Tensor, rows, cols, full_in: int) -> _CSRLayout:
    r, c = torch.nonzero(mask, as_tuple=True)  # row-major, within the live block
    n_out, n_in = mask.shape
    g_rows = rows[r] if rows is not None else r
    g_cols = cols[c] if cols is not None else c
    crow = torch.zeros(n_out + 1, dtype=torch.int64, device=mask.device)
    crow[1:] = torch.cumsum(torch.bincount(r, minlength=n_out), 0)
    perm_t = torch.argsort(c * n_out + r)
    crow_t = torch.zeros(n_in + 1, dtype=torch.int64, device=mask.device)
    crow_t[1:] = torch.cumsum(torch.bincount(c, minlength=n_in), 0)
    return _CSRLayout(crow, c, g_rows * full_in + g_cols, crow_t, r[perm_t], perm_t,
                      (n_out, n_in))


class LivePlan:
    """How to run a :class:`~tnf_env.model.network.MaskedMLP` on its live sub-network.

    :param masks: the network's masks (on its device), in forward order.
    :param sparse_below: density under which a layer uses the CSR kernel (None: the
        device's defaults, :data:`SPARSE_BELOW_FIRST` for the first layer and
        :data:`SPARSE_BELOW` for the others; 0 never).
    :param min_saved_cells: compact only when that drops at least this many cells, and
        use CSR only on layers of at least this many cells (default :data:`MIN_SAVED_CELLS`).
    """

    def __init__(
        self,
        masks: list[torch.Tensor],
        sparse_below: float | None = None,
        min_saved_cells: int | None = None,
    ) -> None:
        device = masks[0].device
        if sparse_below is None:
            below = [SPARSE_BELOW.get(device.type, 0.0)] * len(masks)
            below[0] = SPARSE_BELOW_FIRST.get(device.type, below[0])
        else:
            below = [sparse_below] * len(masks)
        if min_saved_cells is None:
            min_saved_cells = MIN_SAVED_CELLS
        if sum(m.numel() for m in masks) < min_saved_cells:
            # Too small to ever save that much: skip the (costly) fixpoint.
            live = [torch.ones(masks[0].shape[1], dtype=torch.bool, device=device)]
            live += [torch.ones(m.shape[0], dtype=torch.bool, device=device) for m in masks]
        else:
            live = live_indices(masks)
        self.widths = [int(v.numel()) for v in live]
        counts = [int(v.sum()) for v in live]
        saved = sum(m.numel() - counts[i] * counts[i + 1] for i, m in enumerate(masks))
        if saved < min_saved_cells:  # not worth the gathers: the plain masked layers
            live = [torch.ones_like(v) for v in live]
        idx = [None if bool(v.all()) else torch.nonzero(v).flatten() for v in live]
        self.inputs = idx[0]
        self.hidden = idx[1:-1]
        self.layers: list[_Layer] = []
        for i, m in enumerate(masks):
            rows, cols = idx[i + 1], idx[i]
            sub = m
            if rows is not None:
                sub = sub.index_select(0, rows)
            if cols is not None:
                sub = sub.index_select(1, cols)
            sub = sub != 0
            cells = sub.numel()
            density = float(sub.sum()) / cells if cells else 1.0
            big = m.numel() >= min_saved_cells
            if cells and big and density < below[i] and device.type in ("cpu", "cuda"):
                self.layers.append(_Layer(rows, cols, None,
                                          _csr_layout(sub, rows, cols, m.shape[1])))
            else:
                self.layers.append(_Layer(rows, cols, sub.to(masks[i].dtype), None))

    @property
    def kernels(self) -> list[str]:
        """Per layer ``"csr"`` or ``"dense"`` (for benchmarks and tests)."""
        return ["csr" if lay.csr is not None else "dense" for lay in self.layers]

    def gather(self, weights: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per layer the part of the full weight the forward pass multiplies: the live
        block (dense kernel) or the kept values in CSR order (CSR kernel)."""
        out = []
        for lay, w in zip(self.layers, weights, strict=True):
            if lay.csr is not None:
                out.append(w.reshape(-1).index_select(0, lay.csr.flat))
            else:
                if lay.rows is not None:
                    w = w.index_select(0, lay.rows)
                if lay.cols is not None:
                    w = w.index_select(1, lay.cols)
                out.append(w)
        return out

    def gathers(self, i: int) -> bool:
        """Whether layer ``i``'s :meth:`gather` is a copy (False: the full weight itself)."""
        lay = self.layers[i]
        return lay.csr is not None or lay.rows is not None or lay.cols is not None

    def flat_indices(self, i: int, n_in: int) -> torch.Tensor:
        """Positions in the row-major full weight (``n_in`` columns) of layer ``i``'s
        gathered cells, in :meth:`gather`'s order."""
        lay = self.layers[i]
        if lay.csr is not None:
            return lay.csr.flat
        if lay.flat is None:
            n_out = self.widths[i + 1]
            assert lay.mask is not None  # a layer without the CSR kernel has its dense mask
            dev = lay.mask.device
            rows = lay.rows if lay.rows is not None else torch.arange(n_out, device=dev)
            cols = lay.cols if lay.cols is not None else torch.arange(n_in, device=dev)
            lay.flat = (rows[:, None] * n_in + cols[None, :]).reshape(-1)
        return lay.flat

    def forward(
        self,
        weights: list[torch.Tensor],
        x: torch.Tensor,
        dropout: float,
        training: bool,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Logits of the full network (every output), computed on the live part."""
        return self.forward_gathered(self.gather(weights), x, dropout, training, generator)

    def forward_gathered(
        self,
        gathered: list[torch.Tensor],
        x: torch.Tensor,
        dropout: float,
        training: bool,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """:meth:`forward` on weights already :meth:`gather`-ed."""
        h = x if self.inputs is None else x.index_select(1, self.inputs)
        last = len(self.layers) - 1
        for i, (lay, w) in enumerate(zip(self.layers, gathered, strict=True)):
            if lay.mask is None:  # the CSR kernel (a layer has either a mask or a layout)
                h = _SparseLinear.apply(h.contiguous(), w, lay.csr)
            else:
                h = F.linear(h, w * lay.mask)
            if i < last:
                h = F.relu(h)
                if training and dropout > 0:
                    # Drawn at full width, as the dense pass draws it, then gathered.
                    full = (h.shape[0], self.widths[i + 1])
                    keep = torch.rand(full, generator=generator, device=h.device) >= dropout
                    if lay.rows is not None:
                        keep = keep.index_select(1, lay.rows)
                    h = h * keep / (1.0 - dropout)
        if self.layers[-1].rows is not None:  # outputs are always all live
            raise AssertionError("output neurons are never compacted away")
        return h
