"""Every primitive of minigrad, found by walking the ``Op`` and ``Function`` subclasses,
checked on every device through the public API.

``CASES`` is the one table: for each op class, a call that reaches it, the inputs to call it
with (float64, away from kinks and ties) and its kind. A differentiable op is gradchecked
to first order and, unless the table says why not, to second order (the gradient,
computed with ``create_graph=True``, gradchecked again, as a function of the inputs and of
the output's gradient). A non-differentiable op must run and return no gradient; one whose
derivative PyTorch does not define (heaviside) records, and its backward raises. An op with
no entry, or an entry for a class that is gone, fails the suite by name.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.function import Function, Op

TWICE = "differentiable"  # first- and second-order gradchecks
ONCE = "first order only"  # its gradient is not differentiable again, by design (none is
# today: PyTorch double-differentiates every one of these ops, and so must minigrad)
NONE = "not differentiable"  # runs, and carries no gradient
RAISES = "no derivative"  # takes part in the graph, but its derivative raises (PyTorch's)


# inputs


@dataclass(frozen=True)
class Spec:
    """How to draw one float64 input: distinct values in [low, high], each at least
    ``gap`` away from every point of ``avoid`` (kinks, jumps, poles); ``exact`` sets
    some elements by index after the draw."""

    shape: tuple
    low: float = -2.0
    high: float = 2.0
    avoid: tuple = (0.0,)
    gap: float = 0.1
    exact: tuple = ()

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(self.shape, dtype=int))
        grid = np.linspace(self.low, self.high, 8 * n + 8)
        step = grid[1] - grid[0]
        grid = grid[[all(abs(g - p) >= self.gap + step for p in self.avoid) for g in grid]]
        values = rng.choice(grid, size=n, replace=False) + rng.uniform(-step / 4, step / 4, n)
        out = values.reshape(self.shape)
        for index, value in self.exact:
            out[index] = value
        return out


def arr(*shape: int, **options) -> Spec:
    return Spec(tuple(shape), **options)


def pos(*shape: int, low: float = 0.5, high: float = 2.0) -> Spec:
    return Spec(tuple(shape), low=low, high=high, avoid=())


# steps of floor, ceil, trunc and round
HALVES = tuple(np.arange(-3.0, 3.5, 0.5))


def on(like: mg.Tensor, data) -> mg.Tensor:
    """A constant tensor on ``like``'s device."""
    return mg.tensor(np.asarray(data), device=like.device)


def other_device(device: str) -> str:
    others = [d for d in mg.devices() if d != device]
    if not others:
        pytest.skip("moving between devices needs a second usable device")
    return others[0]


# the table


@dataclass(frozen=True)
class Case:
    call: Callable[..., mg.Tensor]
    inputs: tuple
    kind: str = TWICE
    why: str = ""  # for ONCE: why the gradient is not differentiable again
    gradcheck: dict = field(default_factory=dict)  # tolerances, where the op needs its own
    second_order_bug: str = ""  # a known wrong second-order gradient: xfail until fixed



def _mul_through_a_view(x, v):
    """An in-place op on a view of a tensor with history: written through to its base."""
    y = x * 1
    y.t()[1:3].mul_(v)
    return y

IDX = np.array([2, 0, 2, 1])  # repeated on purpose: the gradient scatter-adds
ROWS = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])  # along dim 0 of a (3, 4) tensor
PERM = np.array([[2, 0, 1, 1], [0, 1, 2, 0]])  # no repeats within a column
COND = np.array([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]], dtype=bool)
TARGET = np.array([1, 0, 3])
REDUCES = ("sum", "prod", "mean", "amax", "amin")

