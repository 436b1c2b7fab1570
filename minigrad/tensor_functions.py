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
        dtype = dtypes.default_float if isinstance(a, float) else None
        a = full((), a, dtype=dtype, device=ref.device)
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
            positions.append(index.data)
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
        return ops.Index.apply(x.reshape(1), index=(index.data.reshape(-1),)).reshape(())
    return ops.Index.apply(x, index=(slice(None),) * d + (index.data.reshape(-1),))


def masked_select(x: Any, mask: Any) -> Tensor:
    """The elements of ``x`` where ``mask`` (broadcast with it) is true, as a 1-D tensor."""
    x = _t(x)
    mask = mask if isinstance(mask, Tensor) else tensor(mask, device=x.device)
    if mask.dtype.kind != "b":
        raise TypeError(f"masked_select: mask must be bool, got {mask.dtype}")
    shape = np.broadcast_shapes(x.shape, mask.shape) or (1,)
    x = x.reshape(x.shape or (1,)).broadcast_to(shape)
    b = x.backend
    positions = b.nonzero(b.broadcast_to(b.reshape(mask.data, mask.shape or (1,)), shape))
    return ops.Index.apply(x, index=tuple(positions[:, k] for k in range(len(shape))))


def nonzero(x: Any, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The positions of the nonzero elements: int64 of shape (count, ndim), or with
    ``as_tuple`` one 1-D tensor per dim."""
    x = _t(x)
    b = x.backend
    positions = b.nonzero(x.data)
    if not as_tuple:
        return Tensor._make(positions, b)
    if x.ndim == 0:
        positions = b.nonzero(b.reshape(x.data, (1,)))
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
    best = getattr(b, name)(x.data, d)
    # a position that equals the running extreme (or is NaN) is where it is found now; the
    # running maximum of those positions is then the latest such position
    found = (x.data == best) | (x.data != x.data)
    position = b.reshape(b.arange(0, x.shape[d], 1, int64),
                         tuple(-1 if k == d else 1 for k in range(x.ndim)))
    indices = b.cummax(b.where(found, position, 0), d)
    values = ops.Index.apply(x, index=_gather_index(Tensor._make(indices, b), d))
    return ValuesIndices(values.reshape(shape), Tensor._make(b.reshape(indices, shape), b))


# sorting


def _order(x: Tensor, d: int, descending: bool) -> Any:
    """Positions that sort ``x`` along ``d``; equal values keep their order either way."""
    return _sorting(x.backend, x.data, d, descending)


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
        part = b.argpartition(x.data, n - k if largest else k - 1, d)
        chosen = b.getitem(part, lead + (slice(n - k, n) if largest else slice(0, k),))
        order = _take(b, chosen, _sorting(b, _take(b, x.data, chosen, d), d, largest), d)
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
    zero = (x == 0).data  # made by an op, so that mg.compile can replay it
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
    b, data = x.backend, x.data
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
    return _dim(name, dim, x.ndim), x.backend.reshape(index.data, (-1,))


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
    positions = b.nonzero(b.broadcast_to(b.reshape(mask.data, mask.shape or (1,)), shape))
    count = positions.shape[0]
    if count > source.numel():
        raise OpError(f"masked_scatter: source has {source.numel()} elements, fewer than "
                      f"the {count} true values of the mask")
    index = tuple(positions[:, k] for k in range(len(shape)))
    return ops.SetItem.apply(x, source.reshape(-1)[:count], index=index).reshape(out_shape)


# linear algebra, statistics and shape vocabulary

from .creation import arange  # noqa: E402
from .dtypes import as_dtype  # noqa: E402


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


# dtypes: PyTorch's promotion, where it differs from NumPy's


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The smallest dtype both convert to without losing their kind, as PyTorch: a float
    beside an integer is that float (``int64`` and ``float16`` give ``float16``)."""
    a, b = as_dtype(type1), as_dtype(type2)
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def result_type(tensor: Any, other: Any) -> np.dtype:
    """The dtype of an op on ``tensor`` and ``other`` (tensors or Python numbers), by
    PyTorch's rules: tensors with dims decide unless a 0-d tensor, then a Python number,
    is of a higher kind (bool, integer, float)."""
    groups: dict[str, Any] = {"dims": None, "zero": None, "number": None}
    for value in (tensor, other):
        if isinstance(value, Tensor):
            key, dt = ("dims" if value.ndim else "zero"), value.dtype
        elif isinstance(value, (bool, np.bool_)):
            key, dt = "number", np.dtype(bool)
        elif isinstance(value, (int, np.integer)):
            key, dt = "number", int64
        elif isinstance(value, (float, np.floating)):
            key, dt = "number", dtypes.default_float
        else:
            raise TypeError(f"result_type: expected a tensor or a number, got "
                            f"{type(value).__name__}")
        groups[key] = dt if groups[key] is None else promote_types(groups[key], dt)

    def combine(higher: Any, lower: Any) -> Any:
        if higher is None or lower is None:
            return lower if higher is None else higher
        if higher.kind == "f" or _CATEGORY[higher.kind] > _CATEGORY[lower.kind]:
            return higher
        if higher.kind == "b" or lower.kind == "f":
            return promote_types(higher, lower)
        return higher

    return combine(groups["dims"], combine(groups["zero"], groups["number"]))


def finfo(dtype: Any = None) -> np.finfo:
    """The limits of a float dtype (the default float when none is given), NumPy's finfo."""
    dt = dtypes.default_float if dtype is None else as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"finfo: {dt} is not a floating point dtype")
    return np.finfo(dt)


