"""Every differentiable op of the contract, gradchecked in float64 on every usable device.

``mg.gradcheck`` reduces the output along a fixed random direction and compares the
vector-Jacobian product with central differences, so each check covers the whole
Jacobian of the op, not only the gradient of a sum. Where a gradient has a simple
closed form (ties of max/min, repeated indices, a tensor used twice) it is also
asserted exactly.
"""

import numpy as np
import pytest

import minigrad as mg

F64 = np.float64


def _arr(shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, high, size=shape)
    return rng.standard_normal(shape)


def _leaf(data, device):
    return mg.tensor(np.asarray(data, dtype=F64), dtype=mg.float64, device=device,
                     requires_grad=True)


def check(fn, *arrays, device, **tol):
    """Gradcheck ``fn`` at float64 leaves made from ``arrays`` on ``device``."""
    inputs = [_leaf(a, device) for a in arrays]
    assert mg.gradcheck(fn, inputs, **tol) is True


def _away_from_zero(shape, seed=0):
    """Values in +-[0.3, 1.5]: no kinks of abs/relu/clip within a finite-difference step."""
    a = _arr(shape, seed, 0.3, 1.5)
    return a * np.where(_arr(shape, seed + 1) > 0, 1.0, -1.0)


# ------------------------------------------------------------------ binary operators

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_same_shape(device, name):
    a = _arr((3, 4), 1, 0.5, 2.0)
    b = _arr((3, 4), 2, 0.5, 2.0)
    check(BINARY[name], a, b, device=device)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 1), (1, 4)), ((4,), (3, 4)), ((3, 4), (4,)), ((), (3, 4)), ((2, 3, 4), (3, 1))],
)
def test_binary_broadcasting(device, name, shape_a, shape_b):
    a = _arr(shape_a, 3, 0.5, 2.0)
    b = _arr(shape_b, 4, 0.5, 2.0)
    check(BINARY[name], a, b, device=device)


def test_broadcast_gradient_sums_over_broadcast_axes(device):
    a = _leaf(np.ones((3, 1)), device)
    b = _leaf(np.ones((1, 4)), device)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full((1, 4), 3.0))
    s = _leaf(2.0, device)
    m = _leaf(np.arange(12.0).reshape(3, 4), device)
    (s * m).sum().backward()
    assert s.grad.shape == ()
    assert s.grad.item() == pytest.approx(66.0)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 2.5])
def test_pow_scalar_exponent(device, exponent):
    check(lambda a: a ** exponent, _arr((2, 3), 5, 0.5, 2.0), device=device)


def test_pow_tensor_exponent_closed_form(device):
    a = _leaf([0.5, 2.0, 3.0], device)
    b = _leaf([2.0, -1.0, 0.5], device)
    (a ** b).sum().backward()
    an, bn = a.numpy(), b.numpy()
    np.testing.assert_allclose(a.grad.numpy(), bn * an ** (bn - 1))
    np.testing.assert_allclose(b.grad.numpy(), an ** bn * np.log(an))


def test_unary_negation(device):
    check(lambda a: -a, _arr((3, 2), 6), device=device)


# ------------------------------------------------------------------ reflected forms

REFLECTED = {
    "2*t": lambda t: 2 * t,
    "t*2.5": lambda t: t * 2.5,
    "1-t": lambda t: 1 - t,
    "t-1": lambda t: t - 1,
    "3+t": lambda t: 3 + t,
    "2/t": lambda t: 2 / t,
    "t/3": lambda t: t / 3,
    "2**t": lambda t: 2 ** t,
    "t/np.array": lambda t: t / np.array([1.5, -2.0, 4.0]),
    "np.array-t": lambda t: np.array([1.0, 2.0, 3.0]) - t,
    "np.array*t": lambda t: np.array([[1.0], [-2.0]]) * t,
    "np.array/t": lambda t: np.array([1.0, 2.0, 3.0]) / t,
    "np.array+t": lambda t: np.array([0.5, 0.25, 1.0]) + t,
    "np.array@t": lambda t: np.array([[1.0, 2.0], [3.0, -1.0]]) @ t,
    "t@np.array": lambda t: t @ np.array([[1.0], [2.0], [3.0]]),
    "np.float64*t": lambda t: np.float64(1.5) * t,
}


