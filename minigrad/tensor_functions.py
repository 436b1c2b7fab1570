"""Functions of tensors: ``mg.exp(t)`` and friends, and those that are not methods."""

from __future__ import annotations

import builtins
import math
import string
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes, ops
from .creation import full, tensor
from .dtypes import int64
from .errors import OpError
from .return_types import ValuesIndices
from .spelling import FUNCTIONS
from .tensor import Tensor, _dim, _operand


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


_MISSING = object()


def where(condition: Any, a: Any = _MISSING, b: Any = _MISSING) -> Any:
    """Elements of ``a`` where ``condition`` holds, else of ``b``; with the condition alone,
    the indices where it holds, one tensor per dim (``nonzero(as_tuple=True)``)."""
    if a is _MISSING and b is _MISSING:
        return _t(condition).nonzero(as_tuple=True)
    if a is _MISSING or b is _MISSING:
        raise TypeError("where() takes the condition alone, or the condition and both values")
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
        dtype = dtypes.default_float if isinstance(a, float) else None
        a = full((), a, dtype=dtype, device=ref.device)
    return ops.Where.apply(a, b, condition=condition._data)


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
    """The tensors joined along ``axis``; as in PyTorch, 1-D empty tensors join any
    others (they count for their dtype only)."""
    tensors = _tensors(tensors, "concatenate")
    axis = axis if dim is None else dim
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise OpError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                          "concatenated")
    shaped = [t for t in tensors if t.shape != (0,)]
    if not shaped:  # all of them 1-D and empty: any dim will do
        axis = 0
    else:
        axis = _dim("cat", axis, shaped[0].ndim)
        if len(shaped) < len(tensors):
            empty = shaped[0].shape[:axis] + (0,) + shaped[0].shape[axis + 1:]
            tensors = [t if t.shape != (0,) else t.reshape(empty) for t in tensors]
    ndims = {t.ndim for t in tensors}
    if len(ndims) > 1:
        raise OpError(f"cat: tensors must have the same number of dimensions, got "
                      f"{sorted(ndims)}")
    return ops.Concatenate.apply(*tensors, axis=axis)


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


# rounding (sin, cos, erf, atan2, isnan, ...: registered beside their ops, in ops.py)


def floor(x: Any) -> Tensor:
    return _t(x).floor()


def ceil(x: Any) -> Tensor:
    return _t(x).ceil()


