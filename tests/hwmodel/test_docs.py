"""The examples in hwmodel's docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["hwmodel", "hwmodel._ragged", "hwmodel.clusters", "hwmodel.mapping", "hwmodel.cost",
           "hwmodel.adc", "hwmodel.routing"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
