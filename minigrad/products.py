"""Products of vectors and matrices, as PyTorch's functions: ``dot``, ``mm``, ``bmm``,
``outer``, ``addmm``, ``tensordot``, ``kron``, ``diag``, ``trace``, ``cross``, ``cdist``, ..."""

from __future__ import annotations

import builtins
import math
import string
import warnings
from typing import Any

import numpy as np

from . import ops
from .dtypes import int64
from .errors import OpError
from .tensor import Tensor, _dim, _operand
from .tensor_functions import _t, einsum, norm, stack

__all__ = [
    "addmm", "baddbmm", "bmm", "cdist", "cross", "det", "diag", "diagonal", "dot", "ger",
    "inverse", "kron", "logdet", "mm", "outer", "solve", "tensordot", "trace",
]


def _ndims(name: str, expected: int, *tensors: Tensor) -> None:
    if builtins.any(t.ndim != expected for t in tensors):
        shapes = " and ".join(f"{t.ndim}D" for t in tensors)
        raise OpError(f"{name}: {expected}D tensors expected, but got {shapes} tensors")


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise OpError(f"{name}: expected both tensors to have the same dtype, but got "
                      f"{a.dtype} and {b.dtype}")


def dot(input: Any, other: Any) -> Tensor:
    """The inner product of two 1-D tensors of one length and dtype."""
    a, b = _t(input), _t(other)
    _ndims("dot", 1, a, b)
    _same_dtype("dot", a, b)
    if a.shape != b.shape:
        raise OpError(f"dot: inconsistent tensor size, expected tensors of the same "
                      f"length, got {a.shape[0]} and {b.shape[0]}")
    return a @ b


def mm(input: Any, mat2: Any) -> Tensor:
    return _t(input).mm(mat2)


def bmm(input: Any, mat2: Any) -> Tensor:
    """Batched matrix products of (b, n, m) and (b, m, p) tensors."""
    a, b = _t(input), _t(mat2)
    _ndims("bmm", 3, a, b)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise OpError(f"bmm: expected shapes (b, n, m) and (b, m, p), got {a.shape} and "
                      f"{b.shape}")
    return a @ b


