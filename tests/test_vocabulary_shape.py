"""PyTorch's shape, indexing, scan, sorting and contraction vocabulary, against torch.

Each case is written once as ``fn(lib, x, index)`` and run with ``lib`` = minigrad and
``lib`` = torch (the spellings are the same); values and gradients must agree, on every
device, and the differentiable cases are also gradchecked in float64.
"""

import warnings

import numpy as np
import pytest
from torch_pairs import Lib
from torch_pairs import arr as _arr
from torch_pairs import outputs as _outputs

import minigrad as mg
from minigrad.return_types import ValuesIndices

torch = pytest.importorskip("torch")


def _run(case, arrays, device, dtype=np.float64):
    """The case's results and input gradients from minigrad and from torch."""
    results = []
    for lib, make in ((Lib(mg, device), lambda a: mg.tensor(a, dtype=dtype, device=device,
                                                            requires_grad=True)),
                      (Lib(torch), lambda a: torch.tensor(a, requires_grad=True))):
        xs = [make(np.asarray(a, dtype=dtype)) for a in arrays]
        outs = _outputs(case(lib, *xs))
        floats = [o for o in outs if o.dtype in (mg.float64, mg.float32, torch.float64,
                                                 torch.float32)]
        total = sum((o * mg_or_torch_tensor(lib, _arr(tuple(o.shape), 7 + k), o)).sum()
                    for k, o in enumerate(floats) if o.requires_grad)
        grads = [None] * len(xs)
        if not isinstance(total, int):
            total.backward()
            grads = [None if x.grad is None else np.asarray(x.grad.detach().numpy())
                     for x in xs]
        results.append(([np.asarray(o.detach().numpy() if hasattr(o, "detach") else o)
                         for o in outs], grads))
    return results


def mg_or_torch_tensor(lib, array, like):
    if lib.module is torch:
        return torch.tensor(array, dtype=like.dtype)
    return mg.tensor(array, dtype=like.dtype, device=like.device)


def _same(ours, theirs):
    (our_outs, our_grads), (their_outs, their_grads) = ours, theirs
    assert len(our_outs) == len(their_outs)
    for a, b in zip(our_outs, their_outs):
        assert a.shape == b.shape
        if b.dtype == np.int64:
            assert a.dtype == np.int64
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    for a, b in zip(our_grads, their_grads):
        if b is None:
            assert a is None or not a.any()
        else:
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


X23, X234, X5, X44 = _arr((2, 3), 1), _arr((2, 3, 4), 2), _arr(5, 3), _arr((4, 4), 4)
INDEX = [[0, 2, 1], [1, 1, 0]]  # for dim 1 of (2, 3): repeats in the second row
UNIQUE = [[2, 0, 1], [1, 2, 0]]

