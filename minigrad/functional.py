"""Activations and losses, as in ``torch.nn.functional``.

Everything here is composed from tensor ops, so autograd is automatic and gradients of
gradients work. Each function has PyTorch's name, value and gradient; every loss takes
``reduction="mean" | "sum" | "none"``. Large inputs are handled by stable forms: softmax
and log-softmax subtract the (detached) maximum, the logit losses use log-sum-exp forms.
Three fused ops exist: binary cross-entropy on probabilities, to reproduce PyTorch's
clamped logs and its finite gradient at probabilities 0 and 1; and the mean squared error
and the mean softmax cross-entropy, the losses of most training steps, each recorded as
one op with the operations (and numbers) of the composed loss inside.

Inputs may be tensors or anything ``mg.tensor`` accepts; targets and weights are created
on the input's device, and float targets and weights take the input's dtype.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import compiled, ops
from .autograd import no_grad
from .creation import arange, tensor
from .errors import OpError
from .function import Op as _Op
from .tensor import Tensor
from .tensor_functions import maximum, where
from .tensor_functions import minimum as _minimum

__all__ = [
    "linear",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "hinge_loss",
    "multi_margin_loss",
    "softmin",
    "silu",
    "gelu",
    "softsign",
    "hardsigmoid",
    "logsigmoid",
    "smooth_l1_loss",
    "one_hot",
]

REDUCTIONS = ("mean", "sum", "none")

# PyTorch clamps log(p) and log(1 - p) at -100 in binary_cross_entropy, and divides its
# gradient by max(p (1 - p), 1e-12), that 1e-12 rounded to float32 in every dtype.
_LOG_FLOOR = -100.0
_BCE_EPS = float(np.float32(1e-12))
# the dtypes whose losses are fused into one op (float16 rounds after each op, as PyTorch)
_FUSED_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# layers


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with ``weight`` of shape (out_features, in_features)."""
    x = _tensor(x)
    if weight.ndim != 2 or x.shape[-1:] != weight.shape[1:]:
        raise OpError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                         f"{weight.shape} (out_features, in_features)")
    if x.dtype != weight.dtype:
        raise TypeError(f"linear: the input is {x.dtype} but the weight is {weight.dtype}; "
                        f"convert one (e.g. x.astype({str(weight.dtype)!r}) or model.double())")
    return ops.Linear.apply(x, weight, bias)


# activations


