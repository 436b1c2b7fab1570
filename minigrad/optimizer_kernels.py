"""The arithmetic of each optimizer update, over raw backend arrays.

These are the default implementations of the fused optimizer kernels, part of the backend
interface: the optimizers (``minigrad.optim``) call them, and a backend that replaces one
falls back to it for arrays its kernel does not take. An optimizer
looks the kernel up on the parameter's backend first (``getattr(backend, "adam_update",
None)``) and falls back to the function here, so a faster backend (Numba, CuPy) offers
its own by defining a method of the same name and signature, with ``self`` in place of
``backend``:

``sgd_update(backend, param, grad, momentum_buffer, *, lr, momentum, dampening,
weight_decay, nesterov) -> momentum_buffer``
    ``momentum_buffer`` is None on the first step (or when ``momentum == 0``); the
    buffer to keep is returned: a new array on the first step with ``momentum != 0``
    (a copy of the decayed gradient, as PyTorch), the one passed in later, and None
    when ``momentum == 0``.

``rmsprop_update(backend, param, grad, square_avg, grad_avg, momentum_buffer, *, lr,
alpha, eps, weight_decay, momentum, centered) -> None``
    ``grad_avg`` is None unless ``centered``; ``momentum_buffer`` is None unless
    ``momentum > 0``. Every buffer starts as zeros.

``adam_update(backend, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr,
beta1, beta2, eps, weight_decay, decoupled, amsgrad) -> None``
    ``step`` counts this update (1 on the first); ``max_exp_avg_sq`` is None unless
    ``amsgrad``; ``decoupled`` selects AdamW's weight decay. Every buffer starts as zeros.

Contract of every kernel: ``param`` and the state buffers are updated in place;
``grad`` is never written (gradients may be read-only or shared between parameters);
all arrays have the parameter's shape and dtype (each kernel checks this with
``check_arrays`` before it changes anything); the hyperparameters are Python
numbers, so a float32 parameter is updated in float32 arithmetic. The formulas are
those of PyTorch's single-tensor (``foreach=False``) implementations, operation for
operation, so that every number is theirs. Each kernel writes into a ``Workspace`` kept per
parameter array (``workspace``) and freed with it: two arrays of the parameter's shape and
dtype, and the hyperparameters as 0-d arrays of its dtype (NumPy converts a Python number
anew at each call, which costs more than a small array's arithmetic, and rounds it to the
array's dtype just the same). A step thus allocates nothing (but SGD's first momentum
buffer). ``prepare`` binds a kernel to its arrays and a workspace of its own, checked once,
for a step that repeats on the same arrays. The kernels pass ``out`` positionally (the
interface's ``mul(a, b, out=None)``; but ``maximum``: NumPy deprecates it there): NumPy
parses a keyword more slowly.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any


class Workspace:
    """Room for an update of one parameter array: ``arrays`` of its shape and dtype for
    intermediate results, and ``scalars``, the update's numbers as 0-d arrays of its dtype."""

    __slots__ = ("backend", "shape", "dtype", "arrays", "_scalars", "stepped")

    def __init__(self, backend: Any, param: Any, count: int) -> None:
        self.backend, self.shape, self.dtype = backend, param.shape, param.dtype
        self.arrays = [backend.zeros(param.shape, param.dtype) for _ in range(count)]
        self._scalars: dict[tuple[float, ...], tuple[Any, ...]] = {}
        # numbers that change at every step (Adam's bias corrections), written in place
        self.stepped = (backend.zeros((), param.dtype), backend.zeros((), param.dtype))

    def scalars(self, *values: float) -> tuple[Any, ...]:
        """``values`` as 0-d arrays of the parameter's dtype, the same ones for the same
        values (the last few sets are kept; a set with a zero is made anew: 0.0 and -0.0
        are one key, but not one factor)."""
        got = self._scalars.get(values)
        if got is None:
            got = tuple(self.backend.asarray(v, self.dtype) for v in values)
            if 0.0 not in values:
                if len(self._scalars) >= 8:
                    self._scalars.clear()
                self._scalars[values] = got
        return got


# id(parameter array) -> (weak reference to it, its workspace)
_workspaces: dict[int, tuple[Any, Workspace]] = {}


def _forget(key: int, ref: Any) -> None:
    entry = _workspaces.get(key)
    if entry is not None and entry[0] is ref:
        del _workspaces[key]


