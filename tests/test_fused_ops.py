"""Fused primitives (one op where composition would take several) against their definitions."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def _leaf(shape, seed, device):
    data = np.random.default_rng(seed).standard_normal(shape)
    return mg.tensor(data, dtype=mg.float64, device=device, requires_grad=True)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(device, x_shape, bias):
    x, w = _leaf(x_shape, 0, device), _leaf((4, 3), 1, device)
    inputs = (x, w, _leaf((4,), 2, device)) if bias else (x, w)
    assert mg.gradcheck(lambda *t: F.linear(*t), inputs)


def test_linear_equals_its_definition(device):
    x, w, b = _leaf((6, 3), 3, device), _leaf((2, 3), 4, device), _leaf((2,), 5, device)
    fused = F.linear(x, w, b)
    composed = x @ w.T + b
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-12)
    (g_fused,) = mg.grad((fused * fused).sum(), [w])
    (g_composed,) = mg.grad((composed * composed).sum(), [w])
    np.testing.assert_allclose(g_fused.numpy(), g_composed.numpy(), rtol=1e-12)


def test_linear_second_order(device):
    x, w = _leaf((4, 3), 6, device), _leaf((2, 3), 7, device)
    (gx,) = mg.grad(F.linear(x, w).tanh().sum(), [x], create_graph=True)
    (gw,) = mg.grad((gx * gx).sum(), [w])
    xc, wc = _leaf((4, 3), 6, device), _leaf((2, 3), 7, device)
    (gx_c,) = mg.grad((xc @ wc.T).tanh().sum(), [xc], create_graph=True)
    (gw_c,) = mg.grad((gx_c * gx_c).sum(), [wc])
    np.testing.assert_allclose(gw.numpy(), gw_c.numpy(), rtol=1e-10)


def test_linear_weight_gradient_is_owned(device):
    x = mg.randn(8, 3, device=device)
    w = mg.randn(4, 3, device=device, requires_grad=True)
    F.linear(x, w).sum().backward()
    w.grad.mul_(2.0)  # a whole array of its own, writable in place
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.tile(x.numpy().sum(0), (4, 1)),
                               rtol=1e-5)


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(4, 2\)"):
        F.linear(mg.zeros(5, 3), mg.zeros(4, 2))


def test_linear_refuses_mixed_dtypes_as_pytorch():
    with pytest.raises(TypeError, match="float64.*float32"):
        F.linear(mg.zeros(2, 3, dtype=mg.float64), mg.zeros(4, 3))


def _composed_cross_entropy(logits, target):
    """-log_softmax(logits)[rows, target], built from separate ops."""
    rows = mg.arange(logits.shape[0], device=logits.device)
    return -F.log_softmax(logits, axis=1)[rows, target]


@pytest.mark.parametrize("classes", [3, 10, 100])  # kernel and NumPy paths on numba
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_softmax_cross_entropy_equals_its_definition(device, classes, dtype):
    rng = np.random.default_rng(classes)
    data = rng.standard_normal((7, classes)) * 5
    data[0, 0], data[1, :] = 1e4, -1e4  # a dominant logit, a row of very negative ones
    target = mg.tensor(rng.integers(0, classes, 7), device=device)
    fused_x = mg.tensor(data, dtype=dtype, device=device, requires_grad=True)
    plain_x = mg.tensor(data, dtype=dtype, device=device, requires_grad=True)
    fused = F.cross_entropy(fused_x, target, reduction="none")
    plain = _composed_cross_entropy(plain_x, target)
    assert fused.dtype == dtype and fused.shape == (7,)
    assert np.isfinite(fused.numpy()).all()
    tol = 1e-6 if dtype == mg.float32 else 1e-13
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=tol, atol=tol)
    upstream = mg.tensor(rng.standard_normal(7), dtype=dtype, device=device)
    (fused * upstream).sum().backward()
    (plain * upstream).sum().backward()
    np.testing.assert_allclose(fused_x.grad.numpy(), plain_x.grad.numpy(), rtol=tol, atol=tol)


def test_softmax_cross_entropy_gradchecks_and_second_order(device):
    x = _leaf((5, 4), 8, device)
    target = mg.tensor([0, 3, 1, 1, 2], device=device)
    assert mg.gradcheck(lambda t: F.cross_entropy(t, target, reduction="sum"), (x,))
    (g,) = mg.grad(F.cross_entropy(x, target), [x], create_graph=True)
    (gg,) = mg.grad((g * g).sum(), [x])
    xc = _leaf((5, 4), 8, device)
    (gc,) = mg.grad(_composed_cross_entropy(xc, target).mean(), [xc], create_graph=True)
    (ggc,) = mg.grad((gc * gc).sum(), [xc])
    np.testing.assert_allclose(g.numpy(), gc.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gg.numpy(), ggc.numpy(), rtol=1e-10)


def test_softmax_cross_entropy_backward_twice_with_retain_graph(device):
    x = _leaf((4, 3), 9, device)
    loss = F.cross_entropy(x, mg.tensor([2, 0, 1, 2], device=device))
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12)


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
@pytest.mark.parametrize("shape", [(7,), (33, 65), (300, 500)])
def test_relu_and_its_gradient_match_the_numpy_reference(device, dtype, shape):
    data = np.random.default_rng(1).standard_normal(shape)
    upstream = np.random.default_rng(2).standard_normal(shape)
    x = mg.tensor(data, dtype=dtype, device=device, requires_grad=True)
    y = x.relu()
    y.backward(mg.tensor(upstream, dtype=dtype, device=device))
    ref = data.astype(dtype)
    np.testing.assert_array_equal(y.numpy(), np.maximum(ref, 0))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(ref > 0, upstream.astype(dtype), 0))


def test_relu_nan_rules_are_pytorchs(device):
    # relu(NaN) is NaN and passes its gradient; a NaN or infinite gradient reaching a unit
    # whose output is 0 gives 0 (PyTorch's threshold_backward)
    x = mg.tensor([np.nan, -1.0, 0.0, 2.0, -3.0], device=device, requires_grad=True)
    y = x.relu()
    y.backward(mg.tensor([1.0, np.nan, np.inf, 3.0, -np.inf], device=device))
    np.testing.assert_array_equal(y.numpy(), [np.nan, 0, 0, 2, 0])
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 3, 0])


def test_relu_second_order(device):
    x = _leaf((4, 3), 8, device)
    (gx,) = mg.grad((x.relu() * x).sum(), [x], create_graph=True)  # 2x where x > 0
    (gg,) = mg.grad(gx.sum(), [x])
    np.testing.assert_array_equal(gg.numpy(), 2.0 * (x.numpy() > 0))
