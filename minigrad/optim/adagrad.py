"""Adagrad: each coordinate's step divided by the root of its summed squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, as_vectors, check_implementation, check_nonnegative


class Adagrad(Optimizer):
    """Adagrad, PyTorch's ``torch.optim.Adagrad`` update to the letter.

    g = grad + weight_decay * param; clr = lr / (1 + (step - 1) lr_decay);
    sum = sum + g^2 (starting from ``initial_accumulator_value``, the constructor's: PyTorch
    reads no group's own);
    param = param - clr * g / (sqrt(sum) + eps). ``maximize`` ascends (the gradient is
    negated first); ``foreach`` and ``fused`` are accepted and ignored (they choose an
    implementation in PyTorch).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_implementation(differentiable)
        check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "eps"):
            check_nonnegative(name, group[name])

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "sum")

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # as PyTorch: the constructor's value, whatever a group says
        value = self.defaults["initial_accumulator_value"]
        return dict(step=0, sum=p.backend.full(p.shape, value, p.dtype))

    def _run_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                    group: dict[str, Any]) -> None:
        state["step"] += 1
        param, grad, total = as_vectors(param, grad, state["sum"])
        if group["weight_decay"] != 0:
            grad = backend.add(grad, backend.mul(param, group["weight_decay"]))
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        backend.add(total, backend.mul(grad, grad), total)
        std = backend.add(backend.sqrt(total), group["eps"])
        # addcdiv is param + (value * g) / std
        backend.add(param, backend.div(backend.mul(grad, -clr), std), param)
