"""The reference backend: host arrays and NumPy's functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.backend import Backend
from minigrad.host_memory import tune_malloc


class NumPyBackend(Backend):
    """Arrays are ``numpy.ndarray``; every function is NumPy's own."""

    name = "numpy"

    def __init__(self) -> None:
        self.rng = np.random.default_rng()
        tune_malloc()  # keep freed arrays for the next step (see minigrad.host_memory)

    def describe(self) -> str:
        return f"NumPy {np.__version__}, host memory"

    # creation and transfer
    def asarray(self, data: Any, dtype: np.dtype | None = None) -> np.ndarray:
        return np.array(data, dtype=dtype)

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        return x if type(x) is np.ndarray else np.asarray(x)  # reductions give NumPy scalars

    def from_backend(self, x: Any, source: Backend) -> np.ndarray:
        return source.to_numpy(x)

    zeros = staticmethod(np.zeros)
    ones = staticmethod(np.ones)
    full = staticmethod(np.full)

    def arange(self, start: Any, stop: Any, step: Any, dtype: np.dtype) -> np.ndarray:
        return np.arange(start, stop, step, dtype=dtype)

    def astype(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)

    def copy(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    # random numbers
    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def randn(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.rng.standard_normal(shape, dtype=dtype)

    def rand(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.rng.random(shape, dtype=dtype)

    def permutation(self, n: int) -> np.ndarray:
        return self.rng.permutation(n)

    # elementwise
    add = staticmethod(np.add)
    sub = staticmethod(np.subtract)
    mul = staticmethod(np.multiply)
    div = staticmethod(np.true_divide)
    pow = staticmethod(np.power)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    neg = staticmethod(np.negative)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    tanh = staticmethod(np.tanh)
    sign = staticmethod(np.sign)
    lt = staticmethod(np.less)
    le = staticmethod(np.less_equal)
    gt = staticmethod(np.greater)
    ge = staticmethod(np.greater_equal)
    eq = staticmethod(np.equal)
    ne = staticmethod(np.not_equal)
    where = staticmethod(np.where)
    clip = staticmethod(np.clip)

    # reductions
    def sum(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        return np.sum(x, axis=axis, keepdims=keepdims)

    def max(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        return np.max(x, axis=axis, keepdims=keepdims)

    def min(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        return np.min(x, axis=axis, keepdims=keepdims)

    def argmax(self, x: np.ndarray, axis: int | None = None, keepdims: bool = False):
        return np.argmax(x, axis=axis, keepdims=keepdims)

    def argmin(self, x: np.ndarray, axis: int | None = None, keepdims: bool = False):
        return np.argmin(x, axis=axis, keepdims=keepdims)

    # movement and indexing
    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    broadcast_to = staticmethod(np.broadcast_to)
    concatenate = staticmethod(np.concatenate)
    stack = staticmethod(np.stack)

    def getitem(self, x: np.ndarray, index: Any) -> np.ndarray:
        out = x[index]
        if type(out) is not np.ndarray:  # a full integer index: a 0-d view, not a scalar
            out = x[(*index, Ellipsis) if isinstance(index, tuple) else (index, Ellipsis)]
        return out

    def owns_memory(self, x: Any) -> bool:
        return type(x) is np.ndarray and x.base is None and x.flags.writeable

    def writable(self, x: Any) -> np.ndarray:
        # ufuncs on 0-d arrays give NumPy scalars, which cannot be written
        return np.array(x) if isinstance(x, np.generic) else x

    def setitem(self, x: np.ndarray, index: Any, value: Any) -> None:
        x[index] = value

    def scatter_add(self, shape: tuple[int, ...], index: Any, values: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, index, values)
        return out

    # linear algebra
    matmul = staticmethod(np.matmul)

    def relu_backward(self, out: np.ndarray, grad: np.ndarray) -> np.ndarray:
        # np.where branches on every element (6x slower than a product on random signs):
        # multiply by the mask, then zero what NaN or inf gradients times 0 made NaN
        keep = out <= 0
        np.logical_not(keep, out=keep)
        with np.errstate(invalid="ignore"):
            grad_in = grad * keep
        if np.isnan(np.add.reduce(grad_in, axis=None)):  # any NaN makes the sum NaN
            grad_in = np.where(keep, grad_in, grad_in.dtype.type(0))
        return grad_in

    # windows (convolution and pooling)
    def sliding_windows(self, x: np.ndarray, kernel_size: tuple[int, ...],
                        stride: tuple[int, ...], dilation: tuple[int, ...]) -> np.ndarray:
        # a read-only strided view: no copy until a matmul or reduction reads it
        k = len(kernel_size)
        span = tuple(d * (kk - 1) + 1 for kk, d in zip(kernel_size, dilation))
        view = np.lib.stride_tricks.sliding_window_view(
            x, span, axis=tuple(range(x.ndim - k, x.ndim)))
        return view[(Ellipsis, *(slice(None, None, s) for s in stride),
                     *(slice(None, None, d) for d in dilation))]

    def fold_windows(self, windows: np.ndarray, shape: tuple[int, ...],
                     stride: tuple[int, ...], dilation: tuple[int, ...]) -> np.ndarray:
        # one strided add per kernel offset: prod(kernel) vectorised adds
        k = len(stride)
        out = np.zeros(shape, dtype=windows.dtype)
        out_size = windows.shape[-2 * k:-k]
        for offset in np.ndindex(*windows.shape[-k:]):
            target = tuple(slice(j * d, j * d + s * (n - 1) + 1, s)
                           for j, d, s, n in zip(offset, dilation, stride, out_size))
            out[(Ellipsis, *target)] += windows[(Ellipsis, *offset)]
        return out

    def window_max(self, windows: np.ndarray, axes: int) -> tuple[np.ndarray, np.ndarray]:
        # one elementwise pass per kernel offset: far faster than reducing short rows
        offsets = list(np.ndindex(*windows.shape[-axes:]))
        best = windows[(Ellipsis, *offsets[0])].copy()
        index = np.zeros(best.shape, np.int8 if len(offsets) <= 127 else np.int64)
        for j, offset in enumerate(offsets[1:], 1):
            candidate = windows[(Ellipsis, *offset)]
            wins = candidate > best
            wins |= candidate != candidate  # a NaN wins (and stays: NaN > x is False)
            np.maximum(best, candidate, out=best)
            np.copyto(index, j, where=wins)
        return best, index