def workspace(backend: Any, param: Any, count: int) -> Workspace:
    """The workspace of ``param``, with at least ``count`` arrays: the same one at each
    call for the same array, until it is freed (a new array, or one whose shape or dtype
    changed, gets its own)."""
    key = id(param)
    entry = _workspaces.get(key)
    if entry is not None and entry[0]() is param:
        room = entry[1]
        if room.shape == param.shape and room.dtype == param.dtype:
            if len(room.arrays) < count:
                room.arrays += [backend.zeros(param.shape, param.dtype)
                                for _ in range(count - len(room.arrays))]
            return room
    room = Workspace(backend, param, count)
    try:
        ref = weakref.ref(param, functools.partial(_forget, key))
    except TypeError:  # an array type without weak references: nothing is kept
        return room
    _workspaces[key] = (ref, room)
    return room


def check_arrays(param: Any, **arrays: Any) -> None:
    """Raise ValueError unless every array of ``arrays`` (None: absent) has ``param``'s shape
    and dtype: an update that trusted a wrong one would broadcast, or write out of bounds."""
    shape, dtype = param.shape, param.dtype
    for name, array in arrays.items():
        if array is not None and (array.shape != shape or array.dtype != dtype):
            raise ValueError(
                f"{name} has shape {tuple(array.shape)} and dtype {array.dtype}, but the "
                f"parameter has shape {tuple(param.shape)} and dtype {param.dtype}"
            )


def sgd_update(
    backend: Any,
    param: Any,
    grad: Any,
    momentum_buffer: Any,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
) -> Any:
    """One SGD step on ``param``; returns the momentum buffer to keep (None without momentum).

    g = grad + weight_decay * param
    buf = copy(g) on the first step, else buf = momentum * buf + (1 - dampening) * g
    d = g + momentum * buf (Nesterov), else d = buf
    param = param - lr * d
    """
    check_arrays(param, grad=grad, momentum_buffer=momentum_buffer)
    return _sgd(backend, param, grad, momentum_buffer,
                workspace(backend, param, 1 if weight_decay == 0 else 2), lr=lr,
                momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                nesterov=nesterov)


def _sgd(backend: Any, param: Any, grad: Any, momentum_buffer: Any, room: Workspace, *,
         lr: float, momentum: float, dampening: float, weight_decay: float,
         nesterov: bool) -> Any:
    """``sgd_update`` with checked arrays."""
    return sgd_steps(backend, param, grad, momentum_buffer, room, lr=lr, momentum=momentum,
                     dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)()


def sgd_steps(backend: Any, param: Any, grad: Any, momentum_buffer: Any, room: Workspace, *,
              lr: float, momentum: float, dampening: float, weight_decay: float,
              nesterov: bool) -> Callable[..., Any]:
    """SGD's update of these arrays with these options, as a function to call at each step
    (it returns the momentum buffer, made on the first step where there is none): its
    numbers are made once, so a repeated step is its array calls alone.
    ``room.arrays[1]`` takes the decayed gradient, ``room.arrays[0]`` the damped gradient,
    then the direction or the step."""
    lr, momentum, dampening = float(lr), float(momentum), float(dampening)
    weight_decay = float(weight_decay)
    mul, add = backend.mul, backend.add
    # (a number the step does not use is given as 1)
    c_decay, c_momentum, c_damped, c_lr = room.scalars(
        weight_decay or 1.0, momentum or 1.0, 1 - dampening, -lr)
    s = room.arrays[0]
    buffer = [momentum_buffer if momentum != 0 else None]

    def run(step: int | None = None) -> Any:
        if weight_decay == 0:
            g, owned = grad, False
        else:
            g, owned = _l2(backend, grad, param, c_decay, room.arrays[1]), True
        if momentum != 0:
            buf = buffer[0]
            if buf is None:  # the first step: the buffer starts as g
                buf = buffer[0] = backend.copy(g)
            else:
                mul(buf, c_momentum, buf)
                if dampening == 0:  # PyTorch's alpha = 1 - dampening is then exactly 1
                    add(buf, g, buf)
                else:
                    mul(g, c_damped, s)
                    add(buf, s, buf)
            if nesterov:
                direction = s
                mul(buf, c_momentum, direction)
                add(g, direction, direction)
                owned = True
            else:
                direction, owned = buf, False
        else:
            direction = g
        out = direction if owned else s
        mul(direction, c_lr, out)
        add(param, out, param)
        return buffer[0]

    return run


