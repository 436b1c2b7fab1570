"""The numba backend's own parts: fused kernels, zero-copy moves, compile-time accounting.
(The rest of the suite runs on numba through the ``device`` fixture.)"""

import importlib.util

import numpy as np
import pytest

import minigrad as mg
from minigrad import optimizer_kernels as updates

numba = pytest.importorskip("numba")
from minigrad.backends import numba_kernels  # noqa: E402

SIZES = [7, 1003]


@pytest.fixture(params=["serial", "parallel"])
def build(request, monkeypatch):
    """Run every kernel as its serial or as its parallel build, whatever the size."""
    threshold = 0 if request.param == "parallel" else 1 << 62
    monkeypatch.setattr(numba_kernels, "PARALLEL_MIN", threshold)
    monkeypatch.setattr(mg.get_backend("numba").kernels, "parallel_min", {})
    return request.param


def _arrays(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(2)] + [
        np.abs(rng.standard_normal(n)).astype(dtype) for _ in range(3)]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("decoupled, amsgrad, weight_decay",
                         [(False, False, 0.0), (False, True, 0.1), (True, False, 0.01)])
def test_adam_kernel_matches_the_default(build, n, dtype, decoupled, amsgrad, weight_decay):
    options = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay,
                   decoupled=decoupled, amsgrad=amsgrad)
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    param, grad, m, v, vmax = _arrays(n, dtype)
    state_a = [param.copy(), m.copy(), v.copy(), vmax.copy() if amsgrad else None]
    state_b = [param.copy(), m.copy(), v.copy(), vmax.copy() if amsgrad else None]
    for step in range(1, 4):
        nb.adam_update(state_a[0], grad, *state_a[1:], step=step, **options)
        updates.adam_update(ref, state_b[0], grad, *state_b[1:], step=step, **options)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for x, y in zip(state_a, state_b):
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("momentum, dampening, nesterov, weight_decay",
                         [(0.0, 0.0, False, 0.0), (0.9, 0.0, True, 0.01), (0.9, 0.2, False, 0.0)])
def test_sgd_kernel_matches_the_default(build, n, momentum, dampening, nesterov, weight_decay):
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    param, grad, *_ = _arrays(n, np.float32)
    a, b = param.copy(), param.copy()
    buf_a = buf_b = None
    options = dict(lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov,
                   weight_decay=weight_decay)
    for _ in range(3):
        buf_a = nb.sgd_update(a, grad, buf_a, **options)
        buf_b = updates.sgd_update(ref, b, grad, buf_b, **options)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert (buf_a is None) == (buf_b is None) == (momentum == 0)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("momentum, centered, weight_decay",
                         [(0.0, False, 0.0), (0.5, True, 0.01), (0.0, True, 0.0)])
def test_rmsprop_kernel_matches_the_default(build, n, momentum, centered, weight_decay):
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    param, grad, *_ = _arrays(n, np.float32)
    states = [[param.copy(), np.zeros(n, np.float32),
               np.zeros(n, np.float32) if centered else None,
               np.zeros(n, np.float32) if momentum else None] for _ in range(2)]
    options = dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=weight_decay,
                   momentum=momentum, centered=centered)
    for _ in range(3):
        nb.rmsprop_update(states[0][0], grad, *states[0][1:], **options)
        updates.rmsprop_update(ref, states[1][0], grad, *states[1][1:], **options)
    for x, y in zip(*states):
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-7)


def test_non_contiguous_parameters_fall_back_to_the_default():
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    base = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    grad = np.ones((4, 6), np.float32)
    a, b = base.copy().T, base.copy().T
    for p in (a, b):
        assert not p.flags.c_contiguous
    nb.sgd_update(a, grad, None, lr=0.1, momentum=0, dampening=0, weight_decay=0,
                  nesterov=False)
    updates.sgd_update(ref, b, grad, None, lr=0.1, momentum=0, dampening=0, weight_decay=0,
                       nesterov=False)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", SIZES)
