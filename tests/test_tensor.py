"""Tensors: creation, dtypes and their promotion, metadata, conversions and indexing."""

import numpy as np
import pytest

import minigrad as mg

F32, F64, I64 = np.float32, np.float64, np.int64


# ------------------------------------------------------------------ mg.tensor

def test_tensor_from_python_scalars(device):
    f = mg.tensor(1.5, device=device)
    assert f.shape == () and f.dtype == F32 and f.item() == 1.5
    i = mg.tensor(3, device=device)
    assert i.dtype == I64 and i.item() == 3
    b = mg.tensor(True, device=device)
    assert b.dtype == np.bool_ and b.item() is True


def test_tensor_from_nested_lists(device):
    t = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert t.shape == (2, 3) and t.dtype == F32
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert mg.tensor([[1, 2], [3, 4]], device=device).dtype == I64
    assert mg.tensor([True, False], device=device).dtype == np.bool_
    assert mg.tensor([1, 2.5], device=device).dtype == F32
    assert mg.tensor([], device=device).shape == (0,)


def test_tensor_from_numpy_is_a_copy(device):
    a = np.arange(6, dtype=F32).reshape(2, 3)
    t = mg.tensor(a, device=device)
    assert t.dtype == F32 and t.shape == (2, 3)
    a[0, 0] = 100.0
    assert t.numpy()[0, 0] == 0.0
    t2 = mg.tensor(np.arange(3), device=device)
    assert t2.dtype == I64
    assert mg.tensor(np.array([1.0, 2.0], dtype=F64), device=device).dtype == F64
    assert mg.tensor(np.float32(2.5), device=device).dtype == F32


def test_tensor_from_tensor_is_a_copy(device):
    src = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    t = mg.tensor(src, device=device)
    assert t.requires_grad is False and t.grad_fn is None
    t[0] = 9.0
    assert src.numpy()[0] == 1.0
    assert mg.tensor(src, dtype=mg.float64, device=device).dtype == F64


@pytest.mark.parametrize("dtype, expected", [
    (mg.float64, F64), ("float64", F64), (np.float32, F32), (float, F64), (int, I64),
    (mg.int32, np.int32), (bool, np.bool_), (mg.float16, np.float16), (mg.uint8, np.uint8),
])
def test_tensor_explicit_dtype(device, dtype, expected):
    t = mg.tensor([1, 0, 1], dtype=dtype, device=device)
    assert t.dtype == expected
    assert isinstance(t.dtype, np.dtype)


def test_tensor_requires_grad_flag(device):
    t = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None


# ------------------------------------------------------------------ creation functions

@pytest.mark.parametrize("make, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_ones(device, make, value):
    for t in (make(2, 3, device=device), make((2, 3), device=device),
              make([2, 3], device=device)):
        assert t.shape == (2, 3) and t.dtype == F32 and t.device == device
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value))
    assert make(4, device=device).shape == (4,)
    assert make((), device=device).shape == ()
    assert make(2, dtype=mg.int64, device=device).dtype == I64
    assert make(2, dtype=mg.float64, device=device).dtype == F64
    t = make(3, device=device, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_full(device):
    t = mg.full((2, 2), 7.5, device=device)
    assert t.shape == (2, 2) and t.dtype == F32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 2), 7.5))
    assert mg.full(3, 2, device=device).dtype == I64
    assert mg.full(3, 2, device=device).shape == (3,)
    assert mg.full((2,), True, device=device).dtype == np.bool_
    assert mg.full((2,), 1, dtype=mg.float64, device=device).dtype == F64


def test_zeros_like_ones_like(device):
    ref = mg.tensor([[1, 2, 3]], device=device)
    z = mg.zeros_like(ref)
    assert z.shape == (1, 3) and z.dtype == I64 and z.device == device
    np.testing.assert_array_equal(z.numpy(), [[0, 0, 0]])
    o = mg.ones_like(mg.tensor([1.0, 2.0], dtype=mg.float64, device=device))
    assert o.dtype == F64
    np.testing.assert_array_equal(o.numpy(), [1.0, 1.0])
    assert mg.zeros_like(ref, dtype=mg.float64).dtype == F64
    assert mg.ones_like(ref, dtype=mg.float32).dtype == F32