def relu(x: Tensor) -> Tensor:
    """max(x, 0); the gradient at 0 is 0, as in PyTorch."""
    return _tensor(x).relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x (the gradient at 0 is negative_slope)."""
    x = _tensor(x)
    return where(x > 0, x, x * negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    return _tensor(x).sigmoid()


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent."""
    return _tensor(x).tanh()


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``axis`` (``dim`` is PyTorch's name for it).

    Computed as exp(x - max) / sum exp(x - max): the shift cancels exactly, so the max is
    detached and the exponentials never overflow, for logits of any size.
    """
    x = _tensor(x)
    axis = axis if dim is None else dim
    shifted = x - _shift(x, axis)
    e = shifted.exp()
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x_i - log sum_j exp(x_j) along ``axis`` (``dim`` is PyTorch's name for it).

    Computed as (x - max) - log sum exp(x - max), with the max detached: the sum is at
    least 1, so neither the exponentials nor the log overflow or underflow to -inf.
    """
    x = _tensor(x)
    axis = axis if dim is None else dim
    shifted = x - _shift(x, axis)
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _shift(x: Tensor, axis: int) -> Tensor:
    """The detached max along ``axis`` (kept), 0 for an empty tensor, which has none."""
    if x.numel() == 0:
        return x.detach().sum(axis=axis, keepdims=True)
    return x.detach().amax(axis=axis, keepdims=True)


# regression losses


def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced (``torch.nn.functional.mse_loss``)."""
    input, target = _regression_args("mse_loss", input, target, reduction)
    if (reduction == "mean" and target.shape == input.shape and target.dtype == input.dtype
            and input.dtype in _FUSED_FLOATS):
        return _MeanSquaredError.apply(input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced (``torch.nn.functional.l1_loss``); gradient 0 where equal."""
    input, target = _regression_args("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def huber_loss(
    input: Tensor, target: Tensor, delta: float = 1.0, *, reduction: str = "mean"
) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target.

    ``torch.nn.functional.huber_loss``: quadratic near 0, linear (slope delta) beyond.
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input, target = _regression_args("huber_loss", input, target, reduction)
    target = target.astype(input.dtype)  # PyTorch's huber_loss keeps the input's dtype
    diff = input - target
    size = diff.abs()
    near = diff.clip(-delta, delta)  # the quadratic side never sees an infinite diff
    loss = where(size < delta, 0.5 * near * near, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


# classification losses


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy (``torch.nn.functional.cross_entropy``).

    ``logits`` has shape (C,), (N, C) or (N, C, d1, ...), the classes on axis 1 (axis 0
    when unbatched). ``target`` holds either class indices (an integer tensor of the shape
    without the class axis) or class probabilities (float, the shape of ``logits``).
    With log-probabilities l = log_softmax(logits), class weights w (all 1 by default)
    and smoothing e over C classes:

    - indices: loss = (1 - e) * (-w[y] l[y]) + (e / C) * (-sum_c w[c] l[c]); the mean
      divides the sum by sum w[y] over the batch (PyTorch's weighted mean). Samples whose
      target is ``ignore_index`` lose 0 and count for nothing in the mean.
    - probabilities: t' = (1 - e) t + e / C, loss = -sum_c w[c] t'[c] l[c]; the mean
      divides by the number of samples, whatever the weights.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}"
        )
    logits = _float_input(name, logits, "logits")
    axis = _class_axis(name, logits, "logits")
    classes = logits.shape[axis]
    target = _tensor(target, logits, "target")
    weight = _class_weight(name, weight, logits, classes)

    if target.dtype.kind == "f" and target.shape == logits.shape:
        log_probs = log_softmax(logits, axis=axis)
        target = target.astype(logits.dtype)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / max(classes, 1)
        weighted = log_probs * target
        if weight is not None:
            weighted = weighted * _along_axis(weight, logits.ndim, axis)
        return _reduce(-weighted.sum(axis=axis), reduction)

    if target.shape == logits.shape:
        raise TypeError(
            f"{name}: a target of the logits' shape {target.shape} holds class probabilities "
            f"and must be floating point, got {target.dtype}"
        )
    kept = _check_class_indices(name, target, logits, axis, ignore_index, probabilities=True)
    if logits.ndim == 2 and weight is None and label_smoothing == 0 and kept is None:
        # the common case, fused: softmax and the picked log-probability in one op
        if reduction == "mean" and logits.dtype in _FUSED_FLOATS:
            return _MeanSoftmaxCrossEntropy.apply(logits, target=target._data)
        return _reduce(ops.SoftmaxCrossEntropy.apply(logits, target=target._data), reduction)
    log_probs = log_softmax(logits, axis=axis)
    nll, picked_weight = _pick(log_probs, target, weight, axis, kept)
    loss = nll
    if label_smoothing > 0:
        spread = log_probs
        if weight is not None:
            spread = spread * _along_axis(weight, logits.ndim, axis)
        smooth = -spread.sum(axis=axis)
        if kept is not None:
            smooth = where(kept > 0, smooth, 0)
        loss = (1 - label_smoothing) * nll + (label_smoothing / max(classes, 1)) * smooth
    if reduction == "mean" and picked_weight is not None:
        return _weighted_mean(loss, picked_weight)
    return _reduce(loss, reduction)


def nll_loss(
    log_probs: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-w[y] * log_probs[y] per sample (``torch.nn.functional.nll_loss``).

    Shapes as in ``cross_entropy`` with class-index targets; the mean divides the sum by
    sum w[y] over the batch. Samples whose target is ``ignore_index`` lose 0 and count for
    nothing in the mean.
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    log_probs = _float_input(name, log_probs, "log_probs")
    axis = _class_axis(name, log_probs, "log_probs")
    target = _tensor(target, log_probs, "target")
    weight = _class_weight(name, weight, log_probs, log_probs.shape[axis])
    kept = _check_class_indices(name, target, log_probs, axis, ignore_index)
    loss, picked_weight = _pick(log_probs, target, weight, axis, kept)
    if reduction == "mean" and picked_weight is not None:
        return _weighted_mean(loss, picked_weight)
    return _reduce(loss, reduction)


def binary_cross_entropy(
    probs: Tensor, target: Tensor, weight: Tensor | None = None, *, reduction: str = "mean"
) -> Tensor:
    """-w (t log p + (1 - t) log(1 - p)) (``torch.nn.functional.binary_cross_entropy``).

    As in PyTorch, both logs are clamped at -100, so p = 0 or 1 gives a finite loss, and
    the gradient is w (p - t) / max(p (1 - p), 1e-12): finite, and equal to PyTorch's,
    there too (its 1e-12 is a float32 constant). ``weight`` broadcasts to the shape of
    ``probs``; the mean is a plain mean.
    """
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    probs = _float_input(name, probs, "probs")
    target = _float_target(name, target, probs)
    _check_same_shape(name, probs, target)
    loss = _BinaryCrossEntropy.apply(probs, target)
    if weight is not None:
        loss = loss * _broadcast_weight(name, weight, probs, "weight")
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of sigmoid(logits), fused (``binary_cross_entropy_with_logits``).

    PyTorch's loss, w ((1 - t) x - (1 + (pos_weight - 1) t) log sigmoid(x)), is computed
    in the equal form w ((1 - t) softplus(x) + pos_weight t softplus(-x)) with the stable
    softplus(x) = max(x, 0) + log(1 + exp(-|x|)); without pos_weight this is
    max(x, 0) - x t + log(1 + exp(-|x|)). Finite for any logit, and its gradient,
    w ((1 - t) sigmoid(x) - pos_weight t sigmoid(-x)), has no cancellation. ``weight``
    and ``pos_weight`` (one per class, on the last axis) broadcast to the logits' shape.
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    logits = _float_input(name, logits, "logits")
    target = _float_target(name, target, logits)
    _check_same_shape(name, logits, target)
    log_term = _log1p((-logits.abs()).exp())  # log(1 + exp(-|x|)), in (0, log 2]
    # softplus(x) = -log sigmoid(-x); max(x, 0) as x - min(x, 0), which is NaN at x = -inf
    # (-inf - -inf), where PyTorch's (1 - t) x + softplus(-x) is NaN too
    softplus_pos = (logits - _minimum(logits, 0)) + log_term
    softplus_neg = maximum(-logits, 0) + log_term  # softplus(-x) = -log sigmoid(x)
    positive = target
    if pos_weight is not None:
        positive = _broadcast_weight(name, pos_weight, logits, "pos_weight") * target
    loss = (1 - target) * softplus_pos + positive * softplus_neg
    if weight is not None:
        loss = loss * _broadcast_weight(name, weight, logits, "weight")
    return _reduce(loss, reduction)


def hinge_loss(
    scores: Tensor, target: Tensor, margin: float = 1.0, *, reduction: str = "mean"
) -> Tensor:
    """max(0, margin - target * score) with ``target`` in {-1, +1} (binary hinge).

    No PyTorch twin; scikit-learn's ``hinge_loss`` for margin 1. The gradient at the
    hinge point is 0, as for ``relu``.
    """
    name = "hinge_loss"
    _check_reduction(name, reduction)
    scores = _float_input(name, scores, "scores")
    target = _tensor(target, scores, "target")
    if target.dtype.kind not in "iuf":
        raise TypeError(f"{name}: target must hold -1 and +1 as numbers, got {target.dtype}")
    _check_same_shape(name, scores, target)
    host = target.numpy()
    if not ((host == 1) | (host == -1)).all():
        bad = _first(host[(host != 1) & (host != -1)])
        raise ValueError(f"{name}: target values must be -1 or +1, found {bad}")
    loss = (margin - target.astype(scores.dtype) * scores).relu()
    return _reduce(loss, reduction)


def multi_margin_loss(
    scores: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss (``torch.nn.functional.multi_margin_loss``).

    For scores x of shape (N, C) or (C,) and class y: loss = sum over i != y of
    w[y] max(0, margin - x[y] + x[i])^p / C, with p 1 or 2. The mean is a plain mean
    over samples, weights or not.
    """
    name = "multi_margin_loss"
    _check_reduction(name, reduction)
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(f"{name}: only p == 1 and p == 2 are supported, got {p!r}")
    scores = _float_input(name, scores, "scores")
    if scores.ndim not in (1, 2):
        raise OpError(
            f"{name}: scores must have shape (C,) or (N, C), got shape {scores.shape}"
        )
    classes = scores.shape[-1]
    target = _tensor(target, scores, "target")
    weight = _class_weight(name, weight, scores, classes)
    _check_class_indices(name, target, scores, scores.ndim - 1)
    rows = scores.reshape(-1, classes)
    labels = target.reshape(-1)
    true_score = rows[arange(rows.shape[0], device=scores.backend), labels].unsqueeze(1)
    hinge = (margin - true_score + rows).relu()
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[labels].unsqueeze(1)
    others = arange(classes, device=scores.backend).unsqueeze(0) != labels.unsqueeze(1)
    loss = where(others, hinge, 0.0).sum(axis=1) / classes
    return _reduce(loss.reshape(target.shape), reduction)


# the fused ops


class _MeanSquaredError(_Op):
    """mean((input - target)^2): the operations of the composed loss, in the same order,
    recorded as one op instead of three (a regression's loss is taken every step)."""

    saves_inputs = True

    @staticmethod
    def forward(ctx: Any, x: Any, t: Any) -> Any:
        xp = ctx.backend
        diff = xp.sub(x, t)
        ctx.count = diff.size
        return xp.div(xp.sum(xp.mul(diff, diff)), ctx.count)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[Any, Any]:
        # d/dx = 2 (x - t) / n, d/dt = -d/dx: the composed loss's gradient to the bit
        x, t = ctx.saved_tensors
        grad_x = (x - t) * (grad * (2 / ctx.count if ctx.count else 0.0))
        return grad_x, -grad_x if ctx.needs_input_grad[1] else None


class _MeanSoftmaxCrossEntropy(_Op):
    """The mean over the rows of -log softmax(x)[y]: ops.SoftmaxCrossEntropy and the mean,
    their operations in the same order, recorded as one op instead of two."""

    saves_inputs = True

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any = None) -> Any:
        losses = ops.SoftmaxCrossEntropy.forward(ctx, x, target)
        ctx.count = losses.size
        return ctx.backend.div(ctx.backend.sum(losses), ctx.count)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        # d/dloss_i mean = 1/n for each row, then the rows' gradient
        scale = 1 / ctx.count if ctx.count else 0.0
        if ctx.xp is ctx.backend:  # arrays: the same number in each row, made at once
            rows = ctx.backend.full((ctx.count,), grad * scale, grad.dtype)
        else:
            rows = ctx.xp.broadcast_to(grad.reshape((1,)) * scale, (ctx.count,))
        return ops.SoftmaxCrossEntropy.backward(ctx, rows)


class _BinaryCrossEntropy(_Op):
    """-(t log p + (1 - t) log(1 - p)) elementwise, with PyTorch's clamps and gradient; the
    forward refuses probabilities or targets outside [0, 1], as PyTorch's does."""

    op_name = "binary_cross_entropy"
    saves_inputs = True

    @staticmethod
    def forward(ctx, probs, target):
        xp = ctx.backend
        for label, a in (("probs", probs), ("target", target)):
            inside = (a >= 0) & (a <= 1)  # False for NaN too
            if not bool(xp.all(inside)):
                hint = " (for logits use binary_cross_entropy_with_logits)" if a is probs else ""
                outside = xp.to_numpy(a)[~xp.to_numpy(inside)]
                raise ValueError(f"binary_cross_entropy: all elements of {label} must be "
                                 f"between 0 and 1, found {_first(outside)}{hint}")
        positive, below_one = probs > 0, probs < 1
        # max(log p, -100) and max(log(1 - p), -100), never taking the log of 0
        log_p = xp.maximum(xp.log(xp.where(positive, probs, 1)), _LOG_FLOOR)
        log_q = xp.maximum(xp.log1p(-xp.where(below_one, probs, 0)), _LOG_FLOOR)
        log_p = xp.where(positive, log_p, _LOG_FLOOR)
        log_q = xp.where(below_one, log_q, _LOG_FLOOR)
        return -(target * log_p + (1 - target) * log_q)

    @staticmethod
    def backward(ctx, grad):
        probs, target = ctx.saved_tensors
        xp = ctx.xp
        need_probs, need_target = ctx.needs_input_grad
        grad_probs = grad_target = None
        if need_probs and xp is ctx.backend:
            grad_probs = _bce_slope(xp, grad, probs, target)
        elif need_probs:  # recorded as an op with PyTorch's own second derivatives
            grad_probs = _BinaryCrossEntropyBackward.apply(grad, probs, target)
        if need_target:  # d/dt = log(1 - p) - log(p), unclamped as in PyTorch
            positive, below_one = probs > 0, probs < 1
            log_p = xp.where(positive, xp.log(xp.where(positive, probs, 1)), -math.inf)
            log_q = xp.where(below_one, xp.log1p(-xp.where(below_one, probs, 0)), -math.inf)
            grad_target = grad * (log_q - log_p)
        return grad_probs, grad_target


def _bce_slope(xp: Any, grad: Any, probs: Any, target: Any) -> Any:
    """d/dp of binary cross-entropy, times ``grad``: (p - t) / (p (1 - p)), its denominator
    floored as PyTorch does."""
    return grad * (probs - target) / xp.maximum(probs * (1 - probs), _BCE_EPS)


class _BinaryCrossEntropyBackward(_Op):
    """The gradient of binary cross-entropy with respect to p, as an op of (grad, p, t) when
    the backward pass is recorded: its derivatives are PyTorch's formulas for it, which
    keep their precision where 1 - p is tiny (the chain rule through the slope cancels)."""

    saves_inputs = True

    @staticmethod
    def forward(ctx, grad, probs, target):
        return _bce_slope(ctx.backend, grad, probs, target)

    @staticmethod
    def backward(ctx, g):
        grad, p, t = ctx.saved_tensors
        xp = ctx.xp
        need_grad, need_probs, need_target = ctx.needs_input_grad
        eps = 1e-12  # PyTorch's, in double precision here
        out_grad = g * ((p - t) / ((p + eps) * (1 - p + eps))) if need_grad else None
        out_probs = out_target = None
        if need_probs:  # (p^2 - 2 p t + t) / (p (1 - p))^2, each factor eps from zero
            curvature = (p * p - 2 * p * t + t) / ((p + eps) ** 2 * (1 - p + eps) ** 2)
            out_probs = curvature * (g * grad)
        if need_target:  # -1 / (p (1 - p)), floored
            out_target = -g * grad / xp.maximum((1 - p) * p, 1e-12)
        return out_grad, out_probs, out_target


def _log1p(x: Tensor) -> Tensor:
    """log(1 + x) for x > -1, accurate for tiny |x| though the backends have no log1p.

    The value is log(u) * x / (u - 1) with u = 1 + x (exact where u rounds to 1: x),
    which cancels the rounding of 1 + x; the gradient is that of log(u), 1 / (1 + x).
    """
    u = 1 + x
    naive = u.log()
    with no_grad():
        x = x.detach()
        step = u.detach() - 1
        exact = step == 0
        corrected = naive.detach() * x / where(exact, 1, step)
        correction = where(exact, x, corrected) - naive.detach()
    return naive + correction


# argument checks and helpers


def _tensor(x: Any, like: Tensor | None = None, label: str = "input") -> Tensor:
    """``x`` as a tensor: on ``like``'s device when it is created here."""
    if isinstance(x, Tensor):
        if like is not None and x.backend is not like.backend:
            raise RuntimeError(
                f"{label} is on device {x.device!r} but the input is on {like.device!r}; "
                f"move it with .to({like.device!r})"
            )
        return x
    return tensor(x, device=None if like is None else like.backend)


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        valid = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"{name}: reduction must be one of {valid}; got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_input(name: str, x: Any, label: str) -> Tensor:
    x = _tensor(x, None, label)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {label} must be a floating-point tensor, got {x.dtype}")
    return x


def _float_target(name: str, target: Any, input: Tensor) -> Tensor:
    """A float target, cast to the input's dtype; integer targets are refused."""
    target = _tensor(target, input, "target")
    if target.dtype.kind != "f":
        raise TypeError(
            f"{name}: target must be a floating-point tensor like the input ({input.dtype}), "
            f"got {target.dtype}; convert it with .astype({input.dtype.name!r})"
        )
    return target.astype(input.dtype)


def _regression_args(name: str, input: Any, target: Any, reduction: str) -> tuple:
    """A float input and target; the target keeps its dtype. Where the shapes differ both
    are broadcast first, with a warning, as PyTorch does (so a 0-d one promotes as one with
    dims: PyTorch's dtype of the result)."""
    _check_reduction(name, reduction)
    input = _float_input(name, input, "input")
    if not isinstance(target, Tensor):  # data: the input's dtype, as Python numbers are
        target = _float_target(name, target, input)
    elif target.dtype.kind != "f":
        raise TypeError(
            f"{name}: target must be a floating-point tensor like the input ({input.dtype}), "
            f"got {target.dtype}; convert it with .astype({input.dtype.name!r})"
        )
    if target.shape != input.shape:
        try:
            shape = np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            _check_same_shape(name, input, target)
        warnings.warn(
            f"{name}: using a target size ({target.shape}) that is different to the input "
            f"size ({input.shape}); they are broadcast, which is likely not what you want",
            UserWarning, stacklevel=3)
        input, target = input.broadcast_to(shape), target.broadcast_to(shape)
    return input, target


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        raise OpError(
            f"{name}: target shape {target.shape} does not match input shape {input.shape}"
        )


def _class_axis(name: str, x: Tensor, label: str) -> int:
    """Where the classes are: axis 1, or axis 0 for one unbatched sample of shape (C,)."""
    if x.ndim == 0:
        raise OpError(
            f"{name}: {label} must have shape (C,), (N, C) or (N, C, d1, ...), "
            "got a 0-d tensor"
        )
    return 1 if x.ndim > 1 else 0


def _check_class_indices(
    name: str, target: Tensor, input: Tensor, axis: int, ignore_index: int | None = None,
    probabilities: bool = False,
) -> Tensor | None:
    """Integer class indices, of the input's shape without the class axis, in range or
    ``ignore_index``. Returns None when no target is ignored, else the mask of the kept
    samples (1.0 kept, 0.0 ignored; the input's dtype and device)."""
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if target.shape != expected:
        also = f" or class probabilities of shape {input.shape}" if probabilities else ""
        raise OpError(
            f"{name}: target shape {target.shape} does not match input shape {input.shape}; "
            f"expected class indices of shape {expected}{also}"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: a target of class indices must be an integer tensor, got {target.dtype}"
        )
    classes = input.shape[axis]

    def any_ignored(data: Any) -> bool:  # and every index in range: a guard of mg.compile
        host = target.backend.to_numpy(data)
        in_range = host.size and _all_below(host, classes)
        if in_range and (ignore_index is None or not 0 <= ignore_index < classes):
            return False  # the common case, in one reduction: all in range, none ignored
        outside = (host < 0) | (host >= classes)
        ignored = None if ignore_index is None else host == ignore_index
        if ignored is not None and ignored.any():
            outside &= ~ignored
        else:
            ignored = None
        if outside.any():
            also = "" if ignore_index is None else f", or ignore_index {ignore_index}"
            raise IndexError(
                f"{name}: target class index {_first(host[outside])} is out of range for "
                f"{classes} classes (valid indices are 0 to {classes - 1}{also})"
            )
        return ignored is not None

    if not compiled.guarded(any_ignored, target):
        return None
    return (target != ignore_index).astype(input.dtype)


_UNSIGNED = {np.dtype(f"i{n}"): np.dtype(f"u{n}") for n in (1, 2, 4, 8)}


def _all_below(indices: np.ndarray, bound: int) -> bool:
    """Whether every index is in [0, bound), in one pass: read as unsigned integers, a
    negative index is larger than any bound its signed type can hold."""
    unsigned = _UNSIGNED.get(indices.dtype)
    if unsigned is not None:
        if bound > 1 << (8 * unsigned.itemsize - 1):
            return bool(indices.min() >= 0 and indices.max() < bound)
        indices = indices.view(unsigned)
    return bool(np.maximum.reduce(indices, axis=None) < bound)


def _class_weight(name: str, weight: Any, input: Tensor, classes: int) -> Tensor | None:
    """A per-class weight of shape (C,), in the input's dtype."""
    if weight is None:
        return None
    weight = _tensor(weight, input, "weight")
    if weight.dtype.kind != "f":
        raise TypeError(f"{name}: weight must be a floating-point tensor, got {weight.dtype}")
    if weight.shape != (classes,):
        raise OpError(
            f"{name}: weight must have one entry per class, shape ({classes},), "
            f"got shape {weight.shape}"
        )
    return weight.astype(input.dtype)


def _broadcast_weight(name: str, weight: Any, input: Tensor, label: str) -> Tensor:
    """An elementwise weight that broadcasts to the input's shape, in its dtype."""
    weight = _tensor(weight, input, label)
    if weight.dtype.kind != "f":
        raise TypeError(f"{name}: {label} must be a floating-point tensor, got {weight.dtype}")
    try:
        shape = np.broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise OpError(
            f"{name}: {label} of shape {weight.shape} does not broadcast to the input "
            f"shape {input.shape}"
        )
    return weight.astype(input.dtype)


def _along_axis(weight: Tensor, ndim: int, axis: int) -> Tensor:
    """A (C,) weight shaped to broadcast along ``axis`` of an ``ndim``-dim tensor."""
    shape = [1] * ndim
    shape[axis] = weight.shape[0]
    return weight.reshape(tuple(shape))


def _weighted_mean(loss: Tensor, weights: Tensor) -> Tensor:
    """sum(loss) / sum(weights); NaN with zero gradients where every weight is 0 (all
    targets ignored, say), as in PyTorch."""
    total = weights.sum()
    empty = total == 0
    return where(empty, float("nan"), loss.sum() / where(empty, 1.0, total))


def _pick(
    log_probs: Tensor, target: Tensor, weight: Tensor | None, axis: int,
    kept: Tensor | None = None,
) -> tuple[Tensor, Tensor | None]:
    """-w[y] log_probs[y] per sample, and w[y] (None without weights and ignored targets);
    ignored samples (0 in ``kept``) have weight 0."""
    if log_probs.ndim > 1 and axis != log_probs.ndim - 1:
        log_probs = log_probs.transpose((0, *range(2, log_probs.ndim), 1))
    rows = log_probs.reshape(-1, log_probs.shape[-1])
    labels = target.reshape(-1)
    if kept is not None:  # any class will do for an ignored sample: its weight is 0
        labels = where(kept.reshape(-1) > 0, labels, 0)
    picked = rows[arange(rows.shape[0], device=log_probs.backend), labels]
    picked_weight = None if weight is None else weight[labels]
    if kept is not None:
        mask = kept.reshape(-1)
        picked_weight = mask if picked_weight is None else picked_weight * mask
    if picked_weight is None:
        return -picked.reshape(target.shape), None
    loss = -picked * picked_weight
    if kept is not None:  # 0 for an ignored sample, even where its row holds a NaN
        loss = where(mask > 0, loss, 0)
    return loss.reshape(target.shape), picked_weight


def _first(values: np.ndarray) -> Any:
    """The first offending value, as a plain Python number for messages."""
    return values.reshape(-1)[0].item()


# more activations, smooth L1 and one-hot


def softmin(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(-x) along ``dim``."""
    return softmax(-_tensor(x), dim=dim)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    x = _tensor(x)
    return x * x.sigmoid()


_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt 2)); with
    ``approximate="tanh"``, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = _tensor(x)
    if approximate == "none":
        return x * 0.5 * (1 + (x * _SQRT_HALF).erf())
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    inner = _SQRT_TWO_OVER_PI * (x + 0.044715 * (x * x * x))
    return 0.5 * x * (1 + inner.tanh())


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    x = _tensor(x)
    return x / (1 + x.abs())


def hardsigmoid(x: Tensor) -> Tensor:
    """0 for x <= -3, 1 for x >= 3, (x + 3) / 6 between (the gradient 1/6 only there)."""
    x = _tensor(x)
    return where(x <= -3, 0, where(x >= 3, 1, (x + 3) / 6))


def logsigmoid(x: Tensor) -> Tensor:
    """log sigmoid(x), as min(x, 0) - log(1 + exp(-|x|)): no overflow for any x (and
    -|x| written with where, so that the second derivative at 0 is PyTorch's too)."""
    x = _tensor(x)
    negative = x < 0
    return where(negative, x, 0) - _log1p(where(negative, x, -x).exp())


def smooth_l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, with d = input - target
    (``torch.nn.functional.smooth_l1_loss``; beta = 0 is the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta!r}")
    input, target = _regression_args("smooth_l1_loss", input, target, reduction)
    diff = input - target
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    loss = where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta)
    return _reduce(loss, reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a new last dim of ``num_classes``: 1 at each index, else 0
    (``num_classes=-1``: one more than the largest index)."""
    indices = _tensor(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects a tensor of class indices, got {indices.dtype}")
    values = indices.numpy()
    if num_classes == -1:
        if values.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor")
        num_classes = int(values.max()) + 1
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got "
                         f"[{values.min()}, {values.max()}]")
    classes = arange(num_classes, device=indices.device)
    return (indices.unsqueeze(-1) == classes).astype(np.int64)


from .conv_functional import *  # noqa: E402, F403  (convolution, pooling, normalisation)
from .conv_functional import __all__ as _conv_all  # noqa: E402

__all__ += _conv_all


# activations of the training toolbox: ELU family, softplus, hard clips, gates, dropout

__all__ += [
    "celu", "dropout", "elu", "glu", "hardshrink", "hardswish", "hardtanh", "mish", "prelu",
    "relu6", "scaled_dot_product_attention", "selu", "softplus", "softshrink", "tanhshrink",
    "threshold",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(x: Any, inplace: bool, compute: Any) -> Tensor:
    """``compute(x)``, written into ``x`` when ``inplace`` (as PyTorch's ``inplace=True``)."""
    x = _tensor(x)
    return x._update(compute) if inplace else compute(x)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (exp(x) - 1)."""
    return _maybe_inplace(input, inplace, lambda x: where(x > 0, x, alpha * _negative(x).expm1()))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    def compute(x: Tensor) -> Tensor:
        return where(x > 0, x, alpha * (_negative(x) * (1.0 / alpha)).expm1())
    return _maybe_inplace(input, inplace, compute)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's fixed scale and alpha (self-normalising)."""
    def compute(x: Tensor) -> Tensor:
        return _SELU_SCALE * where(x > 0, x, _SELU_ALPHA * _negative(x).expm1())
    return _maybe_inplace(input, inplace, compute)


def _negative(x: Tensor) -> Tensor:
    """x where x <= 0, else 0: keeps exp() of the branch where() drops from overflowing."""
    return where(x > 0, 0, x)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    x = _tensor(input)
    scaled = x * beta
    linear = scaled > threshold
    return where(linear, x, where(linear, 0, scaled).exp().log1p() / beta)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return _maybe_inplace(input, inplace, lambda x: x * softplus(x).tanh())


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 0 at and beyond the bounds."""
    def compute(x: Tensor) -> Tensor:
        return where(x <= min_val, min_val, where(x >= max_val, max_val, x))
    return _maybe_inplace(input, inplace, compute)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    x = _tensor(input)
    return where(x.abs() > lambd, x, 0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise OpError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                      f"{lambd}")
    x = _tensor(input)
    return where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0))


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    x = _tensor(input)
    return x - x.tanh()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """0 for x <= -3, x for x >= 3, x (x + 3) / 6 between."""
    def compute(x: Tensor) -> Tensor:
        return where(x <= -3, 0, where(x < 3, x * (x + 3) / 6, x))
    return _maybe_inplace(input, inplace, compute)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight x, with one weight per channel (dim 1) or one for all."""
    x = _tensor(input)
    weight = _tensor(weight, x, "weight")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise OpError("Mismatch of parameter numbers and input channel size. Found parameter "
                      f"numbers = {weight.numel()} and channel size = {channels}.")
    if weight.numel() == 1:
        weight = weight.reshape(())
    else:
        weight = _along_axis(weight.reshape(-1), x.ndim, 1)
    return where(x > 0, x, weight * x)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    return _maybe_inplace(input, inplace, lambda x: where(x > threshold, x, value))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), a and b the two halves of the input along ``dim``."""
    x = _tensor(input)
    if x.ndim == 0:
        raise OpError("glu does not support scalars because halving size must be even")
    axis = dim % x.ndim
    if x.shape[axis] % 2:
        raise OpError(f"Halving dimension must be even, but dimension {axis} is size "
                      f"{x.shape[axis]}")
    a, b = x.split(x.shape[axis] // 2, axis)
    return a * b.sigmoid()


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q k^T * scale + mask) v over the last two dims (PyTorch's reference
    formula): ``scale`` 1/sqrt(E) by default; ``is_causal`` lets position i attend to
    positions up to i; a bool ``attn_mask`` says where attention may go, a float one is
    added to the scores; ``dropout_p`` drops attention weights."""
    q, k, v = _tensor(query), _tensor(key), _tensor(value)
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.swapaxes(-1, -2)) * scale
    length, source = q.shape[-2], k.shape[-2]
    if is_causal:
        attn_mask = tensor(np.tril(np.ones((length, source), dtype=bool)), device=q.backend)
    if attn_mask is not None:
        mask = _tensor(attn_mask, q, "attn_mask")
        scores = (where(mask, scores, -math.inf) if mask.dtype.kind == "b"
                  else scores + mask)
    weights = softmax(scores, axis=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ v


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """In training, zero each element with probability p and scale the rest by 1/(1-p)
    (inverted dropout); the identity otherwise."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _tensor(input)
    if not training or p == 0:
        return x

    def compute(x: Tensor) -> Tensor:
        if p == 1:
            return x * 0
        keep = _rand_like(x) >= p
        return x * (keep.astype(x.dtype) * (1 / (1 - p)))
    return _maybe_inplace(x, inplace, compute)


def _rand_like(like: Tensor) -> Tensor:
    """Uniform [0, 1) numbers of ``like``'s shape, dtype and device (its seeded generator)."""
    from .creation import rand

    return rand(*like.shape, device=like.device, dtype=like.dtype)


# distances and the losses built on them

__all__ += [
    "cosine_embedding_loss", "cosine_similarity", "gaussian_nll_loss", "hinge_embedding_loss",
    "kl_div", "margin_ranking_loss", "multilabel_soft_margin_loss", "normalize",
    "pairwise_distance", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss",
]


def _clamp_min(x: Tensor, low: float) -> Tensor:
    """max(x, low), its gradient 1 where x >= low (PyTorch's clamp_min)."""
    return where(x >= low, x, low)


def _floored(x: Tensor, low: float) -> Tensor:
    """max(x, low) in value, with the gradient of x itself (PyTorch clamps such a tensor
    in place under no_grad)."""
    with no_grad():
        shift = _clamp_min(x.detach(), low) - x.detach()
    return x + shift


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: None = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    x = _tensor(input)
    return x / _clamp_min(x.norm(p, dim, keepdim=True), eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps))) along ``dim``."""
    x1 = _tensor(x1)
    x2 = _tensor(x2, x1, "x2")
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    n1 = _floored(x1.norm(2, dim, keepdim=True), eps)
    n2 = _floored(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim."""
    x1 = _tensor(x1)
    x2 = _tensor(x2, x1, "x2")
    return (x1 - x2 + eps).norm(p, max(x1.ndim, x2.ndim) - 1, keepdim=keepdim)


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """PyTorch's old ``size_average``/``reduce`` flags as a reduction, with its warning."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    return reduction


def _loss_reduction(name: str, size_average: Any, reduce: Any, reduction: str) -> str:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction)
    return reduction


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target (log target - input) pointwise, input holding log-probabilities (with
    ``log_target`` the target does too); "batchmean" divides the sum by the batch size."""
    legacy = size_average is not None or reduce is not None
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean" and not legacy:
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    if reduction not in (*REDUCTIONS, "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x = _float_input("kl_div", input, "input")
    t = _float_target("kl_div", target, x)
    if log_target:
        loss = t.exp() * (t - x)
    else:  # xlogy(t, t) - t x, with 0 log 0 = 0
        zero = t == 0
        loss = where(zero, 0, t * where(zero, 1, t).log()) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin), target in {1, -1}."""
    name = "margin_ranking_loss"
    reduction = _loss_reduction(name, size_average, reduce, reduction)
    x1 = _float_input(name, input1, "input1")
    x2, t = _tensor(input2, x1, "input2"), _tensor(target, x1, "target")
    if not x1.ndim == x2.ndim == t.ndim:
        raise OpError(f"{name} : All input tensors should have same dimension but got sizes: "
                      f"input1: {x1.shape}, input2: {x2.shape}, target: {t.shape}")
    return _reduce(_clamp_min(-t * (x1 - x2) + margin, 0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target input)), target in {1, -1}."""
    reduction = _loss_reduction("soft_margin_loss", size_average, reduce, reduction)
    x = _float_input("soft_margin_loss", input, "input")
    t = _float_target("soft_margin_loss", target, x)
    return _reduce(-logsigmoid(t * x), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    name = "cosine_embedding_loss"
    reduction = _loss_reduction(name, size_average, reduce, reduction)
    x1 = _float_input(name, input1, "input1")
    x2, t = _tensor(input2, x1, "input2"), _tensor(target, x1, "target")
    if t.ndim not in (0, 1):
        raise OpError("0D or 1D target tensor expected, multi-target not supported")
    if not x1.ndim == x2.ndim == t.ndim + 1:
        raise OpError(f"{t.ndim}D target tensor expects {t.ndim + 1}D input tensors, but found "
                      f"inputs with sizes {list(x1.shape)} and {list(x2.shape)}.")
    axis = t.ndim
    products = (x1 * x2).sum(axis)
    norms = (((x1 * x1).sum(axis) + 1e-12) * ((x2 * x2).sum(axis) + 1e-12)).sqrt()
    cos = products / norms
    loss = where(t == 1, 1 - cos, 0) + where(t == -1, _clamp_min(cos - margin, 0), 0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise
    distance; ``swap`` uses min(d(a, n), d(p, n)) as the negative distance."""
    reduction = _loss_reduction("triplet_margin_loss", size_average, reduce, reduction)
    a = _float_input("triplet_margin_loss", anchor, "anchor")
    pos, neg = _tensor(positive, a, "positive"), _tensor(negative, a, "negative")
    if not a.ndim == pos.ndim == neg.ndim:
        raise OpError("The anchor, positive, and negative tensors are expected to have the "
                      f"same number of dimensions, but got: anchor {a.ndim}D, positive "
                      f"{pos.ndim}D, and negative {neg.ndim}D inputs")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = _minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(_clamp_min(margin + d_pos - d_neg, 0), reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) (+ 0.5 log 2 pi when
    ``full``); var matches the input, lacks its last dim, or differs in one dim of size 1."""
    x = _float_input("gaussian_nll_loss", input, "input")
    t = _float_target("gaussian_nll_loss", target, x)
    if isinstance(var, int | float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = tensor(np.full(x.shape, var), dtype=x.dtype, device=x.backend)
    else:
        var = _tensor(var, x, "var")
        if compiled.guarded(lambda data: bool((var.backend.to_numpy(data) < 0).any()), var):
            raise ValueError("var has negative entry/entries")
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (x.ndim == var.ndim
                  and sum(v for s, v in zip(x.shape, var.shape) if s != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = _floored(var, eps)
    loss = 0.5 * (var.log() + (x - t) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """exp(input) - target input (``log_input``), else input - target log(input + eps);
    ``full`` adds Stirling's t log t - t + 0.5 log(2 pi t) where target > 1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in REDUCTIONS:
        raise ValueError(reduction + " is not a valid value for reduction")
    x = _float_input("poisson_nll_loss", input, "input")
    t = _float_target("poisson_nll_loss", target, x)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        big = t > 1
        safe = where(big, t, 2)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(big, stirling, 0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """x where target is 1, max(0, margin - x) where it is -1."""
    reduction = _loss_reduction("hinge_embedding_loss", size_average, reduce, reduction)
    x = _float_input("hinge_embedding_loss", input, "input")
    t = _tensor(target, x, "target")
    loss = where(t != 1, _clamp_min(margin - x, 0), 0) + where(t != -1, x, 0)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)), weighted, averaged over the classes
    (the last dim)."""
    name = "multilabel_soft_margin_loss"
    reduction = _loss_reduction(name, size_average, reduce, reduction)
    x = _float_input(name, input, "input")
    t = _tensor(target, x, "target").astype(x.dtype)
    loss = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        loss = loss * _tensor(weight, x, "weight")
    loss = loss.sum(x.ndim - 1) / x.shape[-1]
    return _reduce(loss, reduction)
