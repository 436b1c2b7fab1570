"""Mini-batches: a data set of aligned arrays and a loader that batches it onto a device.

``TensorDataset`` holds NumPy arrays or minigrad tensors that share their first
dimension. ``DataLoader`` cuts a data set into batches of minigrad tensors, as
PyTorch's does: in order, shuffled each epoch, or in the order a sampler gives
(``minigrad.distributed.DistributedSampler`` among them). A ``TensorDataset`` is
batched with one gather per array per batch; any other data set (an object with
``__len__`` and ``__getitem__``) is read row by row and its rows stacked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from .. import dtypes
from .. import random as _random
from ..autograd import no_grad
from ..backend import Backend, get_backend
from ..creation import arange
from ..dtypes import as_dtype
from ..tensor import Tensor
from ..tensor_functions import stack

__all__ = ["DataLoader", "TensorDataset"]


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


class TensorDataset:
    """Rows of several aligned arrays: ``dataset[i]`` is ``(a[i], b[i], ...)``.

    Each argument is a NumPy array or a minigrad tensor (kept as given, not copied;
    other array-likes become NumPy arrays, Python floats as float32 like ``mg.tensor``).
    All must have the same length along their first dimension. ``dataset[index]``
    also takes an integer array, a list of ints or a slice and returns the batch.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array or tensor")
        items = []
        for i, a in enumerate(arrays):
            if not isinstance(a, Tensor | np.ndarray):
                converted = np.asarray(a)
                if converted.dtype == np.float64:
                    converted = converted.astype(dtypes.default_float)
                a = converted
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {i} is a scalar; every argument needs a first "
                    "dimension to index rows by"
                )
            try:
                as_dtype(a.dtype)
            except TypeError as err:
                raise TypeError(f"TensorDataset: argument {i}: {err}") from None
            items.append(a)
        lengths = [len(a) for a in items]
        if any(n != lengths[0] for n in lengths):
            raise ValueError(
                "TensorDataset: every array needs the same first dimension, got lengths "
                + ", ".join(str(n) for n in lengths)
            )
        self.tensors: tuple[Any, ...] = tuple(items)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        """A tuple of rows for an int; a tuple of batches for an index array or a slice."""
        if _is_int(index) or isinstance(index, slice):
            return tuple(a[index] for a in self.tensors)
        if isinstance(index, Tensor):
            index = index.numpy()
        index = np.asarray(index)
        if index.dtype.kind not in "iub" and index.size:
            raise IndexError(
                f"TensorDataset: index with ints, an integer array or a slice, not {index.dtype}"
            )
        if index.dtype.kind != "b":
            index = index.astype(np.intp, copy=False)
        return tuple(_take(a, index) for a in self.tensors)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{type(a).__name__}{tuple(a.shape)} {a.dtype}" for a in self.tensors
        )
        return f"TensorDataset({len(self)} rows: {parts})"


def _take(a: Any, index: np.ndarray) -> Any:
    """Rows ``index`` of an array or tensor; a tensor is gathered on its own device."""
    if isinstance(a, np.ndarray):
        return a[index]
    return a[Tensor(index, device=a.backend)]