@pytest.mark.parametrize("make", [mg.randn, mg.rand])
def test_random_shapes_and_dtypes(device, make):
    assert make(2, 3, device=device).shape == (2, 3)
    assert make((4, 5), device=device).shape == (4, 5)
    assert make(3, device=device).dtype == F32
    assert make(3, dtype=mg.float64, device=device).dtype == F64
    assert make(3, device=device).device == device


def test_random_distributions(device):
    n = mg.randn(20_000, device=device).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    u = mg.rand(20_000, device=device).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02


@pytest.mark.parametrize("make", [mg.randn, mg.rand])
def test_manual_seed_reproducible(device, make):
    mg.manual_seed(123)
    a = make(5, device=device).numpy()
    b = make(5, device=device).numpy()
    mg.manual_seed(123)
    a2 = make(5, device=device).numpy()
    b2 = make(5, device=device).numpy()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, b)
    mg.manual_seed(124)
    assert not np.array_equal(make(5, device=device).numpy(), a)


def test_arange(device):
    t = mg.arange(5, device=device)
    assert t.dtype == I64 and t.device == device
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(mg.arange(2, 8, 2, device=device).numpy(), [2, 4, 6])
    f = mg.arange(0.0, 1.0, 0.25, device=device)
    assert f.dtype == F32
    np.testing.assert_allclose(f.numpy(), [0.0, 0.25, 0.5, 0.75])
    assert mg.arange(3, dtype=mg.float64, device=device).dtype == F64
    np.testing.assert_array_equal(mg.arange(5, 0, -2, device=device).numpy(), [5, 3, 1])
    assert mg.arange(np.int64(4), device=device).dtype == I64


def test_float_arange_rounds_each_value_once(device):
    # float64 start + i * step, then float32: 0.9 is the float32 nearest 0.9
    t = mg.arange(0, 1, 0.1, device=device)
    np.testing.assert_array_equal(t.numpy(), (np.arange(10) * 0.1).astype(F32))
    assert t.numpy()[-1] == np.float32(0.9)


def test_numpy_of_a_reduction_is_an_array(device):
    out = mg.ones(3, device=device).sum().numpy()
    assert isinstance(out, np.ndarray) and out.shape == () and out == 3


# ------------------------------------------------------------------ metadata and conversions

def test_metadata(device):
    t = mg.zeros(2, 3, 4, device=device)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.numel() == 24
    assert isinstance(t.dtype, np.dtype) and t.dtype == F32
    assert isinstance(t.device, str) and t.device == device
    s = mg.tensor(1.0, device=device)
    assert s.shape == () and s.ndim == 0 and s.numel() == 1


