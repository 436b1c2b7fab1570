"""More of PyTorch's vocabulary, number for number against torch on every device: values
(NaN, infinities and signed zeros included), result dtypes (integers compute in float32)
and gradients, at the edges as PyTorch's derivatives define them."""

import math

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

# NaN, infinities and values outside a function's domain make NumPy warn; values are compared
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

nan, inf = math.nan, math.inf
VALUES = [-7.5, -2.0, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 1.5, 3.0, nan, inf, -inf]
INTS = [-3, -1, 0, 1, 2, 5]
# atol: logaddexp2(-1, -1) is 0 here, where PyTorch's formula rounds to -5e-17
TOLERANCE = {"float32": {"rtol": 2e-6, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-15}}


def pair(values, dtype: str, device: str, requires_grad: bool = False):
    """The same values as a minigrad tensor on ``device`` and a torch tensor."""
    return (mg.tensor(values, dtype=getattr(mg, dtype.replace("bool", "bool_")), device=device,
                      requires_grad=requires_grad),
            torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad))


def assert_matches(got: mg.Tensor, expected, **tolerance) -> None:
    """Same dtype and values (NaN where torch has NaN); float32 to a few ulps."""
    expected = expected.detach()
    if expected._is_zerotensor():  # a gradient PyTorch knows to be 0
        expected = torch.zeros(expected.shape, dtype=expected.dtype)
    assert str(got.dtype) == str(expected.dtype).removeprefix("torch."), (got.dtype,
                                                                         expected.dtype)
    tolerance = tolerance or TOLERANCE.get(str(got.dtype), {"rtol": 0, "atol": 0})
    np.testing.assert_allclose(got.numpy(), expected.numpy(), equal_nan=True, **tolerance)


def assert_same_gradients(mg_fn, torch_fn, inputs, device: str, dtype: str = "float64",
                          **tolerance) -> None:
    """The gradients of ``fn(*inputs)`` along a random direction, against torch's."""
    pairs = [pair(v, dtype, device, requires_grad=True) for v in inputs]
    xs, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    out, expected = mg_fn(*xs), torch_fn(*ts)
    assert_matches(out, expected, **tolerance)
    weights = np.random.default_rng(0).uniform(0.5, 1.5, expected.shape)
    got = mg.grad(out, xs, grad_outputs=mg.tensor(weights, dtype=out.dtype, device=device))
    wanted = torch.autograd.grad(expected, ts, torch.tensor(weights, dtype=expected.dtype))
    for g, w in zip(got, wanted):
        assert_matches(g, w, **tolerance)


# unary: name, and the values torch takes for the integer case (None: it refuses ints)

