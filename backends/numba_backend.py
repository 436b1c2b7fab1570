"""The Numba backend: host NumPy arrays, with fused JIT-compiled kernels on the hot paths.

Arrays are plain ``numpy.ndarray``, so moving a tensor between ``numpy`` and ``numba``
costs no copy. Everything NumPy already does well (small elementwise ops, matmul on
BLAS) is inherited from the NumPy backend; the kernels in ``numba_kernels`` replace the
operations that NumPy does in several passes. Each kernel is compiled on first use
(``cache=True``, so a second process starts warm), and the time spent compiling is kept
in ``compile_seconds``.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from .numpy_backend import NumPyBackend


class NumbaBackend(NumPyBackend):
    """NumPy arrays and functions, with Numba kernels where one pass beats several."""

    name = "numba"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("numba") is None:
            return "numba is not installed"
        return None

    def __init__(self) -> None:
        super().__init__()
        from . import numba_kernels

        self.kernels = numba_kernels.Kernels()

    def describe(self) -> str:
        import numba

        return (f"Numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), "
                f"host memory shared with numpy")

    @property
    def compile_seconds(self) -> float:
        """Seconds spent so far compiling (or loading from the cache) this backend's kernels."""
        return self.kernels.compile_seconds

    def from_backend(self, x: Any, source: Any) -> np.ndarray:
        if isinstance(source, NumPyBackend):
            return x  # the same host memory
        return source.to_numpy(x)

    def sigmoid(self, x: np.ndarray) -> np.ndarray:
        return self.kernels.elementwise("sigmoid", x)
