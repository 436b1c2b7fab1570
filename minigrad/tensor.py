"""The Tensor: an array on a backend, plus what autograd needs to know about it."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import autograd, dtypes, printing
from .backend import Backend, get_backend
from .dtypes import as_dtype, bool_, float32, int64
from .errors import OpError
from .return_types import ValuesIndices


class Tensor:
    """An n-dimensional array that records the ops applied to it when it requires grad.

    ``data`` is the backend's own array (a ``numpy.ndarray`` on the CPU backends).
    ``_node`` is the Context of the op that made this tensor (None for a leaf), and
    ``_version`` a counter, shared with views, that every in-place op bumps (an
    ``autograd.Version``, made when first needed).
    """

    # _hooks: set only by register_hook on a leaf; _view: (base, view ops), set only on a view
    __slots__ = ("_data", "backend", "_requires_grad", "_grad", "_node", "_version", "_hooks",
                 "_view", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: np_array * tensor

    def __init__(
        self,
        data: Any,
        dtype: Any = None,
        device: str | None = None,
        requires_grad: bool = False,
    ) -> None:
        backend = get_backend(device)
        self._data = _to_array(data, dtype, backend)
        self.backend = backend
        self._grad = None
        self._node = None
        self._version = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: Any, backend: Backend, node: Any = None) -> Tensor:
        """Wrap a backend array without copying (the hot path of every op)."""
        t = object.__new__(cls)
        t._data = data
        t.backend = backend
        t._requires_grad = node is not None
        t._grad = None
        t._node = node
        t._version = None
        return t

    @property
    def data(self) -> Tensor:
        """This tensor's values as a tensor outside autograd (PyTorch's ``.data``): the same
        memory, no history, no gradient; changing it in place changes this tensor's values
        unseen by autograd's version checks, as in PyTorch. The backend array itself is
        ``_data``."""
        return Tensor._make(self._data, self.backend)

    @data.setter
    def data(self, value: Any) -> None:
        """Give this tensor the values of ``value`` (a tensor, or an array of its backend),
        their memory shared, its history and gradient left as they are."""
        if isinstance(value, Tensor):
            self.backend = value.backend
            value = value._data
        elif not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        self._data = value

    # metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> str:
        return self.backend.name

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded for backward passes."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward passes (leaves only), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad must be a Tensor or None, not {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype or (
                    value.backend is not self.backend):
                raise RuntimeError(
                    f"assigned grad ({value.shape} {value.dtype} on {value.device!r}) does not "
                    f"match the tensor ({self.shape} {self.dtype} on {self.device!r})")
        tracer = autograd.tracer
        if tracer is not None and not tracer.paused:  # inside a function mg.compile records
            if value is not None:
                tracer.fail("a tensor assigned to .grad")
            else:
                tracer.run_as_call(_clear_grad, self)  # replayed as the same assignment
                return
        self._grad = value

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` each time this tensor's gradient is computed; a tensor it
        returns replaces the gradient (for a leaf, before it is added to ``.grad``).
        Returns a handle whose ``remove()`` takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return autograd.add_hook(self._node or self, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this tensor, made by an op, in ``.grad`` during backward
        passes, as leaves do (for a leaf, nothing to do)."""
        if not self.requires_grad:
            raise RuntimeError("cannot retain the gradient of a tensor that does not "
                               "require grad")
        if self._node is not None:
            autograd.retain(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this tensor, made by an op."""
        return getattr(self._node, "_retained", None) is not None

    def _bump_version(self) -> None:
        """Note that the data was changed in place (saved copies of it are now stale)."""
        autograd.version_of(self).changed_at = autograd.last_change = next(autograd._sequence)
        if autograd.tracer is not None and not autograd.tracer.paused:
            autograd.tracer.fail("an in-place change of a tensor")

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Any:
        """The recorded op that made this tensor (None for a leaf)."""
        return self._node

    @property
    def T(self) -> Tensor:
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        return self.swapaxes(-1, -2)

    def numel(self) -> int:
        return int(self._data.size)

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__  # by identity, as == compares elementwise

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(",
                               **printing.options)
        # what the values show, as PyTorch
        implied = self.dtype in (dtypes.default_float, int64, bool_)
        extra = "" if implied else f", dtype={self.dtype}"
        if self.device != "numpy":
            extra += f", device='{self.device}'"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.op.__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # conversions
    def numpy(self) -> np.ndarray:
        """The values as a host NumPy array (the array itself on the CPU backends)."""
        if autograd.tracer is not None and not autograd.tracer.paused:
            autograd.tracer.fail("a value read on the host (.item(), .numpy(), bool(t), ...)")
        return self.backend.to_numpy(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    def item(self) -> Any:
        if self._data.size != 1:
            raise ValueError(
                f"only a one-element tensor can be converted to a Python scalar, "
                f"got shape {self.shape}"
            )
        return self.numpy().item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    def detach(self) -> Tensor:
        """The same values, cut off from the graph (shares memory and version counter, so
        an in-place change of either is caught wherever the other was saved for backward)."""
        out = Tensor._make(self._data, self.backend)
        out._version = autograd.version_of(self)
        return out

    def clone(self) -> Tensor:
        return _ops.Clone.apply(self)

    def to(self, *args: Any, device: Any = None, dtype: Any = None,
           non_blocking: bool = False, copy: bool = False) -> Tensor:
        """This tensor on another device (gradients flow back) and/or with another dtype,
        as PyTorch's: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(other)`` (its device and dtype), or by keyword. Itself where nothing changes,
        unless ``copy``; ``non_blocking`` is accepted (copies complete before they return)."""
        device, dtype = to_args(args, device, dtype)
        out = self
        if device is not None:
            target = get_backend(device)
            if target is not self.backend:
                out = _ops.To.apply(self, target=target)
                if out._data is self._data:
                    _share_version(out, self)
        if dtype is not None:
            out = out.astype(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self) -> Tensor:
        return self.to("numpy")

    # new tensors of this one's dtype and device (PyTorch's new_* methods)
    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` as a tensor, of this tensor's dtype and device unless given."""
        out = Tensor(data.detach().numpy() if isinstance(data, Tensor) else data,
                     dtype=self.dtype if dtype is None else dtype,
                     device=self.backend if device is None else device)
        return out.requires_grad_(requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return self._new("zeros", size, None, dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return self._new("ones", size, None, dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return self._new("empty", size, None, dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return self._new("full", (size,), fill_value, dtype, device, requires_grad)

    def _new(self, kind: str, size: tuple, value: Any, dtype: Any, device: Any,
             requires_grad: bool) -> Tensor:
        from . import creation

        shape = size[0] if len(size) == 1 and isinstance(size[0], tuple | list) else size
        dtype = self.dtype if dtype is None else dtype
        device = self.backend if device is None else device
        if kind == "full":
            return creation.full(shape, value, dtype=dtype, device=device,
                                 requires_grad=requires_grad)
        return getattr(creation, kind)(*shape, dtype=dtype, device=device,
                                       requires_grad=requires_grad)

    def astype(self, dtype: Any) -> Tensor:
        dtype = as_dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind != "f":  # integers and bools carry no gradient
            with autograd.no_grad():
                return _ops.Astype.apply(self, dtype=dtype)
        return _ops.Astype.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, not {self.dtype}"
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "requires_grad can only be switched off on a leaf tensor; use .detach()"
            )
        self._requires_grad = bool(requires_grad)
        return self

    # autograd
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def sum_to(self, shape: Sequence[int]) -> Tensor:
        """Sum down to ``shape``: the gradient of broadcasting to this tensor's shape."""
        shape = tuple(shape)
        return self if shape == self.shape else _ops.SumTo.apply(self, shape=shape)

    def broadcast_to(self, *shape: Any) -> Tensor:
        """This tensor repeated (as a view) to ``shape``, given as ints or one sequence;
        -1 keeps a size, and new dims go in front."""
        if not shape:
            raise TypeError("expand() needs the sizes to expand to")
        shape = _shape_args(shape)
        if -1 in shape:
            shape = _expanded_shape(self.shape, shape)
        return self if shape == self.shape else _ops.Expand.apply(self, shape=shape)

    expand = broadcast_to

    # arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _ops.Add.apply(self, other if isinstance(other, Tensor) else _operand(self, other))

    def __radd__(self, other: Any) -> Tensor:
        return _ops.Add.apply(_operand(self, other), self)

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            if self._data.dtype is bool_ or other._data.dtype is bool_:
                raise _bool_sub_error()
            return _ops.Sub.apply(self, other)
        other = _operand(self, other)
        if self._data.dtype is bool_ or _is_bool(other):
            raise _bool_sub_error()
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        other = _operand(self, other)
        if self._data.dtype is bool_ or _is_bool(other):
            raise _bool_sub_error()
        return _ops.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self, other if isinstance(other, Tensor) else _operand(self, other))

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(_operand(self, other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(self, other if isinstance(other, Tensor) else _operand(self, other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(_operand(self, other), self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(self, _operand(self, other))

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(_operand(self, other), self)

    def __matmul__(self, other: Any) -> Tensor:
        other = _operand(self, other, scalars=False)
        if other._data.dtype is not self._data.dtype and other.dtype != self.dtype:
            raise _matmul_dtype_error(self, other)
        return _ops.Matmul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        other = _operand(self, other, scalars=False)
        if other._data.dtype is not self._data.dtype and other.dtype != self.dtype:
            raise _matmul_dtype_error(other, self)
        return _ops.Matmul.apply(other, self)

    def __neg__(self) -> Tensor:
        if self._data.dtype is bool_:
            raise RuntimeError("negation, the `-` operator, on a bool tensor is not supported; "
                               "to invert a mask, use the `~` operator or logical_not()")
        return _ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    # comparisons: bool tensors, no gradient
    def __lt__(self, other: Any) -> Tensor:
        return _ops.Lt.apply(self, _operand(self, other))

    def __le__(self, other: Any) -> Tensor:
        return _ops.Le.apply(self, _operand(self, other))

    def __gt__(self, other: Any) -> Tensor:
        return _ops.Gt.apply(self, _operand(self, other))

    def __ge__(self, other: Any) -> Tensor:
        return _ops.Ge.apply(self, _operand(self, other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.Eq.apply(self, _operand(self, other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.Ne.apply(self, _operand(self, other))

    def __invert__(self) -> Tensor:
        if self.dtype.kind == "f":
            raise TypeError(f"~ is defined for integer and bool tensors, not {self.dtype}")
        return _ops.BitwiseNot.apply(self)

    # elementwise functions
    def exp(self) -> Tensor:
        return _ops.Exp.apply(self if self._data.dtype is float32 else self._as_float())

    def log(self) -> Tensor:
        return _ops.Log.apply(self if self._data.dtype is float32 else self._as_float())

    def sqrt(self) -> Tensor:
        return _ops.Sqrt.apply(self if self._data.dtype is float32 else self._as_float())

    def abs(self) -> Tensor:
        if self._data.dtype is bool_:
            raise NotImplementedError("abs: bool tensors are not supported")
        return _ops.Abs.apply(self)

    def tanh(self) -> Tensor:
        return _ops.Tanh.apply(self if self._data.dtype is float32 else self._as_float())

    def sigmoid(self) -> Tensor:
        return _ops.Sigmoid.apply(self if self._data.dtype is float32 else self._as_float())

    def _as_float(self) -> Tensor:
        """A float tensor as it is, an integer or bool one as the default float dtype, for
        float math (PyTorch's promotion; NumPy would give float16 for bool and small ints)."""
        return self if self._data.dtype.kind == "f" else self.astype(dtypes.default_float)

    def sign(self) -> Tensor:
        return self.clone() if self.dtype == bool_ else _ops.Sign.apply(self)

    def relu(self) -> Tensor:
        if self._data.dtype is bool_:
            raise RuntimeError("relu: bool tensors are not supported")
        return _ops.Relu.apply(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return _ops.ClipBounds.apply(self, min, max)
        return _ops.Clip.apply(self, low=min, high=max)

    clamp = clip

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    # reductions
    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None, dtype: Any = None) -> Tensor:
        """The sum over ``axis`` (all by default); integers and bools sum to int64, and
        ``dtype`` casts the input first, as in PyTorch."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        x = self
        if dtype is not None:
            x = self.astype(dtype)
        elif self.dtype.kind in "biu":
            x = self.astype(int64)
        return _ops.Sum.apply(x, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.astype(dtype)
        if x.dtype.kind != "f":  # checked before the dims, as PyTorch does
            raise RuntimeError(f"mean: the input must be a floating-point tensor, got "
                               f"{x.dtype}; pass dtype= or convert it with .float()")
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        return _ops.Mean.apply(x, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, *, correction: int = 1,
            dim: Any = None, keepdim: bool | None = None, unbiased: bool | None = None
            ) -> Tensor:
        """The variance over ``axis``, divided by N - correction (NaN or inf where that is
        not positive, as PyTorch)."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        if unbiased is not None:
            correction = int(unbiased)
        centred = self - self.mean(axis=axis, keepdims=True)
        n = max(_count(self, axis) - correction, 0)
        return (centred * centred).sum(axis=axis, keepdims=keepdims) / n

    def amax(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Tensor:
        """The largest values over ``axis`` (one dim, several, or all); the gradient is
        shared equally among ties."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        _nonempty(self, "amax", axis)
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def amin(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Tensor:
        """The smallest values over ``axis``; the gradient is shared equally among ties."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        _nonempty(self, "amin", axis)
        return _ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Any:
        """Without a dim, the largest value (a tensor). With one, PyTorch's pair
        ``(values, indices)``: the gradient goes to the element each index names."""
        if axis is None and dim is None:
            _nonempty(self, "max", None)
            return _ops.Max.apply(self, whole=True)
        return self._extreme("max", axis, keepdims, dim, keepdim)

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Any:
        """Without a dim, the smallest value; with one, ``(values, indices)``."""
        if axis is None and dim is None:
            _nonempty(self, "min", None)
            return _ops.Min.apply(self, whole=True)
        return self._extreme("min", axis, keepdims, dim, keepdim)

    def _extreme(self, which: str, axis: Any, keepdims: bool, dim: Any,
                 keepdim: bool | None) -> ValuesIndices:
        axis = axis if dim is None else dim
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"{which}: dim must be one int, got {axis!r}; "
                            f"a{which} reduces over several dims")
        axis, keepdims = _axis_args(self, int(axis), keepdims, None, keepdim)
        _nonempty(self, which, axis)
        arg = _ops.Argmax if which == "max" else _ops.Argmin
        indices = arg.apply(self, axis=axis, keepdims=True)
        values = self[_along(self, indices._data, axis)] if self.ndim else self.clone()
        if not keepdims and self.ndim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return ValuesIndices(values, indices)

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: Any = None,
               keepdim: bool | None = None) -> Tensor:
        _not_bool(self, "argmax")
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        _nonempty(self, "argmax", axis, IndexError)
        return _ops.Argmax.apply(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: Any = None,
               keepdim: bool | None = None) -> Tensor:
        _not_bool(self, "argmin")
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        _nonempty(self, "argmin", axis, IndexError)
        return _ops.Argmin.apply(self, axis=axis, keepdims=keepdims)

    def any(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """Whether any element is nonzero (along ``dim``): a bool tensor."""
        axis, keepdims = _axis_args(self, dim, keepdim, axis, keepdims)
        return _ops.AnyTrue.apply(self, axis=axis, keepdims=keepdims)

    def all(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """Whether every element is nonzero (along ``dim``): a bool tensor."""
        axis, keepdims = _axis_args(self, dim, keepdim, axis, keepdims)
        return _ops.AllTrue.apply(self, axis=axis, keepdims=keepdims)

    # movement
    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_args(shape)
        if -1 in shape and shape.count(-1) == 1:  # the one free size is what is left over
            known = -math.prod(shape)
            if known and self._data.size % known == 0:
                shape = tuple(self._data.size // known if n == -1 else n for n in shape)
        return self if shape == self.shape else _ops.Reshape.apply(self, shape=shape)

    def view(self, *shape: Any) -> Tensor:
        """``reshape``; or, given a dtype, the same bytes read as that dtype (the last dim
        scaled by the ratio of the item sizes), a view that carries no gradient (PyTorch)."""
        if not shape:
            raise TypeError("view() needs the sizes (or a dtype) to view as")
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return self._view_as_dtype(as_dtype(shape[0]))
        return self.reshape(*shape)

    def _view_as_dtype(self, dtype: np.dtype) -> Tensor:
        if dtype.itemsize != self.dtype.itemsize:
            size, last = dtype.itemsize, self.shape[-1] if self.ndim else None
            if last is None or (last * self.dtype.itemsize) % size:
                where = ("a 0-d tensor" if last is None else
                         f"a last dim of {last} {self.dtype} items ({last * self.dtype.itemsize}"
                         f" bytes)")
                raise OpError(f"view: cannot view {where} as {dtype} ({size}-byte items)")
        data = self.backend.writable(self._data).view(dtype)
        out = Tensor._make(data, self.backend)
        _share_version(out, self)
        return out

    def transpose(self, *axes: Any) -> Tensor:
        """No axes: reverse them (as ``t.T``). Two dims: swap them (PyTorch's
        ``transpose(dim0, dim1)``). One tuple, or more dims: a full permutation (NumPy)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            return self.permute(tuple(axes[0]))
        if not axes:
            return _ops.Transpose.apply(self, axes=tuple(range(self.ndim - 1, -1, -1)))
        if len(axes) == 2:
            return self.swapaxes(*axes)
        return self.permute(*axes)

    def permute(self, *dims: Any) -> Tensor:
        """The dims in a new order: ``dims`` is a permutation of all of them."""
        if not dims:
            raise TypeError("permute() needs the dims, a permutation of all of them")
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        order = tuple(_dim("permute", d, self.ndim) for d in dims)
        if sorted(order) != list(range(self.ndim)):
            raise OpError(f"permute: {dims} is not an order of all {self.ndim} dims of a "
                             f"tensor of shape {self.shape}")
        return _ops.Transpose.apply(self, axes=order)

    def swapaxes(self, a: int, b: int) -> Tensor:
        a, b = _dim("transpose", a, self.ndim), _dim("transpose", b, self.ndim)
        if self.ndim == 0:
            return self
        order = list(range(self.ndim))
        order[a], order[b] = order[b], order[a]
        return _ops.Transpose.apply(self, axes=tuple(order))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        start = _dim("flatten", start_dim, self.ndim)
        end = _dim("flatten", end_dim, self.ndim)
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise OpError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        merged = math.prod(self.shape[start:end + 1])
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def squeeze(self, axis: Any = None, *, dim: Any = None) -> Tensor:
        axis = dim if dim is not None else axis
        if axis is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = {_dim("squeeze", a, self.ndim)
                    for a in (axis if isinstance(axis, tuple) else (axis,))}
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        axis = dim if dim is not None else axis
        if axis is None:
            raise TypeError("unsqueeze needs the axis (or dim) to insert")
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise IndexError(f"unsqueeze: axis {axis} is out of range for {self.ndim} dims")
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    # PyTorch's other spellings, composed from the ops above
    def dim(self) -> int:
        return self.ndim

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 dims."""
        if self.ndim > 2:
            raise OpError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; "
                             "use transpose(dim0, dim1)")
        return self.transpose()

    def neg(self) -> Tensor:
        return -self

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def square(self) -> Tensor:
        return self * self

    def mm(self, other: Tensor) -> Tensor:
        """The product of two matrices (2-D only; ``matmul`` broadcasts)."""
        if self.ndim != 2 or getattr(other, "ndim", None) != 2:
            raise OpError(f"mm: expects two 2-D tensors, got shapes {self.shape} and "
                             f"{getattr(other, 'shape', other)}")
        return self @ other

    def maximum(self, other: Any) -> Tensor:
        from .tensor_functions import maximum

        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        from .tensor_functions import minimum

        return minimum(self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` is true, else this tensor's elements."""
        from .tensor_functions import where

        out = where(mask, value, self)
        return out if out.dtype == self.dtype else out.astype(self.dtype)  # as PyTorch

    def softmax(self, dim: int = -1) -> Tensor:
        from .functional import softmax

        return softmax(self, axis=dim)

    def log_softmax(self, dim: int = -1) -> Tensor:
        from .functional import log_softmax

        return log_softmax(self, axis=dim)

    def std(self, axis: Any = None, keepdims: bool = False, *, correction: int = 1,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """The square root of ``var`` (unbiased by default, as PyTorch)."""
        var = self.var(axis, keepdims, correction=correction, dim=dim, keepdim=keepdim)
        return _ops.StdFromVar.apply(var)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        """log sum exp along ``dim``, shifted by the (detached) max so that nothing
        overflows."""
        if self.numel() == 0:  # nothing to shift by: sums of nothing are 0, their log -inf
            top = self.detach().sum(axis=dim, keepdims=True)
        else:
            top = self.detach().amax(axis=dim, keepdims=True)
            top = top.masked_fill(top.isinf(), 0)  # a row of -inf sums to 0: its log -inf
        out = (self - top).exp().sum(axis=dim, keepdims=True).log() + top
        return out if keepdim else out.squeeze(dim)

    def type_as(self, other: Tensor) -> Tensor:
        return self.astype(other.dtype)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def contiguous(self) -> Tensor:
        return self  # a backend array is laid out as its backend needs

    def expand_as(self, other: Tensor) -> Tensor:
        return self.broadcast_to(other.shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def ndimension(self) -> int:
        return self.ndim

    def nelement(self) -> int:
        return self.numel()

    def element_size(self) -> int:
        """Bytes per element."""
        return int(self.dtype.itemsize)

    def stride(self, dim: int | None = None) -> Any:
        """Elements (not bytes) to step in memory along each dim, as PyTorch counts them."""
        strides = tuple(s // self.dtype.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_dim("stride", dim, self.ndim)]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    @property
    def is_cuda(self) -> bool:
        return not self.backend.host_memory

    def get_device(self) -> int:
        """-1 for a tensor in host memory, else the index of its GPU (0)."""
        return -1 if self.backend.host_memory else 0

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """This tensor on the GPU (the ``cupy`` device)."""
        return self.to("cuda")

    def pin_memory(self) -> Tensor:
        return self  # host memory is not pinned; copies to the GPU are the same

    def where(self, condition: Any, other: Any) -> Tensor:
        """This tensor where ``condition`` holds, else ``other``."""
        from .tensor_functions import where

        return where(condition, self, other)

    def argwhere(self) -> Tensor:
        """The indices of the nonzero elements, one row each."""
        return self.nonzero()

    def select(self, dim: int, index: int) -> Tensor:
        """The slice at ``index`` along ``dim``, that dim removed."""
        return self[(slice(None),) * _dim("select", dim, self.ndim) + (index,)]

    def mv(self, vec: Tensor) -> Tensor:
        """This matrix times the vector ``vec``."""
        if self.ndim != 2 or getattr(vec, "ndim", None) != 1:
            raise OpError(f"mv: expects a matrix and a vector, got shapes {self.shape} and "
                          f"{getattr(vec, 'shape', None)}")
        return self @ vec

    def fliplr(self) -> Tensor:
        return self.flip(1)

    def flipud(self) -> Tensor:
        return self.flip(0)

    def byte(self) -> Tensor:
        return self.astype(np.uint8)

    def char(self) -> Tensor:
        return self.astype(np.int8)

    def short(self) -> Tensor:
        return self.astype(np.int16)

    def split(self, split_size: int | list[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of
        the sizes in a list."""
        n = self.shape[_dim("split", dim, self.ndim)]
        if isinstance(split_size, (int, np.integer)):
            if split_size <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(split_size, n - start) for start in range(0, n, split_size)] or [0]
        elif sum(split_size) != n:
            raise OpError(f"split: sizes {list(split_size)} do not add up to {n}, the "
                             f"length of dim {dim}")
        else:
            sizes = list(split_size)
        lead = (slice(None),) * _dim("split", dim, self.ndim)
        starts = np.cumsum([0, *sizes[:-1]])
        return tuple(self[(*lead, slice(int(a), int(a) + k))] for a, k in zip(starts, sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """At most ``chunks`` pieces of equal length along ``dim`` (the last may be shorter)."""
        n = self.shape[_dim("chunk", dim, self.ndim)]
        return self.split(max(-(-n // chunks), 1), dim)

    def __getitem__(self, key: Any) -> Tensor:
        index = _as_index(key)
        if _is_basic(index):
            return _ops.Slice.apply(self, index=index)
        split = _ints_first(index)
        if split is not None:  # PyTorch selects by ints first: they are not advanced indices
            return _ops.Index.apply(_ops.Slice.apply(self, index=split[0]), index=split[1])
        return _ops.Index.apply(self, index=index)

    # in place: each bumps the version counter
    def __setitem__(self, key: Any, value: Any) -> None:
        index = _as_index(key)
        value = _operand(self, value)
        if isinstance(value, Tensor) and value.ndim and value.shape[0] == 1:
            # leading size-1 dims broadcast back as needed: PyTorch drops them
            value = value.reshape(_without_leading_ones(value.shape))
        if _records_inplace(self, value):
            self._assign_recorded(lambda before: _ops.SetItem.apply(before, value, index=index))
        else:
            self._data = _writable(self)
            self.backend.setitem(self._data, index, _raw(value))
        self._bump_version()

    def _inplace(self, op: Any, name: str, other: Any) -> Tensor:
        """``self = op(self, other)`` in place, by the backend's ``out=`` form when nothing
        is recorded."""
        other = _operand(self, other)
        if _records_inplace(self, other):
            self._assign_recorded(lambda before: op.apply(before, other))
            self._bump_version()
        else:
            self._data = _writable(self)
            try:
                getattr(self.backend, name)(self._data, _raw(other), out=self._data)
            except TypeError:  # NumPy refuses the cast: say it as PyTorch does
                _castable_into(self, op.apply(self, other))
                raise
            tracer = autograd.tracer
            if tracer is not None and not tracer.paused:
                tracer.inplace(self, name, other)  # a recorded call replays it as it is
                tracer.paused += 1
                try:
                    self._bump_version()
                finally:
                    tracer.paused -= 1
            else:
                self._bump_version()
        return self

    def _update(self, compute: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
        """``self = compute(self)``, written into self's memory: every in-place method
        without a backend ``out=`` form (``relu_``, ``exp_``, ``masked_fill_``, ...)."""
        if _records_inplace(self, *others):
            self._assign_recorded(compute)
        else:
            result = _castable_into(self, compute(self))
            self._data = _writable(self)
            self.backend.setitem(self._data, Ellipsis, result._data)
        self._bump_version()
        return self

    def _assign_recorded(self, compute: Callable[[Tensor], Tensor]) -> None:
        """``self = compute(self)`` on the tape, written into self's own memory.

        The op computes on a copy that carries self's history, so what it saves stays
        valid. When self is a view, its base is rebased (PyTorch's CopySlices): the base's
        new value is its old one with the view's region replaced, and the gradient of
        every live view of that memory is rerouted through it.
        """
        view = getattr(self, "_view", None)
        if view is not None and not self.backend.shares_memory(self._data, view[0]._data):
            view = None  # a reshape that had to copy: its own memory, nothing to rebase
        target = self if view is None else view[0]
        if target._node is None and target._requires_grad:
            what = "a view of a leaf tensor" if view is not None else "a leaf tensor"
            raise RuntimeError(
                f"{what} that requires grad is being used in an in-place operation; do it "
                "inside `with mg.no_grad():` or on a copy"
            )
        _writable(self)
        result = _castable_into(self, compute(_with_history(self)))
        if view is not None:
            result = _ops.WriteThroughView.apply(_with_history(target), result, chain=view[1])
        target._data = _writable(target)
        target.backend.setitem(target._data, Ellipsis, result._data)
        retained = getattr(target._node, "_retained", None)
        if retained is not None:  # retain_grad follows the tensor to its new value (PyTorch)
            del target._node._retained
            result._node._retained = retained
        target._node = result._node
        target._requires_grad = result._requires_grad
        if target._version is not None and target._version.has_views:
            _reroute_views(target._version)

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(_ops.Add, "add", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(_ops.Sub, "sub", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(_ops.Mul, "mul", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(_ops.Div, "div", other)

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._inplace(_ops.Add, "add", other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._inplace(_ops.Sub, "sub", other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(_ops.Mul, "mul", other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace(_ops.Div, "div", other)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        self[...] = value
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with numbers drawn uniformly from [a, b)."""
        from .creation import rand

        return self._update(lambda t: rand(t.shape, generator=generator, dtype=t.dtype,
                                           device=t.device) * (b - a) + a)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with numbers drawn from N(mean, std^2)."""
        from .creation import randn

        return self._update(lambda t: randn(t.shape, generator=generator, dtype=t.dtype,
                                            device=t.device) * std + mean)

    def bernoulli_(self, p: float = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with ones drawn with probability ``p``, else zeros."""
        from .creation import rand

        return self._update(lambda t: (rand(t.shape, generator=generator,
                                            device=t.device) < p).astype(t.dtype))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with numbers drawn from the exponential distribution of rate ``lambd``."""
        from .creation import rand

        return self._update(lambda t: -(1 - rand(t.shape, generator=generator, dtype=t.dtype,
                                                 device=t.device)).log() / lambd)

    def copy_(self, src: Any) -> Tensor:
        if isinstance(src, Tensor) and src.backend is not self.backend:
            src = src.to(self.backend)
        self[...] = src
        return self

    # shape, indexing, scans, sorting and norms (PyTorch's methods; see tensor_functions)
    def repeat(self, *sizes: Any) -> Tensor:
        """This tensor tiled ``sizes[i]`` times along each dim (at least one per dim;
        more add leading dims)."""
        from .tensor_functions import _repeat

        return _repeat(self, _shape_args(sizes))

    def tile(self, *sizes: Any, dims: Any = None) -> Tensor:
        from .tensor_functions import tile

        return tile(self, _shape_args(sizes) if dims is None else dims)

    def flip(self, *axes: Any, dims: Any = None) -> Tensor:
        from .tensor_functions import flip

        return flip(self, _shape_args(axes) if dims is None else dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        from .tensor_functions import roll

        return roll(self, shifts, dims)

    def tril(self, diagonal: int = 0) -> Tensor:
        from .tensor_functions import tril

        return tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        from .tensor_functions import triu

        return triu(self, diagonal)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Windows of ``size`` elements, ``step`` apart, along ``dimension`` (which becomes
        the count of windows), as a new last dim."""
        from .tensor_functions import _unfold

        return _unfold(self, dimension, size, step)

    def gather(self, dim: int, index: Any) -> Tensor:
        from .tensor_functions import gather

        return gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        from .tensor_functions import scatter

        return scatter(self, dim, index, src, reduce, value=value)

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        """``scatter`` written into this tensor."""
        from .tensor_functions import _gather_index, _source, scatter

        src = value if src is None else src
        if reduce is not None or self.ndim == 0:  # the op keeps a copy of self's values
            return self.copy_(scatter(self.clone(), dim, index, src, reduce))
        index = index if isinstance(index, Tensor) else Tensor(index, device=self.backend)
        if index.ndim != self.ndim:
            raise ValueError(f"scatter_: index has {index.ndim} dims, the tensor {self.ndim}")
        where = _gather_index(index, _dim("scatter_", dim, self.ndim))
        self[where] = _source(src, self, index.shape, "scatter_")
        return self

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        from .tensor_functions import scatter_add

        return scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        """``scatter_add`` written into this tensor."""
        from .tensor_functions import scatter_add

        return self.copy_(scatter_add(self, dim, index, src))

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        from .tensor_functions import scatter_reduce

        return scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim: int, index: Any, src: Any, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        """``scatter_reduce`` written into this tensor."""
        from .tensor_functions import scatter_reduce

        return self.copy_(scatter_reduce(self.clone(), dim, index, src, reduce,
                                         include_self=include_self))

    def index_select(self, dim: int, index: Any) -> Tensor:
        from .tensor_functions import index_select

        return index_select(self, dim, index)

    def masked_select(self, mask: Any) -> Tensor:
        from .tensor_functions import masked_select

        return masked_select(self, mask)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        from .tensor_functions import nonzero

        return nonzero(self, as_tuple=as_tuple)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        from .tensor_functions import cumsum

        return cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        from .tensor_functions import cumprod

        return cumprod(self, dim, dtype=dtype)

    def cummax(self, dim: int) -> Any:
        from .tensor_functions import cummax

        return cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        from .tensor_functions import cummin

        return cummin(self, dim)

    def logcumsumexp(self, dim: int) -> Tensor:
        from .tensor_functions import logcumsumexp

        return logcumsumexp(self, dim)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        from .tensor_functions import sort

        return sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        from .tensor_functions import argsort

        return argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        from .tensor_functions import topk

        return topk(self, k, dim, largest, sorted)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        from .tensor_functions import norm

        return norm(self, p, dim, keepdim, dtype)


    # PyTorch's arithmetic spellings, remainders and bits
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """self + alpha * other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """self / other, or rounded: toward -inf (``"floor"``) or toward 0 (``"trunc"``)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode != "trunc":
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                             f"{rounding_mode!r}")
        other = _operand(self, other)
        other_kind = other.dtype.kind if isinstance(other, Tensor) else (
            "f" if isinstance(other, float) else "i")
        if self.dtype.kind == "f" or other_kind == "f":
            return (self / other).trunc()
        return (self - self.fmod(other)) // other  # exact on integers

    subtract = sub
    multiply = mul
    divide = div
    true_divide = __truediv__

    def floor_divide(self, other: Any) -> Tensor:
        return self // other

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops.FloorDivide.apply(self, other if isinstance(other, Tensor)
                                      else _operand(self, other))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.FloorDivide.apply(_operand(self, other), self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.Remainder.apply(self, other if isinstance(other, Tensor)
                                    else _operand(self, other))

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.Remainder.apply(_operand(self, other), self)

    def remainder(self, other: Any) -> Tensor:
        """The remainder of floor division: the sign of ``other``, as Python's ``%``."""
        return self % other

    def fmod(self, other: Any) -> Tensor:
        """The remainder of truncated division: the sign of ``self``, as C's ``fmod``."""
        return _ops.Fmod.apply(self, _operand(self, other))

    def __and__(self, other: Any) -> Tensor:
        return _ops.BitwiseAnd.apply(self, _operand(self, other))

    def __rand__(self, other: Any) -> Tensor:
        return _ops.BitwiseAnd.apply(_operand(self, other), self)

    def __or__(self, other: Any) -> Tensor:
        return _ops.BitwiseOr.apply(self, _operand(self, other))

    def __ror__(self, other: Any) -> Tensor:
        return _ops.BitwiseOr.apply(_operand(self, other), self)

    def __xor__(self, other: Any) -> Tensor:
        return _ops.BitwiseXor.apply(self, _operand(self, other))

    def __rxor__(self, other: Any) -> Tensor:
        return _ops.BitwiseXor.apply(_operand(self, other), self)

    def __lshift__(self, other: Any) -> Tensor:
        return _ops.LeftShift.apply(self, _operand(self, other))

    def __rlshift__(self, other: Any) -> Tensor:
        return _ops.LeftShift.apply(_operand(self, other), self)

    def __rshift__(self, other: Any) -> Tensor:
        return _ops.RightShift.apply(self, _operand(self, other))

    def __rrshift__(self, other: Any) -> Tensor:
        return _ops.RightShift.apply(_operand(self, other), self)

    bitwise_and = __and__
    bitwise_or = __or__
    bitwise_xor = __xor__
    bitwise_not = __invert__
    bitwise_left_shift = __lshift__
    bitwise_right_shift = __rshift__

    def logical_not(self) -> Tensor:
        return self == 0

    def logical_and(self, other: Any) -> Tensor:
        return (self != 0) & (_operand(self, other) != 0)

    def logical_or(self, other: Any) -> Tensor:
        return (self != 0) | (_operand(self, other) != 0)

    def logical_xor(self, other: Any) -> Tensor:
        return (self != 0) ^ (_operand(self, other) != 0)

    # rounding (sin, cos, erf, atan2, ... are registered beside their ops, in ops.py)
    def floor(self) -> Tensor:
        return _ops.Floor.apply(self) if self.dtype.kind == "f" else self.clone()

    def ceil(self) -> Tensor:
        return _ops.Ceil.apply(self) if self.dtype.kind == "f" else self.clone()

    def trunc(self) -> Tensor:
        return _ops.Trunc.apply(self) if self.dtype.kind == "f" else self.clone()

    fix = trunc

    def round(self, decimals: int = 0) -> Tensor:
        """To the nearest integer (halves to even), or to ``decimals`` decimal places."""
        if self.dtype.kind != "f":
            return self.clone()
        if decimals == 0:
            return _ops.Round.apply(self)
        scale = 10.0 ** abs(decimals)
        if decimals > 0:
            return _ops.Round.apply(self * scale) / scale
        return _ops.Round.apply(self / scale) * scale

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight * (end - self), in PyTorch's two forms (exact at both ends)."""
        diff = end - self
        if not isinstance(weight, Tensor):
            if abs(weight) < 0.5:
                return self + weight * diff
            return end - diff * (1 - weight)
        from .tensor_functions import where

        return where(weight.abs() < 0.5, self + weight * diff, end - diff * (1 - weight))

    # tests (isnan, isinf, isfinite: in ops.py)
    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """Where |self - other| <= atol + rtol |other| (or they are equal), as PyTorch."""
        with autograd.no_grad():
            a, b = self.detach(), _operand(self, other)
            b = b.detach() if isinstance(b, Tensor) else b
            close = a == b
            if equal_nan:
                close = close | (a.isnan() & (b != b))
            if rtol == 0 and atol == 0:
                return close
            with np.errstate(invalid="ignore"):  # inf - inf is NaN, and not close
                error = (a - b).abs()
            return close | (error.isfinite() & (error <= atol + abs(rtol * b)))

    # dtypes and formatting
    def half(self) -> Tensor:
        return self.astype(np.float16)

    def type(self, dtype: Any = None) -> Any:
        """With no argument, PyTorch's name of this tensor's type ('torch.FloatTensor');
        given a dtype or such a name, this tensor converted to it."""
        if dtype is None:
            prefix = "torch." if self.backend.host_memory else "torch.cuda."
            return prefix + _TYPE_NAMES[self.dtype]
        if not isinstance(dtype, str):
            return self.astype(dtype)
        name = dtype.rpartition(".")[2]
        found = [dt for dt, type_name in _TYPE_NAMES.items() if type_name == name]
        if not found or not dtype.startswith("torch."):
            raise ValueError(f"type: invalid type {dtype!r}")
        on_gpu = dtype.startswith("torch.cuda.")
        moved = self if on_gpu != self.backend.host_memory else self.to(
            "cuda" if on_gpu else "cpu")
        return moved.astype(found[0])

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:  # as PyTorch: a 0-d tensor formats as its value
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # more of PyTorch's vocabulary (their functions: in tensor_functions)
    negative = neg
    absolute = abs
    sgn = sign  # for real tensors, the sign

    def clamp_min(self, min: Any) -> Tensor:
        return self.clip(min=min)

    def clamp_max(self, max: Any) -> Tensor:
        return self.clip(max=max)

    def logit(self, eps: float | None = None) -> Tensor:
        from .tensor_functions import logit

        return logit(self, eps)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        from .tensor_functions import nan_to_num

        return nan_to_num(self, nan, posinf, neginf)

    def float_power(self, exponent: Any) -> Tensor:
        from .tensor_functions import float_power

        return float_power(self, exponent)

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        from .tensor_functions import addcmul

        return addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        from .tensor_functions import addcdiv

        return addcdiv(self, tensor1, tensor2, value=value)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        from .tensor_functions import index_add

        return index_add(self, dim, index, source, alpha=alpha)

    def index_fill(self, dim: int, index: Any, value: Any) -> Tensor:
        from .tensor_functions import index_fill

        return index_fill(self, dim, index, value)

    def index_copy(self, dim: int, index: Any, source: Any) -> Tensor:
        from .tensor_functions import index_copy

        return index_copy(self, dim, index, source)

    def masked_scatter(self, mask: Any, source: Any) -> Tensor:
        from .tensor_functions import masked_scatter

        return masked_scatter(self, mask, source)
    # linear algebra, statistics and shape vocabulary (see tensor_functions)
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    def dot(self, other: Tensor) -> Tensor:
        from .tensor_functions import dot

        return dot(self, other)

    def bmm(self, mat2: Tensor) -> Tensor:
        from .tensor_functions import bmm

        return bmm(self, mat2)

    def outer(self, vec2: Tensor) -> Tensor:
        from .tensor_functions import outer

        return outer(self, vec2)

    ger = outer

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        from .tensor_functions import addmm

        return addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
                alpha: Any = 1) -> Tensor:
        from .tensor_functions import baddbmm

        return baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def diag(self, diagonal: int = 0) -> Tensor:
        from .tensor_functions import diag

        return diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        from .tensor_functions import diagonal

        return diagonal(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        from .tensor_functions import trace

        return trace(self)

    def kron(self, other: Tensor) -> Tensor:
        from .tensor_functions import kron

        return kron(self, other)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        from .tensor_functions import cross

        return cross(self, other, dim)

    def inverse(self) -> Tensor:
        from .tensor_functions import inverse

        return inverse(self)

    def det(self) -> Tensor:
        from .tensor_functions import det

        return det(self)

    def logdet(self) -> Tensor:
        from .tensor_functions import logdet

        return logdet(self)

    def prod(self, dim: int | None = None, keepdim: bool = False, *,
             dtype: Any = None) -> Tensor:
        from .tensor_functions import prod

        return prod(self, dim, keepdim, dtype=dtype)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        from .tensor_functions import median

        return median(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        from .tensor_functions import mode

        return mode(self, dim, keepdim)

    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        from .tensor_functions import nansum

        return nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        from .tensor_functions import nanmean

        return nanmean(self, dim, keepdim, dtype=dtype)

    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        from .tensor_functions import quantile

        return quantile(self, q, dim, keepdim, interpolation=interpolation)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        from .tensor_functions import count_nonzero

        return count_nonzero(self, dim)

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        from .tensor_functions import narrow

        return narrow(self, dim, start, length)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        from .tensor_functions import movedim

        return movedim(self, source, destination)

    moveaxis = movedim

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return self.swapaxes(dim0, dim1)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        from .tensor_functions import unflatten

        return unflatten(self, dim, sizes)

    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
        from .tensor_functions import rot90

        return rot90(self, k, dims)

    def take(self, index: Any) -> Tensor:
        from .tensor_functions import take

        return take(self, index)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        from .tensor_functions import take_along_dim

        return take_along_dim(self, indices, dim)

    def repeat_interleave(self, repeats: Any = None, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        from .tensor_functions import repeat_interleave

        return repeat_interleave(self, repeats, dim, output_size=output_size)

    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None,
             append: Any = None) -> Tensor:
        from .tensor_functions import diff

        return diff(self, n, dim, prepend, append)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: int | None = None) -> Any:
        from .tensor_functions import unique

        return unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights: Any = None, minlength: int = 0) -> Tensor:
        from .tensor_functions import bincount

        return bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
        from .tensor_functions import histc

        return histc(self, bins, min, max)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        from .tensor_functions import allclose

        return allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: Any) -> bool:
        from .tensor_functions import equal

        return equal(self, other)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        from .creation import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        from .creation import bernoulli

        return bernoulli(self, p, generator=generator)


_TYPE_NAMES = {
    np.dtype(np.float16): "HalfTensor", np.dtype(np.float32): "FloatTensor",
    np.dtype(np.float64): "DoubleTensor", np.dtype(np.int8): "CharTensor",
    np.dtype(np.uint8): "ByteTensor", np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int32): "IntTensor", np.dtype(np.int64): "LongTensor",
    np.dtype(np.bool_): "BoolTensor",
}


def _expanded_shape(shape: tuple, sizes: tuple) -> tuple:
    """``sizes`` with each -1 replaced by the size it keeps (none in new leading dims)."""
    lead = len(sizes) - len(shape)
    if lead < 0 or -1 in sizes[:lead]:
        raise ValueError(f"expand: cannot expand a tensor of shape {shape} to {sizes}")
    return tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))


def _clear_grad(t: Tensor) -> None:
    t._grad = None


def inplace_variant(name: str) -> Callable[..., Tensor]:
    """``Tensor.<name>_``: the method ``name`` computed, then written into the tensor's own
    memory (in the tensor's dtype, on the tape when gradients are recorded)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._update(lambda t: getattr(t, name)(*args, **kwargs), *args,
                            *kwargs.values())

    method.__name__ = f"{name}_"
    method.__qualname__ = f"Tensor.{name}_"
    method.__doc__ = f"``{name}``, in place."
    return method


#: the methods above that PyTorch also has in place, as ``relu_``, ``clamp_``, ...
INPLACE = ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "neg", "negative", "pow",
           "sign", "floor", "ceil", "round", "trunc", "fix", "square", "lerp", "remainder",
           "fmod", "clamp", "clip", "clamp_min", "clamp_max", "logical_not", "logical_and",
           "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "true_divide",
           "floor_divide", "tril", "triu", "masked_fill", "cumsum", "cumprod", "index_add",
           "index_fill", "index_copy", "masked_scatter", "addcmul", "addcdiv", "float_power",
           "reciprocal", "rsqrt", "log1p", "expm1", "exp2", "log2", "log10", "sgn", "frac",
           "nan_to_num", "logit", "hypot", "xlogy", "heaviside", "absolute", "scatter_add",
           "scatter_reduce")


def _records_inplace(t: Tensor, *others: Any) -> bool:
    return autograd.grad_state.enabled and (
        t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    )


def _writable(t: Tensor) -> Any:
    """``t``'s array, ready to be written in place (an expanded tensor cannot be)."""
    if t.backend.is_read_only(t._data):
        raise OpError("unsupported operation: more than one element of the written-to tensor "
                      "refers to a single memory location, or its memory is read-only (an "
                      "expanded tensor); clone() it before changing it in place")
    return t.backend.writable(t._data)


def _with_history(t: Tensor) -> Tensor:
    """A copy of ``t``'s values that carries its history: what an in-place op computes on."""
    before = Tensor._make(t.backend.copy(t._data), t.backend, t._node)
    before._requires_grad = t._requires_grad
    return before


def _castable_into(t: Tensor, result: Tensor) -> Tensor:
    """``result``, to be written into ``t``: of t's shape, and in t's dtype (PyTorch's
    casting rule: within a kind or to a wider kind, never float into int)."""
    if result.shape != t.shape:
        raise OpError(f"output with shape {list(t.shape)} doesn't match the broadcast shape "
                      f"{list(result.shape)}")
    if result.dtype != t.dtype:
        if not np.can_cast(result.dtype, t.dtype, "same_kind"):
            raise OpError(f"result type {result.dtype} can't be cast to the desired output "
                          f"type {t.dtype}")
        result = result.astype(t.dtype)
    return result


def _reroute_views(version: Any) -> None:
    """Give every live view of a memory that changed in place the history of its new
    values: the view op again, applied to its base as it is now."""
    for ref in list(version.views):
        view = ref()
        if view is None:
            continue
        base, chain = view._view
        rebuilt = _through_views(base, chain)
        view._node, view._requires_grad = rebuilt._node, rebuilt._requires_grad


def _through_views(t: Tensor, chain: tuple) -> Tensor:
    """``t`` through the view ops of ``chain`` (each an op class and its parameters)."""
    for op, params in chain:
        t = op.apply(t, **params)
    return t


def _raw(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _share_version(view: Tensor, base: Tensor) -> None:
    view._version = version = autograd.version_of(base)
    version.has_views = True


_SCALARS = (int, float, bool)


def to_args(args: tuple, device: Any, dtype: Any) -> tuple[Any, Any]:
    """The device and dtype of PyTorch's ``to(...)`` arguments: a device name (or
    backend), a dtype, both, or a tensor whose device and dtype they are; then the
    keywords."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.backend, arg.dtype
        elif isinstance(arg, str | Backend):
            device = arg
        else:
            dtype = arg
    return device, dtype


def _operand(t: Tensor, other: Any, scalars: bool = True) -> Any:
    """The other operand of a binary op: a Tensor, or a Python scalar left as it is."""
    if isinstance(other, Tensor):
        return other
    if scalars and type(other) in _SCALARS:
        return other
    if isinstance(other, np.generic):
        return _operand(t, other.item(), scalars)
    return Tensor(other, device=t.backend)


def _to_array(data: Any, dtype: Any, backend: Backend) -> Any:
    """A new backend array holding ``data``: float32 for Python floats, int64 for ints."""
    dt = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        source = data.backend
        host = data._data if source is backend else source.to_numpy(data._data)
        return backend.asarray(host, dt)
    if isinstance(data, np.ndarray | np.generic):
        arr = np.asarray(data)
    elif hasattr(data, "__cuda_array_interface__"):  # a GPU array: no round trip through host
        return backend.asarray(data, dt)
    else:
        try:
            arr = np.array(data)
        except ValueError as err:
            raise ValueError(f"cannot make a tensor from a ragged nested sequence: {err}") from None
        if dt is None and arr.dtype == np.float64:
            dt = dtypes.default_float
    if arr.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} values")
    if dt is None:
        dt = as_dtype(arr.dtype)
    return backend.asarray(arr, dt)


def _dim(name: str, d: int, ndim: int) -> int:
    """``d`` as an index in [0, ndim), negative counting from the end; a 0-d tensor takes
    0 and -1, as in PyTorch."""
    size = max(ndim, 1)
    if not -size <= d < size:
        raise IndexError(f"{name}: dim {d} is out of range for a tensor of {ndim} dims "
                         f"(expected one in [{-size}, {size - 1}])")
    return d % size


def _axis_args(t: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> tuple:
    """``(axis, keepdims)`` from NumPy's or PyTorch's names, each dim checked and made
    non-negative; a 0-d tensor takes dim 0 or -1, which reduce nothing (as PyTorch)."""
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, (tuple, list)):
        axis = tuple(_dim("reduce", a, t.ndim) for a in axis)
        if not axis:
            axis = None
    elif axis is not None:
        axis = _dim("reduce", axis, t.ndim)
    if t.ndim == 0 and axis is not None:
        axis = None
    return axis, bool(keepdims)


def _is_bool(x: Any) -> bool:
    return type(x) is bool or (isinstance(x, Tensor) and x._data.dtype is bool_)


def _bool_sub_error() -> RuntimeError:
    return RuntimeError("subtraction, the `-` operator, with a bool tensor is not supported; "
                        "to invert a mask, use the `~` operator or logical_not()")


def _matmul_dtype_error(a: Tensor, b: Tensor) -> OpError:
    return OpError(f"matmul: both operands must have the same dtype, got {a.dtype} and "
                   f"{b.dtype}; convert one (e.g. .astype({str(b.dtype)!r}))")


def _not_bool(t: Tensor, name: str) -> None:
    if t._data.dtype is bool_:
        raise RuntimeError(f"{name}: bool tensors are not supported; convert with .int()")


def _without_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A value's shape without its leading size-1 dims, which PyTorch drops in setitem."""
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return shape[i:]


def _nonempty(t: Tensor, name: str, axis: Any, whole: type = OpError) -> None:
    """Refuse, as PyTorch does, a max or min over no elements (``whole``: the error when
    no dim is given)."""
    if t._data.size:
        return
    if axis is None:
        raise whole(f"{name}(): a reduction of an empty tensor {t.shape} needs a dim")
    for a in axis if isinstance(axis, tuple) else (axis,):
        if t.shape[a] == 0:
            raise IndexError(f"{name}(): dim {a} of shape {t.shape} has no elements to "
                             "reduce")


def _along(t: Tensor, indices: Any, axis: int) -> tuple:
    """The index that picks, along ``axis``, the element each of ``indices`` names (its
    shape ``t``'s with ``axis`` kept as 1): NumPy's ``take_along_axis`` as an index."""
    xp = t.backend
    index = []
    for i, n in enumerate(t.shape):
        if i == axis:
            index.append(indices)
        else:
            shape = [1] * t.ndim
            shape[i] = n
            index.append(xp.reshape(xp.arange(0, n, 1, int64), tuple(shape)))
    return tuple(index)


def _count(t: Tensor, axis: Any) -> int:
    return _ops.reduced_count(t.shape, axis)


def _shape_args(shape: tuple) -> tuple[int, ...]:
    """A shape given as ints or as one tuple or list; floats are refused, not truncated."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            if not (isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu"):
                raise TypeError(f"a shape must be ints, but found {n!r} "
                                f"({type(n).__name__}) in {tuple(shape)}")
    return tuple(int(n) for n in shape)


def _as_index(key: Any) -> Any:
    """An index NumPy understands: tensors inside it become arrays."""
    if isinstance(key, tuple):
        return tuple(_as_index(k) for k in key)
    if isinstance(key, Tensor):  # copied: the op keeps it, safe from later edits
        return key.backend.copy(key._data)
    if isinstance(key, (list, np.ndarray)):
        return np.array(key)
    if isinstance(key, slice) and key.step is not None and key.step <= 0:
        raise ValueError(f"step must be greater than zero, got {key.step}")
    return key


_BASIC = (int, slice, type(None), type(Ellipsis))


def _ints_first(index: Any) -> tuple | None:
    """For an index that mixes ints with index arrays, the ints as a basic index of their
    own and what remains, or None. NumPy counts ints among the advanced indices, which moves
    the indexed dims to the front when a slice stands between; PyTorch does not."""
    if not isinstance(index, tuple):
        return None
    ints = [isinstance(k, int) and not isinstance(k, bool) for k in index]
    if not any(ints) or all(isinstance(k, _BASIC) for k in index):
        return None
    first, rest = [], []
    for k, is_int in zip(index, ints):
        if is_int:
            first.append(k)
        elif k is None:
            rest.append(k)
        else:
            rest.append(k)
            dims = k.ndim if getattr(k, "dtype", None) is not None and k.dtype.kind == "b" else 1
            first.extend([k] if k is Ellipsis else [slice(None)] * dims)
    return tuple(first), tuple(rest)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) gives a view; anything else copies."""
    if isinstance(index, tuple):
        return all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in index)
    return isinstance(index, _BASIC) and not isinstance(index, bool)


for _name in INPLACE:
    if hasattr(Tensor, _name) and not hasattr(Tensor, f"{_name}_"):
        setattr(Tensor, f"{_name}_", inplace_variant(_name))

from . import ops as _ops  # noqa: E402  (ops build on Tensor)