def test_conversions(device):
    t = mg.tensor([[1.5, 2.0], [3.0, 4.0]], device=device)
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == F32
    np.testing.assert_array_equal(a, [[1.5, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert isinstance(t.tolist()[0][0], float)
    one = mg.tensor([2.5], device=device)
    assert one.item() == 2.5 and isinstance(one.item(), float)
    assert float(one) == 2.5
    assert int(mg.tensor(7, device=device)) == 7
    assert isinstance(mg.tensor(7, device=device).item(), int)
    assert np.asarray(t).shape == (2, 2)


def test_numpy_of_tensor_requiring_grad(device):
    t = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    np.testing.assert_array_equal((t * 2).numpy(), [2.0, 4.0])


def test_astype_and_shortcuts(device):
    t = mg.tensor([1.7, -2.2], device=device)
    assert t.double().dtype == F64
    assert t.astype(mg.float64).dtype == F64
    assert t.astype("float64").dtype == F64
    assert t.double().float().dtype == F32
    i = t.astype(mg.int64)
    assert i.dtype == I64
    np.testing.assert_array_equal(i.numpy(), [1, -2])
    assert mg.tensor([1, 2], device=device).float().dtype == F32
    assert mg.tensor([1, 2], device=device).double().dtype == F64
    np.testing.assert_allclose(t.double().numpy(), t.numpy().astype(F64))


def test_to_same_device_and_dtype(device):
    t = mg.tensor([1.0, 2.0], device=device)
    assert t.to(device).device == device
    np.testing.assert_array_equal(t.to(device).numpy(), t.numpy())
    assert t.to(mg.float64).dtype == F64


# ------------------------------------------------------------------ dtype rules

FLOAT32_OPS = {
    "add": lambda t: t + 1,
    "radd": lambda t: 2.5 + t,
    "sub": lambda t: t - 0.5,
    "rsub": lambda t: 1 - t,
    "mul": lambda t: t * 2.5,
    "rmul": lambda t: 2 * t,
    "div": lambda t: t / 3,
    "rdiv": lambda t: 2.0 / t,
    "pow": lambda t: t ** 2,
    "pow float": lambda t: t ** 1.5,
    "rpow": lambda t: 2.0 ** t,
    "pow tensor": lambda t: t ** t,
    "neg": lambda t: -t,
    "mul tensor": lambda t: t * t,
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(),
    "abs": lambda t: t.abs(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "clip": lambda t: t.clip(0.5, 1.5),
    "sum": lambda t: t.sum(axis=0),
    "mean": lambda t: t.mean(),
    "amax": lambda t: t.amax(axis=1),
    "min": lambda t: t.min(),
    "var": lambda t: t.var(axis=1),
    "reshape": lambda t: t.reshape(-1),
    "transpose": lambda t: t.T,
    "flatten": lambda t: t.flatten(),
    "squeeze unsqueeze": lambda t: t.unsqueeze(0).squeeze(0),
    "matmul": lambda t: t @ t.T,
    "index": lambda t: t[np.array([0, 0])],
    "slice": lambda t: t[:, ::2],
    "where": lambda t: mg.where(t > 1, t, 0.0),
    "maximum": lambda t: mg.maximum(t, 1.0),
    "minimum": lambda t: mg.minimum(t, t * 2),
    "concatenate": lambda t: mg.concatenate([t, t], axis=1),
    "stack": lambda t: mg.stack([t, t]),
    "broadcast_to": lambda t: t.broadcast_to((3, 2, 3)),
    "to": lambda t: t.to(t.device),
    "np scalar": lambda t: t * np.float64(2.0),
    "np float32 array": lambda t: t * np.ones(3, dtype=F32),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_through_op_and_gradient(device, name):
    x = mg.tensor([[0.5, 1.0, 2.0], [1.5, 0.7, 1.2]], device=device, requires_grad=True)
    out = FLOAT32_OPS[name](x)
    assert out.dtype == F32
    out.backward(mg.ones_like(out))
    assert x.grad is not None and x.grad.dtype == F32


def test_python_scalars_do_not_upcast(device):
    f = mg.tensor([1.0, 2.0], device=device)
    assert (f * 2.5).dtype == F32
    assert (f + 1).dtype == F32
    i = mg.tensor([1, 2], device=device)
    assert (i * 2).dtype == I64
    assert (i + 1).dtype == I64
    half = i * 0.5
    assert half.dtype == F32  # as PyTorch: an int tensor times a float is float32
    np.testing.assert_array_equal(half.numpy(), [0.5, 1.0])
    q = i / mg.tensor([4, 4], device=device)
    assert q.dtype == F32  # true division of int64 by int64 is float32, as PyTorch
    np.testing.assert_array_equal(q.numpy(), [0.25, 0.5])
    assert (i / 2).dtype == F32
    assert (1.5 - i).dtype == F32
    d = mg.tensor([1.0], dtype=mg.float64, device=device)
    assert (d * 2.5).dtype == F64


def test_zero_dim_float64_does_not_widen_float32(device):
    # PyTorch's rule: 0-d operands (a reduction's result, a NumPy scalar) rank below
    # operands with dimensions of the same kind
    f = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    s = mg.tensor(2.0, dtype=mg.float64, device=device, requires_grad=True)
    out = f * s
    assert out.dtype == F32 and (f * np.float64(2.0)).dtype == F32
    out.sum().backward()
    assert f.grad.dtype == F32 and s.grad.dtype == F64 and s.grad.item() == 3.0
    i = mg.tensor([1, 2], dtype=mg.int32, device=device)
    assert (i * s).dtype == F64  # a higher kind still wins
    assert (mg.tensor(1.0, device=device) + s).dtype == F64  # both 0-d: the wider


def test_float32_with_float64_gives_float64(device):
    f = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    d = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device, requires_grad=True)
    out = f * d
    assert out.dtype == F64
    np.testing.assert_array_equal(out.numpy(), [3.0, 8.0])
    out.sum().backward()
    assert f.grad.dtype == F32 and d.grad.dtype == F64
    np.testing.assert_array_equal(f.grad.numpy(), [3.0, 4.0])
    assert (d + f).dtype == F64
    with pytest.raises(RuntimeError, match="same dtype"):  # as PyTorch: matmul does not promote
        f @ d
    assert (f * np.array([1.0, 1.0])).dtype == F64  # a float64 NumPy array is float64


def test_int_with_float32_tensor(device):
    i = mg.tensor([1, 2], device=device)
    f = mg.tensor([0.5, 0.5], device=device)
    assert (i * f).dtype == F32
    assert (i + mg.tensor([1.0], dtype=mg.float64, device=device)).dtype == F64


COMPARISONS = {
    "<": (lambda a, b: a < b, np.less),
    "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater),
    ">=": (lambda a, b: a >= b, np.greater_equal),
    "==": (lambda a, b: a == b, np.equal),
    "!=": (lambda a, b: a != b, np.not_equal),
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_return_bool_without_grad(device, name):
    op, ref = COMPARISONS[name]
    a_np = np.array([1.0, 2.0, 3.0], dtype=F32)
    b_np = np.array([3.0, 2.0, 1.0], dtype=F32)
    a = mg.tensor(a_np, device=device, requires_grad=True)
    b = mg.tensor(b_np, device=device)
    for other, other_np in [(b, b_np), (2.0, 2.0), (2, 2)]:
        out = op(a, other)
        assert isinstance(out, mg.Tensor)
        assert out.dtype == np.bool_
        assert out.requires_grad is False and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), ref(a_np, other_np))
    reflected = op(2.0, a)
    np.testing.assert_array_equal(reflected.numpy(), ref(2.0, a_np))


def test_comparisons_broadcast(device):
    a = mg.tensor([[1.0], [3.0]], device=device)
    b = mg.tensor([0.0, 2.0, 4.0], device=device)
    np.testing.assert_array_equal((a > b).numpy(), [[True, False, False], [True, True, False]])


def test_argmax_argmin(device):
    data = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], dtype=F32)
    t = mg.tensor(data, device=device, requires_grad=True)
    for name in ("argmax", "argmin"):
        for kwargs in ({}, {"axis": 0}, {"axis": 1}, {"axis": -1, "keepdims": True}):
            out = getattr(t, name)(**kwargs)
            assert out.dtype == I64
            assert out.requires_grad is False and out.grad_fn is None
            np.testing.assert_array_equal(out.numpy(), getattr(np, name)(data, **kwargs))
        np.testing.assert_array_equal(getattr(mg, name)(t, dim=1).numpy(),
                                      getattr(np, name)(data, axis=1))
    assert t.argmax().item() == 3  # first of the tied maxima, as NumPy


def test_dim_and_keepdim_aliases(device):
    data = np.arange(24, dtype=F32).reshape(2, 3, 4)
    t = mg.tensor(data, device=device)
    for name in ("sum", "mean", "amax", "amin", "var"):
        ref = getattr(t, name)(axis=1, keepdims=True).numpy()
        alias = getattr(t, name)(dim=1, keepdim=True).numpy()
        assert alias.shape == (2, 1, 4)
        np.testing.assert_allclose(alias, ref)
        np.testing.assert_allclose(getattr(mg, name)(t, dim=(0, 2)).numpy(),
                                   getattr(t, name)(axis=(0, 2)).numpy())
    np.testing.assert_allclose(t.sum(dim=-1).numpy(), data.sum(axis=-1))
    np.testing.assert_allclose(t.sum(dim=[0, 1]).numpy(), data.sum(axis=(0, 1)))
    assert t.argmax(dim=2, keepdim=True).shape == (2, 3, 1)


def test_squeeze_unsqueeze_accept_dim(device):
    t = mg.zeros(2, 1, 3, device=device)
    assert t.squeeze(dim=1).shape == (2, 3)
    assert mg.squeeze(t, dim=1).shape == (2, 3)
    assert t.unsqueeze(dim=0).shape == (1, 2, 1, 3)
    assert mg.unsqueeze(t, dim=-1).shape == (2, 1, 3, 1)


def test_transpose_of_two_dims_swaps_them_as_in_pytorch(device):
    data = np.arange(6.0).reshape(2, 3)
    t = mg.tensor(data, device=device)
    for swapped in (t.transpose(0, 1), t.transpose(1, 0), t.transpose(-1, -2),
                    mg.transpose(t, 0, 1), t.T):
        np.testing.assert_array_equal(swapped.numpy(), data.T)
    np.testing.assert_array_equal(t.transpose((0, 1)).numpy(), data)  # NumPy: a permutation
    cube = mg.zeros(2, 3, 4, device=device)
    assert cube.transpose(0, 2).shape == (4, 3, 2)
    assert cube.permute(2, 0, 1).shape == cube.transpose(2, 0, 1).shape == (4, 2, 3)
    assert cube.permute((1, 2, 0)).shape == (3, 4, 2)


@pytest.mark.parametrize("bad", [
    lambda t: t.permute(2, 0),
    lambda t: t.permute(0, 0, 1),
    lambda t: t.transpose(0, 3),
    lambda t: t.squeeze(5),
    lambda t: t.flatten(3),
    lambda t: t.flatten(2, 0),
])
def test_dims_out_of_range_or_out_of_order_raise(bad):
    with pytest.raises((IndexError, ValueError), match="dim|order"):
        bad(mg.zeros(2, 1, 4))


def test_squeeze_and_flatten_of_a_scalar(device):
    t = mg.tensor(3.0, device=device)
    assert t.squeeze(0).shape == () and t.squeeze(-1).shape == ()
    assert t.flatten().shape == (1,)


def test_var_correction(device):
    data = np.array([[1.0, 2.0, 4.0, 8.0], [0.0, 0.0, 3.0, 1.0]], dtype=F64)
    t = mg.tensor(data, device=device)
    np.testing.assert_allclose(t.var().item(), data.var(ddof=1))
    np.testing.assert_allclose(t.var(correction=0).item(), data.var())
    np.testing.assert_allclose(t.var(axis=1, correction=1).numpy(), data.var(axis=1, ddof=1))
    np.testing.assert_allclose(t.var(axis=0, correction=0).numpy(), data.var(axis=0))
    np.testing.assert_allclose(t.var(axis=1, keepdims=True).numpy(),
                               data.var(axis=1, ddof=1, keepdims=True))
    np.testing.assert_allclose(t.var(axis=1, correction=2).numpy(), data.var(axis=1, ddof=2))


def test_var_matches_torch(device):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 5))
    t = mg.tensor(data, dtype=mg.float64, device=device)
    np.testing.assert_allclose(t.var(axis=1).numpy(),
                               torch.tensor(data).var(dim=1).numpy())
    np.testing.assert_allclose(t.var(correction=0).item(),
                               torch.tensor(data).var(correction=0).item())


