"""Tests for minigrad.functional.

Every loss is checked against its closed form written out in NumPy (all reductions, float32
and float64, every device), by gradcheck in float64, and against PyTorch where it is
installed (values and gradients, every option); then stability at extreme inputs, dtypes,
device placement of helper tensors, and the error messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

REDUCTIONS = ("mean", "sum", "none")
FLOATS = (np.float32, np.float64)
N, C = 5, 4
TORCH_EPS = float(np.float32(1e-12))  # PyTorch's floor for p (1 - p) in the BCE gradient


def _tol(dtype: Any) -> dict:
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-5, "atol": 1e-6}
    return {"rtol": 1e-10, "atol": 1e-12}


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(loss.mean())
    if reduction == "sum":
        return np.asarray(loss.sum())
    return loss


# --------------------------------------------------------------------------- closed forms


def np_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _rows(x: np.ndarray) -> np.ndarray:
    """(C,), (N, C) or (N, C, d...) as rows of C class scores."""
    if x.ndim == 1:
        return x[None]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def np_nll(logp, y, w=None, reduction="mean", ignore_index=-100):
    rows, labels = _rows(logp), y.reshape(-1)
    w = np.ones(rows.shape[1]) if w is None else w
    keep = labels != ignore_index
    loss = np.array([-w[k] * rows[i, k] if kept else 0.0
                     for i, (k, kept) in enumerate(zip(labels, keep))])
    if reduction == "mean":
        return np.asarray(loss.sum() / w[labels[keep]].sum())
    return _reduce(loss.reshape(y.shape), reduction)


def np_cross_entropy(x, y, w=None, label_smoothing=0.0, reduction="mean", ignore_index=-100):
    """Class-index targets: (1 - e) (-w[y] l[y]) + e / C (-sum_c w[c] l[c]), weighted mean;
    samples whose target is ignore_index lose 0 and weigh 0."""
    rows, labels = _rows(np_log_softmax(x, 1 if x.ndim > 1 else 0)), y.reshape(-1)
    c = rows.shape[1]
    w = np.ones(c) if w is None else w
    keep = labels != ignore_index
    nll = np.array([-w[k] * rows[i, k] if kept else 0.0
                    for i, (k, kept) in enumerate(zip(labels, keep))])
    smooth = -(rows * w).sum(axis=1) * keep
    loss = (1 - label_smoothing) * nll + label_smoothing / c * smooth
    if reduction == "mean":
        return np.asarray(loss.sum() / w[labels[keep]].sum())
    return _reduce(loss.reshape(y.shape), reduction)


def np_cross_entropy_probs(x, t, w=None, label_smoothing=0.0, reduction="mean"):
    """Probability targets: -sum_c w[c] t'[c] l[c], t' = (1 - e) t + e / C; plain mean."""
    rows, trows = _rows(np_log_softmax(x, 1 if x.ndim > 1 else 0)), _rows(t)
    c = rows.shape[1]
    w = np.ones(c) if w is None else w
    trows = trows * (1 - label_smoothing) + label_smoothing / c
    loss = -(rows * trows * w).sum(axis=1)
    return _reduce(loss.reshape(t.shape[:1] + t.shape[2:] if t.ndim > 1 else ()), reduction)


def np_bce(p, t, w=None, reduction="mean"):
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    loss = -(t * log_p + (1 - t) * log_q) * (1 if w is None else w)
    return _reduce(loss, reduction)


def np_bce_logits(x, t, w=None, pos_weight=None, reduction="mean"):
    log_sigmoid = -np.logaddexp(0, -x)
    pw = 1 if pos_weight is None else pos_weight
    loss = ((1 - t) * x - (1 + (pw - 1) * t) * log_sigmoid) * (1 if w is None else w)
    return _reduce(loss, reduction)


def np_hinge(s, t, margin=1.0, reduction="mean"):
    return _reduce(np.maximum(0, margin - t * s), reduction)


def np_multi_margin(x, y, p=1, margin=1.0, w=None, reduction="mean"):
    rows, labels = x.reshape(-1, x.shape[-1]), y.reshape(-1)
    c = rows.shape[1]
    w = np.ones(c) if w is None else w
    loss = np.zeros(len(labels))
    for i, k in enumerate(labels):
        for j in range(c):
            if j != k:
                loss[i] += w[k] * max(0.0, margin - rows[i, k] + rows[i, j]) ** p / c
    return _reduce(loss.reshape(y.shape), reduction)


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One call of a loss: arrays (made tensors on the device) and its NumPy closed form.

    ``wrt`` names the float arguments to differentiate: positions of ``args`` and names
    of ``kwargs``; PyTorch gradients are compared for the positional ones (PyTorch has
    no gradient for weights).
    """

    fn: Callable
    args: list
    ref: Callable[[str], np.ndarray]
    kwargs: dict = field(default_factory=dict)
    wrt: tuple = (0,)
    torch_fn: Any = None

    def build(self, device: str, given: dict | None = None) -> tuple[list, dict]:
        """Arguments with arrays as tensors on ``device``; ``given`` overrides by key."""
        given = given or {}

        def convert(key: Any, value: Any) -> Any:
            if key in given:
                return given[key]
            return mg.tensor(value, device=device) if isinstance(value, np.ndarray) else value

        args = [convert(i, a) for i, a in enumerate(self.args)]
        kwargs = {k: convert(k, v) for k, v in self.kwargs.items()}
        return args, kwargs

    def value(self, key: Any) -> Any:
        return self.args[key] if isinstance(key, int) else self.kwargs[key]


