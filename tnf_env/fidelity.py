"""Fidelity levels: the same Task, with cheaper retraining and validation.

A level is a named set of values for the knobs below; a knob a user sets
explicitly (not None) wins over its level. ``full`` sets none of them: it is the
episode of the paper, bit for bit. At every level the dense baseline, the start
network, the floor's definition (the baseline's validation accuracy minus the
tolerance, on the validation images the level uses), the cost model and the
observation and action spaces are the same; only retraining and validation get
cheaper, so a level's return is a proxy of the full one whose agreement is
measured (docs/results/fidelity.md), never assumed.

=================  ==========================================================
``epoch_fraction`` share of the retraining images each epoch visits, drawn
                   afresh every epoch (fewer gradient steps of the same
                   minibatch)
``train_images``   the retraining images: a fixed, seeded, class-stratified
                   subset of the training split
``retrain_batch``  retraining's minibatch size
``val_size``       validation images a step is assessed on (the first of the
                   split; the floor is measured on the same images)
=================  ==========================================================

Why ``low`` visits a fresh quarter of the images each epoch and keeps the batch, the
validation images and the images themselves (measured on mnist-10k, the paper's
schedule): a fixed 1,500-image subset at a quarter of the batch (as many gradient
steps) overfits and its four times noisier steps cost 1-3 points of accuracy at once,
so no step met the floor; 1,000 validation images widen the selection margin past what
a pruned network reaches. ``retrain_batch`` and ``train_images`` stay knobs for
experiments.

The loss gate's images (``gate_images``, 1,000 by default) are a setting of their
own at every level: they lie inside ``train_images`` when those are more.

>>> resolve("low", {})["epoch_fraction"]
0.25
>>> resolve("low", {"epoch_fraction": 0.5})["epoch_fraction"]
0.5
>>> resolve("full", {"train_images": 3000})["train_images"]
3000
"""

from __future__ import annotations

from typing import Any

from .settings import provide

#: The knobs a level sets, in the order the docs list them.
KNOBS = ("epoch_fraction", "train_images", "retrain_batch", "val_size")

#: Each level's knob values (a knob not named here keeps its setting's own meaning).
LEVELS: dict[str, dict[str, Any]] = {
    "full": {},
    # A fresh quarter of the training images each epoch (on mnist-10k 1,500 of 6,000: 4 of
    # an epoch's 15 gradient steps), at the same batch (the same gradient noise).
    "low": {"epoch_fraction": 0.25},
    # Half of them (on mnist-10k 8 of 15 gradient steps).
    "medium": {"epoch_fraction": 0.5},
}

FIDELITIES = tuple(LEVELS)


def resolve(level: str, explicit: dict[str, Any]) -> dict[str, Any]:
    """The knob values of ``level`` with the explicitly set ones (not None) over them.

    :param level: a key of :data:`LEVELS`.
    :param explicit: the settings' knob values (None: not set, the level decides).
    :raises ValueError: an unknown level.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown fidelity {level!r}: allowed {', '.join(FIDELITIES)}")
    own = LEVELS[level]
    return {k: explicit.get(k) if explicit.get(k) is not None else own.get(k) for k in KNOBS}


provide(fidelities=FIDELITIES)  # the settings' fidelity: one of these levels
