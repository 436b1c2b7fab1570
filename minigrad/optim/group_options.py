"""A parameter group's options as its fused update takes them, checked and converted once.

An optimizer step over flat buffers (one group's parameters, gradients and state, each
one contiguous array) runs the same fused update as a parameter's step, with the group's
options as keyword arguments. Checking and converting those options is most of the cost
of a small step, and they rarely change, so ``GroupOptions`` does it again only when one
of them is another object than at the last step (a schedule's new ``lr``, an entry set by
hand).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import optimizer_kernels


def adam_options(opt: Any, group: dict, step: int) -> dict[str, Any]:
    beta1, beta2 = group["betas"]
    return {"step": step, "lr": group["lr"], "beta1": beta1, "beta2": beta2,
            "eps": group["eps"], "weight_decay": group["weight_decay"],
            "decoupled": opt._decoupled, "amsgrad": group["amsgrad"]}


def rmsprop_options(opt: Any, group: dict, step: int) -> dict[str, Any]:
    return {"lr": group["lr"], "alpha": group["alpha"], "eps": group["eps"],
            "weight_decay": group["weight_decay"], "momentum": group["momentum"],
            "centered": group["centered"]}


def sgd_options(opt: Any, group: dict, step: int) -> dict[str, Any]:
    return {"lr": group["lr"], "momentum": group["momentum"], "dampening": group["dampening"],
            "weight_decay": group["weight_decay"], "nesterov": group["nesterov"]}


# per options function: the group's entries it reads (and ``Optimizer._check`` checks)
_OPTION_NAMES: dict[Any, tuple[str, ...]] = {
    adam_options: ("lr", "betas", "eps", "weight_decay", "amsgrad"),
    rmsprop_options: ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
    sgd_options: ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
}
_NUMBERS = (float, int, bool)


class GroupOptions:
    """A group's options as its fused update takes them, checked by the optimizer's
    ``_check`` (which raises before anything changes) and converted again only when one of
    them is another object than at the last check: a schedule's new ``lr``, an entry set
    by hand. Options that are not plain numbers (or tuples of them) are checked at every
    call. ``run(step)`` is the update bound to the options checked last."""

    __slots__ = ("optimizer", "group", "index", "names", "options", "update", "seen",
                 "kwargs", "run", "new_lr")

    def __init__(self, optimizer: Any, group: dict, index: int, options: Any,
                 update: Any) -> None:
        self.optimizer, self.group, self.index, self.options = optimizer, group, index, options
        self.update = update
        self.names = _OPTION_NAMES[options]
        self.seen: tuple | None = None  # the values of the last check, where immutable
        self.kwargs: dict[str, Any] = {}
        self.run: Callable[[int], Any] = _no_update
        # where the bound update takes a new lr as it is (else it is bound anew)
        self.new_lr: Callable[[Any], None] | None = None

    def check(self) -> Callable[[int], Any]:
        """The update as a function of the step count (``kwargs``: its keyword arguments
        but ``step``), after checking the group's options where they changed."""
        if not self.unchanged():
            self._load()
        return self.run

    def unchanged(self) -> bool:
        """Whether every option is the object it was at the last check (so still valid)."""
        seen = self.seen
        return seen is not None and all(map(operator.is_,
                                            map(self.group.__getitem__, self.names), seen))

    def _load(self) -> None:
        group = self.group
        self.optimizer._check_group(self.index, group)  # the eager step's error
        values = tuple(group[name] for name in self.names)
        seen = self.seen
        if (seen is not None and self.new_lr is not None
                and all(map(operator.is_, values[1:], seen[1:]))):  # a schedule's step
            self.kwargs["lr"] = values[0]
            self.new_lr(values[0])
        else:
            kwargs = self.options(self.optimizer, group, 0)
            kwargs.pop("step", None)
            self.kwargs = kwargs
            self.run, self.new_lr = _bound(self.update, self.options, kwargs)
        self.seen = values if all(
            _immutable(v) or (type(v) is tuple and all(map(_immutable, v))) for v in values
        ) else None