CASES: dict[str, Case] = {
    # elementwise, binary (broadcasting a row)
    "ops.Add": Case(lambda a, b: a + b, (arr(3, 4), arr(4))),
    "ops.Sub": Case(lambda a, b: a - b, (arr(3, 4), arr(4))),
    "ops.Mul": Case(lambda a, b: a * b, (arr(3, 4), arr(4))),
    "ops.Div": Case(lambda a, b: a / b, (arr(3, 4), pos(4))),
    "ops.Pow": Case(lambda a, b: a ** b + a ** 3 + 2.0 ** b, (pos(3, 4), arr(3, 4))),
    "ops.Maximum": Case(lambda x: mg.maximum(x[0], x[1]), (arr(2, 3, 4),)),
    "ops.Minimum": Case(lambda x: mg.minimum(x[0], x[1]), (arr(2, 3, 4),)),
    "ops.Atan2": Case(lambda a, b: a.atan2(b), (arr(3, 4), arr(3, 4))),
    "ops.Copysign": Case(lambda a, b: a.copysign(b), (arr(3, 4), arr(3, 4))),
    # a = q * b, with q away from integers: no jump of floor within a step
    "ops.FloorDivide": Case(lambda q, b: (q * b) // b, (arr(3, 4, avoid=HALVES), pos(4))),
    "ops.Remainder": Case(lambda q, b: (q * b) % b, (arr(3, 4, avoid=HALVES), pos(4))),
    "ops.Fmod": Case(lambda q, b: (q * b).fmod(b), (arr(3, 4, avoid=HALVES), pos(4))),
    # elementwise, unary
    "ops.Neg": Case(lambda x: -x, (arr(3, 4),)),
    "ops.Exp": Case(lambda x: x.exp(), (arr(3, 4),)),
    "ops.Log": Case(lambda x: x.log(), (pos(3, 4),)),
    "ops.Sqrt": Case(lambda x: x.sqrt(), (pos(3, 4),)),
    "ops.Abs": Case(lambda x: x.abs(), (arr(3, 4),)),
    "ops.Sign": Case(lambda x: x.sign(), (arr(3, 4),)),
    "ops.Tanh": Case(lambda x: x.tanh(), (arr(3, 4),)),
    "ops.Sigmoid": Case(lambda x: x.sigmoid(), (arr(3, 4),)),
    "ops.Relu": Case(lambda x: x.relu(), (arr(3, 4),)),
    # relu's gradient as an op of the output's gradient g: what create_graph records
    "ops.ReluBackward": Case(
        lambda x, g: mg.grad(x.relu(), x, grad_outputs=g, create_graph=True)[0],
        (arr(3, 4), arr(3, 4))),
    "ops.Clip": Case(lambda x: x.clip(-0.5, 0.5), (arr(3, 4, avoid=(-0.5, 0.5)),)),
    # x, low and high as rows of one draw: no ties between them
    "ops.ClipBounds": Case(lambda t: t[0].clip(t[1], t[2]) + t[0].clip(min=t[1]),
                                  (arr(3, 3, 4),)),
    "ops.Where": Case(lambda a, b: mg.where(on(a, COND), a, b), (arr(3, 4), arr(4))),
    "ops.Sin": Case(lambda x: x.sin(), (arr(3, 4),)),
    "ops.Cos": Case(lambda x: x.cos(), (arr(3, 4),)),
    "ops.Tan": Case(lambda x: x.tan(), (arr(3, 4, low=-1.2, high=1.2),)),
    "ops.Asin": Case(lambda x: x.asin(), (arr(3, 4, low=-0.8, high=0.8),)),
    "ops.Acos": Case(lambda x: x.acos(), (arr(3, 4, low=-0.8, high=0.8),)),
    "ops.Atan": Case(lambda x: x.atan(), (arr(3, 4),)),
    "ops.Sinh": Case(lambda x: x.sinh(), (arr(3, 4),)),
    "ops.Cosh": Case(lambda x: x.cosh(), (arr(3, 4),)),
    "ops.Erf": Case(lambda x: x.erf(), (arr(3, 4),)),
    "ops.Log1p": Case(lambda x: x.log1p(), (pos(3, 4, low=-0.5),)),
    "ops.Expm1": Case(lambda x: x.expm1(), (arr(3, 4),)),
    "ops.Exp2": Case(lambda x: x.exp2(), (arr(3, 4),)),
    "ops.Log2": Case(lambda x: x.log2(), (pos(3, 4),)),
    "ops.Log10": Case(lambda x: x.log10(), (pos(3, 4),)),
    "ops.Rsqrt": Case(lambda x: x.rsqrt(), (pos(3, 4),)),
    "ops.Reciprocal": Case(lambda x: x.reciprocal(), (pos(3, 4),)),
    "ops.Asinh": Case(lambda x: x.asinh(), (arr(3, 4),)),
    "ops.Acosh": Case(lambda x: x.acosh(), (pos(3, 4, low=1.2, high=3.0),)),
    "ops.Atanh": Case(lambda x: x.atanh(), (arr(3, 4, low=-0.8, high=0.8),)),
    "ops.Erfc": Case(lambda x: x.erfc(), (arr(3, 4),)),
    "ops.Sinc": Case(lambda x: x.sinc(), (arr(3, 4),)),
    "ops.Frac": Case(lambda x: x.frac(), (arr(3, 4, avoid=HALVES),)),
    "ops.Deg2Rad": Case(lambda x: x.deg2rad(), (arr(3, 4),)),
    "ops.Rad2Deg": Case(lambda x: x.rad2deg(), (arr(3, 4),)),
    # away from the clamp's ends, 0.2 and 0.8
    "ops.Logit": Case(lambda x: x.logit() + x.logit(eps=0.2),
                      (Spec((3, 4), low=0.05, high=0.95, avoid=(0.2, 0.8), gap=0.03),)),
    "ops.Hypot": Case(lambda a, b: a.hypot(b), (arr(3, 4), arr(4))),
    "ops.LogAddExp": Case(lambda a, b: a.logaddexp(b), (arr(3, 4), arr(4))),
    "ops.LogAddExp2": Case(lambda a, b: a.logaddexp2(b), (arr(3, 4), arr(4))),
    "ops.Xlogy": Case(lambda a, b: a.xlogy(b) + a.xlogy(2.5), (arr(3, 4), pos(4))),
    "ops.Fmax": Case(lambda x: mg.fmax(x[0], x[1]), (arr(2, 3, 4),)),
    "ops.Fmin": Case(lambda x: mg.fmin(x[0], x[1]), (arr(2, 3, 4),)),
    "ops.Floor": Case(lambda x: x.floor(), (arr(3, 4, avoid=HALVES),)),
    "ops.Ceil": Case(lambda x: x.ceil(), (arr(3, 4, avoid=HALVES),)),
    "ops.Round": Case(lambda x: x.round(), (arr(3, 4, avoid=HALVES),)),
    "ops.Trunc": Case(lambda x: x.trunc(), (arr(3, 4, avoid=HALVES),)),
    # reductions
    "ops.Sum": Case(lambda x: x.sum(axis=1) + x.sum(), (arr(3, 4),)),
    "ops.Mean": Case(lambda x: x.mean(axis=0, keepdims=True), (arr(3, 4),)),
    "ops.Max": Case(lambda x: x.amax(axis=1) + x.max(), (arr(3, 4),)),
    "ops.Min": Case(lambda x: x.amin(axis=0) + x.min(), (arr(3, 4),)),
    "ops.StdFromVar": Case(lambda x: x.std(axis=1), (arr(3, 4),)),
    # movement and indexing
    "ops.Reshape": Case(lambda x: x.reshape(4, 3), (arr(3, 4),)),
    "ops.Transpose": Case(lambda x: x.transpose(2, 0, 1), (arr(2, 3, 4),)),
    "ops.Expand": Case(lambda x: x.expand(2, 3, 4), (arr(3, 1),)),
    "ops.SumTo": Case(lambda x: x.sum_to((3, 1)), (arr(2, 3, 4),)),
    "ops.Index": Case(lambda x: x[on(x, IDX)], (arr(3, 4),)),
    "ops.Slice": Case(lambda x: x[1:, ::2], (arr(3, 4),)),
    "ops.ScatterAdd": Case(lambda x, s: mg.scatter_add(x, 0, on(x, ROWS), s),
                                  (arr(3, 4), arr(2, 4))),
    "ops.SetItem": Case(lambda x, s: mg.scatter(x, 0, on(x, PERM), s),
                               (arr(3, 4), arr(2, 4))),
    "ops.WriteThroughView": Case(_mul_through_a_view, (arr(3, 4), arr(2, 3))),
    "ops.Concatenate": Case(lambda a, b: mg.concatenate([a, b], axis=1),
                                   (arr(3, 4), arr(3, 2))),
    "ops.Stack": Case(lambda a, b: mg.stack([a, b], axis=1), (arr(3, 4), arr(3, 4))),
    # x and src as rows of one draw, so that amax and amin have no near-ties
    "ops.ScatterReduce": Case(
        lambda t: sum(mg.scatter_reduce(t[:3], 0, on(t, ROWS), t[3:], r) for r in REDUCES)
        + mg.scatter_reduce(t[:3], 0, on(t, ROWS), t[3:], "prod", include_self=False),
        (arr(5, 4),),
        second_order_bug="the 'prod' gradient is built from raw arrays (_other_factors), so "
                         "it is a constant of the recorded graph: d(grad x)/d src is lost"),
    # scans
    "ops.CumSum": Case(lambda x: mg.cumsum(x, 1), (arr(3, 4),)),
    "ops.CumProd": Case(
        lambda x: mg.cumprod(x, 1), (arr(3, 4, exact=(((1, 2), 0.0),)),)),  # the path of a zero
    "ops.LogCumSumExp": Case(lambda x: mg.logcumsumexp(x, 1), (arr(3, 4),)),
    # linear algebra
    "ops.Matmul": Case(lambda a, b: a @ b, (arr(2, 3, 4), arr(4, 2))),
    "ops.Linear": Case(F.linear, (arr(3, 4), arr(2, 4), arr(2))),
    "ops.Einsum": Case(lambda a, b: mg.einsum("ij,jk->ik", a, b)
                              + mg.einsum("ii,ik->ik", a, b), (arr(3, 3), arr(3, 4))),
    "ops.Inverse": Case(lambda a: mg.inverse(a + on(a, 3 * np.eye(3))), (arr(3, 3),)),
    "ops.Det": Case(lambda a: mg.det(a + on(a, 3 * np.eye(3))), (arr(2, 3, 3),)),
    "ops.Solve": Case(lambda a, b: mg.linalg.solve(a + on(a, 3 * np.eye(3)), b),
                      (arr(3, 3), arr(2, 3, 2))),
    "ops.SoftmaxCrossEntropy": Case(
        lambda x: F.cross_entropy(x, on(x, TARGET), reduction="sum"), (arr(3, 4),)),
    "functional._MeanSoftmaxCrossEntropy": Case(lambda x: F.cross_entropy(x, on(x, TARGET)),
                                                (arr(3, 4),)),
    "functional._MeanSquaredError": Case(F.mse_loss, (arr(3, 4), arr(3, 4))),
    "functional._BinaryCrossEntropy": Case(F.binary_cross_entropy,
                                                  (pos(3, 4, low=0.1, high=0.9),
                                                   pos(3, 4, low=0.1, high=0.9))),
    "functional._BinaryCrossEntropyBackward": Case(
        lambda p, t, g: mg.grad(F.binary_cross_entropy(p, t, reduction="none"), p,
                                grad_outputs=g, create_graph=True)[0],
        (pos(3, 4, low=0.1, high=0.9), pos(3, 4, low=0.1, high=0.9), arr(3, 4))),
    # dtype and device
    "ops.Astype": Case(lambda x: x.float() * 2, (arr(3, 4),),
                              gradcheck={"eps": 1e-2, "atol": 1e-4}),  # float32 rounding
    "ops.Clone": Case(lambda x: x.clone(), (arr(3, 4),)),
    "ops.To": Case(lambda x: x.to(other_device(x.device)).to(x.device), (arr(3, 4),)),
    # convolution and pooling
    "conv_ops.Unfold": Case(lambda x: F.avg_pool2d(x, 3, stride=1, padding=1),
                                   (arr(1, 2, 4, 4),)),
    # at stride 1, few channels may take the direct route: these stride by 2 across
    "conv_ops.Im2col": Case(lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=1),
                                   (arr(1, 2, 4, 4), arr(2, 2, 3, 3))),
    "conv_ops.DirectConv2d": Case(
        lambda x, w, b: mg.conv_ops.DirectConv2d.apply(x, w, b, dilation=(1, 2)),
        (arr(1, 2, 5, 6), arr(3, 2, 2, 2), arr(3))),
    "conv_ops.Col2im": Case(  # the recorded gradient of conv2d's input
        lambda x, w, g: mg.grad(F.conv2d(x, w, stride=(1, 2), padding=1), x,
                                grad_outputs=g, create_graph=True)[0],
        (arr(1, 2, 4, 4), arr(2, 2, 3, 3), arr(1, 2, 4, 2))),
    "conv_ops.Fold": Case(lambda x, w: F.conv_transpose2d(x, w, stride=2),
                                 (arr(1, 2, 3, 3), arr(2, 1, 2, 2))),
    "conv_ops.MaxPool": Case(lambda x: F.max_pool2d(x, 2), (arr(1, 2, 4, 4),)),
    "conv_ops.ConstantPad": Case(lambda x: F.pad(x, (1, 2, 0, 1), value=0.5),
                                        (arr(1, 2, 3, 3),)),
    # no gradient
    "ops.Lt": Case(lambda a, b: a < b, (arr(3, 4), arr(4)), NONE),
    "ops.Le": Case(lambda a, b: a <= b, (arr(3, 4), arr(4)), NONE),
    "ops.Gt": Case(lambda a, b: a > b, (arr(3, 4), arr(4)), NONE),
    "ops.Ge": Case(lambda a, b: a >= b, (arr(3, 4), arr(4)), NONE),
    "ops.Eq": Case(lambda a, b: a == b, (arr(3, 4), arr(4)), NONE),
    "ops.Ne": Case(lambda a, b: a != b, (arr(3, 4), arr(4)), NONE),
    "ops.Argmax": Case(lambda x: x.argmax(axis=1), (arr(3, 4),), NONE),
    "ops.Argmin": Case(lambda x: x.argmin(), (arr(3, 4),), NONE),
    "ops.IsNan": Case(lambda x: _holes(x, np.nan).isnan(), (arr(3, 4),), NONE),
    "ops.IsInf": Case(lambda x: _holes(x, -np.inf).isinf(), (arr(3, 4),), NONE),
    "ops.IsFinite": Case(lambda x: _holes(x, np.inf).isfinite(), (arr(3, 4),), NONE),
    "ops.AnyTrue": Case(lambda x: (x > 1).any(dim=1), (arr(3, 4),), NONE),
    "ops.AllTrue": Case(lambda x: (x > -1).all(), (arr(3, 4),), NONE),
    "ops.BitwiseAnd": Case(lambda x: _ints(x) & 6, (arr(3, 4),), NONE),
    "ops.BitwiseOr": Case(lambda x: _ints(x) | _ints(-x), (arr(3, 4),), NONE),
    "ops.BitwiseXor": Case(lambda x: (x > 0) ^ (x > 1), (arr(3, 4),), NONE),
    "ops.BitwiseNot": Case(lambda x: ~_ints(x), (arr(3, 4),), NONE),
    "ops.LeftShift": Case(lambda x: _ints(x).abs() << 2, (arr(3, 4),), NONE),
    "ops.RightShift": Case(lambda x: 64 >> _ints(x).abs(), (arr(3, 4),), NONE),
    # a derivative PyTorch does not define either
    "ops.Heaviside": Case(lambda a, v: a.heaviside(v), (arr(3, 4), arr(4)), RAISES),
}


