"""How a network is measured on crossbar hardware and scored.

:mod:`.assessment` (masks, mappings, costs and non-ideal weights, computed once per
network), :mod:`.nonideal` (the effective weights the crossbars of a mapping compute),
:mod:`.selection` (when a network meets the accuracy floor with a margin) and
:mod:`.scoring` (the one path from a network to a result row, for every command).

Uses :mod:`tnf_env.model` and :mod:`hwmodel`; knows nothing of the environment.
"""
