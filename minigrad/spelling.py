"""An op's public names, registered where the op is written.

``@spelled("sin")`` above ``class Sin(Op)`` in ops.py makes ``Tensor.sin``, ``Tensor.sin_``
and ``mg.sin``; ``mg.sin`` is also what ``ctx.xp.sin`` means in a gradient formula whose
backward pass is recorded (``create_graph=True``). So a new elementwise op is written in
one file: its forward, its gradient, and this one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tensor import Tensor, _operand, inplace_variant

#: the ``mg.`` functions registered so far, by name; ``minigrad.tensor_functions`` and the
#: package export every one of them
FUNCTIONS: dict[str, Callable[..., Tensor]] = {}


def spelled(*names: str, binary: bool = False, scalars: bool = True,
            inplace: bool = True) -> Callable[[type], type]:
    """Register ``Tensor.<name>`` and ``mg.<name>`` for each of ``names`` (the op's name,
    then its aliases), and ``Tensor.<name>_`` unless ``inplace`` is False. A ``binary`` op
    takes one more operand: a tensor, or a Python number that stays a number when
    ``scalars`` (else it becomes a tensor on the first one's device).
    """

    def register(op: type) -> type:
        for name in names:
            method = _binary_method(op, scalars) if binary else _unary_method(op)
            setattr(Tensor, name, _named(method, f"Tensor.{name}", op))
            FUNCTIONS[name] = _named(_function(name), name, op)
            if inplace:
                setattr(Tensor, f"{name}_", inplace_variant(name))
        return op

    return register


def _unary_method(op: type) -> Callable[..., Tensor]:
    def method(self: Tensor) -> Tensor:
        return op.apply(self)

    return method


def _binary_method(op: type, scalars: bool) -> Callable[..., Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        return op.apply(self, _operand(self, other, scalars))

    return method


def _function(name: str) -> Callable[..., Tensor]:
    def function(input: Any, *args: Any, **kwargs: Any) -> Tensor:
        if not isinstance(input, Tensor):  # a number or array: on the other operand's device
            from .creation import tensor

            other = next((a for a in args if isinstance(a, Tensor)), None)
            input = tensor(input, device=None if other is None else other.device)
        return getattr(input, name)(*args, **kwargs)

    return function


def _named(fn: Callable, qualname: str, op: type) -> Callable:
    """``fn`` as help() should show it: under its public name, documented by its op."""
    fn.__name__ = qualname.rpartition(".")[2]
    fn.__qualname__ = qualname
    fn.__doc__ = op.__doc__ or f"{fn.__name__}, elementwise ({op.__name__} in minigrad.ops)."
    return fn
