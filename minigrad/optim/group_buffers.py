"""One contiguous buffer per state entry of a parameter group, for a step per group.

An update over many small parameters is dominated by the cost of each call, not by the
arithmetic: Adam's default kernel is a dozen NumPy calls per parameter. So once a group's
state is made (on its first step, or loaded), each of its entries (``exp_avg``, ...) is one
flat array over all the group's parameters, and ``optimizer.state[p]`` holds views of it.
A step then copies the parameters and gradients into flat buffers, runs the fused update
once over the whole group, and copies the parameters back: the same elementwise formula,
so the same numbers, in a dozen calls per group instead of per parameter.

Whenever the layout no longer holds (a state entry or a parameter's array replaced, a
gradient missing or of another shape, steps that differ), the optimizer updates the
parameters one by one, which checks and reports everything as it always does.
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor


class GroupBuffers:
    """The flat state of one parameter group, and scratch buffers for its parameters and
    gradients; ``state`` is the group's state as the update sees one parameter's."""

    def __init__(self, group: dict[str, Any], params: list[Tensor],
                 states: list[dict[str, Any]]) -> None:
        self.group = group
        self.params = params
        self.arrays = [p.data for p in params]
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
    def fits(params: list[Tensor], states: list[dict[str, Any]]) -> bool:
        """Whether ``params`` (two or more, in their group's order, each with a gradient,
        checked) and their states can share flat buffers: one backend and dtype, arrays of
        their own, and states with the same entries and step."""
        if len(params) < 2:
            return False
        first, state = params[0], states[0]
        bases = set()
        for p, s in zip(params, states):
            if p.backend is not first.backend or p.dtype != first.dtype:
                return False
            base = p.data if p.data.base is None else p.data.base
            bases.add(id(base))
            if s.keys() != state.keys() or s.get("step") != state.get("step"):
                return False
            for key, value in s.items():
                if _is_array(value) != _is_array(state[key]) or _is_array(value) and (
                        value.shape != p.shape or value.dtype != p.dtype):
                    return False
        # parameters that share memory are updated one after the other, each seeing the
        # last one's update: a copy of each would not
        return len(bases) == len(params)

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

    def ready(self, group: dict[str, Any], state_of: dict, required: tuple[str, ...]) -> bool:
        """Whether a step of ``group`` can run over the buffers: its parameters with a
        gradient are those laid out, with the same arrays, each gradient of its parameter's
        shape and dtype on its device, and every state entry still the view it was given
        (with the same step), holding ``required``."""
        if any(k not in self.state for k in required):
            return False
        backend, dtype, step = self.backend, self.dtype, self.state.get("step")
        entries = self.entry_views.items()
        i, laid_out = 0, len(self.params)  # the group's parameters are walked in order
        for p in group["params"]:
            grad = p._grad
            if i == laid_out or p is not self.params[i]:
                if grad is not None:  # one without state here now has a gradient
                    return False
                continue
            array, state = self.arrays[i], self.states[i]
            if (grad is None or p.data is not array or grad.backend is not backend
                    or state_of.get(p) is not state or state.get("step") != step):
                return False
            g = grad.data
            if g.shape != array.shape or g.dtype != dtype:
                return False
            for key, views in entries:
                if state.get(key) is not views[i]:
                    return False
            i += 1
        return i == laid_out

    def update(self, run_kernel: Any, group: dict[str, Any]) -> None:
        """One step: ``run_kernel(backend, param, grad, state, group)`` over the buffers,
        then the parameters copied back and every state given the new step (and any
        entry the update made, such as SGD's momentum buffer on its first step)."""
        setitem, backend = self.backend.setitem, self.backend
        for view, p in zip(self.param_views, self.params):
            setitem(view, Ellipsis, p.data)
        for view, p in zip(self.grad_views, self.params):
            setitem(view, Ellipsis, p._grad.data)
        grad = self.grad_buffer
        if group.get("maximize", False):
            backend.neg(grad, out=grad)
        entries = len(self.state)
        run_kernel(backend, self.param_buffer, grad, self.state, group)
        for array, view in zip(self.arrays, self.param_views):
            setitem(array, Ellipsis, view)
        if len(self.state) != entries:  # a buffer the update made: SGD's first momentum
            for key, value in list(self.state.items()):
                if _is_array(value) and key not in self.entry_views:
                    self.adopt(key)
        if "step" in self.state:
            step = self.state["step"]
            for state in self.states:
                state["step"] = step
        for p in self.params:
            p._bump_version()


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")