@pytest.mark.parametrize("name", sorted(REFLECTED))
def test_reflected_with_scalars_and_arrays(device, name):
    check(REFLECTED[name], _arr((2, 3), 7, 0.5, 2.0), device=device)


def test_reflected_values(device):
    t = mg.tensor([1.0, 2.0, 4.0], device=device)
    np.testing.assert_allclose((1 - t).numpy(), [0.0, -1.0, -3.0])
    np.testing.assert_allclose((2 / t).numpy(), [2.0, 1.0, 0.5])
    np.testing.assert_allclose((2 ** t).numpy(), [2.0, 4.0, 16.0])
    np.testing.assert_allclose((np.array([4.0, 4.0, 4.0]) / t).numpy(), [4.0, 2.0, 1.0])
    assert isinstance(np.array([1.0, 2.0, 3.0]) - t, mg.Tensor)


# ------------------------------------------------------------------ unary functions

UNARY = {
    "exp": (lambda t: t.exp(), None),
    "mg.exp": (lambda t: mg.exp(t), None),
    "log": (lambda t: t.log(), (0.3, 2.0)),
    "mg.log": (lambda t: mg.log(t), (0.3, 2.0)),
    "sqrt": (lambda t: t.sqrt(), (0.3, 2.0)),
    "mg.sqrt": (lambda t: mg.sqrt(t), (0.3, 2.0)),
    "abs": (lambda t: t.abs(), "signed"),
    "mg.abs": (lambda t: mg.abs(t), "signed"),
    "builtin abs": (lambda t: abs(t), "signed"),
    "tanh": (lambda t: t.tanh(), None),
    "mg.tanh": (lambda t: mg.tanh(t), None),
    "sigmoid": (lambda t: t.sigmoid(), None),
    "mg.sigmoid": (lambda t: mg.sigmoid(t), None),
    "relu": (lambda t: t.relu(), "signed"),
    "mg.relu": (lambda t: mg.relu(t), "signed"),
    "clip": (lambda t: t.clip(-0.8, 0.9), "signed"),
    "clip min only": (lambda t: t.clip(min=-0.8), "signed"),
    "clip max only": (lambda t: t.clip(max=0.9), "signed"),
    "mg.clip": (lambda t: mg.clip(t, -0.8, 0.9), "signed"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(device, name):
    fn, domain = UNARY[name]
    if domain == "signed":
        x = _away_from_zero((3, 4), 8)
        # keep clip's bounds clear of the inputs too
        x = np.where(np.abs(np.abs(x) - 0.85) < 0.1, x * 0.5, x)
    elif domain is None:
        x = _arr((3, 4), 8)
    else:
        x = _arr((3, 4), 8, *domain)
    check(fn, x, device=device)


def test_kinks_closed_form(device):
    """abs, relu and clip at and around their kinks: PyTorch's conventions."""
    x = _leaf([-2.0, 0.0, 1.0, 3.0], device)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0, 1.0])
    x.grad = None
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 1.0])
    x.grad = None
    # clip passes the gradient inside [low, high], ends included (torch.clamp)
    x.clip(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 0.0])


@pytest.mark.filterwarnings("ignore:divide by zero")  # 0 ** -0.5 is inf, as it should be
def test_pow_at_zero_follows_pytorch(device):
    """d(a^b)/da is 0 where b == 0 and d(a^b)/db is 0 where a == 0 and b >= 0 (PyTorch's
    values), not the NaN of 0 * inf; elsewhere the usual formulas."""
    a = _leaf([0.0, 1.0, 2.0, 0.0, 0.0, 2.0], device)
    b = _leaf([0.0, 0.0, 2.0, 2.0, 0.5, 0.5], device)
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0, 0, 4, 0, np.inf, 0.5 * 2**-0.5])
    np.testing.assert_allclose(b.grad.numpy(), [0, 0, 4 * np.log(2), 0, 0, 2**0.5 * np.log(2)])
    x = _leaf([0.0, 1.0, 2.0], device)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])
    y = _leaf([0.0, 1.0, 2.0], device)
    (0.0**y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 0, 0])


