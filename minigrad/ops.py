"""Every differentiable primitive: its forward on backend arrays, its gradient beside it.

A ``backward`` receives the gradient of the op's output and returns one gradient per
input. It is written with operators, array methods NumPy and Tensor share (``sum``,
``reshape``, ``transpose``, ``swapaxes``) and ``ctx.xp`` for named functions, so the same
line runs on arrays or, when the backward pass is recorded, on tensors. Gradients may
come back with the broadcast shape: the tape sums them down to each input's shape.
``saves_inputs`` / ``saves_output`` say what ``ctx.saved_tensors`` holds, in that order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dtypes
from .autograd import Context
from .errors import OpError
from .function import Op
from .spelling import spelled
from .tensor import Tensor

# elementwise, binary


class Add(Op):
    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad  # d(a + b) = da + db


class Sub(Op):
    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.sub(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Op):
    saves_inputs = True
    grad_uses = ((1,), (0,))

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.mul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return grad * b if need_a else None, grad * a if need_b else None  # d(ab) = b da + a db


class Div(Op):
    saves_inputs = True
    grad_uses = ((1,), (0, 1))

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.div(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / b  # d(a/b)/da = 1/b
        return grad_a, -grad_a * a / b  # d(a/b)/db = -a/b^2


class Pow(Op):
    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.pow(a, b)

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's rules where the formulas meet 0 * inf: d/da is 0 where b == 0, and d/db
        # is 0 where a == 0 and b >= 0
        a, b, out = ctx.saved_tensors
        xp = ctx.xp
        exponent = xp.where(b == 0, 0, b - 1) if hasattr(b, "shape") else (b - 1 if b else 0)
        grad_a = grad * b * a**exponent  # d(a^b)/da = b a^(b-1)
        if not ctx.needs_input_grad[1]:
            return grad_a, None
        zero_base = (_raw(a) == 0) & (_raw(b) >= 0)
        if hasattr(a, "shape"):
            log_a = xp.log(xp.where(zero_base, 1, a))
        else:  # a Python number: log(a) is a constant array
            log_a = ctx.backend.astype(ctx.backend.log(ctx.backend.where(zero_base, 1.0, a)),
                                       out.dtype)
        return grad_a, grad * out * log_a  # d(a^b)/db = a^b log(a)


class Maximum(Op):
    """Ties share the gradient equally; where a NaN takes part, both inputs get it whole
    (PyTorch's rule)."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.maximum(a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        where = ctx.xp.where
        half = where(a == b, grad * 0.5, grad)
        loses_a, loses_b = (a < b, a > b) if cls is Maximum else (a > b, a < b)
        return where(loses_a, 0, half), where(loses_b, 0, half)


class Minimum(Maximum):
    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.minimum(a, b)


# elementwise, unary


class Neg(Op):
    @staticmethod
    def forward(ctx, x):
        return ctx.backend.neg(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out  # d/dx e^x = e^x


class Log(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x  # d/dx log x = 1/x


class Sqrt(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.sqrt(x)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)  # d/dx sqrt(x) = 1 / (2 sqrt(x))


class Abs(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.sign(x)  # d/dx |x| = sign(x), 0 at 0


class Sign(Op):
    @staticmethod
    def forward(ctx, x):
        return ctx.backend.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros_like(grad)  # d/dx sign(x) = 0 (PyTorch's choice at 0 too)


class Tanh(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)  # d/dx tanh(x) = 1 - tanh(x)^2, as PyTorch writes it


class Sigmoid(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out) * out  # d/dx s(x) = (1 - s(x)) s(x), as PyTorch writes it


class Relu(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.relu(x)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.xp.relu_backward(out, grad)  # d/dx max(x, 0) = 1 where x > 0, else 0


class ReluBackward(Op):
    """Relu's gradient as an op of the gradient and relu's output, so that a recorded
    backward pass depends on the output as PyTorch's does (with derivative 0)."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, grad, out):
        return ctx.backend.relu_backward(out, grad)

    @staticmethod
    def backward(ctx, g):
        _, out = ctx.saved_tensors
        return ctx.xp.relu_backward(out, g), ctx.xp.zeros_like(out)


class Clip(Op):
    @staticmethod
    def forward(ctx, x, low=None, high=None):
        xp = ctx.backend
        inside = xp.ge(x, low) if low is not None else True
        if high is not None:
            inside = inside & xp.le(x, high)
        ctx.inside = inside
        return xp.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        # 1 inside [low, high] (ends included), 0 outside and at NaN (as PyTorch)
        return ctx.xp.where(ctx.inside, grad, 0)


class Where(Op):
    @staticmethod
    def forward(ctx, a, b, condition=None):
        ctx.condition = ctx.backend.copy(condition)  # a constant of this op, safe from edits
        return ctx.backend.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        where = ctx.xp.where
        return where(ctx.condition, grad, 0), where(ctx.condition, 0, grad)


# comparisons: no gradient


class _Comparison(Op):
    differentiable = False
    function = ""

    @classmethod
    def forward(cls, ctx, a, b):
        return getattr(ctx.backend, cls.function)(a, b)


@spelled("lt", "less", binary=True)
class Lt(_Comparison):
    function = "lt"


@spelled("le", "less_equal", binary=True)
class Le(_Comparison):
    function = "le"


@spelled("gt", "greater", binary=True)
class Gt(_Comparison):
    function = "gt"


@spelled("ge", "greater_equal", binary=True)
class Ge(_Comparison):
    function = "ge"


@spelled("eq", binary=True)
class Eq(_Comparison):
    function = "eq"


@spelled("ne", "not_equal", binary=True)
class Ne(_Comparison):
    function = "ne"


# reductions


def _kept_shape(shape: tuple, axis: Any) -> tuple:
    """``shape`` with the reduced axes kept as 1s."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple, axis: Any) -> tuple:
    """``shape`` with the reduced axes removed."""
    if axis is None:
        return ()
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def reduced_count(shape: tuple, axis: Any) -> int:
    """How many elements each result of a reduction over ``axis`` gathers."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))


class Sum(Op):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.in_shape = x.shape
        ctx.kept_shape = _kept_shape(x.shape, axis)
        return ctx.backend.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.broadcast_to(grad.reshape(ctx.kept_shape), ctx.in_shape)


class Mean(Op):
    """The mean over ``axis``, summed and divided in one op (in float32 for float16)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.in_shape = x.shape
        ctx.kept_shape = _kept_shape(x.shape, axis)
        ctx.count = reduced_count(x.shape, axis)
        return ctx.backend.div(ctx.backend.sum(x, axis=axis, keepdims=keepdims), ctx.count)

    @staticmethod
    def backward(ctx, grad):  # d/dx_i mean(x) = 1/n
        scale = 1 / ctx.count if ctx.count else 0.0
        return ctx.xp.broadcast_to(grad.reshape(ctx.kept_shape) * scale, ctx.in_shape)


class Max(Op):
    """The gradient is shared equally among tied maxima. With ``whole=True`` (``max()``
    without a dim) a NaN maximum takes it, as PyTorch's; else (``amax``) the gradient is
    PyTorch's grad * (x == max) / count, NaN where a NaN is the maximum."""

    saves_inputs = True
    reduce = "max"

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False, whole=False):
        xp = ctx.backend
        best = getattr(xp, cls.reduce)(x, axis=axis, keepdims=True)
        ctx.best, ctx.axis, ctx.whole = best, axis, whole
        return best if keepdims else xp.reshape(best, _reduced_shape(x.shape, axis))

    @staticmethod
    def backward(ctx, grad):
        x, best = ctx.saved_tensors[0], ctx.best
        hit = x == best
        if ctx.whole:
            hit = hit | ((x != x) & (best != best))
        count = hit.sum(axis=ctx.axis, keepdims=True).astype(grad.dtype)
        share = grad.reshape(best.shape) / count
        return ctx.xp.where(hit, share, 0) if ctx.whole else share * hit.astype(grad.dtype)


class Min(Max):
    reduce = "min"


class StdFromVar(Op):
    """The square root that ends a standard deviation: its gradient is 0 where the std is
    0, as PyTorch's (not the 0/0 of the square root's own)."""

    saves_output = True

    @staticmethod
    def forward(ctx, var):
        return ctx.backend.sqrt(var)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        zero = out == 0
        return ctx.xp.where(zero, 0, grad / (2 * ctx.xp.where(zero, 1, out)))


class Argmax(Op):
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return ctx.backend.argmax(x, axis=axis, keepdims=keepdims)


class Argmin(Op):
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return ctx.backend.argmin(x, axis=axis, keepdims=keepdims)


# movement and indexing


class Reshape(Op):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return ctx.backend.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Transpose(Op):
    is_view = True

    @staticmethod
    def forward(ctx, x, axes=()):
        ctx.inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return ctx.backend.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)


class Expand(Op):
    """Broadcast to a larger shape; its gradient is SumTo."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return ctx.backend.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.sum_to(grad, ctx.in_shape)


class SumTo(Op):
    """Sum down to a shape x broadcasts to; its gradient is Expand."""

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return ctx.backend.sum_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.broadcast_to(grad, ctx.in_shape)


class Index(Op):
    """``x[index]`` with integer arrays; repeated indices add up in the gradient."""

    @staticmethod
    def forward(ctx, x, index=None):
        ctx.in_shape = x.shape
        ctx.index = index
        return ctx.backend.getitem(x, index)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.scatter_add(ctx.in_shape, ctx.index, grad)


class Slice(Index):
    """``x[index]`` with ints and slices only: a view."""

    is_view = True


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``values`` added at ``index``; the gradient of Index."""

    @staticmethod
    def forward(ctx, values, shape=(), index=None):
        ctx.index = index
        return ctx.backend.scatter_add(shape, index, values)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


class SetItem(Op):
    """``x`` with ``x[index] = value``: the recorded form of item assignment."""

    @staticmethod
    def forward(ctx, x, value, index=None):
        xp = ctx.backend
        ctx.index = index
        ctx.keep = xp.ones(x.shape, bool)
        xp.setitem(ctx.keep, index, False)
        out = xp.copy(x)
        xp.setitem(out, index, value)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.keep, grad[ctx.index]


class WriteThroughView(Op):
    """``base`` with the region a view of it shows replaced by ``value``: an in-place change
    of a view, as the change of its base (PyTorch's CopySlices). ``chain`` is how the view
    was made: view ops and their parameters, applied in order."""

    @staticmethod
    def forward(ctx, base, value, chain=()):
        ctx.chain = chain
        out = ctx.backend.copy(base)
        ctx.backend.setitem(_view_through(ctx, chain, out), Ellipsis, value)
        return out

    @staticmethod
    def backward(ctx, grad):
        region = _view_through(ctx, ctx.chain, grad)
        if isinstance(grad, Tensor):  # the same formula, recorded
            return WriteThroughView.apply(grad, 0, chain=ctx.chain), region
        return WriteThroughView.forward(ctx, grad, 0, ctx.chain), region


def _view_through(ctx: Any, chain: tuple, x: Any) -> Any:
    """The view of ``x`` that ``chain`` makes: recorded ops on a tensor, views on an array."""
    for op, params in chain:
        if isinstance(x, Tensor):
            x = op.apply(x, **params)
        else:
            step = Context()
            step.backend = ctx.backend
            x = op.forward(step, x, **params)
    return x


class Concatenate(Op):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis % arrays[0].ndim
        ctx.sizes = [a.shape[ctx.axis] for a in arrays]
        return ctx.backend.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        lead = (slice(None),) * ctx.axis
        for n in ctx.sizes:
            grads.append(grad[lead + (slice(start, start + n),)])
            start += n
        return tuple(grads)


class Stack(Op):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis % (arrays[0].ndim + 1)
        ctx.count = len(arrays)
        return ctx.backend.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(grad[lead + (i,)] for i in range(ctx.count))


# linear algebra


class Matmul(Op):
    saves_inputs = True
    grad_uses = ((1,), (0,))

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both operands need at least one dimension")
        k = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if a.shape[-1] != k:
            raise ValueError(f"shapes {a.shape} and {b.shape} cannot be multiplied "
                             f"({a.shape[-1]} != {k})")
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # 1-D operands act as a row (a) or a column (b), as in the forward
        a2 = a.reshape((1, -1)) if a.ndim == 1 else a
        b2 = b.reshape((-1, 1)) if b.ndim == 1 else b
        if a.ndim == 1:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
        if b.ndim == 1:
            grad = grad.reshape(grad.shape + (1,))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = ctx.xp.matmul(grad, b2.swapaxes(-1, -2))  # dL/dA = G B^T
            grad_a = grad_a[..., 0, :] if a.ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            grad_b = ctx.xp.matmul(a2.swapaxes(-1, -2), grad)  # dL/dB = A^T G
            grad_b = grad_b[..., 0] if b.ndim == 1 else grad_b
        return grad_a, grad_b


class Linear(Op):
    """``x @ w.T + b``, the affine map of ``nn.Linear`` (``w`` is (out, in)), as one op:
    one dispatch instead of three, and a weight gradient made whole, not a transpose."""

    saves_inputs = True
    grad_uses = ((1,), (0,), ())

    @staticmethod
    def forward(ctx, x, w, b=None):
        xp = ctx.backend
        out = xp.matmul(x, xp.transpose(w, None))
        return out if b is None else xp.add(out, b, out=out)

    @staticmethod
    def backward(ctx, grad):
        x, w, _ = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = ctx.xp.matmul(grad, w) if need_x else None  # dL/dx = G W
        grad_w = None
        if need_w:  # dL/dW = G^T x, over every leading (batch) axis
            rows, inputs = grad, x
            if grad.ndim != 2:
                rows, inputs = grad.reshape((-1, grad.shape[-1])), x.reshape((-1, x.shape[-1]))
            grad_w = ctx.xp.matmul(rows.swapaxes(-1, -2), inputs)
        return grad_x, grad_w, grad if need_b else None  # dL/db = G, summed by the tape


class SoftmaxCrossEntropy(Op):
    """-log softmax(x)[y] for each row of (N, C) logits ``x`` and class indices ``y``, as
    one op: the forward keeps the softmax, so the gradient is (softmax - onehot(y)) * grad
    with no log-softmax graph to walk back through."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, x, target=None):
        ctx.target = target
        losses, ctx.probs = ctx.backend.softmax_cross_entropy(x, target)
        return losses

    @staticmethod
    def backward(ctx, grad):
        if ctx.xp is ctx.backend:
            return ctx.backend.softmax_cross_entropy_backward(ctx.probs, ctx.target, grad)
        # create_graph: the same gradient, from ops that record their own history
        (x,) = ctx.saved_tensors
        e = (x - x.detach().amax(axis=1, keepdims=True)).exp()
        probs = e / e.sum(axis=1, keepdims=True)
        onehot = ctx.backend.scatter_add(x.shape, (ctx.backend.arange(
            0, x.shape[0], 1, np.int64), ctx.target), ctx.backend.ones((x.shape[0],), x.dtype))
        return (probs - onehot) * grad.reshape((-1, 1))


# dtype and device


class Astype(Op):
    sets_dtype = True

    @staticmethod
    def forward(ctx, x, dtype=None):
        return ctx.backend.astype(x, dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the tape casts it back to the input's dtype


class Clone(Op):
    @staticmethod
    def forward(ctx, x):
        return ctx.backend.copy(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class To(Op):
    """Move to another backend; the gradient moves back."""

    replayable = False  # its forward changes ctx.backend

    @staticmethod
    def forward(ctx, x, target=None):
        ctx.source = ctx.backend
        ctx.backend = target
        return target.from_backend(x, ctx.source)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return grad.to(ctx.source)
        return ctx.source.from_backend(grad, ctx.backend)


# trigonometry, the error function, rounding, remainders, bits and tests


def _floating(ctx: Any, x: Any) -> Any:
    """Integer and bool inputs of a float function compute in float32, as in PyTorch."""
    return x if x.dtype.kind == "f" else ctx.backend.astype(x, dtypes.default_float)


@spelled("sin")
class Sin(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.sin(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.cos(x)  # d/dx sin x = cos x


@spelled("cos")
class Cos(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.cos(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * -ctx.xp.sin(x)  # d/dx cos x = -sin x


@spelled("tan")
class Tan(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.tan(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)  # d/dx tan x = 1 + tan^2 x


@spelled("asin", "arcsin")
class Asin(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.arcsin(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(1 - x * x)  # d/dx asin x = 1 / sqrt(1 - x^2)


@spelled("acos", "arccos")
class Acos(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.arccos(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / ctx.xp.sqrt(1 - x * x)  # d/dx acos x = -1 / sqrt(1 - x^2)


@spelled("atan", "arctan")
class Atan(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.arctan(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1)  # d/dx atan x = 1 / (1 + x^2)


@spelled("sinh")
class Sinh(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.sinh(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.cosh(x)  # d/dx sinh x = cosh x


@spelled("cosh")
class Cosh(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.cosh(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.sinh(x)  # d/dx cosh x = sinh x


@spelled("atan2", "arctan2", binary=True, scalars=False)
class Atan2(Op):
    """The angle of the point (b, a): ``atan2(a, b)``."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.arctan2(_floating(ctx, a), _floating(ctx, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        scale = grad / (a * a + b * b)
        return scale * b, scale * -a  # d atan2(a, b) = (b da - a db) / (a^2 + b^2)


@spelled("erf")
class Erf(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.erf(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _TWO_OVER_SQRT_PI * ctx.xp.exp(-(x * x))  # d/dx erf x = 2/sqrt(pi) e^-x^2


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


@spelled("copysign", binary=True)
class Copysign(Op):
    """|a| with the sign of b."""

    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.copysign(_floating(ctx, a), b)

    @staticmethod
    def backward(ctx, grad):
        a, _, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        xp = ctx.xp
        grad_a = grad * (xp.sign(a) * xp.sign(out)) if need_a else None  # out / a, 0 at a = 0
        return grad_a, xp.zeros_like(grad) if need_b else None


# logarithms and exponentials, inverse hyperbolic functions and more of PyTorch's
# elementwise functions


def _floatings(ctx: Any, a: Any, b: Any) -> tuple:
    """The operands of a float function of two: integer and bool arrays in float32 (as in
    PyTorch), Python numbers as they are."""
    return tuple(_floating(ctx, v) if hasattr(v, "dtype") else v for v in (a, b))


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEGREES_TO_RADIANS = 0.017453292519943295769236907684886127134428718885417  # PyTorch's
_RADIANS_TO_DEGREES = 57.295779513082320876798154814105170332405472466564  # constants


@spelled("log1p")
class Log1p(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.log1p(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)  # d/dx log(1 + x) = 1 / (1 + x)


@spelled("expm1")
class Expm1(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.expm1(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)  # d/dx (e^x - 1) = e^x


@spelled("exp2")
class Exp2(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.exp2(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * _LN2  # d/dx 2^x = 2^x ln 2


@spelled("log2")
class Log2(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.log2(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * _LN2)  # d/dx log2 x = 1 / (x ln 2)


@spelled("log10")
class Log10(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.log10(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * _LN10)  # d/dx log10 x = 1 / (x ln 10)


@spelled("rsqrt")
class Rsqrt(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.backend
        return xp.div(1, xp.sqrt(_floating(ctx, x)))  # as PyTorch: 1 / sqrt(x)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * -0.5 * (out * out * out)  # d/dx x^(-1/2) = -x^(-3/2) / 2


@spelled("reciprocal")
class Reciprocal(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.div(1, _floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * (out * out)  # d/dx 1/x = -1/x^2


@spelled("asinh", "arcsinh")
class Asinh(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.arcsinh(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(x * x + 1)  # d/dx asinh x = 1 / sqrt(x^2 + 1)


@spelled("acosh", "arccosh")
class Acosh(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.arccosh(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(x * x - 1)  # d/dx acosh x = 1 / sqrt(x^2 - 1)


@spelled("atanh", "arctanh")
class Atanh(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.arctanh(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 - x * x)  # d/dx atanh x = 1 / (1 - x^2)


@spelled("erfc")
class Erfc(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.erfc(_floating(ctx, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * -_TWO_OVER_SQRT_PI * ctx.xp.exp(-(x * x))  # d/dx erfc = -d/dx erf


@spelled("sinc")
class Sinc(Op):
    """sin(pi x) / (pi x), and 1 at 0."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.backend
        x = _floating(ctx, x)
        zero = xp.eq(x, 0)
        one = xp.ones((), x.dtype)
        product = xp.mul(xp.where(zero, one, x), math.pi)
        return xp.where(zero, one, xp.div(xp.sin(product), product))

    @staticmethod
    def backward(ctx, grad):
        # d/dx sinc x = (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at 0 (PyTorch's formula)
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        zero = _raw(x) == 0
        safe = xp.where(zero, 1, x)
        product = safe * math.pi
        slope = (product * xp.cos(product) - xp.sin(product)) / (product * safe)
        return xp.where(zero, 0, grad * slope)


@spelled("frac")
class Frac(Op):
    """x - trunc(x): the fractional part, with the sign of x."""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "f":
            raise OpError(f"frac is defined for floating tensors, not {x.dtype}")
        xp = ctx.backend
        return xp.sub(x, xp.trunc(x))

    @staticmethod
    def backward(ctx, grad):
        return grad  # d/dx (x - trunc x) = 1 (trunc's derivative is 0)


@spelled("deg2rad")
class Deg2Rad(Op):
    @staticmethod
    def forward(ctx, x):
        return ctx.backend.mul(_floating(ctx, x), _DEGREES_TO_RADIANS)

    @staticmethod
    def backward(ctx, grad):
        return grad * _DEGREES_TO_RADIANS


@spelled("rad2deg")
class Rad2Deg(Op):
    @staticmethod
    def forward(ctx, x):
        return ctx.backend.mul(_floating(ctx, x), _RADIANS_TO_DEGREES)

    @staticmethod
    def backward(ctx, grad):
        return grad * _RADIANS_TO_DEGREES


class Logit(Op):
    """log(x / (1 - x)), of x clamped to [eps, 1 - eps] when ``eps`` is given. The
    gradient is PyTorch's: 0 outside the clamp, NaN outside [0, 1] without one (and NaN at
    NaN either way)."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, x, eps=None):
        xp = ctx.backend
        x = _floating(ctx, x)
        ctx.bounds = None
        if eps is not None:
            low = x.dtype.type(eps)  # the bounds in x's dtype, as PyTorch's kernel has them
            ctx.bounds = low, x.dtype.type(1) - low
            x = xp.clip(x, *ctx.bounds)
        return xp.log(xp.div(x, xp.sub(1, x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        raw = _raw(x)
        slope = grad / (x * (1 - x))  # d/dx logit x = 1 / (x (1 - x))
        if ctx.bounds is None:
            return ctx.xp.where((raw < 0) | (raw > 1), math.nan, slope)
        low, high = ctx.bounds
        return ctx.xp.where((raw < low) | (raw > high), 0, slope)


@spelled("hypot", binary=True)
class Hypot(Op):
    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.hypot(*_floatings(ctx, a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        share = grad / out  # d hypot(a, b) = (a da + b db) / hypot(a, b)
        return share * a if need_a else None, share * b if need_b else None


@spelled("logaddexp", binary=True)
class LogAddExp(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.logaddexp(*_floatings(ctx, a, b))

    @staticmethod
    def backward(ctx, grad):
        # d/da log(e^a + e^b) = 1 / (1 + e^(b - a)), as PyTorch writes it
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        exp = ctx.xp.exp
        return (grad / (1 + exp(b - a)) if need_a else None,
                grad / (1 + exp(a - b)) if need_b else None)


@spelled("logaddexp2", binary=True)
class LogAddExp2(Op):
    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.logaddexp2(*_floatings(ctx, a, b))

    @staticmethod
    def backward(ctx, grad):
        # d/da log2(2^a + 2^b) = 1 / (1 + 2^(b - a)), as PyTorch writes it
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / (1 + 2 ** (b - a)) if need_a else None,
                grad / (1 + 2 ** (a - b)) if need_b else None)


@spelled("xlogy", binary=True)
class Xlogy(Op):
    """a log(b), and 0 where a is 0 (unless b is NaN)."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.backend
        a, number = _floatings(ctx, a, b)
        if hasattr(b, "dtype"):
            ctx.log_b = None
            log_b = xp.log(b)
            ctx.zero = xp.eq(a, 0) & ~xp.isnan(b)
            ctx.grad_zero = ctx.zero
        else:  # a Python number: in a's dtype, as PyTorch's
            ctx.log_b = log_b = xp.log(xp.full((), number, a.dtype))  # constant in the gradient
            ctx.zero = xp.eq(a, 0) & (not math.isnan(number))
            ctx.grad_zero = None if number > 0 else xp.eq(a, 0)
        out = xp.mul(a, log_b)
        return xp.where(ctx.zero, xp.zeros((), out.dtype), out)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        xp = ctx.xp
        grad_a = grad_b = None
        if need_a:  # d/da = log b, 0 where a is 0 (and b not NaN; b a number: not > 0)
            grad_a = grad * (xp.log(b) if ctx.log_b is None else ctx.log_b)
            if ctx.grad_zero is not None:
                grad_a = xp.where(ctx.grad_zero, 0, grad_a)
        if need_b:
            grad_b = grad * a / b  # d/db = a / b
        return grad_a, grad_b


@spelled("fmax", binary=True)
class Fmax(Op):
    """The larger of a and b, or the one that is not NaN. The gradient goes to a where
    a >= b or b is NaN, else to b (PyTorch's rule)."""

    saves_inputs = True
    function = "fmax"

    @classmethod
    def forward(cls, ctx, a, b):
        return getattr(ctx.backend, cls.function)(a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_raw, b_raw = _raw(a), _raw(b)
        a_wins = (a_raw >= b_raw) if cls is Fmax else (a_raw <= b_raw)
        a_wins = a_wins | (b_raw != b_raw)
        where = ctx.xp.where
        return (where(a_wins, grad, 0) if need_a else None,
                where(a_wins, 0, grad) if need_b else None)


@spelled("fmin", binary=True)
class Fmin(Fmax):
    """The smaller of a and b, or the one that is not NaN. The gradient goes to a where
    a <= b or b is NaN, else to b (PyTorch's rule)."""

    function = "fmin"


@spelled("heaviside", binary=True)
class Heaviside(Op):
    """0 where a < 0, ``values`` where a == 0, 1 where a > 0 (and 0 at NaN, as PyTorch's).
    As in PyTorch, its result takes part in the graph but has no derivative."""

    @staticmethod
    def forward(ctx, a, values):
        xp = ctx.backend
        if hasattr(values, "dtype") and values.dtype != a.dtype:
            raise OpError(f"heaviside: a and values need the same dtype, got {a.dtype} and "
                          f"{values.dtype}")
        if not hasattr(values, "dtype"):
            values = xp.full((), values, a.dtype)
        step = xp.astype(xp.gt(a, 0), a.dtype)
        return xp.where(xp.eq(a, 0), values, step)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("the derivative of heaviside is not implemented (as in PyTorch)")


class _Stepwise(Op):
    """A piecewise-constant function: its gradient is zero (PyTorch's, not None)."""

    function = ""

    @classmethod
    def forward(cls, ctx, x):
        return getattr(ctx.backend, cls.function)(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros_like(grad)


class Floor(_Stepwise):
    function = "floor"


class Ceil(_Stepwise):
    function = "ceil"


class Round(_Stepwise):
    """To the nearest integer, halves to even."""

    function = "rint"


class Trunc(_Stepwise):
    function = "trunc"


class FloorDivide(Op):
    """floor(a / b), as Python's ``//``; the gradient is zero."""

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        zero = ctx.xp.zeros_like(grad)
        return zero, zero


class Remainder(Op):
    """a - b floor(a / b): the sign of the divisor, as Python's ``%``."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_b = grad * -ctx.xp.floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return grad, grad_b  # d/da = 1, d/db = -floor(a / b)


class Fmod(Op):
    """a - b trunc(a / b): the sign of the dividend, as C's ``fmod``."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_b = grad * -ctx.xp.trunc(a / b) if ctx.needs_input_grad[1] else None
        return grad, grad_b  # d/da = 1, d/db = -trunc(a / b)


class ClipBounds(Op):
    """min(max(x, low), high) with tensor bounds (either may be None): the gradient goes to
    x where it lies within the bounds, else to the bound that wins, as in PyTorch."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, x, low, high):
        return ctx.backend.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        need_x, need_low, need_high = ctx.needs_input_grad
        where = ctx.xp.where
        grad_x = grad_low = grad_high = None
        if high is None:
            grad_x = where(x >= low, grad, 0) if need_x else None
            grad_low = where(x < low, grad, 0) if need_low else None
        elif low is None:
            grad_x = where(x <= high, grad, 0) if need_x else None
            grad_high = where(x > high, grad, 0) if need_high else None
        else:
            if need_x:
                grad_x = where((x >= low) & (x <= high), grad, 0)
            if need_low:  # a lower bound above the upper one never wins
                grad_low = where((x < low) & (low < high), grad, 0)
            if need_high:
                grad_high = where((x > high) | (high < low), grad, 0)
        return grad_x, grad_low, grad_high


class _Elementwise(Op):
    """A backend function of one or two arrays with no gradient (bits, tests)."""

    differentiable = False
    function = ""

    @classmethod
    def forward(cls, ctx, *arrays):
        return getattr(ctx.backend, cls.function)(*arrays)


class BitwiseAnd(_Elementwise):
    function = "bitwise_and"


class BitwiseOr(_Elementwise):
    function = "bitwise_or"


class BitwiseXor(_Elementwise):
    function = "bitwise_xor"


class BitwiseNot(_Elementwise):
    function = "invert"


class LeftShift(_Elementwise):
    function = "left_shift"


class RightShift(_Elementwise):
    function = "right_shift"


@spelled("isnan", inplace=False)
class IsNan(_Elementwise):
    function = "isnan"


@spelled("isinf", inplace=False)
class IsInf(_Elementwise):
    function = "isinf"


@spelled("isfinite", inplace=False)
class IsFinite(_Elementwise):
    function = "isfinite"


class AnyTrue(Op):
    differentiable = False
    op_name = "any"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return ctx.backend.any(x, axis=axis, keepdims=keepdims)


class AllTrue(Op):
    differentiable = False
    op_name = "all"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return ctx.backend.all(x, axis=axis, keepdims=keepdims)


# scans


def _reversed(axis: int) -> tuple:
    """The index that reverses ``axis``."""
    return (slice(None),) * axis + (slice(None, None, -1),)


def _reverse_cumsum(xp: Any, x: Any, axis: int) -> Any:
    """Sums from each position to the end of ``axis``."""
    flip = _reversed(axis)
    return _flipped(xp.cumsum(_flipped(x, flip), axis), flip)


def _flipped(x: Any, flip: tuple) -> Any:
    """``x[flip]``; a Tensor through the op, as its indexing refuses negative steps."""
    return Slice.apply(x, index=flip) if isinstance(x, Tensor) else x[flip]


class CumSum(Op):
    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return ctx.backend.cumsum(x, axis)

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(ctx.xp, grad, ctx.axis)  # dL/dx_i = sum_{j>=i} g_j


class CumProd(Op):
    """Exact where the input holds zeros: before the first zero along the axis the
    gradient is sum_{j>=i} g_j out_j / x_i; at the first zero it is the product before it
    times sum_{j>=i} g_j prod_{i<k<=j} x_k; after it, 0."""

    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return ctx.backend.cumprod(x, axis)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp, axis, raw = ctx.xp, ctx.axis, _raw(x)
        zeros_so_far = ctx.backend.cumsum(raw == 0, axis)
        before = zeros_so_far == 0
        if bool(before.all()):  # no zeros: the quotient form
            return _reverse_cumsum(xp, grad * out, axis) / x
        if xp is not ctx.backend:  # recorded: a form whose own derivatives hold past a zero
            return _cumprod_grad_by_rows(x, grad, axis)
        first = (zeros_so_far == 1) & (raw == 0)
        x_before = xp.where(before, x, 1)  # x up to the first zero, then 1s
        x_after = xp.where(before | first, 1, x)  # 1s up to the first zero, then x
        at_first = xp.cumprod(x_before, axis) * _reverse_cumsum(
            xp, grad * xp.cumprod(x_after, axis), axis)
        return xp.where(before, _reverse_cumsum(xp, grad * out, axis) / x_before,
                        xp.where(first, at_first, 0))


def _cumprod_grad_by_rows(x: Tensor, grad: Tensor, axis: int) -> Tensor:
    """dL/dx_k = sum_{j>=k} g_j prod_{m<=j, m!=k} x_m, as tensor ops: row k of an n x n
    matrix is x with x_k replaced by 1, cumulated. O(n^2), for the recorded backward pass
    where the input holds zeros (the quotient form divides by them)."""
    from .tensor_functions import where

    n = x.shape[axis]
    xt, gt = x.swapaxes(axis, -1), grad.swapaxes(axis, -1)
    rows = xt.unsqueeze(-2).expand(*xt.shape[:-1], n, n)
    backend = x.backend
    diagonal = backend.asarray(np.eye(n, dtype=bool))
    later = backend.asarray(np.triu(np.ones((n, n), dtype=bool)))  # j >= k
    products = where(Tensor._make(diagonal, backend), 1.0, rows).cumprod(-1)
    terms = where(Tensor._make(later, backend), products * gt.unsqueeze(-2), 0.0)
    return terms.sum(-1).swapaxes(axis, -1)


class LogCumSumExp(Op):
    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return ctx.backend.logcumsumexp(x, axis)

    @staticmethod
    def backward(ctx, grad):
        # dL/dx_i = sum_{j>=i} g_j exp(x_i - out_j), summed in log space for the positive
        # and the negative parts of g apart, so that nothing overflows
        x, out = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        lowest = float(np.finfo(_raw(x).dtype).min) / 2  # + x cannot overflow
        size = xp.log(xp.where(grad == 0, 1, abs(grad)))
        flip = _reversed(axis)

        def part(mask: Any) -> Any:
            log_terms = xp.where(mask, size - out, lowest)  # log(g_j exp(-out_j)), or ~-inf
            return xp.exp(_flipped(xp.logcumsumexp(_flipped(log_terms, flip), axis), flip) + x)

        return part(_raw(grad) > 0) - part(_raw(grad) < 0)


# scatter and contraction


class ScatterReduce(Op):
    """``x`` with ``src`` combined into it at ``index`` (a tuple of index arrays, as for
    ``x[index]``) by 'sum', 'prod', 'mean', 'amax' or 'amin'; ``include_self=False``
    leaves x's own values out wherever something is scattered."""

    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, x, src, index=None, reduce="sum", include_self=True):
        xp = ctx.backend
        ctx.index, ctx.reduce, ctx.include_self = index, reduce, include_self
        counts = xp.scatter_add(x.shape, index, xp.ones(src.shape, np.int64))
        ctx.hit = counts > 0
        out = xp.copy(x)
        if not include_self:
            xp.setitem(out, ctx.hit, _identity(reduce, x.dtype))
        xp.scatter_reduce(out, index, src, "sum" if reduce == "mean" else reduce)
        if reduce == "mean":
            ctx.counts = xp.astype(counts + (1 if include_self else 0), x.dtype)
            ctx.counts = xp.where(ctx.counts == 0, xp.ones((), x.dtype), ctx.counts)
            if x.dtype.kind == "f":
                out = out / ctx.counts
            else:  # integer means round down, as PyTorch's
                out = out // ctx.counts
        return out

    @staticmethod
    def backward(ctx, grad):
        x, src, out = ctx.saved_tensors
        index, reduce = ctx.index, ctx.reduce
        keep_self = True if ctx.include_self else ~ctx.hit  # where x itself took part
        if reduce == "sum":
            grad_x, grad_src = grad, grad[index]  # d(x + sum src) = dx + sum dsrc
        elif reduce == "mean":
            share = grad / ctx.counts
            grad_x, grad_src = share, share[index]
        elif reduce in ("amax", "amin"):  # shared equally among the tied extremes
            raw_x, raw_out = _raw(x), _raw(out)
            self_wins = (raw_x == raw_out) & keep_self
            src_wins = _raw(src) == raw_out[index]
            b = ctx.backend
            ties = self_wins + b.scatter_add(raw_x.shape, index, b.astype(src_wins, np.int64))
            share = grad / b.astype(b.where(ties == 0, 1, ties), raw_x.dtype)
            grad_x, grad_src = share * self_wins, share[index] * src_wins
        else:  # prod: the product of every other factor (exact with zeros)
            others_x, others_src = _other_factors(ctx.backend, _raw(x), _raw(src), index,
                                                   keep_self)
            grad_x, grad_src = grad * others_x, grad[index] * others_src
        if not ctx.include_self:
            grad_x = grad_x * ~ctx.hit
        return grad_x, grad_src


def _identity(reduce: str, dtype: np.dtype) -> Any:
    """The value that leaves ``reduce`` unchanged."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    low, high = (-np.inf, np.inf) if dtype.kind == "f" else (info.min, info.max)
    return low if reduce == "amax" else high


def _other_factors(b: Any, x: Any, src: Any, index: Any, keep_self: Any) -> tuple:
    """For each factor of a scatter product, the product of the other factors at its
    position: counted with its zeros apart, so that no zero is divided by."""
    x = b.where(keep_self, x, b.ones((), x.dtype))
    nonzero = b.where(x == 0, b.ones((), x.dtype), x)
    b.scatter_reduce(nonzero, index, b.where(src == 0, b.ones((), src.dtype), src), "prod")
    zeros = b.astype(x == 0, np.int64)
    b.scatter_reduce(zeros, index, b.astype(src == 0, np.int64), "sum")

    def others(value: Any, at_nonzero: Any, at_zeros: Any) -> Any:
        safe = b.where(value == 0, b.ones((), value.dtype), value)
        return b.where(value == 0, b.where(at_zeros == 1, at_nonzero, 0),
                       b.where(at_zeros == 0, at_nonzero / safe, 0))

    return (others(x, nonzero, zeros),
            others(src, b.getitem(nonzero, index), b.getitem(zeros, index)))


class Einsum(Op):
    """``einsum`` of an explicit equation (``'ij,jk->ik'``, no ellipsis: the caller
    names those dims). The gradient of each operand is the einsum of the output's
    gradient with the other operands, onto the operand's own labels; labels only it has
    are broadcast back, and labels it repeats (a diagonal) are written onto the diagonal."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, *operands, equation=""):
        ctx.equation = equation
        ctx.shapes = [a.shape for a in operands]
        return ctx.backend.einsum(equation, *operands)

    @staticmethod
    def backward(ctx, grad):
        ins, out = ctx.equation.split("->")
        labels = ins.split(",")
        operands = ctx.saved_tensors
        sizes = {}
        for sub, shape in zip(labels, ctx.shapes):
            for label, n in zip(sub, shape):
                sizes[label] = n if sizes.get(label, 1) == 1 else sizes[label]
        sizes.update(zip(out, grad.shape))
        grads = []
        for i, (sub, shape) in enumerate(zip(labels, ctx.shapes)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = labels[:i] + labels[i + 1:]
            own = "".join(dict.fromkeys(sub))
            seen = set(out).union(*others)
            kept = "".join(c for c in own if c in seen)
            g = ctx.xp.einsum(f"{','.join([out, *others])}->{kept}", grad,
                              *(operands[:i] + operands[i + 1:]))
            own_size = {c: n for c, n in zip(sub, shape)}
            spread = tuple(k for k, c in enumerate(kept) if own_size[c] == 1 and sizes[c] > 1)
            if spread:  # a label of size 1 here that broadcast against a larger one
                g = g.sum(axis=spread, keepdims=True)
            g = g.reshape(tuple(own_size[c] if c in kept else 1 for c in own))
            g = ctx.xp.broadcast_to(g, tuple(own_size[c] for c in own))
            if len(own) < len(sub):  # repeated labels: onto the diagonal
                index = tuple(ctx.backend.reshape(
                    ctx.backend.arange(0, own_size[c], 1, np.int64),
                    tuple(-1 if d == c else 1 for d in own)) for c in sub)
                g = ctx.xp.scatter_add(shape, index, g)
            grads.append(g)
        return tuple(grads)


# inverse, determinant and solve


def _square_floats(name: str, a: Any) -> None:
    """PyTorch's checks of a batch of square matrices for the linear algebra ops."""
    if a.dtype.kind != "f":
        raise ValueError(f"{name}: expected a floating point tensor as input, got {a.dtype}")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: A must be batches of square matrices, but they are "
                         f"{' by '.join(map(str, a.shape[-2:]))} matrices")


def _linalg(name: str, fn: Any, *arrays: Any) -> Any:
    """``fn(*arrays)``, a singular matrix reported as PyTorch's error (a RuntimeError)."""
    try:
        return fn(*arrays)
    except ValueError as err:  # numpy.linalg.LinAlgError among others
        raise ValueError(f"{name}: the input is singular or not invertible ({err})") from None


class Inverse(Op):
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        _square_floats("linalg.inv", a)
        return _linalg("linalg.inv", ctx.backend.inverse, a)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        t = out.swapaxes(-1, -2)
        return -ctx.xp.matmul(ctx.xp.matmul(t, grad), t)  # dL/dA = -A^-T G A^-T


class Det(Op):
    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        _square_floats("linalg.det", a)
        return ctx.backend.det(a)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        scale = (grad * out).reshape(tuple(out.shape) + (1, 1))
        return scale * ctx.xp.inverse(a).swapaxes(-1, -2)  # d det(A)/dA = det(A) A^-T


class Solve(Op):
    """X with A X = B, for matrices B (the caller makes a vector a column); batch dims
    broadcast."""

    saves_inputs = True
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        _square_floats("linalg.solve", a)
        if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
            raise ValueError(f"linalg.solve: incompatible shapes of A {a.shape} and B "
                             f"{b.shape}")
        xp = ctx.backend
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        a = xp.broadcast_to(a, batch + a.shape[-2:])
        b = xp.broadcast_to(b, batch + b.shape[-2:])
        return _linalg("linalg.solve", xp.solve, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, _, x = ctx.saved_tensors
        grad_b = ctx.xp.solve(a.swapaxes(-1, -2), grad)  # dL/dB = A^-T G
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = -ctx.xp.matmul(grad_b, x.swapaxes(-1, -2))  # dL/dA = -dL/dB X^T
        return grad_a, grad_b


class _TensorFunctions:
    """``ctx.xp`` while the backward pass is recorded: the named functions, on tensors.

    A name not defined here is the function of that name in ``minigrad.tensor_functions``
    (``ctx.xp.cos(x)`` is ``mg.cos(x)``), so a gradient formula needs no entry of its own.
    """

    def __getattr__(self, name: str) -> Any:
        from . import tensor_functions

        try:
            return getattr(tensor_functions, name)
        except AttributeError:
            raise AttributeError(f"no tensor function {name!r} for a recorded gradient "
                                 "formula; define it in minigrad.tensor_functions") from None

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> Tensor:
        t = a if isinstance(a, Tensor) else b
        a = a if isinstance(a, Tensor) else Tensor._make(t.backend.full((), a, t.dtype), t.backend)
        b = b if isinstance(b, Tensor) else Tensor._make(t.backend.full((), b, t.dtype), t.backend)
        return Where.apply(a, b, condition=_raw(condition))

    @staticmethod
    def log(x: Any) -> Any:
        return Log.apply(x) if isinstance(x, Tensor) else math.log(x)

    @staticmethod
    def relu_backward(out: Tensor, grad: Tensor) -> Tensor:
        return ReluBackward.apply(grad, out)

    @staticmethod
    def zeros_like(x: Tensor) -> Tensor:
        return Tensor._make(x.backend.zeros(x.shape, x.dtype), x.backend)

    @staticmethod
    def matmul(a: Tensor, b: Tensor) -> Tensor:
        return Matmul.apply(a, b)

    @staticmethod
    def broadcast_to(x: Tensor, shape: tuple) -> Tensor:
        return x.broadcast_to(shape)

    @staticmethod
    def sum_to(x: Tensor, shape: tuple) -> Tensor:
        return x.sum_to(shape)

    @staticmethod
    def scatter_add(shape: tuple, index: Any, values: Tensor) -> Tensor:
        return ScatterAdd.apply(values, shape=shape, index=index)


def _raw(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


tensor_xp = _TensorFunctions()
