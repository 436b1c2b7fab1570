"""Losses recorded as one op: the same numbers and gradients as the ops they fuse."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def _composed_mse(input, target):
    diff = input - target
    return (diff * diff).mean()


def _value_and_grads(loss_fn, input, target, device, dtype):
    x = mg.tensor(input, dtype=dtype, device=device, requires_grad=True)
    t = mg.tensor(target, dtype=dtype, device=device, requires_grad=True)
    loss = loss_fn(x, t)
    loss.backward()
    return loss.numpy(), x.grad.numpy(), t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 1), (5, 3, 2), (7,), ()])
def test_mse_mean_is_the_composed_loss_to_the_bit(device, dtype, shape):
    rng = np.random.default_rng(0)
    input, target = rng.standard_normal(shape), rng.standard_normal(shape)
    fused = _value_and_grads(F.mse_loss, input, target, device, dtype)
    composed = _value_and_grads(_composed_mse, input, target, device, dtype)
    for a, b, what in zip(fused, composed, ("loss", "input grad", "target grad")):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_mse_matches_pytorch(device, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    input, target = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    loss, grad_x, grad_t = _value_and_grads(F.mse_loss, input, target, device, dtype)
    tx = torch.tensor(input.astype(dtype), requires_grad=True)
    tt = torch.tensor(target.astype(dtype), requires_grad=True)
    tloss = torch.nn.functional.mse_loss(tx, tt)
    tloss.backward()
    tol = {np.float16: 2e-3, np.float32: 1e-6, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(loss, tloss.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(grad_t, tt.grad.numpy(), rtol=tol, atol=tol)


def test_mse_records_one_op_and_differentiates_twice(device):
    x = mg.tensor([1.0, 2.0, 4.0], dtype=mg.float64, device=device, requires_grad=True)
    t = mg.tensor([0.5, 2.5, 1.0], dtype=mg.float64, device=device)
    loss = F.mse_loss(x, t)
    assert loss.grad_fn is not None and loss.grad_fn.inputs[1] is None  # t needs no grad
    (grad,) = mg.autograd.grad(loss, [x], create_graph=True)
    np.testing.assert_allclose(grad.numpy(), 2 * (x.numpy() - t.numpy()) / 3)
    (hess_diag,) = mg.autograd.grad(grad.sum(), [x])
    np.testing.assert_allclose(hess_diag.numpy(), np.full(3, 2 / 3))