def test_pow_second_order_with_a_number_exponent(device):
    x = _leaf([0.5, 1.0, 2.0], device)
    (g,) = mg.grad((x**3).sum(), [x], create_graph=True)
    (h,) = mg.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


def test_sigmoid_extreme_logits(device):
    x = _leaf([-800.0, -30.0, 0.0, 30.0, 800.0], device)
    y = x.sigmoid()
    assert np.all(np.isfinite(y.numpy()))
    y.sum().backward()
    s = 1 / (1 + np.exp(-np.clip(x.numpy(), -500, 500)))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), rtol=1e-6, atol=1e-30)


# ------------------------------------------------------------------ reductions

REDUCTIONS = {
    "sum": lambda t, **kw: t.sum(**kw),
    "mean": lambda t, **kw: t.mean(**kw),
    "amax": lambda t, **kw: t.amax(**kw),
    "amin": lambda t, **kw: t.amin(**kw),
    "var": lambda t, **kw: t.var(**kw),
    "var0": lambda t, **kw: t.var(correction=0, **kw),
    "mg.sum": lambda t, **kw: mg.sum(t, **kw),
    "mg.mean": lambda t, **kw: mg.mean(t, **kw),
    "mg.amax": lambda t, **kw: mg.amax(t, **kw),
    "mg.amin": lambda t, **kw: mg.amin(t, **kw),
    "mg.var": lambda t, **kw: mg.var(t, **kw),
}

AXES = [
    {},
    {"axis": 0},
    {"axis": 1},
    {"axis": -1},
    {"axis": (0, 2)},
    {"axis": (-1, -3)},
    {"axis": 1, "keepdims": True},
    {"axis": (0, -1), "keepdims": True},
    {"keepdims": True},
]


@pytest.mark.parametrize("kwargs", AXES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                                   kw.items()) or "all")
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(device, name, kwargs):
    # distinct values: max/min have a unique winner, so the function is smooth here
    x = np.random.default_rng(9).permutation(24).reshape(2, 3, 4) / 7.0 - 1.0
    check(lambda t: REDUCTIONS[name](t, **kwargs), x, device=device)


def test_reduction_values_match_numpy(device):
    x = _arr((2, 3, 4), 10)
    t = mg.tensor(x, device=device)
    np.testing.assert_allclose(t.sum(axis=(0, -1)).numpy(), x.sum(axis=(0, -1)))
    np.testing.assert_allclose(t.mean(axis=-2, keepdims=True).numpy(),
                               x.mean(axis=-2, keepdims=True))
    np.testing.assert_allclose(t.amax(axis=1).numpy(), x.max(axis=1))
    np.testing.assert_allclose(t.amin(axis=(1, 2)).numpy(), x.min(axis=(1, 2)))
    np.testing.assert_allclose(t.var(axis=2).numpy(), x.var(axis=2, ddof=1))
    np.testing.assert_allclose(t.var(axis=2, correction=0).numpy(), x.var(axis=2))
    np.testing.assert_allclose(t.var().item(), x.var(ddof=1))


def test_var_gradient_closed_form(device):
    x = np.array([1.0, 2.0, 4.0, 7.0])
    for correction in (0, 1):
        t = _leaf(x, device)
        t.var(correction=correction).backward()
        expected = 2 * (x - x.mean()) / (len(x) - correction)
        np.testing.assert_allclose(t.grad.numpy(), expected)


# max/min with ties.
# Rule (as torch.amax / torch.amin): the gradient of a reduction is shared equally among
# the elements that tie for the maximum (minimum) of their slice; the others get 0.

