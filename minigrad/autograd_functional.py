"""``mg.autograd.functional``: Jacobians, Hessians and their products with vectors, as
``torch.autograd.functional``, each built from ``mg.grad`` (one backward pass per output
element for a Jacobian; a Jacobian of the gradient for a Hessian)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd import enable_grad, grad
from .creation import zeros_like
from .tensor import Tensor
from .tensor_functions import stack

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def jacobian(func: Callable[..., Any], inputs: Tensor | tuple[Tensor, ...],
             create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs, of shape ``output.shape + input.shape``: a tensor for one
    input and one output, a tuple over the inputs (or the outputs), a tuple of tuples for
    both (outputs first). An output that does not depend on an input gives zeros, or with
    ``strict`` an error. ``vectorize`` and ``strategy`` choose an implementation in
    PyTorch: this one is reverse mode, a backward pass per output element."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: expected strategy to be 'forward-mode' or "
                         f"'reverse-mode', got {strategy!r}")
    ins, one_input = _as_tuple(inputs, "inputs", "jacobian")
    ins = _leaves(ins, create_graph)
    with enable_grad():
        outs, one_output = _as_tuple(func(*ins), "outputs of the user-provided function",
                                     "jacobian")
    per_output = [_jacobian_of(out, ins, create_graph, strict, k)
                  for k, out in enumerate(outs)]
    if one_output:
        return per_output[0][0] if one_input else per_output[0]
    return tuple(rows[0] for rows in per_output) if one_input else tuple(per_output)


def hessian(func: Callable[..., Any], inputs: Tensor | tuple[Tensor, ...],
            create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The second derivatives of ``func`` (which returns one element) with respect to
    ``inputs``: the Jacobian of its gradient, shaped ``input.shape + input.shape``."""
    ins, one_input = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Tensor) -> Any:
        out = func(*xs)
        _check_scalar(out, "hessian")
        grads = grad(out, xs, create_graph=True, allow_unused=True)
        return tuple(zeros_like(x) if g is None else g for x, g in zip(xs, grads))

    result = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    return result[0][0] if one_input else result


def vjp(func: Callable[..., Any], inputs: Tensor | tuple[Tensor, ...], v: Any = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the outputs and the vector-Jacobian product (``v`` may be
    omitted for a function returning one element)."""
    ins, one_input = _as_tuple(inputs, "inputs", "vjp")
    ins = _leaves(ins, create_graph)
    with enable_grad():
        outs, one_output = _as_tuple(func(*ins), "outputs of the user-provided function",
                                     "vjp")
    vs = _vectors(v, outs, "vjp")
    grads = _grads(outs, ins, vs, create_graph, strict)
    values = tuple(o if create_graph else o.detach() for o in outs)
    return (values[0] if one_output else values), (grads[0] if one_input else grads)


def jvp(func: Callable[..., Any], inputs: Tensor | tuple[Tensor, ...], v: Any = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the outputs and the Jacobian-vector product, by the double
    backward trick (the vjp with a dummy vector, differentiated by that vector)."""
    ins, one_input = _as_tuple(inputs, "inputs", "jvp")
    vs = _vectors(v, ins, "jvp")
    ins = _leaves(ins, create_graph)
    with enable_grad():
        outs, one_output = _as_tuple(func(*ins), "outputs of the user-provided function",
                                     "jvp")
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        grads = _grads(outs, ins, dummies, True, strict)
        products = _grads(grads, dummies, vs, create_graph, strict)
    values = tuple(o if create_graph else o.detach() for o in outs)
    return (values[0] if one_output else values), (products[0] if one_output else products)


def vhp(func: Callable[..., Any], inputs: Tensor | tuple[Tensor, ...], v: Any = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)``: the output and the vector-Hessian product."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Tensor | tuple[Tensor, ...], v: Any = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), H v)``: the output and the Hessian-vector product (H is symmetric,
    so it equals ``vhp``'s)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool,
                     strict: bool, name: str) -> tuple[Any, Any]:
    ins, one_input = _as_tuple(inputs, "inputs", name)
    vs = _vectors(v, ins, name)
    ins = _leaves(ins, create_graph)
    with enable_grad():
        out = func(*ins)
        _check_scalar(out, name)
        first = _grads((out,), ins, None, True, strict)
        products = _grads(first, ins, vs, create_graph, strict)
    value = out if create_graph else out.detach()
    return value, (products[0] if one_input else products)


