"""The one scoring path: a transformed network in, a result row out.

``reproduce``, ``benchmark``, ``train``'s comparison, ``replay`` and the
environment's ``info`` all score networks here, so their numbers agree. A row
holds the accuracies (validation, test, spiking test), whether the floor is
met, and the hardware under both accountings of :mod:`hwmodel.accounting`
(``paper`` and ``best``), costed with the spikes the spiking network measures
on the test split. When the technology has a device model, the row also holds
the test accuracies of the ReLU and the spiking network on its non-ideal
crossbars (``accuracy_test_hw``, ``accuracy_test_snn_hw``; the ``best``
accounting's mapping, :mod:`tnf_env.measure.nonideal`).

>>> import numpy as np
>>> from hwmodel import get_technology
>>> c = network_cost([np.ones((4, 4), bool)], [4], get_technology("resparc"), "best")
>>> c.n_crossbars
1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hwmodel import Technology
from hwmodel.accounting import ACCOUNTINGS, cost_accounted
from hwmodel.clusters import Cluster
from hwmodel.cost import NetworkCost

from ..model.network import MaskedMLP
from ..model.spiking import SNNSettings, snn_evaluate
from ..model.training import evaluate
from .assessment import Assessment
from .nonideal import HardwareWeights, hardware_net
from .selection import clears_floor


def network_cost(
    masks: Sequence[np.ndarray],
    crossbar_sizes: Sequence[int],
    technology: Technology,
    accounting: str,
    clusters: Sequence[Sequence[Cluster]] | None = None,
    spikes: Sequence[np.ndarray] | None = None,
) -> NetworkCost:
    """Map and cost a network under ``accounting`` (``"paper"`` or ``"best"``)."""
    return cost_accounted(
        list(masks),
        list(crossbar_sizes),
        technology,
        accounting,
        [list(c) for c in clusters] if clusters is not None else None,
        list(spikes) if spikes is not None else None,
    )


@dataclass
class ScoringData:
    """What scoring needs besides the network: splits as tensors and the floors.

    :ivar x_train: training inputs (the spiking conversion normalises on them).
    :ivar floor_val: validation accuracy a network must reach (baseline - tolerance).
    :ivar floor_test: the same on the test split (reported, never used to choose).
    """

    x_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    floor_val: float
    floor_test: float
    snn: SNNSettings = SNNSettings()
    selection_margin: float = 0.0  # k of tnf_env.measure.selection (the row's meets_floor_margin)


def score_network(
    net: MaskedMLP,
    clusters: Sequence[Sequence[Cluster]],
    crossbar_sizes: Sequence[int],
    technology: Technology,
    data: ScoringData,
    snn_seed: int,
    **fields: Any,
) -> dict[str, Any]:
    """One result row for a finished network.

    :param net: the network (its masks are the connectivity).
    :param clusters: per layer its clusters (empty lists for unclustered methods).
    :param crossbar_sizes: N per layer.
    :param data: splits and floors.
    :param snn_seed: seed of the spiking simulation's input coding.
    :param fields: extra entries of the row (method, seed, epochs, ...), written first.
    """
    acc_val = evaluate(net, data.x_val, data.y_val)[0]
    acc_test = evaluate(net, data.x_test, data.y_test)[0]
    snn = snn_evaluate(net, data.x_train, data.x_test, data.y_test, data.snn, seed=snn_seed)
    # Mapped once per accounting under the measured spikes; the non-ideal accuracy below
    # reuses the best accounting's mapping.
    a = Assessment.of(net, clusters, crossbar_sizes, technology)
    masks = a.masks
    nnz = sum(int(m.sum()) for m in masks)
    row: dict[str, Any] = dict(fields)
    row.update(
        accuracy_val=acc_val,
        accuracy_test=acc_test,
        accuracy_test_snn=snn.accuracy,
        meets_floor=bool(acc_val >= data.floor_val),
        meets_floor_margin=clears_floor(
            acc_val, data.floor_val, len(data.y_val), data.selection_margin
        ),
        meets_floor_test=bool(acc_test >= data.floor_test),
        floor_test=float(data.floor_test),
        sparsity=1 - nnz / sum(m.size for m in masks),
        clusters=sum(len(c) for c in clusters),
    )
    for accounting in ACCOUNTINGS:
        cost = a.cost(accounting, snn.input_spikes)
        row[f"area_mm2_{accounting}"] = cost.area_mm2
        row[f"energy_nj_{accounting}"] = cost.energy_nj
        row[f"crossbars_{accounting}"] = cost.n_crossbars
        row[f"utilization_{accounting}"] = cost.utilization
        row[f"lower_bound_{accounting}"] = cost.lower_bound
    if technology.device is not None:
        row.update(hardware_accuracy(net, clusters, crossbar_sizes, technology, data, snn_seed,
                                     snn.input_spikes, assessment=a))
    return row


def hardware_accuracy(
    net: MaskedMLP,
    clusters: Sequence[Sequence[Cluster]],
    crossbar_sizes: Sequence[int],
    technology: Technology,
    data: ScoringData,
    snn_seed: int,
    spikes: Sequence[np.ndarray] | None = None,
    assessment: Assessment | None = None,
) -> dict[str, float]:
    """Test accuracy of the ReLU and of the spiking network on the technology's non-ideal
    crossbars, mapped as the ``best`` accounting maps them (device variation seeded with
    ``snn_seed``).

    :param assessment: ``net``'s assessment, whose mapping is reused if given.
    :raises ValueError: the technology has no device model (its crossbars are ideal).
    """
    if technology.device is None:
        raise ValueError(
            f"technology {technology.name!r} has no device model: hardware accuracy needs "
            "one (a technology with a device: entry, as the presets have)"
        )
    a = assessment or Assessment.of(net, clusters, crossbar_sizes, technology)
    weights = a.hardware_weights(net, HardwareWeights(technology.device, snn_seed), "best", spikes)
    hw = hardware_net(net, weights)
    snn = snn_evaluate(hw, data.x_train, data.x_test, data.y_test, data.snn, seed=snn_seed,
                       record=False)
    return {
        "accuracy_test_hw": evaluate(hw, data.x_test, data.y_test)[0],
        "accuracy_test_snn_hw": snn.accuracy,
    }
