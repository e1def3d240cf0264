"""One check of a crossbar size's form: every part that takes one refuses the same values
with the same line."""

import doctest

import numpy as np
import pytest

import hwmodel.crossbar_size
from hwmodel.cover import band_cover
from hwmodel.crossbar_size import check_crossbar_size
from hwmodel.mapping import map_layer
from tnf_env.actions import ActionCodec, DecodedAction
from tnf_env.transform.clustering import scic

MASK = np.ones((8, 8), bool)


@pytest.mark.parametrize("n,expected", [(16, 16), (np.int64(32), 32), (64.0, 64),
                                        (np.float32(8), 8), (2**60 + 1, 2**60 + 1)])
def test_a_whole_positive_number_is_a_size(n, expected):
    assert check_crossbar_size(n) == expected and type(check_crossbar_size(n)) is int


@pytest.mark.parametrize("n", [0, -3, 2.5, -2.0, True, np.bool_(True), "16", None,
                               float("nan"), float("inf")])
def test_anything_else_is_refused_in_one_line_by_every_part(n):
    message = f"crossbar size must be a positive integer, got {n!r}"
    for take in (check_crossbar_size, lambda n: map_layer(MASK, n, "dense"),
                 lambda n: band_cover(MASK, n), lambda n: scic(MASK, n)):
        with pytest.raises(ValueError) as info:
            take(n)
        assert str(info.value) == message


def test_a_menu_narrows_the_sizes():
    assert check_crossbar_size(32, allowed=(16, 32)) == 32
    with pytest.raises(ValueError, match=r"^crossbar size 64 is not one of \[16, 32\]$"):
        check_crossbar_size(64, allowed=(16, 32))
    codec = ActionCodec(1, (16, 32))
    chip = DecodedAction([0.0], ["none"], [None], [64])
    with pytest.raises(ValueError, match=r"^crossbar size 64 is not one of \[16, 32\]$"):
        codec.encode(chip)
    chip.crossbar_sizes = [32.0]  # a whole float picks its size
    assert codec.decode(codec.encode(chip)).crossbar_sizes == [32]


def test_docstring_examples():
    assert doctest.testmod(hwmodel.crossbar_size).failed == 0