def _as_tuple(value: Any, what: str, name: str) -> tuple[tuple[Tensor, ...], bool]:
    """``value`` as a tuple of tensors, and whether it was a single tensor."""
    one = isinstance(value, Tensor)
    values = (value,) if one else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or not all(isinstance(t, Tensor) for t in values):
        raise TypeError(f"{name}: the {what} must be a Tensor or a tuple of Tensors, got "
                        f"{type(value).__name__}")
    return values, one


def _leaves(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """The inputs as tensors that require grad: new leaves, or (with ``create_graph``)
    views that keep a requiring input's history, as PyTorch's preprocessing."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in inputs)


def _check_scalar(out: Any, name: str) -> None:
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise RuntimeError(f"{name}: the function given must return a single-element tensor")


def _vectors(v: Any, like: tuple[Tensor, ...], name: str) -> tuple[Tensor, ...] | None:
    """The vectors of a product, one per tensor of ``like`` and of its shape; None is
    allowed where every tensor of ``like`` has a single element."""
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"{name}: v can be omitted only where the function's tensors "
                               "have a single element")
        return None
    vs, _ = _as_tuple(v, "v", name)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise RuntimeError(f"{name}: v must have the shapes "
                           f"{[tuple(t.shape) for t in like]}, got "
                           f"{[tuple(t.shape) for t in vs]}")
    return vs


def _grads(outs: tuple[Tensor, ...], ins: tuple[Tensor, ...], vs: Any, create_graph: bool,
           strict: bool) -> tuple[Tensor, ...]:
    """sum over the outputs of v^T d out / d ins, zeros where an input is unused."""
    needed = [(o, v) for o, v in zip(outs, vs or (None,) * len(outs)) if o.requires_grad]
    if not needed:
        if strict:
            raise RuntimeError("the outputs of the user-provided function do not require "
                               "grad: they do not depend on the inputs (strict=True)")
        return tuple(zeros_like(x) for x in ins)
    found = grad([o for o, _ in needed], ins, grad_outputs=[v for _, v in needed],
                 retain_graph=True, create_graph=create_graph, allow_unused=True)
    if strict and any(g is None for g in found):
        raise RuntimeError("an input is not used by the user-provided function (strict=True)")
    return tuple(zeros_like(x) if g is None else g for x, g in zip(ins, found))


def _jacobian_of(out: Tensor, ins: tuple[Tensor, ...], create_graph: bool, strict: bool,
                 index: int) -> tuple[Tensor, ...]:
    """The Jacobian of one output with respect to each input: one backward pass per
    element of the output."""
    flat = out.reshape(-1)
    rows: list[list[Tensor]] = [[] for _ in ins]
    for k in range(flat.numel()):
        element = flat[k]
        if element.requires_grad:
            found = grad(element, ins, retain_graph=True, create_graph=create_graph,
                         allow_unused=True)
        elif strict:
            raise RuntimeError(f"output {index} of the user-provided function does not "
                               "require grad: it does not depend on the inputs (strict=True)")
        else:
            found = (None,) * len(ins)
        for i, (x, g) in enumerate(zip(ins, found)):
            if g is None and strict:
                raise RuntimeError(f"output {index} does not depend on input {i} "
                                   "(strict=True)")
            rows[i].append(zeros_like(x) if g is None else g)
    return tuple(
        (stack(row) if row else zeros_like(x).reshape((0, *x.shape))).reshape(
            tuple(out.shape) + tuple(x.shape))
        for x, row in zip(ins, rows))
