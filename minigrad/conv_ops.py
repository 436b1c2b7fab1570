"""The differentiable primitives of convolution and pooling, in the style of ``ops``.

Convolutions are composed (``conv_functional``): the columns of the input's windows
(``Im2col``) times the weight (one batched matmul), and, for the transposed convolution,
the reverse (a matmul, then ``Fold``, col2im). ``Unfold`` and ``Fold`` are each other's
gradient, as are ``Im2col`` and ``Col2im`` (the same windows, laid out as a matmul reads
them), so gradients of gradients come free. ``MaxPool`` keeps the arg-max of each window
for its gradient, and ``ConstantPad`` writes its input into a filled frame. Each
``backward`` runs on arrays, or on tensors when the backward pass is recorded (``ctx.xp``
is then not the backend).
"""

from __future__ import annotations

from typing import Any

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


class Im2col(Op):
    """``Unfold``'s windows as columns, (..., *size) -> (..., *kernel_size, *out): what a
    convolution's matmul reads (``backend.im2col``)."""

    is_view = True  # the default layout is a view of the input

    @staticmethod
    def forward(ctx, x, kernel_size=(), stride=(), dilation=()):
        ctx.in_shape, ctx.stride, ctx.dilation = x.shape, stride, dilation
        return ctx.backend.im2col(x, kernel_size, stride, dilation)

    @staticmethod
    def backward(ctx, grad):
        # each column entry goes back to the input position it was read from (col2im)
        if ctx.xp is ctx.backend:
            return ctx.backend.col2im(grad, ctx.in_shape, ctx.stride, ctx.dilation)
        return Col2im.apply(grad, shape=ctx.in_shape, stride=ctx.stride,
                            dilation=ctx.dilation)


class Col2im(Op):
    """Zeros of ``shape`` with each column added back where ``Im2col`` reads it."""

    @staticmethod
    def forward(ctx, cols, shape=(), stride=(), dilation=()):
        k = len(stride)
        ctx.kernel_size, ctx.stride, ctx.dilation = cols.shape[-2 * k:-k], stride, dilation
        return ctx.backend.col2im(cols, shape, stride, dilation)

    @staticmethod
    def backward(ctx, grad):
        # Col2im is linear and the adjoint of Im2col: dL/dcols = Im2col(dL/dout)
        if ctx.xp is ctx.backend:
            return ctx.backend.im2col(grad, ctx.kernel_size, ctx.stride, ctx.dilation)
        return Im2col.apply(grad, kernel_size=ctx.kernel_size, stride=ctx.stride,
                            dilation=ctx.dilation)


class DirectConv2d(Op):
    """A 2-D convolution at stride 1 in one group, with its bias, (N, C, H, W) by
    (C_out, C, kh, kw) -> (N, C_out, out_h, out_w), as one backend kernel
    (``backend.conv2d_direct``): for the shapes where a backend's loops over the input beat
    im2col and a matmul."""

    saves_inputs = True
    grad_uses = ((1,), (0,), ())  # x's gradient reads the weight, the weight's reads x

    @staticmethod
    def forward(ctx, x, weight, bias=None, dilation=(1, 1)):
        ctx.dilation = dilation
        return ctx.backend.conv2d_direct(x, weight, bias, dilation)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors[:2]
        need_x, need_weight, *need_bias = ctx.needs_input_grad  # a bias, if one was given
        grad_bias = grad.sum(axis=(0, 2, 3)) if any(need_bias) else None  # dL/db = sum G
        if ctx.xp is ctx.backend:
            grads = ctx.backend.conv2d_direct_backward(x, weight, grad, ctx.dilation, need_x,
                                                       need_weight)
            return (*grads, grad_bias)[:len(ctx.needs_input_grad)]
        # recorded: the composed convolution's gradients, written with tensors
        from .conv_functional import conv_transpose2d

        grad_x = grad_weight = None
        if need_x:
            grad_x = conv_transpose2d(grad, weight, dilation=ctx.dilation)
        if need_weight:
            n, out_channels = grad.shape[:2]
            cols = Im2col.apply(x, kernel_size=weight.shape[2:], stride=(1, 1),
                                dilation=ctx.dilation).reshape(n, -1, grad[0, 0].numel())
            per_image = grad.reshape(n, out_channels, -1) @ cols.swapaxes(-1, -2)
            grad_weight = per_image.sum(axis=0).reshape(weight.shape)
        return (grad_x, grad_weight, grad_bias)[:len(ctx.needs_input_grad)]


class MaxPool(Op):
    """The maximum of each window of the last ``len(kernel_size)`` axes, (..., *size) ->
    (..., *out). The gradient goes to the first maximum of each window in row-major
    order, as PyTorch's max pooling; ``backend.max_pool`` keeps where it is."""

    @staticmethod
    def forward(ctx, x, kernel_size=(), stride=(), dilation=()):
        values, ctx.best = ctx.backend.max_pool(x, kernel_size, stride, dilation)
        ctx.in_shape, ctx.kernel_size = x.shape, kernel_size
        ctx.stride, ctx.dilation = stride, dilation
        return values

    @staticmethod
    def backward(ctx, grad):
        # d max / d x_j = 1 where j is the window's arg-max, else 0: each gradient value
        # is added at its window's arg-max (overlapping windows add up)
        xp = ctx.backend
        if ctx.xp is xp:
            return xp.max_pool_backward(grad, ctx.best, ctx.in_shape, ctx.kernel_size,
                                        ctx.stride, ctx.dilation)
        picked = xp.window_picks(ctx.best, ctx.kernel_size, grad.dtype)  # a constant
        kept = (*grad.shape, *(1,) * len(ctx.kernel_size))
        return fold(ctx, grad.reshape(kept) * picked, ctx.in_shape, ctx.stride, ctx.dilation)


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
