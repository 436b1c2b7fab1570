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



# losses on distances, margins and likelihoods (PyTorch's signatures, legacy flags included)

__all__ += [
    "CosineEmbeddingLoss", "CosineSimilarity", "GaussianNLLLoss", "HingeEmbeddingLoss",
    "KLDivLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss", "PairwiseDistance",
    "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
]


class CosineSimilarity(Module):
    """``F.cosine_similarity`` along ``dim`` as a module."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``F.pairwise_distance`` as a module: ||x1 - x2 + eps||_p along the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class _LegacyLoss(_Loss):
    """A loss that also takes PyTorch's old ``size_average`` and ``reduce`` flags."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(F._legacy_reduction(size_average, reduce, reduction))


class KLDivLoss(_LegacyLoss):
    """Kullback-Leibler divergence of the target from log-probabilities (see F.kl_div)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        batchmean = reduction == "batchmean" and size_average is None and reduce is None
        super().__init__(size_average, reduce, "mean" if batchmean else reduction)
        self.reduction = "batchmean" if batchmean else self.reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_LegacyLoss):
    """max(0, -y (x1 - x2) + margin)."""

    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class SoftMarginLoss(_LegacyLoss):
    """log(1 + exp(-y x))."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_LegacyLoss):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""

    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_LegacyLoss):
    """max(0, margin + d(a, p) - d(a, n)), d the pairwise p-norm distance."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, "
                             f"got {margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of the target given a mean and a variance."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class PoissonNLLLoss(_LegacyLoss):
    """Poisson negative log-likelihood of the target given a (log-)rate."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average: Any = None,
                 eps: float = 1e-8, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class HingeEmbeddingLoss(_LegacyLoss):
    """x for y = 1, max(0, margin - x) for y = -1."""

    def __init__(self, margin: float = 1.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class MultiLabelSoftMarginLoss(_LegacyLoss):
    """Per-class logistic loss averaged over the classes, with optional class weights."""

    def __init__(self, weight: Tensor | None = None, size_average: Any = None,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self._set_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)
