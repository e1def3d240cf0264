"""The network the transformation works on, and how it is trained and run.

:mod:`.network` (the masked, bias-free ReLU MLP), :mod:`.training` (one epoch, evaluation),
:mod:`.baseline` (the dense network, trained once and cached on disk), :mod:`.spiking`
(ANN-to-SNN conversion and simulation), :mod:`.compact` (the live sub-network that
retraining multiplies) and :mod:`.torch_device` (which torch device runs it).

Uses :mod:`tnf_env.data`; a mask is all it knows of pruning, and it knows nothing of
clusters or crossbars.
"""