# name: (fn(lib, *tensors), input arrays)
CASES = {
    "repeat": (lambda m, x: x.repeat(2, 1, 3), [X23]),
    "repeat_same_rank": (lambda m, x: x.repeat(3, 2), [X23]),
    "tile": (lambda m, x: m.tile(x, (2,)), [X23]),
    "tile_method": (lambda m, x: x.tile(2, 1, 2), [X23]),
    "tile_keyword": (lambda m, x: x.tile(dims=(3, 1)), [X23]),
    "flip": (lambda m, x: m.flip(x, (0, 2)), [X234]),
    "flip_method": (lambda m, x: x.flip(-1), [X234]),
    "flip_keyword": (lambda m, x: x.flip(dims=(1, 0)), [X234]),
    "roll": (lambda m, x: m.roll(x, (1, -2), (0, 2)), [X234]),
    "roll_flat": (lambda m, x: x.roll(4), [X234]),
    "roll_large": (lambda m, x: x.roll(7, 1), [X23]),
    "tril": (lambda m, x: m.tril(x), [X234]),
    "tril_offset": (lambda m, x: x.tril(-1), [X44]),
    "triu": (lambda m, x: m.triu(x, 1), [X234]),
    "triu_method": (lambda m, x: x.triu(), [X44]),
    "unfold": (lambda m, x: x.unfold(2, 2, 1), [X234]),
    "unfold_step": (lambda m, x: x.unfold(0, 2, 2), [_arr((5, 3), 5)]),
    "unfold_neg_dim": (lambda m, x: x.unfold(-1, 3, 2), [_arr((2, 7), 6)]),
    "meshgrid_ij": (lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [X5, _arr(3, 8)]),
    "meshgrid_xy": (lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"),
                    [X5, _arr(3, 8), _arr(2, 9)]),
    "cat_dim": (lambda m, a, b: m.cat([a, b], dim=1), [X23, _arr((2, 2), 9)]),
    "concat": (lambda m, a, b: m.concat((a, b), dim=-2), [X23, _arr((1, 3), 9)]),
    "gather": (lambda m, x: m.gather(x, 1, m.index(INDEX)), [X23]),
    "gather_smaller": (lambda m, x: x.gather(0, m.index([[1, 0]])), [X23]),
    "gather_neg_dim": (lambda m, x: x.gather(-1, m.index([[[3, 0], [1, 1], [2, 2]]] * 2)),
                       [X234]),
    "scatter_src": (lambda m, x, s: m.scatter(x, 1, m.index(UNIQUE), s), [X23, _arr((2, 3), 5)]),
    "scatter_larger_src": (lambda m, x, s: x.scatter(0, m.index([[1, 0, 1]]), s.detach()),
                           [X23, _arr((2, 4), 5)]),
    "scatter_value": (lambda m, x: x.scatter(1, m.index([[2], [0]]), 1.5), [X23]),
    "scatter_add": (lambda m, x, s: m.scatter_add(x, 1, m.index(INDEX), s),
                    [X23, _arr((2, 3), 5)]),
    "scatter_add_dim0": (lambda m, x, s: x.scatter_add(0, m.index([[1, 1, 1], [1, 0, 1]]), s),
                         [X23, _arr((2, 3), 5)]),
    "index_select": (lambda m, x: m.index_select(x, 1, m.index([2, 0, 2])), [X234]),
    "index_select_method": (lambda m, x: x.index_select(-1, m.index([3])), [X234]),
    "masked_select": (lambda m, x: m.masked_select(x, m.mask([[True, False, True]])), [X23]),
    "masked_select_method": (lambda m, x: x.masked_select(x > 0), [X234]),
    "cumsum": (lambda m, x: m.cumsum(x, 1), [X234]),
    "cumsum_method": (lambda m, x: x.cumsum(dim=-1), [X234]),
    "cumprod": (lambda m, x: m.cumprod(x, 2), [X234]),
    "cumprod_method": (lambda m, x: x.cumprod(0), [X23]),
    "cummax": (lambda m, x: m.cummax(x, 1), [X234]),
    "cummin": (lambda m, x: x.cummin(-1), [X234]),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1), [X234]),
    "logcumsumexp_method": (lambda m, x: x.logcumsumexp(0), [X23]),
    "sort": (lambda m, x: m.sort(x), [X234]),
    "sort_dim_desc": (lambda m, x: x.sort(dim=0, descending=True), [X234]),
    "sort_stable": (lambda m, x: x.sort(dim=1, stable=True), [X23]),
    "argsort": (lambda m, x: m.argsort(x, dim=1), [X234]),
    "argsort_desc": (lambda m, x: x.argsort(descending=True), [X234]),
    "topk": (lambda m, x: m.topk(x, 2), [X234]),
    "topk_smallest": (lambda m, x: x.topk(3, dim=1, largest=False), [X234]),
    "einsum_matmul": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [X23, _arr((3, 4), 5)]),
    "einsum_implicit": (lambda m, a, b: m.einsum("ij,kj", a, b), [X23, _arr((4, 3), 5)]),
    "einsum_batch": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b),
                     [X234, _arr((2, 4, 2), 5)]),
    "einsum_trace": (lambda m, a: m.einsum("ii", a), [X44]),
    "einsum_diagonal": (lambda m, a: m.einsum("ii->i", a), [X44]),
    "einsum_diag_sum": (lambda m, a: m.einsum("iij->", a), [_arr((3, 3, 2), 5)]),
    "einsum_diag_keep": (lambda m, a, b: m.einsum("iij,j->ij", a, b),
                         [_arr((3, 3, 2), 5), _arr(2, 6)]),
    "einsum_sum_away": (lambda m, a, b: m.einsum("ij,k->j", a, b), [X23, _arr(4, 6)]),
    "einsum_outer": (lambda m, a, b: m.einsum("i,j->ij", a, b), [X5, _arr(3, 6)]),
    "einsum_ellipsis": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
                        [X234, _arr((4, 2), 5)]),
    "einsum_ellipsis_implicit": (lambda m, a: m.einsum("i...->...", a), [X234]),
    "einsum_broadcast_one": (lambda m, a, b: m.einsum("ij,ij->ij", a, b),
                             [_arr((1, 3), 5), X23]),
    "einsum_three": (lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
                     [X23, _arr((3, 4), 5), _arr((4, 2), 6)]),
    "einsum_list": (lambda m, a, b: m.einsum("i,i->", [a, b]), [X5, _arr(5, 6)]),
    "einsum_same_operand": (lambda m, a: m.einsum("ij,ij->i", a, a), [X23]),
    "einsum_transpose_upper": (lambda m, a: m.einsum("Ab->bA", a), [X23]),
    "std_mean": (lambda m, x: m.std_mean(x, dim=1), [X234]),
    "std_mean_all": (lambda m, x: m.std_mean(x, correction=0, keepdim=True), [X234]),
    "var_mean": (lambda m, x: m.var_mean(x, (0, 2), keepdim=True), [X234]),
    "norm": (lambda m, x: x.norm(), [X234]),
    "norm_dim": (lambda m, x: m.norm(x, dim=1), [X234]),
    "norm_fro_dims": (lambda m, x: x.norm("fro", dim=(0, 2), keepdim=True), [X234]),
    "norm_p1": (lambda m, x: x.norm(1, dim=-1), [X234]),
    "norm_p3": (lambda m, x: x.norm(3, dim=0), [X234]),
    "norm_p_half": (lambda m, x: x.norm(0.5), [X23]),
    "norm_inf": (lambda m, x: x.norm(float("inf"), dim=1, keepdim=True), [X234]),
    "norm_neg_inf": (lambda m, x: m.norm(x, float("-inf")), [X234]),
    "norm_zero": (lambda m, x: x.norm(0, dim=1), [X23]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(device, name):
    fn, arrays = CASES[name]
    _same(*_run(fn, arrays, device))


# no gradient (or only zero), or a detached input
NOT_GRADCHECKED = {"argsort", "argsort_desc", "norm_zero", "scatter_larger_src"}


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_GRADCHECKED))
def test_gradcheck(device, name):
    fn, arrays = CASES[name]
    lib = Lib(mg, device)
    inputs = [mg.tensor(a, dtype=mg.float64, device=device, requires_grad=True)
              for a in arrays]

    def first(*xs):
        out = fn(lib, *xs)
        return out[0] if isinstance(out, tuple) else out

    assert mg.gradcheck(first, inputs)