def test_elementwise_values_match_numpy(device):
    data = np.array([[0.5, 1.0, 2.0], [3.0, 0.25, 1.5]])
    t = mg.tensor(data, dtype=mg.float64, device=device)
    np.testing.assert_allclose(t.exp().numpy(), np.exp(data))
    np.testing.assert_allclose(t.log().numpy(), np.log(data))
    np.testing.assert_allclose(t.sqrt().numpy(), np.sqrt(data))
    np.testing.assert_allclose((-t).abs().numpy(), data)
    np.testing.assert_allclose(t.tanh().numpy(), np.tanh(data))
    np.testing.assert_allclose(t.sigmoid().numpy(), 1 / (1 + np.exp(-data)))
    np.testing.assert_allclose((t - 1).relu().numpy(), np.maximum(data - 1, 0))
    np.testing.assert_allclose(t.clip(0.6, 2.0).numpy(), np.clip(data, 0.6, 2.0))
    np.testing.assert_allclose((t ** 3).numpy(), data ** 3)
    np.testing.assert_allclose((t / (t + 1)).numpy(), data / (data + 1))
    np.testing.assert_allclose(mg.maximum(t, 1.0).numpy(), np.maximum(data, 1.0))
    np.testing.assert_allclose(mg.minimum(t, t.sum(axis=1)[:, None] / 3).numpy(),
                               np.minimum(data, data.sum(axis=1)[:, None] / 3))


