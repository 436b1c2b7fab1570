"""PyTorch's math, logic, activation and small nn vocabulary, against torch on every device:
values, gradients (float64 gradcheck and torch's own), and second order where defined."""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")

TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def _data(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _pair(values, device, dtype=np.float64, grad=True):
    """The same values as a minigrad tensor on ``device`` and a torch tensor."""
    values = np.asarray(values, dtype=dtype)
    return (mg.tensor(values, device=device, requires_grad=grad),
            torch.tensor(values, requires_grad=grad))


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _close(ours, theirs, dtype=np.float64, **tol):
    tol = {**TOL[dtype], **tol}
    np.testing.assert_allclose(_np(ours), _np(theirs), **tol)
    assert ours.shape == tuple(theirs.shape)


def compare(fn, torch_fn, arrays, device, dtype=np.float64, second_order=True, **tol):
    """Values and gradients of ``fn`` (minigrad) and ``torch_fn`` at the same inputs, and,
    with ``second_order``, the gradients of a recorded (create_graph) gradient."""
    pairs = [_pair(a, device, dtype) for a in arrays]
    ours, theirs = fn(*[p[0] for p in pairs]), torch_fn(*[p[1] for p in pairs])
    _close(ours, theirs, dtype, **tol)
    assert ours.dtype == np.dtype(dtype)
    direction = np.random.default_rng(7).standard_normal(ours.shape).astype(dtype)
    v_ours, v_theirs = mg.tensor(direction, device=device), torch.tensor(direction)
    g_ours = mg.grad((ours * v_ours).sum(), [p[0] for p in pairs], create_graph=second_order)
    g_theirs = torch.autograd.grad((theirs * v_theirs).sum(), [p[1] for p in pairs],
                                   create_graph=second_order)
    for a, b in zip(g_ours, g_theirs):
        _close(a, b, dtype, **tol)
    if second_order and any(g.requires_grad for g in g_ours):
        h_ours = mg.grad(sum((g * g).sum() for g in g_ours), [p[0] for p in pairs],
                         allow_unused=True)
        h_theirs = torch.autograd.grad(sum((g * g).sum() for g in g_theirs),
                                       [p[1] for p in pairs], allow_unused=True)
        for a, b in zip(h_ours, h_theirs):
            if b is None:
                assert a is None or not np.any(a.numpy())
            else:
                _close(a, b, dtype, **tol)


def gradcheck(fn, arrays, device, **tol):
    leaves = [mg.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=True)
              for a in arrays]
    assert mg.gradcheck(fn, leaves, **tol) is True


# ------------------------------------------------------------------ unary math

# name, the domain of the test values, whether the gradient is zero (piecewise constant)
UNARY = [
    ("sin", (-3, 3), False), ("cos", (-3, 3), False), ("tan", (-1.2, 1.2), False),
    ("asin", (-0.9, 0.9), False), ("acos", (-0.9, 0.9), False), ("atan", (-4, 4), False),
    ("sinh", (-3, 3), False), ("cosh", (-3, 3), False), ("erf", (-3, 3), False),
    ("floor", (-3, 3), True), ("ceil", (-3, 3), True), ("round", (-3, 3), True),
    ("trunc", (-3, 3), True), ("sign", (-3, 3), True),
]


