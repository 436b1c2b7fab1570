"""The differentiable primitives of convolution and pooling, in the style of ``ops``.

Convolutions are composed (``conv_functional``): windows of the input (``Unfold``, im2col)
times the weight (one batched matmul), and, for the transposed convolution, the reverse
(a matmul, then ``Fold``, col2im). ``Unfold`` and ``Fold`` are each other's gradient, so
gradients of gradients come free. ``WindowMax`` keeps the arg-max of each window for its
gradient, and ``ConstantPad`` writes its input into a filled frame. Each ``backward`` runs
on arrays, or on tensors when the backward pass is recorded (``ctx.xp`` is then not the
backend).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .function import Op


class Unfold(Op):
    """The sliding windows of the last ``len(kernel_size)`` axes:
    (..., *size) -> (..., *out, *kernel_size); a strided view where the backend allows."""

    is_view = True

    @staticmethod
    def forward(ctx, x, kernel_size=(), stride=(), dilation=()):
        ctx.in_shape, ctx.stride, ctx.dilation = x.shape, stride, dilation
        return ctx.backend.sliding_windows(x, kernel_size, stride, dilation)

    @staticmethod
    def backward(ctx, grad):
        # dL/dx[p] = sum of dL/dwindows over every window position that read x[p] (col2im)
        return fold(ctx, grad, ctx.in_shape, ctx.stride, ctx.dilation)


class Fold(Op):
    """Zeros of ``shape`` with each window added back where ``Unfold`` reads it (col2im)."""

    @staticmethod
    def forward(ctx, windows, shape=(), stride=(), dilation=()):
        k = len(stride)
        ctx.kernel_size, ctx.stride, ctx.dilation = windows.shape[-k:], stride, dilation
        return ctx.backend.fold_windows(windows, shape, stride, dilation)

    @staticmethod
    def backward(ctx, grad):
        # Fold is linear and the adjoint of Unfold: dL/dwindows = Unfold(dL/dout)
        return unfold(ctx, grad, ctx.kernel_size, ctx.stride, ctx.dilation)


def unfold(ctx: Any, x: Any, kernel_size: tuple, stride: tuple, dilation: tuple) -> Any:
    """Unfold on a backward pass's values: arrays, or tensors when it is recorded."""
    if ctx.xp is ctx.backend:
        return ctx.backend.sliding_windows(x, kernel_size, stride, dilation)
    return Unfold.apply(x, kernel_size=kernel_size, stride=stride, dilation=dilation)


def fold(ctx: Any, windows: Any, shape: tuple, stride: tuple, dilation: tuple) -> Any:
    """Fold on a backward pass's values: arrays, or tensors when it is recorded."""
    if ctx.xp is ctx.backend:
        return ctx.backend.fold_windows(windows, shape, stride, dilation)
    return Fold.apply(windows, shape=shape, stride=stride, dilation=dilation)


class WindowMax(Op):
    """The maximum of each window (the last ``axes`` axes of ``Unfold``'s result). The
    gradient goes to the first maximum in row-major order, as PyTorch's max pooling."""

    @staticmethod
    def forward(ctx, windows, axes=2):
        values, ctx.best = ctx.backend.window_max(windows, axes)
        ctx.window_shape = windows.shape[-axes:]
        return values

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.backend
        size = math.prod(ctx.window_shape)
        picked = xp.eq(xp.reshape(ctx.best, (*ctx.best.shape, 1)),
                       xp.arange(0, size, 1, np.int64))
        picked = xp.astype(xp.reshape(picked, (*ctx.best.shape, *ctx.window_shape)), grad.dtype)
        kept = (*grad.shape, *(1,) * len(ctx.window_shape))
        return grad.reshape(kept) * picked  # d max / d x_j = 1 where j is the arg-max, else 0


class ConstantPad(Op):
    """``x`` inside a frame of ``value``: ``pads`` holds (before, after) per axis, from the
    first axis, all >= 0."""

    @staticmethod
    def forward(ctx, x, pads=(), value=0.0):
        xp = ctx.backend
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, pads))
        ctx.inner = tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, pads))
        out = xp.full(shape, value, x.dtype)
        xp.setitem(out, ctx.inner, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner]  # the frame is constant: only the inside passes a gradient
