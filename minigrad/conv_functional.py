"""Convolution, pooling, padding, normalisation and resampling, as in
``torch.nn.functional``; all NCHW (channels first), with PyTorch's signatures and numbers.

A convolution is the windows of its input laid out as columns (``conv_ops.Im2col``, a
strided view on NumPy) and multiplied by the weight in one batched matmul; the transposed
convolution is the reverse (a matmul, then ``Fold``). Pooling reduces the same windows.
Normalisation and resampling are composed from tensor ops. So every gradient is a
composition of primitives that have their own gradients: gradients of gradients work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import conv_ops
from .autograd import no_grad
from .creation import rand, tensor
from .tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "pad", "batch_norm", "layer_norm",
    "group_norm", "instance_norm", "interpolate", "embedding", "dropout2d", "unfold", "fold",
]

IntOrTuple = int | Sequence[int]


# convolutions


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """1-D convolution (a cross-correlation, as PyTorch): input (N, C_in, L), weight
    (C_out, C_in / groups, k)."""
    return _conv("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """2-D convolution (a cross-correlation, as PyTorch): input (N, C_in, H, W), weight
    (C_out, C_in / groups, kH, kW); ``padding`` is an int, a pair, ``"same"`` (stride 1
    only; the odd pixel goes after) or ``"valid"`` (none)."""
    return _conv("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """The gradient of conv1d with respect to its input, as a layer: weight
    (C_in, C_out / groups, k)."""
    return _conv_transpose("conv_transpose1d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """The gradient of conv2d with respect to its input, as a layer ("deconvolution"):
    weight (C_in, C_out / groups, kH, kW); output size
    (in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""
    return _conv_transpose("conv_transpose2d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation, 2)


def _conv(name: str, x: Any, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
          dilation: Any, groups: int, k: int) -> Tensor:
    x, batched = _batched(name, x, k)
    _check_weight(name, x, weight, bias, k)
    stride, dilation = _tuple(name, "stride", stride, k), _tuple(name, "dilation", dilation, k)
    out_channels, group_channels = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or x.shape[1] != group_channels * groups or out_channels % groups:
        raise ValueError(
            f"{name}: an input of shape {x.shape} does not fit a weight of shape "
            f"{weight.shape} with groups={groups} (expected {group_channels * groups} input "
            f"channels, and out_channels {out_channels} divisible by groups)")
    pads = _conv_padding(name, padding, kernel, stride, dilation)
    if any(a or b for a, b in pads):
        x = conv_ops.ConstantPad.apply(x, pads=((0, 0), (0, 0), *pads), value=0.0)
    if any(n < d * (kk - 1) + 1 for n, kk, d in zip(x.shape[2:], kernel, dilation)):
        raise ValueError(f"{name}: the kernel {tuple(kernel)} (dilation {dilation}) is "
                         f"larger than the padded input {x.shape[2:]}")
    if k == 2 and groups == 1 and stride == (1, 1) and x.backend.conv2d_direct_pays(
            x.shape, weight.shape, x.dtype):
        y = conv_ops.DirectConv2d.apply(x, weight, bias, dilation=dilation)  # one kernel
        return y if batched else y[0]
    cols = conv_ops.Im2col.apply(x, kernel_size=kernel, stride=stride, dilation=dilation)
    n, out = x.shape[0], cols.shape[2 + k:]
    # (N, C, *kernel, *out) -> columns per image (N, groups, C / groups * prod(kernel),
    # prod(out)), so that y = W cols, per image and group, comes out as (N, C_out, *out)
    groups_axis = (groups,) if groups > 1 else ()
    cols = cols.reshape(n, *groups_axis, group_channels * math.prod(kernel), math.prod(out))
    y = weight.reshape(*groups_axis, out_channels // groups, -1) @ cols  # y = W cols
    return _add_bias(y.reshape(n, out_channels, *out), bias, batched)


def _add_bias(y: Tensor, bias: Tensor | None, batched: bool) -> Tensor:
    if bias is not None:
        y = y + bias.reshape(y.shape[1], *(1,) * (y.ndim - 2))
    return y if batched else y[0]


def _conv_transpose(name: str, x: Any, weight: Tensor, bias: Tensor | None, stride: Any,
                    padding: Any, output_padding: Any, groups: int, dilation: Any,
                    k: int) -> Tensor:
    x, batched = _batched(name, x, k)
    _check_weight(name, x, weight, bias, k)
    stride, dilation = _tuple(name, "stride", stride, k), _tuple(name, "dilation", dilation, k)
    padding = _tuple(name, "padding", padding, k)
    output_padding = _tuple(name, "output_padding", output_padding, k)
    in_channels, group_out = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or x.shape[1] != in_channels or in_channels % groups:
        raise ValueError(
            f"{name}: an input of shape {x.shape} does not fit a weight of shape "
            f"{weight.shape} with groups={groups} (expected {in_channels} input channels, "
            f"divisible by groups)")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"{name}: output padding must be smaller than either stride "
                             f"or dilation, but got output_padding={output_padding}, "
                             f"stride={stride}, dilation={dilation}")
    n, size = x.shape[0], x.shape[2:]
    full = tuple((i - 1) * s + d * (kk - 1) + 1 + op
                 for i, s, d, kk, op in zip(size, stride, dilation, kernel, output_padding))
    if any(f - 2 * p <= 0 for f, p in zip(full, padding)):
        raise ValueError(f"{name}: padding {padding} leaves no output for input {x.shape}")
    # every input pixel scatters its weighted kernel into the output: cols = W^T x, then Fold
    rows = x.reshape(n, groups, in_channels // groups, -1).permute(1, 2, 0, 3)
    groups_axis = (groups,) if groups > 1 else ()  # NumPy's stacked matmul skips BLAS
    rows = rows.reshape(*groups_axis, in_channels // groups, -1)
    w = weight.reshape(*groups_axis, in_channels // groups, -1).swapaxes(-1, -2)
    cols = (w @ rows).reshape(groups * group_out, *kernel, n, *size)
    windows = cols.permute(1 + k, 0, *range(2 + k, 2 + 2 * k), *range(1, 1 + k))
    y = conv_ops.Fold.apply(windows, shape=(n, groups * group_out, *full), stride=stride,
                            dilation=dilation)
    if any(padding):
        y = y[(slice(None), slice(None), *(slice(p, f - p) for p, f in zip(padding, full)))]
    if bias is not None:
        y = y + bias.reshape(groups * group_out, *(1,) * k)
    return y if batched else y[0]


def _conv_padding(name: str, padding: Any, kernel: Sequence[int], stride: tuple,
                  dilation: tuple) -> list[tuple[int, int]]:
    """(before, after) per spatial axis."""
    k = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * k
        if padding != "same":
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid'; "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             "convolutions")
        totals = [d * (kk - 1) for kk, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in _tuple(name, "padding", padding, k)]


# pooling


def max_pool1d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The maximum of each window of (N, C, L)."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1)


def max_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The maximum of each window of (N, C, H, W) (``stride`` defaults to the kernel size).
    The gradient goes to the first maximum of each window; ``return_indices`` also gives
    each maximum's flat index into H * W, as PyTorch."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2)


def avg_pool1d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of (N, C, L)."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None, 1)


def avg_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, H, W): the window's sum over its size, its size
    counting the zero padding or not (``count_include_pad``), or over
    ``divisor_override``."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, 2)


def adaptive_avg_pool2d(input: Tensor, output_size: IntOrTuple) -> Tensor:
    """Means over the windows that split (H, W) into ``output_size`` cells (None keeps a
    size): cell i spans [floor(i H / out), ceil((i + 1) H / out))."""
    x, batched = _batched("adaptive_avg_pool2d", input, 2)
    sizes = (output_size, output_size) if output_size is None or isinstance(
        output_size, int) else tuple(output_size)
    sizes = tuple(n if o is None else int(o) for n, o in zip(x.shape[2:], sizes))
    rows, cols = (_constant(_averaging_matrix(n, o), x) for n, o in zip(x.shape[2:], sizes))
    y = rows @ x @ cols.swapaxes(0, 1)  # y = A_h x A_w^T
    return y if batched else y[0]


def _averaging_matrix(size: int, out: int) -> np.ndarray:
    """(out, size): row i averages the inputs of adaptive cell i."""
    if out <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output size must be positive, got {out}")
    matrix = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:end] = 1 / (end - start)
    return matrix


def _pool_geometry(name: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
                   dilation: Any, ceil_mode: bool, k: int) -> tuple:
    """(kernel, stride, dilation, pads, out): pads are (before, after) per axis, ``after``
    widened so that the last window of ceil mode fits."""
    kernel = _tuple(name, "kernel_size", kernel_size, k)
    stride = kernel if stride is None or stride == () else _tuple(name, "stride", stride, k)
    padding = _tuple(name, "padding", padding, k)
    dilation = _tuple(name, "dilation", dilation, k)
    pads, out = [], []
    for n, kk, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation):
        if p > kk // 2:
            raise ValueError(f"{name}: pad should be at most half of effective kernel size, "
                             f"but got pad={p}, kernel_size={kk}")
        span = d * (kk - 1) + 1
        o = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:  # the last window must start inside
            o -= 1
        if o <= 0:
            raise ValueError(f"{name}: output size is too small for input {x.shape} and "
                             f"kernel {kernel}")
        pads.append((p, p + max(0, (o - 1) * s + span - (n + 2 * p))))
        out.append(o)
    return kernel, stride, dilation, pads, tuple(out)


def _max_pool(name: str, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool, k: int) -> Any:
    x, batched = _batched(name, x, k)
    kernel, stride, dilation, pads, out = _pool_geometry(
        name, x, kernel_size, stride, padding, dilation, ceil_mode, k)
    padded = x
    if any(b for _, b in pads):
        padded = conv_ops.ConstantPad.apply(x, pads=((0, 0), (0, 0), *pads), value=-math.inf)
    y = conv_ops.MaxPool.apply(padded, kernel_size=kernel, stride=stride, dilation=dilation)
    if not return_indices:
        return y if batched else y[0]
    indices = _max_indices(padded, x.shape[2:], kernel, stride, dilation, pads, out)
    return (y, indices) if batched else (y[0], indices[0])


def _max_indices(padded: Tensor, size: tuple, kernel: tuple, stride: tuple, dilation: tuple,
                 pads: list, out: tuple) -> Tensor:
    """Each window's arg-max as a flat index into the unpadded spatial axes."""
    xp = padded.backend
    k = len(kernel)
    _, rest = xp.max_pool(padded._data, kernel, stride, dilation)
    index = 0
    for axis in reversed(range(k)):
        offset, rest = rest % kernel[axis], rest // kernel[axis]
        offset = xp.astype(offset, np.int64)
        shape = [1] * k
        shape[axis] = out[axis]
        starts = xp.reshape(xp.arange(0, out[axis] * stride[axis], stride[axis], np.int64),
                            tuple(shape))
        position = starts + offset * dilation[axis] - pads[axis][0]
        index = index + position * math.prod(size[axis + 1:])
    return Tensor._make(index, xp)


def _avg_pool(name: str, x: Any, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None, k: int) -> Tensor:
    x, batched = _batched(name, x, k)
    kernel, stride, _, pads, out = _pool_geometry(
        name, x, kernel_size, stride, padding, 1, ceil_mode, k)
    padded = x
    if any(b for _, b in pads):
        padded = conv_ops.ConstantPad.apply(x, pads=((0, 0), (0, 0), *pads), value=0.0)
    windows = conv_ops.Unfold.apply(padded, kernel_size=kernel, stride=stride,
                                    dilation=(1,) * k)
    total = windows.sum(axis=tuple(range(-k, 0)))
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{name}: divisor must be not zero")
        y = total / divisor_override
    else:
        # a window counts the cells it covers inside the padded input, or inside the input
        # itself without count_include_pad (the cells ceil mode adds never count)
        counts = np.ones(())
        for n, kk, s, (p, _), o in zip(x.shape[2:], kernel, stride, pads, out):
            low, high = (0, n + 2 * p) if count_include_pad else (p, n + p)
            starts = np.arange(o) * s
            counts = np.multiply.outer(
                counts, np.minimum(starts + kk, high) - np.maximum(starts, low))
        y = total / _constant(counts, x)
    return y if batched else y[0]


# padding


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` axes: ``pad`` is (before, after) for the last axis,
    then for the one before it, and so on. ``mode`` is "constant" (with ``value``;
    negative pads crop), "reflect" (mirror without the edge), "replicate" (repeat the edge)
    or "circular" (wrap around)."""
    x = _tensor(input)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding length must be even and at most twice the input's "
                         f"dimensions ({x.ndim}), got {len(pad)}")
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode == "constant":
        if any(a < 0 or b < 0 for a, b in pairs):  # negative pads crop
            x = x[tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, pairs))]
            pairs = [(max(a, 0), max(b, 0)) for a, b in pairs]
        if not any(a or b for a, b in pairs):
            return x
        return conv_ops.ConstantPad.apply(x, pads=tuple(pairs),
                                          value=0.0 if value is None else float(value))
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    if value:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    for axis, (a, b) in enumerate(pairs):
        if a or b:
            positions = _pad_positions(mode, x.shape[axis], a, b)
            x = x[(slice(None),) * axis + (tensor(positions, device=x.backend),)]
    return x


def _pad_positions(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """The input position each output position of a padded axis reads."""
    limit = n - 1 if mode == "reflect" else n
    if min(before, after) < 0 or max(before, after) > limit or (mode == "replicate" and n == 0):
        raise ValueError(f"pad: padding ({before}, {after}) is invalid for an axis of size "
                         f"{n} in {mode} mode")
    i = np.arange(-before, n + after)
    if mode == "reflect":
        return np.abs(i) - 2 * np.maximum(np.abs(i) - (n - 1), 0)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    return i % n


# normalisation


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (axis 1) of (N, C, ...) by its mean and variance: the
    batch's (biased) in training, where the running estimates, if given, move by
    ``momentum`` towards the batch's mean and unbiased variance, in place; the running
    estimates otherwise. Then scale by ``weight`` and shift by ``bias``."""
    x = _tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dims, got {x.shape}")
    channels = x.shape[1]
    axes = (0, *range(2, x.ndim))
    shape = (channels, *(1,) * (x.ndim - 2))
    if training:
        count = x.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input size {x.shape}")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, correction=0)
        with no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(var.detach() * (momentum * count
                                                                    / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        mean, var = running_mean, running_var
    y = (x - mean.reshape(shape)) / (var.reshape(shape) + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def layer_norm(input: Tensor, normalized_shape: IntOrTuple, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last axes (``normalized_shape``) by their mean and biased
    variance, then scale by ``weight`` and shift by ``bias`` (both of that shape)."""
    x = _tensor(input)
    normalized_shape = _shape(normalized_shape)
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k:]) != normalized_shape or k > x.ndim:
        raise ValueError(f"layer_norm: normalized_shape {list(normalized_shape)} does not "
                         f"match the last axes of an input of shape {x.shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    y = _normalized(x, axes, eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each group of ``num_groups`` consecutive channels of (N, C, ...) over the
    group's channels and positions, by their mean and biased variance; then scale and
    shift each channel by ``weight`` and ``bias`` (shape (C,))."""
    x = _tensor(input)
    if x.ndim < 2 or num_groups < 1 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected an input of shape (N, C, ...) with C divisible "
                         f"by num_groups={num_groups}, got {x.shape}")
    grouped = x.reshape((x.shape[0], num_groups, -1))
    y = _normalized(grouped, (2,), eps).reshape(x.shape)
    return _channel_affine(y, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of (N, C, ...) over its positions, by their
    mean and biased variance (``use_input_stats``), the running estimates, if given,
    moving by ``momentum`` towards the batch's average of those means and unbiased
    variances; or by the running estimates. Then scale and shift each channel."""
    x = _tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, L, ...), got "
                         f"{x.shape}")
    axes = tuple(range(2, x.ndim))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    if running_mean is not None or running_var is not None:
        count = x.numel() // max(x.shape[0] * x.shape[1], 1)
        with no_grad():
            if running_mean is not None:
                mean = x.detach().mean(axis=axes).mean(axis=0)
                running_mean.mul_(1 - momentum).add_(mean * momentum)
            if running_var is not None:
                var = x.detach().var(axis=axes, correction=0).mean(axis=0)
                running_var.mul_(1 - momentum).add_(var * (momentum * count / max(count - 1, 1)))
    return _channel_affine(_normalized(x, axes, eps), weight, bias)


def _normalized(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """``x`` less its mean over ``axes``, over the root of its biased variance plus eps."""
    centred = x - x.mean(axis=axes, keepdims=True)
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps).sqrt()


def _channel_affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """``y * weight + bias``, each of shape (C,) along axis 1 of (N, C, ...)."""
    shape = (y.shape[1], *(1,) * (y.ndim - 2))
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def unfold(input: Tensor, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
           padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> Tensor:
    """The sliding windows of (N, C, H, W) as columns, (N, C * kh * kw, L) with L the
    windows in row-major order: the im2col a convolution multiplies."""
    x, batched = _batched("unfold", input, 2)
    kernel, dilation, padding, stride = (_tuple("unfold", label, value, 2) for label, value in (
        ("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding),
        ("stride", stride)))
    if any(padding):
        x = conv_ops.ConstantPad.apply(x, pads=((0, 0), (0, 0), *((p, p) for p in padding)),
                                       value=0.0)
    if any(n < d * (k - 1) + 1 for n, k, d in zip(x.shape[2:], kernel, dilation)):
        raise ValueError(f"unfold: the kernel {kernel} (dilation {dilation}) is larger than "
                         f"the padded input {x.shape[2:]}")
    cols = conv_ops.Im2col.apply(x, kernel_size=kernel, stride=stride, dilation=dilation)
    cols = cols.reshape(x.shape[0], x.shape[1] * math.prod(kernel), -1)
    return cols if batched else cols[0]


def fold(input: Tensor, output_size: IntOrTuple, kernel_size: IntOrTuple,
         dilation: IntOrTuple = 1, padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> Tensor:
    """``unfold``'s adjoint: columns (N, C * kh * kw, L) summed back into (N, C, H, W),
    the values of overlapping windows added."""
    cols = _tensor(input)
    size, kernel, dilation, padding, stride = (_tuple("fold", label, value, 2)
                                               for label, value in (
        ("output_size", output_size), ("kernel_size", kernel_size), ("dilation", dilation),
        ("padding", padding), ("stride", stride)))
    batched = cols.ndim == 3
    if not batched:
        cols = cols.unsqueeze(0)
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    out = tuple((n - d * (k - 1) - 1) // s + 1
                for n, k, d, s in zip(padded, kernel, dilation, stride))
    taps = math.prod(kernel)
    if cols.ndim != 3 or cols.shape[1] % taps or cols.shape[2] != math.prod(out):
        raise ValueError(f"fold: expected columns (N, C * {taps}, {math.prod(out)}) for "
                         f"output_size {size}, got {tuple(cols.shape)}")
    n, channels = cols.shape[0], cols.shape[1] // taps
    windows = cols.reshape(n, channels, *kernel, *out)
    y = conv_ops.Col2im.apply(windows, shape=(n, channels, *padded), stride=stride,
                              dilation=dilation)
    if any(padding):
        y = y[(slice(None), slice(None), *(slice(p, p + m) for p, m in zip(padding, size)))]
    return y if batched else y[0]


# resampling, embedding and dropout


def interpolate(input: Tensor, size: IntOrTuple | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resample the spatial axes of (N, C, ...) to ``size`` or by ``scale_factor``:
    "nearest" (input floor(i * scale)), "linear" (1 axis) or "bilinear" (2 axes), each
    spatial axis separately (a matmul with the resampling matrix)."""
    x = _tensor(input)
    k = x.ndim - 2
    if k < 1:
        raise ValueError(f"interpolate: expected an input of shape (N, C, ...), got {x.shape}")
    if mode not in ("nearest", "linear", "bilinear"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported "
                                  "(nearest, linear, bilinear)")
    if (mode == "linear" and k != 1) or (mode == "bilinear" and k != 2):
        raise ValueError(f"interpolate: mode {mode!r} does not fit an input of {x.ndim} dims")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        sizes = _tuple("interpolate", "size", size, k)
        scales = [None] * k
    else:
        scales = list(scale_factor) if isinstance(scale_factor, Sequence) else [
            scale_factor] * k
        if len(scales) != k:
            raise ValueError(f"interpolate: scale_factor needs {k} values, got {scales}")
        sizes = tuple(int(math.floor(n * s)) for n, s in zip(x.shape[2:], scales))
    for axis in range(k):
        n, out, scale = x.shape[2 + axis], sizes[axis], scales[axis]
        if mode == "nearest":
            matrix = _nearest_matrix(n, out, scale)
        else:
            matrix = _linear_matrix(n, out, scale, bool(align_corners), x.dtype)
        moved = x.swapaxes(2 + axis, -1)
        x = (moved @ _constant(matrix.T, x)).swapaxes(2 + axis, -1)
    return x


def _nearest_matrix(n: int, out: int, scale: float | None) -> np.ndarray:
    """(out, n): output i copies input min(floor(i * scale), n - 1), in float32 as PyTorch."""
    step = np.float32(n / out if scale is None else 1 / scale)
    source = np.minimum(np.floor(np.arange(out, dtype=np.float32) * step).astype(np.int64),
                        n - 1)
    matrix = np.zeros((out, n))
    matrix[np.arange(out), source] = 1
    return matrix


def _linear_matrix(n: int, out: int, scale: float | None, align_corners: bool,
                   dtype: np.dtype) -> np.ndarray:
    """(out, n): output i mixes the two inputs around its source position."""
    real = np.float64 if dtype == np.float64 else np.float32  # PyTorch's accumulation type
    i = np.arange(out, dtype=real)
    if align_corners:
        source = i * real((n - 1) / (out - 1)) if out > 1 else np.zeros(out, real)
    else:
        step = real(n / out if scale is None or scale <= 0 else 1 / scale)
        source = np.maximum((i + real(0.5)) * step - real(0.5), 0)
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    weight_high = (source - low).astype(np.float64)
    matrix = np.zeros((out, n))
    np.add.at(matrix, (np.arange(out), low), 1 - weight_high)
    np.add.at(matrix, (np.arange(out), high), weight_high)
    return matrix


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``: shape (*input.shape, dim). The
    row ``padding_idx`` gets no gradient."""
    index = input if isinstance(input, Tensor) else tensor(input, device=weight.backend)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {index.dtype}")
    rows = weight[index]
    if padding_idx is None:
        return rows
    if padding_idx < 0:
        padding_idx += weight.shape[0]
    kept = (index != padding_idx).astype(weight.dtype).unsqueeze(-1)
    return rows * kept + rows.detach() * (1 - kept)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels (axis 1 of (N, C, ...)) with probability ``p``, scaling the rest
    by 1 / (1 - p); the identity when not training."""
    x = _tensor(input)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = rand(*x.shape[:2], *(1,) * (x.ndim - 2), device=x.backend, dtype=x.dtype) >= p
    return x * (keep.astype(x.dtype) * (1 / (1 - p)))


# helpers


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _constant(values: np.ndarray, like: Tensor) -> Tensor:
    """Host values as a tensor of ``like``'s dtype and device."""
    return tensor(values, dtype=like.dtype, device=like.backend)


def _tuple(name: str, label: str, value: Any, k: int) -> tuple[int, ...]:
    """An int (repeated) or a sequence of ``k`` ints."""
    if isinstance(value, int | np.integer):
        return (int(value),) * k
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * k
    if len(values) != k:
        raise ValueError(f"{name}: {label} must be an int or {k} ints, got {value!r}")
    return values


def _shape(value: Any) -> tuple[int, ...]:
    return (int(value),) if isinstance(value, int | np.integer) else tuple(int(v) for v in value)


def _batched(name: str, x: Any, k: int) -> tuple[Tensor, bool]:
    """(N, C, *spatial) from (N, C, *spatial) or an unbatched (C, *spatial)."""
    x = _tensor(x)
    if x.ndim == k + 2:
        return x, True
    if x.ndim == k + 1:
        return x.unsqueeze(0), False
    raise ValueError(f"{name}: expected a {k + 1}-D (unbatched) or {k + 2}-D (batched) input, "
                     f"got shape {x.shape}")


def _check_weight(name: str, x: Tensor, weight: Tensor, bias: Tensor | None, k: int) -> None:
    if weight.ndim != k + 2:
        raise ValueError(f"{name}: expected a {k + 2}-D weight, got shape {weight.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: the input is {x.dtype} but the weight is {weight.dtype}; "
                        f"convert one (e.g. x.astype({str(weight.dtype)!r}) or model.double())")
    if bias is not None and bias.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D bias, got shape {bias.shape}")