UNARY = ["log1p", "expm1", "exp2", "log2", "log10", "rsqrt", "reciprocal", "asinh", "arcsinh",
         "acosh", "arccosh", "atanh", "arctanh", "erfc", "sinc", "frac", "deg2rad", "rad2deg",
         "sgn", "negative", "absolute"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients(name, dtype, device):
    mg_fn, torch_fn = getattr(mg, name), getattr(torch, name)
    tolerance = TOLERANCE[dtype] if name != "erfc" else {"rtol": 1e-6 if dtype == "float32"
                                                         else 1e-13, "atol": 0}
    assert_same_gradients(mg_fn, torch_fn, [VALUES], device, dtype, **tolerance)
    x, t = pair(VALUES, dtype, device)
    assert_matches(getattr(x, name)(), torch_fn(t), **tolerance)


@pytest.mark.parametrize("name", UNARY)
def test_unary_of_integers(name, device):
    x, t = pair(INTS, "int64", device)
    try:
        expected = getattr(torch, name)(t)
    except RuntimeError:  # PyTorch refuses integers (frac)
        with pytest.raises(RuntimeError):
            getattr(mg, name)(x)
        return
    assert_matches(getattr(mg, name)(x), expected)  # float32 where torch computes in it


@pytest.mark.parametrize("name", [*UNARY, "logit"])
def test_unary_of_float16_computes_in_float32_and_rounds_once(name, device):
    x, t = pair(VALUES, "float16", device)
    assert_matches(getattr(mg, name)(x), getattr(torch, name)(t), rtol=1e-3, atol=1e-4)


def test_erfc_far_in_the_tails(device):
    values = np.linspace(-9.0, 26.0, 3501)
    x, t = pair(values, "float64", device)
    assert_matches(mg.erfc(x), torch.erfc(t), rtol=1e-14, atol=0)


def test_sinc_at_zero_and_its_gradient(device):
    assert_same_gradients(mg.sinc, torch.sinc, [[0.0, -0.0, 1e-9, 2.0]], device)


@pytest.mark.parametrize("eps", [None, 0.2, 0.0, 1e-6])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logit(eps, dtype, device):
    values = [-0.5, 0.0, 0.1, 0.2, 0.5, 0.8, 0.95, 1.0, 1.5, nan]
    assert_same_gradients(lambda x: x.logit(eps), lambda t: t.logit(eps), [values], device,
                          dtype)
    x, t = pair(INTS, "int64", device)
    assert_matches(mg.logit(x, eps=eps), torch.logit(t, eps=eps))


@pytest.mark.parametrize("options", [{}, {"nan": 2.0}, {"posinf": 1e6, "neginf": -3.0},
                                     {"nan": -1.0, "posinf": 5.0}])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_to_num(options, dtype, device):
    x, t = pair(VALUES, dtype, device)
    assert_matches(x.nan_to_num(**options), t.nan_to_num(**options), rtol=0, atol=0)
    if dtype != "float16":
        assert_same_gradients(lambda x: mg.nan_to_num(x, **options),
                              lambda t: torch.nan_to_num(t, **options), [VALUES], device,
                              dtype)
    i, ti = pair(INTS, "int64", device)
    assert_matches(mg.nan_to_num(i, **options), torch.nan_to_num(ti, **options))


def test_the_methods_the_aliases_stand_for_still_work(device):
    x, t = pair(VALUES, "float64", device)
    for name in ("neg", "abs", "sign"):
        assert_matches(getattr(x, name)(), getattr(t, name)())
    b = mg.tensor([True, False], device=device)
    for name in ("negative", "absolute"):  # PyTorch refuses bools, and so do both spellings
        with pytest.raises(RuntimeError):
            getattr(b, name)()
        with pytest.raises(RuntimeError):
            getattr(mg, name)(b)


# binary: a grid of every pair of edge values, and broadcasting

EDGES = [-2.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.0, nan, inf, -inf]
A = [[a] for a in EDGES]  # (10, 1) against (10,): every pair
B = EDGES
BINARY = ["hypot", "logaddexp", "logaddexp2", "xlogy", "fmax", "fmin", "float_power"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_values_and_gradients(name, dtype, device):
    mg_fn, torch_fn = getattr(mg, name), getattr(torch, name)
    tolerance = {"rtol": 1e-12, "atol": 0} if name == "float_power" else {}
    assert_same_gradients(mg_fn, torch_fn, [A, B], device, dtype, **tolerance)
    x, t = pair(A, dtype, device)
    y, u = pair(B, dtype, device)
    assert_matches(getattr(x, name)(y), getattr(t, name)(u), **tolerance)


@pytest.mark.parametrize("name", [*BINARY, "heaviside"])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int64", "float32"),
                                    ("float32", "float64"), ("float16", "float16"),
                                    ("float16", "float32")])
def test_binary_dtypes(name, dtypes, device):
    x, t = pair([[i] for i in INTS], dtypes[0], device)
    y, u = pair(INTS, dtypes[1], device)
    try:
        expected = getattr(torch, name)(t, u)
    except RuntimeError:  # heaviside: only of equal dtypes; hypot, logaddexp: no integers
        if dtypes[0] == dtypes[1]:  # minigrad computes integers in float32
            return
        with pytest.raises(RuntimeError):
            getattr(mg, name)(x, y)
        return
    half = {"rtol": 1e-3, "atol": 1e-4} if "float16" in dtypes else {}
    assert_matches(getattr(mg, name)(x, y), expected, **half)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("other", [2.5, 0.1, 0, -1.0, nan])
def test_xlogy_and_float_power_of_a_number(other, dtype, device):
    x, t = pair(A, dtype, device)
    assert_matches(x.xlogy(other), t.xlogy(other))
    assert_matches(x.float_power(other), t.float_power(other), rtol=1e-12, atol=0)
    assert_same_gradients(lambda a: a.xlogy(other), lambda a: a.xlogy(other), [A], device,
                          dtype)
    assert_same_gradients(lambda a: a.float_power(other), lambda a: a.float_power(other),
                          [A], device, dtype, rtol=1e-12, atol=0)


def test_a_number_first(device):
    y, u = pair(B, "float64", device)
    assert_matches(mg.xlogy(2, y), torch.xlogy(2, u))
    assert_matches(mg.float_power(2, y), torch.float_power(2, u))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_heaviside(dtype, device):
    values = [[0], [-2], [3]] if dtype == "int64" else A
    x, t = pair(values, dtype, device)
    v, u = pair([0, 1, 5] if dtype == "int64" else B, dtype, device)
    assert_matches(x.heaviside(v), t.heaviside(u))