@pytest.mark.parametrize("name, domain, stepwise", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_matches_torch(device, name, domain, stepwise, dtype):
    x = _data((3, 4), 1, *domain)
    x[0, :2] = [0.0, 0.5]  # a zero, and a half that rounds to even
    compare(lambda t: getattr(t, name)(), lambda t: getattr(torch, name)(t), [x], device,
            dtype, second_order=not stepwise)
    compare(lambda t: getattr(mg, name)(t), lambda t: getattr(torch, name)(t), [x], device,
            dtype, second_order=False)


@pytest.mark.parametrize("name", [u[0] for u in UNARY if not u[2]])
def test_unary_gradcheck(device, name):
    domain = next(u[1] for u in UNARY if u[0] == name)
    gradcheck(lambda t: getattr(t, name)(), [_data((2, 3), 2, *domain)], device)


@pytest.mark.parametrize("name", ["sin", "cos", "atan", "erf", "sinh"])
@pytest.mark.parametrize("dtype", [mg.int64, mg.int8, mg.bool_])
def test_float_functions_of_integers_give_float32(device, name, dtype):
    x = mg.tensor([0, 1, 1, 0], dtype=dtype, device=device)
    out = getattr(x, name)()
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.numpy(), getattr(torch, name)(torch.tensor(x.numpy())),
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_rounding_keeps_integers(device, name):
    x = mg.tensor([-3, 0, 7], device=device)
    out = getattr(x, name)()
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(torch.tensor([-3, 0, 7])))


def test_rounding_special_values_and_decimals(device):
    values = [-np.inf, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, np.inf, np.nan, 1.23456, -987.654]
    x, xt = _pair(values, device, grad=False)
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(xt, name)().numpy())
    for decimals in (2, -1):
        for dtype in (np.float32, np.float64):
            x, xt = _pair(values, device, dtype)
            _close(x.round(decimals=decimals), xt.round(decimals=decimals), dtype)
            _close(mg.round(x, decimals=decimals), torch.round(xt, decimals=decimals), dtype)
    x, xt = _pair(values[1:-4], device)
    x.round(decimals=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)


def test_erf_is_accurate_to_float64_round_off(device):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.standard_normal(4000) * 3, rng.uniform(-30, 30, 500),
                             [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 5e-324, 1e-300,
                              26.5, -27.0, np.inf, -np.inf, np.nan]])
    ours = mg.tensor(values, device=device).erf().numpy()
    theirs = torch.tensor(values).erf().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-15, atol=0)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    exact = np.array([math.erf(v) for v in values[:200]])
    np.testing.assert_allclose(ours[:200], exact, rtol=2e-15, atol=0)


# ------------------------------------------------------------------ binary math

BINARY = [  # name, minigrad, torch, whether second order is skipped (stepwise)
    ("atan2", lambda a, b: a.atan2(b), torch.atan2, False),
    ("atan2 function", mg.atan2, torch.atan2, False),
    ("remainder", lambda a, b: a % b, lambda a, b: a % b, False),
    ("remainder function", mg.remainder, torch.remainder, True),
    ("fmod", lambda a, b: a.fmod(b), torch.fmod, False),
    ("fmod function", mg.fmod, torch.fmod, True),
    ("copysign", lambda a, b: a.copysign(b), torch.copysign, False),
    ("add alpha", lambda a, b: a.add(b, alpha=2.5), lambda a, b: a.add(b, alpha=2.5), False),
    ("sub alpha", lambda a, b: mg.sub(a, b, alpha=-3), lambda a, b: torch.sub(a, b, alpha=-3),
     False),
    ("mul", lambda a, b: mg.mul(a, b), torch.mul, False),
    ("div", lambda a, b: a.div(b), lambda a, b: a.div(b), False),
    ("div floor", lambda a, b: mg.div(a, b, rounding_mode="floor"),
     lambda a, b: torch.div(a, b, rounding_mode="floor"), True),
    ("div trunc", lambda a, b: a.div(b, rounding_mode="trunc"),
     lambda a, b: a.div(b, rounding_mode="trunc"), True),
]


