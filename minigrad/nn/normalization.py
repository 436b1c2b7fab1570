"""Normalisation layers: BatchNorm1d/2d, LayerNorm, GroupNorm and InstanceNorm1d/2d, as in
PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import functional as F
from ..creation import ones, tensor, zeros
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "LayerNorm"]


def _affine(module: Module, shape: tuple, weight: bool, bias: bool, device: Any,
            dtype: Any) -> None:
    """Give ``module`` its scale (ones) and shift (zeros) of ``shape``, each where asked,
    else registered as None (as PyTorch's state dicts expect)."""
    for name, wanted, fill in (("weight", weight, ones), ("bias", bias, zeros)):
        if wanted:
            setattr(module, name, Parameter(fill(*shape, device=device, dtype=dtype)))
        else:
            module.register_parameter(name, None)


class _BatchNorm(Module):
    """Normalise each channel by the batch's statistics in training and by running
    estimates in evaluation. ``momentum=None`` makes the estimates a cumulative average.
    The buffers ``running_mean``, ``running_var`` and ``num_batches_tracked`` are saved in
    ``state_dict`` under PyTorch's names."""

    input_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine(self, (num_features,), affine, affine, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype="int64", device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_dims(self, x: Tensor) -> None:
        if x.ndim not in self.input_dims:
            raise ValueError(f"{type(self).__name__}: expected a "
                             f"{' or '.join(f'{d}D' for d in self.input_dims)} input, got "
                             f"shape {x.shape}")

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        self._check_dims(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:  # the cumulative moving average
                factor = 1.0 / int(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) per channel C."""

    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel C."""

    input_dims = (4,)


class LayerNorm(Module):
    """Normalise over the last axes (``normalized_shape``), then scale and shift
    elementwise (``weight`` ones and ``bias`` zeros of that shape)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
            normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        _affine(self, shape, elementwise_affine, elementwise_affine and bias, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise groups of ``num_channels // num_groups`` channels over their channels and
    positions, then scale and shift each channel (``weight`` ones, ``bias`` zeros)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine)
        _affine(self, (num_channels,), affine, affine, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Normalise each channel of each sample over its positions; with
    ``track_running_stats``, evaluation uses running estimates (the buffers and options of
    a batch norm, PyTorch's defaults: no affine, no running statistics)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)

    def forward(self, x: Tensor) -> Tensor:
        self._check_dims(x)
        unbatched = x.ndim == min(self.input_dims)
        if unbatched:
            x = x.unsqueeze(0)
        factor = 0.0 if self.momentum is None else self.momentum  # as PyTorch's
        use_input = self.training or not self.track_running_stats
        track = self.track_running_stats
        y = F.instance_norm(x, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_input, factor, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) per sample and channel."""

    input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) per sample and channel."""

    input_dims = (3, 4)