def test_heaviside_takes_part_in_the_graph_without_a_derivative(device):
    x = mg.tensor([-1.0, 0.0, 2.0], device=device, requires_grad=True)
    y = mg.heaviside(x, mg.tensor([0.5, 0.5, 0.5], device=device))
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="heaviside"):
        (y * x).sum().backward()


COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons(name, device):
    x, t = pair(A, "float64", device, requires_grad=True)
    y, u = pair(B, "float64", device)
    for got, expected in [(getattr(x, name)(y), getattr(t, name)(u)),
                          (getattr(mg, name)(x, y), getattr(torch, name)(t, u)),
                          (getattr(x, name)(0.5), getattr(t, name)(0.5)),
                          (getattr(mg, name)(x, 1), getattr(torch, name)(t, 1))]:
        assert_matches(got, expected)
        assert not got.requires_grad
    i, ti = pair(INTS, "int64", device)
    assert_matches(getattr(i, name)(1.5), getattr(ti, name)(1.5))


# composed: clamps, addcmul and addcdiv, index_add, index_fill, index_copy, masked_scatter

GRID = np.linspace(-2, 2, 12).reshape(3, 4).tolist()
ROW = [0.5, -1.0, 1.5, 0.25]


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
def test_clamp_min_and_max(name, device):
    bound = [[-0.5], [0.0], [0.75]]
    assert_same_gradients(lambda x, b: getattr(x, name)(b), lambda t, b: getattr(t, name)(b),
                          [GRID, bound], device)
    assert_same_gradients(lambda x: getattr(mg, name)(x, 0.5),
                          lambda t: getattr(torch, name)(t, 0.5), [GRID], device)
    i, ti = pair(INTS, "int64", device)
    assert_matches(getattr(i, name)(1), getattr(ti, name)(1))
    assert_matches(getattr(i, name)(1.5), getattr(ti, name)(1.5))


@pytest.mark.parametrize("value", [1, 0.5, -2])
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_and_addcdiv(name, value, device):
    assert_same_gradients(lambda x, a, b: getattr(x, name)(a, b, value=value),
                          lambda t, a, b: getattr(torch, name)(t, a, b, value=value),
                          [ROW, GRID, [[1.5], [-0.5], [2.0]]], device)
    x, t = pair(ROW, "float32", device)
    a, ta = pair(INTS[:4], "int64", device)  # integers times or over floats
    assert_matches(getattr(mg, name)(x, a, x + 7, value=value),
                   getattr(torch, name)(t, ta, t + 7, value=value))


def test_addcmul_of_integers_and_addcdiv_refusing_them(device):
    x, t = pair(INTS, "int64", device)
    assert_matches(mg.addcmul(x, x, x, value=2), torch.addcmul(t, t, t, value=2))
    with pytest.raises(RuntimeError):
        torch.addcdiv(t, t, t)
    with pytest.raises(RuntimeError):
        mg.addcdiv(x, x, x)


INDEX = [2, 0, 2]  # repeated on purpose


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("alpha", [1, -0.5])
def test_index_add(dim, alpha, device):
    shape = [3, 4]
    shape[dim] = len(INDEX)
    source = np.arange(np.prod(shape), dtype=float).reshape(shape).tolist()
    index, ti = pair(INDEX, "int64", device)
    assert_same_gradients(lambda x, s: x.index_add(dim, index, s, alpha=alpha),
                          lambda t, s: t.index_add(dim, ti, s, alpha=alpha),
                          [GRID, source], device)
    assert_same_gradients(lambda x, s: mg.index_add(x, dim, index, s),
                          lambda t, s: torch.index_add(t, dim, ti, s), [GRID, source], device)


@pytest.mark.parametrize("dim", [0, 1])
def test_index_copy(dim, device):
    index, ti = pair([2, 0], "int64", device)
    shape = [3, 4]
    shape[dim] = 2
    source = np.arange(np.prod(shape), dtype=float).reshape(shape).tolist()
    assert_same_gradients(lambda x, s: x.index_copy(dim, index, s),
                          lambda t, s: t.index_copy(dim, ti, s), [GRID, source], device)
    assert_same_gradients(lambda x, s: mg.index_copy(x, dim, index, s),
                          lambda t, s: torch.index_copy(t, dim, ti, s), [GRID, source], device)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_fill(dim, device):
    index, ti = pair(INDEX, "int64", device)
    assert_same_gradients(lambda x: x.index_fill(dim, index, -1.5),
                          lambda t: t.index_fill(dim, ti, -1.5), [GRID], device)
    # a 0-d tensor value gets the gradient of every position filled, each once
    assert_same_gradients(lambda x, v: mg.index_fill(x, dim, index, v),
                          lambda t, v: torch.index_fill(t, dim, ti, v), [GRID, 0.25], device)
    i, t = pair([[1, 2, 3, 4]] * 3, "int64", device)
    assert_matches(i.index_fill(dim, index, 2.7), t.index_fill(dim, ti, 2.7))