def iinfo(dtype: Any) -> np.iinfo:
    """The limits of an integer dtype, NumPy's iinfo."""
    dt = as_dtype(dtype)
    if dt.kind not in "iub":
        raise TypeError(f"iinfo: {dt} is not an integer dtype")
    return np.iinfo(np.uint8 if dt.kind == "b" else dt)


# grad mode as PyTorch spells it


class set_grad_enabled:  # noqa: N801  (PyTorch's name)
    """Turns recording on or off: at once when called as a function, and back to what it
    was at the end of a ``with`` block or of a decorated function."""

    def __init__(self, mode: bool) -> None:
        from . import autograd

        self._previous = autograd.grad_state.enabled
        self.mode = bool(mode)
        autograd.grad_state.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        from . import autograd

        autograd.grad_state.enabled = self._previous

    def __call__(self, fn: Any) -> Any:
        import functools

        from . import autograd

        autograd.grad_state.enabled = self._previous  # a decorator changes nothing yet

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)

        return wrapper


def inference_mode(mode: bool = True) -> Any:
    """``no_grad`` (with ``mode=False``, ``enable_grad``), as PyTorch's inference mode
    computes the same values."""
    from .autograd import enable_grad, no_grad

    if callable(mode):  # @inference_mode, without the parentheses
        return no_grad()(mode)
    return no_grad() if mode else enable_grad()


# products of vectors and matrices


def _ndims(name: str, expected: int, *tensors: Tensor) -> None:
    if builtins.any(t.ndim != expected for t in tensors):
        shapes = " and ".join(f"{t.ndim}D" for t in tensors)
        raise OpError(f"{name}: {expected}D tensors expected, but got {shapes} tensors")


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise OpError(f"{name}: expected both tensors to have the same dtype, but got "
                      f"{a.dtype} and {b.dtype}")


def dot(input: Any, other: Any) -> Tensor:
    """The inner product of two 1-D tensors of one length and dtype."""
    a, b = _t(input), _t(other)
    _ndims("dot", 1, a, b)
    _same_dtype("dot", a, b)
    if a.shape != b.shape:
        raise OpError(f"dot: inconsistent tensor size, expected tensors of the same "
                      f"length, got {a.shape[0]} and {b.shape[0]}")
    return a @ b


def mm(input: Any, mat2: Any) -> Tensor:
    return _t(input).mm(mat2)


def bmm(input: Any, mat2: Any) -> Tensor:
    """Batched matrix products of (b, n, m) and (b, m, p) tensors."""
    a, b = _t(input), _t(mat2)
    _ndims("bmm", 3, a, b)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise OpError(f"bmm: expected shapes (b, n, m) and (b, m, p), got {a.shape} and "
                      f"{b.shape}")
    return a @ b


