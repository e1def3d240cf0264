"""The network the transformation works on, and how it is trained and run.

:mod:`.layers` (what a weight layer is, and the 2-D matrix its weight becomes),
:mod:`.network` (the masked, bias-free ReLU MLP), :mod:`.training` (one epoch, evaluation),
:mod:`.baseline` (the dense network, trained once and cached on disk), :mod:`.spiking`
(ANN-to-SNN conversion and simulation), :mod:`.compact` (the live sub-network that
retraining multiplies), :mod:`.compact_sgd` (momentum SGD kept on it for a whole
retraining call) and :mod:`.torch_device` (which torch device runs it).

Uses :mod:`tnf_env.data`; a mask is all it knows of pruning, and it knows nothing of
clusters or of crossbars beyond each layer's weight matrix.
"""

# Simulation length T of the spiking network, in 1 ms steps (Diehl et al.'s 35 ms): the
# setting's default, named with the settings (free of torch, for the command line's flags).
from ..settings import SNN_TIMESTEPS

__all__ = ["SNN_TIMESTEPS"]