def test_max_ties_share_gradient_equally(device):
    x = _leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], device)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])

    x.grad = None
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])

    x.grad = None
    x.amax(axis=0, keepdims=True).backward(mg.tensor([[1.0, 2.0, 4.0]], dtype=mg.float64,
                                                    device=device))
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 2.0, 4.0], [1.0, 0.0, 0.0]])


def test_min_ties_share_gradient_equally(device):
    x = _leaf([[5.0, 1.0, 1.0, 1.0], [0.0, 2.0, 0.0, 3.0]], device)
    x.min().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 0], [0.5, 0, 0.5, 0]])

    x.grad = None
    x.amin(axis=-1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0, 0.5, 0]])


def test_max_min_ties_match_torch_amax(device):
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]])
    for name, axis in [("amax", None), ("amax", 1), ("amax", 0), ("amin", 1), ("amin", None)]:
        x = _leaf(data, device)
        getattr(x, name)(axis=axis).sum().backward()
        tx = torch.tensor(data, requires_grad=True)
        dims = tuple(range(data.ndim)) if axis is None else axis
        reduce = torch.amax if name == "amax" else torch.amin
        reduce(tx, dim=dims).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_maximum_minimum_ties_split_the_gradient(device):
    a = _leaf([1.0, 2.0, 3.0], device)
    b = _leaf([1.0, 5.0, 0.0], device)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])
    a.grad = b.grad = None
    mg.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])


# ------------------------------------------------------------------ movement

MOVEMENT = {
    "reshape ints": lambda t: t.reshape(4, 6),
    "reshape tuple": lambda t: t.reshape((6, -1)),
    "mg.reshape": lambda t: mg.reshape(t, (3, 8)),
    "transpose no args": lambda t: t.transpose(),
    "transpose two axes": lambda t: t.transpose(0, 2),
    "transpose two negative axes": lambda t: t.transpose(-1, -2),
    "transpose permutation": lambda t: t.transpose(1, 2, 0),
    "transpose tuple": lambda t: t.transpose((2, 0, 1)),
    "mg.transpose": lambda t: mg.transpose(t, 1, 0, 2),
    "T": lambda t: t.T,
    "flatten": lambda t: t.flatten(),
    "flatten start_dim": lambda t: t.flatten(1),
    "mg.flatten": lambda t: mg.flatten(t),
    "unsqueeze 0": lambda t: t.unsqueeze(0),
    "unsqueeze -1": lambda t: t.unsqueeze(-1),
    "mg.unsqueeze": lambda t: mg.unsqueeze(t, 1),
    "broadcast_to": lambda t: t[:, :1, :].broadcast_to((5, 2, 3, 4)),
    "mg.broadcast_to": lambda t: mg.broadcast_to(t[:1], (3, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(MOVEMENT))
def test_movement(device, name):
    check(MOVEMENT[name], _arr((2, 3, 4), 11), device=device)


@pytest.mark.parametrize("fn", [
    lambda t: t.squeeze(),
    lambda t: t.squeeze(1),
    lambda t: t.squeeze(-1),
    lambda t: mg.squeeze(t, 3),
], ids=["all", "axis1", "axis-1", "mg.squeeze"])
def test_squeeze(device, fn):
    check(fn, _arr((2, 1, 3, 1), 12), device=device)


def test_movement_shapes(device):
    t = mg.zeros(2, 3, 4, device=device)
    assert t.transpose().shape == (4, 3, 2)
    assert t.transpose(0, 2).shape == (4, 3, 2)
    assert t.transpose(1, 2, 0).shape == (3, 4, 2)
    assert t.T.shape == (4, 3, 2)
    assert t.flatten().shape == (24,)
    assert t.unsqueeze(1).shape == (2, 1, 3, 4)
    assert mg.zeros(2, 1, 3, 1, device=device).squeeze().shape == (2, 3)
    assert mg.zeros(2, 1, 3, 1, device=device).squeeze(1).shape == (2, 3, 1)
    assert mg.zeros(3, 1, device=device).broadcast_to((2, 3, 4)).shape == (2, 3, 4)


# ------------------------------------------------------------------ matmul

@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 4), (4, 2)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 2)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((4,), (2, 4, 3)),
], ids=lambda s: "x".join(map(str, s)))
def test_matmul(device, shape_a, shape_b):
    check(lambda a, b: a @ b, _arr(shape_a, 13), _arr(shape_b, 14), device=device)