def _up(*arrays: np.ndarray) -> list:
    """Float arrays in float64, for the closed forms (the same values the test passes)."""
    return [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]


def _normal(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _uniform(rng, dtype, low, high, *shape):
    return rng.uniform(low, high, shape).astype(dtype)


def _probs(rng, dtype, *shape):
    p = rng.random(shape) + 0.1
    return (p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)).astype(dtype)


def case_mse(rng, dtype):
    x, t = _normal(rng, dtype, N, 3), _normal(rng, dtype, N, 3)
    X, T = _up(x, t)
    return Case(F.mse_loss, [x, t], lambda r: _reduce((X - T) ** 2, r), wrt=(0, 1),
                torch_fn="mse_loss")


def case_l1(rng, dtype):
    x, t = _normal(rng, dtype, N, 3), _normal(rng, dtype, N, 3)
    X, T = _up(x, t)
    return Case(F.l1_loss, [x, t], lambda r: _reduce(np.abs(X - T), r), wrt=(0, 1),
                torch_fn="l1_loss")


def _huber(delta):
    def build(rng, dtype):
        x, t = 2 * _normal(rng, dtype, N, 3), _normal(rng, dtype, N, 3)
        X, T = _up(x, t)
        d = np.abs(X - T)
        ref = np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta))
        kwargs = {} if delta == 1.0 else {"delta": delta}
        return Case(F.huber_loss, [x, t], lambda r: _reduce(ref, r), kwargs, wrt=(0, 1),
                    torch_fn="huber_loss")

    return build


def _ignore_some(y, ignore_index, kwargs):
    """Every third target set to ``ignore_index`` (None: none); the argument if not -100."""
    if ignore_index is not None:
        y.reshape(-1)[::3] = ignore_index
        if ignore_index != -100:
            kwargs["ignore_index"] = ignore_index
    return -100 if ignore_index is None else ignore_index


def _cross_entropy(weighted=False, smoothing=0.0, shape=(N, C), ignore_index=None):
    def build(rng, dtype):
        x = 3 * _normal(rng, dtype, *shape)
        index_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
        y = rng.integers(0, C, index_shape)
        w = _uniform(rng, dtype, 0.5, 2.0, C) if weighted else None
        X, W = _up(x)[0], None if w is None else _up(w)[0]
        kwargs = {}
        if weighted:
            kwargs["weight"] = w
        if smoothing:
            kwargs["label_smoothing"] = smoothing
        ignored = _ignore_some(y, ignore_index, kwargs)
        return Case(F.cross_entropy, [x, y],
                    lambda r: np_cross_entropy(X, y, W, smoothing, r, ignored), kwargs,
                    wrt=(0, "weight") if weighted else (0,), torch_fn="cross_entropy")

    return build


def _cross_entropy_probs(weighted=False, smoothing=0.0, shape=(N, C)):
    def build(rng, dtype):
        x, t = 3 * _normal(rng, dtype, *shape), _probs(rng, dtype, *shape)
        w = _uniform(rng, dtype, 0.5, 2.0, C) if weighted else None
        X, T = _up(x, t)
        W = None if w is None else _up(w)[0]
        kwargs = {}
        if weighted:
            kwargs["weight"] = w
        if smoothing:
            kwargs["label_smoothing"] = smoothing
        return Case(F.cross_entropy, [x, t],
                    lambda r: np_cross_entropy_probs(X, T, W, smoothing, r), kwargs,
                    wrt=(0, 1, "weight") if weighted else (0, 1), torch_fn="cross_entropy")

    return build


def _nll(weighted=False, ignore_index=None):
    def build(rng, dtype):
        logp = np_log_softmax(_normal(rng, np.float64, N, C), 1).astype(dtype)
        y = rng.integers(0, C, N)
        w = _uniform(rng, dtype, 0.5, 2.0, C) if weighted else None
        L, W = _up(logp)[0], None if w is None else _up(w)[0]
        kwargs = {"weight": w} if weighted else {}
        ignored = _ignore_some(y, ignore_index, kwargs)
        return Case(F.nll_loss, [logp, y], lambda r: np_nll(L, y, W, r, ignored), kwargs,
                    wrt=(0, "weight") if weighted else (0,), torch_fn="nll_loss")

    return build


