"""Modules and parameters: the containers that hold a model's state, as in PyTorch.

A Module registers the Parameters, buffers and sub-Modules assigned to its attributes,
in assignment order, so that ``parameters()``, ``state_dict()`` and ``to(device)`` reach
every tensor of a model without the model listing them.
"""

from __future__ import annotations

import functools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import autograd, ops
from ..autograd import RemovableHandle, version_of
from ..backend import get_backend
from ..dtypes import as_dtype
from ..tensor import Tensor, to_args

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad and registers itself when assigned to a Module.

    Made from a Tensor it shares that tensor's memory, as PyTorch's does; made from
    anything else (a NumPy array, a list) it holds a copy.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        if isinstance(data, Tensor):
            self._data = data._data
            self.backend = data.backend
            self._version = version_of(data)
        else:
            source = Tensor(data)
            self._data = source._data
            self.backend = source.backend
            self._version = None
        self.grad = None
        self._node = None
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # a copy of the values on the same backend object (so ops may mix the two)
        if id(self) in memo:
            return memo[id(self)]
        data = Tensor._make(self.backend.copy(self._data), self.backend)
        out = Parameter(data, requires_grad=self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor._make(self.backend.copy(self.grad._data), self.backend)
        memo[id(self)] = out
        return out


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match, as PyTorch does."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


# set once any module has a forward hook: until then a call looks for none
_forward_hooks_used = False


def _identity(t: Tensor) -> Tensor:
    """``t`` again, as a view recorded as a node of its own."""
    return ops.Reshape.apply(t, shape=t.shape)


class _BackwardHooks:
    """The full backward hooks of one call of a module. Each tensor argument and result
    that requires grad passes through an identity (a view of itself), so that its
    gradient there is this call's alone; the hooks run once the arguments' gradients are
    in (or the results', where no argument needs one)."""

    def __init__(self, module: Module, hooks: list, args: tuple) -> None:
        self.module, self.hooks = module, list(hooks)
        tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.grad_input: list = [None] * len(tensors)
        self.grad_output: list = []
        wrapped = list(args)
        self.inputs_expected = 0
        for k, i in enumerate(tensors):
            if args[i].requires_grad:
                wrapped[i] = _identity(args[i])
                wrapped[i].register_hook(functools.partial(self._input, k))
                self.inputs_expected += 1
        self.args = tuple(wrapped)
        self.inputs_waiting = self.inputs_expected

    def outputs(self, out: Any) -> Any:
        """``out`` with each result that requires grad passed through its identity."""
        single = isinstance(out, Tensor)
        results = [out] if single else list(out) if isinstance(out, tuple | list) else [out]
        tensors = [i for i, o in enumerate(results) if isinstance(o, Tensor)]
        self.grad_output = [None] * len(tensors)
        self.outputs_expected = 0
        for k, i in enumerate(tensors):
            if results[i].requires_grad:
                results[i] = _identity(results[i])
                results[i].register_hook(functools.partial(self._output, k))
                self.outputs_expected += 1
        self.outputs_waiting = self.outputs_expected
        return results[0] if single else type(out)(results) if isinstance(out, tuple | list) \
            else results[0]

    def _output(self, k: int, grad: Tensor) -> None:
        self.grad_output[k] = grad
        self.outputs_waiting -= 1
        if self.outputs_waiting == 0:
            self.outputs_waiting = self.outputs_expected
            if self.inputs_expected == 0:  # no argument needs a gradient
                self._run()

    def _input(self, k: int, grad: Tensor) -> Tensor | None:
        self.grad_input[k] = grad
        self.inputs_waiting -= 1
        if self.inputs_waiting:
            return None
        self.inputs_waiting = self.inputs_expected
        changed = self._run()
        if changed is None:
            return None
        if self.inputs_expected > 1:
            raise RuntimeError(f"a backward hook of {type(self.module).__name__} returned new "
                               "gradients for a call with several tensor arguments that "
                               "need one; only a call with one such argument can have its "
                               "gradient replaced")
        return changed[k]

    def _run(self) -> tuple | None:
        changed = None
        for hook in list(self.hooks):
            out = hook(self.module, tuple(self.grad_input), tuple(self.grad_output))
            if out is not None:
                changed = tuple(out)
                self.grad_input = list(changed)
        return changed


class Module:
    """Base class of every layer and model: subclass it, assign parts in ``__init__``,
    and write ``forward``; call the module itself to run it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if autograd.tracer is not None:
            autograd.tracer.module(self)
        if _forward_hooks_used:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # forward hooks, as PyTorch's
    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a value it returns replaces the
        arguments (a tuple, or a single argument)."""
        return self._add_forward_hook(0, hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a value it returns
        replaces the output."""
        return self._add_forward_hook(1, hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` in each backward pass through a
        call of this module, once the gradients of its tensor arguments are computed
        (tuples; None for an argument that needs none); a tuple it returns replaces
        grad_input."""
        return self._add_forward_hook(2, hook)

    def _add_forward_hook(self, when: int, hook: Callable[..., Any]) -> RemovableHandle:
        global _forward_hooks_used
        hooks = self.__dict__.get("_forward_hook_lists")
        if hooks is None:
            hooks = ([], [], [])
            object.__setattr__(self, "_forward_hook_lists", hooks)
        hooks[when].append(hook)
        _forward_hooks_used = True
        return RemovableHandle(hooks[when], hook)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        before, after, backward = self.__dict__.get("_forward_hook_lists") or ((), (), ())
        if (before or after or backward) and autograd.tracer is not None:
            autograd.tracer.fail("a module's forward or backward hook")
        for hook in list(before):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        watch = None
        if backward and autograd.is_grad_enabled():
            watch = _BackwardHooks(self, backward, args)
            args = watch.args
        out = self.forward(*args, **kwargs)
        for hook in list(after):
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        return out if watch is None else watch.outputs(out)

    # registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() was called; "
                "call super().__init__() first"
            )
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name, params)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, modules)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(nn.Module or None expected)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} "
                    "(Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__[name] = value  # the registered parts, mirrored for a fast lookup

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: the registered parts live in the dicts (and
        # in __dict__, a mirror kept by every method that registers or removes one)
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        extra = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(extra))

    def _forget(self, name: str, keep: dict) -> None:
        """Unregister ``name`` everywhere but ``keep``, the registry about to hold it, where
        a replaced entry keeps its position (as PyTorch does)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent.discard(name)

    def _check_name(self, name: Any, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot add a {kind} before Module.__init__() was called")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")
        registered = name in self._parameters or name in self._buffers or name in self._modules
        if hasattr(self, name) and not registered:
            raise KeyError(f"attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under ``name``."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register {type(param).__name__} as parameter {name!r} "
                "(nn.Parameter or None expected)"
            )
        self._forget(name, self._parameters)
        self._parameters[name] = self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add non-trainable state (running statistics, masks); persistent ones are saved."""
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot register {type(tensor).__name__} as buffer {name!r} (Tensor or None "
                "expected)"
            )
        self._forget(name, self._buffers)
        self._buffers[name] = self.__dict__[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what attribute assignment does)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name, self._modules)
        self._modules[name] = self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as ``"encoder.1"`` (``""`` is this module)."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = child
        return module

    # walking the tree
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple]:
        """``(dotted name, module)`` for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first, depth first), then on this
        module, as PyTorch does (e.g. to initialise weights); returns this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple]:
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or value in seen:
                    continue
                seen.add(value)
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two modules comes once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # training state
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout becomes the identity); same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: to None, or to zeros in place."""
        if autograd.tracer is not None and not autograd.tracer.paused:
            return autograd.tracer.run_as_call(self.zero_grad, set_to_none)
        autograd.zero_grads(self.parameters(), set_to_none)

    # state
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, as a host NumPy copy.

        Keys are PyTorch's: a module's own parameters, then its buffers, then its
        children's, recursively. A tensor shared by two modules appears under both names.
        ``keep_vars=True`` gives the tensors themselves instead of copies.
        """
        out: OrderedDict = OrderedDict()
        for name, t in self._local_state().items():
            out[prefix + name] = t if keep_vars else _host_copy(t)
        for name, child in self._modules.items():
            if child is not None:
                out.update(child.state_dict(prefix=f"{prefix}{name}.", keep_vars=keep_vars))
        return out

    def _local_state(self) -> dict[str, Tensor]:
        state = {n: p for n, p in self._parameters.items() if p is not None}
        for n, b in self._buffers.items():
            if b is not None and n not in self._non_persistent:
                state[n] = b
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any:
        """Copy values into the existing parameters and buffers, in place.

        Values may be NumPy arrays, minigrad tensors, or anything ``np.asarray`` accepts
        (a PyTorch state dict of CPU tensors). Each keeps its dtype and device. Every key
        and shape is checked before anything is written, so a failed load changes nothing.
        Returns ``(missing_keys, unexpected_keys)``; ``strict`` raises when either is
        non-empty.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"expected a mapping of names to arrays, got {type(state_dict).__name__}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
        values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _host_array(state_dict[key], key)
            if value.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
            values[key] = value
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with autograd.no_grad():
            for key, value in values.items():
                target = own[key]
                backend = target.backend
                backend.setitem(target._data, Ellipsis, backend.asarray(value, target.dtype))
                target._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # devices and dtypes
    def _apply(self, convert: Any) -> Module:
        """Convert every parameter, gradient and buffer with ``convert`` (under no_grad).

        A parameter stays the same object with new contents, as in PyTorch, so an
        optimizer made before ``model.to(device)`` still holds the model's parameters.
        """
        with autograd.no_grad():
            for module in self.modules():
                for param in module._parameters.values():
                    if param is None:
                        continue
                    new = convert(param)
                    if new is not param:
                        param._data = new._data
                        param.backend = new.backend
                        param._version = None
                    if param.grad is not None:
                        param.grad = convert(param.grad).detach()
                for name, buffer in module._buffers.items():
                    if buffer is not None:
                        module._buffers[name] = module.__dict__[name] = convert(buffer).detach()
        return self

    def to(self, *args: Any, device: Any = None, dtype: Any = None,
           non_blocking: bool = False) -> Module:
        """Move every parameter and buffer to ``device`` and/or cast the floating ones to
        ``dtype``, as PyTorch's: ``to(device)``, ``to(dtype)`` (``model.to(np.float64)``),
        ``to(device, dtype)``, ``to(tensor)``, or by keyword; returns self."""
        device, dtype = to_args(args, device, dtype)
        if device is not None:
            backend = get_backend(device)
            self._apply(lambda t: t.to(backend))
        if dtype is not None:
            dtype = as_dtype(dtype)
            self._apply(lambda t: _cast_float(t, dtype))
        return self

    def cpu(self) -> Module:
        return self.to("numpy")

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64."""
        return self.to(np.float64)

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16."""
        return self.to(np.float16)

    # printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr; layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({name}): {_indent(repr(child), 2)}" for name, child in self._modules.items()]
        if not children and len(lines) <= 1:
            return f"{type(self).__name__}({self.extra_repr()})"
        body = "\n  ".join(lines + children)
        return f"{type(self).__name__}(\n  {body}\n)"


