"""The base class of every optimizer: parameter groups, per-parameter state, state dicts.

The layout is PyTorch's: ``param_groups`` is a list of dicts, each holding its
``"params"`` and every hyperparameter; ``state`` maps a parameter tensor to a dict of
its buffers (raw arrays on the parameter's backend) and counters (Python numbers);
as in PyTorch it is a ``defaultdict(dict)``, so ``state[p]`` of a parameter without
state is an empty dict.
A subclass implements ``_new_state(p, group)``, the state before a parameter's first
step, and ``_run_update(backend, param, grad, state, group)``, the update on raw arrays;
``step`` runs it for every parameter that has a gradient, or once for a whole group whose
state lives in flat buffers (``group_buffers``). A subclass may instead override
``_update(p, grad, group)``, the update of one parameter.
"""

from __future__ import annotations

import functools
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import autograd
from .. import optimizer_kernels as updates
from ..tensor import Tensor
from .group_buffers import GroupBuffers

_SET_ERROR = (
    "optimizer parameters must be an ordered collection such as a list; "
    "the order of a set changes between runs"
)


class Optimizer:
    """Updates parameters from their ``.grad``; the base of SGD, RMSprop, Adam and AdamW.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) each with a
    ``"params"`` entry and any hyperparameters that override ``defaults`` for that group.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._group_buffers: dict[int, GroupBuffers] = {}  # id(group) -> its flat state
        if isinstance(params, Tensor | dict):
            raise TypeError(
                "params must be an iterable of tensors or of dicts (parameter groups), "
                f"got a single {type(params).__name__}; wrap it in a list"
            )
        if isinstance(params, set | frozenset):
            raise TypeError(_SET_ERROR)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key != "params"]
        return "\n".join(lines) + "\n)"

    def __getstate__(self) -> dict[str, Any]:
        # a copy's state holds copies of the views, not views of the copied buffers
        return {**self.__dict__, "_group_buffers": {}}

    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError for an invalid hyperparameter of ``group``."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with options that override the defaults for it."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("a parameter group needs a 'params' entry")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise TypeError(_SET_ERROR)
        params = list(params)
        seen: dict[int, None] = {}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"an optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf tensor; optimize the leaf it came from")
            if id(p) in seen:
                raise ValueError("a parameter group contains the same parameter twice")
            seen[id(p)] = None
        for other in self.param_groups:
            if any(id(q) in seen for q in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        group["params"] = params
        self._check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None, or to zeros in place."""
        if autograd.tracer is not None and not autograd.tracer.paused:
            return autograd.tracer.run_as_call(self.zero_grad, set_to_none)
        autograd.zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()`` when given.

        ``closure`` re-evaluates the model and returns the loss (it runs with gradients
        recorded, before the update).
        """
        if autograd.tracer is not None and not autograd.tracer.paused:
            if closure is not None:
                autograd.tracer.fail("an optimizer step with a closure")
            else:
                return autograd.tracer.run_as_call(self.step)
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        with autograd.no_grad():
            for group, params, buffers in self._checked_work():
                if buffers is None:
                    buffers, params = self._fresh_buffers(group, params)
                if buffers is not None:
                    buffers.update(self._run_update, group)
                for p in params:  # those outside the group's buffers
                    grad = _grad_array(p)
                    if group.get("maximize", False):
                        grad = p.backend.neg(grad)
                    self._update(p, grad, group)
                    _bump_version(p)
        return loss

    def _checked_work(self) -> list[tuple[dict[str, Any], list[Tensor], GroupBuffers | None]]:
        """Per group, its flat buffers when they are ready to update the parameters they
        hold (else None), and the other parameters with a gradient, after checking every
        group's options, every gradient and every state: a step that fails changes nothing."""
        work = []
        for i, group in enumerate(self.param_groups):
            buffers = self._group_buffers.get(id(group))
            if buffers is None or buffers.group is not group:
                buffers = None
            if buffers is None or not buffers.options_unchanged():
                self._check_group(i, group)
            others = None
            if buffers is not None:
                others = buffers.ready(group, self.state, self._state_keys(group))
            if others is None:
                buffers, others = None, enumerate(group["params"])
            params = []
            for j, p in others:
                if p.grad is None:
                    continue
                _check_grad(p, i, j)
                state = self.state.get(p)
                if state:
                    self._check_state(p, state, group, i, j)
                params.append(p)
            work.append((group, params, buffers))
        return work

    def _check_group(self, i: int, group: dict[str, Any]) -> None:
        """``_check(group)``, with the group's index in the message."""
        try:
            self._check(group)
        except ValueError as err:
            raise ValueError(f"parameter group {i}: {err}") from None

    def _fresh_buffers(self, group: dict[str, Any], params: list[Tensor]
                       ) -> tuple[GroupBuffers | None, list[Tensor]]:
        """Flat buffers for the state of the small parameters among ``params`` (those of
        ``group`` with a gradient), about to take their first step, and the parameters left
        to update one by one; (None, params) where there are none."""
        if len(params) < 2 or not self._updates_groups():
            return None, params
        small = GroupBuffers.small(params)
        if (len(small) < 2 or any(self.state.get(p) for p in small)
                or not GroupBuffers.own_memory(params)):
            return None, params
        states = [self._new_state(p, group) for p in small]
        if any(s is None for s in states) or not GroupBuffers.fits(small, states):
            return None, params
        for p, state in zip(small, states):
            self.state[p].update(state)  # the dict itself, as one got through state[p]
        states = [self.state[p] for p in small]
        index = next(i for i, g in enumerate(self.param_groups) if g is group)
        buffers = self._group_buffers[id(group)] = GroupBuffers(group, small, states, self, index)
        laid_out = set(map(id, small))
        return buffers, [p for p in params if id(p) not in laid_out]

    def _updates_groups(self) -> bool:
        """Whether a group can be updated at once: not where a subclass has its own
        ``_update`` of one parameter."""
        return type(self)._update is Optimizer._update

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The entries that the state of a parameter of ``group`` must hold once it exists."""
        return ()

    def _check_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any], i: int,
                     j: int) -> None:
        """Raise RuntimeError unless ``state`` fits ``p`` (parameter j of group i): every
        buffer the update reads is there, every array has p's shape, dtype and device, and
        ``step`` is a number."""
        for name in self._state_keys(group):
            if name not in state:
                raise RuntimeError(
                    f"the optimizer state of {_where(i, j)} has no {name!r} entry; an option "
                    "that needs it was turned on after the state was created"
                )
        shape, dtype, array_type = p.shape, p.dtype, _array_type(p.backend)
        for name, value in state.items():
            if name == "step":
                if type(value) is not int and not isinstance(value, numbers.Real):
                    raise RuntimeError(
                        f"the optimizer state of {_where(i, j)} has a step of type "
                        f"{type(value).__name__}; it must be a number"
                    )
            elif isinstance(value, array_type):
                if value.shape != shape or value.dtype != dtype:
                    raise RuntimeError(
                        f"the optimizer state {name!r} of {_where(i, j)} has shape "
                        f"{tuple(value.shape)} and dtype {value.dtype}, but the parameter "
                        f"has shape {shape} and dtype {dtype}"
                    )
            elif _is_array(value):
                raise RuntimeError(
                    f"the optimizer state {name!r} of {_where(i, j)} is a "
                    f"{type(value).__name__}, not an array of the parameter's device "
                    f"{p.device!r}"
                )

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any] | None:
        """The state of ``p`` before its first step; None where the group keeps none."""
        return {}

    def _run_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                    group: dict[str, Any]) -> None:
        """Update ``param`` in place from ``grad`` (raw arrays of one backend and dtype) and
        ``state``: one parameter's, or a whole group's over flat buffers."""
        raise NotImplementedError

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any]) -> None:
        """Update ``p.data`` in place from ``grad`` (a raw array of p's backend and dtype)."""
        state = self.state.get(p)
        if not state:
            new = self._new_state(p, group)
            if new is None:  # nothing to keep (SGD without momentum)
                state = {}
            else:
                state = self.state[p]
                state.update(new)
        self._run_update(p.backend, p._data, grad, state, group)

    # state dicts
    def state_dict(self) -> dict[str, Any]:
        """The state in PyTorch's layout, parameters replaced by their index.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``,
        indices counted across the groups in order; arrays are host NumPy copies.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {
            index[id(p)]: {k: _to_host(p, v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()``: hyperparameters and state, moved to each parameter's
        device, and floating-point arrays to its dtype.

        The state is checked against the parameters before anything changes: the groups
        must have the optimizer's sizes, and every array (all but ``step``) the shape of
        its parameter, else ValueError names the parameter and both shapes.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)}, the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[Any, tuple[Tensor, str]] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the "
                    f"size of optimizer's group: group {i} has {len(saved['params'])} "
                    f"parameters in the state dict, {len(group['params'])} in the optimizer"
                )
            for j, (key, p) in enumerate(zip(saved["params"], group["params"])):
                by_index[key] = (p, f"parameter {j} of parameter group {i}")
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            found = by_index.get(key, by_index.get(_as_int(key)))
            if found is None:
                raise ValueError(f"the state dict has state for an unknown parameter {key!r}")
            p, where = found
            state[p] = {name: _to_device(p, name, v, where) for name, v in values.items()}
        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = {k: v for k, v in saved.items() if k != "params"}
            for k, v in group.items():
                new.setdefault(k, v)
            new["params"] = group["params"]
            self._check(new)
            groups.append(new)
        self.param_groups = groups
        self.state = state
        self._group_buffers = {}
        for index, group in enumerate(groups if self._updates_groups() else ()):
            params = group["params"]
            small = GroupBuffers.small(params)
            states = [state.get(p) for p in small]
            if (all(states) and GroupBuffers.own_memory(params)
                    and GroupBuffers.fits(small, states)):
                self._group_buffers[id(group)] = GroupBuffers(group, small, states, self,
                                                              index)


def _grad_array(p: Tensor) -> Any:
    """The raw gradient of ``p`` (checked by ``_check_grad``)."""
    return p.grad._data


def _check_grad(p: Tensor, i: int, j: int) -> None:
    """Raise unless ``p`` (parameter j of group i) is a floating-point tensor whose gradient
    has its shape, dtype and device (assignment checks this, but ``p.data`` may have been
    replaced since)."""
    grad = p.grad
    if grad.shape != p.shape or grad.dtype != p.dtype or grad.backend is not p.backend:
        raise RuntimeError(
            f"the gradient of {_where(i, j)} ({grad.shape} {grad.dtype} on {grad.device!r}) "
            f"does not match the parameter ({p.shape} {p.dtype} on {p.device!r})"
        )
    if p.dtype.kind != "f":
        raise TypeError(f"can't optimize {_where(i, j)}: its dtype is {p.dtype}, not floating")


def _where(i: int, j: int) -> str:
    return f"parameter {j} of parameter group {i}"


@functools.cache
def _array_type(backend: Any) -> type:
    """The array type of ``backend``: a state buffer must be one to be updated in place."""
    return type(backend.zeros((1,), np.dtype(np.float32)))


def _bump_version(p: Tensor) -> None:
    """Mark ``p`` as changed in place, so that autograd rejects a stale saved copy of it."""
    p._bump_version()


def call_kernel(name: str, backend: Any, *args: Any, **kwargs: Any) -> Any:
    """Run the fused update ``name``: the backend's own method when it has one, else the
    default of ``updates`` (same signature, the backend first).

    A 0-d parameter and its state go in as 1-element views: NumPy's ufuncs give a 0-d
    result as a scalar, which the next step could not write in place.
    """
    scalar = args[0].ndim == 0
    if scalar:
        args = tuple(a.reshape(1) if _is_array(a) else a for a in args)
    kernel = getattr(backend, name, None)
    if kernel is not None:
        out = kernel(*args, **kwargs)
    else:
        out = getattr(updates, name)(backend, *args, **kwargs)
    return out.reshape(()) if scalar and out is not None else out


def as_vectors(*arrays: Any) -> tuple[Any, ...]:
    """A 0-d parameter and its state as 1-element views (their updates write through):
    NumPy's ufuncs give a 0-d result as a scalar, which could not be written in place."""
    if arrays[0].ndim:
        return arrays
    return tuple(a.reshape(1) for a in arrays)


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _to_host(p: Tensor, value: Any) -> Any:
    if _is_array(value):
        return np.array(p.backend.to_numpy(value), copy=True)
    return value


def _to_device(p: Tensor, name: str, value: Any, where: str) -> Any:
    """A state value as the optimizer keeps it: arrays copied to p's device, floating ones
    cast to p's dtype (PyTorch's policy; ``step`` becomes a number), shapes checked."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if not _is_array(value):
        return value
    host = np.asarray(value)
    if name == "step":
        if host.ndim == 0:
            return host.item()
        raise ValueError(f"the loaded step of {where} has shape {host.shape}; it must be a number")
    if host.shape != p.shape:
        raise ValueError(
            f"loaded state {name!r} of {where} has shape {host.shape}, but the parameter has "
            f"shape {p.shape}; the state dict belongs to other parameters or another order"
        )
    dtype = p.dtype if host.dtype.kind == "f" else host.dtype
    return p.backend.asarray(host, dtype)


def _as_int(key: Any) -> Any:
    try:
        return int(key)
    except (TypeError, ValueError):
        return None


def check_number(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a real number (not None, a string, an array)."""
    if type(value) is not float and type(value) is not int and (
            not isinstance(value, numbers.Real)):
        raise ValueError(f"invalid {name}: {value!r} (must be a number)")


def check_implementation(differentiable: bool) -> None:
    """PyTorch's ``foreach``, ``fused`` and ``capturable`` only choose an implementation, so
    they are accepted and ignored; ``differentiable=True`` would change what a step is."""
    if differentiable:
        raise NotImplementedError(
            "differentiable=True is not supported: optimizer steps are not recorded by autograd"
        )


def check_nonnegative(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a number ``>= 0`` (not NaN)."""
    check_number(name, value)
    if not value >= 0:
        raise ValueError(f"invalid {name}: {value!r} (must be >= 0)")