def outer(input: Any, vec2: Any) -> Tensor:
    """``input[i] * vec2[j]`` for 1-D tensors."""
    a, b = _t(input), _t(vec2)
    _ndims("outer", 1, a, b)
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def _scaled_sum(name: str, input: Any, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta * input + alpha * product``; with beta 0, input is not read (NaN stays out)."""
    scaled = product if alpha == 1 else product * alpha
    x = _operand(product, input)
    try:
        shape = np.broadcast_shapes(getattr(x, "shape", ()), product.shape)
    except ValueError:
        shape = None
    if shape != product.shape:
        raise OpError(f"{name}: the input of shape {x.shape} does not broadcast to the "
                      f"product's shape {product.shape}")
    if beta == 0:
        return scaled
    return (x if beta == 1 else x * beta) + scaled


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """The sum of products over the last ``dims`` dims of ``a`` and the first of ``b``, or
    over the dims listed as ``([dims of a], [dims of b])``."""
    a, b = _t(a), _t(b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise OpError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise OpError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([int(d)] if isinstance(d, (int, np.integer)) else list(d)
                          for d in dims)
    if len(dims_a) != len(dims_b):
        raise OpError(f"tensordot: both dim lists should have the same length, got "
                      f"{dims_a} and {dims_b}")
    dims_a = [_dim("tensordot", d, a.ndim) for d in dims_a]
    dims_b = [_dim("tensordot", d, b.ndim) for d in dims_b]
    for i, j in zip(dims_a, dims_b):
        if a.shape[i] != b.shape[j]:
            raise OpError(f"tensordot: contracted dimensions need to match, but first has "
                          f"size {a.shape[i]} in dim {i} and second has size {b.shape[j]} "
                          f"in dim {j}")
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(dims_a, dims_b):
        sub_b[j] = sub_a[i]
    kept = ([c for k, c in enumerate(sub_a) if k not in dims_a]
            + [c for k, c in enumerate(sub_b) if k not in dims_b])
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(kept)}", a, b)


def kron(input: Any, other: Any) -> Tensor:
    """The Kronecker product: every element of ``input`` times the whole of ``other``."""
    a, b = _t(input), _t(other)
    n = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a.shape
    sb = (1,) * (n - b.ndim) + b.shape
    spread_a = a.reshape(tuple(k for s in sa for k in (s, 1)))
    spread_b = b.reshape(tuple(k for s in sb for k in (1, s)))
    return (spread_a * spread_b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def diag(input: Any, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as the ``diagonal``-th diagonal of a square matrix, or a matrix's
    ``diagonal``-th diagonal as a 1-D tensor."""
    x = _t(input)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    if x.ndim != 1:
        raise OpError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    k = int(diagonal)
    n = x.shape[0] + builtins.abs(k)
    b = x.backend
    steps = b.arange(0, x.shape[0], 1, int64)
    rows, cols = (steps, steps + k) if k >= 0 else (steps - k, steps)
    return ops.ScatterAdd.apply(x, shape=(n, n), index=(rows, cols))


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The elements ``[i, i + offset]`` of the matrices spanned by ``dim1`` and ``dim2``,
    as a last dim (the other dims kept in order)."""
    x = _t(input)
    d1, d2 = _dim("diagonal", dim1, x.ndim), _dim("diagonal", dim2, x.ndim)
    if d1 == d2:
        raise OpError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(x.ndim) if d not in (d1, d2)]
    moved = x.permute(*rest, d1, d2)
    rows, cols = moved.shape[-2:]
    k = int(offset)
    length = builtins.max(0, builtins.min(rows + builtins.min(k, 0), cols - builtins.max(k, 0)))
    b = x.backend
    steps = b.arange(0, length, 1, int64)
    at = (steps - builtins.min(k, 0), steps + builtins.max(k, 0))
    return ops.Index.apply(moved, index=(slice(None),) * len(rest) + at)


_diagonal_of = diagonal  # diag's argument is called diagonal too


def trace(input: Any) -> Tensor:
    """The sum of a matrix's diagonal."""
    x = _t(input)
    if x.ndim != 2:
        raise OpError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return diagonal(x).sum()


def cross(input: Any, other: Any, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (by default the first dim of size 3,
    as ``torch.cross``); the two tensors broadcast."""
    a = _t(input)
    b = _operand(a, other, scalars=False)
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    if dim is None:
        warnings.warn("cross: the dim is taken as the first of size 3; pass dim (as "
                      "linalg.cross's default of -1) to say which", UserWarning, stacklevel=2)
        dim = next((k for k, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise OpError(f"no dimension of size 3 in input of shape {shape}")
    d = _dim("cross", dim, len(shape))
    if shape[d] != 3:
        raise OpError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                      f"{shape[d]} and {shape[d]}")
    lead = (slice(None),) * d

    def part(t: Tensor, k: int) -> Tensor:
        return t[lead + (k,)]

    x1, x2, x3 = (part(a, k) for k in range(3))
    y1, y2, y3 = (part(b, k) for k in range(3))
    return stack([x2 * y3 - x3 * y2, x3 * y1 - x1 * y3, x1 * y2 - x2 * y1], dim=d)


def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2``
    (..., R, M): (..., P, R). At a zero distance the gradient is 0, as PyTorch's."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise OpError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise OpError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                      f"X2: {b.shape[-1]}")
    if p < 0:
        raise OpError(f"cdist only supports non-negative p values, got {p}")
    return norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, dim=-1)


def inverse(input: Any) -> Tensor:
    """The inverse of each square matrix of ``input`` (..., n, n)."""
    return ops.Inverse.apply(_t(input))


def det(input: Any) -> Tensor:
    """The determinant of each square matrix of ``input`` (..., n, n)."""
    return ops.Det.apply(_t(input))


def logdet(input: Any) -> Tensor:
    """log(det(input)): -inf for a zero determinant; NaN, with a gradient of 0, for a
    negative one (as PyTorch's)."""
    d = det(input)
    negative = d._data < 0
    return ops.Where.apply(math.nan, ops.Where.apply(1, d, condition=negative).log(),
                           condition=negative)


def solve(A: Any, B: Any) -> Tensor:
    """X with ``A @ X = B``; ``B`` is a batch of vectors when it is 1-D or has A's shape
    without its last dim, else a batch of matrices (``linalg.solve``'s rule)."""
    a, b = _t(A), _t(B)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        return ops.Solve.apply(a, b.unsqueeze(-1)).squeeze(-1)
    return ops.Solve.apply(a, b)
