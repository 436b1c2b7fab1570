"""Shape and indexing functions as PyTorch's: ``chunk``, ``split``, ``narrow``,
``movedim``, ``hstack``, ``rot90``, ``diff``, ``take``, ``repeat_interleave``, ...; and
``Size``."""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .creation import arange, full, tensor
from .dtypes import int64, promote_types
from .errors import OpError
from .tensor import Tensor, _dim, _operand
from .tensor_functions import (
    _dims,
    _ints,
    _t,
    _tensors,
    _unreplayable,
    cat,
    flip,
    gather,
    meshgrid,
    stack,
)


class Size(tuple):
    """A shape, as ``torch.Size``: a tuple of ints with ``numel()``. ``t.shape`` is a plain
    tuple, equal to the Size of the same ints."""

    def __new__(cls, sizes: Sequence[int] = ()) -> Size:
        return super().__new__(cls, (operator.index(n) for n in sizes))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"


__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "cartesian_prod", "chunk",
    "column_stack", "diff", "dstack", "hstack", "moveaxis", "movedim", "narrow",
    "repeat_interleave", "rot90", "row_stack", "split", "swapaxes", "swapdims", "take",
    "take_along_dim", "unflatten", "vstack",
]


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return _t(input).chunk(chunks, dim)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return _t(tensor).split(split_size_or_sections, dim)


def narrow(input: Any, dim: int, start: Any, length: int) -> Tensor:
    """The ``length`` elements from ``start`` along ``dim`` (a view in PyTorch)."""
    x = _t(input)
    if x.ndim == 0:
        raise OpError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim("narrow", dim, x.ndim)
    n = x.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    start = start + n if start < 0 else start
    if length < 0 or start + length > n:
        raise OpError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def movedim(input: Any, source: Any, destination: Any) -> Tensor:
    """``input`` with the dims ``source`` moved to positions ``destination``, the others
    in their order."""
    x = _t(input)
    src, dst = _ints(source), _ints(destination)
    if len(src) != len(dst):
        raise OpError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                      f"dims) should contain the same number of dims as destination "
                      f"({list(dst)} dims)")
    try:
        src = _dims("movedim", src, x.ndim)
        dst = _dims("movedim", dst, x.ndim)
    except ValueError as err:
        raise OpError(str(err)) from None
    if x.ndim == 0:
        return x.reshape(())
    order = [None] * x.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    return x.permute(*(o if o is not None else next(rest) for o in order))


moveaxis = movedim


def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:
    return _t(input).swapaxes(axis0, axis1)


swapdims = swapaxes


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """``input`` with ``dim`` split into ``sizes`` (one of them may be -1)."""
    x = _t(input)
    d = _dim("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise OpError("unflatten: sizes must be non-empty")
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])