def test_float32_stays_float32(device):
    x = mg.tensor(X234, dtype=mg.float32, device=device)
    for out in (x.repeat(1, 2, 1), x.flip(0), x.roll(1, 1), x.tril(), x.unfold(1, 2, 1),
                x.cumsum(1), x.cumprod(1), x.logcumsumexp(1), x.cummax(1).values,
                x.sort(1).values, x.topk(2).values, mg.einsum("ijk->kj", x), x.norm(),
                x.norm(3), mg.std_mean(x)[0], x.gather(0, mg.zeros((1, 3, 4), dtype=mg.int64,
                                                                 device=device))):
        assert out.dtype == mg.float32, out


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_scans_sum_in_int64(device, dtype):
    data = np.array([[3, 0, 2], [1, 5, 4]]).astype(dtype)
    for name in ("cumsum", "cumprod"):
        ours = getattr(mg.tensor(data, device=device), name)(1)
        theirs = getattr(torch.tensor(data), name)(1)
        assert ours.dtype == mg.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = mg.tensor(data, device=device).cumsum(0, dtype=mg.float64)
    assert ours.dtype == mg.float64


@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_integer_and_float_dtypes_keep_their_type(device, dtype):
    data = np.array([[3, 1, 2], [0, 5, 4]]).astype(dtype)
    x, t = mg.tensor(data, device=device), torch.tensor(data)
    pairs = [(x.sort(1).values, t.sort(1).values), (x.flip(1), t.flip(1)),
             (x.tril(), t.tril()), (x.repeat(2, 1), t.repeat(2, 1)),
             (x.cummax(1).values, t.cummax(1).values), (x.topk(2).values, t.topk(2).values),
             (x.scatter_add(1, mg.tensor([[0, 0, 1]], device=device), x[:1]),
              t.scatter_add(1, torch.tensor([[0, 0, 1]]), t[:1]))]
    for ours, theirs in pairs:
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ------------------------------------------------------------------ ties and order


