"""Functions of tensors: ``mg.exp(t)`` and friends, and those that are not methods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import ops
from .creation import full, tensor
from .dtypes import default_float
from .tensor import Tensor, _operand


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)



def exp(x: Any) -> Tensor:
    return ops.Exp.apply(_t(x))


def log(x: Any) -> Tensor:
    return ops.Log.apply(_t(x))


def sqrt(x: Any) -> Tensor:
    return ops.Sqrt.apply(_t(x))


def abs(x: Any) -> Tensor:  # noqa: A001  (PyTorch's name)
    return _t(x).abs()


def tanh(x: Any) -> Tensor:
    return ops.Tanh.apply(_t(x))


def sigmoid(x: Any) -> Tensor:
    return ops.Sigmoid.apply(_t(x))


def sign(x: Any) -> Tensor:
    return ops.Sign.apply(_t(x))


def relu(x: Any) -> Tensor:
    return ops.Relu.apply(_t(x))


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _t(x).clip(min, max)


clamp = clip


def matmul(a: Any, b: Any) -> Tensor:
    return _t(a) @ b


def sum(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> Tensor:  # noqa: A001
    return _t(x).sum(axis, keepdims, **aliases)


def mean(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> Tensor:
    return _t(x).mean(axis, keepdims, **aliases)


def var(x: Any, axis: Any = None, keepdims: bool = False, **options: Any) -> Tensor:
    return _t(x).var(axis, keepdims, **options)


def max(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> Any:  # noqa: A001
    """The largest value; with a dim, ``(values, indices)``; with a tensor, ``maximum``."""
    if isinstance(axis, Tensor):
        return maximum(x, axis)
    return _t(x).max(axis, keepdims, **aliases)


def min(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> Any:  # noqa: A001
    """The smallest value; with a dim, ``(values, indices)``; with a tensor, ``minimum``."""
    if isinstance(axis, Tensor):
        return minimum(x, axis)
    return _t(x).min(axis, keepdims, **aliases)


def amax(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> Tensor:
    return _t(x).amax(axis, keepdims, **aliases)


def amin(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> Tensor:
    return _t(x).amin(axis, keepdims, **aliases)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False, **aliases: Any) -> Tensor:
    return _t(x).argmax(axis, keepdims, **aliases)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False, **aliases: Any) -> Tensor:
    return _t(x).argmin(axis, keepdims, **aliases)


def reshape(x: Any, *shape: Any) -> Tensor:
    return _t(x).reshape(*shape)


def transpose(x: Any, *axes: Any) -> Tensor:
    return _t(x).transpose(*axes)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _t(x).flatten(start_dim, end_dim)


def squeeze(x: Any, axis: Any = None, **aliases: Any) -> Tensor:
    return _t(x).squeeze(axis, **aliases)


def unsqueeze(x: Any, axis: int | None = None, **aliases: Any) -> Tensor:
    return _t(x).unsqueeze(axis, **aliases)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    return _t(x).broadcast_to(shape)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, else of ``b``."""
    ref = next((t for t in (a, b, condition) if isinstance(t, Tensor)), None)
    if not isinstance(condition, Tensor):
        condition = tensor(condition, dtype=bool, device=None if ref is None else ref.device)
    if condition.dtype.kind != "b":
        condition = condition != 0
    if ref is None:
        ref = condition
    if condition.backend is not ref.backend:
        from .function import device_error

        raise device_error(ops.Where, ref.backend, condition.backend)
    a = _operand(ref, a)
    b = _operand(ref, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = full((), a, dtype=default_float if isinstance(a, float) else None, device=ref.device)
    return ops.Where.apply(a, b, condition=condition.data)


def maximum(a: Any, b: Any) -> Tensor:
    a, b = _pair(a, b)
    return ops.Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    a, b = _pair(a, b)
    return ops.Minimum.apply(a, b)


def _pair(a: Any, b: Any) -> tuple:
    ref = a if isinstance(a, Tensor) else b
    if not isinstance(ref, Tensor):
        ref = tensor(a)
    return _operand(ref, a), _operand(ref, b)


def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    tensors = _tensors(tensors, "concatenate")
    return ops.Concatenate.apply(*tensors, axis=axis if dim is None else dim)


cat = concatenate


def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    tensors = _tensors(tensors, "stack")
    return ops.Stack.apply(*tensors, axis=axis if dim is None else dim)


def _tensors(tensors: Sequence[Any], name: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name} needs at least one tensor")
    return [t if isinstance(t, Tensor) else tensor(t) for t in tensors]


# arithmetic, remainders and bits, as PyTorch's functions


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """input + alpha * other."""
    a, b = _pair(input, other)
    return a + (b if alpha == 1 else b * alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """input - alpha * other."""
    a, b = _pair(input, other)
    return a - (b if alpha == 1 else b * alpha)


def mul(input: Any, other: Any) -> Tensor:
    a, b = _pair(input, other)
    return a * b


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """input / other, or rounded toward -inf (``"floor"``) or toward 0 (``"trunc"``)."""
    a, b = _pair(input, other)
    a = a if isinstance(a, Tensor) else _operand(b, a, scalars=False)
    return a.div(b, rounding_mode=rounding_mode)


subtract, multiply, divide, true_divide = sub, mul, div, div


def floor_divide(input: Any, other: Any) -> Tensor:
    a, b = _pair(input, other)
    return a // b


def remainder(input: Any, other: Any) -> Tensor:
    a, b = _pair(input, other)
    return a % b


def fmod(input: Any, other: Any) -> Tensor:
    return _t(input).fmod(other)


def bitwise_and(input: Any, other: Any) -> Tensor:
    return _t(input) & other


def bitwise_or(input: Any, other: Any) -> Tensor:
    return _t(input) | other


def bitwise_xor(input: Any, other: Any) -> Tensor:
    return _t(input) ^ other


def bitwise_not(input: Any) -> Tensor:
    return ~_t(input)


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    return _t(input) << other


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    return _t(input) >> other


def logical_not(input: Any) -> Tensor:
    return _t(input).logical_not()


def logical_and(input: Any, other: Any) -> Tensor:
    return _t(input).logical_and(other)


def logical_or(input: Any, other: Any) -> Tensor:
    return _t(input).logical_or(other)


def logical_xor(input: Any, other: Any) -> Tensor:
    return _t(input).logical_xor(other)


# trigonometry, the error function and rounding


def sin(x: Any) -> Tensor:
    return ops.Sin.apply(_t(x))


def cos(x: Any) -> Tensor:
    return ops.Cos.apply(_t(x))


def tan(x: Any) -> Tensor:
    return ops.Tan.apply(_t(x))


def asin(x: Any) -> Tensor:
    return ops.Asin.apply(_t(x))


def acos(x: Any) -> Tensor:
    return ops.Acos.apply(_t(x))


def atan(x: Any) -> Tensor:
    return ops.Atan.apply(_t(x))


def sinh(x: Any) -> Tensor:
    return ops.Sinh.apply(_t(x))


def cosh(x: Any) -> Tensor:
    return ops.Cosh.apply(_t(x))


def atan2(input: Any, other: Any) -> Tensor:
    """The angle of the point (other, input), in (-pi, pi]."""
    return _t(input).atan2(other)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def erf(x: Any) -> Tensor:
    return ops.Erf.apply(_t(x))


def floor(x: Any) -> Tensor:
    return _t(x).floor()


def ceil(x: Any) -> Tensor:
    return _t(x).ceil()


def round(x: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001  (PyTorch's name)
    return _t(x).round(decimals)


def trunc(x: Any) -> Tensor:
    return _t(x).trunc()


fix = trunc


def copysign(input: Any, other: Any) -> Tensor:
    return _t(input).copysign(other)


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    return _t(input).lerp(end, weight)


# tests


def isnan(x: Any) -> Tensor:
    return _t(x).isnan()


def isinf(x: Any) -> Tensor:
    return _t(x).isinf()


def isfinite(x: Any) -> Tensor:
    return _t(x).isfinite()


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    return _t(input).isclose(other, rtol, atol, equal_nan)


def any(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _t(x).any(dim, keepdim)


def all(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _t(x).all(dim, keepdim)


# softmax and friends as functions


def softmax(x: Any, dim: int = -1) -> Tensor:
    from .functional import softmax

    return softmax(x, dim=dim)


def log_softmax(x: Any, dim: int = -1) -> Tensor:
    from .functional import log_softmax

    return log_softmax(x, dim=dim)


def logsumexp(x: Any, dim: Any, keepdim: bool = False) -> Tensor:
    return _t(x).logsumexp(dim, keepdim)

