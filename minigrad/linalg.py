"""``mg.linalg``: PyTorch's ``torch.linalg`` functions that small programs use."""

from __future__ import annotations

import math
from typing import Any

from . import tensor_functions as _tf
from .errors import OpError
from .tensor import Tensor
from .tensor_functions import cross as _cross
from .tensor_functions import det, solve

__all__ = ["cross", "det", "inv", "matrix_norm", "norm", "solve", "vector_norm"]


def inv(A: Any) -> Tensor:
    """The inverse of each square matrix of ``A`` (..., n, n)."""
    return _tf.inverse(A)


def cross(input: Any, other: Any, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the last by default)."""
    return _cross(input, other, dim=dim)


def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """The vector ``ord``-norm of the elements along ``dim`` (all of them by default)."""
    x = _tf._t(x)
    if isinstance(ord, str):
        raise OpError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return _tf.norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The matrix norm of the matrices spanned by ``dim``: 'fro' (Frobenius), 1 and -1
    (the largest and smallest column sum of magnitudes), inf and -inf (of row sums)."""
    A = _tf._t(A)
    if dtype is not None:
        A = A.astype(dtype)
    if A.ndim < 2:
        raise OpError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                      f"dimensions, got {A.ndim}")
    rows, cols = (_tf._dim("matrix_norm", d, A.ndim) for d in dim)
    if rows == cols:
        raise OpError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {cols})")
    if ord == "fro":
        return _tf.norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, "
                                  "which minigrad does not compute")
    if ord not in (1, -1, math.inf, -math.inf):
        raise OpError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, kept = (rows, cols) if ord in (1, -1) else (cols, rows)  # 1: column sums
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(kept, keepdims=True) if ord > 0 else sums.amin(kept, keepdims=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """A vector norm (1-D, or one ``dim``) or a matrix norm (2-D, or two dims); with
    neither ``ord`` nor ``dim``, the 2-norm of all the elements."""
    A = _tf._t(A)
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim not in (1, 2):
            raise OpError(f"linalg.norm: If dim is not specified but ord is, the input "
                          f"must be 1D or 2D. Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if len(dim) == 2:
        return matrix_norm(A, ord, tuple(dim), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise OpError(f"linalg.norm: ord {ord!r} needs a matrix (two dims)")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)

