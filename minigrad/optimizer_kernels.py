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
operation, written with ``out=`` into two scratch arrays of the parameter's shape and
dtype: made on a parameter array's first update, kept for its next ones (``scratch_arrays``) and
freed with it, so that a step allocates nothing (but SGD's first momentum buffer).
``prepare`` binds a kernel to its arrays and scratch once, checked, for a step that
repeats on the same arrays.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

# id(parameter array) -> (weak reference to it, its scratch arrays)
_scratch: dict[int, tuple[Any, list[Any]]] = {}


def _forget(key: int, ref: Any) -> None:
    entry = _scratch.get(key)
    if entry is not None and entry[0] is ref:
        del _scratch[key]


def scratch_arrays(backend: Any, param: Any, count: int) -> list[Any]:
    """At least ``count`` arrays of ``param``'s shape and dtype, for an update of ``param``
    to write intermediate results into: the same ones at each call for the same array,
    until it is freed (a new array, or one whose shape or dtype changed, gets its own)."""
    key = id(param)
    entry = _scratch.get(key)
    if entry is not None and entry[0]() is param:
        arrays = entry[1]
        if len(arrays) >= count and arrays[0].shape == param.shape and (
                arrays[0].dtype == param.dtype):
            return arrays
    arrays = [backend.zeros(param.shape, param.dtype) for _ in range(count)]
    try:
        ref = weakref.ref(param, functools.partial(_forget, key))
    except TypeError:  # an array type without weak references: nothing is kept
        return arrays
    _scratch[key] = (ref, arrays)
    return arrays


def check_arrays(param: Any, **arrays: Any) -> None:
    """Raise ValueError unless every array of ``arrays`` (None: absent) has ``param``'s shape
    and dtype: an update that trusted a wrong one would broadcast, or write out of bounds."""
    for name, array in arrays.items():
        if array is None:
            continue
        if array.shape != param.shape or array.dtype != param.dtype:
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
                scratch_arrays(backend, param, 1 if weight_decay == 0 else 2), lr=lr,
                momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                nesterov=nesterov)


def _sgd(backend: Any, param: Any, grad: Any, momentum_buffer: Any, scratch: list[Any], *,
         lr: float, momentum: float, dampening: float, weight_decay: float,
         nesterov: bool) -> Any:
    """``sgd_update`` with checked arrays; ``scratch[1]`` takes the decayed gradient,
    ``scratch[0]`` the damped gradient, then the direction or step."""
    lr, momentum, dampening = float(lr), float(momentum), float(dampening)
    weight_decay = float(weight_decay)
    mul, add = backend.mul, backend.add
    if weight_decay == 0:
        g, owned = grad, False
    else:  # g = grad + weight_decay * param (L2 penalty)
        g = scratch[1]
        mul(param, weight_decay, out=g)
        add(grad, g, out=g)
        owned = True
    s = scratch[0]
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = backend.copy(g)
        else:
            mul(momentum_buffer, momentum, out=momentum_buffer)
            if dampening == 0:  # PyTorch's alpha = 1 - dampening is then exactly 1
                add(momentum_buffer, g, out=momentum_buffer)
            else:
                mul(g, 1 - dampening, out=s)
                add(momentum_buffer, s, out=momentum_buffer)
        if nesterov:
            direction = s
            mul(momentum_buffer, momentum, out=direction)
            add(g, direction, out=direction)
            owned = True
        else:
            direction, owned = momentum_buffer, False
    else:
        direction, momentum_buffer = g, None
    step = direction if owned else s
    mul(direction, -lr, out=step)
    add(param, step, out=param)
    return momentum_buffer


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
             scratch_arrays(backend, param, 2), lr=lr, alpha=alpha, eps=eps,
             weight_decay=weight_decay, momentum=momentum, centered=centered)


