"""Network.from_torch against torch itself, on each kind of model the issue names:
nn.Sequential MLPs, Conv2d, BatchNorm1d/2d in eval mode, Flatten, ReLU, an input
normalisation, and a custom module made of them; LeakyReLU, PReLU (per channel and
scalar) and AvgPool2d. Outputs must equal torch's (up to
float32 rounding: torch computes in float32, relu_regions in float64 from the same
float32 weights). Skipped where torch is not installed, except when
RELU_REGIONS_REQUIRE_TORCH=1 (scripts/test in CI), where a missing torch fails."""

import os

import numpy as np
import pytest

import relu_regions as rr

if os.environ.get("RELU_REGIONS_REQUIRE_TORCH") == "1":
    import torch  # noqa: F401  (a missing torch fails here)
torch = pytest.importorskip("torch")
nn = torch.nn


class Normalize(nn.Module):
    """An input normalisation: (x - mean) / std, constants."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


class Custom(nn.Module):
    """Not a Sequential: layers as attributes, a forward of its own."""

    def __init__(self):
        super().__init__()
        self.norm = Normalize(0.1307, 0.3081)
        self.conv = nn.Conv2d(1, 3, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc1 = nn.Linear(3 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(self.norm(x))))
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


def randomize_batchnorm(module, generator):
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=generator))
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.1)


def models():
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    yield "mlp", nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Linear(20, 20), nn.ReLU(), nn.Linear(20, 3)), (6,)
    yield "batchnorm1d", nn.Sequential(nn.Linear(5, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 2)), (5,)
    yield "conv", nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.ReLU(), nn.Linear(10, 4)), (1, 8, 8)
    yield "conv-batchnorm2d", nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5)), (2, 6, 6)
    yield "normalised", nn.Sequential(Normalize(0.5, 0.25), nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2)), (1, 4, 4)
    yield "custom", Custom(), (1, 8, 8)
    yield "leaky", nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.1), nn.Linear(16, 16), nn.LeakyReLU(), nn.Linear(16, 3)), (4,)
    prelu = nn.Sequential(nn.Conv2d(1, 3, 3), nn.PReLU(3), nn.Flatten(), nn.Linear(3 * 4 * 4, 8), nn.PReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        prelu[1].weight.copy_(torch.tensor([0.05, 0.4, 0.9]))
    yield "prelu", prelu, (1, 6, 6)
    yield "avgpool", nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 3)), (1, 6, 6)
    del g


@pytest.mark.parametrize("name,module,shape", list(models()), ids=[m[0] for m in models()])
def test_outputs_equal_torchs(name, module, shape):
    g = torch.Generator().manual_seed(1)
    randomize_batchnorm(module, g)
    module.train()  # from_torch exports in eval mode and restores the mode
    net = rr.Network.from_torch(module, shape)
    assert module.training
    module.eval()
    x = torch.randn((64, *shape), generator=g)
    with torch.no_grad():
        expected = module(x).numpy().astype(np.float64)
    got = net.eval(x.numpy().reshape(64, -1).astype(np.float64))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert net.input_dim == int(np.prod(shape))
    # The regions are the network's: a count around an input is exact and certified.
    c = net.count(x[0].numpy().reshape(-1), 1e-3, "linf", regions_out=True)
    assert c.exact and c.regions >= 1
    np.testing.assert_array_equal(net.patterns(c.interior_points), c.patterns)


def test_bad_input_shape_is_a_value_error():
    with pytest.raises(ValueError, match="input_shape"):
        rr.Network.from_torch(nn.Sequential(nn.Linear(3, 2)), ())


def test_leaky_from_weights_equals_torch_and_counts_as_its_slice():
    torch.manual_seed(3)
    module = nn.Sequential(nn.Linear(2, 12), nn.LeakyReLU(0.2), nn.Linear(12, 12), nn.LeakyReLU(0.2), nn.Linear(12, 1))
    layers = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in module if isinstance(m, nn.Linear)]
    net = rr.Network.from_weights(layers, negative_slope=0.2)
    assert net.inspect()["activations"] == ["leaky_relu:0.2", "leaky_relu:0.2"]
    x = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    with torch.no_grad():
        expected = module(torch.tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(net.eval(x), expected, rtol=1e-5, atol=1e-5)
    c = net.count(np.zeros(2), 1.0, "linf")
    s = net.slice(np.zeros(2), [1.0, 0.0], [0.0, 1.0], radius=1.0, shape="square")
    assert c.exact and s.exact and c.regions == s.regions
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rr.Network.from_weights(layers, negative_slope=1.5)
    # A PReLU network rebuilt from its weights and slopes is the same network.
    prelu = rr.Network.from_torch(nn.Sequential(nn.Linear(3, 5), nn.PReLU(5), nn.Linear(5, 2)), (3,))
    slopes = prelu.negative_slopes()
    assert len(slopes) == 1 and slopes[0].shape == (5,) and np.all(slopes[0] == np.float32(0.25))
    again = rr.Network.from_weights(prelu.weights(), False, slopes)
    y = np.random.default_rng(1).normal(size=(20, 3))
    np.testing.assert_array_equal(again.eval(y), prelu.eval(y))
