"""Making tensors: from data, filled, random, ranges, and the array functions of minigrad."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import autograd, dtypes
from . import random as _random
from .backend import get_backend
from .dtypes import as_dtype, float64, int64
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
            requires_grad: bool, generator: Any = None) -> Tensor:
    shape = _size(kind, shape)
    backend = get_backend(device)
    dt = dtypes.default_float if dtype is None else as_dtype(dtype)
    source = backend
    if kind == "zeros":
        data = backend.zeros(shape, dt)
    elif kind == "ones":
        data = backend.ones(shape, dt)
    elif kind in ("randn", "rand"):
        source = _random.draws(generator, backend)
        data = getattr(source, kind)(shape, dt)
    else:
        data = backend.full(shape, value, dt)
    out = Tensor._make(data, backend).requires_grad_(requires_grad)
    if kind in ("randn", "rand") and autograd.tracer is not None:
        autograd.tracer.draw(kind, source, shape, out)  # drawn anew when replayed
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


def randn(*shape: Any, generator: Any = None, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the device's seeded generator (or ``generator``)."""
    return _filled("randn", shape, None, dtype, device, requires_grad, generator)


def rand(*shape: Any, generator: Any = None, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the device's seeded generator (or ``generator``)."""
    return _filled("rand", shape, None, dtype, device, requires_grad, generator)


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
    dtype = (int64 if integers else dtypes.default_float) if dtype is None else as_dtype(dtype)
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
    dt = dtypes.default_float if dtype is None else as_dtype(dtype)
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
    dt = dtypes.default_float if dtype is None else as_dtype(dtype)
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


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: str | None = None, requires_grad: bool = False) -> Tensor:
    """``base`` to the powers of ``linspace(start, end, steps)``."""
    dt = dtypes.default_float if dtype is None else as_dtype(dtype)
    work = dt if dt.kind == "f" else float64
    exponents = linspace(start, end, steps, dtype=work).numpy()
    values = np.power(work.type(base), exponents).astype(dt)
    backend = get_backend(device)
    return Tensor._make(backend.asarray(values), backend).requires_grad_(requires_grad)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: str | None = None) -> Tensor:
    """The (row, column) indices of the lower triangle of a row x col matrix, below
    diagonal ``offset``: a (2, N) tensor, in row-major order."""
    return _triangle_indices(np.tril_indices(row, offset, col), dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: str | None = None) -> Tensor:
    """The (row, column) indices of the upper triangle of a row x col matrix, from
    diagonal ``offset`` up: a (2, N) tensor, in row-major order."""
    return _triangle_indices(np.triu_indices(row, offset, col), dtype, device)


def _triangle_indices(indices: tuple, dtype: Any, device: Any) -> Tensor:
    dt = int64 if dtype is None else as_dtype(dtype)
    backend = get_backend(device)
    data = np.stack(indices).astype(dt).reshape(2, -1)
    return Tensor._make(backend.asarray(data), backend)


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



# sharing arrays, and random integers, permutations and samples


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A ``numpy`` tensor that shares memory with ``ndarray``: a change to one shows in
    the other, as PyTorch's ``from_numpy``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    as_dtype(ndarray.dtype)  # refuses a dtype minigrad does not support
    return Tensor._make(ndarray, get_backend("numpy"))


