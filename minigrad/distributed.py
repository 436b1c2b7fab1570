"""Data-parallel training over MPI: every rank holds the whole model, takes its share of
each global batch, and averages the gradients with the other ranks before each step.

Launch a script with ``mpiexec -n 4 python train.py`` (or ``mpiexec -n 4 minigrad train``)::

    import minigrad.distributed as dist

    dist.init()                                    # a process started alone is a job of one
    dist.broadcast_parameters(model)               # every rank starts from rank 0's weights
    opt = dist.DistributedOptimizer(optim.Adam(model.parameters()))
    sampler = dist.DistributedSampler(dataset, seed=0)
    loader = DataLoader(dataset, batch_size=global_batch // dist.size(), sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        ...

mpi4py (the ``distributed`` extra: ``pip install "minigrad[distributed]"``) is imported by
``init()`` only; importing minigrad never imports it.

Faults: with more than one rank, ``init()`` installs a ``sys.excepthook`` that prints the
uncaught exception with the rank that raised it and calls ``MPI.COMM_WORLD.Abort(1)``, so
one failing rank ends the whole job instead of leaving the others waiting forever in a
collective call. Exceptions caught by the program itself are not affected.

GPUs (``cupy``): ``select_gpu()`` gives each rank of a node its own GPU. Gradients on the
GPU go to MPI as device buffers when the MPI library is CUDA-aware (``cuda_aware()``
asks it: ``MPIX_Query_cuda_support``, which Open MPI and MPICH both answer), and are
otherwise staged through host memory, one copy per bucket each way. ``gradient_path()``
says which path a device takes; set ``MINIGRAD_MPI_CUDA_AWARE=0`` or ``1`` to override the
detection.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import autograd
from .backend import get_backend
from .tensor import Tensor

__all__ = [
    "DistributedOptimizer",
    "DistributedSampler",
    "all_reduce",
    "broadcast_object",
    "broadcast_parameters",
    "cuda_aware",
    "gradient_path",
    "init",
    "is_initialized",
    "launched_size",
    "local_rank",
    "rank",
    "select_gpu",
    "size",
]

INSTALL_HINT = 'pip install "minigrad[distributed]"'
DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024  # PyTorch DDP's default bucket size
# Environment variables in which launchers announce the size of the job.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")

_comm: Any = None  # MPI.COMM_WORLD, or None in a job of one without mpi4py
_mpi: Any = None  # the mpi4py.MPI module
_rank = 0
_size = 1
_local_rank = 0
_cuda_aware: bool | None = None  # asked of the MPI library once, on first use
_initialized = False


def launched_size() -> int:
    """The number of processes the launcher (mpiexec, srun) started, read from the
    environment without importing MPI; 1 for a process started on its own."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name)
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                continue
    return 1


def init() -> None:
    """Join the MPI job this process was launched in (a no-op the second time).

    A process started without mpiexec is a job of one: rank 0 of size 1. Without mpi4py
    such a process still works; a process launched as one of several raises ImportError.
    """
    global _comm, _mpi, _rank, _size, _local_rank, _initialized
    if _initialized:
        return
    try:
        from mpi4py import MPI
    except ImportError as err:
        if launched_size() > 1:
            raise ImportError(
                f"this process was launched as one of {launched_size()} MPI ranks, but mpi4py "
                f"is not installed; install the distributed extra: {INSTALL_HINT}"
            ) from err
        _comm, _mpi, _rank, _size = None, None, 0, 1
    else:
        _mpi = MPI
        _comm = MPI.COMM_WORLD
        _rank, _size = _comm.Get_rank(), _comm.Get_size()
        _local_rank = _rank
        if _size > 1:
            sys.excepthook = _abort_on_exception
            node = _comm.Split_type(MPI.COMM_TYPE_SHARED, key=_rank)
            _local_rank = node.Get_rank()
            node.Free()
    _initialized = True


def is_initialized() -> bool:
    return _initialized


def rank() -> int:
    """This process's rank, 0 to ``size() - 1``."""
    _require_init("rank")
    return _rank


def size() -> int:
    """The number of processes in the job."""
    _require_init("size")
    return _size


def local_rank() -> int:
    """This process's rank among the processes of its own machine (node)."""
    _require_init("local_rank")
    return _local_rank