def _rmsprop(backend: Any, param: Any, grad: Any, square_avg: Any, grad_avg: Any,
             momentum_buffer: Any, scratch: list[Any], *, lr: float, alpha: float,
             eps: float, weight_decay: float, momentum: float, centered: bool) -> None:
    """``rmsprop_update`` with checked arrays; ``scratch[0]`` takes avg, ``scratch[1]``
    the decayed gradient or the step."""
    lr, alpha, eps, momentum = float(lr), float(alpha), float(eps), float(momentum)
    weight_decay = float(weight_decay)
    mul, add, sub = backend.mul, backend.add, backend.sub
    if weight_decay == 0:
        g, owned = grad, False
    else:
        g = scratch[1]
        mul(param, weight_decay, out=g)
        add(grad, g, out=g)
        owned = True
    avg = scratch[0]
    mul(g, 1 - alpha, out=avg)
    mul(avg, g, out=avg)
    mul(square_avg, alpha, out=square_avg)
    add(square_avg, avg, out=square_avg)
    if centered:
        _lerp_(backend, grad_avg, g, 1 - alpha, avg)
        mul(grad_avg, grad_avg, out=avg)
        sub(square_avg, avg, out=avg)
        backend.sqrt(avg, out=avg)
    else:
        backend.sqrt(square_avg, out=avg)
    add(avg, eps, out=avg)
    if momentum > 0:
        backend.div(g, avg, out=avg)
        mul(momentum_buffer, momentum, out=momentum_buffer)
        add(momentum_buffer, avg, out=momentum_buffer)
        mul(momentum_buffer, -lr, out=avg)
    else:
        step = g if owned else scratch[1]
        mul(g, -lr, out=step)
        backend.div(step, avg, out=avg)
    add(param, avg, out=param)


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
          scratch_arrays(backend, param, 2), step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
          weight_decay=weight_decay, decoupled=decoupled, amsgrad=amsgrad)


def _adam(backend: Any, param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any,
          max_exp_avg_sq: Any, scratch: list[Any], *, step: int, lr: float, beta1: float,
          beta2: float, eps: float, weight_decay: float, decoupled: bool,
          amsgrad: bool) -> None:
    """``adam_update`` with checked arrays; ``scratch[1]`` takes the decayed gradient and
    then the step, ``scratch[0]`` the new part of exp_avg_sq, exp_avg's and the denominator."""
    lr, beta1, beta2, eps = float(lr), float(beta1), float(beta2), float(eps)
    weight_decay = float(weight_decay)
    mul, add, div = backend.mul, backend.add, backend.div
    g = grad
    if weight_decay != 0:
        if decoupled:
            mul(param, 1 - lr * weight_decay, out=param)
        else:  # g = grad + weight_decay * param (L2 penalty)
            g = scratch[1]
            mul(param, weight_decay, out=g)
            add(grad, g, out=g)
    s = scratch[0]
    mul(g, 1 - beta2, out=s)
    mul(s, g, out=s)
    mul(exp_avg_sq, beta2, out=exp_avg_sq)
    add(exp_avg_sq, s, out=exp_avg_sq)
    _lerp_(backend, exp_avg, g, 1 - beta1, s)

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if amsgrad:
        backend.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = s
    backend.sqrt(second, out=denom)
    div(denom, bias_correction2_sqrt, out=denom)
    add(denom, eps, out=denom)
    update = scratch[1]
    mul(exp_avg, -step_size, out=update)
    div(update, denom, out=update)
    add(param, update, out=param)


def _lerp_(backend: Any, start: Any, end: Any, weight: float, scratch: Any) -> None:
    """``start = lerp(start, end, weight)`` in place, with PyTorch's two-branch formula."""
    backend.sub(end, start, out=scratch)
    if weight < 0.5:
        backend.mul(scratch, weight, out=scratch)
        backend.add(start, scratch, out=start)
    else:
        backend.mul(scratch, 1 - weight, out=scratch)
        backend.sub(end, scratch, out=start)


# per kernel: its checked body and the names of its arrays after the parameter
_BODIES: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "sgd_update": (_sgd, ("grad", "momentum_buffer")),
    "rmsprop_update": (_rmsprop, ("grad", "square_avg", "grad_avg", "momentum_buffer")),
    "adam_update": (_adam, ("grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
}


def prepare(backend: Any, name: str, param: Any, *arrays: Any) -> Callable[..., Any]:
    """The default kernel ``name`` bound to ``param`` and ``arrays`` (in its signature's
    order), checked once and given scratch arrays of its own: a function of the kernel's
    keyword arguments, for a step that repeats on the same arrays."""
    body, names = _BODIES[name]
    check_arrays(param, **dict(zip(names, arrays)))
    own = [backend.zeros(param.shape, param.dtype) for _ in range(2)]
    return functools.partial(body, backend, param, *arrays, own)