def _bce(weighted=False):
    def build(rng, dtype):
        p, t = _uniform(rng, dtype, 0.05, 0.95, N, 3), _uniform(rng, dtype, 0.05, 0.95, N, 3)
        w = _uniform(rng, dtype, 0.5, 2.0, 3) if weighted else None
        P, T = _up(p, t)
        W = None if w is None else _up(w)[0]
        kwargs = {"weight": w} if weighted else {}
        return Case(F.binary_cross_entropy, [p, t], lambda r: np_bce(P, T, W, r), kwargs,
                    wrt=(0, 1, "weight") if weighted else (0, 1),
                    torch_fn="binary_cross_entropy")

    return build


def _bce_logits(weighted=False, pos_weighted=False):
    def build(rng, dtype):
        x, t = 3 * _normal(rng, dtype, N, 3), _uniform(rng, dtype, 0.0, 1.0, N, 3)
        w = _uniform(rng, dtype, 0.5, 2.0, N, 1) if weighted else None
        pw = _uniform(rng, dtype, 0.2, 4.0, 3) if pos_weighted else None
        X, T = _up(x, t)
        W = None if w is None else _up(w)[0]
        PW = None if pw is None else _up(pw)[0]
        kwargs, wrt = {}, (0, 1)
        if weighted:
            kwargs["weight"], wrt = w, wrt + ("weight",)
        if pos_weighted:
            kwargs["pos_weight"], wrt = pw, wrt + ("pos_weight",)
        return Case(F.binary_cross_entropy_with_logits, [x, t],
                    lambda r: np_bce_logits(X, T, W, PW, r), kwargs, wrt=wrt,
                    torch_fn="binary_cross_entropy_with_logits")

    return build


def _torch_hinge(torch):
    def hinge(s, t, margin=1.0, reduction="mean"):
        loss = torch.clamp(margin - t * s, min=0)
        return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()

    return hinge


def _hinge(margin=None, float_target=False):
    def build(rng, dtype):
        s = 2 * _normal(rng, dtype, N, 2)
        t = rng.choice([-1, 1], (N, 2))
        t = t.astype(dtype) if float_target else t
        S = _up(s)[0]
        kwargs = {} if margin is None else {"margin": margin}
        return Case(F.hinge_loss, [s, t],
                    lambda r: np_hinge(S, t, 1.0 if margin is None else margin, r), kwargs,
                    torch_fn=_torch_hinge)

    return build


def _multi_margin(p=1, margin=1.0, weighted=False, shape=(N, C)):
    def build(rng, dtype):
        x = _normal(rng, dtype, *shape)
        y = rng.integers(0, C, shape[:-1])
        w = _uniform(rng, dtype, 0.5, 2.0, C) if weighted else None
        X, W = _up(x)[0], None if w is None else _up(w)[0]
        kwargs = {"p": p, "margin": margin}
        if weighted:
            kwargs["weight"] = w
        return Case(F.multi_margin_loss, [x, y],
                    lambda r: np_multi_margin(X, y, p, margin, W, r), kwargs,
                    wrt=(0, "weight") if weighted else (0,), torch_fn="multi_margin_loss")

    return build


CASES = {
    "mse": case_mse,
    "l1": case_l1,
    "huber": _huber(1.0),
    "huber_delta": _huber(0.6),
    "ce": _cross_entropy(),
    "ce_weight": _cross_entropy(weighted=True),
    "ce_smoothing": _cross_entropy(smoothing=0.2),
    "ce_weight_smoothing": _cross_entropy(weighted=True, smoothing=0.3),
    "ce_unbatched": _cross_entropy(weighted=True, smoothing=0.1, shape=(C,)),
    "ce_spatial": _cross_entropy(weighted=True, smoothing=0.1, shape=(2, C, 3)),
    "ce_probs": _cross_entropy_probs(),
    "ce_probs_weight_smoothing": _cross_entropy_probs(weighted=True, smoothing=0.25),
    "ce_probs_spatial": _cross_entropy_probs(weighted=True, shape=(2, C, 3)),
    "ce_ignore": _cross_entropy(ignore_index=-100),
    "ce_ignore_weight_smoothing": _cross_entropy(weighted=True, smoothing=0.2, ignore_index=2),
    "ce_ignore_spatial": _cross_entropy(smoothing=0.1, shape=(2, C, 3), ignore_index=1),
    "nll": _nll(),
    "nll_weight": _nll(weighted=True),
    "nll_ignore_weight": _nll(weighted=True, ignore_index=0),
    "bce": _bce(),
    "bce_weight": _bce(weighted=True),
    "bce_logits": _bce_logits(),
    "bce_logits_weight": _bce_logits(weighted=True),
    "bce_logits_pos_weight": _bce_logits(pos_weighted=True),
    "bce_logits_both": _bce_logits(weighted=True, pos_weighted=True),
    "hinge": _hinge(),
    "hinge_margin_float_target": _hinge(margin=0.5, float_target=True),
    "multi_margin": _multi_margin(),
    "multi_margin_p2": _multi_margin(p=2),
    "multi_margin_weight_margin": _multi_margin(p=2, margin=0.7, weighted=True),
    "multi_margin_unbatched": _multi_margin(p=1, margin=1.5, weighted=True, shape=(C,)),
}