# ------------------------------------------------------------------ repr, iteration

def test_repr(device):
    x = mg.tensor([1.5, -2.25], device=device, requires_grad=True)
    text = repr(x)
    assert text.startswith("tensor(") and "1.5" in text and "-2.25" in text
    assert "requires_grad=True" in text
    y = x * 2
    text = repr(y)
    assert "grad_fn" in text and "Mul" in text and "-4.5" in text
    assert "grad_fn" not in repr(mg.tensor([1.0], device=device))
    assert "float64" in repr(mg.tensor([1.0], dtype=mg.float64, device=device))
    # the dtypes the values imply are left out, as PyTorch does
    assert "dtype" not in repr(mg.tensor([3, 4], device=device))
    assert "dtype" not in repr(mg.tensor([True], device=device))
    assert "int32" in repr(mg.tensor([3, 4], dtype=mg.int32, device=device))
    if device != "numpy":
        assert device in repr(x)


def test_iteration_and_len(device):
    data = np.arange(6, dtype=F32).reshape(3, 2)
    t = mg.tensor(data, device=device, requires_grad=True)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3
    for row, expected in zip(rows, data):
        assert isinstance(row, mg.Tensor) and row.shape == (2,)
        np.testing.assert_array_equal(row.numpy(), expected)
    rows[1].sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 0], [1, 1], [0, 0]])
    with pytest.raises(TypeError):
        len(mg.tensor(1.0, device=device))


