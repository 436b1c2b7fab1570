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
operation, written with ``out=`` so that an update allocates at most a few temporaries.
"""

from __future__ import annotations

from typing import Any


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


def _decayed(backend: Any, grad: Any, param: Any, weight_decay: float) -> tuple[Any, bool]:
    """``grad + weight_decay * param`` (L2 penalty), and whether the array is a new one."""
    if weight_decay == 0:
        return grad, False
    out = backend.mul(param, weight_decay)
    backend.add(grad, out, out=out)
    return out, True


def _lerp_(backend: Any, start: Any, end: Any, weight: float, scratch: Any) -> None:
    """``start = lerp(start, end, weight)`` in place, with PyTorch's two-branch formula."""
    backend.sub(end, start, out=scratch)
    if weight < 0.5:
        backend.mul(scratch, weight, out=scratch)
        backend.add(start, scratch, out=start)
    else:
        backend.mul(scratch, 1 - weight, out=scratch)
        backend.sub(end, scratch, out=start)


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
    lr, momentum, dampening = float(lr), float(momentum), float(dampening)
    g, owned = _decayed(backend, grad, param, float(weight_decay))
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = backend.copy(g)
        else:
            backend.mul(momentum_buffer, momentum, out=momentum_buffer)
            if dampening == 0:  # PyTorch's alpha = 1 - dampening is then exactly 1
                backend.add(momentum_buffer, g, out=momentum_buffer)
            else:
                damped = backend.mul(g, 1 - dampening)
                backend.add(momentum_buffer, damped, out=momentum_buffer)
        if nesterov:
            direction = backend.mul(momentum_buffer, momentum)
            backend.add(g, direction, out=direction)
            owned = True
        else:
            direction, owned = momentum_buffer, False
    else:
        direction, momentum_buffer = g, None
    if owned:
        backend.mul(direction, -lr, out=direction)
        step = direction
    else:
        step = backend.mul(direction, -lr)
    backend.add(param, step, out=param)
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
    lr, alpha, eps, momentum = float(lr), float(alpha), float(eps), float(momentum)
    g, owned = _decayed(backend, grad, param, float(weight_decay))
    avg = backend.mul(g, 1 - alpha)
    backend.mul(avg, g, out=avg)
    backend.mul(square_avg, alpha, out=square_avg)
    backend.add(square_avg, avg, out=square_avg)
    if centered:
        _lerp_(backend, grad_avg, g, 1 - alpha, avg)
        backend.mul(grad_avg, grad_avg, out=avg)
        backend.sub(square_avg, avg, out=avg)
        backend.sqrt(avg, out=avg)
    else:
        backend.sqrt(square_avg, out=avg)
    backend.add(avg, eps, out=avg)
    if momentum > 0:
        backend.div(g, avg, out=avg)
        backend.mul(momentum_buffer, momentum, out=momentum_buffer)
        backend.add(momentum_buffer, avg, out=momentum_buffer)
        backend.mul(momentum_buffer, -lr, out=avg)
    else:
        if owned:
            backend.mul(g, -lr, out=g)
            step = g
        else:
            step = backend.mul(g, -lr)
        backend.div(step, avg, out=avg)
    backend.add(param, avg, out=param)


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
    lr, beta1, beta2, eps = float(lr), float(beta1), float(beta2), float(eps)
    weight_decay = float(weight_decay)
    if decoupled:
        if weight_decay != 0:
            backend.mul(param, 1 - lr * weight_decay, out=param)
        g = grad
    else:
        g, _ = _decayed(backend, grad, param, weight_decay)
    scratch = backend.mul(g, 1 - beta2)
    backend.mul(scratch, g, out=scratch)
    backend.mul(exp_avg_sq, beta2, out=exp_avg_sq)
    backend.add(exp_avg_sq, scratch, out=exp_avg_sq)
    _lerp_(backend, exp_avg, g, 1 - beta1, scratch)

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if amsgrad:
        backend.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = scratch
    backend.sqrt(second, out=denom)
    backend.div(denom, bias_correction2_sqrt, out=denom)
    backend.add(denom, eps, out=denom)
    update = backend.mul(exp_avg, -step_size)
    backend.div(update, denom, out=update)
    backend.add(param, update, out=param)