# --------------------------------------------------------------------------- losses: values


@pytest.mark.parametrize("dtype", FLOATS, ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_loss_matches_closed_form(name, reduction, dtype, device):
    case = CASES[name](np.random.default_rng(1), dtype)
    args, kwargs = case.build(device)
    out = case.fn(*args, **kwargs, reduction=reduction)
    expected = case.ref(reduction)
    assert out.device == mg.get_backend(device).name
    assert out.dtype == dtype
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, **_tol(dtype))


@pytest.mark.parametrize("name", list(CASES))
def test_loss_float32_in_float32_out(name, device):
    case = CASES[name](np.random.default_rng(2), np.float32)
    leaves = {k: mg.tensor(case.value(k), device=device, requires_grad=True) for k in case.wrt}
    args, kwargs = case.build(device, leaves)
    out = case.fn(*args, **kwargs, reduction="mean")
    out.backward()
    assert out.dtype == np.float32
    for key, leaf in leaves.items():
        assert leaf.grad is not None and leaf.grad.dtype == np.float32, key
        assert np.isfinite(leaf.grad.numpy()).all(), key


def test_default_reduction_is_mean(device):
    case = CASES["ce_weight"](np.random.default_rng(3), np.float64)
    args, kwargs = case.build(device)
    np.testing.assert_allclose(case.fn(*args, **kwargs).numpy(), case.ref("mean"), rtol=1e-12)
    hinge = CASES["hinge"](np.random.default_rng(3), np.float64)
    args, kwargs = hinge.build(device)
    np.testing.assert_allclose(hinge.fn(*args, **kwargs).numpy(), hinge.ref("mean"), rtol=1e-12)


def test_targets_as_arrays_and_lists(device):
    x = mg.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]], device=device)
    from_list = F.cross_entropy(x, [2, 0])
    from_tensor = F.cross_entropy(x, mg.tensor([2, 0], device=device))
    np.testing.assert_allclose(from_list.numpy(), from_tensor.numpy())
    mse = F.mse_loss(x, np.zeros((2, 3)))  # a float64 array: cast to the input's float32
    assert mse.dtype == np.float32
    np.testing.assert_allclose(mse.numpy(), (x.numpy() ** 2).mean(), rtol=1e-6)


# --------------------------------------------------------------------------- losses: gradients


@pytest.mark.parametrize("name", list(CASES))
def test_loss_gradcheck(name, device):
    """The mean reduction: per-element gradients and, for weights, the weighted mean."""
    case = CASES[name](np.random.default_rng(4), np.float64)
    keys = list(case.wrt)
    leaves = [mg.tensor(case.value(k), device=device, requires_grad=True) for k in keys]

    def fn(*tensors):
        args, kwargs = case.build(device, dict(zip(keys, tensors)))
        return case.fn(*args, **kwargs, reduction="mean")

    assert mg.gradcheck(fn, leaves)


@pytest.mark.parametrize("name", ["ce_weight_smoothing", "bce", "bce_logits_both", "huber"])
def test_loss_second_derivatives(name, device):
    """Gradients of gradients: the fused BCE's backward is itself differentiable."""
    case = CASES[name](np.random.default_rng(5), np.float64)
    x = mg.tensor(case.value(0), device=device, requires_grad=True)

    def gradient(x):
        args, kwargs = case.build(device, {0: x})
        loss = case.fn(*args, **kwargs, reduction="sum")
        return mg.grad(loss, x, create_graph=True)[0]

    assert mg.gradcheck(gradient, [x])