def rmsprop_update(
    backend: Any,
    param: Any,
    grad: Any,
    square_avg: Any,
    grad_avg: Any,
    momentum_buffer: Any,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
) -> None:
    """One RMSprop step on ``param``, updating the buffers in place.

    g = grad + weight_decay * param
    square_avg = alpha * square_avg + (1 - alpha) * g * g
    grad_avg = lerp(grad_avg, g, 1 - alpha) (centered)
    avg = sqrt(square_avg - grad_avg * grad_avg) + eps (centered), else sqrt(square_avg) + eps
    buf = momentum * buf + g / avg, then param = param - lr * buf (momentum > 0)
    param = param - lr * g / avg (otherwise)
    """
    check_arrays(param, grad=grad, square_avg=square_avg, grad_avg=grad_avg,
                 momentum_buffer=momentum_buffer)
    _rmsprop(backend, param, grad, square_avg, grad_avg, momentum_buffer,
             workspace(backend, param, 2), lr=lr, alpha=alpha, eps=eps,
             weight_decay=weight_decay, momentum=momentum, centered=centered)


def _rmsprop(backend: Any, param: Any, grad: Any, square_avg: Any, grad_avg: Any,
             momentum_buffer: Any, room: Workspace, *, lr: float, alpha: float,
             eps: float, weight_decay: float, momentum: float, centered: bool) -> None:
    """``rmsprop_update`` with checked arrays."""
    rmsprop_steps(backend, param, grad, square_avg, grad_avg, momentum_buffer, room, lr=lr,
                  alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                  centered=centered)()


def rmsprop_steps(backend: Any, param: Any, grad: Any, square_avg: Any, grad_avg: Any,
                  momentum_buffer: Any, room: Workspace, *, lr: float, alpha: float,
                  eps: float, weight_decay: float, momentum: float,
                  centered: bool) -> Callable[..., None]:
    """RMSprop's update of these arrays with these options, as a function to call at each
    step, its numbers made once. ``room.arrays[0]`` takes avg, ``room.arrays[1]`` the
    decayed gradient or the step."""
    lr, alpha, eps, momentum = float(lr), float(alpha), float(eps), float(momentum)
    weight_decay = float(weight_decay)
    mul, add = backend.mul, backend.add
    c_decay, c_new, c_alpha, c_eps, c_momentum, c_lr, c_lerp = room.scalars(
        weight_decay or 1.0, 1 - alpha, alpha, eps, momentum or 1.0, -lr,
        _lerp_factor(1 - alpha) if centered else 1.0)
    avg = room.arrays[0]

    def run(step: int | None = None) -> None:
        if weight_decay == 0:
            g, owned = grad, False
        else:
            g, owned = _l2(backend, grad, param, c_decay, room.arrays[1]), True
        mul(g, c_new, avg)
        mul(avg, g, avg)
        mul(square_avg, c_alpha, square_avg)
        add(square_avg, avg, square_avg)
        if centered:
            _lerp_(backend, grad_avg, g, 1 - alpha, c_lerp, avg)
            mul(grad_avg, grad_avg, avg)
            backend.sub(square_avg, avg, avg)
            backend.sqrt(avg, avg)
        else:
            backend.sqrt(square_avg, avg)
        add(avg, c_eps, avg)
        if momentum > 0:
            backend.div(g, avg, avg)
            mul(momentum_buffer, c_momentum, momentum_buffer)
            add(momentum_buffer, avg, momentum_buffer)
            mul(momentum_buffer, c_lr, avg)
        else:
            out = g if owned else room.arrays[1]
            mul(g, c_lr, out)
            backend.div(out, avg, avg)
        add(param, avg, param)

    return run


def adam_update(
    backend: Any,
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
    amsgrad: bool,
) -> None:
    """One Adam (``decoupled=False``) or AdamW (``decoupled=True``) step on ``param``.

    AdamW: param = param * (1 - lr * weight_decay); Adam: g = grad + weight_decay * param
    exp_avg = lerp(exp_avg, g, 1 - beta1)
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
    amsgrad: max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq), and v is it; else v = exp_avg_sq
    denom = sqrt(v) / sqrt(1 - beta2 ** step) + eps
    param = param - (lr / (1 - beta1 ** step)) * exp_avg / denom
    """
    check_arrays(param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                 max_exp_avg_sq=max_exp_avg_sq)
    _adam(backend, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
          workspace(backend, param, 2), step=step, lr=lr, beta1=beta1, beta2=beta2,
          eps=eps, weight_decay=weight_decay, decoupled=decoupled, amsgrad=amsgrad)


