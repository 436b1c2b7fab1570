"""Differentiable functions: how an op runs forward and records itself on the tape."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import autograd, dtypes
from .autograd import Context, _sequence
from .dtypes import float16, float32, float64, int16, int32, int64
from .errors import OpError
from .tensor import Tensor

_FLOAT64 = float64
_FLOAT16 = float16
_FLOAT32 = float32
# result dtypes that NumPy's promotion may widen beyond PyTorch's
_RECHECKED = frozenset((float64, int64, int32, int16))


class Function:
    """A differentiable op, as in PyTorch: the one way an op runs forward and is recorded.

    Subclass it with ``@staticmethod forward(ctx, *args)`` and
    ``@staticmethod backward(ctx, *grads)``, both written with tensors; keep what the
    gradient needs with ``ctx.save_for_backward(*tensors)`` and read it back from
    ``ctx.saved_tensors``. Call it as ``MyOp.apply(*args)``. ``backward`` returns one
    gradient per argument of ``forward`` (None for those that need none).

    The built-in ops (``Op``) are Functions whose formulas run on backend arrays; both
    kinds are recorded by ``apply`` below, and replayed by the same backward pass.
    """

    array_level = False  # forward and backward compute on tensors (Op: on backend arrays)
    differentiable = True
    saves_inputs = False  # an Op's declarations of what its gradient reads (see Op)
    saves_output = False
    grad_uses = None  # per input, which saved inputs its gradient reads (None: all of them)
    replayable = False  # mg.compile may replay its forward with a ctx it keeps
    is_view = False  # the output shares memory with the first input
    sets_dtype = False  # the output dtype is the op's choice, not promotion's

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **params: Any) -> Tensor:
        """Run the op forward on ``args`` and, where an input requires grad, record it."""
        # the inputs: their device, their arrays, and per input the node (or the leaf
        # itself) its gradient goes to, None where none is wanted
        backend = None
        record = False
        half = False  # a float16 input: compute in float32, round once
        arrays = []
        entries = []
        for a in args:
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a.backend
                elif a.backend is not backend:
                    raise device_error(cls, backend, a.backend)
                data = a._data
                arrays.append(data)
                if data.dtype is _FLOAT16:
                    half = True
                if a._requires_grad:
                    record = True
                    entries.append(a._node or a)
                else:
                    entries.append(None)
            else:
                arrays.append(a)
                entries.append(None)
        ctx = Context()
        ctx.backend = backend
        # forward: an Op's on the arrays, a Function's on the tensors themselves
        if cls.array_level:
            returned = None
            if half:
                half = not (cls.is_view or cls.sets_dtype) and _promoted_float(arrays) is _FLOAT16
                arrays = [_widen(a) for a in arrays] if half else arrays
            try:
                out = cls.forward(ctx, *arrays, **params)
            except (ValueError, TypeError, IndexError) as err:
                raise _input_error(cls, args, err) from err
            if not out.ndim:  # NumPy gives a 0-d result as a scalar: a tensor holds an array
                out = ctx.backend.writable(out)
            dtype = out.dtype
            if half and dtype.kind == "f":
                out = ctx.backend.astype(out, float16)
            elif dtype is not _FLOAT32 and dtype in _RECHECKED and not cls.sets_dtype:
                out = _no_silent_widening(ctx, arrays, out)
        else:
            half = False
            returned = _forward_on_tensors(cls, ctx, args, entries, params)
            out = returned._data
            record = record and out.dtype.kind == "f"
        result = object.__new__(Tensor)
        result._data = out
        result.backend = ctx.backend
        result._grad = None
        if cls.is_view:
            _note_view(cls, params, args[0], result)
        else:
            result._version = None
        # recording: the node, its inputs, and what its gradient reads
        if record and cls.differentiable and autograd.grad_state.enabled:
            ctx.op = cls
            ctx.inputs = entries
            ctx.seq = next(_sequence)
            ctx.shape = out.shape
            ctx.dtype = out.dtype
            if cls.saves_output:
                ctx._output_version = autograd.version_of(result)
                ctx._saved = arrays + [out] if cls.saves_inputs else (out,)
            elif cls.saves_inputs:
                ctx._saved = arrays
            elif returned is not None:
                _keep_saved_tensors(ctx, returned, result)
            else:
                ctx._saved = ()
            if cls.saves_inputs:
                ctx._args = args
            result._requires_grad = True
            result._node = ctx
        else:
            result._requires_grad = False
            result._node = None
        if autograd.tracer is not None:
            autograd.tracer.op(cls, ctx, args, params, half, result)
        return result


class Op(Function):
    """A built-in primitive: ``forward`` computes on backend arrays (``ctx.backend``).

    ``backward`` is written with operators and ``ctx.xp``, so it runs on arrays, or on
    tensors when the backward pass is recorded. What it needs of the forward pass is
    declared by ``saves_inputs`` / ``saves_output`` and arrives, in that order, as
    ``ctx.saved_tensors``; anything else is a constant attribute the forward sets on ctx.
    """

    array_level = True
    replayable = True


def _forward_on_tensors(cls: type, ctx: Context, args: tuple, entries: list,
                        params: dict) -> Tensor:
    """A Function's forward on the tensors themselves, nothing inside recorded: the tensor
    it returns (the output is on that tensor's device)."""
    ctx.inputs = entries  # for ctx.needs_input_grad
    ctx._saved = ()
    with autograd.no_grad():
        out = cls.forward(ctx, *args, **params)
    if not isinstance(out, Tensor):
        raise TypeError(f"{cls.__name__}.forward must return one Tensor, got {type(out)}")
    ctx.backend = out.backend
    return out


def _keep_saved_tensors(ctx: Context, returned: Tensor, result: Tensor) -> None:
    """What a Function's forward saved, kept as its backward will read it (``_args``), and
    their arrays (``_saved``). The tensor the forward returned shares ``result``'s version
    counter, so that an in-place change of the result is seen."""
    saved = tuple(ctx._saved)
    if any(t is returned for t in saved):
        returned._version = result._version = autograd.version_of(returned)
    ctx._args = saved
    ctx._saved = tuple(t._data if isinstance(t, Tensor) else t for t in saved)


def _note_view(cls: type, params: dict, source: Tensor, view: Tensor) -> None:
    """``view`` shares ``source``'s memory and version counter, and keeps how it was made
    from the tensor that owns the memory, so an in-place change can be written through."""
    view._version = version = autograd.version_of(source)
    version.has_views = True
    base, chain = getattr(source, "_view", None) or (source, ())
    view._view = (base, (*chain, (cls, params)))
    version.views.append(weakref.ref(view))
    if len(version.views) > 64:
        version.views = [ref for ref in version.views if ref() is not None]


def _widen(a: Any) -> Any:
    """A float16 array as float32, anything else as it is: float16 ops compute in float32
    and round once, as PyTorch's do (``x / 1e5`` is not 0, a mean of 70,000 ones is 1)."""
    return a.astype(float32) if getattr(a, "dtype", None) is _FLOAT16 else a


def _no_silent_widening(ctx: Context, arrays: list, out: Any) -> Any:
    """``out`` in the dtype PyTorch's promotion gives where NumPy's may give a wider one."""
    if out.dtype is _FLOAT64:
        return _no_silent_float64(ctx, arrays, out)
    target = _promoted_int(arrays)
    return out if target is None or target == out.dtype else ctx.backend.astype(out, target)


def _promoted_int(arrays: list) -> Any:
    """The integer dtype of an op's result by PyTorch's rules where a 0-d integer operand
    stands beside one with dimensions (else None: NumPy agrees): the 0-d one does not widen
    the others, unless they are bool."""
    ints = [a for a in arrays if hasattr(a, "dtype") and a.dtype.kind in "biu"]
    dims = [a.dtype for a in ints if a.ndim > 0]
    zero_d = [a.dtype for a in ints if a.ndim == 0]
    if not dims or not zero_d:
        return None
    target = np.result_type(*dims)
    return np.result_type(*zero_d, target) if target.kind == "b" else target


def _no_silent_float64(ctx: Context, arrays: list, out: Any) -> Any:
    """float64 only where a float64 operand asks for it, by PyTorch's rules where NumPy's
    give float64: integers promote to float32, and a 0-d float64 operand (a reduction's
    result, a NumPy scalar) does not widen float operands that have dimensions."""
    target = _promoted_float(arrays)
    return out if target is _FLOAT64 else ctx.backend.astype(out, target)


def _promoted_float(arrays: list) -> Any:
    """The float dtype of an op's result by PyTorch's rules: the widest float operand with
    dimensions, else the widest 0-d one; Python numbers and integers count for nothing."""
    floats = [a for a in arrays if hasattr(a, "dtype") and a.dtype.kind == "f"]
    ranked = [a.dtype for a in floats if a.ndim > 0] or [a.dtype for a in floats]
    return max(ranked, key=lambda d: d.itemsize) if ranked else dtypes.default_float


def device_error(cls: type, first: Any, second: Any) -> RuntimeError:
    return RuntimeError(
        f"{op_name(cls)}: expected all tensors on the same device, but found tensors on "
        f"{first.name!r} and {second.name!r}; move one with .to({first.name!r})"
    )


def _input_error(cls: type, args: tuple, err: Exception) -> Exception:
    described = ", ".join(
        f"{a.shape} {a.dtype}" if isinstance(a, Tensor) else repr(a) for a in args
    )
    message = str(err).removeprefix(f"{op_name(cls)}: ")
    kind = type(err)
    if kind is ValueError:
        kind = OpError
    elif kind not in (OpError, IndexError, TypeError):  # NumPy's own classes take other args
        kind = next(k for k in (IndexError, TypeError, OpError) if isinstance(err, k))
    return kind(f"{op_name(cls)}: {message} (inputs: {described})")


def op_name(cls: type) -> str:
    return getattr(cls, "op_name", cls.__name__.lower())