_this_rank = rank  # for DistributedSampler, whose argument ``rank`` hides the function


def _require_init(name: str) -> None:
    if not _initialized:
        raise RuntimeError(f"minigrad.distributed.{name}(): call minigrad.distributed.init() first")


def _abort_on_exception(exc_type: Any, exc: BaseException, tb: Any) -> None:
    """sys.excepthook with several ranks: report the rank, then end the whole job."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[rank {_rank}/{_size}] uncaught exception; aborting the MPI job\n{text}")
    sys.stderr.flush()
    sys.stdout.flush()
    _mpi.COMM_WORLD.Abort(1)


def _reset() -> None:
    """Forget the job (for tests); MPI itself stays initialized."""
    global _comm, _mpi, _rank, _size, _local_rank, _cuda_aware, _initialized
    if sys.excepthook is _abort_on_exception:
        sys.excepthook = sys.__excepthook__
    _comm, _mpi, _rank, _size, _local_rank, _initialized = None, None, 0, 1, 0, False
    _cuda_aware = None


def select_gpu() -> int | None:
    """Make GPU ``local_rank() % count`` this process's current CUDA device (CuPy), so the
    ranks of one machine share its GPUs out; returns the index, or None without a GPU.

    Call it after ``init()`` and before any tensor is put on ``cupy``.
    """
    _require_init("select_gpu")
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no CuPy, or no driver: nothing to select
        return None
    if count == 0:
        return None
    index = _local_rank % count
    cupy.cuda.Device(index).use()
    return index


def cuda_aware() -> bool:
    """Whether the MPI library takes CUDA device memory in its calls (a CUDA-aware MPI).

    ``MINIGRAD_MPI_CUDA_AWARE=1`` or ``0`` decides; otherwise the library is asked
    (``MPIX_Query_cuda_support``, which Open MPI and MPICH export); a library that
    cannot answer counts as not CUDA-aware. A job of one without mpi4py is not.
    """
    global _cuda_aware
    _require_init("cuda_aware")
    override = os.environ.get("MINIGRAD_MPI_CUDA_AWARE", "").strip()
    if override in ("0", "1"):
        return override == "1"
    if _cuda_aware is None:
        _cuda_aware = _mpi is not None and _query_cuda_support(_mpi.__file__)
    return _cuda_aware


def _query_cuda_support(library: str) -> bool:
    """Ask the MPI library that ``library`` (mpi4py's extension) is linked to."""
    try:
        query = getattr(ctypes.CDLL(library), "MPIX_Query_cuda_support", None)
    except OSError:
        return False
    return query is not None and query() == 1


def gradient_path(device: str) -> str:
    """Where collectives hand tensors of ``device`` to MPI: "host memory" on the CPU
    backends; on a GPU backend "GPU memory (CUDA-aware MPI)", or else "host memory
    (copied from the GPU)"."""
    if get_backend(device).host_memory:
        return "host memory"
    return "GPU memory (CUDA-aware MPI)" if cuda_aware() else "host memory (copied from the GPU)"


def _job() -> Any:
    """The communicator, or None in a job of one."""
    _require_init("collective calls")
    return _comm if _size > 1 else None


# collectives on tensors
_OPS = ("sum", "mean", "max")


def _to_mpi(backend: Any, array: Any, fresh: bool = False) -> Any:
    """A contiguous 1-D ``array`` in memory MPI can use: in host memory, or on the GPU when
    MPI is CUDA-aware (synchronized first: MPI does not wait for queued GPU work).
    ``fresh``: ``array`` is already a private contiguous copy, which MPI may overwrite."""
    if not backend.host_memory and cuda_aware():
        buf = array if fresh else backend.copy(array)
        backend.synchronize()
        return buf
    host = backend.to_numpy(array)
    return host if fresh else np.array(host, copy=True, order="C")


def _from_mpi(backend: Any, buf: Any) -> Any:
    """What ``_to_mpi`` gave, filled in by MPI, as an array of ``backend``."""
    if backend.host_memory or cuda_aware():
        return buf
    return backend.asarray(buf, buf.dtype)


def all_reduce(tensor: Any, op: str = "mean") -> Any:
    """The element-wise ``op`` ("sum", "mean" or "max") of ``tensor`` over all ranks.

    Returns a new tensor on the same device (the input is not changed; a NumPy array
    gives an array); every rank gets the same result. The mean of an integer tensor is
    floating point.
    """
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(_OPS)}, got {op!r}")
    comm = _job()
    if isinstance(tensor, Tensor):
        backend, array = tensor.backend, tensor._data
    else:
        backend, array = get_backend("numpy"), np.asarray(tensor)
    buf = _to_mpi(backend, array.reshape(-1))
    if comm is not None:
        comm.Allreduce(_mpi.IN_PLACE, buf, op=_mpi.MAX if op == "max" else _mpi.SUM)
    result = _from_mpi(backend, buf).reshape(array.shape)
    if op == "mean":
        result = result / (result.dtype.type(_size) if result.dtype.kind == "f" else _size)
    return Tensor._make(result, backend) if isinstance(tensor, Tensor) else result


