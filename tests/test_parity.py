"""PyTorch parity at the edges: each case once gave a wrong number or a crash here."""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

torch = pytest.importorskip("torch")


def _pair(data, device, dtype=np.float64):
    x = mg.tensor(np.array(data, dtype=dtype), device=device, requires_grad=True)
    tx = torch.tensor(np.array(data, dtype=dtype), requires_grad=True)
    return x, tx


def _close(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a.numpy() if hasattr(a, "numpy") else a),
                               b.detach().numpy(force=True), **kw)


# requires_grad set on an integer tensor


def test_requires_grad_attribute_refuses_integers(device):
    t = mg.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError, match="floating-point"):
        t.requires_grad = True
    assert not t.requires_grad
    f = mg.tensor([1.0, 2.0], device=device)
    f.requires_grad = True
    (f * 2.5).sum().backward()
    assert f.grad.dtype == mg.float32
    y = f * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


# float16 computes in float32 and rounds once


@pytest.mark.parametrize("case", ["mean", "div", "sum-then-mean", "bce"])
def test_float16_as_pytorch(device, case):
    if case == "mean":
        x, tx = mg.ones(70000, dtype=mg.float16, device=device), torch.ones(70000,
                                                                            dtype=torch.float16)
        out, ref = x.mean(), tx.mean()
    elif case == "div":
        x = mg.tensor([1.0, 3.0, 60000.0], dtype=mg.float16, device=device)
        out, ref = x / 1e5, torch.tensor([1.0, 3.0, 60000.0], dtype=torch.float16) / 1e5
    elif case == "sum-then-mean":
        x = mg.full((300, 300), 0.5, dtype=mg.float16, device=device)
        tx = torch.full((300, 300), 0.5, dtype=torch.float16)
        out, ref = x.mean(dim=1), tx.mean(dim=1)
    else:
        data = [6e4, -6e4, 3.0]
        x = mg.tensor(data, dtype=mg.float16, device=device, requires_grad=True)
        tx = torch.tensor(data, dtype=torch.float16, requires_grad=True)
        target = [1.0, 0.0, 1.0]
        out = F.binary_cross_entropy_with_logits(x, mg.tensor(target, dtype=mg.float16,
                                                              device=device))
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            tx, torch.tensor(target, dtype=torch.float16))
        out.backward()
        ref.backward()
        _close(x.grad, tx.grad, rtol=2e-3, atol=1e-4)
    assert out.dtype == mg.float16
    _close(out, ref, rtol=2e-3, atol=1e-6)


def test_float16_with_float32_tensors_promotes_as_pytorch(device):
    h = mg.ones(3, dtype=mg.float16, device=device)
    assert (h * mg.ones(3, device=device)).dtype == mg.float32
    assert (h * mg.tensor(2.0, device=device)).dtype == mg.float16  # a 0-d operand
    assert (h + mg.tensor([1, 2, 3], device=device)).dtype == mg.float16
    assert h.float().dtype == mg.float32


# 0-d tensors


def test_zero_dim_relu_and_inplace_on_a_non_leaf(device):
    x = mg.tensor(2.0, device=device, requires_grad=True)
    x.relu().backward()
    assert x.grad.item() == 1.0
    a = mg.tensor(1.0, device=device, requires_grad=True)
    c = a + a
    c += 1
    c.backward()
    assert c.item() == 3.0 and a.grad.item() == 2.0


@pytest.mark.parametrize("name", ["sum", "mean", "softmax", "log_softmax", "logsumexp",
                                  "amax", "amin"])
@pytest.mark.parametrize("dim", [0, -1])
def test_zero_dim_reductions_take_dim_0_and_minus_1(device, name, dim):
    x, tx = _pair(1.5, device)
    out, ref = getattr(x, name)(dim), getattr(tx, name)(dim)
    assert out.shape == tuple(ref.shape)
    _close(out, ref)
    out.backward()
    ref.backward()
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("name", ["sum", "softmax", "logsumexp", "amax"])
def test_zero_dim_reductions_refuse_other_dims(name):
    with pytest.raises(IndexError):
        getattr(mg.tensor(1.0), name)(1)


# max(dim) and min(dim)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, False), (-1, True), (2, True)])
def test_max_min_with_a_dim_return_values_and_indices(device, name, dim, keepdim):
    data = np.random.default_rng(3).standard_normal((3, 4, 5))
    data[1, 2, :] = data[1, 2, 0]  # ties: the gradient goes to the index returned
    x, tx = _pair(data, device)
    out = getattr(x, name)(dim=dim, keepdim=keepdim)
    ref = getattr(tx, name)(dim=dim, keepdim=keepdim)
    values, indices = out
    assert out.values is values and out.indices is indices
    assert indices.dtype == mg.int64
    _close(values, ref.values)
    np.testing.assert_array_equal(indices.numpy(), ref.indices.numpy())
    weights = np.random.default_rng(4).standard_normal(ref.values.shape)
    (values * mg.tensor(weights, device=device)).sum().backward()
    (ref.values * torch.tensor(weights)).sum().backward()
    _close(x.grad, tx.grad)


