"""The backend contract: a backend that implements only the required primitives runs
every core op, gradient and optimizer; one that leaves a primitive out is refused by name."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.backend import Backend, _factories, _instances, missing_primitives


class MinimalBackend(Backend):
    """NumPy behind exactly the required primitives: no fused kernel, no optional one."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def asarray(self, data, dtype=None):
        return np.array(data, dtype=dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype)

    def ones(self, shape, dtype):
        return np.ones(shape, dtype)

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype)

    def arange(self, start, stop, step, dtype):
        return np.arange(start, stop, step, dtype=dtype)

    def astype(self, x, dtype):
        return np.asarray(x).astype(dtype)

    def copy(self, x):
        return np.array(x)

    def seed(self, seed):
        self.rng = np.random.default_rng(seed)

    def randn(self, shape, dtype):
        return self.rng.standard_normal(shape, dtype=dtype)

    def rand(self, shape, dtype):
        return self.rng.random(shape, dtype=dtype)

    def permutation(self, n):
        return self.rng.permutation(n)

    add, sub, mul, div, pow = np.add, np.subtract, np.multiply, np.true_divide, np.power
    maximum, minimum, neg, exp, log = np.maximum, np.minimum, np.negative, np.exp, np.log
    sqrt, abs, tanh = np.sqrt, np.abs, np.tanh
    lt, le, gt, ge, eq, ne = np.less, np.less_equal, np.greater, np.greater_equal, np.equal, \
        np.not_equal

    def sign(self, x):
        return np.nan_to_num(np.sign(x))

    def where(self, condition, a, b):
        return np.where(condition, a, b)

    def clip(self, x, low, high):
        return np.clip(x, low, high)

    def sum(self, x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)

    def max(self, x, axis=None, keepdims=False):
        return np.max(x, axis=axis, keepdims=keepdims)

    def min(self, x, axis=None, keepdims=False):
        return np.min(x, axis=axis, keepdims=keepdims)

    def argmax(self, x, axis=None, keepdims=False):
        return np.argmax(x, axis=axis, keepdims=keepdims)

    def argmin(self, x, axis=None, keepdims=False):
        return np.argmin(x, axis=axis, keepdims=keepdims)

    def reshape(self, x, shape):
        return np.reshape(x, shape)

    def transpose(self, x, axes=None):
        return np.transpose(x, axes)

    def broadcast_to(self, x, shape):
        return np.broadcast_to(x, shape)

    def getitem(self, x, index):
        return np.asarray(x)[index]

    def setitem(self, x, index, value):
        x[index] = value

    def scatter_add(self, shape, index, values):
        out = np.zeros(shape, values.dtype)
        np.add.at(out, index, values)
        return out

    def concatenate(self, arrays, axis):
        return np.concatenate(arrays, axis=axis)

    def stack(self, arrays, axis):
        return np.stack(arrays, axis=axis)

    def matmul(self, a, b):
        return np.matmul(a, b)


@pytest.fixture
def minimal():
    mg.register_backend("minimal", MinimalBackend)
    yield "minimal"
    _factories.pop("minimal", None)
    _instances.pop("minimal", None)


def test_the_minimal_backend_implements_every_required_primitive():
    assert missing_primitives(MinimalBackend()) == []


def test_a_backend_without_a_primitive_is_refused_by_name():
    class Partial(MinimalBackend):
        matmul = Backend.matmul
        where = Backend.where

    mg.register_backend("partial", Partial)
    try:
        with pytest.raises(TypeError, match="does not implement where, matmul|matmul, where"):
            mg.tensor([1.0], device="partial")
    finally:
        _factories.pop("partial", None)


@pytest.mark.parametrize("fn", [
    lambda x, w: ((x @ w).tanh() * (x @ w).sigmoid()).sum(),
    lambda x, w: (x @ w).relu().amax(dim=1).mean(),
    lambda x, w: F.softmax(x @ w, dim=1)[:, 0].sum() + (x ** 2).var(),
    lambda x, w: F.cross_entropy(x @ w, mg.tensor([0, 2, 1, 2], device=x.device)),
    lambda x, w: mg.maximum(x[:, :3], w[:1]).abs().sqrt().sum(),
    lambda x, w: mg.where(x[:, :3] > 0, x[:, :3], w[0]).exp().log().sum(),
])
def test_core_ops_and_gradients_run_on_the_minimal_backend(minimal, fn):
    rng = np.random.default_rng(1)
    xs, ws = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
    grads = {}
    for device in ("numpy", minimal):
        x = mg.tensor(xs, dtype=mg.float64, device=device, requires_grad=True)
        w = mg.tensor(ws, dtype=mg.float64, device=device, requires_grad=True)
        fn(x, w).backward()
        grads[device] = (x.grad.numpy(), w.grad.numpy())
    for ours, ref in zip(grads[minimal], grads["numpy"]):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    x = mg.tensor(xs, dtype=mg.float64, device=minimal, requires_grad=True)
    assert mg.gradcheck(lambda t: fn(t, mg.tensor(ws, dtype=mg.float64, device=minimal)), (x,))


def test_a_training_step_runs_on_the_minimal_backend(minimal):
    weights = {}
    for device in ("numpy", minimal):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        x = mg.tensor(np.random.default_rng(2).standard_normal((16, 5)), dtype=mg.float32,
                      device=device)
        y = mg.tensor(np.arange(16) % 3, device=device)
        for _ in range(5):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        weights[device] = model.state_dict()
    for key, value in weights["numpy"].items():
        np.testing.assert_allclose(weights[minimal][key], value, rtol=1e-5, atol=1e-6)


def test_an_optional_primitive_says_what_is_missing(minimal):
    with pytest.raises(NotImplementedError, match="'sin'"):
        mg.tensor([1.0], device=minimal).sin()