def broadcast_object(obj: Any, root: int = 0) -> Any:
    """``root``'s (picklable) ``obj`` on every rank."""
    comm = _job()
    return obj if comm is None else comm.bcast(obj, root=root)


def _model_tensors(model: Any) -> list[tuple[str, Tensor]]:
    if hasattr(model, "named_parameters"):
        named = list(model.named_parameters())
        if hasattr(model, "named_buffers"):
            named += [(n, b) for n, b in model.named_buffers() if b is not None]
        return named
    return [(str(i), t) for i, t in enumerate(model)]


def broadcast_parameters(model: Any, root: int = 0) -> None:
    """Overwrite, in place, every parameter and buffer of ``model`` (a Module, or an
    iterable of tensors) with ``root``'s values.

    The ranks must hold models of the same structure; a mismatch raises ValueError on
    every rank.
    """
    comm = _job()
    if comm is None:
        return
    named = _model_tensors(model)
    layout = [(name, tuple(t.shape), str(t.dtype)) for name, t in named]
    theirs = comm.bcast(layout, root=root)
    same = comm.allreduce(int(theirs == layout), op=_mpi.MIN)
    if not same:
        raise ValueError(
            "broadcast_parameters: the ranks' models differ in their parameters, shapes or "
            f"dtypes (this rank has {len(layout)} tensors)"
        )
    with autograd.no_grad():
        for _, t in named:
            buf = _to_mpi(t.backend, t._data.reshape(-1))
            comm.Bcast(buf, root=root)
            if _rank != root:
                t._data[...] = _from_mpi(t.backend, buf).reshape(t.shape)
                t._bump_version()


