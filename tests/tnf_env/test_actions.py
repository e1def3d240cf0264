"""The action codec names its components: the array's layout is known in one place."""

import numpy as np
import pytest

from tnf_env.actions import ACTION_GROUPS, ActionCodec, DecodedAction, action_group


@pytest.mark.parametrize("per_layer, stop, subs", [(False, True, 1), (True, False, 5)])
def test_groups_tile_the_action_and_name_every_component(per_layer, stop, subs):
    codec = ActionCodec(3, (16, 32), per_layer_crossbar=per_layer, allow_stop=stop,
                        sub_iterations=subs)
    covered = []
    for g in ACTION_GROUPS:
        k = codec.slots(g)
        covered += list(range(k.start, k.stop))
        assert all(action_group(codec.names()[i]) == g for i in range(k.start, k.stop))
    assert covered == list(range(codec.nvec.size))
    assert codec.slots("crossbar").stop - codec.slots("crossbar").start == (3 if per_layer else 1)
    assert (codec.slots("stop").stop > codec.slots("stop").start) == stop
    with pytest.raises(ValueError, match="no action group"):
        codec.slots("prune0")


def test_with_size_sets_the_chip_and_encode_inverts_decode():
    codec = ActionCodec(2, (16, 32, 64), sub_iterations=3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, codec.nvec)
        assert np.array_equal(codec.encode(codec.decode(a)), a)
        b = codec.with_size(a, 2)
        assert codec.decode(b).crossbar_sizes == [64, 64]
        assert np.array_equal(np.delete(b, codec.slots("crossbar")),
                              np.delete(a, codec.slots("crossbar")))
    one = DecodedAction([1.0, 1.0], ["scic", "none"], [None, 0.015], [32, 32],
                        cluster_onset=2, cluster_prune_onset=1)
    assert codec.decode(codec.encode(one)) == one
    with pytest.raises(ValueError, match="prune value"):
        codec.encode(DecodedAction([1.0], ["none"] * 2, [None] * 2, [16, 16]))