# ------------------------------------------------------------------ indexing

INDEXES = [
    0, -1, 2, slice(None), slice(1, 3), slice(None, None, 2), slice(1, 4, 3),
    (0, 1), (-1, -2), (slice(None), 1), (1, slice(None, None, 2)), (Ellipsis, 0),
    (Ellipsis, slice(1, None)), (None, 0), (slice(None), None, slice(1, 3)),
    [0, 2, 2], [-1, 0], np.array([1, 1, 0]), np.array([[0, 1], [2, 3]]),
    (np.array([0, 1, 1]), np.array([2, 0, 2])), (np.array([0, 3]), slice(None)),
    (slice(None), np.array([2, 2, 0])), (1, np.array([0, 2])),
    np.array([True, False, True, False]), "mask",
]


@pytest.mark.parametrize("key", INDEXES, ids=[repr(k).replace(" ", "") for k in INDEXES])
def test_indexing_matches_numpy(device, key):
    data = np.arange(12, dtype=F32).reshape(4, 3)
    if isinstance(key, str):
        key = data % 2 == 0
    t = mg.tensor(data, device=device)
    out = t[key]
    expected = data[key]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.dtype == F32


def test_indexing_with_tensor_keys(device):
    data = np.arange(12, dtype=F32).reshape(4, 3)
    t = mg.tensor(data, device=device)
    idx = mg.tensor([3, 0, 3], device=device)
    np.testing.assert_array_equal(t[idx].numpy(), data[[3, 0, 3]])
    mask = t > 5
    np.testing.assert_array_equal(t[mask].numpy(), data[data > 5])
    np.testing.assert_array_equal(t[idx, 1].numpy(), data[[3, 0, 3], 1])


def test_basic_slice_is_a_view(device):
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    row = t[1]
    row[0] = 30.0
    assert t.numpy()[1, 0] == 30.0
    picked = t[np.array([0])]
    picked[0, 0] = -1.0
    assert t.numpy()[0, 0] == 1.0  # integer-array indexing copies, as in NumPy