def _ints(x: mg.Tensor) -> mg.Tensor:
    return (x * 4).astype(mg.int64)


def _holes(x: mg.Tensor, value: float) -> mg.Tensor:
    """``x`` with ``value`` (a NaN, an infinity) where it is negative."""
    return mg.where(x > 0, x, on(x, value))


# discovery


def _subclasses(cls: type) -> list[type]:
    found, todo = [], list(cls.__subclasses__())
    while todo:
        sub = todo.pop()
        found.append(sub)
        todo.extend(sub.__subclasses__())
    return found


def _import_all() -> None:
    """Every module of minigrad, so that an op defined anywhere in it is found."""
    for module in pkgutil.walk_packages(mg.__path__, "minigrad."):
        if not module.name.startswith(("minigrad.backends", "minigrad.__main__")):
            importlib.import_module(module.name)


def _is_base(cls: type) -> bool:
    """A private class others derive from (``_Comparison``): shared code, not an op."""
    return cls.__name__.startswith("_") and bool(cls.__subclasses__())


def _name(cls: type) -> str:
    """``ops.Sin``: the module within minigrad, and the class."""
    return f"{cls.__module__.removeprefix('minigrad.')}.{cls.__qualname__}"


def _ops_of_minigrad() -> dict[str, type]:
    """Every op class minigrad defines (not those of users or of other tests), by name."""
    _import_all()
    found = [c for c in _subclasses(Function) if c.__module__.split(".")[0] == "minigrad"]
    return {_name(c): c for c in found if c is not Op and not _is_base(c)}


