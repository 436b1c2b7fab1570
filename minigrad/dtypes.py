"""Dtypes: what minigrad accepts, and the rules that keep float32 float32."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

default_float = float32
SUPPORTED = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)


def as_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from anything NumPy understands, limited to the dtypes minigrad supports.
    Python's ``float`` is float64, as in PyTorch and NumPy (data without a dtype gives
    ``default_float``)."""
    if dtype is float:
        return float64
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in SUPPORTED:
        names = ", ".join(str(d) for d in SUPPORTED)
        raise TypeError(f"unsupported dtype {dtype!r}; minigrad supports {names}")
    return dt


def get_default_dtype() -> np.dtype:
    """The float dtype of tensors made from Python floats and of ``zeros``, ``rand``, ..."""
    return default_float


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (a float dtype) the default, as PyTorch's ``set_default_dtype``:
    new tensors from Python floats, ``zeros``, ``ones``, ``rand``, ``randn`` and
    ``arange`` with float bounds, and Python floats beside integer tensors, take it
    (minigrad reads ``dtypes.default_float`` each time)."""
    global default_float
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, "
                        f"got {dt}")
    default_float = dt