class DistributedOptimizer:
    """Wraps an optimizer so that ``step()`` first averages every parameter's gradient
    over the ranks, then runs the wrapped step.

    The gradients are packed into flat buffers of at most ``bucket_bytes`` each (one
    dtype per buffer) and each buffer is summed with one ``MPI_Allreduce``, so a model
    costs a few collective calls per step, not one per parameter. A parameter with no
    gradient on some rank counts as a zero gradient there; one with no gradient on any
    rank keeps none (the wrapped optimizer skips it as usual). Every rank must call
    ``step()`` the same number of times.

    ``zero_grad``, ``state_dict``, ``load_state_dict``, ``param_groups`` and ``state``
    are the wrapped optimizer's.
    """

    def __init__(self, optimizer: Any, bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> None:
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"DistributedOptimizer wraps an optimizer, got {type(optimizer).__name__}")
        if not (isinstance(bucket_bytes, int | np.integer) and bucket_bytes > 0):
            raise ValueError(f"bucket_bytes must be a positive int, got {bucket_bytes!r}")
        self.optimizer = optimizer
        self.bucket_bytes = int(bucket_bytes)
        self.allreduce_calls = 0  # collective calls made so far (for measurements)
        self.allreduce_seconds = 0.0  # time spent in them

    def __repr__(self) -> str:
        return f"DistributedOptimizer({self.optimizer!r})"

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    @param_groups.setter
    def param_groups(self, groups: list[dict[str, Any]]) -> None:
        self.optimizer.param_groups = groups

    @property
    def state(self) -> Any:
        return self.optimizer.state

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.optimizer.add_param_group(param_group)

    def step(self, closure: Any = None) -> Any:
        """Average the gradients over the ranks, then update; returns ``closure()``."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        self.synchronize()
        self.optimizer.step()
        return loss

    def _params(self) -> list[Tensor]:
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def _timed(self, call: Any, *args: Any, **kwargs: Any) -> None:
        import time

        start = time.perf_counter()
        call(*args, **kwargs)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_calls += 1

    def synchronize(self) -> None:
        """Replace every gradient by its mean over the ranks (``step()`` calls this)."""
        comm = _job()
        if comm is None:
            return
        params = self._params()
        # Which parameters have a gradient on at least one rank: one small call.
        has = np.array([p.grad is not None for p in params], dtype=np.uint8)
        self._timed(comm.Allreduce, _mpi.IN_PLACE, has, op=_mpi.MAX)
        live = [p for p, h in zip(params, has) if h]
        for bucket in self._buckets(live):
            self._reduce_bucket(comm, bucket)

    def _buckets(self, params: list[Tensor]) -> Iterator[list[Tensor]]:
        """Consecutive runs of parameters of one dtype and device, each at most
        ``bucket_bytes`` (a single larger parameter gets a bucket of its own)."""
        bucket: list[Tensor] = []
        nbytes = 0
        for p in params:
            size = int(np.prod(p.shape, dtype=np.int64)) * np.dtype(p.dtype).itemsize
            if bucket and (p.dtype != bucket[0].dtype or p.backend is not bucket[0].backend
                           or nbytes + size > self.bucket_bytes):
                yield bucket
                bucket, nbytes = [], 0
            bucket.append(p)
            nbytes += size
        if bucket:
            yield bucket

    def _reduce_bucket(self, comm: Any, bucket: list[Tensor]) -> None:
        backend, dtype = bucket[0].backend, np.dtype(bucket[0].dtype)
        counts = [int(np.prod(p.shape, dtype=np.int64)) for p in bucket]
        flat = backend.concatenate(
            [backend.zeros((n,), dtype) if p.grad is None else p.grad._data.reshape(-1)
             for p, n in zip(bucket, counts)], 0)
        buf = _to_mpi(backend, flat, fresh=True)
        self._timed(comm.Allreduce, _mpi.IN_PLACE, buf, op=_mpi.SUM)
        flat = _from_mpi(backend, buf)
        flat *= dtype.type(1.0 / _size)
        offset = 0
        for p, n in zip(bucket, counts):
            # New gradient tensors, views of the reduced bucket: each part has one view,
            # so a later backward pass may add into it in place, and zero_grad zero it.
            p.grad = Tensor._make(flat[offset:offset + n].reshape(p.shape), backend)
            offset += n


class DistributedSampler:
    """This rank's share of a data set's indices, for ``DataLoader(sampler=...)``.

    Every epoch the indices are shuffled with ``seed + epoch`` (the same permutation on
    every rank; call ``set_epoch(e)`` before each epoch) and dealt out round-robin, rank
    ``r`` taking positions ``r, r + N, r + 2N, ...``. Without ``drop_last`` the list is
    padded by repeating indices from its start so that it divides evenly; with it the
    tail is dropped. Either way every rank gets ``len(sampler)`` indices and so takes the
    same number of steps.
    """

    def __init__(self, dataset: Any, shuffle: bool = True, seed: int = 0,
                 num_replicas: int | None = None, rank: int | None = None,
                 drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = size()
        if rank is None:
            rank = _this_rank()
        if not (isinstance(num_replicas, int | np.integer) and num_replicas >= 1):
            raise ValueError(f"num_replicas must be a positive int, got {num_replicas!r}")
        if not (isinstance(rank, int | np.integer) and 0 <= rank < num_replicas):
            raise ValueError(f"rank must be in [0, {num_replicas}), got {rank!r}")
        self.dataset = dataset
        self.n = len(dataset)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last:
            self.num_samples = self.n // self.num_replicas
        else:
            self.num_samples = math.ceil(self.n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order (call it on every rank with the same value)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def indices(self) -> np.ndarray:
        """All ranks' indices for this epoch, padded or cut to ``total_size``."""
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        else:
            order = np.arange(self.n)
        if self.total_size > self.n and self.n > 0:
            reps = math.ceil((self.total_size - self.n) / self.n)
            order = np.concatenate([order, np.tile(order, reps)[: self.total_size - self.n]])
        return order[: self.total_size]

    def __iter__(self) -> Iterator[int]:
        share = self.indices()[self.rank:self.total_size:self.num_replicas]
        return iter(share.tolist())
