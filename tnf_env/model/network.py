"""The bias-free ReLU MLP whose weights TraNNsformer prunes and clusters.

Each weight layer carries a binary mask (outputs x inputs, like its weight).
The forward pass uses ``W * mask`` so pruned weights get no gradient, and
:meth:`MaskedMLP.apply_masks` zeroes them again after every optimiser step so
momentum cannot revive them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, overload

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data.datasets import dataset_spec
from ..validation import parse_topology as parse_topology  # the widths of a topology
from .compact import LivePlan
from .layers import LayerSpec, dense_layers


def default_topology(dataset: str) -> tuple[int, ...]:
    """The network the paper (or this project, for digits) uses on ``dataset``.

    :param dataset: a registered dataset; its record holds the widths.
    :raises ValueError: for an unknown dataset (a ``DatasetError`` naming the known ones).
    """
    return dataset_spec(dataset).topology


def format_topology(widths: Sequence[int]) -> str:
    return "-".join(str(int(w)) for w in widths)


class LinearLayers(nn.ModuleList):
    """An ``nn.ModuleList`` that holds only ``nn.Linear`` layers.

    The same list at run time; its items are typed as ``nn.Linear`` (a plain
    ``ModuleList`` yields ``nn.Module``, whose ``weight`` a type checker cannot see).
    """

    if TYPE_CHECKING:

        @overload
        def __getitem__(self, idx: slice) -> LinearLayers: ...

        @overload
        def __getitem__(self, idx: int) -> nn.Linear: ...

        def __getitem__(self, idx: int | slice) -> nn.Linear | LinearLayers: ...

        def __iter__(self) -> Iterator[nn.Linear]: ...


class MaskedMLP(nn.Module):
    """Bias-free ReLU MLP with a binary mask per weight layer.

    :param topology: layer widths, input first, e.g. ``(784, 1200, 1200, 10)``.
    :param dropout: drop probability of hidden activations while training.
    :param init_scale: weights start uniform in ``[-init_scale, init_scale]``.
    :param seed: seed of the weight initialisation.

    With ``compact`` on (the default) the forward pass runs on the live
    sub-network only (:mod:`tnf_env.model.compact`): same results as the dense masked
    product up to summation order, less work once neurons die.
    >>> net = MaskedMLP((4, 3, 2), seed=0)
    >>> net(torch.ones(5, 4)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        topology: Sequence[int],
        dropout: float = 0.5,
        init_scale: float = 0.01,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.topology = parse_topology(topology)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dropout = float(dropout)
        #: what each weight layer is; every reader of weights and masks goes through it
        self.layer_specs: tuple[LayerSpec, ...] = dense_layers(self.topology)
        gen = torch.Generator().manual_seed(int(seed))
        self.layers = LinearLayers()
        for spec in self.layer_specs:
            self.layers.append(spec.build())
            with torch.no_grad():
                w = torch.rand(*spec.weight_shape, generator=gen) * (2 * init_scale) - init_scale
                self.layers[-1].weight.copy_(w)
        for i, linear in enumerate(self.layers):
            self.register_buffer(f"mask{i}", torch.ones_like(linear.weight))
        self.compact = True  # forward on the live sub-network (False: dense masked products)
        self.sparse_below: float | None = None  # CSR kernel under this density (None: default)
        self.min_saved_cells: int | None = None  # compact when it saves this much (None: default)
        self._live: tuple[tuple, LivePlan] | None = None

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def mask(self, i: int) -> torch.Tensor:
        return getattr(self, f"mask{i}")

    def set_mask(self, i: int, mask: np.ndarray | torch.Tensor) -> None:
        """Replace layer ``i``'s mask and apply it.

        :param i: the weight layer.
        :param mask: 0/1 of the layer's crossbar matrix shape (outputs x inputs).
        """
        m = torch.as_tensor(np.asarray(mask) if not torch.is_tensor(mask) else mask)
        spec = self.layer_specs[i]
        if tuple(m.shape) != spec.matrix_shape:
            raise ValueError(
                f"mask for layer {i} has shape {tuple(m.shape)}, expected {spec.matrix_shape}"
            )
        self.mask(i).copy_(spec.from_matrix(m.to(self.mask(i).dtype) != 0))
        self.apply_masks()

    def weight_matrix(self, i: int) -> np.ndarray:
        """Layer ``i``'s weights (unmasked) as its crossbar matrix, outputs x inputs."""
        return self.layer_specs[i].as_matrix(self.layers[i].weight.detach()).cpu().numpy()

    @torch.no_grad()
    def set_weight_matrix(self, i: int, matrix: torch.Tensor) -> None:
        """Write layer ``i``'s weights from its crossbar ``matrix``; its mask becomes the
        matrix's non-zero cells."""
        spec = self.layer_specs[i]
        self.layers[i].weight.copy_(spec.from_matrix(matrix))
        self.mask(i).copy_(spec.from_matrix((matrix != 0).to(self.mask(i).dtype)))

    @torch.no_grad()
    def apply_masks(self) -> None:
        for i, layer in enumerate(self.layers):
            layer.weight.mul_(self.mask(i))

    def live_plan(self) -> LivePlan:
        """The live sub-network of the current masks (rebuilt only when a mask changes)."""
        masks = [self.mask(i) for i in range(self.n_layers)]
        # A tensor's _version counts its in-place writes: set_mask, load_state_dict and
        # any direct copy_ into a mask all invalidate the plan.
        key: tuple = tuple((m.data_ptr(), m._version, m.dtype) for m in masks)
        key += (self.sparse_below, self.min_saved_cells)
        if self._live is None or self._live[0] != key:
            self._live = (key, LivePlan(masks, self.sparse_below, self.min_saved_cells))
        return self._live[1]

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits for a batch ``x`` of shape ``(batch, inputs)``.

        Dropout is drawn from ``generator`` so training is reproducible
        independently of torch's global random state.
        """
        if self.compact:
            weights = [layer.weight for layer in self.layers]
            return self.live_plan().forward(weights, x, self.dropout, self.training, generator)
        h = x
        last = self.n_layers - 1
        for i, (spec, layer) in enumerate(zip(self.layer_specs, self.layers, strict=True)):
            h = spec.apply(h, layer.weight * self.mask(i))
            if i < last:
                h = F.relu(h)
                if self.training and self.dropout > 0:
                    keep = torch.rand(h.shape, generator=generator, device=h.device) >= self.dropout
                    h = h * keep / (1.0 - self.dropout)
        return h

    @torch.no_grad()
    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output (ReLU for hidden layers, raw for the last), no dropout."""
        outs = []
        h = x
        for i, (spec, layer) in enumerate(zip(self.layer_specs, self.layers, strict=True)):
            h = spec.apply(h, layer.weight * self.mask(i))
            if i < self.n_layers - 1:
                h = F.relu(h)
            outs.append(h)
        return outs

    def weights_numpy(self) -> list[np.ndarray]:
        """Masked weights as float32 numpy crossbar matrices (outputs x inputs)."""
        return [
            spec.as_matrix(layer.weight.detach() * self.mask(i)).cpu().numpy().astype(np.float32)
            for i, (spec, layer) in enumerate(zip(self.layer_specs, self.layers, strict=True))
        ]

    def mask_matrix(self, i: int) -> np.ndarray:
        """Layer ``i``'s mask as a boolean numpy crossbar matrix (outputs x inputs)."""
        return self.layer_specs[i].as_matrix(self.mask(i).detach()).cpu().numpy() != 0

    def masks_numpy(self) -> list[np.ndarray]:
        """Masks as boolean numpy crossbar matrices (outputs x inputs)."""
        return [self.mask_matrix(i) for i in range(self.n_layers)]

    def sparsity(self) -> list[float]:
        """Fraction of each layer's weights that are masked out."""
        return [1.0 - float(self.mask(i).mean()) for i in range(self.n_layers)]