# --------------------------------------------------------------------------- losses: PyTorch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_loss_matches_pytorch(name, reduction, torch):
    case = CASES[name](np.random.default_rng(6), np.float64)
    grads = [k for k in case.wrt if isinstance(k, int)]
    mine = {k: mg.tensor(case.value(k), requires_grad=True) for k in grads}
    args, kwargs = case.build("numpy", mine)
    out = case.fn(*args, **kwargs, reduction=reduction)

    theirs = {k: torch.tensor(case.value(k), requires_grad=True) for k in grads}

    def as_torch(key, value):
        if key in theirs:
            return theirs[key]
        return torch.tensor(value) if isinstance(value, np.ndarray) else value

    t_args = [as_torch(i, a) for i, a in enumerate(case.args)]
    t_kwargs = {k: as_torch(k, v) for k, v in case.kwargs.items()}
    fn = (getattr(torch.nn.functional, case.torch_fn) if isinstance(case.torch_fn, str)
          else case.torch_fn(torch))
    ref = fn(*t_args, **t_kwargs, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-12)

    direction = np.random.default_rng(7).standard_normal(ref.shape)
    out.backward(mg.tensor(direction))
    ref.backward(torch.tensor(direction))
    for k in grads:
        np.testing.assert_allclose(mine[k].grad.numpy(), theirs[k].grad.numpy(),
                                   rtol=1e-5, atol=1e-12, err_msg=f"gradient of argument {k}")


def test_bce_at_zero_and_one_matches_pytorch(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-13, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3])
    for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        rtol = 1e-7 if dtype == np.float32 else 1e-12
        for reduction in REDUCTIONS:
            x = mg.tensor(p, dtype=dtype, requires_grad=True)
            out = F.binary_cross_entropy(x, mg.tensor(t, dtype=dtype), reduction=reduction)
            xt = torch.tensor(p, dtype=tdtype, requires_grad=True)
            ref = torch.nn.functional.binary_cross_entropy(xt, torch.tensor(t, dtype=tdtype),
                                                           reduction=reduction)
            np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol)
            direction = np.linspace(0.5, 1.5, ref.numel()).reshape(ref.shape)
            out.backward(mg.tensor(direction, dtype=dtype))
            ref.backward(torch.tensor(direction, dtype=tdtype))
            assert np.isfinite(x.grad.numpy()).all()
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol)


def test_bce_target_gradient_is_unclamped_as_in_pytorch(torch):
    # d/dt = log(1 - p) - log(p): infinite at p = 0 and 1, large for tiny p
    p = np.array([0.0, 1.0, 1e-300, 0.3])
    t = mg.tensor(np.full(4, 0.5), dtype=mg.float64, requires_grad=True)
    F.binary_cross_entropy(mg.tensor(p, dtype=mg.float64), t, reduction="sum").backward()
    tt = torch.tensor(np.full(4, 0.5), requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.tensor(p), tt, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12)
    assert t.grad.numpy()[0] == np.inf and t.grad.numpy()[1] == -np.inf


# --------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", FLOATS, ids=["float32", "float64"])
def test_log_softmax_and_softmax_at_huge_logits(dtype, device):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    v = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.25]], dtype=dtype)

    t = mg.tensor(x, device=device, requires_grad=True)
    out = F.log_softmax(t, axis=1)
    np.testing.assert_array_equal(out.numpy(), [[0.0, -2e4, -1e4], [-2e4, -2e4, 0.0]])
    (out * mg.tensor(v, device=device)).sum().backward()
    expected = v - onehot * v.sum(axis=1, keepdims=True)  # v - softmax * sum(v)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-6, atol=1e-7)

    s = mg.tensor(x, device=device, requires_grad=True)
    probs = F.softmax(s, axis=1)
    np.testing.assert_array_equal(probs.numpy(), onehot)
    (probs * mg.tensor(v, device=device)).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), 0.0, atol=1e-7)  # s (v - s.v) = 0 at a one-hot


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_every_target_ignored_gives_nan_and_zero_gradients(device, smoothing):
    # PyTorch's mean over no samples: NaN, and gradients of 0, not NaN
    x = mg.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], device=device, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([-100, -100], device=device),
                           label_smoothing=smoothing)
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_loss_modules_take_ignore_index(device):
    x = mg.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], device=device)
    y = mg.tensor([2, 1], device=device)
    only_first = F.cross_entropy(x[:1], y[:1])
    np.testing.assert_allclose(nn.CrossEntropyLoss(ignore_index=1)(x, y).numpy(),
                               only_first.numpy(), rtol=1e-6)
    log_probs = F.log_softmax(x, axis=1)
    np.testing.assert_allclose(nn.NLLLoss(ignore_index=1)(log_probs, y).numpy(),
                               only_first.numpy(), rtol=1e-6)
    assert "ignore_index=1" in repr(nn.CrossEntropyLoss(ignore_index=1))