def _cast_float(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t`` cast to ``dtype`` if it holds floats (integer state keeps its type)."""
    if t.dtype.kind != "f" or t.dtype == dtype:
        return t
    # cast on the backend: nothing is recorded here, and Tensor.astype keeps float32
    # from widening to float64
    return Tensor._make(t.backend.astype(t._data, dtype), t.backend)


def _indent(text: str, spaces: int) -> str:
    head, *rest = text.split("\n")
    return "\n".join([head] + [" " * spaces + line for line in rest])


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def _host_copy(t: Tensor) -> np.ndarray:
    return np.array(t.backend.to_numpy(t._data), copy=True)


def _host_array(value: Any, key: str) -> np.ndarray:
    """A state-dict value as a NumPy array (a tensor of any framework NumPy can read)."""
    if isinstance(value, Tensor):
        return value.numpy()
    try:
        out = np.asarray(value)
    except (TypeError, RuntimeError, ValueError):
        # a tensor of another framework that still records gradients
        if hasattr(value, "detach"):
            out = np.asarray(value.detach().cpu())
        else:
            raise TypeError(
                f"cannot load {type(value).__name__} into {key!r}: not an array"
            ) from None
    if out.dtype == object or out.dtype.kind not in "biuf":
        raise TypeError(f"cannot load {key!r}: values of dtype {out.dtype} are not numbers")
    return out