@pytest.mark.parametrize("name, fn, torch_fn, stepwise", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_matches_torch(device, name, fn, torch_fn, stepwise, dtype):
    a = _data((3, 4), 3, -5, 5)
    b = _data((4,), 4, 0.5, 2) * np.array([1, -1, 1, -1])  # broadcast, both signs
    compare(fn, torch_fn, [a, b], device, dtype, second_order=not stepwise)


@pytest.mark.parametrize("name", ["atan2", "remainder", "fmod", "copysign"])
def test_binary_gradcheck(device, name):
    a = _data((2, 3), 5, -5, 5)
    b = _data((2, 3), 6, 0.7, 2) * np.array([1, -1, 1])
    gradcheck(lambda x, y: getattr(x, name)(y), [a, b], device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_remainder_and_floor_division_with_numbers(device, dtype):
    values = [-7.5, -3.0, -0.5, 0.0, 2.0, 6.25]
    x, xt = _pair(values, device, dtype, grad=False)
    for ours, theirs in [(x % 2, xt % 2), (x % -2.5, xt % -2.5), (5 % x[4:], 5 % xt[4:]),
                         (x // 2, xt // 2), (x // -0.75, xt // -0.75),
                         (7 // x[4:], 7 // xt[4:]), (x.fmod(-2), xt.fmod(-2)),
                         (x.floor_divide(3), xt.floor_divide(3))]:
        _close(ours, theirs, dtype)
        assert ours.dtype == np.dtype(dtype)


def test_integer_remainders_and_divisions(device):
    a = np.array([7, -7, 7, -7, 0, 5])
    b = np.array([2, 2, -2, -2, 3, 5])
    x, y = mg.tensor(a, device=device), mg.tensor(b, device=device)
    xt, yt = torch.tensor(a), torch.tensor(b)
    for ours, theirs in [(x % y, xt % yt), (x // y, xt // yt), (x.fmod(y), xt.fmod(yt)),
                         (x.remainder(3), xt.remainder(3)), (-9 % y, -9 % yt),
                         (x.div(y, rounding_mode="trunc"), xt.div(yt, rounding_mode="trunc")),
                         (x.div(y, rounding_mode="floor"), xt.div(yt, rounding_mode="floor")),
                         (x.div(y), xt.div(yt)), (mg.div(x, 2), torch.div(xt, 2)),
                         (x.div(2.5, rounding_mode="trunc"), xt.div(2.5, rounding_mode="trunc"))]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


def test_remainder_gradient_to_the_divisor_is_minus_the_floor_quotient(device):
    a, at = _pair([7.0, -7.0, 7.5], device)
    b, bt = _pair([2.0, 2.0, -2.0], device)
    (a % b).sum().backward()
    (at % bt).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), bt.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), [-3.0, 4.0, 4.0])
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0, 1.0])


def test_lerp_matches_torch(device):
    start, end = _data((3, 4), 8), _data((3, 4), 9)
    weight = _data((4,), 10, -0.5, 1.5)
    compare(lambda s, e, w: s.lerp(e, w), torch.lerp, [start, end, weight], device)
    compare(lambda s, e: mg.lerp(s, e, 0.25), lambda s, e: torch.lerp(s, e, 0.25),
            [start, end], device)
    compare(lambda s, e: s.lerp(e, 0.75), lambda s, e: s.lerp(e, 0.75), [start, end], device,
            np.float32)
    gradcheck(lambda s, e, w: s.lerp(e, w), [start, end, weight], device)


# ------------------------------------------------------------------ clamp with tensor bounds


CLAMPS = [  # minigrad, torch, which bounds are tensors
    ("both", lambda t, lo, hi: t.clamp(lo, hi), torch.clamp, "low high"),
    ("min", lambda t, lo: mg.clamp(t, min=lo), lambda t, lo: torch.clamp(t, min=lo), "low"),
    ("max", lambda t, hi: t.clip(max=hi), lambda t, hi: t.clip(max=hi), "high"),
    ("min number", lambda t, hi: t.clamp(0.5, hi),
     lambda t, hi: torch.clamp(t, torch.full_like(hi, 0.5), hi), "high"),
    ("max number", lambda t, lo: t.clamp(lo, 2.5),
     lambda t, lo: torch.clamp(t, lo, torch.full_like(lo, 2.5)), "low"),
]


