"""Numba kernels of the ``numba`` backend.

``njit`` without a signature compiles on the first call, so importing this module costs
little and each kernel is compiled when first used (``cache=True``: a second process
loads it from disk). Every kernel comes twice: serial, and parallel over ``prange`` for
arrays large enough to pay for waking the worker threads (``PARALLEL_MIN`` elements).
Loops write each element once and never accumulate into shared state, so both give the
same result. ``error_model="numpy"`` lets the loops vectorise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

PARALLEL_MIN = 1 << 17
_options = {"cache": True, "error_model": "numpy"}


@njit(inline="always")
def _sigmoid(v):
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    e = math.exp(v)
    return e / (1 + e)


@njit(**_options)
def sigmoid_serial(x, out):
    for i in range(x.size):
        out[i] = _sigmoid(x[i])


@njit(parallel=True, **_options)
def sigmoid_parallel(x, out):
    for i in prange(x.size):
        out[i] = _sigmoid(x[i])


class Kernels:
    """Runs kernels on flat arrays, choosing the serial or parallel build by size, and
    keeps the time spent in first calls (compiling, or loading from the cache)."""

    def __init__(self) -> None:
        self.compile_seconds = 0.0

    def call(self, name: str, size: int, *args: Any) -> Any:
        kernel = globals()[f"{name}_{'parallel' if size >= PARALLEL_MIN else 'serial'}"]
        return self._timed(kernel, *args)

    def _timed(self, kernel: Callable, *args: Any) -> Any:
        known = len(kernel.signatures)
        start = time.perf_counter()
        result = kernel(*args)
        if len(kernel.signatures) != known:
            self.compile_seconds += time.perf_counter() - start
        return result

    def elementwise(self, name: str, x: np.ndarray) -> np.ndarray:
        """A new array shaped like ``x`` from a one-input elementwise kernel."""
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty_like(flat)
        self.call(name, flat.size, flat, out)
        return out.reshape(x.shape)
