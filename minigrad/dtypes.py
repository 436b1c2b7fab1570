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


# PyTorch's promotion, where it differs from NumPy's


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
    from .tensor import Tensor

    groups: dict[str, Any] = {"dims": None, "zero": None, "number": None}
    for value in (tensor, other):
        if isinstance(value, Tensor):
            key, dt = ("dims" if value.ndim else "zero"), value.dtype
        elif isinstance(value, (bool, np.bool_)):
            key, dt = "number", np.dtype(bool)
        elif isinstance(value, (int, np.integer)):
            key, dt = "number", int64
        elif isinstance(value, (float, np.floating)):
            key, dt = "number", default_float
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
    dt = default_float if dtype is None else as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"finfo: {dt} is not a floating point dtype")
    return np.finfo(dt)


def iinfo(dtype: Any) -> np.iinfo:
    """The limits of an integer dtype, NumPy's iinfo."""
    dt = as_dtype(dtype)
    if dt.kind not in "iub":
        raise TypeError(f"iinfo: {dt} is not an integer dtype")
    return np.iinfo(np.uint8 if dt.kind == "b" else dt)
