"""Adadelta: steps scaled by the ratio of two running root mean squares, of past steps and
of past gradients, so that no learning-rate schedule is needed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, as_vectors, check_implementation, check_nonnegative


class Adadelta(Optimizer):
    """Adadelta, PyTorch's ``torch.optim.Adadelta`` update to the letter.

    g = grad + weight_decay * param; square_avg = rho * square_avg + (1 - rho) g^2;
    delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g;
    acc_delta = rho * acc_delta + (1 - rho) delta^2; param = param - lr * delta.
    ``maximize`` ascends (the gradient is negated first); ``foreach`` and ``capturable``
    are accepted and ignored (they choose an implementation in PyTorch).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_implementation(differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_nonnegative(name, group[name])
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"invalid rho: {group['rho']!r} (must be in [0, 1])")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        zeros = p.backend.zeros
        return dict(step=0, square_avg=zeros(p.shape, p.dtype),
                    acc_delta=zeros(p.shape, p.dtype))

    def _run_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                    group: dict[str, Any]) -> None:
        state["step"] += 1
        rho, eps, lr = group["rho"], group["eps"], group["lr"]
        param, grad, square_avg, acc_delta = as_vectors(param, grad, state["square_avg"],
                                                        state["acc_delta"])
        if group["weight_decay"] != 0:
            grad = backend.add(grad, backend.mul(param, group["weight_decay"]))
        # the operations of PyTorch's, in its order: addcmul is avg + (value * g) * g
        backend.mul(square_avg, rho, square_avg)
        backend.add(square_avg, backend.mul(backend.mul(grad, 1 - rho), grad), square_avg)
        std = backend.sqrt(backend.add(square_avg, eps))
        delta = backend.sqrt(backend.add(acc_delta, eps))
        backend.div(delta, std, delta)
        backend.mul(delta, grad, delta)
        backend.mul(acc_delta, rho, acc_delta)
        backend.add(acc_delta, backend.mul(backend.mul(delta, 1 - rho), delta), acc_delta)
        backend.add(param, backend.mul(delta, -lr), param)