def test_matmul_functions_and_values(device):
    a, b = _arr((2, 3, 4), 15), _arr((4, 2), 16)
    check(lambda x, y: mg.matmul(x, y), a, b, device=device)
    check(lambda x, y: x.matmul(y), a, b, device=device)
    out = mg.tensor(a, device=device) @ mg.tensor(b, device=device)
    np.testing.assert_allclose(out.numpy(), a @ b)
    v = _arr((4,), 17)
    one = mg.tensor(v, device=device) @ mg.tensor(v, device=device)
    assert one.shape == ()
    assert one.item() == pytest.approx(v @ v)


# ------------------------------------------------------------------ indexing

INDEXES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "step": slice(None, None, 2),
    "step 2": (slice(None), slice(0, 3, 2)),
    "int and slice": (0, slice(1, None)),
    "ellipsis": (Ellipsis, 2),
    "none": (None, slice(None), 1),
    "int array repeated": np.array([0, 2, 0, 0]),
    "list repeated": [2, 2, 1],
    "2-D int array": np.array([[0, 1], [1, 1]]),
    "tuple of arrays": (np.array([0, 1, 1, 0]), np.array([3, 3, 0, 3])),
    "array and slice": (np.array([1, 1]), slice(None, 2)),
    "bool mask rows": np.array([True, False, True]),
    "bool mask full": "mask",
}


def _index(name, x):
    key = INDEXES[name]
    return x > 0 if isinstance(key, str) else key


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_indexing(device, name):
    x = _arr((3, 4), 18)
    key = _index(name, x)
    check(lambda t: t[key], x, device=device)


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_index_gradient_scatter_adds(device, name):
    """d(sum(w * x[key]))/dx is w scatter-added back, repeated indices included."""
    x = _arr((3, 4), 19)
    key = _index(name, x)
    w = _arr(np.empty((3, 4))[key].shape, 20)
    t = _leaf(x, device)
    (t[key] * mg.tensor(w, dtype=mg.float64, device=device)).sum().backward()
    expected = np.zeros_like(x)
    np.add.at(expected, key, w)
    np.testing.assert_allclose(t.grad.numpy(), expected)


def test_index_repeated_counts(device):
    t = _leaf([1.0, 2.0, 3.0], device)
    t[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [3.0, 0.0, 1.0])


def test_index_with_tensors(device):
    x = _arr((4, 3), 21)
    idx = mg.tensor([3, 0, 3], device=device)
    check(lambda t: t[idx], x, device=device)
    mask = mg.tensor(x[:, 0] > 0, device=device)
    check(lambda t: t[mask], x, device=device)


# ------------------------------------------------------------------ where, maximum, ...

def test_where(device):
    cond = mg.tensor([[True, False, True], [False, False, True]], device=device)
    check(lambda a, b: mg.where(cond, a, b), _arr((2, 3), 22), _arr((2, 3), 23),
          device=device)
    # condition and operands broadcast
    row = mg.tensor([True, False, True], device=device)
    check(lambda a, b: mg.where(row, a, b), _arr((2, 3), 24), _arr((2, 1), 25),
          device=device)
    check(lambda a: mg.where(cond, a, 0.0), _arr((2, 3), 26), device=device)
    check(lambda b: mg.where(cond, 1.5, b), _arr((2, 3), 27), device=device)


def test_where_closed_form(device):
    cond = mg.tensor([True, False, True], device=device)
    a = _leaf([1.0, 2.0, 3.0], device)
    b = _leaf([4.0, 5.0, 6.0], device)
    out = mg.where(cond, a, b)
    np.testing.assert_array_equal(out.numpy(), [1.0, 5.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 1.0, 0.0])