def test_sigmoid_kernel(build, n):
    x = np.linspace(-100, 100, n).astype(np.float32).reshape(-1, 1)
    out = mg.get_backend("numba").sigmoid(x)
    np.testing.assert_allclose(out, mg.get_backend("numpy").sigmoid(x), rtol=1e-6, atol=1e-30)
    assert out.shape == x.shape and out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_match_the_default(build, dtype):
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    x = np.random.default_rng(3).standard_normal((37, 29)).astype(dtype)
    x[0, :4] = [np.nan, -np.inf, np.inf, 0.0]
    out = nb.relu(x)
    np.testing.assert_array_equal(out, ref.relu(x))
    grad = np.random.default_rng(4).standard_normal((29, 37)).astype(dtype).T  # not contiguous
    grad[0, :4] = [1.0, np.nan, np.inf, -np.inf]
    for g in (grad, np.broadcast_to(dtype(2.0), x.shape), np.ascontiguousarray(grad)):
        np.testing.assert_array_equal(nb.relu_backward(out, g), ref.relu_backward(out, g))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 128), (1000, 1), (3, 4), (1, 7), (2000, 3)])
def test_bias_sums_match_numpys_to_the_bit(build, dtype, shape):
    nb = mg.get_backend("numba")
    x = np.random.default_rng(5).standard_normal(shape).astype(dtype) * 1e3
    x[:, 0] = -0.0  # a column of negative zeros sums to +0.0, as in NumPy and PyTorch
    out = nb.sum_to(x, shape[1:])
    expected = np.add.reduce(x, axis=0)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == dtype and not np.signbit(out[0])


def test_moving_between_numpy_and_numba_copies_nothing():
    a = mg.randn(3, requires_grad=True)
    b = a.to("numba")
    assert b._data is a._data and b.device == "numba"
    (b * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])
    assert b.to("numpy")._data is a._data


def test_first_calls_are_timed():
    kernels = numba_kernels.Kernels("workqueue")
    x = np.linspace(-3, 3, 20, dtype=np.float32)
    out = np.empty_like(x)
    kernels.call("sigmoid", 10, x[::2], out[::2])  # a strided layout: a new signature
    compiled = kernels.compile_seconds
    assert compiled > 0
    kernels.call("sigmoid", 10, x[::2], out[::2])  # compiled already: not counted again
    assert kernels.compile_seconds == compiled
    np.testing.assert_allclose(out[::2], 1 / (1 + np.exp(-x[::2])), rtol=1e-6)


def test_missing_numba_is_reported(monkeypatch):
    from minigrad.backends.numba_backend import NumbaBackend

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba" else real(name, *a))
    assert NumbaBackend.unavailable_reason() == "numba is not installed"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_kernels(build, dtype):
    rng = np.random.default_rng(2)
    logits = (rng.standard_normal((33, 10)) * 30).astype(dtype)
    target = rng.integers(0, 10, 33)
    grad = rng.standard_normal(33).astype(dtype)
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    (losses, probs), (ref_losses, ref_probs) = (
        b.softmax_cross_entropy(logits, target) for b in (nb, ref))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(losses, ref_losses, rtol=tol, atol=tol)
    np.testing.assert_allclose(probs, ref_probs, rtol=tol, atol=tol)
    np.testing.assert_allclose(nb.softmax_cross_entropy_backward(probs, target, grad),
                               ref.softmax_cross_entropy_backward(ref_probs, target, grad),
                               rtol=tol, atol=tol)
    assert losses.dtype == dtype


def test_float16_takes_the_numpy_paths():
    # Numba has no float16 arithmetic: the kernels step aside and NumPy computes
    import minigrad.functional as F
    from minigrad import nn, optim

    results = {}
    for device in ("numpy", "numba"):
        x = mg.tensor([[1.0, -2.0, 0.5]], dtype=mg.float16, device=device, requires_grad=True)
        loss = F.cross_entropy(x.relu() + x.sigmoid(), mg.tensor([1], device=device))
        loss.backward()
        p = nn.Parameter(mg.tensor([1.0, 2.0], dtype=mg.float16, device=device))
        p.grad = mg.tensor([0.5, -0.5], dtype=mg.float16, device=device)
        optim.Adam([p], lr=0.1).step()
        results[device] = (loss.numpy(), x.grad.numpy(), p.numpy())
    for mine, ref in zip(results["numba"], results["numpy"]):
        assert mine.dtype == np.float16
        np.testing.assert_array_equal(mine, ref)