def _immutable(value: Any) -> bool:
    """Whether ``value`` is a number that stays as it is (a Python or NumPy scalar)."""
    return type(value) in _NUMBERS or isinstance(value, (np.floating, np.integer, np.bool_))


def _no_update(step: int) -> None:
    raise RuntimeError("the group's options were not checked")


def _bound(update: Any, options: Any, kwargs: dict[str, Any]
           ) -> tuple[Callable[[int], Any], Callable[[Any], None] | None]:
    """``update`` with ``kwargs`` as a function of the step count: the default Adam kernel
    with its numbers converted once, any other with its keyword arguments (read at each
    call); and a function that gives it a new ``lr`` (None: it must be bound anew)."""
    bind = getattr(update, "bind", None)
    if bind is not None:  # the backend binds its own kernel's numbers
        return bind(**kwargs)
    if (isinstance(update, functools.partial) and update.func is optimizer_kernels._adam
            and not update.keywords and len(update.args) == 7):
        return optimizer_kernels.adam_steps(*update.args, **kwargs)
    if (isinstance(update, functools.partial) and update.func is optimizer_kernels._sgd
            and not update.keywords and len(update.args) == 5
            and (update.args[3] is not None or kwargs["momentum"] == 0)):
        return optimizer_kernels.sgd_steps(*update.args, **kwargs), None
    if (isinstance(update, functools.partial) and update.func is optimizer_kernels._rmsprop
            and not update.keywords and len(update.args) == 7
            and (update.args[4] is not None or not kwargs["centered"])
            and (update.args[5] is not None or not kwargs["momentum"] > 0)):
        return optimizer_kernels.rmsprop_steps(*update.args, **kwargs), None
    if options is adam_options:
        return (lambda step: update(step=step, **kwargs)), _nothing
    return (lambda step: update(**kwargs)), _nothing


def _nothing(value: Any) -> None:
    pass


_CLASSES: tuple = ()  # Adam, RMSprop, SGD: imported on first use (they import this module)


def _classes() -> tuple:
    global _CLASSES
    if not _CLASSES:
        from .adam import Adam
        from .rmsprop import RMSprop
        from .sgd import SGD

        _CLASSES = (Adam, RMSprop, SGD)
    return _CLASSES


def kind_of(optimizer: Any) -> tuple[tuple[str, ...], bool, str, Any] | None:
    """What a fused step of ``optimizer`` needs: its state arrays (in the order of its
    fused update's arguments), whether it counts steps, the backend's fused update, and
    that update's options for a group; None for an optimizer without one."""
    adam, rmsprop, sgd = _classes()
    kinds = ((adam, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), True, "adam_update",
              adam_options),
             (rmsprop, ("square_avg", "grad_avg", "momentum_buffer"), True, "rmsprop_update",
              rmsprop_options),
             (sgd, ("momentum_buffer",), False, "sgd_update", sgd_options))
    for cls, *kind in kinds:
        if isinstance(optimizer, cls):
            if type(optimizer)._run_update is not cls._run_update:
                return None  # a subclass with an update of its own
            return tuple(kind)  # type: ignore[return-value]
    return None


def keys_fit(optimizer: Any, group: dict, keys: Any) -> bool:
    """Whether the group's options ask for exactly the state entries ``keys`` (of those a
    fused update reads: Adam's max_exp_avg_sq only with amsgrad, ...)."""
    adam, rmsprop, _ = _classes()
    if isinstance(optimizer, adam):
        return group["amsgrad"] == ("max_exp_avg_sq" in keys)
    if isinstance(optimizer, rmsprop):
        return (group["centered"] == ("grad_avg" in keys)
                and (group["momentum"] > 0) == ("momentum_buffer" in keys))
    return (group["momentum"] != 0) == ("momentum_buffer" in keys)


def checks_options_only(optimizer: Any) -> bool:
    """Whether the optimizer's ``_check`` is its class's, which reads only the options a
    fused update takes (a subclass may check entries of its own)."""
    if kind_of(optimizer) is None:
        return False
    base = next(cls for cls in _classes() if isinstance(optimizer, cls))
    return type(optimizer)._check is base._check
