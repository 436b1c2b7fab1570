"""Making tensors: from data, filled, random, ranges, and the array functions of minigrad."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import get_backend
from .dtypes import as_dtype, default_float, float64, int64
from .tensor import Tensor, _shape_args


def tensor(data: Any, dtype: Any = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a scalar, nested list, array or tensor)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _filled(kind: str, shape: tuple, value: Any, dtype: Any, device: Any,
            requires_grad: bool) -> Tensor:
    backend = get_backend(device)
    dt = default_float if dtype is None else as_dtype(dtype)
    shape = _shape_args(shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"{kind}: negative dimension in shape {shape}")
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
    return Tensor._make(data, backend).requires_grad_(requires_grad)


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
    shape = (shape,) if isinstance(shape, int) else shape
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


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None,
           device: str | None = None, requires_grad: bool = False) -> Tensor:
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        integers = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = int64 if integers else default_float
    dtype = as_dtype(dtype)
    backend = get_backend(device)
    if dtype.kind == "f":  # values from float64 start + i * step, rounded once (PyTorch)
        data = backend.astype(backend.arange(start, stop, step, float64), dtype)
    else:
        data = backend.arange(start, stop, step, dtype)
    return Tensor._make(data, backend).requires_grad_(requires_grad)
