"""nn.init (statistics and bounds against PyTorch's formulas) and nn.utils (gradient
clipping and flat vectors, number for number against PyTorch)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init
from minigrad.nn import utils as nn_utils

torch = pytest.importorskip("torch")

SHAPES = [(300, 200), (64, 32, 3, 3), (40, 50, 7)]


# --------------------------------------------------------------------------- gains and fans


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", 3), ("selu", None),
])
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 2), (2, 3, 5), (7, 1, 2, 3, 4)])
def test_fans_match_pytorch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(mg.zeros(*shape)) == expected


@pytest.mark.parametrize("fill", [init.xavier_uniform_, init.xavier_normal_,
                                  init.kaiming_uniform_, init.kaiming_normal_])
def test_fan_needs_two_dimensions(fill):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        fill(mg.zeros(5))


def test_kaiming_mode_error():
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of"):
        init.kaiming_uniform_(mg.zeros(3, 3), mode="fan_avg")


# --------------------------------------------------------------------------- random fills


def _fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _check_uniform(values, bound):
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.98 * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert abs(values.mean()) < 0.03 * bound


def _check_normal(values, std):
    assert values.std() == pytest.approx(std, rel=0.03)
    assert abs(values.mean()) < 0.03 * std


@pytest.mark.parametrize("shape", SHAPES)
def test_xavier(shape, device):
    fan_in, fan_out = _fans(shape)
    t = mg.zeros(*shape, device=device)
    assert init.xavier_uniform_(t, gain=2.0) is t
    _check_uniform(t.numpy(), 2.0 * math.sqrt(6.0 / (fan_in + fan_out)))
    init.xavier_normal_(t, gain=0.5)
    _check_normal(t.numpy(), 0.5 * math.sqrt(2.0 / (fan_in + fan_out)))


@pytest.mark.parametrize("a, mode, nonlinearity", [
    (0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
    (0, "fan_out", "relu"), (0.1, "FAN_OUT", "tanh"),
])
@pytest.mark.parametrize("shape", SHAPES)
def test_kaiming(shape, a, mode, nonlinearity, device):
    fan = _fans(shape)[0 if mode.lower() == "fan_in" else 1]
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    t = mg.zeros(*shape, device=device)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(t.numpy(), math.sqrt(3.0) * std)
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(t.numpy(), std)


def test_kaiming_of_an_empty_tensor_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(mg.zeros(0, 3))


def test_uniform_and_normal(device):
    t = mg.zeros(400, 100, dtype=np.float64, device=device)
    values = init.uniform_(t, -2.0, 3.0).numpy()
    assert values.min() >= -2.0 and values.max() < 3.0
    assert values.mean() == pytest.approx(0.5, abs=0.03)
    values = init.normal_(t, 1.5, 0.25).numpy()
    assert values.mean() == pytest.approx(1.5, abs=0.005)
    assert values.std() == pytest.approx(0.25, rel=0.02)


def _truncated_moments(mean, std, a, b):
    """Mean and standard deviation of N(mean, std^2) truncated to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (alpha, beta)]
    mass = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    shift = (pdf[0] - pdf[1]) / mass
    var = 1 + (alpha * pdf[0] - beta * pdf[1]) / mass - shift**2
    return mean + std * shift, std * math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.5),
                                             (0.0, 0.02, -0.04, 0.04), (3.0, 1.0, 0.0, 2.0)])
def test_trunc_normal(mean, std, a, b, device):
    t = mg.zeros(500, 200, dtype=np.float64, device=device)
    values = init.trunc_normal_(t, mean, std, a, b).numpy()
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_std = _truncated_moments(mean, std, a, b)
    assert values.mean() == pytest.approx(expected_mean, abs=0.01 * expected_std)
    assert values.std() == pytest.approx(expected_std, rel=0.01)


def test_trunc_normal_warns_far_from_the_range():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(mg.zeros(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 2, 2, 2)])
def test_orthogonal(shape, device):
    t = mg.zeros(*shape, dtype=np.float64, device=device)
    q = init.orthogonal_(t, gain=1.5).numpy().reshape(shape[0], -1) / 1.5
    small = min(q.shape)
    gram = q @ q.T if q.shape[0] == small else q.T @ q
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(mg.zeros(3))