@pytest.mark.parametrize("dtype", FLOATS, ids=["float32", "float64"])
def test_cross_entropy_at_huge_logits(dtype, device):
    x = mg.tensor([[1e4, -1e4, 0.0], [-1e4, 0.0, 1e4]], dtype=dtype, device=device,
                  requires_grad=True)
    y = mg.tensor([0, 0], device=device)
    loss = F.cross_entropy(x, y, reduction="none")
    assert loss.dtype == dtype
    np.testing.assert_array_equal(loss.numpy(), [0.0, 2e4])
    loss.sum().backward()
    # softmax - onehot: the softmax is one-hot at the largest logit
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0, 0.0], [-1.0, 0.0, 1.0]])

    x.grad = None
    probs = mg.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], dtype=dtype, device=device)
    loss = F.cross_entropy(x, probs, reduction="sum")
    np.testing.assert_allclose(loss.item(), 0.5 * 2e4, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS, ids=["float32", "float64"])
def test_bce_at_probabilities_zero_and_one(dtype, device):
    """Logs clamp at -100; the gradient is (p - t) / max(p (1 - p), eps), as in PyTorch."""
    p = mg.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype, device=device, requires_grad=True)
    t = mg.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype, device=device)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    expected = np.array([-1.0, 1.0, 0.0, 0.0]) / TORCH_EPS
    rtol = 1e-7 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(p.grad.numpy(), expected, rtol=rtol)

    mean = F.binary_cross_entropy(p.detach(), t)
    np.testing.assert_allclose(mean.item(), 50.0, rtol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS, ids=["float32", "float64"])
def test_bce_with_logits_at_huge_logits(dtype, device):
    x = mg.tensor([1e4, 1e4, -1e4, -1e4, 0.0, 0.0], dtype=dtype, device=device,
                  requires_grad=True)
    t = mg.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0], dtype=dtype, device=device)
    log2 = np.log(2)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 1e4, 1e4, 0.0, log2, log2], rtol=1e-6)
    loss.sum().backward()
    # sigmoid(x) - t, with sigmoid(0) = 1/2 at the kink of max(x, 0)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, -1.0, 0.0, -0.5, 0.5], atol=1e-7)

    x.grad = None
    pw = mg.tensor(3.0, dtype=dtype, device=device)
    loss = F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 1e4, 3e4, 0.0, 3 * log2, log2], rtol=1e-6)
    loss.sum().backward()
    # (1 - t) sigmoid(x) - pos_weight t sigmoid(-x)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, -3.0, 0.0, -1.5, 0.5], atol=1e-7)


def test_bce_with_logits_keeps_tiny_losses(device):
    """log(1 + exp(-|x|)) stays accurate where exp(-|x|) is below the float epsilon."""
    x = mg.tensor([20.0, -20.0, 40.0], device=device, requires_grad=True)
    t = mg.tensor([1.0, 0.0, 1.0], device=device)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    expected = np.log1p(np.exp(-np.array([20.0, 20.0, 40.0])))
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5)
    loss.sum().backward()
    sig = 1 / (1 + np.exp(np.array([20.0, -20.0, 40.0])))  # sigmoid(-x)
    np.testing.assert_allclose(x.grad.numpy(), [-sig[0], 1 - sig[1], -sig[2]], rtol=1e-5)


# --------------------------------------------------------------------------- activations


def np_activation(name: str, x: np.ndarray, **kw) -> np.ndarray:
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x > 0, x, kw.get("negative_slope", 0.01) * x)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    axis = kw.get("axis", kw.get("dim", -1))
    if name == "softmax":
        return np.exp(np_log_softmax(x, axis))
    return np_log_softmax(x, axis)


ACTIVATIONS = [
    ("relu", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("softmax", {"dim": 1}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 0}),
    ("log_softmax", {"dim": -2}),
]
ACTIVATION_IDS = [name + "".join(f"-{k}={v}" for k, v in kw.items()) for name, kw in ACTIVATIONS]


@pytest.mark.parametrize("dtype", FLOATS, ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "kw"), ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_values(name, kw, dtype, device):
    x = (3 * np.random.default_rng(8).standard_normal((4, 5))).astype(dtype)
    t = mg.tensor(x, device=device, requires_grad=True)
    out = getattr(F, name)(t, **kw)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), np_activation(name, x.astype(np.float64), **kw),
                               **_tol(dtype))
    out.sum().backward()
    assert t.grad.dtype == dtype


