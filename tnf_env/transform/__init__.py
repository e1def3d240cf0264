"""The TraNNsformer algorithm on one network: prune, cluster, prune clusters, retrain.

:mod:`.transformation` (the steps on one network and their report), :mod:`.clustering`
(SCIC, with its compiled loops in :mod:`.scic_kernels`), :mod:`.step_plan` (one
environment step as one-epoch sub-iterations under a held action, the settle test),
:mod:`.schedule` (the paper's schedule's constants, offline clustering) and
:mod:`.batched` (B transformations retrained as one stacked computation).

Uses :mod:`tnf_env.model` and :mod:`hwmodel`'s clusters; knows nothing of the environment.
"""