OPS = _ops_of_minigrad()


def test_every_op_has_an_entry():
    missing = sorted(set(OPS) - set(CASES))
    assert not missing, (
        "ops with no entry in CASES (tests/test_every_op.py); add how to call each: "
        + ", ".join(missing))


def test_every_entry_names_an_op():
    stale = sorted(set(CASES) - set(OPS))
    assert not stale, "entries in CASES for classes that are no longer ops: " + ", ".join(stale)


def test_kinds_match_the_ops():
    for name, case in CASES.items():
        cls = OPS.get(name)
        if cls is not None and issubclass(cls, Op):
            assert cls.differentiable == (case.kind != NONE), f"{name}: kind {case.kind!r}"
        assert (case.kind == ONCE) == bool(case.why), f"{name}: say why, only for {ONCE!r}"


# the checks


def _op(name: str) -> type:
    if name not in OPS:
        pytest.fail(f"{name} in CASES is no longer an op of minigrad")
    return OPS[name]


def _leaves(name: str, case: Case, device: str) -> list[mg.Tensor]:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return [mg.tensor(s.draw(rng), dtype=mg.float64, device=device, requires_grad=True)
            for s in case.inputs]


@pytest.fixture
def recorded(monkeypatch):
    """The op classes applied while a test runs."""
    seen = set()
    original = Function.__dict__["apply"].__func__  # every op, built-in or not, runs it

    def spy(cls, *args, **kwargs):
        seen.add(cls)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Function, "apply", classmethod(spy))
    return seen


