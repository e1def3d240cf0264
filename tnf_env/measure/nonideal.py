"""A network as the crossbars of its mapping compute it: effective weights in torch.

:func:`hwmodel.crossbar_circuit.layer_equivalent_weights` turns each layer's
weights and crossbars into the weights the hardware really applies (wire
resistance, levels, variation, faults of the technology's
:class:`~hwmodel.devices.DeviceModel`); :func:`hardware_net` puts them into a
copy of the network, whose masks become the cells the crossbars hold, so that
the usual :func:`~tnf_env.model.training.evaluate` and the spiking simulation run it
unchanged. :class:`HardwareWeights` caches the per-layer result, so a layer
whose weights and mapping did not change is not recomputed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from hwmodel.crossbar_circuit import layer_equivalent_weights
from hwmodel.devices import DeviceModel
from hwmodel.layer_mapping import LayerMapping

from ..model.network import MaskedMLP


def _key(weights: np.ndarray, mapping: LayerMapping) -> tuple[np.ndarray, ...]:
    """What decides a layer's effective weights besides the seed."""
    parts = (weights, np.array([mapping.crossbar_size]), mapping.mask, mapping.output_ptr,
             mapping.output_idx, mapping.input_ptr, mapping.input_idx)
    return parts if mapping.owner_matrix is None else (*parts, mapping.owner_matrix)


def _same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    # Compared, not hashed: equality stops at the first difference, a hash reads it all.
    return len(a) == len(b) and all(
        x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y)
        for x, y in zip(a, b, strict=True)
    )


class HardwareWeights:
    """Effective weights of a network on a device, cached per layer.

    :param device: cells and wires of the technology.
    :param seed: seeds the device's variation and faults (layer ``l`` uses ``(seed, l)``).
    """

    def __init__(self, device: DeviceModel, seed: int = 0) -> None:
        self.device, self.seed = device, int(seed)
        self._cache: dict[int, tuple[tuple, np.ndarray]] = {}

    def __call__(
        self, net: MaskedMLP, mappings: Sequence[LayerMapping]
    ) -> list[np.ndarray]:
        weights = net.weights_numpy()
        out = []
        for layer, (w, mapping) in enumerate(zip(weights, mappings, strict=True)):
            key = _key(w, mapping)
            hit = self._cache.get(layer)
            if hit is None or not _same(hit[0], key):
                eff = layer_equivalent_weights(
                    w, mapping, self.device, seed=np.random.SeedSequence([self.seed, layer])
                ).astype(np.float32)
                self._cache[layer] = hit = (key, eff)
            out.append(hit[1])
        return out


def hardware_net(
    net: MaskedMLP, weights: Sequence[np.ndarray], into: MaskedMLP | None = None
) -> MaskedMLP:
    """A copy of ``net`` computing with ``weights`` (its masks: where they are non-zero).

    :param into: an earlier result for a network of ``net``'s topology, overwritten in
        place instead of copying ``net`` again (an environment assesses one network per
        step; copying its module each time cost more than writing its weights).
    """
    if (
        into is not None
        and into.layer_specs == net.layer_specs
        and into.layers[0].weight.device == net.layers[0].weight.device
    ):
        hw = into
        hw.dropout, hw.compact = net.dropout, net.compact
        hw.sparse_below, hw.min_saved_cells = net.sparse_below, net.min_saved_cells
    else:
        hw = copy.deepcopy(net)
    if len(weights) != hw.n_layers:
        raise ValueError(f"{len(weights)} weight matrices for {hw.n_layers} layers")
    for i, w in enumerate(weights):
        hw.set_weight_matrix(i, torch.as_tensor(np.asarray(w, dtype=np.float32)))
    hw.eval()
    return hw
