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


def _composed_cross_entropy(logits, target):
    return F.cross_entropy(logits, target, reduction="none").mean()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [64, 1])
def test_cross_entropy_mean_is_the_composed_loss_to_the_bit(device, dtype, rows):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((rows, 10)) * 3
    labels = mg.tensor(rng.integers(0, 10, rows), device=device)
    values = []
    for loss_fn in (F.cross_entropy, _composed_cross_entropy):
        x = mg.tensor(logits, dtype=dtype, device=device, requires_grad=True)
        loss = loss_fn(x, labels)
        loss.backward()
        values.append((loss.numpy(), x.grad.numpy()))
    (loss, grad), (ref_loss, ref_grad) = values
    assert loss.dtype == grad.dtype == dtype
    np.testing.assert_array_equal(loss, ref_loss)
    np.testing.assert_array_equal(grad, ref_grad)


def test_cross_entropy_mean_of_no_rows_is_nan_as_pytorch(device):
    torch = pytest.importorskip("torch")
    x = mg.zeros((0, 3), device=device, requires_grad=True)
    with np.errstate(invalid="ignore"):
        loss = F.cross_entropy(x, mg.zeros(0, dtype=mg.int64, device=device))
        loss.backward()
    tx = torch.zeros((0, 3), requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.zeros(0, dtype=torch.int64))
    tloss.backward()
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    assert x.grad.shape == tuple(tx.grad.shape)