def test_cummax_cummin_take_the_last_of_equal_values(device):
    data = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [2.0, 1.0, 1.0, 3.0, 1.0, 1.0]])
    x, t = mg.tensor(data, device=device), torch.tensor(data)
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(x, name)(1), getattr(t, name)(1)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_cummax_with_nan_as_torch(device):
    data = np.array([1.0, np.nan, 2.0, np.nan, 5.0])
    ours, theirs = mg.tensor(data, device=device).cummax(0), torch.tensor(data).cummax(0)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_cummax_gradient_goes_to_the_chosen_position(device):
    data = np.array([1.0, 3.0, 3.0, 2.0])
    x = mg.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    x.cummax(0).values.sum().backward()
    t.cummax(0).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_keeps_equal_values_in_order(device, descending):
    data = np.array([[2.0, 1.0, 2.0, 0.0, 1.0, 2.0], [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]])
    ours = mg.tensor(data, device=device).sort(dim=1, descending=descending, stable=True)
    theirs = torch.tensor(data).sort(dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    order = mg.tensor(data, device=device).argsort(1, descending=descending, stable=True)
    np.testing.assert_array_equal(order.numpy(), theirs.indices.numpy())


@pytest.mark.parametrize("descending", [False, True])
def test_sort_puts_nan_where_torch_does(device, descending):
    data = np.array([1.0, np.nan, -2.0, 3.0])
    ours = mg.tensor(data, device=device).sort(descending=descending)
    theirs = torch.tensor(data).sort(descending=descending)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_sort_gradient_scatters_back_with_ties(device):
    data = np.array([2.0, 1.0, 2.0, 0.0])
    x = mg.tensor(data, device=device, requires_grad=True)
    weights = np.arange(1.0, 5.0)
    (x.sort(descending=True, stable=True).values * mg.tensor(weights, device=device)
     ).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    (t.sort(descending=True, stable=True).values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_topk_with_ties_gives_torch_values(device):
    data = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, 0.0, 0.0, 1.0, 0.0]])
    for largest in (True, False):
        ours = mg.tensor(data, device=device).topk(3, dim=1, largest=largest)
        theirs = torch.tensor(data).topk(3, dim=1, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        picked = np.take_along_axis(data, ours.indices.numpy(), 1)  # positions of the values
        np.testing.assert_array_equal(picked, ours.values.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_with_nan_as_torch(device, largest):
    data = np.array([[1.0, np.nan, -2.0, 3.0, 0.5, np.nan, 2.0]])
    for k in (1, 2, 3, 7):
        ours = mg.tensor(data, device=device).topk(k, largest=largest)
        theirs = torch.tensor(data).topk(k, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


def test_topk_of_many_matches_a_full_sort(device):
    data = _arr((3, 500), 9)
    x = mg.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    for largest in (True, False):
        ours, theirs = x.topk(17, dim=1, largest=largest), t.topk(17, dim=1, largest=largest)
        np.testing.assert_array_equal(ours.values.detach().numpy(),
                                      theirs.values.detach().numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        ours.values.sum().backward()
        theirs.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_topk_rejects_k_larger_than_the_dim(device):
    with pytest.raises(ValueError, match="topk"):
        mg.tensor([1.0, 2.0], device=device).topk(3)


def test_results_are_named_values_indices(device):
    x = mg.tensor(X234, device=device)
    for result in (x.sort(), mg.topk(x, 1), x.cummax(0), mg.cummin(x, 2)):
        assert isinstance(result, ValuesIndices)
        values, indices = result
        assert values is result.values and indices is result.indices
        assert indices.dtype == mg.int64 and not indices.requires_grad


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sort(x), lambda m, x: m.cummax(x, 0), lambda m, x: m.topk(x, 1),
    lambda m, x: m.cumsum(x, 0), lambda m, x: m.cumprod(x, -1),
    lambda m, x: m.logcumsumexp(x, 0), lambda m, x: m.argsort(x),
    lambda m, x: x.flip(0), lambda m, x: x.roll(1), lambda m, x: x.unfold(0, 1, 1),
    lambda m, x: x.repeat(2, 3), lambda m, x: x.tile(3), lambda m, x: x.gather(0, m.index(0)),
    lambda m, x: x.scatter(0, m.index(0), 4.0), lambda m, x: x.index_select(0, m.index([0])),
    lambda m, x: x.masked_select(m.mask(True)), lambda m, x: x.nonzero(),
    lambda m, x: x.nonzero(as_tuple=True),
])
def test_zero_dim_tensors_as_torch(device, fn):
    ours = _outputs(fn(Lib(mg, device), mg.tensor(2.5, dtype=mg.float64, device=device)))
    theirs = _outputs(fn(Lib(torch), torch.tensor(2.5, dtype=torch.float64)))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ------------------------------------------------------------------ scans: exactness


@pytest.mark.parametrize("data", [
    [2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 3.0, 0.5], [1.5, 2.0, 0.0, 0.0, 3.0],
    [0.0, 0.0, 2.0], [2.0, -3.0, 0.5, 0.0],
])
def test_cumprod_gradient_with_zeros_as_torch(device, data):
    data = np.array(data)
    upstream = np.arange(1.0, len(data) + 1)
    x = mg.tensor(data, device=device, requires_grad=True)
    (x.cumprod(0) * mg.tensor(upstream, device=device)).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    (t.cumprod(0) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert mg.gradcheck(lambda v: v.cumprod(0), [mg.tensor(data, device=device,
                                                           requires_grad=True)])


def test_cumprod_gradient_with_zeros_along_an_inner_dim(device):
    data = np.array([[1.0, 0.0, 2.0], [3.0, 2.0, 0.5], [0.0, 4.0, 0.0]])
    x = mg.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    upstream = _arr((3, 3), 4)
    (x.cumprod(1) * mg.tensor(upstream, device=device)).sum().backward()
    (t.cumprod(1) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NaN at -inf, as torch
def test_logcumsumexp_is_stable(device):
    data = np.array([[-1000.0, 0.0, 1000.0, 1000.0], [-np.inf, -np.inf, 5.0, -np.inf]])
    x = mg.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    ours, theirs = x.logcumsumexp(1), t.logcumsumexp(1)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # a NaN input
def test_backend_default_scans_match_numpy():
    from minigrad.backend import Backend

    numpy = mg.get_backend("numpy")

    class Plain(type(numpy)):  # NumPy's primitives, the Backend's own scans
        cumsum, cumprod = Backend.cumsum, Backend.cumprod
        cummax, cummin, logcumsumexp = Backend.cummax, Backend.cummin, Backend.logcumsumexp

    plain, data = Plain(), _arr((3, 7), 3)
    data[1, 2] = np.nan
    for name in ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"):
        for axis in (0, 1):
            np.testing.assert_allclose(getattr(plain, name)(data, axis),
                                       getattr(numpy, name)(data, axis), rtol=1e-12)


# ------------------------------------------------------------------ scatter


REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_as_torch(device, reduce, include_self):
    def fn(m, x, s):
        return m.scatter_reduce(x, 1, m.index([[0, 2, 0, 0], [1, 1, 1, 2]]), s, reduce,
                                include_self=include_self)

    arrays = [_arr((2, 4), 1), _arr((2, 4), 2)]
    _same(*_run(fn, arrays, device))
    lib = Lib(mg, device)
    inputs = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    assert mg.gradcheck(lambda x, s: fn(lib, x, s), inputs)


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod"])
def test_scatter_reduce_ties_and_zeros_as_torch(device, reduce):
    def fn(m, x, s):
        return x.scatter_reduce(0, m.index([0, 0, 1, 1, 2]), s, reduce)

    _same(*_run(fn, [[1.0, 0.0, 2.0], [1.0, 1.0, 0.0, 3.0, 0.0]], device))


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_integers_as_torch(device, reduce):
    x, s = np.array([4, -3, 7]), np.array([5, 2, -6, 1])
    index = [0, 0, 2, 2]
    ours = mg.tensor(x, device=device).scatter_reduce(0, mg.tensor(index, device=device),
                                                      mg.tensor(s, device=device), reduce)
    theirs = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(s), reduce)
    assert ours.dtype == mg.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.filterwarnings("ignore:The reduce argument:UserWarning")  # torch's deprecation
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_as_torch(device, reduce):
    x, s = _arr((2, 3), 1), _arr((2, 3), 2)
    index = [[0, 0, 2], [1, 1, 1]]
    ours = mg.tensor(x, device=device).scatter(1, mg.tensor(index, device=device),
                                               mg.tensor(s, device=device), reduce=reduce)
    theirs = torch.tensor(x).scatter(1, torch.tensor(index), torch.tensor(s), reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = mg.tensor(x, device=device).scatter(1, mg.tensor(index, device=device), 2.0,
                                               reduce=reduce)
    theirs = torch.tensor(x).scatter(1, torch.tensor(index), 2.0, reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_in_place_scatters_are_recorded(device):
    x0, s0 = _arr((2, 3), 1), _arr((2, 3), 2)
    results = []
    for lib in (Lib(mg, device), Lib(torch)):
        x = lib.tensor(x0, requires_grad=True) if lib.module is torch else mg.tensor(
            x0, device=device, requires_grad=True)
        s = lib.tensor(s0, requires_grad=True) if lib.module is torch else mg.tensor(
            s0, device=device, requires_grad=True)
        y = x * 2
        assert y.scatter_(1, lib.index(UNIQUE[:1] + [[0, 1, 2]]), s) is y
        y.scatter_add_(0, lib.index([[1, 0, 1], [0, 0, 1]]), s * s)
        y.scatter_reduce_(1, lib.index([[0, 0, 1], [2, 2, 2]]), s, "amax", include_self=False)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), x.grad.numpy(), s.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_in_place_scatter_on_a_leaf_that_requires_grad_raises(device):
    x = mg.tensor(X23, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.scatter_(1, mg.tensor(INDEX, device=device), 0.0)
    y = mg.tensor(X23, device=device)
    y.scatter_(1, mg.tensor(UNIQUE, device=device), 0.0)  # no grad: written directly
    assert (y.numpy() == 0).all()


def test_scatter_add_sums_repeated_indices(device):
    ours = mg.zeros(3, device=device).scatter_add(0, mg.tensor([2, 2, 2, 0], device=device),
                                                  mg.ones(4, device=device))
    np.testing.assert_array_equal(ours.numpy(), [1.0, 0.0, 3.0])


def test_gather_rejects_a_float_index(device):
    with pytest.raises(TypeError, match="integer index"):
        mg.tensor(X23, device=device).gather(1, mg.tensor([[0.0]], device=device))


# ------------------------------------------------------------------ selection


def test_nonzero_as_torch(device):
    data = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    ours, theirs = mg.tensor(data, device=device), torch.tensor(data)
    assert ours.nonzero().dtype == mg.int64
    np.testing.assert_array_equal(ours.nonzero().numpy(), theirs.nonzero().numpy())
    for a, b in zip(mg.nonzero(ours, as_tuple=True), theirs.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert mg.tensor(np.zeros((2, 0)), device=device).nonzero().shape == (0, 2)


def test_masked_select_broadcasts_the_tensor_too(device):
    x = mg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    mask = [[True, False, True], [False, False, True]]
    out = x.masked_select(mg.tensor(mask, device=device))
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ref = t.masked_select(torch.tensor(mask))
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ------------------------------------------------------------------ grids, windows


def test_meshgrid_warns_without_indexing_and_uses_ij(device):
    a, b = mg.arange(3, device=device), mg.arange(2, device=device)
    with pytest.warns(UserWarning, match="indexing"):
        grids = mg.meshgrid(a, b)
    assert [g.shape for g in grids] == [(3, 2), (3, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mg.meshgrid([a, b], indexing="xy")[0].shape == (2, 3)


def test_unfold_windows_overlap_in_the_gradient(device):
    x = mg.tensor(X5, device=device, requires_grad=True)
    x.unfold(0, 3, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0, 2.0, 1.0])


@pytest.mark.parametrize("bad", [lambda x: x.repeat(2), lambda x: x.unfold(1, 4, 1),
                                 lambda x: x.flip(0, 0), lambda x: mg.tril(x[0]),
                                 lambda x: x.roll((1, 2), 0)])
def test_bad_arguments_raise(device, bad):
    with pytest.raises((ValueError, IndexError)):
        bad(mg.tensor(X23, device=device))


# ------------------------------------------------------------------ einsum, norm


def test_einsum_rejects_mismatched_subscripts(device):
    a = mg.tensor(X23, device=device)
    with pytest.raises(ValueError, match="einsum"):
        mg.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="einsum"):
        mg.einsum("ij,jk->ik", a)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, float("inf"), float("-inf")])
def test_norm_gradient_at_zero_as_torch(device, p):
    data = np.zeros((2, 3))
    data[1] = [0.0, 1.5, -2.0]
    x = mg.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    ours, theirs = x.norm(p, dim=1), torch.norm(t, p, dim=1)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    assert not np.isnan(x.grad.numpy()).any()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_norm_of_an_integer_tensor_raises(device):
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2], device=device).norm()


# ------------------------------------------------------------------ second order


SECOND_ORDER = {
    "cumsum": lambda m, x: m.cumsum(x * x, 1),
    "cumprod": lambda m, x: m.cumprod(x, 1),
    "cumprod_zeros": lambda m, x: m.cumprod(x * (x > 0), 1),
    "logcumsumexp": lambda m, x: m.logcumsumexp(x, 1),
    "scatter_sum": lambda m, x: m.scatter_reduce(x * x, 1, m.index([[0, 0, 2]] * 2), x, "sum"),
    "scatter_mean": lambda m, x: m.scatter_reduce(x * x, 1, m.index([[1, 0, 1]] * 2), x,
                                                  "mean", include_self=False),
    "scatter_amax": lambda m, x: m.scatter_reduce(x * x, 1, m.index([[1, 0, 1]] * 2), x,
                                                  "amax"),
    "einsum": lambda m, x: m.einsum("ij,kj->ik", x, x * x),
    "einsum_diagonal": lambda m, x: m.einsum("ii,i->i", x[:, :2] @ x[:, :2].T, x[:, 0]),
    "norm": lambda m, x: m.norm(x, dim=1),
    "gather_sort": lambda m, x: m.sort(x * x, dim=1).values,
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # terms that vanish
def test_second_order_as_torch(device, name):
    fn = SECOND_ORDER[name]
    data, probe = _arr((2, 3), 11), _arr((2, 3), 13)
    results = []
    for lib in (Lib(mg, device), Lib(torch)):
        module = lib.module
        if module is torch:
            x = torch.tensor(data, requires_grad=True)
            out = fn(lib, x)
            up = torch.tensor(_arr(tuple(out.shape), 12))
            (g,) = torch.autograd.grad((out * up).sum(), x, create_graph=True)
            (g * torch.tensor(probe)).sum().backward()
        else:
            x = mg.tensor(data, device=device, requires_grad=True)
            out = fn(lib, x)
            up = mg.tensor(_arr(out.shape, 12), device=device)
            (g,) = mg.grad((out * up).sum(), x, create_graph=True)
            (g * mg.tensor(probe, device=device)).sum().backward()
        results.append((g.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # 0 / 0
def test_moments_without_degrees_of_freedom_are_nan(device):
    for fn in (mg.std_mean, mg.var_mean):
        spread, centre = fn(mg.tensor([[1.0, 2.0]], device=device), dim=0)
        assert np.isnan(spread.numpy()).all()
        np.testing.assert_array_equal(centre.numpy(), [1.0, 2.0])


def test_scatter_amax_without_self_gives_src_the_whole_gradient(device):
    # x's own 3 takes no part (include_self=False), so the src 3 alone is the maximum
    x = mg.tensor([3.0], device=device, requires_grad=True)
    src = mg.tensor([3.0, 1.0], device=device, requires_grad=True)
    out = x.scatter_reduce(0, mg.tensor([0, 0], device=device), src, "amax",
                           include_self=False)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0])
    np.testing.assert_array_equal(src.grad.numpy(), [1.0, 0.0])


@pytest.fixture
def cupy_logic():
    """The CuPy backend driven over NumPy (its scans are the Backend's doubling ones)."""
    from test_cupy_backend import _numpy_as_cupy

    from minigrad import backend
    from minigrad.backends.cupy_backend import CuPyBackend

    mg.register_backend("cupy-logic", lambda: CuPyBackend(xp=_numpy_as_cupy()))
    yield "cupy-logic"
    backend._factories.pop("cupy-logic", None)
    backend._instances.pop("cupy-logic", None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_on_the_cupy_logic(cupy_logic, name):
    fn, arrays = CASES[name]
    _same(*_run(fn, arrays, cupy_logic))


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_on_the_cupy_logic(cupy_logic, reduce):
    def fn(m, x, s):
        return m.scatter_reduce(x, 1, m.index([[0, 2, 0, 0], [1, 1, 1, 2]]), s, reduce,
                                include_self=False)

    _same(*_run(fn, [_arr((2, 4), 1), _arr((2, 4), 2)], cupy_logic))
