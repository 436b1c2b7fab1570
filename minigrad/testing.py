"""``mg.testing.assert_close``: PyTorch's check that two results agree, for tests."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["assert_close"]

# PyTorch's default tolerances per dtype: (rtol, atol); exact for the others
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close, as
    ``torch.testing.assert_close``: tensors (or NumPy arrays, or numbers) of the same
    shape, dtype and device whose elements satisfy |a - e| <= atol + rtol |e|, with
    PyTorch's default tolerances per dtype (exact for integers); sequences and mappings
    compared item by item. NaNs are equal only with ``equal_nan``; infinities must match.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    _compare(actual, expected, (), dict(
        allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
        check_device=check_device, check_dtype=check_dtype, msg=msg))


def _compare(actual: Any, expected: Any, path: tuple, options: dict) -> None:
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                  f"{sorted(map(str, expected))}", path, options)
        for key in actual:
            _compare(actual[key], expected[key], (*path, key), options)
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                  path, options)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, (*path, i), options)
        return
    kinds = (_kind(actual), _kind(expected))
    if None in kinds or (kinds[0] != kinds[1] and not (
            options["allow_subclasses"] and set(kinds) <= {"number"})):
        raise TypeError(f"No comparison pair was able to handle inputs of type "
                        f"{type(actual)} and {type(expected)}.")
    _compare_values(actual, expected, kinds[0], path, options)


def _is_sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _kind(x: Any) -> str | None:
    if isinstance(x, Tensor):
        return "tensor"
    if isinstance(x, np.ndarray):
        return "array"
    if isinstance(x, (bool, int, float, complex, np.number, np.bool_)):
        return "number"
    return None


def _compare_values(actual: Any, expected: Any, kind: str, path: tuple,
                    options: dict) -> None:
    if kind == "tensor":
        if options["check_device"] and actual.device != expected.device:
            _fail(f"The values for attribute 'device' do not match: {actual.device} != "
                  f"{expected.device}.", path, options)
        a, e = actual.numpy(), expected.numpy()
    else:
        a, e = np.asarray(actual), np.asarray(expected)
        if kind == "number" and options["check_dtype"] and type(actual) is not type(expected):
            _fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.", path,
                  options)
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.",
              path, options)
    if options["check_dtype"] and a.dtype != e.dtype and kind != "number":
        _fail(f"The values for attribute 'dtype' do not match: {_dtype(a.dtype, kind)} != "
              f"{_dtype(e.dtype, kind)}.", path, options)
    rtol, atol = options["rtol"], options["atol"]
    if rtol is None:
        rtol, atol = max((_TOLERANCES.get(d, (0.0, 0.0)) for d in (a.dtype, e.dtype)),
                         key=lambda t: t[0])
    _compare_elements(a, e, rtol, atol, kind, path, options)


def _compare_elements(a: np.ndarray, e: np.ndarray, rtol: float, atol: float, kind: str,
                      path: tuple, options: dict) -> None:
    dtype = np.result_type(a.dtype, e.dtype)
    equal = a == e  # exact, for integers too large for a float64
    wide = np.promote_types(dtype, np.float64) if dtype.kind in "fc" else np.float64
    a, e = a.astype(wide), e.astype(wide)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=options["equal_nan"])
        close |= equal  # infinities of the same sign
    if close.all():
        return
    total = close.size
    wrong = ~close
    exact = rtol == 0 and atol == 0 and dtype.kind in "biu"
    what = "Scalars" if kind == "number" else "Tensor-likes"
    what += " are not equal!" if exact else " are not close!"
    allowed_abs = "" if exact else f" (up to {atol} allowed)"
    allowed_rel = "" if exact else f" (up to {rtol} allowed)"
    if kind == "number":
        message = (f"{what}\n\nExpected {e.item()} but got {a.item()}.\n"
                   f"Absolute difference: {_diff(a, e).item()}{allowed_abs}\n"
                   f"Relative difference: {_rel(a, e).item()}{allowed_rel}")
    else:
        absolute = np.where(wrong, _diff(a, e), -np.inf)
        relative = np.where(wrong, _rel(a, e), -np.inf)
        at_abs = np.unravel_index(int(np.nanargmax(_nan_high(absolute))), a.shape)
        at_rel = np.unravel_index(int(np.nanargmax(_nan_high(relative))), a.shape)
        count = int(wrong.sum())
        greatest_abs = absolute[at_abs].astype(np.int64) if exact else absolute[at_abs]
        message = (f"{what}\n\n"
                   f"Mismatched elements: {count} / {total} ({100 * count / total:.1f}%)\n"
                   f"Greatest absolute difference: {greatest_abs} at index "
                   f"{tuple(map(int, at_abs))}{allowed_abs}\n"
                   f"Greatest relative difference: {relative[at_rel]} at index "
                   f"{tuple(map(int, at_rel))}{allowed_rel}")
    _fail(message, path, options)


def _diff(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(a - e)


def _rel(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _diff(a, e) / np.abs(e)


def _nan_high(x: np.ndarray) -> np.ndarray:
    """NaN differences (a NaN against a number) count as the greatest."""
    return np.where(np.isnan(x), math.inf, x)


def _dtype(dtype: np.dtype, kind: str) -> str:
    return f"minigrad.{dtype.name}" if kind == "tensor" else str(dtype)


def _fail(message: str, path: tuple, options: dict) -> None:
    if path:
        message += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    msg = options["msg"]
    raise AssertionError(msg if isinstance(msg, str) else message if msg is None
                         else msg(message))
