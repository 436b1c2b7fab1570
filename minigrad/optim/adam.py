"""Adam and AdamW: steps scaled by bias-corrected running moments of the gradient."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, call_kernel, check_implementation, check_nonnegative


class Adam(Optimizer):
    """Adam, PyTorch's ``torch.optim.Adam`` update to the letter (single-tensor path).

    exp_avg and exp_avg_sq are running means of g and g^2; the step is
    (lr / (1 - beta1^t)) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps).
    ``amsgrad`` divides by the running maximum of exp_avg_sq instead; ``weight_decay``
    adds ``weight_decay * param`` to the gradient (L2); ``maximize`` ascends (the gradient
    is negated first). ``foreach``, ``fused`` and ``capturable`` are accepted and ignored:
    in PyTorch they only choose an implementation.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_implementation(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_nonnegative(name, group[name])
        betas = group["betas"]
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"invalid betas: {betas!r} (must be two numbers)") from None
        for i, beta in enumerate((beta1, beta2)):
            if not (isinstance(beta, numbers.Real) and 0 <= beta < 1):
                raise ValueError(f"invalid beta at index {i}: {beta!r} (must be in [0, 1))")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        keys = ("step", "exp_avg", "exp_avg_sq")
        return keys + ("max_exp_avg_sq",) if group["amsgrad"] else keys

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        zeros = p.backend.zeros
        state = dict(step=0, exp_avg=zeros(p.shape, p.dtype), exp_avg_sq=zeros(p.shape, p.dtype))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros(p.shape, p.dtype)
        return state

    def _run_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                    group: dict[str, Any]) -> None:
        state["step"] += 1
        beta1, beta2 = group["betas"]
        call_kernel(
            "adam_update", backend, param, grad, state["exp_avg"], state["exp_avg_sq"],
            state.get("max_exp_avg_sq"),
            step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], decoupled=self._decoupled,
            amsgrad=group["amsgrad"],
        )


class AdamW(Adam):
    """AdamW, PyTorch's ``torch.optim.AdamW``: Adam with decoupled weight decay.

    Each step first shrinks the parameter, param = param * (1 - lr * weight_decay),
    then takes Adam's step from the plain gradient.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, differentiable=differentiable)