def _atleast(n: int, tensors: tuple) -> Any:
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in map(_t, tensors):
        if t.ndim >= n:
            out.append(t)
        elif n == 1 or t.ndim == 0:
            out.append(t.reshape((1,) * n))
        elif n == 2 or t.ndim == 1:  # (k,) is a row (1, k); as 3-D, (1, k, 1)
            out.append(t.reshape((1, t.shape[0]) if n == 2 else (1, t.shape[0], 1)))
        else:  # a matrix as 3-D: (m, k, 1)
            out.append(t.unsqueeze(-1))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    return _atleast(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    return _atleast(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    return _atleast(3, tensors)


def _some(tensors: Sequence[Any], name: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise OpError(f"{name} expects a non-empty TensorList")
    return [_t(t) for t in tensors]


def hstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors joined column-wise: along dim 0 for 1-D ones, else dim 1."""
    parts = atleast_1d(_some(tensors, "hstack"))
    return cat(parts, 0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors (1-D ones as rows) joined along dim 0."""
    return cat(atleast_2d(_some(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors (made at least 3-D) joined along dim 2."""
    return cat(atleast_3d(_some(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """The tensors as columns (0-D and 1-D ones made (n, 1)) joined along dim 1."""
    parts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t
             for t in _some(tensors, "column_stack")]
    return cat(parts, 1)


def rot90(input: Any, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``input`` turned by 90 degrees ``k`` times, from the first of ``dims`` towards the
    second."""
    x = _t(input)
    dims = list(dims)
    if len(dims) != 2:
        raise OpError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise OpError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = _dim("rot90", dims[0], x.ndim), _dim("rot90", dims[1], x.ndim)
    if d0 == d1:
        raise OpError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                      f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(x, d1).swapaxes(d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(x, d0).swapaxes(d0, d1)
    return x.clone()


def diff(input: Any, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``!=`` for bools), after joining
    ``prepend`` and ``append``."""
    x = _t(input)
    if x.ndim == 0:
        raise OpError("diff expects input to be at least one-dimensional")
    d = _dim("diff", dim, x.ndim)
    parts = [p if isinstance(p, Tensor) else _operand(x, p, scalars=False)
             for p in (prepend, x, append) if p is not None]
    parts = [p.reshape(x.shape[:d] + (1,) + x.shape[d + 1:]).broadcast_to(
        x.shape[:d] + (1,) + x.shape[d + 1:]) if p.ndim == 0 else p for p in parts]
    if len(parts) > 1:
        x = cat(parts, d)
    lead = (slice(None),) * d
    for _ in range(int(n)):
        later, earlier = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = later != earlier if x.dtype.kind == "b" else later - earlier
    return x


def block_diag(*tensors: Any) -> Tensor:
    """The tensors (0-D, 1-D as a row, or 2-D) as blocks on the diagonal of one matrix."""
    blocks = []
    for i, t in enumerate(map(_t, tensors)):
        if t.ndim > 2:
            raise OpError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                          f"Input {i} has {t.ndim} dimensions")
        blocks.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1
                      else t)
    if not blocks:
        return tensor(np.zeros((1, 0), np.float32))
    dtype = blocks[0].dtype
    for t in blocks[1:]:
        dtype = promote_types(dtype, t.dtype)
    blocks = [t if t.dtype == dtype else t.astype(dtype) for t in blocks]
    width = builtins.sum(t.shape[1] for t in blocks)
    rows, left = [], 0
    for t in blocks:
        h, w = t.shape
        pad_left = full((h, left), 0, dtype=dtype, device=t.device)
        pad_right = full((h, width - left - w), 0, dtype=dtype, device=t.device)
        rows.append(cat([pad_left, t, pad_right], 1))
        left += w
    return cat(rows, 0)


def cartesian_prod(*tensors: Any) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (a single tensor
    comes back as it is)."""
    tensors = _tensors(tensors, "cartesian_prod")
    if builtins.any(t.ndim != 1 for t in tensors):
        raise OpError("Expect a 1D vector, but got shapes "
                      f"{[t.shape for t in tensors]}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


# indexing functions


def take(input: Any, index: Any) -> Tensor:
    """The elements of ``input``, read as 1-D, at ``index`` (any shape; negative counts
    from the end)."""
    x = _t(input)
    idx = index if isinstance(index, Tensor) else tensor(index, device=x.device)
    if idx.dtype != int64:
        raise OpError(f"take(): Expected a long tensor for index, but got {idx.dtype}")
    flat = x.reshape(-1)
    n = flat.shape[0]
    raw = idx._data
    if idx.numel() and (bool((raw >= n).any()) or bool((raw < -n).any())):
        raise IndexError(f"take(): index out of range for tensor of size {x.shape} with "
                         f"{n} elements")
    return ops.Index.apply(flat, index=(raw,))


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:
    """``input``'s values at ``indices`` along ``dim`` (both broadcast on the other dims),
    or of the flattened input when ``dim`` is None."""
    x = _t(input)
    idx = indices if isinstance(indices, Tensor) else tensor(indices, device=x.device)
    if idx.dtype.kind not in "iu":
        raise OpError(f"take_along_dim(): dtype of indices should be Long but got "
                      f"{idx.dtype}")
    if dim is None:
        return take(x, idx.reshape(-1).astype(int64))
    d = _dim("take_along_dim", dim, x.ndim)
    if x.ndim != idx.ndim:
        raise OpError("torch.take_along_dim(): input and indices should have the same "
                      f"number of dimensions, but got {x.ndim} dimensions for input, and "
                      f"{idx.ndim} dimensions for indices")
    shape_x = list(np.broadcast_shapes(
        x.shape[:d] + (1,) + x.shape[d + 1:], idx.shape[:d] + (1,) + idx.shape[d + 1:]))
    shape_i = list(shape_x)
    shape_x[d], shape_i[d] = x.shape[d], idx.shape[d]
    x = x.broadcast_to(tuple(shape_x))
    idx = idx.broadcast_to(tuple(shape_i))
    return gather(x, d, idx)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times (one count, or one
    per element); with only a tensor of counts, the positions repeated by them."""
    x = _t(input)
    if repeats is None:  # repeat_interleave(counts): 0, 0, 1, ... as the counts say
        counts = x
        positions = arange(counts.shape[0], device=counts.device)
        return repeat_interleave(positions, counts)
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _dim("repeat_interleave", dim, x.ndim)
        if x.ndim == 0:
            x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        counts = repeats.numpy().reshape(-1).astype(np.int64)
        _unreplayable("repeat_interleave by a tensor of counts")
    else:
        counts = np.asarray([int(repeats)], dtype=np.int64)
    if counts.size == 1:
        counts = np.repeat(counts, n)
    if counts.size != n:
        raise OpError(f"repeats must have the same size as input along dim, but got "
                      f"repeats.size(0) = {counts.size} and input.size({d}) = {n}")
    if (counts < 0).any():
        raise OpError("repeats can not be negative")
    source = x.backend.asarray(np.repeat(np.arange(n, dtype=np.int64), counts))
    return ops.Index.apply(x, index=(slice(None),) * d + (source,))
