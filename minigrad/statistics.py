"""Reductions and statistics as PyTorch's functions: ``prod``, ``median``, ``mode``,
``quantile``, ``nansum``, ``nanmean``, ``count_nonzero``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import ops
from .creation import full
from .dtypes import int64
from .errors import OpError
from .return_types import ValuesIndices
from .tensor import Tensor, _dim
from .tensor_functions import _gather_index, _index_tensor, _t, cumprod, sort, stack, where

__all__ = [
    "count_nonzero", "median", "mode", "nanmean", "nansum", "prod", "quantile",
]


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
    counted = (values._data == values._data).sum(axis=d, keepdims=True)  # the values not NaN
    k = b.where(counted < n, counted, b.full((), (n - 1) // 2, int64))
    k = b.astype(k, int64)
    value = _pick(values, k, d)
    if dim is None:
        return value.reshape(())
    index = _index_tensor(x, b.getitem(order._data, _gather_index(Tensor._make(k, b), d)))
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
    data = b.reshape(flat._data, flat.shape[:d + 1] + (1,) + flat.shape[d + 1:])
    others = b.reshape(flat._data, flat.shape[:d] + (1,) + flat.shape[d:])
    counts = b.sum(b.eq(data, others), axis=d + 1)  # how often each element's value occurs
    most = b.eq(counts, b.max(counts, axis=d, keepdims=True))
    top = b.max(flat._data, axis=d, keepdims=True)
    value = b.min(b.where(most, flat._data, top), axis=d, keepdims=True)
    position = b.reshape(b.arange(0, n, 1, int64), tuple(-1 if k == d else 1
                                                          for k in range(flat.ndim)))
    last = b.max(b.where(b.eq(flat._data, value), position, b.full((), -1, int64)), axis=d,
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
    has_nan = b.astype((values._data != values._data).sum(axis=d, keepdims=True) > 0, bool)
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