def test_fills_are_seeded_and_leave_parameters_leaves():
    values = []
    for _ in range(2):
        mg.manual_seed(7)
        w = nn.Parameter(mg.zeros(4, 5))
        init.kaiming_uniform_(w, a=math.sqrt(5))
        assert w.is_leaf and w.requires_grad and w.grad_fn is None
        values.append(w.numpy())
    np.testing.assert_array_equal(values[0], values[1])


def test_generator_argument_must_be_a_generator():
    with pytest.raises(TypeError, match="generator"):
        init.uniform_(mg.zeros(2), generator=object())


# --------------------------------------------------------------------------- deterministic fills


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 5, 3, 3, 3), 1),
                                           ((6, 2, 5), 3)])
def test_dirac_matches_pytorch(shape, groups, device):
    expected = torch.nn.init.dirac_(torch.empty(shape), groups).numpy()
    t = mg.ones(*shape, device=device)
    np.testing.assert_array_equal(init.dirac_(t, groups).numpy(), expected)


def test_deterministic_fills(device):
    t = mg.zeros(3, 5, device=device)
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 5))
    np.testing.assert_array_equal(init.constant_(t, 2.5).numpy(), 2.5)
    np.testing.assert_array_equal(init.ones_(t).numpy(), 1.0)
    np.testing.assert_array_equal(init.zeros_(t).numpy(), 0.0)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(mg.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(mg.zeros(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(mg.zeros(3, 2, 2), groups=2)


# --------------------------------------------------------------------------- clipping


def _grads(lib, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((3, 4)) * 3, rng.standard_normal(5), rng.standard_normal((2,))]
    if lib is torch:
        params = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
        for p, a in zip(params, arrays):
            p.grad = torch.tensor(a)
        params.append(torch.zeros(2, requires_grad=True))  # no gradient: skipped
        return params
    params = [nn.Parameter(mg.zeros(*a.shape, dtype=np.float64)) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = mg.tensor(a)
    params.append(nn.Parameter(mg.zeros(2)))
    return params


@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf"])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    ours, theirs = _grads(mg), _grads(torch)
    total = nn_utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, mg.Tensor) and total.ndim == 0
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-13)
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13)


def test_clip_grad_norm_single_tensor_and_generator():
    p = nn.Parameter(mg.zeros(2, dtype=np.float64))
    p.grad = mg.tensor([3.0, 4.0], dtype=np.float64)
    assert nn_utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
    model = nn.Linear(3, 2)
    assert nn_utils.clip_grad_norm_(model.parameters(), 1.0).item() == 0.0  # no gradients


def test_clip_grad_norm_non_finite():
    p = nn.Parameter(mg.zeros(2, dtype=np.float64))
    p.grad = mg.tensor([math.inf, 1.0], dtype=np.float64)
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        nn_utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isinf(nn_utils.clip_grad_norm_([p], 1.0).item())


def test_clip_grad_value_matches_pytorch():
    ours, theirs = _grads(mg), _grads(torch)
    assert nn_utils.clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).to(device)
    vec = nn_utils.parameters_to_vector(model.parameters())
    assert vec.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    expected = np.concatenate([p.numpy().reshape(-1) for p in model.parameters()])
    np.testing.assert_array_equal(vec.numpy(), expected)
    nn_utils.vector_to_parameters(vec * 2, model.parameters())
    np.testing.assert_array_equal(nn_utils.parameters_to_vector(model.parameters()).numpy(),
                                  2 * expected)
    with pytest.raises(TypeError, match="expected minigrad.Tensor"):
        nn_utils.vector_to_parameters(expected, model.parameters())


def test_parameters_to_vector_is_differentiable():
    w = nn.Parameter(mg.tensor([[1.0, 2.0]]))
    b = nn.Parameter(mg.tensor([3.0]))
    (nn_utils.parameters_to_vector([w, b]) ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[2.0, 4.0]])
    np.testing.assert_allclose(b.grad.numpy(), [6.0])
