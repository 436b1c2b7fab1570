"""Edge cases where minigrad follows PyTorch: 0-d tensors, integer promotion beside 0-d
tensors, bool tensors, empty tensors, slice steps, cat, setitem and the regression losses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# log(0) of empty sums and rows of -inf is -inf on purpose
pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")


def _both(fn, device):
    """``fn`` run with minigrad (on ``device``) and with torch: (result, result)."""
    return fn(mg, device), fn(torch, "cpu")


def _outcome(fn, lib, device):
    """The result of ``fn``, or the class of the error it raised."""
    try:
        return fn(lib, device)
    except Exception as err:  # noqa: BLE001  (the class is what is compared)
        return type(err)


def _assert_same(mine, theirs):
    assert str(mine.dtype).removeprefix("torch.") == str(theirs.dtype).removeprefix("torch.")
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy().astype(np.float64),
                               theirs.detach().numpy().astype(np.float64), rtol=1e-6)


def _lib_dtype(lib, name):
    return getattr(lib, "bool_" if lib is mg and name == "bool" else name)


def _tensor(lib, device, values, dtype=None):
    kwargs = {} if lib is torch else {"device": device}
    if dtype is not None:
        kwargs["dtype"] = _lib_dtype(lib, dtype)
    return lib.tensor(values, **kwargs)


# 0-d tensors


@pytest.mark.parametrize("view", ["ellipsis", "none", "reshape"])
def test_in_place_op_on_a_view_of_a_0d_result_reaches_it(device, view):
    def run(lib, dev):
        b = _tensor(lib, dev, 1.5) * 1.0  # an op's 0-d result
        v = {"ellipsis": lambda: b[...], "none": lambda: b[None],
             "reshape": lambda: b.reshape(1)}[view]()
        v.mul_(2)
        return b

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("op", ["add", "mul", "exp", "sum", "relu", "matmul", "sign"])
def test_0d_results_hold_arrays(device, op):
    x = mg.tensor(0.5, device=device)
    v = mg.tensor([1.0, 2.0], device=device)
    out = {"add": lambda: x + x, "mul": lambda: x * 2, "exp": lambda: x.exp(),
           "sum": lambda: v.sum(), "relu": lambda: x.relu(), "matmul": lambda: v @ v,
           "sign": lambda: x.sign()}[op]()
    assert out.ndim == 0 and out._data.ndim == 0 and hasattr(out._data, "flags")


# integer promotion beside 0-d tensors


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "where", "pow"])
@pytest.mark.parametrize("dims, zero_d", [("int32", "int64"), ("uint8", "int64"),
                                          ("uint8", "int8"), ("bool", "int32"),
                                          ("int64", "int32"), ("int32", "float64")])
def test_0d_operand_promotes_as_torch(device, op, dims, zero_d):
    def run(lib, dev):
        a = _tensor(lib, dev, [1, 0, 1], dims)
        b = _tensor(lib, dev, 2, zero_d)
        if op == "where":
            return lib.where(_tensor(lib, dev, [True, False, True]), a, b)
        if op == "pow":
            return a ** b
        return getattr(lib, op)(a, b)

    if op == "pow" and "bool" in (dims, zero_d):
        pytest.skip("bool ** int is not defined in torch")
    _assert_same(*_both(run, device))


# bool tensors


@pytest.mark.parametrize("op", ["exp", "sqrt", "log", "tanh", "sigmoid"])
def test_float_math_on_bool_gives_float32(device, op):
    _assert_same(*_both(lambda lib, dev: getattr(_tensor(lib, dev, [True, False]), op)(),
                        device))


@pytest.mark.parametrize("expr", ["neg", "sub", "rsub", "sub_scalar", "relu", "argmax",
                                  "argmin", "abs"])
def test_refused_bool_ops_raise_as_torch(device, expr):
    def run(lib, dev):
        m = _tensor(lib, dev, [True, False])
        f = _tensor(lib, dev, [1.0, 2.0])
        return {"neg": lambda: -m, "sub": lambda: m - f, "rsub": lambda: f - m,
                "sub_scalar": lambda: f - True, "relu": lambda: m.relu(),
                "argmax": lambda: m.argmax(), "argmin": lambda: m.argmin(dim=3),
                "abs": lambda: m.abs()}[expr]()

    expected = _outcome(run, torch, "cpu")
    assert isinstance(expected, type)
    with pytest.raises(expected):
        run(mg, device)


# empty tensors


@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 1), ((0, 3), 0), ((0,), 0)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
def test_reductions_over_rows_of_empty_tensors(device, fn, shape, dim):
    def run(lib, dev):
        x = lib.zeros(shape) if lib is torch else mg.zeros(shape, device=dev)
        if fn == "logsumexp":
            return x.logsumexp(dim)
        return getattr(F if lib is mg else TF, fn)(x, dim=dim)

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("smoothing", [0.0, 0.5])
def test_cross_entropy_of_no_classes(device, smoothing):
    """Class probabilities over 0 classes (the smoothing divides by no classes)."""
    def run(lib, dev):
        logits = lib.zeros((2, 0)) if lib is torch else mg.zeros((2, 0), device=dev)
        target = lib.zeros((2, 0)) if lib is torch else mg.zeros((2, 0), device=dev)
        return (F if lib is mg else TF).cross_entropy(logits, target, reduction="none",
                                                      label_smoothing=smoothing)

    _assert_same(*_both(run, device))


def test_cross_entropy_of_empty_batch(device):
    def run(lib, dev):
        logits = lib.zeros((0, 3)) if lib is torch else mg.zeros((0, 3), device=dev)
        target = _tensor(lib, dev, np.zeros(0, np.int64), "int64")
        return (F if lib is mg else TF).cross_entropy(logits, target, reduction="sum")

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("shape, start, end", [((0, 3), 1, -1), ((2, 0, 3), 0, 1),
                                               ((3, 0), 0, -1), ((0,), 0, 0)])
def test_flatten_of_empty(device, shape, start, end):
    _assert_same(*_both(lambda lib, dev: (lib.zeros(shape) if lib is torch else
                                          mg.zeros(shape, device=dev)).flatten(start, end),
                        device))


def test_logsumexp_of_a_row_of_minus_inf(device):
    inf = float("inf")
    _assert_same(*_both(lambda lib, dev: _tensor(lib, dev, [[-inf, -inf], [0.5, -inf],
                                                           [inf, 1.0]]).logsumexp(1), device))


# cat


@pytest.mark.parametrize("shapes, dim", [([(0,), (2, 3)], 0), ([(2, 3), (0,)], 1),
                                         ([(0,), (0,)], -2), ([(0,), (2, 3), (1, 3)], 0)])
def test_cat_skips_1d_empty_tensors(device, shapes, dim):
    def run(lib, dev):
        ts = [lib.ones(s) if lib is torch else mg.ones(s, device=dev) for s in shapes]
        return lib.cat(ts, dim=dim)

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("shapes, dim", [([(3,), (2, 3)], 0), ([(), ()], 0), ([(2,), ()], 5),
                                         ([(3,), (2, 3)], 1), ([(2, 3), (3,)], -2),
                                         ([(0,), (2, 3)], 2)])
def test_cat_refuses_as_torch(device, shapes, dim):
    """0-d tensors first, then the dim (of the first tensor that counts), then the ndims."""
    def run(lib, dev):
        ts = [lib.ones(s) if lib is torch else mg.ones(s, device=dev) for s in shapes]
        return lib.cat(ts, dim=dim)

    expected = _outcome(run, torch, "cpu")
    assert isinstance(expected, type)
    with pytest.raises(expected):
        run(mg, device)


# indexing, views


@pytest.mark.parametrize("key", [slice(None, None, -1), slice(1, None, 0),
                                 (slice(None), slice(None, None, -2))])
def test_slices_with_step_below_one_raise_value_error(device, key):
    with pytest.raises(ValueError):
        torch.ones(3, 3)[key]
    x = mg.ones((3, 3), device=device)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[key]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[key] = 0.0


def test_flip_and_reverse_scans_still_work(device):
    def run(lib, dev):
        x = _tensor(lib, dev, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        x.requires_grad_(True)
        (g,) = (mg if lib is mg else torch.autograd).grad(
            (x.flip(1).cumsum(1) ** 2).sum(), [x], create_graph=True)
        (h,) = (mg if lib is mg else torch.autograd).grad((g * g).sum(), [x])
        return h

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("target, key, value", [((2, 3), 0, (1, 1, 3)), ((), (), (1,)),
                                                ((2, 3), (slice(None),), (1, 1, 1, 3))])
@pytest.mark.parametrize("grad", [False, True])
def test_setitem_drops_leading_size_1_dims(device, target, key, value, grad):
    def run(lib, dev):
        v = lib.ones(value) if lib is torch else mg.ones(value, device=dev)
        w = lib.ones(target) if lib is torch else mg.ones(target, device=dev)
        if grad:
            v.requires_grad_(True)
            w.requires_grad_(True)
        x = w * 2.0
        x[key] = v * 3.0
        if grad:
            x.sum().backward()
            return v.grad
        return x

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("call", ["view", "permute"])
@pytest.mark.parametrize("shape", [(), (2,), (2, 3)])
def test_view_and_permute_without_sizes_raise_type_error(device, call, shape):
    with pytest.raises(TypeError):
        getattr(torch.ones(shape), call)()
    with pytest.raises(TypeError):
        getattr(mg.ones(shape, device=device), call)()


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch deprecates .T on 0-d and 1-d
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_transpose_without_dims_still_works(device, shape):
    _assert_same(*_both(lambda lib, dev: (lib.ones(shape) if lib is torch else
                                          mg.ones(shape, device=dev)).T, device))


# losses


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("shapes", [((3, 1), (3,)), ((), (2,)), ((2, 3), (1, 3))])
def test_regression_losses_broadcast_with_a_warning(device, loss, shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).round(3) for s in shapes)

    def run(lib, dev):
        return getattr(F if lib is mg else TF, loss)(_tensor(lib, dev, a), _tensor(lib, dev, b))

    for lib, dev in ((mg, device), (torch, "cpu")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(lib, dev)
        assert any(issubclass(w.category, UserWarning) and "target size" in str(w.message)
                   for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _assert_same(*_both(run, device))


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("dtypes", [("float16", "float32"), ("float32", "float64"),
                                    ("float64", "float16")])
def test_regression_losses_promote_input_and_target(device, loss, dtypes):
    def run(lib, dev):
        x = _tensor(lib, dev, [0.5, -1.25, 2.0], dtypes[0])
        y = _tensor(lib, dev, [1.0, 0.25, -0.5], dtypes[1])
        return getattr(F if lib is mg else TF, loss)(x, y)

    _assert_same(*_both(run, device))


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_an_ignored_sample_with_nan_adds_nothing(device, loss, smoothing):
    def run(lib, dev):
        x = _tensor(lib, dev, [[0.5, float("nan"), 1.0], [0.25, -1.0, 2.0]])
        y = _tensor(lib, dev, [-100, 2], "int64")
        kwargs = {"label_smoothing": smoothing} if loss == "cross_entropy" else {}
        if smoothing and loss == "nll_loss":
            pytest.skip("nll_loss has no smoothing")
        return getattr(F if lib is mg else TF, loss)(x, y, **kwargs)

    _assert_same(*_both(run, device))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("pos_weight", [None, 2.0])
def test_bce_with_logits_of_infinite_logits(device, pos_weight):
    inf = float("inf")
    logits = [inf, inf, inf, -inf, -inf, -inf, 0.0, -30.0]
    target = [0.0, 0.5, 1.0, 0.0, 0.5, 1.0, 0.5, 1.0]

    def run(lib, dev):
        x = _tensor(lib, dev, logits)
        x.requires_grad_(True)
        pw = None if pos_weight is None else _tensor(lib, dev, [pos_weight])
        loss = (F if lib is mg else TF).binary_cross_entropy_with_logits(
            x, _tensor(lib, dev, target), reduction="none", pos_weight=pw)
        loss.sum().backward()
        return loss, x.grad

    (loss, grad), (t_loss, t_grad) = _both(run, device)
    _assert_same(loss, t_loss)
    _assert_same(grad, t_grad)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float16", "float32"),
                                    ("int64", "float32"), ("int32", "int64")])
@pytest.mark.parametrize("reflected", [False, True])
def test_matmul_of_two_dtypes_raises_runtime_error(device, dtypes, reflected):
    def run(lib, dev):
        a = _tensor(lib, dev, [[1, 2], [3, 4]], dtypes[0])
        b = _tensor(lib, dev, [1, 2], dtypes[1])
        return b.__rmatmul__(a) if reflected else lib.matmul(a, b)

    with pytest.raises(RuntimeError):
        run(torch, "cpu")
    with pytest.raises(RuntimeError, match="same dtype"):
        run(mg, device)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_binary_cross_entropy_second_derivatives_near_one(device, reduction):
    """PyTorch's own second-derivative formulas, where the chain rule through the slope
    (p - t) / (p (1 - p)) would lose digits: probabilities within 1e-7 of 1."""
    rng = np.random.default_rng(5)
    logits = rng.uniform(-17, 17, (3, 5))
    targets = rng.random((3, 5))

    def run(lib, dev):
        kw = {"device": dev} if lib is mg else {}
        x = lib.tensor(logits, dtype=lib.float64, requires_grad=True, **kw)
        t = lib.tensor(targets, dtype=lib.float64, requires_grad=True, **kw)
        fn = F.binary_cross_entropy if lib is mg else TF.binary_cross_entropy
        loss = fn(x.sigmoid(), t, reduction=reduction)
        gx, gt = lib.autograd.grad(loss, [x, t], create_graph=True)
        ((gx * gx).sum() + (gt * gx).sum()).backward()
        return x.grad, t.grad

    for mine, theirs in zip(*_both(run, device)):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_mean_of_integers_refused_before_its_dims_are_read(device):
    for lib, dev in ((mg, device), (torch, "cpu")):
        kw = {"device": dev} if lib is mg else {}
        x = lib.zeros(2, 3, dtype=lib.int64, **kw)
        with pytest.raises(RuntimeError):
            x.mean(dim=5)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses_broadcast_before_promoting(device, loss):
    """A 0-d float64 input beside a float32 target of 3 elements: PyTorch broadcasts them
    first, so the float64 one has dims and the result is float64."""
    def run(lib, dev):
        kw = {"device": dev} if lib is mg else {}
        a = lib.tensor(0.5, dtype=lib.float64, requires_grad=True, **kw)
        b = lib.tensor([0.1, 0.7, 2.0], dtype=lib.float32, **kw)
        out = getattr(F if lib is mg else TF, loss)(a, b, reduction="none")
        if loss != "huber_loss":  # PyTorch's huber backward refuses the mixed dtypes
            out.sum().backward()
        return out, a.grad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn of the broadcast
        (out, grad), (t_out, t_grad) = _both(run, device)
    _assert_same(out, t_out)
    if t_grad is not None:
        _assert_same(grad, t_grad)
