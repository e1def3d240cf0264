"""Datasets by name: one record per dataset in a registry (:mod:`.registry`), the
project's records and loading (:mod:`.datasets`: the bundled digits, MNIST-format files,
SVHN and CIFAR-10, each split into train, validation and test) and the file-format
readers (:mod:`.formats`).

Nothing here knows about networks; :mod:`tnf_env.model` trains on what it returns.
"""
