"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    call_kernel,
    check_implementation,
    check_nonnegative,
    check_number,
)


class SGD(Optimizer):
    """Gradient descent, PyTorch's ``torch.optim.SGD`` update to the letter.

    g = grad + weight_decay * param; with momentum, buf = g on the first step and
    buf = momentum * buf + (1 - dampening) * g after, and g = buf (or g + momentum * buf
    with Nesterov); param = param - lr * g. Full-batch or mini-batch is the data
    loader's choice: the update is the same. ``maximize`` ascends (the gradient is negated
    first); ``foreach`` and ``fused`` are accepted and ignored (they choose an
    implementation in PyTorch).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_implementation(differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        check_nonnegative("lr", group["lr"])
        check_nonnegative("momentum", group["momentum"])
        check_nonnegative("weight_decay", group["weight_decay"])
        check_number("dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any] | None:
        # the momentum buffer is made by the first step, from the gradient
        return {} if group["momentum"] != 0 else None

    def _run_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                    group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        buf = call_kernel(
            "sgd_update", backend, param, grad,
            state.get("momentum_buffer") if momentum != 0 else None,
            lr=group["lr"], momentum=momentum, dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"],
        )
        if momentum != 0:
            state["momentum_buffer"] = buf
