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
