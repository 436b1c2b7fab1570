"""Numba kernels of the ``numba`` backend.

``njit`` without a signature compiles on the first call, so importing this module costs
little and each kernel is compiled when first used (``cache=True``: a second process
loads it from disk). Every kernel comes twice: serial, and parallel over ``prange`` for
arrays large enough to pay for waking the worker threads (``PARALLEL_MIN`` elements; the
memory-bound optimizer updates from a size that depends on the threading layer, relu
from ``RELU_PARALLEL_MIN``).
Loops write each element once and never accumulate into shared state, so both give the
same result. ``error_model="numpy"`` lets the loops vectorise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

# Elements from which the parallel build runs (examples/numba_tuning.py measures them).
PARALLEL_MIN = 1 << 17
# The optimizer updates are bound by memory bandwidth, so a second thread pays only where
# waking it is cheap. On 2 cores, on the TBB layer, a lone Adam update broke even at 256K
# elements with the workers awake (the parameters of one optimizer step follow each other)
# and took 0.32-0.42 ms on 1M elements against 0.63-0.74 ms serially; inside a training
# step, where the BLAS threads of the last matmul still hold the other core, it ranged from
# 8% slower to 30% faster than the serial build (131K to 4.2M elements, two runs). On the
# workqueue layer the parallel build lost up to 1M elements and won by 15% at 10M.
UPDATES = ("adam", "sgd", "rmsprop")
UPDATES_PARALLEL_MIN = {"tbb": 1 << 18, "workqueue": 1 << 22}
# relu and its gradient stream through memory once; inside a training step their parallel
# builds lost by 25-90% at 65K-131K elements and tied at 1M.
RELU = ("relu", "relu_backward", "bias_relu")
RELU_PARALLEL_MIN = 1 << 22
_options = {"cache": True, "error_model": "numpy"}


@njit(inline="always")
def _sigmoid(v):
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    e = math.exp(v)
    return e / (1 + e)


@njit(**_options)
def sigmoid_serial(x, out):
    for i in range(x.size):
        out[i] = _sigmoid(x[i])


@njit(parallel=True, **_options)
def sigmoid_parallel(x, out):
    for i in prange(x.size):
        out[i] = _sigmoid(x[i])


@njit(**_options)
def relu_serial(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = 0 if v <= 0 else v  # NaN stays NaN


@njit(parallel=True, **_options)
def relu_parallel(x, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = 0 if v <= 0 else v


@njit(**_options)
def relu_backward_serial(out, grad, grad_in):
    for i in range(out.size):
        grad_in[i] = 0 if out[i] <= 0 else grad[i]


@njit(parallel=True, **_options)
def relu_backward_parallel(out, grad, grad_in):
    for i in prange(out.size):
        grad_in[i] = 0 if out[i] <= 0 else grad[i]


@njit(**_options)
def bias_relu_serial(h, bias, out):
    # a linear layer's bias and the relu after it: h = h + bias (per column), out = relu(h)
    for i in range(h.shape[0]):
        for j in range(h.shape[1]):
            v = h[i, j] + bias[j]
            h[i, j] = v
            out[i, j] = 0 if v <= 0 else v


@njit(parallel=True, **_options)
def bias_relu_parallel(h, bias, out):
    for i in prange(h.shape[0]):
        for j in range(h.shape[1]):
            v = h[i, j] + bias[j]
            h[i, j] = v
            out[i, j] = 0 if v <= 0 else v


# the column sums of a (rows, columns) array, such as a bias's gradient: serial only
ROWS = ("sum_rows",)


@njit(**_options)
def sum_rows_serial(x, out):
    # the sum of the rows of x, added row after row to zeros as NumPy's sum over axis 0
    # of two or more columns adds them (so a column of -0.0 sums to 0.0, as there)
    out[:] = 0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[j] += x[i, j]


@njit(inline="always")
def _adam(p, g, m, v, decay, weight_decay, keep1, beta2, one_minus_beta1, one_minus_beta2):
    # the operations of minigrad.optimizer_kernels.adam_update, in the same order
    p = p * decay
    g = g + weight_decay * p
    if one_minus_beta1 < 0.5:
        m = m + (g - m) * one_minus_beta1
    else:
        m = g - (g - m) * keep1
    v = v * beta2 + g * one_minus_beta2 * g
    return p, m, v


@njit(**_options)
def adam_serial(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, decay, weight_decay, keep1,
                beta2, one_minus_beta1, one_minus_beta2, bc2_sqrt, eps, neg_step_size, amsgrad):
    for i in range(param.size):
        p, m, v = _adam(param[i], grad[i], exp_avg[i], exp_avg_sq[i], decay, weight_decay,
                        keep1, beta2, one_minus_beta1, one_minus_beta2)
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p + m * neg_step_size / (math.sqrt(v) / bc2_sqrt + eps)


@njit(parallel=True, **_options)
def adam_parallel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, decay, weight_decay, keep1,
                  beta2, one_minus_beta1, one_minus_beta2, bc2_sqrt, eps, neg_step_size,
                  amsgrad):
    for i in prange(param.size):
        p, m, v = _adam(param[i], grad[i], exp_avg[i], exp_avg_sq[i], decay, weight_decay,
                        keep1, beta2, one_minus_beta1, one_minus_beta2)
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p + m * neg_step_size / (math.sqrt(v) / bc2_sqrt + eps)


@njit(inline="always")
def _sgd(p, g, b, neg_lr, weight_decay, momentum, damp, first, nesterov):
    # the operations of minigrad.optimizer_kernels.sgd_update, in the same order
    g = g + weight_decay * p
    if momentum != 0:
        b = g if first else b * momentum + g * damp
        g = g + b * momentum if nesterov else b
    return p + g * neg_lr, b


@njit(**_options)
def sgd_serial(param, grad, buf, neg_lr, weight_decay, momentum, damp, first, nesterov):
    for i in range(param.size):
        p, b = _sgd(param[i], grad[i], buf[i], neg_lr, weight_decay, momentum, damp, first,
                    nesterov)
        if momentum != 0:
            buf[i] = b
        param[i] = p


@njit(parallel=True, **_options)
def sgd_parallel(param, grad, buf, neg_lr, weight_decay, momentum, damp, first, nesterov):
    for i in prange(param.size):
        p, b = _sgd(param[i], grad[i], buf[i], neg_lr, weight_decay, momentum, damp, first,
                    nesterov)
        if momentum != 0:
            buf[i] = b
        param[i] = p


@njit(inline="always")
def _rmsprop(p, g, s, a, b, neg_lr, alpha, one_minus_alpha, eps, weight_decay, momentum,
             centered):
    # the operations of minigrad.optimizer_kernels.rmsprop_update, in the same order
    g = g + weight_decay * p
    s = s * alpha + g * one_minus_alpha * g
    mean_sq = s
    if centered:
        if one_minus_alpha < 0.5:
            a = a + (g - a) * one_minus_alpha
        else:
            a = g - (g - a) * alpha
        mean_sq = s - a * a
    avg = math.sqrt(mean_sq) + eps
    if momentum > 0:
        b = b * momentum + g / avg
        p = p + b * neg_lr
    else:
        p = p + g * neg_lr / avg
    return p, s, a, b


@njit(**_options)
def rmsprop_serial(param, grad, square_avg, grad_avg, buf, neg_lr, alpha, one_minus_alpha, eps,
                   weight_decay, momentum, centered):
    for i in range(param.size):
        p, s, a, b = _rmsprop(param[i], grad[i], square_avg[i], grad_avg[i], buf[i], neg_lr,
                              alpha, one_minus_alpha, eps, weight_decay, momentum, centered)
        square_avg[i] = s
        if centered:
            grad_avg[i] = a
        if momentum > 0:
            buf[i] = b
        param[i] = p


@njit(parallel=True, **_options)
def rmsprop_parallel(param, grad, square_avg, grad_avg, buf, neg_lr, alpha, one_minus_alpha,
                     eps, weight_decay, momentum, centered):
    for i in prange(param.size):
        p, s, a, b = _rmsprop(param[i], grad[i], square_avg[i], grad_avg[i], buf[i], neg_lr,
                              alpha, one_minus_alpha, eps, weight_decay, momentum, centered)
        square_avg[i] = s
        if centered:
            grad_avg[i] = a
        if momentum > 0:
            buf[i] = b
        param[i] = p


@njit(inline="always")
def _softmax_row(row, out, label):
    # softmax of one row into out; returns -log softmax(row)[label]
    top = row[0]
    for j in range(1, row.size):
        top = max(top, row[j])
    total = row.dtype.type(0)
    for j in range(row.size):
        e = math.exp(row[j] - top)
        out[j] = e
        total += e
    for j in range(row.size):
        out[j] /= total
    return math.log(total) - (row[label] - top)


@njit(**_options)
def softmax_xent_serial(x, target, losses, probs):
    for i in range(x.shape[0]):
        losses[i] = _softmax_row(x[i], probs[i], target[i])


@njit(parallel=True, **_options)
def softmax_xent_parallel(x, target, losses, probs):
    for i in prange(x.shape[0]):
        losses[i] = _softmax_row(x[i], probs[i], target[i])


@njit(**_options)
def softmax_xent_backward_serial(probs, target, grad, out):
    for i in range(probs.shape[0]):
        g = grad[i]
        for j in range(probs.shape[1]):
            out[i, j] = probs[i, j] * g
        out[i, target[i]] -= g


@njit(parallel=True, **_options)
def softmax_xent_backward_parallel(probs, target, grad, out):
    for i in prange(probs.shape[0]):
        g = grad[i]
        for j in range(probs.shape[1]):
            out[i, j] = probs[i, j] * g
        out[i, target[i]] -= g


# windows of 2-D convolution and pooling: ``windows`` is (A, B, out_h, out_w, k_h, k_w), any
# strides (a view of the images, or a gradient as the matmul leaves it). Serial only: in a
# LeNet-5 step (batch 64, 1 BLAS thread, 2 cores) the serial kernels took the step from
# 14.3 ms (the NumPy primitives) to 12.3 ms, and parallel builds over the images back to
# 14.1 ms (medians of 60 steps, interleaved); alone, against the NumPy primitives:
# window_max 0.40x (64x6x28x28, 2x2 windows) and 0.38x (64x16x10x10); fold_windows 0.72x
# (the gradient of that first pooling) and 0.61x (conv2's column gradient, 64x6x10x10x5x5,
# strided as the matmul leaves it).
WINDOWS = ("fold_windows", "window_max")


@njit(inline="always")
def _fold_image(windows, out, a, b, stride_h, stride_w, dilation_h, dilation_w):
    # offsets outermost, as the NumPy backend adds them: the same sums in the same order
    for p in range(windows.shape[4]):
        for q in range(windows.shape[5]):
            for i in range(windows.shape[2]):
                row = i * stride_h + p * dilation_h
                for j in range(windows.shape[3]):
                    out[a, b, row, j * stride_w + q * dilation_w] += windows[a, b, i, j, p, q]


@njit(**_options)
def fold_windows_serial(windows, out, stride_h, stride_w, dilation_h, dilation_w):
    for n in range(windows.shape[0] * windows.shape[1]):
        a = n // windows.shape[1]
        b = n - a * windows.shape[1]
        _fold_image(windows, out, a, b, stride_h, stride_w, dilation_h, dilation_w)


@njit(inline="always")
def _window_max_image(windows, best, index, a, b):
    for i in range(windows.shape[2]):
        for j in range(windows.shape[3]):
            top = windows[a, b, i, j, 0, 0]
            at = 0
            n = 0
            for p in range(windows.shape[4]):
                for q in range(windows.shape[5]):
                    v = windows[a, b, i, j, p, q]
                    if n > 0 and (v > top or v != v):  # a NaN wins, as in the NumPy backend
                        top = v
                        at = n
                    n += 1
            best[a, b, i, j] = top
            index[a, b, i, j] = at


@njit(**_options)
def window_max_serial(windows, best, index):
    for n in range(windows.shape[0] * windows.shape[1]):
        a = n // windows.shape[1]
        b = n - a * windows.shape[1]
        _window_max_image(windows, best, index, a, b)


# im2col, col2im and max-pooling on whole images: images are (A, H, W) and columns (A, k_h,
# k_w, out_h, out_w), both C-contiguous (A: the leading axes merged).
COLUMNS = ("im2col_unit", "col2im", "col2im_unit", "max_pool", "max_pool_backward", "max_pool_2x2",
           "max_pool_2x2_backward")


@njit(**_options)
def col2im_serial(cols, out, stride_h, stride_w, dilation_h, dilation_w):
    # offsets outermost, as the NumPy backend adds them: the same sums in the same order
    out_w = cols.shape[4]
    for a in range(cols.shape[0]):
        for p in range(cols.shape[1]):
            for q in range(cols.shape[2]):
                for i in range(cols.shape[3]):
                    start = q * dilation_w
                    target = out[a, i * stride_h + p * dilation_h,
                                 start:start + (out_w - 1) * stride_w + 1:stride_w]
                    source = cols[a, p, q, i]
                    for j in range(out_w):
                        target[j] += source[j]


@njit(**_options)
def im2col_unit_serial(x, cols):
    # im2col at stride 1 and dilation 1 into C-contiguous columns: 0.16 ms on LeNet-5's
    # second layer, where NumPy's copy of the strided windows takes 0.34 ms
    out_w = cols.shape[4]
    for a in range(cols.shape[0]):
        for p in range(cols.shape[1]):
            for q in range(cols.shape[2]):
                for i in range(cols.shape[3]):
                    source = x[a, i + p, q:q + out_w]
                    target = cols[a, p, q, i]
                    for j in range(out_w):
                        target[j] = source[j]


@njit(**_options)
def col2im_unit_serial(cols, out):
    # col2im at stride 1 and dilation 1, the same sums: with the steps known, the rows'
    # adds run in 0.16 ms on LeNet-5's second layer, against 0.35 ms for the general kernel
    out_w = cols.shape[4]
    for a in range(cols.shape[0]):
        for p in range(cols.shape[1]):
            for q in range(cols.shape[2]):
                for i in range(cols.shape[3]):
                    target = out[a, i + p, q:q + out_w]
                    source = cols[a, p, q, i]
                    for j in range(out_w):
                        target[j] += source[j]


@njit(**_options)
def max_pool_serial(x, best, index, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
                    dilation_w):
    for a in range(best.shape[0]):
        for i in range(best.shape[1]):
            for j in range(best.shape[2]):
                top = x[a, i * stride_h, j * stride_w]
                at = 0
                n = 0
                for p in range(kernel_h):
                    row = x[a, i * stride_h + p * dilation_h]
                    for q in range(kernel_w):
                        v = row[j * stride_w + q * dilation_w]
                        if n > 0 and (v > top or v != v):  # a NaN wins, as in NumPy's
                            top = v
                            at = n
                        n += 1
                best[a, i, j] = top
                index[a, i, j] = at


@njit(**_options)
def max_pool_backward_serial(grad, index, out, kernel_w, stride_h, stride_w, dilation_h,
                             dilation_w):
    for a in range(grad.shape[0]):
        for i in range(grad.shape[1]):
            for j in range(grad.shape[2]):
                p, q = divmod(index[a, i, j], kernel_w)
                out[a, i * stride_h + p * dilation_h, j * stride_w + q * dilation_w] += grad[
                    a, i, j]


# 2x2 windows at stride 2 (most networks' pooling), written out: the loops over a window of
# 2 by 2 cost LeNet-5's first pooling 0.55 ms where these take 0.09 (forward) and 0.12 ms
# (backward, which writes each window whole: they do not overlap).
@njit(inline="always")
def _pick(v, top, at, n):
    wins = v > top or v != v
    return (v if wins else top), (n if wins else at)


@njit(**_options)
def max_pool_2x2_serial(x, best, index):
    for a in range(best.shape[0]):
        for i in range(best.shape[1]):
            upper, lower = x[a, 2 * i], x[a, 2 * i + 1]
            for j in range(best.shape[2]):
                top, at = _pick(upper[2 * j + 1], upper[2 * j], 0, 1)
                top, at = _pick(lower[2 * j], top, at, 2)
                top, at = _pick(lower[2 * j + 1], top, at, 3)
                best[a, i, j] = top
                index[a, i, j] = at


@njit(**_options)
def max_pool_2x2_backward_serial(grad, index, out):
    for a in range(grad.shape[0]):
        for i in range(grad.shape[1]):
            upper, lower = out[a, 2 * i], out[a, 2 * i + 1]
            for j in range(grad.shape[2]):
                g = grad[a, i, j]
                at = index[a, i, j]
                upper[2 * j] = g if at == 0 else 0
                upper[2 * j + 1] = g if at == 1 else 0
                lower[2 * j] = g if at == 2 else 0
                lower[2 * j + 1] = g if at == 3 else 0


# Direct 2-D convolution at stride 1, for few input channels (LeNet-5's first layer): no
# column buffer. Each image's rows are read at the input's row pitch, so that one tap is one
# contiguous multiply-add over (out_h - 1) * W + out_w positions (the positions past a row's
# end are computed and dropped). x (N, C, H, W), weight (C_out, C, k_h, k_w) and the
# gradient (N, C_out, out_h, out_w), all C-contiguous. Serial only: a parallel build over
# the images ran no faster in a LeNet-5 step (1 and 2 threads, on 2 loaded cores).
DIRECT = ("conv_direct", "conv_direct_weight", "conv_direct_input")
_reduction = {**_options, "fastmath": {"reassoc", "contract"}}  # vectorised dot products


@njit(inline="always")
def _conv_image(pixels, weight, bias, out, n, acc, width, dilation_h, dilation_w):
    channels, out_channels = pixels.shape[1], weight.shape[0]
    span = acc.shape[1]
    for o in range(out_channels):
        acc[o, :] = bias[o]
    for c in range(channels):
        for p in range(weight.shape[2]):
            for q in range(weight.shape[3]):
                start = p * dilation_h * width + q * dilation_w
                tap = pixels[n, c, start:start + span]
                for o in range(out_channels):
                    w = weight[o, c, p, q]
                    row = acc[o]
                    for r in range(span):
                        row[r] += w * tap[r]
    for o in range(out_channels):
        for i in range(out.shape[2]):
            for j in range(out.shape[3]):
                out[n, o, i, j] = acc[o, i * width + j]


@njit(**_options)
def conv_direct_serial(x, weight, bias, out, dilation_h, dilation_w):
    n_images, channels, height, width = x.shape
    pixels = x.reshape(n_images, channels, height * width)
    acc = np.empty((weight.shape[0], (out.shape[2] - 1) * width + out.shape[3]), x.dtype)
    for n in range(n_images):
        _conv_image(pixels, weight, bias, out, n, acc, width, dilation_h, dilation_w)


@njit(inline="always")
def _at_pitch(grad, n, spread, width):
    # (C_out, out_h, out_w) of image n laid out at the input's row pitch, zeros between
    for o in range(grad.shape[1]):
        for i in range(grad.shape[2]):
            for j in range(grad.shape[3]):
                spread[o, i * width + j] = grad[n, o, i, j]


@njit(inline="always")
def _weight_image(pixels, grad, grad_weight, n, spread, width, dilation_h, dilation_w):
    # adds image n's part of the weight gradient to grad_weight
    span = spread.shape[1]
    _at_pitch(grad, n, spread, width)
    for o in range(grad_weight.shape[0]):
        g = spread[o]
        for c in range(grad_weight.shape[1]):
            for p in range(grad_weight.shape[2]):
                for q in range(grad_weight.shape[3]):
                    start = p * dilation_h * width + q * dilation_w
                    tap = pixels[n, c, start:start + span]
                    total = g[0] * 0
                    for r in range(span):
                        total += g[r] * tap[r]
                    grad_weight[o, c, p, q] += total


@njit(**_reduction)
def conv_direct_weight_serial(x, grad, grad_weight, dilation_h, dilation_w):
    n_images, channels, height, width = x.shape
    pixels = x.reshape(n_images, channels, height * width)
    spread = np.zeros((grad.shape[1], (grad.shape[2] - 1) * width + grad.shape[3]), x.dtype)
    grad_weight[:] = 0
    for n in range(n_images):
        _weight_image(pixels, grad, grad_weight, n, spread, width, dilation_h, dilation_w)


@njit(inline="always")
def _input_image(grad, weight, pixels, n, spread, width, dilation_h, dilation_w):
    span = spread.shape[1]
    _at_pitch(grad, n, spread, width)
    for c in range(pixels.shape[1]):
        pixels[n, c, :] = 0
        for p in range(weight.shape[2]):
            for q in range(weight.shape[3]):
                start = p * dilation_h * width + q * dilation_w
                tap = pixels[n, c, start:start + span]
                for o in range(weight.shape[0]):
                    w = weight[o, c, p, q]
                    g = spread[o]
                    for r in range(span):
                        tap[r] += w * g[r]


@njit(**_options)
def conv_direct_input_serial(grad, weight, grad_x, dilation_h, dilation_w):
    n_images, channels, height, width = grad_x.shape
    pixels = grad_x.reshape(n_images, channels, height * width)
    spread = np.zeros((grad.shape[1], (grad.shape[2] - 1) * width + grad.shape[3]),
                      grad.dtype)
    for n in range(n_images):
        _input_image(grad, weight, pixels, n, spread, width, dilation_h, dilation_w)


# per kernel name: its serial and its parallel build
_BUILDS: dict[str, tuple[Callable, Callable]] = {}


class Kernels:
    """Runs kernels on flat arrays, choosing the serial or parallel build by size, and
    keeps the time spent in first calls (compiling, or loading from the cache)."""

    def __init__(self, threading_layer: str) -> None:
        self.compile_seconds = 0.0
        updates_min = UPDATES_PARALLEL_MIN.get(threading_layer, 1 << 22)
        self.parallel_min = {name: updates_min for name in UPDATES}  # by kernel
        self.parallel_min.update({name: math.inf for name in COLUMNS + DIRECT})  # serial
        self.parallel_min.update({name: RELU_PARALLEL_MIN for name in RELU})
        self.parallel_min.update({name: math.inf for name in WINDOWS + ROWS})  # serial only

    def call(self, name: str, size: int, *args: Any) -> Any:
        kernel = self.build(name, size)
        known = len(kernel.overloads)
        start = time.perf_counter()
        result = kernel(*args)
        if len(kernel.overloads) != known:  # a first call for these types: compiled or loaded
            self.compile_seconds += time.perf_counter() - start
        return result

    def build(self, name: str, size: int) -> Callable:
        """The build of kernel ``name`` that ``call`` runs for ``size`` elements."""
        builds = _BUILDS.get(name)
        if builds is None:
            serial = globals()[f"{name}_serial"]
            builds = _BUILDS[name] = (serial, globals().get(f"{name}_parallel", serial))
        return builds[size >= self.parallel_min.get(name, PARALLEL_MIN)]

    def elementwise(self, name: str, x: np.ndarray) -> np.ndarray:
        """A new array shaped like ``x`` from a one-input elementwise kernel."""
        out = np.empty(x.shape, x.dtype)
        self.call(name, out.size, np.ascontiguousarray(x).reshape(-1), out.reshape(-1))
        return out
