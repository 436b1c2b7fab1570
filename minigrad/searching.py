"""Searching, counting and sets as PyTorch's functions: ``unique``, ``bincount``,
``searchsorted``, ``bucketize``, ``isin``, ``histc``, ``allclose``, ``equal``."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from . import dtypes
from .dtypes import int64, promote_types
from .errors import OpError
from .tensor import Tensor, _dim, _operand
from .tensor_functions import (
    _gather_index,
    _index_tensor,
    _t,
    _unreplayable,
    isclose,
)

__all__ = [
    "allclose", "bincount", "bucketize", "equal", "histc", "isin", "searchsorted", "unique",
]


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
    data = seq._data
    if sorter is not None:
        data = b.getitem(data, _gather_index(_t(sorter), seq.ndim - 1))
    how = "right" if right else "left"
    if seq.ndim <= 1:
        found = b.searchsorted(b.reshape(data, (-1,)), values._data, how)
    else:
        if values.shape[:-1] != seq.shape[:-1]:
            raise OpError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                          "the first N-1 dimensions of boundaries tensor and input value "
                          f"tensor must match, but we got boundaries tensor {list(seq.shape)}"
                          f" and input value tensor {list(values.shape)}")
        rows = [b.searchsorted(data[i], values._data[i], how)
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
    pool = b.reshape(test._data, (-1,))
    if pool.shape[0] == 0:
        found = b.zeros(x.shape, np.dtype(bool))
    else:
        common = promote_types(x.dtype, test.dtype)
        pool = b.astype(pool, common)
        values = b.astype(x._data, common)
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
        flat = b.reshape(x._data, (-1,))
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
    if x.shape[0] and bool(b.to_numpy(b.lt(b.min(x._data), 0))):
        raise OpError("bincount only supports 1-d non-negative integral inputs.")
    size = builtins.max(int(b.to_numpy(b.max(x._data))) + 1 if x.shape[0] else 0, minlength)
    if weights is None:
        values = b.ones(x.shape, int64)
    else:
        w = _operand(x, weights, scalars=False)
        if w.shape != x.shape:
            raise OpError("weights should be 1-d and have the same length as input")
        kind = w.dtype if w.dtype == dtypes.float32 else dtypes.float64
        values = b.astype(w._data, kind)
    return Tensor._make(b.scatter_add((size,), (b.astype(x._data, int64),), values), b)


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
    flat = b.reshape(x._data, (-1,))
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
