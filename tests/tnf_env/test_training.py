import math

import pytest
import torch

from tnf_env.model.network import MaskedMLP
from tnf_env.model.training import (
    TrainingDiverged,
    TrainingRecipe,
    default_recipe,
    evaluate,
    make_optimizer,
    random_shift,
    to_tensors,
    train_epoch,
)


def test_recipe_defaults_are_the_papers():
    r = TrainingRecipe()
    assert (r.lr, r.momentum, r.batch_size, r.dropout, r.init_scale) == (0.5, 0.5, 400, 0.5, 0.01)
    assert default_recipe("unknown-name") == r


@pytest.mark.parametrize("field,value", [("lr", 0), ("momentum", 1.0), ("batch_size", 0)])
def test_recipe_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        TrainingRecipe(**{field: value})


def test_training_learns_and_is_deterministic(blobs):
    def run():
        net = MaskedMLP((16, 32, 10), seed=0)
        opt = make_optimizer(net, TrainingRecipe(batch_size=50))
        gen = torch.Generator().manual_seed(0)
        x, y = to_tensors(blobs.x_train, blobs.y_train)
        losses = [train_epoch(net, opt, x, y, 50, gen) for _ in range(40)]
        return net, losses

    net, losses = run()
    net2, losses2 = run()
    assert losses == losses2
    assert losses[-1] < 0.5 * losses[0]
    acc, loss = evaluate(net, *to_tensors(blobs.x_test, blobs.y_test))
    assert acc > 0.9 and math.isfinite(loss)


def test_partial_epoch_visits_a_fraction(blobs):
    net = MaskedMLP((16, 8, 10), seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    x, y = to_tensors(blobs.x_train, blobs.y_train)
    calls = []
    net.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    train_epoch(net, opt, x, y, 10, torch.Generator(), fraction=0.2)
    assert sum(calls) == round(0.2 * x.shape[0])
    with pytest.raises(ValueError, match="fraction"):
        train_epoch(net, opt, x, y, 10, torch.Generator(), fraction=0)


def test_divergence_is_reported(blobs):
    net = MaskedMLP((16, 8, 10), seed=0)
    with torch.no_grad():
        net.layers[0].weight.fill_(float("nan"))
    opt = make_optimizer(net, TrainingRecipe())
    with pytest.raises(TrainingDiverged, match="nan"):
        train_epoch(net, opt, *to_tensors(blobs.x_train, blobs.y_train), 50, torch.Generator())


def test_random_shift_moves_images_and_keeps_mass():
    x = torch.zeros(64, 25)
    x[:, 12] = 1.0  # centre pixel of a 5x5 image
    out = random_shift(x, 1, torch.Generator().manual_seed(0))
    assert torch.all(out.sum(1) == 1)  # a shift of 1 keeps the centre pixel inside
    assert len({int(i) for i in out.argmax(1)}) == 9  # all 9 offsets occur
    with pytest.raises(ValueError, match="square"):
        random_shift(torch.zeros(2, 10), 1, torch.Generator())


def test_random_shift_is_the_per_offset_copy():
    """One gather computes exactly what a copy per offset computes, same random stream."""
    from torch.nn import functional as F

    def per_offset(x, shift, g):
        b, n = x.shape
        side = int(n**0.5)
        padded = F.pad(x.view(b, side, side), (shift,) * 4)
        off = torch.randint(0, 2 * shift + 1, (2, b), generator=g)
        out = torch.empty_like(x).view(b, side, side)
        for dy in range(2 * shift + 1):
            for dx in range(2 * shift + 1):
                sel = (off[0] == dy) & (off[1] == dx)
                out[sel] = padded[sel, dy : dy + side, dx : dx + side]
        return out.view(b, n)

    x = torch.rand(64, 49)
    for shift in (1, 2, 3):
        got = random_shift(x, shift, torch.Generator().manual_seed(shift))
        want = per_offset(x, shift, torch.Generator().manual_seed(shift))
        assert torch.equal(got, want)
