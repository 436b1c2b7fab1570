"""Losses as modules: each holds its options and calls its twin in ``minigrad.functional``."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HingeLoss", "HuberLoss", "L1Loss",
    "MSELoss", "MultiMarginLoss", "NLLLoss",
    "SmoothL1Loss",
]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """A loss with a ``reduction``: "mean" (the default), "sum" or "none"."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {', '.join(_REDUCTIONS)}, got {reduction!r}"
            )
        self.reduction = reduction

    def _set_weight(self, name: str, value: Any) -> None:
        """A weight tensor becomes a buffer, as in PyTorch, so ``to(device)`` moves it."""
        if value is None or isinstance(value, Tensor):
            self.register_buffer(name, value)
        else:
            setattr(self, name, value)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error within ``delta`` of the target, absolute error beyond it."""

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, delta=self.delta, reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"delta={self.delta}", super().extra_repr()]))


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or class probabilities."""

    def __init__(self, weight: Any = None, label_smoothing: float = 0.0,
                 reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__(reduction)
        self._set_weight("weight", weight)
        self.label_smoothing = label_smoothing
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index,
                               label_smoothing=self.label_smoothing, reduction=self.reduction)

    def extra_repr(self) -> str:
        parts = [f"label_smoothing={self.label_smoothing}" if self.label_smoothing else "",
                 f"ignore_index={self.ignore_index}" if self.ignore_index != -100 else "",
                 super().extra_repr()]
        return ", ".join(filter(None, parts))


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities at the target classes."""

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 ignore_index: int = -100) -> None:
        super().__init__(reduction)
        self._set_weight("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)

    def extra_repr(self) -> str:
        parts = [f"ignore_index={self.ignore_index}" if self.ignore_index != -100 else "",
                 super().extra_repr()]
        return ", ".join(filter(None, parts))


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1]."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._set_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid and log fused, stable for any logit)."""

    def __init__(self, weight: Any = None, pos_weight: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._set_weight("weight", weight)
        self._set_weight("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class HingeLoss(_Loss):
    """Binary hinge loss, max(0, margin - target * score), with targets in {-1, +1}."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"margin={self.margin}", super().extra_repr()]))


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss (PyTorch's ``MultiMarginLoss``)."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError(f"only p == 1 and p == 2 are supported, got {p!r}")
        self.p = p
        self.margin = margin
        self._set_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        parts = [f"p={self.p}", f"margin={self.margin}", super().extra_repr()]
        return ", ".join(filter(None, parts))


class SmoothL1Loss(_Loss):
    """Quadratic (0.5 d^2 / beta) where |d| < beta, linear beyond (see F.smooth_l1_loss)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"beta={self.beta}"]))

