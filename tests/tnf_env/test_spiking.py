import numpy as np
import pytest
import torch

from tnf_env.model.baseline import train_baseline
from tnf_env.model.network import MaskedMLP
from tnf_env.model.spiking import encode_inputs, normalization_scales, simulate_snn
from tnf_env.model.training import TrainingRecipe, to_tensors


def test_deterministic_coding_fires_at_the_pixel_rate():
    x = torch.tensor([[0.0, 0.25, 0.5, 1.0]])
    s = encode_inputs(x, 40, "deterministic")
    assert s.shape == (1, 40, 4) and s.dtype == torch.bool
    assert s.sum(1).tolist() == [[0, 10, 20, 40]]


def test_poisson_coding_rate_and_seed():
    x = torch.full((200, 3), 0.3)
    a = encode_inputs(x, 50, "poisson", torch.Generator().manual_seed(0))
    b = encode_inputs(x, 50, "poisson", torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert float(a.float().mean()) == pytest.approx(0.3, abs=0.01)
    with pytest.raises(ValueError, match="coding"):
        encode_inputs(x, 5, "burst")


def test_if_neuron_counts_match_integrate_and_fire_by_hand():
    # One neuron, weight 0.4 after normalisation, input always spiking: with reset by
    # subtraction the membrane goes 0.4, 0.8, 1.2 -> spike (0.2), 0.6, 1.0 -> spike (0.0)...
    net = MaskedMLP((1, 1), seed=0)
    with torch.no_grad():
        net.layers[0].weight.fill_(0.4)
    res = simulate_snn(
        net,
        torch.ones(1, 1),
        torch.zeros(1, dtype=torch.long),
        [1.0],
        10,
        coding="deterministic",
        record=True,
    )
    assert res.input_spikes[0].shape == (1, 10, 1)
    assert res.accuracy == 1.0
    # Spikes of the output layer are not recorded (no next layer), but 10 x 0.4 = 4 spikes.
    assert res.spike_rates == [1.0]


def test_normalisation_scales_use_max_activation():
    net = MaskedMLP((2, 2, 2), seed=0)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        net.layers[1].weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[1.0, 1.0]])
    # layer 0 max activation 2; layer 1 max activation 6 -> scales 2 and 6/2
    assert normalization_scales(net, x, 100.0) == pytest.approx([2.0, 3.0])


def test_converted_snn_tracks_the_ann(blobs):
    base = train_baseline(
        blobs, (16, 32, 10), seed=0, recipe=TrainingRecipe(batch_size=50, epochs=40)
    )
    xt, _ = to_tensors(blobs.x_train, blobs.y_train)
    xs, ys = to_tensors(blobs.x_test, blobs.y_test)
    scales = normalization_scales(base.net, xt, 99.9)
    res = simulate_snn(base.net, xs, ys, scales, timesteps=40, record=True, seed=1)
    assert base.accuracy_test > 0.9
    assert res.accuracy >= base.accuracy_test - 0.1
    assert [r.shape for r in res.input_spikes] == [(xs.shape[0], 40, 16), (xs.shape[0], 40, 32)]
    # recorded rasters agree with the reported mean rates
    assert res.spike_rates[0] == pytest.approx(float(np.mean(res.input_spikes[0])))
    again = simulate_snn(base.net, xs, ys, scales, timesteps=40, seed=1)
    assert again.accuracy == res.accuracy and again.spike_rates == res.spike_rates