def test_index_functions_of_a_0d_tensor(device):
    index, ti = pair([0], "int64", device)
    s, ts = pair(2.0, "float64", device)
    assert_same_gradients(lambda x: x.index_add(0, index, s), lambda t: t.index_add(0, ti, ts),
                          [3.0], device)
    assert_same_gradients(lambda x: x.index_copy(0, index, s),
                          lambda t: t.index_copy(0, ti, ts), [3.0], device)
    assert_same_gradients(lambda x: x.index_fill(0, index, 1.0),
                          lambda t: t.index_fill(0, ti, 1.0), [3.0], device)


def test_index_functions_check_their_arguments(device):
    x = mg.zeros(3, 4, device=device)
    index = mg.tensor([0, 1], device=device)
    with pytest.raises(RuntimeError, match="dtype"):
        x.index_add(1, index, mg.ones(3, 2, dtype=mg.float64, device=device))
    with pytest.raises(RuntimeError, match="dtype"):
        x.index_copy(1, index, mg.ones(3, 2, dtype=mg.float64, device=device))
    with pytest.raises(RuntimeError, match="shape"):
        x.index_add(1, index, mg.ones(3, 3, device=device))
    with pytest.raises(RuntimeError, match="1-D integer index"):
        x.index_copy(1, mg.tensor([[0, 1]], device=device), mg.ones(3, 2, device=device))
    with pytest.raises(RuntimeError, match="0-d"):
        x.index_fill(1, index, mg.ones(2, device=device))


MASK = [[True, False, True, False], [False, False, False, True], [True, True, False, False]]


@pytest.mark.parametrize("mask", [MASK, MASK[0], [[True], [False], [True]]])
def test_masked_scatter(mask, device):
    m, tm = pair(mask, "bool", device)
    source = np.arange(1.0, 16.0).reshape(3, 5).tolist()  # more than the mask needs
    assert_same_gradients(lambda x, s: x.masked_scatter(m, s),
                          lambda t, s: t.masked_scatter(tm, s), [GRID, source], device)
    assert_same_gradients(lambda x, s: mg.masked_scatter(x, m, s),
                          lambda t, s: torch.masked_scatter(t, tm, s), [ROW, source], device)


def test_masked_scatter_needs_enough_source_and_a_bool_mask(device):
    x = mg.zeros(3, 4, device=device)
    with pytest.raises(RuntimeError, match="fewer"):
        x.masked_scatter(mg.tensor(MASK, device=device), mg.ones(4, device=device))
    with pytest.raises(RuntimeError, match="bool"):
        x.masked_scatter(mg.tensor(MASK, device=device).int(), mg.ones(12, device=device))


# second order, where a composition or an edge rule could lose it


@pytest.mark.parametrize("case", ["logit", "xlogy", "fmax", "index_add", "masked_scatter"])
def test_second_derivatives_match_torch(case, device):
    grid = np.linspace(0.1, 0.9, 12).reshape(3, 4)
    fns = {
        "logit": lambda x, lib: (x * 1.1).logit(eps=0.2) * x,
        "xlogy": lambda x, lib: lib.xlogy(x, x.flip(0)) * x,
        "fmax": lambda x, lib: lib.fmax(x * x, x.flip(1)) * x,
        "index_add": lambda x, lib: x.index_add(1, index(lib), x[:, :2] * x[:, 1:3]) * x,
        "masked_scatter": lambda x, lib: x.masked_scatter(mask(lib), x.flip(0) * x) * x,
    }

    def index(lib):
        return lib.tensor([3, 3], device=device) if lib is mg else torch.tensor([3, 3])

    def mask(lib):
        return (lib.tensor(MASK, device=device) if lib is mg else torch.tensor(MASK))

    x = mg.tensor(grid, dtype=mg.float64, device=device, requires_grad=True)
    t = torch.tensor(grid, requires_grad=True)
    (g,) = mg.grad(fns[case](x, mg).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(fns[case](t, torch).sum(), t, create_graph=True)
    (gg,) = mg.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), t)
    assert_matches(g, tg)
    assert_matches(gg, tgg)


def test_sign_of_bools(device):
    x = mg.tensor([True, False], device=device)
    for name in ("sign", "sgn"):
        got, expected = getattr(x, name)(), getattr(torch.tensor([True, False]), name)()
        assert got.dtype == mg.bool_ and got.tolist() == expected.tolist()