def test_where_with_numpy_condition_follows_the_tensors_device(device):
    """A NumPy condition is data, like a NumPy operand of ``t * array``: it goes to the
    device of the tensors it selects between."""
    a = _leaf([1.0, 2.0, 3.0], device)
    out = mg.where(np.array([True, False, True]), a, 0.0)
    assert out.device == device
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 1.0])
    out = mg.where([False, True, True], 1.0, a)
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("fn", [mg.maximum, mg.minimum], ids=["maximum", "minimum"])
def test_maximum_minimum(device, fn):
    check(fn, _arr((3, 4), 28), _arr((3, 4), 29), device=device)
    check(fn, _arr((3, 1), 30), _arr((4,), 31), device=device)
    check(lambda a: fn(a, 0.1), _away_from_zero((3, 4), 32), device=device)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(device, axis):
    shapes = {0: [(1, 3), (2, 3), (3, 3)], 1: [(2, 1), (2, 2), (2, 3)],
              -1: [(2, 1), (2, 2), (2, 3)]}[axis]
    arrays = [_arr(s, 33 + i) for i, s in enumerate(shapes)]
    check(lambda *ts: mg.concatenate(ts, axis=axis), *arrays, device=device)
    check(lambda *ts: mg.cat(list(ts), dim=axis), *arrays, device=device)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(device, axis):
    arrays = [_arr((2, 3), 40 + i) for i in range(3)]
    check(lambda *ts: mg.stack(ts, axis=axis), *arrays, device=device)
    out = mg.stack([mg.tensor(a, device=device) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.numpy(), np.stack(arrays, axis=axis))


# ------------------------------------------------------------------ dtype and device

def test_astype_float32_to_float64_gradient(device):
    x = mg.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    y = x.astype(mg.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())
    # the cast is the identity for the gradient (checked with a step float32 resolves)
    check(lambda t: t.astype(mg.float32).astype(mg.float64) * 3.0, _arr((2, 3), 44),
          device=device, eps=1e-3, atol=1e-3)
    check(lambda t: t.double() * t.float().double(), _arr((2, 3), 45), device=device,
          eps=1e-3, atol=1e-3)


def test_to_same_device(device):
    check(lambda t: t.to(device) * 2.0, _arr((2, 3), 46), device=device)
    x = _leaf([1.0, 2.0], device)
    (x.to(device) * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# ------------------------------------------------------------------ a tensor used twice

def test_tensor_used_twice(device):
    x = _arr((3,), 47, 0.5, 2.0)
    check(lambda t: t * t, x, device=device)
    check(lambda t: t + t, x, device=device)
    check(lambda t: t.exp() * t.tanh(), x, device=device)
    check(lambda t: t.sigmoid() * t.log(), x, device=device)

    t = _leaf(x, device)
    (t * t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 * x)
    t.grad = None
    (t + t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.full(3, 2.0))
    t.grad = None
    (t.exp() * t.tanh()).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(),
                               np.exp(x) * np.tanh(x) + np.exp(x) * (1 - np.tanh(x) ** 2))


def test_diamond_graph(device):
    """A value reused along two paths of different depth gets both contributions."""
    x = _leaf([0.5, -1.0], device)
    a = x * 2
    b = a.tanh() + a * a
    (b * a).sum().backward()
    xn = x.numpy()
    an = 2 * xn
    # d/da [(tanh a + a^2) a] = (1 - tanh^2 a) a + 2a^2 + tanh a + a^2
    da = (1 - np.tanh(an) ** 2) * an + 3 * an ** 2 + np.tanh(an)
    np.testing.assert_allclose(x.grad.numpy(), 2 * da)


def test_composite_expression(device):
    check(lambda w, x, b: ((x @ w + b).tanh() ** 2).mean(axis=0).sum(),
          _arr((3, 2), 48), _arr((4, 3), 49), _arr((2,), 50), device=device)
