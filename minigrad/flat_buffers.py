"""Parameters, gradients and optimizer state in flat buffers, for a replayed step.

``FlatOptimizer`` lays the small parameters of an SGD, RMSprop, Adam or AdamW optimizer,
their gradients and the optimizer's state out in one contiguous buffer each (per parameter
group), and points ``p.data``, ``p.grad`` and ``optimizer.state`` at views of them:
everything that reads them (``state_dict()``, ``mg.save``, eager steps) still works.
A replayed step then updates them with one call of the fused kernel over those buffers,
the same elementwise formula the per-parameter update runs, instead of one call per
parameter. A large parameter, whose arithmetic outweighs a call, is a part of its own
over its own arrays (seen flat, not copied). Each group's options are checked by the
optimizer where they changed since the last step (``GroupOptions``), and the default
kernels are bound once to their numbers.
Whenever the layout is not intact (a parameter or a state entry replaced, a gradient that
is not the buffer's view), the optimizer's own ``step()`` runs instead.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

from . import autograd
from .optim.group_buffers import GroupBuffers
from .optim.group_options import GroupOptions, adam_options, keys_fit, kind_of
from .optim.optimizer import Optimizer
from .tensor import Tensor

_made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class FlatOptimizer:
    """One optimizer's parameters, gradients and state in flat buffers."""

    @classmethod
    def of(cls, optimizer: Any) -> FlatOptimizer | None:
        """The layout of ``optimizer``: the one made before while it is intact, else a new
        one; None where the optimizer does not fit one."""
        made = _made.get(optimizer)
        if made is not None and made.intact():
            return made
        if not cls.fits(optimizer):
            return None
        _made[optimizer] = made = cls(optimizer)
        return made

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        moments, self.counted, update, self.options = kind_of(optimizer)
        self.takes_step = self.options is adam_options  # the update's ``step`` argument
        # per part (a group's small parameters, or one large parameter): its group and the
        # group's index, its parameters, its buffers and their views, its state entries,
        # its bound update and the group's options
        self.parts: list[dict[str, Any]] = []
        self.grad_view: dict[int, Any] = {}  # id(parameter) -> its view of the gradients
        for index, group in enumerate(optimizer.param_groups):
            params = group["params"]
            backend = params[0].backend
            keys = [k for k in moments if optimizer.state[params[0]].get(k) is not None]
            small = GroupBuffers.small(params)
            laid_out = set(map(id, small))
            parts = [small] if small else []
            parts += [[p] for p in params if id(p) not in laid_out]
            for part in parts:
                flat, views = ((_adopted(optimizer, group, part, keys) if part is small else None)
                               or _flattened(optimizer, part, keys))
                flat["update"] = backend.prepare_update(update, flat["param"], flat["grad"],
                                                        *(flat.get(k) for k in moments))
                for i, p in enumerate(part):
                    p._data = views["param"][i]
                    p._grad = Tensor._make(views["grad"][i], backend)  # its own shape
                    self.grad_view[id(p)] = views["grad"][i]
                    for key in keys:
                        optimizer.state[p][key] = views[key][i]
                self.parts.append({
                    "group": group, "index": index, "params": part, "flat": flat,
                    "views": views, "keys": keys, "group_ids": list(map(id, params)),
                    "options": GroupOptions(optimizer, group, index, self.options,
                                            flat["update"])})

    @staticmethod
    def fits(optimizer: Any) -> bool:
        """Whether ``optimizer`` can be laid out flat: SGD, RMSprop, Adam or AdamW, not
        maximizing, every parameter with a gradient (and state, where it keeps some), one
        backend and dtype per group."""
        kind = kind_of(optimizer)
        if kind is None:
            return False
        moments, counted, _, _ = kind
        for group in optimizer.param_groups:
            params = group["params"]
            if group.get("maximize") or not params:
                return False
            first = optimizer.state.get(params[0]) or {}
            keys = [k for k in moments if first.get(k) is not None]
            for p in params:
                state = optimizer.state.get(p) or {}
                if p.grad is None or p.grad.requires_grad:
                    return False
                if p.backend is not params[0].backend or p.dtype != params[0].dtype:
                    return False
                if any(state.get(k) is None for k in keys):
                    return False
            if counted and len({(optimizer.state.get(p) or {}).get("step")
                                for p in params}) != 1:
                return False
            if not counted and group.get("momentum") and not keys:
                return False  # a momentum buffer comes with the first step
        return True

    def accumulate(self, leaf: Tensor, grad: Any) -> bool:
        """Put a replayed gradient of ``leaf`` into its view, as ``.grad`` accumulation
        would; False when ``leaf`` is not laid out here."""
        view = self.grad_view.get(id(leaf))
        if view is None:
            return False
        backend = leaf.backend
        current = leaf.grad
        if current is None:
            backend.setitem(view, Ellipsis, grad)
            leaf.grad = Tensor._make(view, backend)
        elif current._data is view and not current.requires_grad:
            backend.add(view, grad, out=view)
            current._bump_version()
        else:
            return False
        return True

    def step(self) -> None:
        """The optimizer's step: one fused call per group where the layout is intact."""
        if not self.intact():
            self.optimizer.step()
            return
        self.step_intact()

    def step_intact(self) -> None:
        """One fused call per part, on a layout known to be intact."""
        opt = self.optimizer
        for i, part in enumerate(self.parts):
            run = part["options"].check()
            params = part["params"]
            step = 0
            if self.counted:
                step = opt.state[params[0]]["step"] + 1
                for p in params:
                    opt.state[p]["step"] = step
            run(step)
            self.mark_changed(i)

    def mark_changed(self, part: int) -> None:
        """Note that the parameters of part ``part`` were changed in place: saved copies
        of them are stale from here."""
        autograd.last_change = changed = next(autograd._sequence)
        for p in self.parts[part]["params"]:
            autograd.version_of(p).changed_at = changed

    def intact(self) -> bool:
        """Whether every parameter, gradient and state entry is still its buffer's view."""
        if not self.groups_intact():
            return False
        opt = self.optimizer
        steps: dict[int, set] = {}  # per group: the steps of its parameters
        for entry in self.parts:
            views = entry["views"]
            group_steps = steps.setdefault(entry["index"], set())
            stateless = not entry["keys"] and not self.counted  # SGD without momentum
            for i, p in enumerate(entry["params"]):
                state = opt.state.get(p)
                if state is None and stateless:
                    state = {}
                if (state is None or p._data is not views["param"][i] or p.grad is None
                        or p.grad._data is not views["grad"][i]):
                    return False
                if any(state.get(k) is not views[k][i] for k in entry["keys"]):
                    return False
                group_steps.add(state.get("step"))
        return all(len(group_steps) == 1 for group_steps in steps.values())

    @property
    def group_count(self) -> int:
        return len({id(part["group"]) for part in self.parts})

    def groups_intact(self) -> bool:
        """Whether the optimizer has the groups laid out, with the same parameters, and
        options that ask for the state laid out (the parameters' views are not checked)."""
        opt = self.optimizer
        if len(opt.param_groups) != self.group_count:
            return False
        for part in self.parts:
            group = part["group"]
            if opt.param_groups[part["index"]] is not group or group.get("maximize"):
                return False
            if list(map(id, group["params"])) != part["group_ids"]:
                return False
            if not keys_fit(opt, group, part["keys"]):
                return False
        return True