def test_max_without_a_dim_and_the_function_spellings(device):
    x, tx = _pair([[1.0, 5.0], [7.0, 2.0]], device)
    _close(x.max(), tx.max())
    _close(mg.max(x, 1).values, torch.max(tx, 1).values)
    _close(mg.min(x, dim=0)[1], torch.min(tx, dim=0)[1])
    _close(mg.max(x, mg.tensor([[3.0, 3.0], [3.0, 3.0]], dtype=mg.float64, device=device)),
           torch.max(tx, torch.full((2, 2), 3.0, dtype=torch.float64)))
    _close(mg.amax(x, (0, 1)), torch.amax(tx, (0, 1)))
    _close(x.amin(dim=1, keepdim=True), tx.amin(dim=1, keepdim=True))
    with pytest.raises(TypeError, match="amax"):
        x.max(dim=(0, 1))


def test_max_values_of_a_zero_dim_tensor(device):
    x = mg.tensor(4.0, device=device)
    values, indices = x.max(0)
    assert values.item() == 4.0 and indices.item() == 0


# advanced indexing places the indexed dims as PyTorch does


@pytest.mark.parametrize("make_index", [
    lambda d: (1, slice(None), slice(3, 11, 2), d, slice(0, 2)),
    lambda d: (d, slice(None), 0),
    lambda d: (slice(None), 2, d),
    lambda d: (0, d, slice(None), d),
    lambda d: (Ellipsis, d, 1),
    lambda d: (None, 1, d),
])
def test_advanced_indexing_places_dims_as_pytorch(device, make_index):
    data = np.random.default_rng(5).standard_normal((2, 5, 6, 5, 3, 4))
    d = np.random.default_rng(6).integers(0, 2, (2, 1, 3))
    x, tx = _pair(data, device)
    out = x[make_index(mg.tensor(d, device=device))]
    ref = tx[make_index(torch.tensor(d))]
    assert out.shape == tuple(ref.shape)
    _close(out, ref)
    weights = np.random.default_rng(7).standard_normal(ref.shape)
    (out * mg.tensor(weights, device=device)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    _close(x.grad, tx.grad)


# var and std without degrees of freedom


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("data, kwargs", [
    ([1.0], {}),
    ([], {}),
    ([1.0, 2.0], {"correction": 3}),
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": 0, "correction": 2}),
    ([1.0, 2.0, 4.0], {"correction": 0}),
])
def test_var_std_without_degrees_of_freedom(device, name, data, kwargs):
    x = mg.tensor(data, dtype=mg.float64, device=device)
    ref = getattr(torch.tensor(data, dtype=torch.float64), name)(**kwargs)
    with np.errstate(all="ignore"):
        _close(getattr(x, name)(**kwargs), ref)


# gradients where infinities and NaNs take part


def test_huber_gradient_at_infinity(device):
    data = [math.inf, -math.inf, 1.0, 0.25]
    x, tx = _pair(data, device)
    F.huber_loss(x, mg.zeros(4, dtype=mg.float64, device=device), delta=0.5).backward()
    torch.nn.functional.huber_loss(tx, torch.zeros(4, dtype=torch.float64),
                                   delta=0.5).backward()
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("fn", ["maximum", "minimum", "clamp", "abs", "pow", "relu"])
def test_nan_propagation_in_gradients(device, fn):
    a_data = [math.nan, 1.0, 2.0, math.nan, -1.0, 0.0]
    b_data = [1.0, math.nan, 2.0, math.nan, -3.0, 0.0]
    a, ta = _pair(a_data, device)
    b, tb = _pair(b_data, device)
    calls = {
        "maximum": (lambda u, v: mg.maximum(u, v), torch.maximum),
        "minimum": (lambda u, v: mg.minimum(u, v), torch.minimum),
        "clamp": (lambda u, v: u.clamp(-0.5, 1.5) * v, lambda u, v: u.clamp(-0.5, 1.5) * v),
        "abs": (lambda u, v: u.abs() + v, lambda u, v: u.abs() + v),
        "pow": (lambda u, v: u.abs() ** v, lambda u, v: u.abs() ** v),
        "relu": (lambda u, v: u.relu() * v, lambda u, v: u.relu() * v),
    }
    ours, theirs = calls[fn]
    with np.errstate(all="ignore"):
        out, ref = ours(a, b), theirs(ta, tb)
        out.sum().backward()
    ref.sum().backward()
    _close(out, ref)
    _close(a.grad, ta.grad)
    _close(b.grad, tb.grad)


# every gradient is differentiable again


@pytest.mark.parametrize("fn", [
    lambda x: x.abs() * x,
    lambda x: x.relu() * x,
    lambda x: x.clamp(-1.0, 1.0) * x * x,
    lambda x: mg.maximum(x, x * 0.5) * x if isinstance(x, mg.Tensor)
    else torch.maximum(x, x * 0.5) * x,
])
def test_third_derivatives_match_pytorch(device, fn):
    x, tx = _pair([1.5, -2.0, 0.3], device)
    (g,) = mg.grad(fn(x).sum(), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(fn(tx).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx, create_graph=True)
    _close(h, th)
    assert h.requires_grad == th.requires_grad
    if th.requires_grad:
        (k,) = mg.grad(h.sum(), x, allow_unused=True)
        (tk,) = torch.autograd.grad(th.sum(), tx, allow_unused=True)
        if tk is None:
            assert k is None or not k.numpy().any()
        else:
            _close(k, tk)


# errors PyTorch raises as RuntimeError


@pytest.mark.parametrize("call", [
    lambda: mg.ones(2, 3) @ mg.ones(2, 3),
    lambda: mg.ones(2, 3) + mg.ones(2, 4),
    lambda: mg.ones(2, 3).permute(0, 0),
    lambda: mg.ones(2, 3).reshape(-1, -1),
    lambda: mg.ones(2, 3).reshape(4, 2),
    lambda: mg.tensor([1, 2]) ** -1,
    lambda: F.cross_entropy(mg.ones(3, 4), mg.tensor([[0], [1], [2]])),
])
def test_runtime_errors_where_pytorch_raises_them(call):
    with pytest.raises(RuntimeError):
        call()
    with pytest.raises(ValueError):
        call()


# reinterpreting and summing with a dtype


def test_view_as_another_dtype(device):
    x = mg.tensor([1.0, -2.0], device=device)
    bits = x.view(mg.int32)
    np.testing.assert_array_equal(bits.numpy(),
                                  torch.tensor([1.0, -2.0]).view(torch.int32).numpy())
    assert x.view(mg.uint8).shape == (8,)
    with pytest.raises(RuntimeError):
        mg.ones(3, device=device).view(mg.float64)  # 12 bytes do not make float64s


def test_sum_dtype_and_integer_sums(device):
    t = mg.tensor([[1, 2], [3, 4]], dtype=mg.int32, device=device)
    assert t.sum().dtype == mg.int64
    assert mg.tensor([True, True], device=device).sum().item() == 2
    s = mg.tensor([0.1, 0.2], device=device, requires_grad=True).sum(dtype=mg.float64)
    assert s.dtype == mg.float64
    s.backward()
    with pytest.raises(RuntimeError, match="floating-point"):
        t.mean()
    assert t.mean(dtype=mg.float32).item() == 2.5


# an op keeps only what its gradient reads


def test_in_place_change_of_an_input_the_gradient_does_not_read(device):
    x, tx = _pair([1.0, 2.0], device)
    d, td = x * 1, tx * 1
    e, te = d * 2, td * 2
    d += 1
    td += 1
    e.sum().backward()
    te.sum().backward()
    _close(x.grad, tx.grad)
    w = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device, requires_grad=True)
    d = x * 1
    e = d * w  # w's gradient reads d
    d += 1
    with pytest.raises(RuntimeError, match="in-place"):
        e.sum().backward()


# a NaN maximum, and reductions over nothing


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns of the 0/0 PyTorch makes
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_nan_maximum_gradient_as_pytorch(device, name):
    data = [[0.5, math.nan, 2.0], [1.0, 3.0, 3.0]]
    x, tx = _pair(data, device)
    weights = np.array(math.nan) if name in ("max", "min") else np.ones(())
    out, ref = getattr(x, name)(), getattr(tx, name)()
    (out * mg.tensor(weights, device=device)).backward()
    (ref * torch.tensor(weights)).backward()
    _close(out, ref)
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("call, error", [
    (lambda t: t.max(), RuntimeError),
    (lambda t: t.amax(), RuntimeError),
    (lambda t: t.amin(dim=1), IndexError),
    (lambda t: t.max(dim=1), IndexError),
    (lambda t: t.argmax(), IndexError),
    (lambda t: t.argmin(dim=1), IndexError),
])
def test_reductions_over_nothing_raise_as_pytorch(device, call, error):
    with pytest.raises(error):
        call(torch.zeros(3, 0))
    with pytest.raises(error):
        call(mg.zeros(3, 0, device=device))
    call(mg.zeros(2, 3, device=device))  # over elements: no error
