"""Which torch device retraining and evaluation run on.

Every tensor of an episode — data, weights, masks, random generators, the spiking
simulation — lives on one device, so nothing is copied back per batch.

>>> resolve_device("cpu")
device(type='cpu')
"""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("cpu", "cuda", "cuda:<k>", "mps", "auto")


def resolve_device(name: str | torch.device) -> torch.device:
    """The torch device named by ``name``.

    :param name: ``"cpu"``, ``"cuda"``, ``"cuda:<k>"``, ``"mps"`` or ``"auto"`` (CUDA if
        present, else MPS if present, else the CPU).
    :raises ValueError: for another name, or a device this machine does not have.
    """
    if isinstance(name, torch.device):
        name = str(name)
    text = str(name).strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        if not _mps_available():
            raise ValueError("device 'mps' is not available on this machine: use 'cpu' or 'auto'")
        return torch.device("mps")
    if text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {name!r} asked for, but torch sees no CUDA GPU here: use 'cpu' or 'auto'"
            )
        dev = torch.device(text)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) present"
            )
        return dev
    raise ValueError(f"unknown device {name!r}: allowed {', '.join(DEVICE_CHOICES)}")


def generator_on(device: torch.device, seed: int) -> torch.Generator:
    """A seeded random generator on ``device`` (a CPU generator gives the CPU's streams)."""
    return torch.Generator(device=device).manual_seed(int(seed))


def accumulator_dtype(device: torch.device) -> torch.dtype:
    """float64 for sums of many terms, where the device has it (MPS has no float64)."""
    return torch.float32 if device.type == "mps" else torch.float64


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
