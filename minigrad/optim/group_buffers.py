"""One contiguous buffer per state entry of a parameter group, for a step per group.

An update over many small parameters is dominated by the cost of each call, not by the
arithmetic: Adam's default kernel is a dozen NumPy calls per parameter. So once a group's
state is made (on its first step, or loaded), each of its entries (``exp_avg``, ...) is one
flat array over the group's small parameters, and ``optimizer.state[p]`` holds views of it.
A step then copies the parameters and gradients into flat buffers, runs the fused update
once over the whole group, and copies the parameters back: the same elementwise formula,
so the same numbers, in one call per group instead of one per parameter. That call is the
backend's own update bound to the buffers once (``Backend.prepare_update``), with the
group's options checked and converted again only when one changes (``GroupOptions``).

Whenever the layout no longer holds (a state entry or a parameter's array replaced, a
gradient missing or of another shape, steps that differ), the optimizer updates the
parameters one by one, which checks and reports everything as it always does. Large
parameters, whose arithmetic outweighs the cost of their calls, stay outside the buffers
and are updated one by one.
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .group_options import GroupOptions, checks_options_only, keys_fit, kind_of

# Measured on Adam's NumPy update: four parameters of 8192 elements or fewer take half the
# time over flat buffers; four of 100,000 take a fifth longer (the copies outweigh the calls)
SMALL_PARAM = 1 << 14  # elements of a parameter that goes in its group's flat buffers
MAX_SIZE = 1 << 20  # elements of a group's flat buffers, at most


class GroupBuffers:
    """The flat state of one parameter group, and scratch buffers for its parameters and
    gradients; ``state`` is the group's state as the update sees one parameter's."""

    def __init__(self, group: dict[str, Any], params: list[Tensor],
                 states: list[dict[str, Any]], optimizer: Any = None, index: int = 0) -> None:
        self.group = group
        self.optimizer, self.index = optimizer, index
        self.kind = None if optimizer is None else kind_of(optimizer)
        self.checks_options_only = optimizer is not None and checks_options_only(optimizer)
        self.fused: GroupOptions | None = None  # the backend's fused update, bound
        self.fused_on: tuple[int, ...] = ()  # ids of the state arrays it was bound to
        self.params = params
        self.arrays = [p._data for p in params]
        self.backend = backend = params[0].backend
        self.dtype = params[0].dtype
        self.states = states
        self.size = size = sum(math.prod(p.shape) for p in params)
        self.param_buffer = backend.zeros((size,), self.dtype)
        self.grad_buffer = backend.zeros((size,), self.dtype)
        self.param_views = self.views(self.param_buffer)
        self.grad_views = self.views(self.grad_buffer)
        # the group's state: every array entry concatenated, the numbers (step) shared
        self.state: dict[str, Any] = dict(states[0])
        self.entry_views: dict[str, list[Any]] = {}
        for key, value in states[0].items():
            if _is_array(value):
                self.state[key] = backend.concatenate(
                    [backend.reshape(s[key], (-1,)) for s in states], axis=0)
                self.adopt(key)

    @staticmethod
    def small(params: list[Tensor]) -> list[Tensor]:
        """The parameters worth a place in flat buffers: those of at most ``SMALL_PARAM``
        elements, up to ``MAX_SIZE`` elements in all. A large parameter pays its calls
        back in arithmetic, and would only add copies (and memory) there."""
        out, total = [], 0
        for p in params:
            n = p._data.size
            if n <= SMALL_PARAM and total + n <= MAX_SIZE:
                out.append(p)
                total += n
        return out

    @staticmethod
    def own_memory(params: list[Tensor]) -> bool:
        """Whether no two of ``params`` share memory: those that do are updated one after
        the other, each seeing the last one's update, which copies of each would not."""
        bases = {id(p._data if p._data.base is None else p._data.base) for p in params}
        return len(bases) == len(params)

    @staticmethod
    def fits(params: list[Tensor], states: list[dict[str, Any]]) -> bool:
        """Whether ``params`` (two or more, in their group's order, each with a gradient,
        checked) and their states can share flat buffers: one backend and dtype, and
        states with the same entries and step, each array of its parameter's shape and
        dtype."""
        if len(params) < 2:
            return False
        first, state = params[0], states[0]
        for p, s in zip(params, states):
            if p.backend is not first.backend or p.dtype != first.dtype:
                return False
            if s.keys() != state.keys() or s.get("step") != state.get("step"):
                return False
            for key, value in s.items():
                if _is_array(value) != _is_array(state[key]) or _is_array(value) and (
                        value.shape != p.shape or value.dtype != p.dtype):
                    return False
        return True

    def views(self, flat: Any) -> list[Any]:
        """``flat`` cut into one view per parameter, of its shape."""
        backend, out, start = self.backend, [], 0
        for array in self.arrays:
            n = array.size
            out.append(backend.reshape(backend.getitem(flat, slice(start, start + n)),
                                       array.shape))
            start += n
        return out

    def adopt(self, key: str) -> None:
        """Point every parameter's ``key`` entry at its view of the group's buffer."""
        views = self.entry_views[key] = self.views(self.state[key])
        for state, view in zip(self.states, views):
            state[key] = view

    def ready(self, group: dict[str, Any], state_of: dict, required: tuple[str, ...]
              ) -> list[tuple[int, Tensor]] | None:
        """The group's other parameters, ``(index, parameter)``, when a step can run over
        the buffers: every parameter laid out has the same array (or is the buffer's view,
        as mg.compile lays it out), a gradient of its shape
        and dtype on its device, and every state entry still the view it was given (with
        the same step), holding ``required``. None where it cannot."""
        if any(k not in self.state for k in required):
            return None
        # the parameters' own step count (a replayed step counts theirs, not the group's)
        backend, dtype, step = self.backend, self.dtype, self.states[0].get("step")
        entries = self.entry_views.items()
        others = []
        i, laid_out = 0, len(self.params)  # the group's parameters are walked in order
        for j, p in enumerate(group["params"]):
            if i == laid_out or p is not self.params[i]:
                others.append((j, p))
                continue
            array, state, grad = self.arrays[i], self.states[i], p._grad
            if (grad is None or grad.backend is not backend or state_of.get(p) is not state
                    or state.get("step") != step):
                return None
            if p._data is not array and p._data is not self.param_views[i]:
                return None  # (the view: mg.compile's layout, made of these buffers)
            g = grad._data
            if g.shape != array.shape or g.dtype != dtype:
                return None
            for key, views in entries:
                if state.get(key) is not views[i]:
                    return None
            i += 1
        if i != laid_out:
            return None
        if "step" in self.state:
            self.state["step"] = step
        return others

    def update(self, run_kernel: Any, group: dict[str, Any]) -> None:
        """One step: the backend's fused update bound to the buffers (``bound``), or where
        there is none ``run_kernel(backend, param, grad, state, group)`` over them,
        then the parameters copied back and every state given the new step (and any
        entry the update made, such as SGD's momentum buffer on its first step)."""
        setitem, backend = self.backend.setitem, self.backend
        for view, p in zip(self.param_views, self.params):
            if p._data is not view:
                setitem(view, Ellipsis, p._data)
        for view, p in zip(self.grad_views, self.params):
            setitem(view, Ellipsis, p._grad._data)
        grad = self.grad_buffer
        if group.get("maximize", False):
            backend.neg(grad, out=grad)
        fused = self.bound(group)
        if fused is not None:
            run = fused.check()
            if self.kind[1]:  # the update counts steps
                self.state["step"] += 1
            run(self.state.get("step", 0))
        else:
            entries = len(self.state)
            run_kernel(backend, self.param_buffer, grad, self.state, group)
            if len(self.state) != entries:  # a buffer the update made: SGD's first momentum
                for key, value in list(self.state.items()):
                    if _is_array(value) and key not in self.entry_views:
                        self.adopt(key)
        for p, view in zip(self.params, self.param_views):
            if p._data is not view:
                setitem(p._data, Ellipsis, view)
        if "step" in self.state:
            step = self.state["step"]
            for state in self.states:
                state["step"] = step
        for p in self.params:
            p._bump_version()

    def bound(self, group: dict[str, Any]) -> GroupOptions | None:
        """The backend's fused update (``Backend.prepare_update``) bound to the buffers, with
        the group's options checked and converted only when they change; None where the
        optimizer has none, or its state is not yet all there (SGD's momentum buffer comes
        with the first step)."""
        if self.kind is None:
            return None
        moments, _, name, options = self.kind
        arrays = tuple(self.state.get(k) for k in moments)
        # a backend may choose its kernel by the state it is bound to (CuPy's), so an
        # option that no longer asks for that state (amsgrad turned off) takes the other path
        if not keys_fit(self.optimizer, group, [k for k, a in zip(moments, arrays)
                                                if a is not None]):
            return None
        if self.fused is not None and tuple(map(id, arrays)) == self.fused_on:
            return self.fused
        update = self.backend.prepare_update(name, self.param_buffer, self.grad_buffer,
                                             *arrays)
        if not callable(update):  # an update made for a graph, launched apart
            self.kind = None
            return None
        self.fused = GroupOptions(self.optimizer, group, self.index, options, update)
        self.fused_on = tuple(map(id, arrays))
        return self.fused

    def options_unchanged(self) -> bool:
        """Whether the group's options are those the bound update last checked (only where
        the optimizer's ``_check`` reads nothing else)."""
        return (self.fused is not None and self.checks_options_only
                and self.fused.unchanged())


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")