@pytest.mark.parametrize(("name", "kw"), ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_gradcheck(name, kw, device):
    x = mg.tensor(np.random.default_rng(9).standard_normal((3, 4)), device=device,
                  requires_grad=True)
    assert mg.gradcheck(lambda t: getattr(F, name)(t, **kw), [x])


@pytest.mark.parametrize(("name", "kw"), ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_matches_pytorch(name, kw, torch):
    x = np.random.default_rng(10).standard_normal((3, 4))
    x[0, 0] = 0.0  # the kink of relu and leaky_relu: PyTorch's gradient there
    mine = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(mine, **kw)
    if name in ("softmax", "log_softmax"):
        dim = kw.get("axis", kw.get("dim", -1))
        ref = getattr(torch.nn.functional, name)(theirs, dim=dim)
    elif name == "leaky_relu":
        ref = torch.nn.functional.leaky_relu(theirs, **kw)
    else:
        ref = getattr(torch, name)(theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    direction = np.random.default_rng(11).standard_normal(x.shape)
    out.backward(mg.tensor(direction))
    ref.backward(torch.tensor(direction))
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_relu_family_gradient_at_zero(device):
    x = mg.tensor([0.0, -2.0, 3.0], device=device, requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    x.grad = None
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1, 1.0])


# --------------------------------------------------------------------------- devices


@pytest.fixture
def shadow_device(monkeypatch):
    """A second NumPy backend under another name, to catch helpers made on the default device."""
    from minigrad import backend as registry
    from minigrad.backends.numpy_backend import NumPyBackend

    if not hasattr(registry, "_factories") or not hasattr(registry, "_instances"):
        pytest.skip("the backend registry has changed shape")

    class ShadowBackend(NumPyBackend):
        """NumPy arrays under another device name."""

    monkeypatch.setattr(registry, "_factories", dict(registry._factories))
    monkeypatch.setattr(registry, "_instances", dict(registry._instances))
    mg.register_backend("shadow", ShadowBackend)
    return "shadow"


@pytest.mark.parametrize("name", list(CASES))
def test_loss_runs_on_the_inputs_device(name, shadow_device):
    mg.set_default_device("numpy")
    case = CASES[name](np.random.default_rng(12), np.float64)
    leaves = {k: mg.tensor(case.value(k), device=shadow_device, requires_grad=True)
              for k in case.wrt}
    args, kwargs = case.build(shadow_device, leaves)
    out = case.fn(*args, **kwargs, reduction="mean")
    assert out.device == shadow_device
    out.backward()
    assert all(leaf.grad.device == shadow_device for leaf in leaves.values())
    np.testing.assert_allclose(out.numpy(), case.ref("mean"), rtol=1e-10)


def test_target_on_another_device_is_refused(shadow_device):
    x = mg.tensor([[0.5, 1.0]], device=shadow_device)
    with pytest.raises(RuntimeError, match=r"target is on device 'numpy'.*'shadow'"):
        F.cross_entropy(x, mg.tensor([1]))
    with pytest.raises(RuntimeError, match="weight is on device 'numpy'"):
        F.cross_entropy(x, mg.tensor([1], device=shadow_device), weight=mg.tensor([1.0, 2.0]))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", list(CASES))
def test_unknown_reduction(name):
    case = CASES[name](np.random.default_rng(13), np.float32)
    args, kwargs = case.build("numpy")
    with pytest.raises(ValueError, match=r"'mean', 'sum', 'none'.*'avg'"):
        case.fn(*args, **kwargs, reduction="avg")


def _x(*shape, dtype=np.float32):
    return mg.tensor(np.random.default_rng(14).standard_normal(shape).astype(dtype))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.mse_loss(_x(3, 2), _x(2, 3)), r"target shape \(2, 3\).*input shape \(3, 2\)"),
        (lambda: F.l1_loss(_x(4), _x(4, 2)), r"\(4, 2\).*\(4,\)"),
        (lambda: F.huber_loss(_x(4), _x(5)), r"\(5,\).*\(4,\)"),
        (lambda: F.binary_cross_entropy(_x(3).sigmoid(), _x(3, 1).sigmoid()),
         r"\(3, 1\).*\(3,\)"),
        (lambda: F.binary_cross_entropy_with_logits(_x(3), _x(1, 3)), r"\(1, 3\).*\(3,\)"),
        (lambda: F.hinge_loss(_x(3), mg.tensor([1, -1])), r"\(2,\).*\(3,\)"),
        (lambda: F.cross_entropy(_x(4, 3), mg.tensor([0, 1, 2])),
         r"target shape \(3,\).*input shape \(4, 3\).*\(4,\)"),
        (lambda: F.cross_entropy(_x(4, 3), _x(4, 2)), r"\(4, 2\).*\(4, 3\)"),
        (lambda: F.nll_loss(_x(4, 3), mg.tensor([[0, 1, 2, 0]])), r"\(1, 4\).*\(4, 3\)"),
        (lambda: F.multi_margin_loss(_x(4, 3), mg.tensor([0, 1])), r"\(2,\).*\(4, 3\)"),
        (lambda: F.multi_margin_loss(_x(2, 3, 4), mg.tensor([[0]])), r"\(2, 3, 4\)"),
        (lambda: F.cross_entropy(_x(4, 3), mg.tensor([0, 1, 2, 0]), weight=_x(4)),
         r"shape \(3,\).*shape \(4,\)"),
        (lambda: F.binary_cross_entropy(_x(2, 3).sigmoid(), _x(2, 3).sigmoid(), weight=_x(2)),
         r"weight of shape \(2,\).*\(2, 3\)"),
        (lambda: F.binary_cross_entropy_with_logits(_x(2, 3), _x(2, 3), pos_weight=_x(2)),
         r"pos_weight of shape \(2,\).*\(2, 3\)"),
        (lambda: F.cross_entropy(mg.tensor(1.0), mg.tensor(0)), "0-d"),
    ],
)
def test_shape_errors_name_both_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.mse_loss(_x(3), mg.tensor([1, 2, 3])), "target.*floating.*int64"),
        (lambda: F.binary_cross_entropy(_x(3).sigmoid(), mg.tensor([1, 0, 1])), "int64"),
        (lambda: F.binary_cross_entropy_with_logits(_x(3), mg.tensor([1, 0, 1])), "int64"),
        (lambda: F.cross_entropy(_x(4, 3), _x(4)), "integer.*float32"),
        (lambda: F.cross_entropy(_x(4, 3), mg.tensor(np.eye(4, 3, dtype=np.int64))),
         "probabilities.*floating point.*int64"),
        (lambda: F.nll_loss(_x(4, 3), _x(4)), "integer.*float32"),
        (lambda: F.multi_margin_loss(_x(4, 3), mg.tensor([True, False, True, True])),
         "integer.*bool"),
        (lambda: F.hinge_loss(_x(2), mg.tensor([True, False])), "bool"),
        (lambda: F.mse_loss(mg.tensor([1, 2]), _x(2)), "input.*floating.*int64"),
        (lambda: F.cross_entropy(mg.tensor([[1, 2]]), mg.tensor([0])), "logits.*int64"),
        (lambda: F.cross_entropy(_x(2, 3), mg.tensor([0, 1]), weight=mg.tensor([1, 1, 1])),
         "weight.*int64"),
    ],
)
def test_dtype_errors_name_the_dtype(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.cross_entropy(_x(3, 4), mg.tensor([0, 4, 1])), r"index 4 .* 4 classes"),
        (lambda: F.cross_entropy(_x(3, 4), mg.tensor([0, -1, 1])), r"index -1 .* 4 classes"),
        (lambda: F.cross_entropy(_x(4), mg.tensor(7)), r"index 7 .* 4 classes"),
        (lambda: F.cross_entropy(_x(2, 4), mg.tensor([1, -1], dtype=mg.int8)),
         r"index -1 .* 4 classes"),
        (lambda: F.cross_entropy(_x(2, 200), mg.tensor([1, -1], dtype=mg.int8)),
         r"index -1 .* 200 classes"),  # more classes than an int8 holds
        (lambda: F.cross_entropy(_x(2, 4), mg.tensor([1, -100], dtype=mg.int32), ignore_index=-1),
         r"index -100 .* 4 classes"),
        (lambda: F.nll_loss(_x(2, 3), mg.tensor([3, 0])), r"index 3 .* 3 classes"),
        (lambda: F.multi_margin_loss(_x(2, 5), mg.tensor([0, 9])), r"index 9 .* 5 classes"),
    ],
)
def test_class_index_out_of_range(call, message):
    with pytest.raises(IndexError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.hinge_loss(_x(3), mg.tensor([1, 0, -1])), "-1 or \\+1, found 0"),
        (lambda: F.hinge_loss(_x(2), mg.tensor([1.0, 0.5])), "found 0.5"),
        (lambda: F.multi_margin_loss(_x(2, 3), mg.tensor([0, 1]), p=3), "p == 1 and p == 2.*3"),
        (lambda: F.multi_margin_loss(_x(2, 3), mg.tensor([0, 1]), p=0), "got 0"),
        (lambda: F.binary_cross_entropy(_x(3), _x(3).sigmoid()),
         "probs must be between 0 and 1.*with_logits"),
        (lambda: F.binary_cross_entropy(_x(3).sigmoid(), mg.tensor([0.0, 1.5, 1.0])),
         "target must be between 0 and 1, found 1.5"),
        (lambda: F.binary_cross_entropy(mg.tensor([0.5, float("nan")]), mg.tensor([0.0, 1.0])),
         "found nan"),
        (lambda: F.cross_entropy(_x(2, 3), mg.tensor([0, 1]), label_smoothing=1.5),
         "label_smoothing.*1.5"),
        (lambda: F.huber_loss(_x(2), _x(2), delta=0.0), "delta must be positive"),
    ],
)
def test_invalid_values(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_all_is_complete():
    public = {n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))}
    public -= {"Any", "Function", "OpError", "Tensor", "annotations", "arange", "maximum",
               "no_grad", "tensor", "where"}
    assert public == set(F.__all__)
