"""Parameters, gradients and optimizer state in flat buffers, for a replayed step.

``FlatAdam`` lays the parameters of an Adam or AdamW optimizer, their gradients and the
optimizer's moments out in one contiguous buffer each (per parameter group), and points
``p.data``, ``p.grad`` and ``optimizer.state`` at views of them: everything that reads
them (``state_dict()``, ``mg.save``, eager steps) still works. A replayed step then
updates each group with one call of the fused kernel over its buffers, the same
elementwise formula the per-parameter update runs, instead of one call per parameter.
Whenever the layout is not intact (a parameter or a state entry replaced, a gradient that
is not the buffer's view), the optimizer's own ``step()`` runs instead.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

from .optim.adam import Adam
from .optim.optimizer import call_kernel
from .tensor import Tensor

_MOMENTS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
_made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class FlatAdam:
    """One Adam or AdamW optimizer's parameters, gradients and state in flat buffers."""

    @classmethod
    def of(cls, optimizer: Any) -> FlatAdam | None:
        """The layout of ``optimizer``: the one made before while it is intact, else a new
        one; None where the optimizer does not fit one."""
        made = _made.get(optimizer)
        if made is not None and made._intact():
            return made
        if not cls.fits(optimizer):
            return None
        _made[optimizer] = made = cls(optimizer)
        return made

    def __init__(self, optimizer: Adam) -> None:
        self.optimizer = optimizer
        self.groups: list[dict[str, Any]] = []
        self.grad_view: dict[int, Any] = {}  # id(parameter) -> its view of the gradients
        for group in optimizer.param_groups:
            params = group["params"]
            backend = params[0].backend
            flat = {"param": _flatten(backend, [p.data for p in params])}
            flat["grad"] = _flatten(backend, [p.grad.data for p in params])
            keys = [k for k in _MOMENTS if k in optimizer.state[params[0]]]
            for key in keys:
                flat[key] = _flatten(backend, [optimizer.state[p][key] for p in params])
            views = {name: _views(backend, buffer, params) for name, buffer in flat.items()}
            for i, p in enumerate(params):
                p.data = views["param"][i]
                p.grad = Tensor._make(views["grad"][i], backend)
                self.grad_view[id(p)] = views["grad"][i]
                for key in keys:
                    optimizer.state[p][key] = views[key][i]
            self.groups.append({"group": group, "flat": flat, "views": views, "keys": keys,
                                "backend": backend})

    @staticmethod
    def fits(optimizer: Any) -> bool:
        """Whether ``optimizer`` can be laid out flat: Adam or AdamW, not maximizing, every
        parameter with a gradient and state, one backend and dtype per group."""
        if not isinstance(optimizer, Adam):
            return False
        for group in optimizer.param_groups:
            params = group["params"]
            if group.get("maximize") or not params:
                return False
            for p in params:
                state = optimizer.state.get(p)
                if p.grad is None or not state or p.grad.requires_grad:
                    return False
                if p.backend is not params[0].backend or p.dtype != params[0].dtype:
                    return False
            if len({optimizer.state[p]["step"] for p in params}) != 1:
                return False
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
        elif current.data is view and not current.requires_grad:
            backend.add(view, grad, out=view)
            current._bump_version()
        else:
            return False
        return True

    def step(self) -> None:
        """The optimizer's step: one fused call per group where the layout is intact."""
        opt = self.optimizer
        if not self._intact():
            opt.step()
            return
        for entry in self.groups:
            group = entry["group"]
            opt._check(group)
            params = group["params"]
            step = opt.state[params[0]]["step"] + 1
            for p in params:
                opt.state[p]["step"] = step
            flat = entry["flat"]
            beta1, beta2 = group["betas"]
            call_kernel("adam_update", entry["backend"], flat["param"], flat["grad"],
                        flat["exp_avg"], flat["exp_avg_sq"], flat.get("max_exp_avg_sq"),
                        step=step, lr=group["lr"], beta1=beta1, beta2=beta2,
                        eps=group["eps"], weight_decay=group["weight_decay"],
                        decoupled=opt._decoupled, amsgrad=group["amsgrad"])
            for p in params:
                p._bump_version()

    def _intact(self) -> bool:
        opt = self.optimizer
        if len(opt.param_groups) != len(self.groups):
            return False
        for entry, group in zip(self.groups, opt.param_groups):
            if entry["group"] is not group or group.get("maximize"):
                return False
            keys = [k for k in _MOMENTS if k in entry["flat"]]
            if group["amsgrad"] != ("max_exp_avg_sq" in keys):
                return False
            views = entry["views"]
            steps = set()
            for i, p in enumerate(group["params"]):
                state = opt.state.get(p)
                if (state is None or p.data is not views["param"][i] or p.grad is None
                        or p.grad.data is not views["grad"][i]):
                    return False
                if any(state.get(k) is not views[k][i] for k in keys):
                    return False
                steps.add(state["step"])
            if len(steps) != 1:
                return False
        return True


def _flatten(backend: Any, arrays: list) -> Any:
    return backend.concatenate([backend.reshape(a, (-1,)) for a in arrays], axis=0)


def _views(backend: Any, flat: Any, params: list) -> list:
    out, start = [], 0
    for p in params:
        n = math.prod(p.shape)
        out.append(backend.reshape(backend.getitem(flat, slice(start, start + n)), p.shape))
        start += n
    return out
