"""RMSprop: gradients divided by a running root mean square of their past values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, call_kernel, check_implementation, check_nonnegative


class RMSprop(Optimizer):
    """RMSprop, PyTorch's ``torch.optim.RMSprop`` update to the letter.

    square_avg = alpha * square_avg + (1 - alpha) * g^2; the step divides g by
    sqrt(square_avg) + eps (eps outside the root), or by sqrt(square_avg - grad_avg^2)
    + eps when ``centered`` (grad_avg a running mean of g); with momentum, that
    quotient feeds a momentum buffer and the buffer is the step. ``maximize`` ascends
    (the gradient is negated first); ``foreach`` and ``capturable`` are accepted and
    ignored (they choose an implementation in PyTorch).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_implementation(differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_nonnegative(name, group[name])

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        keys = ("step", "square_avg")
        if group["momentum"] > 0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        zeros = p.backend.zeros
        state = dict(step=0, square_avg=zeros(p.shape, p.dtype))
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros(p.shape, p.dtype)
        if group["centered"]:
            state["grad_avg"] = zeros(p.shape, p.dtype)
        return state

    def _run_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                    group: dict[str, Any]) -> None:
        state["step"] += 1
        call_kernel(
            "rmsprop_update", backend, param, grad, state["square_avg"],
            state.get("grad_avg"), state.get("momentum_buffer"),
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
            weight_decay=group["weight_decay"], momentum=group["momentum"],
            centered=group["centered"],
        )