def test_setitem_matches_numpy(device):
    data = np.zeros((3, 4), dtype=F32)
    t = mg.tensor(data, device=device)
    for key, value in [((0, slice(None)), 1.0), (np.array([2, 2]), 5.0),
                       ((slice(None), -1), np.array([7.0, 8.0, 9.0], dtype=F32)),
                       (data > 8, 0.5)]:
        t[key] = value
        data[key] = value
        np.testing.assert_array_equal(t.numpy(), data)
    t[mg.tensor([0, 1], device=device)] = mg.tensor([[3.0] * 4, [4.0] * 4], device=device)
    data[[0, 1]] = [[3.0] * 4, [4.0] * 4]
    np.testing.assert_array_equal(t.numpy(), data)


def test_bool_of_tensors(device):
    assert bool(mg.tensor([1.0], device=device)) is True
    assert bool(mg.tensor(0.0, device=device)) is False
    assert bool(mg.tensor([[2]], device=device) > 1) is True


# ------------------------------------------------------------------ PyTorch's other spellings

SPELLINGS = {
    "t": lambda t: t.t(),
    "neg": lambda t: t.neg(),
    "pow": lambda t: t.abs().pow(1.5),
    "square": lambda t: t.square(),
    "mm": lambda t: t.mm(t.t()),
    "masked_fill": lambda t: t.masked_fill(t > 0.5, 2.0),
    "softmax": lambda t: t.softmax(1),
    "log_softmax": lambda t: t.log_softmax(0),
    "std": lambda t: t.std(1),
    "std_all": lambda t: t.std(),
    "expand_as": lambda t: t[:1].expand_as(t),
    "maximum": lambda t: t.maximum(t * 0.5),
    "logsumexp": lambda t: (t * 300).logsumexp(1),
    "logsumexp_keepdim": lambda t: t.logsumexp((0, 1), keepdim=True),
    "minimum": lambda t: t.minimum(t.t().t() * 2),
}


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_pytorch_spellings_match_pytorch(device, name):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((4, 6))
    mine = mg.tensor(data, dtype=mg.float64, device=device, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    out, ref = SPELLINGS[name](mine), SPELLINGS[name](theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_split_and_chunk(device):
    t = mg.tensor(np.arange(24.0).reshape(4, 6), device=device)
    assert [p.shape for p in t.split(4, dim=1)] == [(4, 4), (4, 2)]
    assert [p.shape for p in t.split([1, 3])] == [(1, 6), (3, 6)]
    assert [p.shape for p in t.chunk(4, dim=1)] == [(4, 2), (4, 2), (4, 2)]
    assert [p.shape for p in t.chunk(3)] == [(2, 6), (2, 6)]
    np.testing.assert_array_equal(mg.cat(t.split(4, dim=1), axis=1).numpy(), t.numpy())
    with pytest.raises(ValueError, match="add up"):
        t.split([1, 2])


def test_spellings_at_their_edges(device):
    ints = mg.tensor([1, 2, 3], device=device)
    filled = ints.masked_fill(ints > 1, 0.5)  # the tensor's dtype is kept, as PyTorch
    assert filled.dtype == I64
    np.testing.assert_array_equal(filled.numpy(), [1, 0, 0])
    scalar = mg.tensor(2.0, device=device)
    assert scalar.transpose(0, -1).shape == () and scalar.t().shape == ()
    with pytest.raises(IndexError):
        scalar.flatten(3)
    assert [p.shape for p in mg.zeros(0, device=device).split(2)] == [(0,)]
    assert [p.shape for p in mg.ones(4, device=device).split(np.int64(2))] == [(2,), (2,)]


def test_small_conversions_and_in_place_clamp(device):
    t = mg.tensor([[-2.0, 0.5], [3.0, -0.25]], device=device)
    assert t.dim() == 2 and t.contiguous() is t
    assert t.int().dtype == np.int32 and t.bool().dtype == np.bool_
    assert t.type_as(mg.ones(1, dtype=mg.float64)).dtype == F64
    assert t.clamp_(-1.0, 1.0) is t
    np.testing.assert_array_equal(t.numpy(), [[-1.0, 0.5], [1.0, -0.25]])
    with pytest.raises(ValueError, match="at most 2 dims"):
        mg.zeros(2, 2, 2).t()