def _adam(backend: Any, param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any,
          max_exp_avg_sq: Any, room: Workspace, *, step: int, lr: float, beta1: float,
          beta2: float, eps: float, weight_decay: float, decoupled: bool,
          amsgrad: bool) -> None:
    """``adam_update`` with checked arrays."""
    run, _ = adam_steps(backend, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, room,
                        lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                        decoupled=decoupled, amsgrad=amsgrad)
    run(step)


def adam_steps(backend: Any, param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any,
               max_exp_avg_sq: Any, room: Workspace, *, lr: float, beta1: float,
               beta2: float, eps: float, weight_decay: float, decoupled: bool,
               amsgrad: bool) -> tuple[Callable[[int], None], Callable[[Any], None] | None]:
    """Adam's update of these arrays with these options, as a function of the step count,
    its numbers made once; and a function that gives it a new lr (None where a number made
    once depends on lr). ``room.arrays[1]`` takes the decayed gradient and then the step,
    ``room.arrays[0]`` the new part of exp_avg_sq, exp_avg's, and the denominator."""
    lr, beta1, beta2, eps = float(lr), float(beta1), float(beta2), float(eps)
    weight_decay = float(weight_decay)
    mul, add, div = backend.mul, backend.add, backend.div
    c_decay, c_shrink, c_new, c_beta2, c_eps, c_lerp = room.scalars(
        weight_decay or 1.0, 1 - lr * weight_decay, 1 - beta2, beta2, eps,
        _lerp_factor(1 - beta1))
    c_step, c_correction = room.stepped
    s, t = room.arrays[0], room.arrays[1]
    second = max_exp_avg_sq if amsgrad else exp_avg_sq
    rate = [lr]

    def new_lr(value: Any) -> None:
        rate[0] = float(value)

    def run(step: int) -> None:
        g = grad
        if weight_decay != 0:
            if decoupled:
                mul(param, c_shrink, param)
            else:
                g = _l2(backend, grad, param, c_decay, t)
        mul(g, c_new, s)
        mul(s, g, s)
        mul(exp_avg_sq, c_beta2, exp_avg_sq)
        add(exp_avg_sq, s, exp_avg_sq)
        _lerp_(backend, exp_avg, g, 1 - beta1, c_lerp, s)
        c_step[()] = -(rate[0] / (1 - beta1**step))  # lr / bias_correction1
        c_correction[()] = (1 - beta2**step) ** 0.5  # sqrt(bias_correction2)
        if amsgrad:
            backend.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        backend.sqrt(second, s)  # the denominator
        div(s, c_correction, s)
        add(s, c_eps, s)
        mul(exp_avg, c_step, t)  # the step
        div(t, s, t)
        add(param, t, param)

    return run, new_lr if weight_decay == 0 else None


def _l2(backend: Any, grad: Any, param: Any, weight_decay: Any, out: Any) -> Any:
    """``grad + weight_decay * param`` (the L2 penalty's gradient), written into ``out``."""
    backend.mul(param, weight_decay, out)
    backend.add(grad, out, out)
    return out


def _lerp_factor(weight: float) -> float:
    """The factor of ``end - start`` in PyTorch's lerp: ``weight`` below 1/2, else
    ``1 - weight``."""
    return weight if weight < 0.5 else 1 - weight


def _lerp_(backend: Any, start: Any, end: Any, weight: float, factor: Any,
           scratch: Any) -> None:
    """``start = lerp(start, end, weight)`` in place, with PyTorch's two-branch formula
    (``factor``: ``_lerp_factor(weight)`` as a 0-d array)."""
    backend.sub(end, start, scratch)
    backend.mul(scratch, factor, scratch)
    if weight < 0.5:
        backend.add(start, scratch, start)
    else:
        backend.sub(end, scratch, start)


# per kernel: its checked body and the names of its arrays after the parameter
_BODIES: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "sgd_update": (_sgd, ("grad", "momentum_buffer")),
    "rmsprop_update": (_rmsprop, ("grad", "square_avg", "grad_avg", "momentum_buffer")),
    "adam_update": (_adam, ("grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
}


def prepare(backend: Any, name: str, param: Any, *arrays: Any) -> Callable[..., Any]:
    """The default kernel ``name`` bound to ``param`` and ``arrays`` (in its signature's
    order), checked once and given a workspace of its own: a function of the kernel's
    keyword arguments, for a step that repeats on the same arrays."""
    body, names = _BODIES[name]
    check_arrays(param, **dict(zip(names, arrays)))
    return functools.partial(body, backend, param, *arrays, Workspace(backend, param, 2))