def _ids(kinds: tuple, second_order: bool = False) -> list:
    params = []
    for name, case in CASES.items():
        if case.kind in kinds:
            bug = case.second_order_bug if second_order else ""
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            params.append(pytest.param(name, id=name, marks=marks))
    return params


@pytest.mark.parametrize("name", _ids((TWICE, ONCE)))
def test_first_order(name, device, recorded):
    case, cls = CASES[name], _op(name)
    leaves = _leaves(name, case, device)
    out = case.call(*leaves)
    assert cls in recorded, f"the call in CASES never applies {name}"
    assert out.requires_grad and out.device == device
    assert mg.gradcheck(case.call, leaves, **case.gradcheck)


@pytest.mark.parametrize("name", _ids((TWICE,), second_order=True))
def test_second_order(name, device):
    case = CASES[name]
    _op(name)
    leaves = _leaves(name, case, device)
    shape = case.call(*leaves).shape
    rng = np.random.default_rng(1)
    g = mg.tensor(arr(*shape).draw(rng), dtype=mg.float64, device=device, requires_grad=True)

    def gradient(*args: mg.Tensor) -> mg.Tensor:
        *xs, g = args
        grads = mg.grad((case.call(*xs) * g).sum(), xs, create_graph=True, allow_unused=True)
        flat = mg.concatenate([(x * 0 if gx is None else gx).reshape(-1)
                               for x, gx in zip(xs, grads)])
        if not flat.requires_grad:  # a constant gradient (zero, of a step function)
            flat = flat + 0 * sum(a.sum() for a in args)
        return flat

    assert mg.gradcheck(gradient, [*leaves, g], **case.gradcheck)


@pytest.mark.parametrize("name", _ids((NONE,)))
def test_no_gradient(name, device, recorded):
    case, cls = CASES[name], _op(name)
    leaves = _leaves(name, case, device)
    out = case.call(*leaves)
    assert cls in recorded, f"the call in CASES never applies {name}"
    assert not out.requires_grad and out._node is None
    assert out.device == device
    reference = case.call(*_leaves(name, case, "numpy"))
    np.testing.assert_array_equal(out.numpy(), reference.numpy())


@pytest.mark.parametrize("name", _ids((RAISES,)))
def test_derivative_raises(name, device, recorded):
    case, cls = CASES[name], _op(name)
    out = case.call(*_leaves(name, case, device))
    assert cls in recorded, f"the call in CASES never applies {name}"
    assert out.requires_grad and out.device == device
    with pytest.raises(RuntimeError, match="not implemented"):
        out.sum().backward()