def outer(input: Any, vec2: Any) -> Tensor:
    """``input[i] * vec2[j]`` for 1-D tensors."""
    a, b = _t(input), _t(vec2)
    _ndims("outer", 1, a, b)
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def _scaled_sum(name: str, input: Any, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta * input + alpha * product``; with beta 0, input is not read (NaN stays out)."""
    scaled = product if alpha == 1 else product * alpha
    x = _operand(product, input)
    try:
        shape = np.broadcast_shapes(getattr(x, "shape", ()), product.shape)
    except ValueError:
        shape = None
    if shape != product.shape:
        raise OpError(f"{name}: the input of shape {x.shape} does not broadcast to the "
                      f"product's shape {product.shape}")
    if beta == 0:
        return scaled
    return (x if beta == 1 else x * beta) + scaled


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """The sum of products over the last ``dims`` dims of ``a`` and the first of ``b``, or
    over the dims listed as ``([dims of a], [dims of b])``."""
    a, b = _t(a), _t(b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise OpError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise OpError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([int(d)] if isinstance(d, (int, np.integer)) else list(d)
                          for d in dims)
    if len(dims_a) != len(dims_b):
        raise OpError(f"tensordot: both dim lists should have the same length, got "
                      f"{dims_a} and {dims_b}")
    dims_a = [_dim("tensordot", d, a.ndim) for d in dims_a]
    dims_b = [_dim("tensordot", d, b.ndim) for d in dims_b]
    for i, j in zip(dims_a, dims_b):
        if a.shape[i] != b.shape[j]:
            raise OpError(f"tensordot: contracted dimensions need to match, but first has "
                          f"size {a.shape[i]} in dim {i} and second has size {b.shape[j]} "
                          f"in dim {j}")
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(dims_a, dims_b):
        sub_b[j] = sub_a[i]
    kept = ([c for k, c in enumerate(sub_a) if k not in dims_a]
            + [c for k, c in enumerate(sub_b) if k not in dims_b])
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(kept)}", a, b)


def kron(input: Any, other: Any) -> Tensor:
    """The Kronecker product: every element of ``input`` times the whole of ``other``."""
    a, b = _t(input), _t(other)
    n = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a.shape
    sb = (1,) * (n - b.ndim) + b.shape
    spread_a = a.reshape(tuple(k for s in sa for k in (s, 1)))
    spread_b = b.reshape(tuple(k for s in sb for k in (1, s)))
    return (spread_a * spread_b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def diag(input: Any, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as the ``diagonal``-th diagonal of a square matrix, or a matrix's
    ``diagonal``-th diagonal as a 1-D tensor."""
    x = _t(input)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    if x.ndim != 1:
        raise OpError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    k = int(diagonal)
    n = x.shape[0] + builtins.abs(k)
    b = x.backend
    steps = b.arange(0, x.shape[0], 1, int64)
    rows, cols = (steps, steps + k) if k >= 0 else (steps - k, steps)
    return ops.ScatterAdd.apply(x, shape=(n, n), index=(rows, cols))


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The elements ``[i, i + offset]`` of the matrices spanned by ``dim1`` and ``dim2``,
    as a last dim (the other dims kept in order)."""
    x = _t(input)
    d1, d2 = _dim("diagonal", dim1, x.ndim), _dim("diagonal", dim2, x.ndim)
    if d1 == d2:
        raise OpError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(x.ndim) if d not in (d1, d2)]
    moved = x.permute(*rest, d1, d2)
    rows, cols = moved.shape[-2:]
    k = int(offset)
    length = builtins.max(0, builtins.min(rows + builtins.min(k, 0), cols - builtins.max(k, 0)))
    b = x.backend
    steps = b.arange(0, length, 1, int64)
    at = (steps - builtins.min(k, 0), steps + builtins.max(k, 0))
    return ops.Index.apply(moved, index=(slice(None),) * len(rest) + at)


_diagonal_of = diagonal  # diag's argument is called diagonal too


def trace(input: Any) -> Tensor:
    """The sum of a matrix's diagonal."""
    x = _t(input)
    if x.ndim != 2:
        raise OpError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return diagonal(x).sum()


def cross(input: Any, other: Any, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (by default the first dim of size 3,
    as ``torch.cross``); the two tensors broadcast."""
    a = _t(input)
    b = _operand(a, other, scalars=False)
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    if dim is None:
        warnings.warn("cross: the dim is taken as the first of size 3; pass dim (as "
                      "linalg.cross's default of -1) to say which", UserWarning, stacklevel=2)
        dim = next((k for k, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise OpError(f"no dimension of size 3 in input of shape {shape}")
    d = _dim("cross", dim, len(shape))
    if shape[d] != 3:
        raise OpError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                      f"{shape[d]} and {shape[d]}")
    lead = (slice(None),) * d

    def part(t: Tensor, k: int) -> Tensor:
        return t[lead + (k,)]

    x1, x2, x3 = (part(a, k) for k in range(3))
    y1, y2, y3 = (part(b, k) for k in range(3))
    return stack([x2 * y3 - x3 * y2, x3 * y1 - x1 * y3, x1 * y2 - x2 * y1], dim=d)


def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2``
    (..., R, M): (..., P, R). At a zero distance the gradient is 0, as PyTorch's."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise OpError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise OpError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                      f"X2: {b.shape[-1]}")
    if p < 0:
        raise OpError(f"cdist only supports non-negative p values, got {p}")
    return norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, dim=-1)


def inverse(input: Any) -> Tensor:
    """The inverse of each square matrix of ``input`` (..., n, n)."""
    return ops.Inverse.apply(_t(input))


def det(input: Any) -> Tensor:
    """The determinant of each square matrix of ``input`` (..., n, n)."""
    return ops.Det.apply(_t(input))


def logdet(input: Any) -> Tensor:
    """log(det(input)): -inf for a zero determinant; NaN, with a gradient of 0, for a
    negative one (as PyTorch's)."""
    d = det(input)
    negative = d.data < 0
    return ops.Where.apply(math.nan, ops.Where.apply(1, d, condition=negative).log(),
                           condition=negative)


def solve(A: Any, B: Any) -> Tensor:
    """X with ``A @ X = B``; ``B`` is a batch of vectors when it is 1-D or has A's shape
    without its last dim, else a batch of matrices (``linalg.solve``'s rule)."""
    a, b = _t(A), _t(B)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        return ops.Solve.apply(a, b.unsqueeze(-1)).squeeze(-1)
    return ops.Solve.apply(a, b)


# reductions and statistics


def prod(input: Any, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """The product of the elements (along ``dim``); integers multiply in int64. The
    gradient is exact where the input holds zeros."""
    x = _t(input)
    if dtype is not None:
        x = x.astype(dtype)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            return full((), 1, dtype=int64 if flat.dtype.kind in "biu" else flat.dtype,
                        device=x.device)
        return cumprod(flat, 0)[-1]
    d = _dim("prod", dim, x.ndim)
    if x.ndim == 0:
        return cumprod(x, 0)
    if x.shape[d] == 0:
        shape = x.shape[:d] + ((1,) if keepdim else ()) + x.shape[d + 1:]
        return full(shape, 1, dtype=int64 if x.dtype.kind in "biu" else x.dtype,
                    device=x.device)
    last = cumprod(x, d)[(slice(None),) * d + (slice(-1, None),)]
    return last if keepdim else last.squeeze(d)


def _sorted_along(x: Tensor, dim: int | None, name: str) -> tuple[Tensor, Any, int]:
    """``x`` (flattened when ``dim`` is None) sorted along the dim, its sorting positions
    and the dim."""
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _dim(name, dim, x.ndim)
        if x.ndim == 0:
            x = x.reshape(1)
    values, order = sort(x, d)
    return values, order, d


def _pick(t: Tensor, k: Any, d: int) -> Tensor:
    """``t``'s elements at positions ``k`` (an int64 array, one per row) along ``d``,
    keeping ``d`` as a dim of length 1."""
    return ops.Index.apply(t, index=_gather_index(Tensor._make(k, t.backend), d))


def median(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (the smaller of the two middle values of an even count): of every
    element, or along ``dim`` as ``(values, indices)``. A NaN makes the median NaN."""
    x = _t(input)
    if x.numel() == 0 and dim is None:
        return full((), math.nan, dtype=x.dtype, device=x.device)
    values, order, d = _sorted_along(x, dim, "median")
    n = values.shape[d]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    b = x.backend
    counted = (values.data == values.data).sum(axis=d, keepdims=True)  # the values not NaN
    k = b.where(counted < n, counted, b.full((), (n - 1) // 2, int64))
    k = b.astype(k, int64)
    value = _pick(values, k, d)
    if dim is None:
        return value.reshape(())
    index = _index_tensor(x, b.getitem(order.data, _gather_index(Tensor._make(k, b), d)))
    if not keepdim:
        value, index = value.squeeze(d), index.squeeze(d)
    shape = x.shape[:d] + ((1,) if keepdim else ()) + x.shape[d + 1:] if x.ndim else ()
    return ValuesIndices(value.reshape(shape), index.reshape(shape))


def mode(input: Any, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` (the smallest of those equally frequent) and
    the position of its last occurrence, as ``(values, indices)``."""
    x = _t(input)
    d = _dim("mode", dim, x.ndim)
    flat = x.reshape(1) if x.ndim == 0 else x
    n = flat.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    b = x.backend
    data = b.reshape(flat.data, flat.shape[:d + 1] + (1,) + flat.shape[d + 1:])
    others = b.reshape(flat.data, flat.shape[:d] + (1,) + flat.shape[d:])
    counts = b.sum(b.eq(data, others), axis=d + 1)  # how often each element's value occurs
    most = b.eq(counts, b.max(counts, axis=d, keepdims=True))
    top = b.max(flat.data, axis=d, keepdims=True)
    value = b.min(b.where(most, flat.data, top), axis=d, keepdims=True)
    position = b.reshape(b.arange(0, n, 1, int64), tuple(-1 if k == d else 1
                                                          for k in range(flat.ndim)))
    last = b.max(b.where(b.eq(flat.data, value), position, b.full((), -1, int64)), axis=d,
                 keepdims=True)
    values = _pick(flat, b.astype(last, int64), d)
    indices = _index_tensor(x, b.astype(last, int64))
    if not keepdim or x.ndim == 0:
        values, indices = values.squeeze(d), indices.squeeze(d)
    if x.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return ValuesIndices(values, indices)


def nansum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The sum, NaNs counted as 0 (and given a gradient of 0)."""
    x = _t(input)
    if dtype is not None:
        x = x.astype(dtype)
    if x.dtype.kind == "f":
        x = where(x.isnan(), 0.0, x)
    return x.sum(dim=dim, keepdim=keepdim)


def nanmean(input: Any, dim: Any = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:
    """The mean of the elements that are not NaN."""
    x = _t(input)
    if dtype is not None:
        x = x.astype(dtype)
    if x.dtype.kind != "f":
        raise OpError(f"nanmean(): expected input to have floating point dtype but got "
                      f"{x.dtype}")
    count = (~x.isnan()).sum(dim=dim, keepdim=keepdim).astype(x.dtype)
    return nansum(x, dim, keepdim) / count


def count_nonzero(input: Any, dim: Any = None) -> Tensor:
    """The number of elements that are not zero (along ``dim``, one int or several), int64."""
    x = _t(input)
    if isinstance(dim, list):
        dim = tuple(dim)
    return (x != 0).astype(int64).sum(dim=dim)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input: Any, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1], a number or a 1-D tensor whose length
    becomes a first dim) of every element, or along ``dim``; between two values it
    interpolates by ``interpolation``. A NaN makes the quantile NaN."""
    x = _t(input)
    if x.dtype.kind != "f":
        raise OpError(f"quantile() input tensor must be either float or double dtype, got "
                      f"{x.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise OpError(f"quantile() interpolation must be one of {', '.join(_INTERPOLATIONS)}."
                      f" Got {interpolation!r}")
    if x.numel() == 0:
        raise OpError("quantile() input tensor must be non-empty")
    scalar_q = not isinstance(q, Tensor)
    qs = np.atleast_1d(np.asarray(q.tolist() if isinstance(q, Tensor) else q, dtype=np.float64))
    if isinstance(q, Tensor) and q.ndim > 1:
        raise OpError("quantile() q must be a scalar or 1D tensor")
    if isinstance(q, Tensor) and q.dtype != x.dtype:
        raise OpError(f"quantile() q tensor must be same dtype as the input tensor, got "
                      f"{q.dtype} and {x.dtype}")
    if ((qs < 0) | (qs > 1)).any():
        raise OpError("quantile() q values must be in the range [0, 1]")
    values, _, d = _sorted_along(x, dim, "quantile")
    n = values.shape[d]
    b = x.backend
    has_nan = b.astype((values.data != values.data).sum(axis=d, keepdims=True) > 0, bool)
    outs = []
    for qk in qs:
        rank = float(x.dtype.type(qk) * x.dtype.type(n - 1))  # in the input's dtype
        low, high = math.floor(rank), math.ceil(rank)
        if interpolation == "nearest":
            low = high = int(np.round(rank))  # halves to even, as PyTorch
        elif interpolation == "lower":
            high = low
        elif interpolation == "higher":
            low = high
        lead = (slice(None),) * d
        v_low = values[lead + (slice(low, low + 1),)]
        if high == low:
            out = v_low
        else:
            v_high = values[lead + (slice(high, high + 1),)]
            weight = 0.5 if interpolation == "midpoint" else rank - low
            out = v_low.lerp(v_high, weight)
        last = values[lead + (slice(n - 1, n),)]  # NaN, where there is one: sorted last
        outs.append(ops.Where.apply(last, out, condition=has_nan))
    out = stack(outs, 0)  # (q, ..., 1, ...)
    if dim is None:
        out = out.reshape((len(qs),) + ((1,) * x.ndim if keepdim else ()))
    elif not keepdim or x.ndim == 0:
        out = out.squeeze(d + 1)
    return out[0] if scalar_q else out


# shape functions


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return _t(input).chunk(chunks, dim)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return _t(tensor).split(split_size_or_sections, dim)


def narrow(input: Any, dim: int, start: Any, length: int) -> Tensor:
    """The ``length`` elements from ``start`` along ``dim`` (a view in PyTorch)."""
    x = _t(input)
    if x.ndim == 0:
        raise OpError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim("narrow", dim, x.ndim)
    n = x.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    start = start + n if start < 0 else start
    if length < 0 or start + length > n:
        raise OpError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def movedim(input: Any, source: Any, destination: Any) -> Tensor:
    """``input`` with the dims ``source`` moved to positions ``destination``, the others
    in their order."""
    x = _t(input)
    src, dst = _ints(source), _ints(destination)
    if len(src) != len(dst):
        raise OpError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                      f"dims) should contain the same number of dims as destination "
                      f"({list(dst)} dims)")
    try:
        src = _dims("movedim", src, x.ndim)
        dst = _dims("movedim", dst, x.ndim)
    except ValueError as err:
        raise OpError(str(err)) from None
    if x.ndim == 0:
        return x.reshape(())
    order = [None] * x.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    return x.permute(*(o if o is not None else next(rest) for o in order))


moveaxis = movedim


def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:
    return _t(input).swapaxes(axis0, axis1)


swapdims = swapaxes


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """``input`` with ``dim`` split into ``sizes`` (one of them may be -1)."""
    x = _t(input)
    d = _dim("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise OpError("unflatten: sizes must be non-empty")
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])


def _atleast(n: int, tensors: tuple) -> Any:
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in map(_t, tensors):
        if t.ndim >= n:
            out.append(t)
        elif n == 1 or t.ndim == 0:
            out.append(t.reshape((1,) * n))
        elif n == 2 or t.ndim == 1:  # (k,) is a row (1, k); as 3-D, (1, k, 1)
            out.append(t.reshape((1, t.shape[0]) if n == 2 else (1, t.shape[0], 1)))
        else:  # a matrix as 3-D: (m, k, 1)
            out.append(t.unsqueeze(-1))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    return _atleast(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    return _atleast(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    return _atleast(3, tensors)


def _some(tensors: Sequence[Any], name: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise OpError(f"{name} expects a non-empty TensorList")
    return [_t(t) for t in tensors]


def hstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors joined column-wise: along dim 0 for 1-D ones, else dim 1."""
    parts = atleast_1d(_some(tensors, "hstack"))
    return cat(parts, 0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors (1-D ones as rows) joined along dim 0."""
    return cat(atleast_2d(_some(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors (made at least 3-D) joined along dim 2."""
    return cat(atleast_3d(_some(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """The tensors as columns (0-D and 1-D ones made (n, 1)) joined along dim 1."""
    parts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t
             for t in _some(tensors, "column_stack")]
    return cat(parts, 1)


def rot90(input: Any, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``input`` turned by 90 degrees ``k`` times, from the first of ``dims`` towards the
    second."""
    x = _t(input)
    dims = list(dims)
    if len(dims) != 2:
        raise OpError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise OpError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = _dim("rot90", dims[0], x.ndim), _dim("rot90", dims[1], x.ndim)
    if d0 == d1:
        raise OpError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                      f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(x, d1).swapaxes(d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(x, d0).swapaxes(d0, d1)
    return x.clone()


def diff(input: Any, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``!=`` for bools), after joining
    ``prepend`` and ``append``."""
    x = _t(input)
    if x.ndim == 0:
        raise OpError("diff expects input to be at least one-dimensional")
    d = _dim("diff", dim, x.ndim)
    parts = [p if isinstance(p, Tensor) else _operand(x, p, scalars=False)
             for p in (prepend, x, append) if p is not None]
    parts = [p.reshape(x.shape[:d] + (1,) + x.shape[d + 1:]).broadcast_to(
        x.shape[:d] + (1,) + x.shape[d + 1:]) if p.ndim == 0 else p for p in parts]
    if len(parts) > 1:
        x = cat(parts, d)
    lead = (slice(None),) * d
    for _ in range(int(n)):
        later, earlier = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = later != earlier if x.dtype.kind == "b" else later - earlier
    return x


def block_diag(*tensors: Any) -> Tensor:
    """The tensors (0-D, 1-D as a row, or 2-D) as blocks on the diagonal of one matrix."""
    blocks = []
    for i, t in enumerate(map(_t, tensors)):
        if t.ndim > 2:
            raise OpError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                          f"Input {i} has {t.ndim} dimensions")
        blocks.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1
                      else t)
    if not blocks:
        return tensor(np.zeros((1, 0), np.float32))
    dtype = blocks[0].dtype
    for t in blocks[1:]:
        dtype = promote_types(dtype, t.dtype)
    blocks = [t if t.dtype == dtype else t.astype(dtype) for t in blocks]
    width = builtins.sum(t.shape[1] for t in blocks)
    rows, left = [], 0
    for t in blocks:
        h, w = t.shape
        pad_left = full((h, left), 0, dtype=dtype, device=t.device)
        pad_right = full((h, width - left - w), 0, dtype=dtype, device=t.device)
        rows.append(cat([pad_left, t, pad_right], 1))
        left += w
    return cat(rows, 0)


def cartesian_prod(*tensors: Any) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (a single tensor
    comes back as it is)."""
    tensors = _tensors(tensors, "cartesian_prod")
    if builtins.any(t.ndim != 1 for t in tensors):
        raise OpError("Expect a 1D vector, but got shapes "
                      f"{[t.shape for t in tensors]}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


# indexing functions


def take(input: Any, index: Any) -> Tensor:
    """The elements of ``input``, read as 1-D, at ``index`` (any shape; negative counts
    from the end)."""
    x = _t(input)
    idx = index if isinstance(index, Tensor) else tensor(index, device=x.device)
    if idx.dtype != int64:
        raise OpError(f"take(): Expected a long tensor for index, but got {idx.dtype}")
    flat = x.reshape(-1)
    n = flat.shape[0]
    raw = idx.data
    if idx.numel() and (bool((raw >= n).any()) or bool((raw < -n).any())):
        raise IndexError(f"take(): index out of range for tensor of size {x.shape} with "
                         f"{n} elements")
    return ops.Index.apply(flat, index=(raw,))


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:
    """``input``'s values at ``indices`` along ``dim`` (both broadcast on the other dims),
    or of the flattened input when ``dim`` is None."""
    x = _t(input)
    idx = indices if isinstance(indices, Tensor) else tensor(indices, device=x.device)
    if idx.dtype.kind not in "iu":
        raise OpError(f"take_along_dim(): dtype of indices should be Long but got "
                      f"{idx.dtype}")
    if dim is None:
        return take(x, idx.reshape(-1).astype(int64))
    d = _dim("take_along_dim", dim, x.ndim)
    if x.ndim != idx.ndim:
        raise OpError("torch.take_along_dim(): input and indices should have the same "
                      f"number of dimensions, but got {x.ndim} dimensions for input, and "
                      f"{idx.ndim} dimensions for indices")
    shape_x = list(np.broadcast_shapes(
        x.shape[:d] + (1,) + x.shape[d + 1:], idx.shape[:d] + (1,) + idx.shape[d + 1:]))
    shape_i = list(shape_x)
    shape_x[d], shape_i[d] = x.shape[d], idx.shape[d]
    x = x.broadcast_to(tuple(shape_x))
    idx = idx.broadcast_to(tuple(shape_i))
    return gather(x, d, idx)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times (one count, or one
    per element); with only a tensor of counts, the positions repeated by them."""
    x = _t(input)
    if repeats is None:  # repeat_interleave(counts): 0, 0, 1, ... as the counts say
        counts = x
        positions = arange(counts.shape[0], device=counts.device)
        return repeat_interleave(positions, counts)
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _dim("repeat_interleave", dim, x.ndim)
        if x.ndim == 0:
            x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        counts = repeats.numpy().reshape(-1).astype(np.int64)
        _unreplayable("repeat_interleave by a tensor of counts")
    else:
        counts = np.asarray([int(repeats)], dtype=np.int64)
    if counts.size == 1:
        counts = np.repeat(counts, n)
    if counts.size != n:
        raise OpError(f"repeats must have the same size as input along dim, but got "
                      f"repeats.size(0) = {counts.size} and input.size({d}) = {n}")
    if (counts < 0).any():
        raise OpError("repeats can not be negative")
    source = x.backend.asarray(np.repeat(np.arange(n, dtype=np.int64), counts))
    return ops.Index.apply(x, index=(slice(None),) * d + (source,))


# searching, counting and sets


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Where each value of ``input`` would go in ``sorted_sequence`` (sorted along its
    last dim; leading dims match ``input``'s): before equal values, or after them with
    ``right`` (or ``side='right'``)."""
    seq = _t(sorted_sequence)
    scalar = not isinstance(input, Tensor)
    values = _operand(seq, input, scalars=False)
    if side is not None:
        if side not in ("left", "right"):
            raise OpError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                          f"got {side}")
        if right and side == "left":
            raise OpError("torch.searchsorted(): side and right can't be set to opposites, "
                          "got side of left while right was True")
        right = side == "right"
    _unreplayable("searchsorted")
    b = seq.backend
    data = seq.data
    if sorter is not None:
        data = b.getitem(data, _gather_index(_t(sorter), seq.ndim - 1))
    how = "right" if right else "left"
    if seq.ndim <= 1:
        found = b.searchsorted(b.reshape(data, (-1,)), values.data, how)
    else:
        if values.shape[:-1] != seq.shape[:-1]:
            raise OpError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                          "the first N-1 dimensions of boundaries tensor and input value "
                          f"tensor must match, but we got boundaries tensor {list(seq.shape)}"
                          f" and input value tensor {list(values.shape)}")
        rows = [b.searchsorted(data[i], values.data[i], how)
                for i in np.ndindex(*seq.shape[:-1])]
        found = b.reshape(b.stack(rows, 0), values.shape) if rows else b.zeros(
            values.shape, int64)
    found = b.astype(found, np.dtype(np.int32) if out_int32 else int64)
    out = _index_tensor(seq, found)
    return out.reshape(()) if scalar and values.ndim == 0 else out


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value among the 1-D sorted ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]`` (with ``right``, ``<=`` and ``<``)."""
    bounds = _t(boundaries)
    if bounds.ndim != 1:
        raise OpError(f"boundaries tensor must be 1 dimension, but got dim({bounds.ndim})")
    return searchsorted(bounds, input, out_int32=out_int32, right=right)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` is among ``test_elements`` (bool, the shape
    of ``elements``)."""
    ref = elements if isinstance(elements, Tensor) else _t(test_elements)
    x = _operand(ref, elements, scalars=False)
    test = _operand(ref, test_elements, scalars=False)
    _unreplayable("isin")
    b = x.backend
    pool = b.reshape(test.data, (-1,))
    if pool.shape[0] == 0:
        found = b.zeros(x.shape, np.dtype(bool))
    else:
        common = promote_types(x.dtype, test.dtype)
        pool = b.astype(pool, common)
        values = b.astype(x.data, common)
        pool = b.getitem(pool, b.argsort(pool, 0))
        at = b.clip(b.searchsorted(pool, values, "left"), 0, pool.shape[0] - 1)
        found = b.eq(b.getitem(pool, at), values)
    out = _index_tensor(x, found)
    return ~out if invert else out


def unique(input: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (sorted), and as asked the position of each element's value
    among them and how many times each occurs; with ``dim``, the distinct slices."""
    x = _t(input)
    _unreplayable("unique")
    b = x.backend
    if dim is not None:
        d = _dim("unique", dim, x.ndim)
        values, inverse, counts = np.unique(x.numpy(), return_inverse=True,
                                            return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    else:
        flat = b.reshape(x.data, (-1,))
        order = b.argsort(flat, 0)
        ordered = b.getitem(flat, order)
        n = flat.shape[0]
        starts = b.concatenate([b.ones((builtins.min(n, 1),), np.dtype(bool)),
                                b.ne(ordered[1:], ordered[:-1])], 0)
        group = b.sub(b.cumsum(starts, 0), b.ones((), int64))  # each sorted element's value
        first = b.nonzero(starts)[:, 0]
        values = b.getitem(ordered, first)
        counts = b.sub(b.concatenate([first[1:], b.full((1,), n, int64)], 0), first)
        inverse = b.scatter_add((n,), (order,), group)
        out = [Tensor._make(values, b)]
        if return_inverse:
            out.append(Tensor._make(b.reshape(inverse, x.shape), b))
        if return_counts:
            out.append(Tensor._make(counts, b))
        return out[0] if len(out) == 1 else tuple(out)
    out = [Tensor._make(b.asarray(values), b)]
    if return_inverse:
        out.append(Tensor._make(b.asarray(inverse.astype(np.int64)), b))
    if return_counts:
        out.append(Tensor._make(b.asarray(counts.astype(np.int64)), b))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Tensor:
    """How many times each non-negative integer occurs in the 1-D ``input`` (or the sum of
    its ``weights``), for 0 up to its largest value (at least ``minlength`` counts)."""
    x = _t(input)
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise OpError(f"bincount only supports 1-d non-negative integral inputs, got "
                      f"{x.ndim}-d {x.dtype}")
    if minlength < 0:
        raise OpError("minlength should be >= 0")
    _unreplayable("bincount")
    b = x.backend
    if x.shape[0] and bool(b.to_numpy(b.lt(b.min(x.data), 0))):
        raise OpError("bincount only supports 1-d non-negative integral inputs.")
    size = builtins.max(int(b.to_numpy(b.max(x.data))) + 1 if x.shape[0] else 0, minlength)
    if weights is None:
        values = b.ones(x.shape, int64)
    else:
        w = _operand(x, weights, scalars=False)
        if w.shape != x.shape:
            raise OpError("weights should be 1-d and have the same length as input")
        kind = w.dtype if w.dtype == dtypes.float32 else dtypes.float64
        values = b.astype(w.data, kind)
    return Tensor._make(b.scatter_add((size,), (b.astype(x.data, int64),), values), b)


def histc(input: Any, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """A histogram of ``bins`` equal bins from ``min`` to ``max`` (the data's own range
    when both are 0); values outside are left out."""
    x = _t(input)
    if x.dtype.kind != "f":
        raise OpError(f"\"histogram_cpu\" not implemented for '{x.dtype}'")
    if bins <= 0:
        raise OpError(f"torch.histc(): bins must be > 0, but got {bins}")
    if min > max:
        raise OpError("torch.histc(): max must be larger than min")
    _unreplayable("histc")
    b = x.backend
    flat = b.reshape(x.data, (-1,))
    low, high = float(min), float(max)
    if low == high and flat.shape[0]:
        low, high = float(b.to_numpy(b.min(flat))), float(b.to_numpy(b.max(flat)))
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise OpError(f"torch.histc(): range of [{low}, {high}] is not finite")
    inside = (flat >= low) & (flat <= high)  # NaN is not
    scaled = b.where(inside, (flat - low) * bins / (high - low), b.zeros((), flat.dtype))
    position = b.astype(b.clip(scaled, 0, bins - 1), int64)  # the maximum in the last bin
    return Tensor._make(b.scatter_add((bins,), (position,), b.astype(inside, x.dtype)), b)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether every element of ``input`` is close to ``other``'s (see ``isclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Any, other: Any) -> bool:
    """Whether the two tensors have the same shape and the same elements."""
    a, b = _t(input), _t(other)
    return a.shape == b.shape and bool((a == b).all())


globals().update(FUNCTIONS)  # the functions registered in ops.py: mg.sin, mg.erf, ...