def _flattened(optimizer: Any, params: list, keys: list) -> tuple[dict, dict]:
    """New flat buffers of a group's parameters, gradients and state entries ``keys``, and
    each one's views per parameter."""
    backend, state = params[0].backend, optimizer.state
    flat = {"param": _flatten(backend, [p._data for p in params]),
            "grad": _flatten(backend, [p.grad._data for p in params])}
    for key in keys:
        flat[key] = _flatten(backend, [state[p][key] for p in params])
    return flat, {name: _views(backend, buffer, params) for name, buffer in flat.items()}


def _adopted(optimizer: Any, group: dict, params: list, keys: list
             ) -> tuple[dict, dict] | None:
    """The flat buffers the optimizer's eager step already keeps for ``params``, a group's
    small parameters (``GroupBuffers``), filled with the parameters and gradients; None where
    it keeps none, or they no longer hold every one of them and their state entries."""
    buffers = getattr(optimizer, "_group_buffers", {}).get(id(group))
    if (buffers is None or buffers.group is not group or len(buffers.params) != len(params)
            or any(a is not b for a, b in zip(buffers.params, params))
            or any(k not in buffers.entry_views for k in keys)):
        return None
    state = optimizer.state
    for key in keys:
        if any(state[p].get(key) is not view for p, view in zip(params, buffers.entry_views[key])):
            return None
    setitem = buffers.backend.setitem
    for p, param_view, grad_view in zip(params, buffers.param_views, buffers.grad_views):
        setitem(param_view, Ellipsis, p._data)
        setitem(grad_view, Ellipsis, p.grad._data)
    flat = {"param": buffers.param_buffer, "grad": buffers.grad_buffer}
    views = {"param": buffers.param_views, "grad": buffers.grad_views}
    for key in keys:
        flat[key], views[key] = buffers.state[key], buffers.entry_views[key]
    return flat, views


def _flatten(backend: Any, arrays: list) -> Any:
    """One flat array of ``arrays``: a flat view of the only one where it is a whole
    contiguous array of its own (a large parameter's), else a new array."""
    if len(arrays) == 1 and backend.owns_memory(arrays[0]):
        return backend.reshape(arrays[0], (-1,))
    return backend.concatenate([backend.reshape(a, (-1,)) for a in arrays], axis=0)


def _views(backend: Any, flat: Any, params: list) -> list:
    out, start = [], 0
    for p in params:
        n = math.prod(p.shape)
        out.append(backend.reshape(backend.getitem(flat, slice(start, start + n)), p.shape))
        start += n
    return out