@pytest.mark.parametrize("name, fn, torch_fn, bounds", CLAMPS, ids=[c[0] for c in CLAMPS])
def test_clamp_with_tensor_bounds_matches_torch(device, name, fn, torch_fn, bounds):
    x = np.array([[0.5, 2.0, -1.0, 3.0, 1.5], [-4.0, 0.0, 5.0, 1.0, 2.0]])
    low = np.array([1.0, 1.0, 1.0, 3.0, 0.0])  # one row of bounds: broadcast
    high = np.array([2.0, 1.0, 0.0, 3.0, 4.0])  # includes high < low and ties
    arrays = [x] + [{"low": low, "high": high}[b] for b in bounds.split()]
    compare(fn, torch_fn, arrays, device, second_order=False)


def test_clamp_with_tensor_bounds_gradcheck_and_second_order(device):
    x = _data((3, 4), 11, -3, 3)
    low, high = _data((4,), 12, -1.5, -0.5), _data((3, 1), 13, 0.5, 1.5)
    gradcheck(lambda t, lo, hi: t.clamp(lo, hi) ** 2, [x, low, high], device)
    compare(lambda t, lo, hi: t.clamp(lo, hi) ** 3, lambda t, lo, hi: t.clamp(lo, hi) ** 3,
            [x, low, high], device)


# ------------------------------------------------------------------ tests and logic


def test_isnan_isinf_isfinite(device):
    values = [0.0, -1.5, np.inf, -np.inf, np.nan, 6e4]
    for dtype in (np.float16, np.float32, np.float64):
        x, xt = _pair(values, device, dtype, grad=False)
        for name in ("isnan", "isinf", "isfinite"):
            ours = getattr(x, name)()
            assert ours.dtype == mg.bool_
            np.testing.assert_array_equal(ours.numpy(), getattr(xt, name)().numpy())
            np.testing.assert_array_equal(getattr(mg, name)(x).numpy(), ours.numpy())
    ints = mg.tensor([1, 2], device=device)
    np.testing.assert_array_equal(ints.isfinite().numpy(), [True, True])


@pytest.mark.parametrize("options", [{}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0},
                                     {"rtol": 0.0, "atol": 0.0}])
def test_isclose(device, options):
    a = [1.0, 1.0 + 1e-6, 1.0 + 1e-4, np.inf, np.inf, np.nan, 0.0, 1e-9, 100.0]
    b = [1.0, 1.0, 1.0, np.inf, -np.inf, np.nan, 1e-9, 0.0, 105.0]
    for dtype in (np.float32, np.float64):
        x, xt = _pair(a, device, dtype, grad=False)
        y, yt = _pair(b, device, dtype, grad=False)
        np.testing.assert_array_equal(x.isclose(y, **options).numpy(),
                                      torch.isclose(xt, yt, **options).numpy())
        np.testing.assert_array_equal(mg.isclose(x, y, **options).numpy(),
                                      torch.isclose(xt, yt, **options).numpy())
    ints, ints_t = mg.tensor([1, 5, 100], device=device), torch.tensor([1, 5, 100])
    np.testing.assert_array_equal(ints.isclose(mg.tensor([1, 6, 101], device=device),
                                               **options).numpy(),
                                  torch.isclose(ints_t, torch.tensor([1, 6, 101]),
                                                **options).numpy())


