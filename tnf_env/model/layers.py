"""What a weight layer is, as the network builds it and as the crossbars see it.

A :class:`LayerSpec` describes one weight layer: the module that computes it, its weight
tensor and the 2-D matrix (outputs x inputs) that pruning, clustering, the crossbar
mapping, the cost model and the observation work on. The network keeps its weights and
masks in the module's shape and hands every reader the matrix through the description,
so a layer type with another weight shape changes this module, not its readers.

The project's networks have one kind, :class:`DenseLayer` (a bias-free ``nn.Linear``,
whose weight is its matrix). A convolution would be another description: its matrix is
the unrolled (im2col) kernel, ``(out_channels, in_channels * kh * kw)``, applied once per
output position (:attr:`LayerSpec.evaluations`); docs/design.md lists what else it needs.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["DenseLayer", "LayerSpec", "dense_layers"]


class LayerSpec(abc.ABC):
    """One weight layer: its module, its weight's shape and its crossbar matrix."""

    #: the layer type's name, e.g. ``"dense"``
    kind: ClassVar[str]

    @property
    @abc.abstractmethod
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of the module's weight tensor (and of the layer's mask)."""

    @property
    @abc.abstractmethod
    def matrix_shape(self) -> tuple[int, int]:
        """The weight as the crossbars hold it: (outputs, inputs) of one matrix product."""

    @property
    def evaluations(self) -> int:
        """Matrix products per inference (1 for a dense layer; a convolution's positions)."""
        return 1

    @abc.abstractmethod
    def build(self) -> nn.Module:
        """A new module of this layer, bias-free, its weight of :attr:`weight_shape`."""

    @abc.abstractmethod
    def apply(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """The layer's output for input batch ``x`` computed with ``weight`` (masked)."""

    def as_matrix(self, weight: torch.Tensor) -> torch.Tensor:
        """``weight`` (or a mask) of :attr:`weight_shape` as the crossbar matrix (a view)."""
        return weight.reshape(self.matrix_shape)

    def from_matrix(self, matrix: torch.Tensor) -> torch.Tensor:
        """A crossbar ``matrix`` back in :attr:`weight_shape` (a view)."""
        return matrix.reshape(self.weight_shape)


@dataclass(frozen=True)
class DenseLayer(LayerSpec):
    """A fully connected layer, ``y = x W^T``: its weight ``(n_out, n_in)`` is its matrix.

    :param n_in: input features.
    :param n_out: output features (neurons).
    """

    kind: ClassVar[str] = "dense"
    n_in: int
    n_out: int

    def __post_init__(self) -> None:
        if self.n_in < 1 or self.n_out < 1:
            raise ValueError(f"a dense layer needs n_in, n_out >= 1, got {self.n_in}, {self.n_out}")

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.n_out, self.n_in)

    @property
    def matrix_shape(self) -> tuple[int, int]:
        return (self.n_out, self.n_in)

    def build(self) -> nn.Linear:
        return nn.Linear(self.n_in, self.n_out, bias=False)

    def apply(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.linear(x, weight)

    def as_matrix(self, weight: torch.Tensor) -> torch.Tensor:
        return weight  # already (outputs, inputs)

    def from_matrix(self, matrix: torch.Tensor) -> torch.Tensor:
        return matrix


def dense_layers(widths: Sequence[int]) -> tuple[DenseLayer, ...]:
    """The dense layers of an MLP of layer ``widths`` (inputs first).

    :param widths: at least two widths, e.g. ``(784, 1200, 10)``.

    >>> dense_layers((4, 3, 2))
    (DenseLayer(n_in=4, n_out=3), DenseLayer(n_in=3, n_out=2))
    """
    return tuple(DenseLayer(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
