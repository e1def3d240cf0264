"""Datasets by name (:mod:`.datasets`): the bundled digits, MNIST-format files, SVHN and
CIFAR-10, each split into train, validation and test.

Nothing here knows about networks; :mod:`tnf_env.model` trains on what it returns.
"""