LOGICAL = ["logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("name", LOGICAL)
def test_logical_functions(device, name):
    a, b = np.array([0.0, 1.5, -2.0, 0.0, np.nan]), np.array([0, 0, 3, 4, 0])
    x, y = mg.tensor(a, device=device), mg.tensor(b, device=device)
    expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
    for ours in (getattr(x, name)(y), getattr(mg, name)(x, y)):
        assert ours.dtype == mg.bool_
        np.testing.assert_array_equal(ours.numpy(), expected)
    np.testing.assert_array_equal(mg.logical_not(x).numpy(),
                                  torch.logical_not(torch.tensor(a)).numpy())
    np.testing.assert_array_equal(y.logical_not().numpy(),
                                  torch.tensor(b).logical_not().numpy())


BITWISE = [
    ("&", lambda a, b: a & b), ("|", lambda a, b: a | b), ("^", lambda a, b: a ^ b),
    ("<<", lambda a, b: a << b), (">>", lambda a, b: a >> b),
    ("bitwise_and", lambda a, b: a.bitwise_and(b)), ("mg.bitwise_or", "bitwise_or"),
    ("mg.bitwise_xor", "bitwise_xor"), ("mg.bitwise_left_shift", "bitwise_left_shift"),
    ("bitwise_right_shift", lambda a, b: a.bitwise_right_shift(b)),
]


@pytest.mark.parametrize("name, fn", BITWISE, ids=[b[0] for b in BITWISE])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_bitwise_on_integers(device, name, fn, dtype):
    a = np.array([0, 1, 5, 12, 127, 3], dtype=dtype)
    b = np.array([3, 1, 2, 6, 1, 0], dtype=dtype)
    fn_mg = getattr(mg, fn) if isinstance(fn, str) else fn
    fn_torch = getattr(torch, fn) if isinstance(fn, str) else fn
    x, y = mg.tensor(a, device=device), mg.tensor(b, device=device)
    xt, yt = torch.tensor(a), torch.tensor(b)
    for ours, theirs in [(fn_mg(x, y), fn_torch(xt, yt)), (fn_mg(x, 2), fn_torch(xt, 2))]:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    if name in ("&", "|", "^", "<<", ">>"):  # reflected, with a number on the left
        np.testing.assert_array_equal(fn(6, x).numpy(), fn(6, xt).numpy())


def test_bitwise_on_bools_and_invert(device):
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    x, y = mg.tensor(a, device=device), mg.tensor(b, device=device)
    xt, yt = torch.tensor(a), torch.tensor(b)
    for op in ("__and__", "__or__", "__xor__"):
        ours = getattr(x, op)(y)
        assert ours.dtype == mg.bool_
        np.testing.assert_array_equal(ours.numpy(), getattr(xt, op)(yt).numpy())
    np.testing.assert_array_equal((~x).numpy(), (~xt).numpy())
    np.testing.assert_array_equal((x & True).numpy(), (xt & True).numpy())
    for dtype in ("int64", "int8", "uint8"):
        ints = np.array([0, 1, -5, 100]).astype(dtype)
        ours = ~mg.tensor(ints, device=device)
        np.testing.assert_array_equal(ours.numpy(), (~torch.tensor(ints)).numpy())
        np.testing.assert_array_equal(mg.bitwise_not(mg.tensor(ints, device=device)).numpy(),
                                      ours.numpy())
        assert ours.dtype == np.dtype(dtype)
    with pytest.raises(TypeError):
        ~mg.tensor([1.0], device=device)
    with pytest.raises(TypeError):
        mg.tensor([1.0], device=device) & mg.tensor([1.0], device=device)


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                          ((0, 1), False)])
def test_any_all_return_bool_tensors(device, name, dim, keepdim):
    a = np.array([[0.0, 0.0, 1.0], [2.0, 3.0, -1.0]])
    for values in (a, a != 0, a.astype(np.int64), np.ones((2, 3)), np.zeros((2, 0))):
        x, xt = mg.tensor(values, device=device), torch.tensor(values)
        args = () if dim is None else (dim, keepdim)
        ours, theirs = getattr(x, name)(*args), getattr(xt, name)(*args)
        assert isinstance(ours, mg.Tensor) and ours.dtype == mg.bool_
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(getattr(mg, name)(x, *args).numpy(), theirs.numpy())
    assert mg.tensor([0, 1], device=device).any() and not mg.tensor([0, 1]).all()


# ------------------------------------------------------------------ methods and functions