def as_tensor(data: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """``data`` as a tensor, without a copy where none is needed: a tensor of the asked
    dtype and device comes back as it is, and a NumPy array of a supported dtype bound
    for a device in host memory (``numpy``, ``numba``) is shared."""
    backend = get_backend(device) if device is not None else None
    dt = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        if (dt is None or data.dtype == dt) and (backend is None or data.backend is backend):
            return data
        out = data if backend is None else data.to(backend)
        return out if dt is None or out.dtype == dt else out.astype(dt)
    if isinstance(data, np.ndarray) and data.dtype != object:
        target = backend or get_backend(None)
        if target.host_memory and (dt is None or data.dtype == dt) \
                and target.name in ("numpy", "numba"):
            as_dtype(data.dtype)
            return Tensor._make(data, target)
    return tensor(data, dtype=dtype, device=device)


def _draws_on_host(name: str) -> None:
    """Random numbers drawn outside the ops that ``mg.compile`` records: a step that draws
    them runs eagerly."""
    if autograd.tracer is not None:
        autograd.tracer.fail(f"{name}, which draws random numbers")


def randint(low: Any = 0, high: Any = None, size: Any = None, *, generator: Any = None,
            dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` starts at 0),
    int64 unless ``dtype`` says otherwise."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    low, high = int(low), int(high)
    if low >= high:
        raise OpError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                      f"to={high}")
    shape = _size("randint", tuple(size) if isinstance(size, (tuple, list)) else (size,))
    backend = get_backend(device)
    _draws_on_host("randint")
    data = _random.draws(generator, backend).randint(low, high, shape)
    dt = int64 if dtype is None else as_dtype(dtype)
    return Tensor._make(backend.astype(data, dt), backend).requires_grad_(requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None,
             device: str | None = None, requires_grad: bool = False) -> Tensor:
    """The integers 0 .. n-1 in random order (int64 unless ``dtype`` says otherwise)."""
    if _integer(n) is None or n < 0:
        raise OpError(f"randperm: n must be a non-negative int, got {n!r}")
    backend = get_backend(device)
    _draws_on_host("randperm")
    dt = int64 if dtype is None else as_dtype(dtype)
    data = backend.astype(_random.draws(generator, backend).permutation(int(n)), dt)
    return Tensor._make(data, backend).requires_grad_(requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) of ``input``'s shape (and dtype and device, unless given)."""
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``input``'s shape (and dtype and device, unless given)."""
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *, dtype: Any = None,
                 device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Integers from [low, high) (``randint_like(input, high)`` starts at 0) of
    ``input``'s shape, in its dtype unless ``dtype`` is given."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0, in ``input``'s dtype; no gradient."""
    probs = input.detach() if p is None else full(input.shape, p, dtype=input.dtype,
                                                  device=input.device)
    if probs.dtype.kind != "f":
        raise OpError(f"bernoulli: expected a floating point tensor of probabilities, got "
                      f"{probs.dtype}")
    if probs.numel() and not bool(((probs >= 0) & (probs <= 1)).all()):
        raise OpError("bernoulli: expected all probabilities in [0, 1]")
    draws = rand(probs.shape, generator=generator, dtype=probs.dtype, device=probs.device)
    return (draws < probs).astype(input.dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """``num_samples`` category indices per row of ``input`` (1-D or 2-D weights, not
    necessarily summing to 1), drawn with or without replacement; int64."""
    if input.ndim not in (1, 2):
        raise OpError(f"prob_dist must be 1 or 2 dim, got {input.ndim}")
    if input.dtype.kind != "f":
        raise OpError(f"multinomial only supports floating-point dtypes for input, got "
                      f"{input.dtype}")
    n = input.shape[-1]
    if num_samples <= 0:
        raise OpError(f"cannot sample n_sample <= 0 samples, got {num_samples}")
    if not replacement and num_samples > n:
        raise OpError("cannot sample n_sample > prob_dist.size(-1) samples without "
                      "replacement")
    weights = input.detach().numpy().astype(np.float64).reshape(-1, n)
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise OpError("probability tensor contains either `inf`, `nan` or element < 0")
    if (weights.sum(1) <= 0).any():
        raise OpError("invalid multinomial distribution (sum of probabilities <= 0)")
    _draws_on_host("multinomial")
    rows = weights.shape[0]
    source = _random.draws(generator, input.backend)
    uniform = input.backend.to_numpy(source.rand((rows, num_samples if replacement else n),
                                                 float64))
    if replacement:  # the inverse of each row's distribution function
        cdf = np.cumsum(weights / weights.sum(1, keepdims=True), 1)
        picks = np.stack([np.searchsorted(c, u, side="right") for c, u in zip(cdf, uniform)])
        picks = np.minimum(picks, n - 1)
    else:  # the first arrivals of exponential clocks whose rates are the weights
        with np.errstate(divide="ignore"):
            arrival = -np.log1p(-uniform) / weights
        picks = np.argsort(arrival, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64).reshape(input.shape[:-1] + (num_samples,))
    return Tensor._make(input.backend.asarray(picks), input.backend)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples of mean ``mean`` and standard deviation ``std`` (tensors broadcast
    together, or numbers with a ``size``); no gradient reaches ``mean`` or ``std``."""
    ref = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    if ref is None:
        if size is None:
            raise TypeError("normal() with a number mean and std needs a size")
        shape = tuple(size) if isinstance(size, (tuple, list)) else (size,)
        if std < 0:
            raise OpError(f"normal expects std >= 0.0, but found std {std}")
        out = randn(shape, generator=generator, dtype=dtype, device=device) * std + mean
        return out.requires_grad_(requires_grad)
    m = mean.detach() if isinstance(mean, Tensor) else mean
    s = std.detach() if isinstance(std, Tensor) else std
    if isinstance(s, Tensor):
        if s.numel() and bool((s < 0).any()):
            raise OpError("normal expects all elements of std >= 0.0")
    elif s < 0:
        raise OpError(f"normal expects std >= 0.0, but found std {s}")
    shape = tuple(np.broadcast_shapes(*(t.shape for t in (m, s) if isinstance(t, Tensor))))
    kind = ref.dtype if ref.dtype.kind == "f" else dtypes.default_float
    return randn(shape, generator=generator, dtype=kind, device=ref.device) * s + m
