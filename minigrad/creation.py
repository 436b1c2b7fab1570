"""Making tensors: from data, filled, random, ranges, and the array functions of minigrad."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import autograd
from .backend import get_backend
from .dtypes import as_dtype, default_float, float64, int64
from .errors import OpError, RangeOverflowError
from .tensor import Tensor


def tensor(data: Any, dtype: Any = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a scalar, nested list, array or tensor)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _integer(n: Any) -> int | None:
    """``n`` as an int where PyTorch takes it as a size (an int, an integer NumPy scalar, a
    0-d integer tensor), else None: bools and floats are refused, not truncated."""
    if isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu":
        return int(n.item())
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        return None
    return int(n)


def _size(name: str, shape: tuple) -> tuple[int, ...]:
    """The shape given as ints or as one tuple or list, checked as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    dims = tuple(_integer(n) for n in shape)
    if None in dims:
        i = dims.index(None)
        raise TypeError(
            f"{name}(): argument 'size' must be a tuple of ints, but found element of type "
            f"{type(shape[i]).__name__} at pos {i}"
        )
    for n in dims:
        if n < 0:
            raise OpError(
                f"Trying to create tensor with negative dimension {n}: {list(dims)}")
    return dims


def _filled(kind: str, shape: tuple, value: Any, dtype: Any, device: Any,
            requires_grad: bool) -> Tensor:
    shape = _size(kind, shape)
    backend = get_backend(device)
    dt = default_float if dtype is None else as_dtype(dtype)
    if kind == "zeros":
        data = backend.zeros(shape, dt)
    elif kind == "ones":
        data = backend.ones(shape, dt)
    elif kind == "randn":
        data = backend.randn(shape, dt)
    elif kind == "rand":
        data = backend.rand(shape, dt)
    else:
        data = backend.full(shape, value, dt)
    out = Tensor._make(data, backend).requires_grad_(requires_grad)
    if kind in ("randn", "rand") and autograd.tracer is not None:
        autograd.tracer.draw(kind, backend, shape, out)  # drawn anew when replayed
    return out


def zeros(*shape: Any, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    return _filled("zeros", shape, 0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    return _filled("ones", shape, 1, dtype, device, requires_grad)


def full(shape: Any, value: Any, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(value, bool):
        dtype = bool
    elif dtype is None and isinstance(value, int):
        dtype = int64
    shape = shape if isinstance(shape, (tuple, list)) else (shape,)
    return _filled("full", shape, value, dtype, device, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the device's seeded generator."""
    return _filled("randn", shape, None, dtype, device, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the device's seeded generator."""
    return _filled("rand", shape, None, dtype, device, requires_grad)


def _bound(value: Any, name: str) -> int | float:
    """An arange argument as a Python int or float (0-d tensors and NumPy scalars too)."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    raise TypeError(f"arange(): argument '{name}' must be a number, not {type(value).__name__}")


def _checked_range(start: int | float, stop: int | float, step: int | float,
                   dtype: np.dtype) -> tuple[int | float, int | float, int | float]:
    """The bounds as the range is computed (truncated to ints for an integer dtype, as
    PyTorch does), after PyTorch's checks and one that every value fits ``dtype``."""
    if step == 0:
        raise OpError("step must be nonzero")
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise OpError(f"unsupported range: {start} -> {stop} (step {step})")
    if dtype.kind != "f":
        start, stop, step = math.trunc(start), math.trunc(stop), math.trunc(step)
        wide = np.iinfo(np.int64)
        if not all(wide.min <= v <= wide.max for v in (start, stop, step)):
            raise RangeOverflowError(
                f"arange({start}, {stop}, {step}): a bound cannot be converted to int64 "
                "without overflow")
        if step == 0:
            raise OpError("step must be nonzero (after truncation to an integer)")
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        raise OpError(
            f"upper bound and lower bound inconsistent with step sign: {start} -> {stop} "
            f"(step {step})")
    if dtype.kind == "f":
        count = math.ceil((stop - start) / step)
    else:
        count = -((start - stop) // step)  # ceil((stop - start) / step), exactly
    if count > 0:
        last = start + (count - 1) * step
        if dtype.kind == "f":
            with np.errstate(over="ignore"):
                fits = np.isfinite(np.array([start, last], np.float64).astype(dtype)).all()
        else:
            info = np.iinfo(dtype)
            fits = info.min <= min(start, last) and max(start, last) <= info.max
        if not fits:
            raise RangeOverflowError(
                f"arange({start}, {stop}, {step}) has {count} values from {start} to {last}, "
                f"which {dtype} cannot hold")
    return start, stop, step


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None,
           device: str | None = None, requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to ``stop`` (excluded), as PyTorch: int64 from ints,
    else the default float; for a float dtype the values are computed in float64 and
    rounded once, for an integer dtype from the bounds truncated to ints. A zero step,
    bounds against the step's sign, infinite bounds, and values the dtype cannot hold
    raise (RuntimeError) before anything is allocated."""
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_bound(v, name) for v, name in
                         ((start, "start"), (stop, "end"), (step, "step")))
    integers = all(isinstance(v, int) for v in (start, stop, step))
    dtype = (int64 if integers else default_float) if dtype is None else as_dtype(dtype)
    if dtype.kind == "b":
        raise NotImplementedError("arange is not implemented for bool")
    start, stop, step = _checked_range(start, stop, step, dtype)
    backend = get_backend(device)
    if dtype.kind == "f":  # values from float64 start + i * step, rounded once (PyTorch)
        data = backend.astype(backend.arange(start, stop, step, float64), dtype)
    else:
        data = backend.arange(start, stop, step, dtype)
    return Tensor._make(data, backend).requires_grad_(requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: str | None = None,
        requires_grad: bool = False) -> Tensor:
    """An (n, m) matrix with ones on the diagonal (m defaults to n)."""
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ValueError(f"eye: n and m must be non-negative, got {n} and {m}")
    backend = get_backend(device)
    dt = default_float if dtype is None else as_dtype(dtype)
    rows = backend.reshape(backend.arange(0, n, 1, int64), (n, 1))
    diagonal = backend.eq(rows, backend.arange(0, m, 1, int64))
    return Tensor._make(backend.astype(diagonal, dt), backend).requires_grad_(requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None,
             device: str | None = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included), computed
    as PyTorch does: from ``start`` for the first half, back from ``end`` for the rest."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    backend = get_backend(device)
    dt = default_float if dtype is None else as_dtype(dtype)
    work = dt if dt.kind == "f" else float64
    if dt.kind != "f":  # integer ends, as PyTorch casts them
        start, end = int(start), int(end)
    if steps == 1:
        return full((1,), start, dtype=dt, device=backend, requires_grad=requires_grad)
    i = np.arange(steps, dtype=work)
    step = (work.type(end) - work.type(start)) / work.type(max(steps - 1, 1))
    halfway = steps // 2
    values = np.where(i < halfway, work.type(start) + step * i,
                      work.type(end) - step * (steps - 1 - i))
    data = backend.asarray(values.astype(dt))
    return Tensor._make(data, backend).requires_grad_(requires_grad)


def full_like(t: Tensor, value: Any, *, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    """A tensor of ``t``'s shape (and dtype and device, unless given) filled with ``value``."""
    return full(t.shape, value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def empty(*shape: Any, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` whose values are not to be relied on (here, zeros)."""
    return _filled("zeros", shape, 0, dtype, device, requires_grad)


def empty_like(t: Tensor, *, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    return empty(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)