def test_type_names_and_casts(device):
    for dtype, name in [(np.float32, "FloatTensor"), (np.float64, "DoubleTensor"),
                        (np.float16, "HalfTensor"), (np.int64, "LongTensor"),
                        (np.int32, "IntTensor"), (np.int16, "ShortTensor"),
                        (np.int8, "CharTensor"), (np.uint8, "ByteTensor"),
                        (np.bool_, "BoolTensor")]:
        x = mg.tensor(np.zeros(2, dtype=dtype), device=device)
        torch_name = torch.zeros(2, dtype=getattr(torch, np.dtype(dtype).name
                                                  .replace("bool", "bool"))).type()
        assert torch_name == "torch." + name
        host = mg.get_backend(device).host_memory
        assert x.type() == ("torch." if host else "torch.cuda.") + name
    x = mg.tensor([1.5, -2.5], device=device, requires_grad=True)
    y = x.type(mg.float64)
    assert y.dtype == mg.float64 and y.device == x.device
    assert x.type("torch.LongTensor").tolist() == [1, -2]
    assert x.half().dtype == mg.float16
    np.testing.assert_array_equal(x.half().numpy(), torch.tensor([1.5, -2.5]).half().numpy())
    y.sum().backward()
    assert x.grad.dtype == mg.float32
    with pytest.raises(ValueError):
        x.type("torch.NoSuchTensor")


def test_format(device):
    assert f"{mg.tensor(2.0 / 3, device=device):.3f}" == f"{torch.tensor(2.0 / 3):.3f}"
    assert f"{mg.tensor(7, device=device):>4}" == f"{torch.tensor(7):>4}"
    assert f"{mg.tensor(1.5)}" == f"{torch.tensor(1.5)}"
    x = mg.tensor([1.0, 2.0], device=device)
    assert f"{x}" == repr(x)
    for t in (x, mg.tensor([1.5], device=device)):
        with pytest.raises(TypeError):
            f"{t:.3f}"
        with pytest.raises(TypeError):
            f"{torch.tensor(t.numpy()):.3f}"


@pytest.mark.parametrize("sizes", [(2, 3, 4), ((2, 3, 4),), (-1, 4), (5, -1, -1), ([3, 4],)])
def test_expand_and_broadcast_to(device, sizes):
    values = _data((3, 1), 14)
    x, xt = _pair(values, device)
    torch_sizes = sizes if len(sizes) != 1 else (tuple(sizes[0]),)
    theirs = xt.expand(*torch_sizes)
    for ours in (x.expand(*sizes), x.broadcast_to(*sizes)):
        _close(ours, theirs)
    direction = _data(theirs.shape, 15)
    (x.expand(*sizes) * mg.tensor(direction, device=device)).sum().backward()
    (theirs * torch.tensor(direction)).sum().backward()
    _close(x.grad, xt.grad)


def test_expand_refuses_minus_one_in_a_new_dim(device):
    x = mg.tensor([1.0, 2.0], device=device)
    with pytest.raises(ValueError):
        x.expand(-1, 2)
    with pytest.raises(ValueError):
        x.expand(3)


def test_softmax_family_as_module_functions(device):
    values = _data((3, 5), 16, -50, 50)
    compare(lambda t: mg.softmax(t, 1), lambda t: torch.softmax(t, 1), [values], device)
    compare(lambda t: mg.softmax(t, dim=0), lambda t: torch.softmax(t, dim=0), [values], device)
    compare(lambda t: mg.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1), [values],
            device)
    compare(lambda t: mg.logsumexp(t, 1), lambda t: torch.logsumexp(t, 1), [values], device)
    compare(lambda t: mg.logsumexp(t, 0, keepdim=True),
            lambda t: torch.logsumexp(t, 0, keepdim=True), [values], device)


