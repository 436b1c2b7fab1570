"""Finite-difference checks of analytic gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import grad as autograd_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare ``fn``'s gradients with central differences, in float64.

    Every input that requires grad must be float64. The output is reduced along a
    fixed random direction ``v``, so one backward pass gives the whole vector-Jacobian
    product ``v^T J`` that each numerical derivative is checked against. Returns True,
    or raises ``GradcheckError`` naming the input and its worst element.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    wrt = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    for i, t in wrt:
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {t.dtype}; use float64 inputs")
    out = fn(*inputs)
    direction = np.random.default_rng(0).standard_normal(out.shape)
    v = Tensor(direction, dtype=out.dtype, device=out.backend)
    analytic = autograd_grad([out], [t for _, t in wrt], [v], allow_unused=True)

    def projected() -> float:
        return float(np.sum(fn(*inputs).numpy() * direction))

    for (i, t), g in zip(wrt, analytic):
        a = np.zeros(t.shape) if g is None else g.numpy()
        host = t.numpy()
        numeric = np.zeros(t.shape)
        for k in np.ndindex(*t.shape):
            original = host[k]
            _write(t, k, original + eps)
            plus = projected()
            _write(t, k, original - eps)
            minus = projected()
            _write(t, k, original)
            numeric[k] = (plus - minus) / (2 * eps)
        error = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and error.max() > 0:
            worst = np.unravel_index(int(np.argmax(error)), error.shape)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {t.shape}) is wrong at index "
                f"{tuple(int(w) for w in worst)}: analytic {a[worst]:.6g}, numerical "
                f"{numeric[worst]:.6g} (atol={atol}, rtol={rtol})"
            )
    return True


def _write(t: Tensor, index: tuple, value: float) -> None:
    """Set one element without bumping the version counter (a probe, not a change)."""
    host = t.numpy()
    host[index] = value
    if host is not t._data:
        t._data = t.backend.asarray(host, t.dtype)
