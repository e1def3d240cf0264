"""tnf_env: datasets, the masked spiking MLP and the TraNNsformer environment.

>>> from tnf_env import load_dataset, get_baseline
>>> data = load_dataset("digits")
>>> data.n_inputs, data.n_classes
(64, 10)
"""

from .baseline import Baseline, get_baseline, train_baseline
from .datasets import DATASETS, Dataset, DatasetError, load_dataset
from .network import MaskedMLP, default_topology, parse_topology
from .spiking import SNNResult, normalization_scales, simulate_snn
from .training import TrainingDiverged, TrainingRecipe, default_recipe

__all__ = [
    "DATASETS",
    "Baseline",
    "Dataset",
    "DatasetError",
    "MaskedMLP",
    "SNNResult",
    "TrainingDiverged",
    "TrainingRecipe",
    "default_recipe",
    "default_topology",
    "get_baseline",
    "load_dataset",
    "normalization_scales",
    "parse_topology",
    "simulate_snn",
    "train_baseline",
]