def test_arithmetic_functions_with_numbers(device):
    x, xt = _pair([1.5, -2.0, 4.0], device, np.float32, grad=False)
    for ours, theirs in [(mg.add(x, 2, alpha=3), torch.add(xt, 2, alpha=3)),
                         (mg.add(2.5, x), torch.add(2.5, xt)), (mg.sub(x, 1.0), xt.sub(1.0)),
                         (mg.mul(3, x), torch.mul(3, xt)), (mg.div(x, 4), torch.div(xt, 4)),
                         (x.mul(x), xt.mul(xt)), (mg.true_divide(x, 3), xt.true_divide(3)),
                         (mg.floor_divide(x, 0.7), torch.floor_divide(xt, 0.7))]:
        _close(ours, theirs, np.float32)
        assert ours.dtype == mg.float32
    with pytest.raises(ValueError):
        x.div(2, rounding_mode="round")


# ------------------------------------------------------------------ activations and losses

ACTIVATIONS = [
    ("silu", F.silu, torch.nn.functional.silu, nn.SiLU(), torch.nn.SiLU()),
    ("gelu", F.gelu, torch.nn.functional.gelu, nn.GELU(), torch.nn.GELU()),
    ("gelu tanh", lambda t: F.gelu(t, approximate="tanh"),
     lambda t: torch.nn.functional.gelu(t, approximate="tanh"), nn.GELU(approximate="tanh"),
     torch.nn.GELU(approximate="tanh")),
    ("softsign", F.softsign, torch.nn.functional.softsign, nn.Softsign(), torch.nn.Softsign()),
    ("hardsigmoid", F.hardsigmoid, torch.nn.functional.hardsigmoid, nn.Hardsigmoid(),
     torch.nn.Hardsigmoid()),
    ("logsigmoid", F.logsigmoid, torch.nn.functional.logsigmoid, nn.LogSigmoid(),
     torch.nn.LogSigmoid()),
    ("softmin", lambda t: F.softmin(t, dim=1), lambda t: torch.nn.functional.softmin(t, dim=1),
     nn.Softmin(dim=0), torch.nn.Softmin(dim=0)),
    ("log_softmax module", lambda t: nn.LogSoftmax(dim=1)(t),
     lambda t: torch.nn.LogSoftmax(dim=1)(t), nn.LogSoftmax(0), torch.nn.LogSoftmax(0)),
]


@pytest.mark.parametrize("name, fn, torch_fn, module, torch_module", ACTIVATIONS,
                         ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_torch(device, name, fn, torch_fn, module, torch_module, dtype):
    x = _data((4, 6), 17, -6, 6)
    x[0, :5] = [-3.0, 3.0, 0.0, -40.0, 40.0]  # hardsigmoid's corners, saturation
    # PyTorch's hardsigmoid gradient is 1/6 rounded to float32, in every dtype; ours is 1/6
    tol = dict(rtol=1e-7) if name == "hardsigmoid" and dtype == np.float64 else {}
    compare(fn, torch_fn, [x], device, dtype, **tol)
    compare(module, torch_module, [x], device, dtype, second_order=False, **tol)


@pytest.mark.parametrize("name", ["silu", "gelu", "gelu tanh", "softsign", "logsigmoid"])
def test_activations_gradcheck(device, name):
    fn = next(a[1] for a in ACTIVATIONS if a[0] == name)
    gradcheck(fn, [_data((3, 4), 18, -4, 4)], device)


def test_logsigmoid_is_stable_for_large_inputs(device):
    values = [-1e4, -800.0, -40.0, 40.0, 800.0, 1e4]
    for dtype in (np.float32, np.float64):
        compare(F.logsigmoid, torch.nn.functional.logsigmoid, [values], device, dtype,
                atol=1e-30)


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError):
        F.gelu(mg.tensor([1.0]), approximate="erf")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