def round(x: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001  (PyTorch's name)
    return _t(x).round(decimals)


def trunc(x: Any) -> Tensor:
    return _t(x).trunc()


fix = trunc


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    return _t(input).lerp(end, weight)


# tests


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


def _ints(values: int | Sequence[int]) -> tuple[int, ...]:
    return (int(values),) if isinstance(values, (int, np.integer)) else tuple(map(int, values))


def _dims(name: str, dims: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    """``dims`` (one or several) as non-negative, distinct dims."""
    out = tuple(_dim(name, d, ndim) for d in _ints(dims))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: dims {dims} repeat a dim")
    return out



# shape: tiling, flipping, rolling, triangles, windows and grids


def tile(x: Any, dims: Sequence[int]) -> Tensor:
    """``x`` repeated ``dims[i]`` times along each dim (``dims`` padded with leading 1s
    when shorter than ``x.ndim``)."""
    x = _t(x)
    dims = tuple(int(n) for n in dims)
    return _repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def _repeat(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """``Tensor.repeat``: ``x`` (its shape padded with leading 1s) tiled ``sizes`` times."""
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor of {x.ndim} dims; "
                         "give at least one per dim")
    if builtins.any(r < 0 for r in sizes):
        raise ValueError(f"repeat: counts must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    spaced = x.reshape(tuple(n for s in shape for n in (1, s)))  # a free dim before each
    copies = spaced.broadcast_to(tuple(n for r, s in zip(sizes, shape) for n in (r, s)))
    return copies.reshape(tuple(r * s for r, s in zip(sizes, shape)))


def flip(x: Any, dims: int | Sequence[int]) -> Tensor:
    """``x`` with the order of its elements reversed along ``dims`` (a copy, as PyTorch)."""
    x = _t(x)
    index = [slice(None)] * x.ndim
    for d in _dims("flip", dims, x.ndim)[:x.ndim]:  # a 0-d tensor has nothing to reverse
        index[d] = slice(None, None, -1)
    return ops.Slice.apply(x, index=tuple(index)).clone()  # indexing refuses steps < 0


def roll(x: Any, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """``x`` shifted ``shifts`` places along ``dims``, elements leaving one end coming back
    at the other; with no dims, shifted as if flattened."""
    x = _t(x)
    if dims is None or x.ndim == 0:
        (shift,) = _ints(shifts)
        return roll(x.flatten(), shift, 0).reshape(x.shape)
    shifts, dims = _ints(shifts), _dims("roll", dims, x.ndim)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    b = x.backend
    for shift, d in zip(shifts, dims):  # one gather per rolled dim
        n = x.shape[d]
        if n:
            source = (b.arange(0, n, 1, int64) - shift) % n  # out[i] = x[(i - shift) mod n]
            x = ops.Index.apply(x, index=(slice(None),) * d + (source,))
    return x


def tril(x: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""
    return _triangle(_t(x), "tril", lambda offset: offset <= diagonal)


def triu(x: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
    return _triangle(_t(x), "triu", lambda offset: offset >= diagonal)


def _triangle(x: Tensor, name: str, keep: Any) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{name}: expects a tensor of at least 2 dims, got shape {x.shape}")
    b = x.backend
    rows, cols = x.shape[-2:]
    offset = (b.reshape(b.arange(0, cols, 1, int64), (1, cols))
              - b.reshape(b.arange(0, rows, 1, int64), (rows, 1)))
    zero = Tensor._make(b.zeros((), x.dtype), b)
    return ops.Where.apply(x, zero, condition=keep(offset))


def _unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: the windows of ``size`` elements, ``step`` apart, along
    ``dimension``, which becomes their count; the window is a new last dim."""
    d = _dim("unfold", dimension, x.ndim)
    if x.ndim == 0:  # one element: its windows, as a 1-d tensor
        return _unfold(x.reshape(1), 0, size, step).reshape(-1)
    n = x.shape[d]
    if not 0 <= size <= n or step <= 0:
        raise ValueError(f"unfold: windows of size {size} with step {step} do not fit a dim "
                         f"of length {n} (need 0 <= size <= {n} and step > 0)")
    b = x.backend
    count = (n - size) // step + 1
    starts = b.reshape(b.arange(0, count * step, step, int64), (count, 1))
    window = starts + b.reshape(b.arange(0, size, 1, int64), (1, size))
    out = ops.Index.apply(x, index=(slice(None),) * d + (window,))  # (..., count, size, ...)
    order = [*range(d + 1), *range(d + 2, out.ndim), d + 1]
    return out.permute(tuple(order))


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: with 'ij' the i-th output varies along dim i;
    with 'xy' the first two dims are swapped (Cartesian, as NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: pass the indexing argument; 'ij' is used when it is "
                      "omitted, as PyTorch does", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = _tensors(tensors, "meshgrid")
    if builtins.any(t.ndim > 1 for t in tensors):
        raise ValueError("meshgrid: expects 0-d or 1-d tensors, got shapes "
                         f"{[t.shape for t in tensors]}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, a in zip(tensors, axes):
        shape[a] = t.numel()
    grids = []
    for t, a in zip(tensors, axes):
        along = tuple(shape[a] if k == a else 1 for k in range(len(shape)))
        grids.append(t.reshape(along).broadcast_to(tuple(shape)))
    return tuple(grids)


concat = concatenate


# indexing along a dim: gather, scatter, selection


def _gather_index(index: Tensor, dim: int) -> tuple:
    """The index tuple that picks ``x[..., index[i, j, k], ...]`` at dim ``dim`` and
    ``(i, j, k)`` elsewhere: what gather reads and scatter writes."""
    b = index.backend
    if index.dtype.kind not in "iu":
        raise TypeError(f"expected an integer index tensor, got {index.dtype}")
    positions = []
    for a, n in enumerate(index.shape):
        if a == dim:
            positions.append(index._data)
        else:
            shape = tuple(n if k == a else 1 for k in range(index.ndim))
            positions.append(b.reshape(b.arange(0, n, 1, int64), shape))
    return tuple(positions)


def _index_args(x: Tensor, dim: int, index: Any, name: str) -> tuple[int, tuple]:
    """The dim (non-negative) and the index tuple of a gather or scatter on ``x``."""
    index = index if isinstance(index, Tensor) else tensor(index, device=x.device)
    if index.ndim != x.ndim:
        raise ValueError(f"{name}: index has {index.ndim} dims, the tensor {x.ndim}; they "
                         "must have as many")
    d = _dim(name, dim, x.ndim)
    return d, _gather_index(index, d)


def _as_1d(*values: Any) -> list[Any]:
    """0-d tensors as 1-element 1-d ones (what the dim functions work on)."""
    return [v.reshape(1) if isinstance(v, Tensor) and v.ndim == 0 else v for v in values]


def gather(x: Any, dim: int, index: Any) -> Tensor:
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for dim 1, and so on: values picked
    along ``dim``; the gradient adds back to the picked positions."""
    x, index = _t(x), _t(index)
    if x.ndim == 0:
        return gather(*_as_1d(x), dim, *_as_1d(index)).reshape(index.shape)
    _, where_ = _index_args(x, dim, index, "gather")
    return ops.Index.apply(x, index=where_)


def _source(src: Any, x: Tensor, index_shape: tuple, name: str) -> Any:
    """The part of ``src`` the index covers (its leading corner), or a scalar as it is."""
    if not isinstance(src, Tensor):
        return _operand(x, src)
    if builtins.any(i > s for i, s in zip(index_shape, src.shape)):
        raise ValueError(f"{name}: index of shape {index_shape} is larger than src of shape "
                         f"{src.shape}")
    if src.shape == index_shape:
        return src
    return src[tuple(slice(0, n) for n in index_shape)]


def scatter(x: Any, dim: int, index: Any, src: Any = None, reduce: str | None = None, *,
            value: Any = None) -> Tensor:
    """A copy of ``x`` with ``src`` (a tensor, or one value) written at ``index`` along
    ``dim``: ``out[i][index[i][j]] = src[i][j]`` for dim 1. Where an index repeats, which
    write wins is not specified (as in PyTorch). ``reduce='add'`` or ``'multiply'``
    combines instead of writing."""
    x = _t(x)
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter needs src or value")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if not isinstance(src, Tensor):
            index_t = index if isinstance(index, Tensor) else tensor(index)
            src = full(index_t.shape, src, dtype=x.dtype, device=x.device)
        return scatter_reduce(x, dim, index, src, "sum" if reduce == "add" else "prod")
    if x.ndim == 0:
        return scatter(*_as_1d(x), dim, *_as_1d(_t(index), src)).reshape(())
    d, where_ = _index_args(x, dim, index, "scatter")
    shape = where_[d].shape
    return ops.SetItem.apply(x, _source(src, x, shape, "scatter"), index=where_)


def scatter_add(x: Any, dim: int, index: Any, src: Any) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``dim``; repeated indices add up."""
    x = _t(x)
    if x.ndim == 0:
        return scatter_add(*_as_1d(x), dim, *_as_1d(_t(index), _t(src))).reshape(())
    d, where_ = _index_args(x, dim, index, "scatter_add")
    part = _source(src, x, where_[d].shape, "scatter_add")
    return x + ops.ScatterAdd.apply(part, shape=x.shape, index=where_)


def scatter_reduce(x: Any, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``x`` with ``src`` combined at ``index`` along ``dim`` by ``reduce`` ('sum',
    'prod', 'mean', 'amax' or 'amin'), ``x``'s own values included or not."""
    x = _t(x)
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ValueError(f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', "
                         f"'amax', 'amin', got {reduce!r}")
    if x.ndim == 0:
        x, index, src = _as_1d(x, _t(index), _t(src))
        return scatter_reduce(x, dim, index, src, reduce, include_self=include_self)[0]
    d, where_ = _index_args(x, dim, index, "scatter_reduce")
    part = _source(_t(src), x, where_[d].shape, "scatter_reduce")
    return ops.ScatterReduce.apply(x, part, index=where_, reduce=reduce,
                                   include_self=include_self)


def index_select(x: Any, dim: int, index: Any) -> Tensor:
    """The slices of ``x`` at positions ``index`` (1-D) along ``dim``."""
    x = _t(x)
    index = index if isinstance(index, Tensor) else tensor(index, device=x.device)
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise ValueError(f"index_select: expects a 1-D integer index, got {index.shape} "
                         f"{index.dtype}")
    d = _dim("index_select", dim, x.ndim)
    if x.ndim == 0:
        return ops.Index.apply(x.reshape(1), index=(index._data.reshape(-1),)).reshape(())
    return ops.Index.apply(x, index=(slice(None),) * d + (index._data.reshape(-1),))


def masked_select(x: Any, mask: Any) -> Tensor:
    """The elements of ``x`` where ``mask`` (broadcast with it) is true, as a 1-D tensor."""
    x = _t(x)
    mask = mask if isinstance(mask, Tensor) else tensor(mask, device=x.device)
    if mask.dtype.kind != "b":
        raise TypeError(f"masked_select: mask must be bool, got {mask.dtype}")
    shape = np.broadcast_shapes(x.shape, mask.shape) or (1,)
    x = x.reshape(x.shape or (1,)).broadcast_to(shape)
    b = x.backend
    positions = b.nonzero(b.broadcast_to(b.reshape(mask._data, mask.shape or (1,)), shape))
    return ops.Index.apply(x, index=tuple(positions[:, k] for k in range(len(shape))))


def nonzero(x: Any, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The positions of the nonzero elements: int64 of shape (count, ndim), or with
    ``as_tuple`` one 1-D tensor per dim."""
    x = _t(x)
    b = x.backend
    positions = b.nonzero(x._data)
    if not as_tuple:
        return Tensor._make(positions, b)
    if x.ndim == 0:
        positions = b.nonzero(b.reshape(x._data, (1,)))
    return tuple(Tensor._make(b.copy(positions[:, k]), b) for k in range(positions.shape[1]))


# scans


def _scan_args(x: Any, dim: int, name: str, dtype: Any = None) -> tuple[Tensor, int, tuple]:
    """``x`` (cast to ``dtype``, 0-d made 1-d) and the dim to scan along."""
    x = _t(x)
    if dtype is not None:
        x = x.astype(dtype)
    d = _dim(name, dim, x.ndim)
    return (x.reshape(1) if x.ndim == 0 else x), d, x.shape


def cumsum(x: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along ``dim`` (integers sum in int64)."""
    x, d, shape = _scan_args(x, dim, "cumsum", dtype)
    return ops.CumSum.apply(x, axis=d).reshape(shape)


def cumprod(x: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along ``dim`` (integers multiply in int64); the gradient is exact
    where ``x`` holds zeros."""
    x, d, shape = _scan_args(x, dim, "cumprod", dtype)
    return ops.CumProd.apply(x, axis=d).reshape(shape)


def logcumsumexp(x: Any, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, computed without overflow or underflow."""
    x, d, shape = _scan_args(x, dim, "logcumsumexp")
    if x.dtype.kind != "f":
        x = x.astype(dtypes.default_float)
    return ops.LogCumSumExp.apply(x, axis=d).reshape(shape)


def cummax(x: Any, dim: int) -> ValuesIndices:
    """Running maxima along ``dim`` and where each was found (the last of equal maxima;
    a NaN, once seen, is the maximum)."""
    return _cumulative_extreme(x, dim, "cummax")


def cummin(x: Any, dim: int) -> ValuesIndices:
    """Running minima along ``dim`` and where each was found (the last of equal minima;
    a NaN, once seen, is the minimum)."""
    return _cumulative_extreme(x, dim, "cummin")


def _cumulative_extreme(x: Any, dim: int, name: str) -> ValuesIndices:
    x, d, shape = _scan_args(x, dim, name)
    b = x.backend
    best = getattr(b, name)(x._data, d)
    # a position that equals the running extreme (or is NaN) is where it is found now; the
    # running maximum of those positions is then the latest such position
    found = (x._data == best) | (x._data != x._data)
    position = b.reshape(b.arange(0, x.shape[d], 1, int64),
                         tuple(-1 if k == d else 1 for k in range(x.ndim)))
    indices = b.cummax(b.where(found, position, 0), d)
    values = ops.Index.apply(x, index=_gather_index(Tensor._make(indices, b), d))
    return ValuesIndices(values.reshape(shape), Tensor._make(b.reshape(indices, shape), b))


# sorting


def _order(x: Tensor, d: int, descending: bool) -> Any:
    """Positions that sort ``x`` along ``d``; equal values keep their order either way."""
    return _sorting(x.backend, x._data, d, descending)


def _sorting(b: Any, data: Any, d: int, descending: bool) -> Any:
    if not descending:
        return b.argsort(data, d)
    # sort the reversed values ascending (stable), then reverse: equal values end up in
    # their original order, and NaN (sorted last ascending) first
    flip = (slice(None),) * d + (slice(None, None, -1),)
    order = b.getitem(b.argsort(b.getitem(data, flip), d), flip)
    return (data.shape[d] - 1) - order


def _take(b: Any, data: Any, positions: Any, d: int) -> Any:
    """``data``'s elements at ``positions`` along ``d`` (NumPy's take_along_axis)."""
    return b.getitem(data, _gather_index(Tensor._make(positions, b), d))


def sort(x: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """The values sorted along ``dim`` and their original positions (equal values keep
    their order: the sort is always stable). NaN sorts as the largest value."""
    x, d, shape = _scan_args(x, dim, "sort")
    b = x.backend
    order = _order(x, d, descending)
    values = ops.Index.apply(x, index=_gather_index(Tensor._make(order, b), d))
    return ValuesIndices(values.reshape(shape), Tensor._make(b.reshape(order, shape), b))


def argsort(x: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The positions that sort ``x`` along ``dim`` (int64; always stable)."""
    x, d, shape = _scan_args(x, dim, "argsort")
    return Tensor._make(x.backend.reshape(_order(x, d, descending), shape), x.backend)


def topk(x: Any, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> ValuesIndices:  # noqa: A002  (PyTorch's name)
    """The ``k`` largest (or smallest) values along ``dim``, in order, and their positions."""
    x, d, shape = _scan_args(x, dim, "topk")
    if not 0 <= k <= x.shape[d]:
        raise ValueError(f"topk: k={k} is out of range for a dim of length {x.shape[d]}")
    b, n, lead = x.backend, x.shape[d], (slice(None),) * d
    if 0 < k < n:  # partition the k out first, then sort only them
        part = b.argpartition(x._data, n - k if largest else k - 1, d)
        chosen = b.getitem(part, lead + (slice(n - k, n) if largest else slice(0, k),))
        order = _take(b, chosen, _sorting(b, _take(b, x._data, chosen, d), d, largest), d)
    else:
        order = b.getitem(_order(x, d, largest), lead + (slice(0, k),))
    values = ops.Index.apply(x, index=_gather_index(Tensor._make(order, b), d))
    if not shape:
        return ValuesIndices(values.reshape(()), Tensor._make(b.reshape(order, ()), b))
    return ValuesIndices(values, Tensor._make(order, b))


# contraction, moments and norms


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``;
    '...' stands for the dims not named, and without '->' the output is the labels seen
    once, in alphabetical order, after the '...' dims."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = _tensors(operands, "einsum")
    explicit = _explicit_equation(equation, [t.ndim for t in operands])
    return ops.Einsum.apply(*operands, equation=explicit)


def _explicit_equation(equation: str, ndims: list[int]) -> str:
    """``equation`` with '->' and the output written out and each '...' replaced by
    letters of its own (right-aligned, so that those dims broadcast as NumPy's)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subs = inputs.split(",")
    if len(subs) != len(ndims):
        raise ValueError(f"einsum: the equation names {len(subs)} operands, "
                         f"{len(ndims)} were given")
    unused = [c for c in string.ascii_letters if c not in equation]
    spans = []
    for sub, n in zip(subs, ndims):
        named = len(sub.replace("...", ""))
        if not sub.replace("...", "").isalpha() and named:
            raise ValueError(f"einsum: subscripts must be letters, got {sub!r}")
        span = n - named if "..." in sub else 0
        if span < 0 or ("..." not in sub and named != n):
            raise ValueError(f"einsum: subscripts {sub!r} do not fit an operand of {n} dims")
        spans.append(span)
    ellipsis = "".join(unused[:builtins.max(spans, default=0)])
    subs = [s.replace("...", ellipsis[len(ellipsis) - k:] if k else "")
            for s, k in zip(subs, spans)]
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        labels = "".join(s.replace("...", "") for s in inputs.split(","))
        output = ellipsis + "".join(builtins.sorted(
            c for c in set(labels) if labels.count(c) == 1))
    return f"{','.join(subs)}->{output}"


def var_mean(x: Any, dim: Any = None, *, correction: int = 1, keepdim: bool = False,
             unbiased: bool | None = None) -> tuple[Tensor, Tensor]:
    """The variance (with ``correction`` degrees of freedom removed) and the mean."""
    x = _t(x)
    correction = correction if unbiased is None else int(unbiased)
    return (x.var(dim=dim, keepdim=keepdim, correction=correction),
            x.mean(dim=dim, keepdim=keepdim))


def std_mean(x: Any, dim: Any = None, *, correction: int = 1, keepdim: bool = False,
             unbiased: bool | None = None) -> tuple[Tensor, Tensor]:
    """The standard deviation (with ``correction`` degrees of freedom removed) and the
    mean."""
    var, mean_ = var_mean(x, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    return var.sqrt(), mean_


def norm(x: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default): 'fro' and 2 are the
    Euclidean norm, inf and -inf the largest and smallest magnitude, 0 the count of
    nonzeros. At a zero norm the gradient is 0, as PyTorch's."""
    x = _t(x)
    if dtype is not None:
        x = x.astype(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expects a floating-point tensor, got {x.dtype}")
    if isinstance(dim, list):
        dim = tuple(dim)
    if p == "nuc":
        raise NotImplementedError("norm: the nuclear norm is not available")
    if p == "fro":
        p = 2
    p = float(p)
    magnitude = x.abs()
    if p == 2:
        return _where_nonzero((x * x).sum(dim, keepdim), lambda s: s.sqrt())
    if p == math.inf:
        return magnitude.amax(dim, keepdim)
    if p == -math.inf:
        return magnitude.amin(dim, keepdim)
    if p == 1:
        return magnitude.sum(dim, keepdim)
    if p == 0:  # no gradient reaches x, but the result takes part in the graph
        flat = ops.Where.apply(x, 0, condition=x.backend.zeros(x.shape, bool))
        return (x != 0).astype(x.dtype).sum(dim, keepdim) + flat.sum(dim, keepdim)
    if p > 0:
        powers = _where_nonzero(magnitude, lambda a: a**p)
        return _where_nonzero(powers.sum(dim, keepdim), lambda s: s ** (1 / p))
    return (magnitude**p).sum(dim, keepdim) ** (1 / p)


def _where_nonzero(x: Tensor, fn: Any) -> Tensor:
    """``fn(x)`` where ``x`` is not 0, else 0, with a gradient of 0 (not NaN) at 0."""
    zero = (x == 0)._data  # made by an op, so that mg.compile can replay it
    safe = ops.Where.apply(1, x, condition=zero)  # fn never sees the 0s
    return ops.Where.apply(0, fn(safe), condition=zero)


# more of PyTorch's vocabulary, composed from the ops above (the elementwise ops with no
# options, log1p, hypot, xlogy, ...: registered beside their ops, in ops.py)


def negative(input: Any) -> Tensor:
    return -_t(input)


def absolute(input: Any) -> Tensor:
    return _t(input).abs()


def sgn(input: Any) -> Tensor:
    """The sign of each element (PyTorch's name that also covers complex tensors)."""
    return _t(input).sign()


def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A002  (PyTorch's name)
    return _t(input).clip(min=min)


def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A002  (PyTorch's name)
    return _t(input).clip(max=max)


def logit(input: Any, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), of p clamped to [eps, 1 - eps] when ``eps`` is given."""
    return ops.Logit.apply(_t(input), eps=eps)


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """``input`` with NaN replaced by ``nan``, and infinities by ``posinf`` and ``neginf``
    (by default the largest and the lowest finite value of its dtype). The gradient passes
    where the input is finite, and is 0 elsewhere."""
    x = _t(input)
    if x.dtype.kind != "f":
        return x.clone()
    info = np.finfo(x.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    b, data = x.backend, x._data
    with np.errstate(over="ignore"):  # a value beyond the dtype's range becomes inf
        nan, posinf, neginf = (b.full((), v, x.dtype) for v in (nan, posinf, neginf))
    fills = b.where(b.isnan(data), nan, b.where(data > 0, posinf, neginf))
    return ops.Where.apply(Tensor._make(fills, b), x, condition=~b.isfinite(data))


def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in float64, the result's dtype."""
    if not isinstance(input, Tensor):
        input = tensor(input, device=exponent.device if isinstance(exponent, Tensor) else None)
    if isinstance(exponent, Tensor):
        exponent = exponent.double()
    elif type(exponent) not in (int, float):
        exponent = tensor(exponent, device=input.device).double()
    return input.double() ** exponent


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    x, t1, t2 = _three(input, tensor1, tensor2)
    if value == 1:
        return x + t1 * t2
    return x + value * t1 * t2


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2 (floating tensors only, as PyTorch's)."""
    x, t1, t2 = _three(input, tensor1, tensor2)
    if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
        raise OpError("addcdiv: integer division is not supported; write "
                      "input + value * tensor1 / tensor2 for true division")
    if value == 1:
        return x + t1 / t2
    return x + value * t1 / t2


def _three(input: Any, tensor1: Any, tensor2: Any) -> tuple[Tensor, Tensor, Tensor]:
    x = _t(input)
    return x, _operand(x, tensor1, scalars=False), _operand(x, tensor2, scalars=False)


def index_add(input: Any, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """``input`` with ``alpha * source`` added at positions ``index`` (1-D) along ``dim``;
    repeated positions add up."""
    x = _t(input)
    flat, where_, source = _index_source(x, dim, index, source, "index_add")
    added = ops.ScatterAdd.apply(source if alpha == 1 else source * alpha,
                                 shape=flat.shape, index=where_)
    out = flat + added
    return out if x.ndim else out.reshape(())


def index_copy(input: Any, dim: int, index: Any, source: Any) -> Tensor:
    """``input`` with the slices of ``source`` written at positions ``index`` (1-D) along
    ``dim``; where a position repeats, which slice wins is not specified (as in PyTorch)."""
    x = _t(input)
    flat, where_, source = _index_source(x, dim, index, source, "index_copy")
    out = ops.SetItem.apply(flat, source, index=where_)
    return out if x.ndim else out.reshape(())


def index_fill(input: Any, dim: int, index: Any, value: Any) -> Tensor:
    """``input`` with ``value`` (a number or a 0-d tensor) at positions ``index`` (1-D)
    along ``dim``."""
    x = _t(input)
    d, positions = _index_vector(x, dim, index, "index_fill")
    if isinstance(value, Tensor) and value.ndim:
        raise OpError(f"index_fill: value must be a number or a 0-d tensor, got shape "
                      f"{value.shape}")
    b = x.backend
    size = x.shape[d] if x.ndim else 1
    hit = b.zeros((size,), bool)
    b.setitem(hit, positions, True)
    hit = b.reshape(hit, (size,) + (1,) * (x.ndim - d - 1) if x.ndim else ())
    return x.masked_fill(Tensor._make(hit, b), value)


def _index_vector(x: Tensor, dim: int, index: Any, name: str) -> tuple[int, Any]:
    """The dim (non-negative) and the 1-D integer positions of an index_* function."""
    index = index if isinstance(index, Tensor) else tensor(index, device=x.device)
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise OpError(f"{name}: expects a 1-D integer index, got {index.shape} "
                      f"{index.dtype}")
    return _dim(name, dim, x.ndim), x.backend.reshape(index._data, (-1,))


def _index_source(x: Tensor, dim: int, index: Any, source: Any, name: str) -> tuple:
    """For index_add and index_copy: ``x`` with at least one dim, the index along ``dim``,
    and ``source`` checked to have x's dtype and x's shape with len(index) at ``dim``."""
    d, positions = _index_vector(x, dim, index, name)
    source = _operand(x, source, scalars=False)
    if source.dtype != x.dtype:
        raise OpError(f"{name}: source ({source.dtype}) must have the tensor's dtype "
                      f"({x.dtype})")
    flat = x.reshape(x.shape or (1,))
    expected = flat.shape[:d] + positions.shape + flat.shape[d + 1:]
    if source.shape != expected and not (x.ndim == 0 and source.numel() == positions.size):
        raise OpError(f"{name}: source of shape {source.shape} does not fit; expected "
                      f"{expected} for a tensor of shape {x.shape} and {positions.size} "
                      "positions")
    return flat, (slice(None),) * d + (positions,), source.reshape(expected)


def masked_scatter(input: Any, mask: Any, source: Any) -> Tensor:
    """``input`` with the elements of ``source``, in order, written where ``mask`` (a bool
    tensor broadcast with it) is true."""
    x = _t(input)
    mask = mask if isinstance(mask, Tensor) else tensor(mask, device=x.device)
    if mask.dtype.kind != "b":
        raise OpError(f"masked_scatter: mask must be bool, got {mask.dtype}")
    source = _operand(x, source, scalars=False)
    if source.dtype != x.dtype:
        raise OpError(f"masked_scatter: source ({source.dtype}) must have the tensor's "
                      f"dtype ({x.dtype})")
    out_shape = np.broadcast_shapes(x.shape, mask.shape)
    shape = out_shape or (1,)
    x = x.reshape(x.shape or (1,)).broadcast_to(shape)
    b = x.backend
    positions = b.nonzero(b.broadcast_to(b.reshape(mask._data, mask.shape or (1,)), shape))
    count = positions.shape[0]
    if count > source.numel():
        raise OpError(f"masked_scatter: source has {source.numel()} elements, fewer than "
                      f"the {count} true values of the mask")
    index = tuple(positions[:, k] for k in range(len(shape)))
    return ops.SetItem.apply(x, source.reshape(-1)[:count], index=index).reshape(out_shape)


# helpers of the modules gathered below, and predicates


def _unreplayable(name: str) -> None:
    """Tell ``mg.compile`` that ``name`` reads values on the host: a step using it runs
    eagerly."""
    from . import autograd

    if autograd.tracer is not None:
        autograd.tracer.fail(f"{name}, whose result depends on the values")


def _index_tensor(x: Tensor, data: Any) -> Tensor:
    """A tensor of index positions (no gradient) on ``x``'s device."""
    return Tensor._make(data, x.backend)


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a minigrad tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(x: Tensor) -> bool:
    return x.dtype.kind == "f"


def numel(x: Tensor) -> int:
    return x.numel()


# products, statistics, shape functions and searching: in their own modules, gathered here

from .products import *  # noqa: E402, F403
from .searching import *  # noqa: E402, F403
from .shape_functions import *  # noqa: E402, F403
from .statistics import *  # noqa: E402, F403

globals().update(FUNCTIONS)  # the functions registered in ops.py: mg.sin, mg.erf, ...