class DataLoader:
    """Iterate a data set in batches, each a tuple of minigrad tensors on ``device``.

    ``batch_size=None`` gives the whole data set as one batch every epoch (full-batch
    gradient descent). ``shuffle=True`` draws a new order each epoch: from ``generator``
    (an ``mg.Generator``, as in PyTorch) when given; from ``np.random.default_rng(seed)``,
    made once here, when ``seed`` is given (so two loaders with one seed give the same
    epochs, and each epoch differs from the last); otherwise from the host generator that
    ``mg.manual_seed`` seeds. ``sampler`` is any
    iterable of indices with ``__len__`` whose order is used instead; it excludes
    ``shuffle``, and, as in PyTorch, the loader never calls its ``set_epoch``.

    Batches are copies: changing one in place leaves the data set alone. They are
    gathered outside autograd and carry no graph. ``collate_fn``, when given, makes each
    batch from the list of its rows, as PyTorch's does. ``num_workers``,
    ``persistent_workers`` and ``pin_memory`` are PyTorch's, accepted and checked as
    there: batches are gathered in this process, the same batches in the same order.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        device: str | None = None,
        sampler: Any = None,
        generator: Any = None,
        collate_fn: Any = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: the data set must have __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        if batch_size is not None and not (_is_int(batch_size) and batch_size > 0):
            raise ValueError(
                f"DataLoader: batch_size must be a positive int or None (the whole data set "
                f"as one batch), got {batch_size!r}"
            )
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"DataLoader: {name} must be True or False, got {flag!r}")
        if seed is not None and not (_is_int(seed) and seed >= 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int or None, got {seed!r}")
        if not (_is_int(num_workers) and num_workers >= 0):
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             "num_workers=0 to disable multiprocessing")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got "
                            f"{type(collate_fn).__name__}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: seed and generator exclude each other; give one")
        if sampler is not None:
            if shuffle:
                raise ValueError(
                    "DataLoader: sampler and shuffle=True exclude each other; the sampler "
                    "decides the order (shuffle it through the sampler)"
                )
            if not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
                raise TypeError(
                    f"DataLoader: a sampler must be an iterable of indices with __len__, "
                    f"got {type(sampler).__name__}"
                )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = None if seed is None else int(seed)
        self.sampler = sampler
        self.device = get_backend(device).name
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers, self.pin_memory = int(num_workers), bool(pin_memory)
        self.persistent_workers = bool(persistent_workers)
        _random.host_rng(generator)  # a generator of another kind is refused here
        self._rng = None if seed is None else np.random.default_rng(self.seed)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        return self._num_batches(self._num_samples())

    def _num_samples(self) -> int:
        return len(self.sampler) if self.sampler is not None else len(self.dataset)

    def _num_batches(self, n: int) -> int:
        if n == 0:
            return 0
        if self.batch_size is None:
            return 1
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # The order is fixed here, when the epoch starts, not at the first batch.
        order = self._order()
        return self._batches(order)

    def _order(self) -> np.ndarray | None:
        """This epoch's indices, or None for every row in order."""
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter((_check_index(i) for i in self.sampler), dtype=np.intp)
            if order.size and (order.min() < 0 or order.max() >= n):
                bad = order[(order < 0) | (order >= n)][0]
                raise IndexError(
                    f"DataLoader: the sampler gave index {bad}, outside a data set of {n} rows"
                )
            return order
        if self.shuffle:
            rng = self._rng if self._rng is not None else _random.host_rng(self.generator)
            return rng.permutation(n).astype(np.intp, copy=False)
        return None

    def _batches(self, order: np.ndarray | None) -> Iterator[Any]:
        n = len(self.dataset) if order is None else len(order)
        size = n if self.batch_size is None else self.batch_size
        target = get_backend(self.device)
        for b in range(self._num_batches(n)):
            start, stop = b * size, min((b + 1) * size, n)
            index = slice(start, stop) if order is None else order[start:stop]
            yield self._fetch(index, target)

    def _fetch(self, index: slice | np.ndarray, target: Backend) -> Any:
        with no_grad():
            if self.collate_fn is None and _batchable(self.dataset):
                return self._gather(index, target)
            if isinstance(index, slice):
                index = range(index.start, index.stop)
            rows = [self.dataset[int(i)] for i in index]
            return _collate(rows, target) if self.collate_fn is None else self.collate_fn(rows)

    def _gather(self, index: slice | np.ndarray, target: Backend) -> tuple[Tensor, ...]:
        """One gather per array: on the host for arrays, on their own device for tensors."""
        on_device: dict[str, Tensor] = {}  # the batch's index, once per device
        out = []
        for a in self.dataset.tensors:
            if isinstance(a, np.ndarray):
                # a slice is a view, so tensor() makes the only copy
                out.append(Tensor(a[index], device=target))
                continue
            key = on_device.get(a.device)
            if key is None:
                if isinstance(index, slice):
                    key = arange(index.start, index.stop, device=a.backend)
                else:
                    key = Tensor(index.astype(np.int64, copy=False), device=a.backend)
                on_device[a.device] = key
            out.append(a[key].to(target))
        return tuple(out)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, device={self.device!r})"
        )


def _batchable(dataset: Any) -> bool:
    """A TensorDataset whose rows are read the standard way can be gathered a batch at once."""
    return (
        isinstance(dataset, TensorDataset)
        and type(dataset).__getitem__ is TensorDataset.__getitem__
    )


def _check_index(i: Any) -> int:
    if not _is_int(i):
        if isinstance(i, Tensor) and i.ndim == 0 and i.dtype.kind in "iu":
            return int(i.item())
        raise TypeError(f"DataLoader: a sampler must yield int indices, got {i!r}")
    return int(i)


def _collate(rows: Sequence[Any], target: Backend) -> Any:
    """Stack rows of a generic data set into a batch, field by field (nested tuples, lists
    and dicts too), as PyTorch does."""
    first = rows[0]
    if isinstance(first, tuple | list):
        width = len(first)
        if any(not isinstance(r, tuple | list) or len(r) != width for r in rows):
            raise ValueError(
                "DataLoader: every item of the data set must have the same number of fields"
            )
        return tuple(_collate([r[k] for r in rows], target) for k in range(width))
    if isinstance(first, dict):
        keys = list(first)
        if any(not isinstance(r, dict) or list(r) != keys for r in rows):
            raise ValueError("DataLoader: every item of the data set must have the same keys")
        return {k: _collate([r[k] for r in rows], target) for k in keys}
    return _stack(list(rows), target)


def _stack(values: list[Any], target: Backend) -> Tensor:
    """One field of a batch: tensors stacked on their device, anything else with NumPy.

    Python floats give float64 and Python ints int64, as in PyTorch's collate; NumPy
    arrays and scalars keep their dtype.
    """
    if all(isinstance(v, Tensor) for v in values):
        return stack(values).to(target)
    try:
        batch = np.stack([np.asarray(v) for v in values])
    except ValueError as err:
        raise ValueError(f"DataLoader: cannot stack the rows of a batch: {err}") from None
    return Tensor(batch, device=target)