def test_smooth_l1_loss_matches_torch(device, reduction, beta):
    inputs, target = _data((4, 3), 19, -2, 2), _data((4, 3), 20, -2, 2)
    inputs[0, 0] = target[0, 0] + beta  # exactly at the corner
    inputs[0, 1] = target[0, 1]
    compare(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
            lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, reduction=reduction,
                                                            beta=beta),
            [inputs, target], device, second_order=False)
    compare(nn.SmoothL1Loss(reduction=reduction, beta=beta),
            torch.nn.SmoothL1Loss(reduction=reduction, beta=beta), [inputs, target], device,
            np.float32, second_order=False)
    if beta:
        inputs[0, :2] += 0.1  # away from the kinks, for finite differences
        gradcheck(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                  [inputs, target], device)


def test_smooth_l1_loss_module_repr():
    assert "beta=0.5" in repr(nn.SmoothL1Loss(beta=0.5))


@pytest.mark.parametrize("num_classes", [-1, 5])
def test_one_hot(device, num_classes):
    indices = np.array([[0, 3], [2, 2], [1, 0]])
    ours = F.one_hot(mg.tensor(indices, device=device), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(indices), num_classes)
    assert ours.dtype == mg.int64 and ours.device == mg.get_backend(device).name
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError):
        F.one_hot(mg.tensor([0, 5], device=device), 3)
    with pytest.raises(ValueError):
        F.one_hot(mg.tensor([-1, 0], device=device))
    with pytest.raises(TypeError):
        F.one_hot(mg.tensor([0.0, 1.0], device=device))


def test_module_apply_visits_children_first_then_self():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    seen = []
    assert model.apply(seen.append) is model
    assert [type(m).__name__ for m in seen] == ["Linear", "ReLU", "Linear", "Sequential",
                                                 "Sequential"]
    assert seen[-1] is model

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            with mg.no_grad():
                m.weight.fill_(0.0)

    model.apply(zero_linear)
    assert not np.any(model[0].weight.numpy()) and not np.any(model[1][1].weight.numpy())


# ------------------------------------------------------------------ creation


@pytest.mark.parametrize("n, m", [(3, None), (2, 4), (4, 1), (0, 3)])
def test_eye(device, n, m):
    ours = mg.eye(n, m, device=device)
    theirs = torch.eye(n, m) if m is not None else torch.eye(n)
    assert ours.dtype == mg.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert mg.eye(n, m, dtype=mg.int64, device=device).dtype == mg.int64
    assert mg.eye(2, requires_grad=True, device=device).requires_grad


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-3.5, 7.25, 11), (2, -1, 8),
                                               (0.1, 0.7, 1), (1, 2, 0), (0, 10, 100)])
@pytest.mark.parametrize("dtype", [None, mg.float64, mg.int64])
def test_linspace(device, start, end, steps, dtype):
    ours = mg.linspace(start, end, steps, dtype=dtype, device=device)
    torch_dtype = None if dtype is None else getattr(torch, str(dtype))
    theirs = torch.linspace(start, end, steps, dtype=torch_dtype)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_full_like_empty_and_empty_like(device):
    x = mg.tensor([[1, 2, 3]], device=device)
    filled = mg.full_like(x, 7)
    assert filled.dtype == mg.int64 and filled.shape == (1, 3) and filled.device == x.device
    np.testing.assert_array_equal(filled.numpy(), 7)
    filled = mg.full_like(x, 0.5, dtype=mg.float64, requires_grad=True)
    assert filled.dtype == mg.float64 and filled.requires_grad
    np.testing.assert_array_equal(filled.numpy(), 0.5)
    e = mg.empty(2, 3, device=device)
    assert e.shape == (2, 3) and e.dtype == mg.float32 and e.device == x.device
    assert mg.empty((4,), dtype=mg.int32, device=device).dtype == mg.int32
    like = mg.empty_like(x)
    assert like.shape == x.shape and like.dtype == x.dtype and like.device == x.device
    assert mg.empty_like(x, dtype=mg.float16).dtype == mg.float16
