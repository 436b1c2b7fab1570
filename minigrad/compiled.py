"""``mg.compile``: record one call of a training step from the tape, replay it after.

The first call of a compiled function runs eagerly. The second runs eagerly too, with a
``Trace`` listening: every op ``Function.apply`` runs becomes a step of a plan (the op,
where each input comes from, its parameters and the ``ctx`` its forward filled), the
backward pass adds the order in which it visited those ops and the leaves it reached, and
calls of the optimizer (``zero_grad``, ``step``) and of the modules are noted. Later calls
replay the plan. The first replay lays the optimizer out in flat buffers
(``minigrad.flat_buffers``) and writes the plan out as one Python function
(``minigrad.compiled_program``): a line per array call, every value and gradient written
into buffers allocated once, the optimizer's step one fused update over the flat buffers.
Where the flat buffers are out of place, a call replays the plan step by step instead
(``Plan.interpret``): each op's own forward and gradient formulas on the arrays, the
optimizer's calls as they are. On a backend that captures graphs
(``Backend.capture_graph``: CuPy's CUDA graphs) the program is split into the work of the
host and that of the device, which is launched as one graph per call after its first
run; ``fn.stats["no_graph"]`` says why a plan keeps to plain Python.

What a plan depends on is guarded on every call: the arguments' shapes, dtypes and
devices, grad mode, the modules' train/eval flags and parameters, and the decisions that
read tensor values (a loss's check of its targets). A failed guard captures again. What
cannot be replayed (a value read with ``.item()``, an in-place change the tape records or
of an argument, a user-defined Function, hooks, ``create_graph``) makes the function run
eagerly, with one warning.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from . import autograd
from .backend import Backend
from .compiled_program import REDO, SLOW, Program
from .flat_buffers import FlatOptimizer
from .function import _widen
from .tensor import Tensor

MAX_PLANS = 8  # plans kept per function, one per argument signature


class Unreplayable(Exception):
    """Raised by a trace when the call it records cannot be replayed."""


class Trace:
    """What one eager call did, as the tape and the hooks below report it."""

    def __init__(self, args: tuple) -> None:
        self.inputs = {id(a): i for i, a in enumerate(args) if isinstance(a, Tensor)}
        # where an array an op takes as a parameter (a target, a condition) comes from
        self.arrays = {id(a._data): ("input", i) for i, a in enumerate(args)
                       if isinstance(a, Tensor)}
        self.steps: list[Any] = []  # ForwardStep, or a call of the optimizer
        self.step_of: dict[int, int] = {}  # id(tensor made by an op) -> its step
        self.step_of_ctx: dict[int, int] = {}  # id(the op's ctx) -> its step
        self.keep: list[Any] = []  # every tensor and ctx seen, alive so that ids stay unique
        self.modules: dict[int, Any] = {}
        self.guards: list[tuple[Callable, tuple, Any]] = []
        self.failure: str | None = None
        self.paused = 0  # inside a call that is replayed as a call (the optimizer's)

    # what the hooks call
    def source(self, t: Tensor) -> tuple:
        """Where a tensor an op reads comes from: a step, an argument, or a tensor read
        live at replay (a parameter, a buffer, a constant made inside)."""
        step = self.step_of.get(id(t))
        if step is not None:
            return ("step", step)
        i = self.inputs.get(id(t))
        if i is not None:
            return ("input", i)
        shared = self.arrays.get(id(t._data))  # a detached tensor or a view of the same array
        if shared is not None and shared[0] != "tensor":
            return shared
        self.keep.append(t)
        self.arrays.setdefault(id(t._data), ("tensor", t))
        return ("tensor", t)

    def op(self, cls: type, ctx: Any, args: tuple, params: dict, widened: bool,
           result: Tensor) -> None:
        if self.paused:  # inside a call that the replay repeats as a call
            return
        if not cls.array_level:
            self.fail(f"the user-defined Function {cls.__name__}")
            return
        if not cls.replayable:
            self.fail(f"the op {cls.__name__}")
            return
        sources = [self.source(a) if isinstance(a, Tensor) else ("value", a) for a in args]
        wants = [a.requires_grad if isinstance(a, Tensor) else False for a in args]
        try:
            params = {k: self.parameter(v) for k, v in params.items()}
        except Unreplayable as err:
            self.fail(f"{cls.__name__} with {err}")
            return
        self.keep += [result, ctx]
        self.step_of[id(result)] = self.step_of_ctx[id(ctx)] = len(self.steps)
        self.arrays[id(result._data)] = ("step", len(self.steps))
        self.steps.append(ForwardStep(cls, ctx, sources, wants, params, widened,
                                      result.dtype, result.shape))

    def parameter(self, value: Any) -> Any:
        """An op's parameter as the plan keeps it: an array becomes a ``Live`` read of the
        tensor it is the data of; an array of no known tensor cannot be replayed."""
        if isinstance(value, (tuple, list)):
            parts = [self.parameter(v) for v in value]
            return Live(None, type(value), parts) if any(
                isinstance(p, Live) for p in parts) else value
        if hasattr(value, "shape") and hasattr(value, "dtype") and value.ndim > 0:
            source = self.arrays.get(id(value))
            if source is None:
                raise Unreplayable("an array parameter made outside the recorded ops (an "
                                   "index or mask built on the host)")
            return Live(source)
        return value

    def draw(self, kind: str, source: Any, shape: tuple, result: Tensor) -> None:
        """Random numbers made inside: drawn anew on every replay, from the same source
        (a backend's generator, or an ``mg.Generator``)."""
        if self.paused:
            return
        self.keep.append(result)
        self.step_of[id(result)] = len(self.steps)
        self.arrays[id(result._data)] = ("step", len(self.steps))
        self.steps.append(("draw", getattr(source, kind), shape, result.dtype))

    def inplace(self, t: Tensor, name: str, other: Any) -> None:
        """An in-place change that records nothing on the tape (a running statistic, a
        counter): replayed as the same backend call into the same tensor."""
        if self.paused:
            return
        target = self.source(t)
        if target[0] == "input":
            self.fail("an in-place change of an argument")
            return
        value = self.source(other) if isinstance(other, Tensor) else ("value", other)
        self.steps.append(("inplace", getattr(t.backend, name), target, value))

    def run_as_call(self, method: Callable, *args: Any) -> Any:
        """Run ``method`` (the optimizer's step, a zero_grad) as it is, now and on every
        replay: what it does inside is not recorded."""
        self.steps.append(("call", method, args))
        self.paused += 1
        try:
            return method(*args)
        finally:
            self.paused -= 1

    def backward(self, root: Tensor, order: list, leaves: list) -> None:
        """A backward pass from ``root``: the ops it visited, in order, and the leaves."""
        step = self.step_of.get(id(root))
        visited = [self.step_of_ctx.get(id(ctx)) for ctx in order]
        if step is None or None in visited:
            self.fail("a backward pass through ops recorded outside the call")
            return
        self.steps.append(("backward", step, visited, [self.source(t) for t in leaves]))

    def module(self, module: Any) -> None:
        params = tuple((p, None, None) if p is None else (p, p._data.dtype, p._data.shape)
                       for p in module._parameters.values())
        self.modules[id(module)] = (module, module.training, params)

    def guard(self, decide: Callable[[Any], Any], t: Tensor, value: Any) -> None:
        source = self.source(t)
        if source[0] == "step":
            self.fail("a decision on a value computed inside")
        self.guards.append((decide, source, value))

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason


class Live:
    """An op parameter read at replay: the array of a source, or a tuple with some."""

    __slots__ = ("source", "kind", "parts")

    def __init__(self, source: tuple | None, kind: type | None = None,
                 parts: list | None = None) -> None:
        self.source, self.kind, self.parts = source, kind, parts


class ForwardStep:
    """One op of the plan."""

    __slots__ = ("op", "ctx", "sources", "wants", "params", "live", "widened", "dtype",
                 "shape", "needs", "routes")

    def __init__(self, op: type, ctx: Any, sources: list, wants: list, params: dict,
                 widened: bool, dtype: Any, shape: tuple) -> None:
        self.op, self.ctx, self.sources, self.wants = op, ctx, sources, wants
        self.params, self.widened, self.dtype, self.shape = params, widened, dtype, shape
        self.live = any(isinstance(v, Live) for v in params.values())

    def route(self, steps: list) -> None:
        """Where the gradient of each input goes in a replayed backward pass: (input,
        pending key, dtype; None: the dtype of the argument passed in)."""
        self.needs = [True if w else None for w in self.wants]
        self.routes = []
        for i, (source, wanted) in enumerate(zip(self.sources, self.wants)):
            if not wanted:
                continue
            if source[0] == "step":
                self.routes.append((i, source[1], steps[source[1]].dtype))
            elif source[0] == "tensor":
                self.routes.append((i, _key(source), source[1].dtype))
            else:
                self.routes.append((i, _key(source), None))


class Plan:
    """A recorded call, replayed without the tape."""

    def __init__(self, trace: Trace, result: Any) -> None:
        self.steps = trace.steps
        self.flat_of: dict[int, Any] = {}  # id(parameter) -> its optimizer's flat layout
        for step in self.steps:
            if type(step) is ForwardStep:
                step.route(self.steps)
        self.modules = list(trace.modules.values())
        self.guards = trace.guards
        self.result = _outline(result, trace)
        self.grad_enabled = autograd.is_grad_enabled()
        self.program: Program | bool | None = None  # None: not written yet
        self.stats: dict[str, Any] = {"no_graph": []}  # the compiled function's, once kept

    def valid(self) -> bool:
        """Whether the modules are as they were when the plan was recorded: the same
        train/eval flag, the same parameters, of the same dtypes and shapes."""
        for module, training, params in self.modules:
            now = tuple(module._parameters.values())
            if module.training != training or len(now) != len(params) or any(
                    a is not b[0] or (a is not None and (a._data.dtype is not b[1]
                                                         or a._data.shape != b[2]))
                    for a, b in zip(now, params)):
                return False
        return True

    def replay(self, args: tuple) -> Any:
        """The recorded call on ``args``: by the generated program, or step by step where
        its flat buffers are not intact."""
        if self.program is None:
            self.lay_out_flat()
            self.program = self._write(args)
        out = self.program.run(args) if self.program is not False else SLOW
        if out is not SLOW:
            return out
        if not self.valid():
            return _REDO
        return self.interpret(args)

    def _write(self, args: tuple) -> Program | bool:
        """The generated program, or False (with a warning) where writing it failed: the
        plan is then replayed step by step."""
        try:
            graphs = _graph_backend(self.steps)
            if graphs is None:
                return Program(self, args)
            program = Program(self, args, graphs)
            if program.no_graph:  # written whole, with the reasons in its text
                reasons = program.no_graph
                program = Program(self, args)
                program.w.no_graph = reasons
                self.stats["no_graph"] += [r for r in reasons
                                           if r not in self.stats["no_graph"]]
            return program
        except Exception as err:  # a plan the code generator does not handle
            warnings.warn(f"mg.compile: the recorded plan could not be written as a program "
                          f"({type(err).__name__}: {err}); it is replayed step by step",
                          stacklevel=4)
            return False

    def interpret(self, args: tuple) -> Any:
        """Replay each step with each op's own forward and gradient formulas."""
        values: list[Any] = [None] * len(self.steps)
        inputs: list[Any] = [None] * len(self.steps)

        def array(source: tuple) -> Any:
            kind, where = source
            if kind == "step":
                return values[where]
            if kind == "input":
                return args[where]._data
            if kind == "tensor":
                return where._data
            return where

        for decide, source, value in self.guards:
            if decide(array(source)) != value:
                return _REDO
        for k, step in enumerate(self.steps):
            if type(step) is tuple:
                if step[0] == "call":
                    step[1](*step[2])
                elif step[0] == "flat step":
                    step[1].step()
                elif step[0] == "inplace":
                    target = array(step[2])
                    step[1](target, array(step[3]), out=target)
                    if step[2][0] == "tensor":
                        step[2][1]._bump_version()
                elif step[0] == "draw":
                    values[k] = step[1](step[2], step[3])
                else:
                    self._backward(step, values, inputs, args)
                continue
            arrays = [array(s) for s in step.sources]
            if step.widened:
                arrays = [_widen(a) for a in arrays]
            params = step.params
            if step.live:
                params = {k: _resolve(v, array) for k, v in params.items()}
            out = step.op.forward(step.ctx, *arrays, **params)
            if out.dtype != step.dtype:
                out = step.ctx.backend.astype(out, step.dtype)
            values[k], inputs[k] = out, arrays
        return self._fill(self.result, values)

    def _fill(self, outline: Any, values: list) -> Any:
        """The result of a replay, shaped as the recorded call's."""
        if isinstance(outline, list):
            return [self._fill(o, values) for o in outline]
        if isinstance(outline, dict):
            return {k: self._fill(v, values) for k, v in outline.items()}
        if isinstance(outline, tuple) and outline and outline[0] in ("step", "tensor", "value"):
            kind, where = outline
            if kind == "step":
                return Tensor._make(values[where], self.steps[where].ctx.backend)
            return where
        return tuple(self._fill(o, values) for o in outline)

    def _backward(self, step: tuple, values: list, inputs: list, args: tuple) -> None:
        _, root, order, leaves = step
        backend = self.steps[root].ctx.backend
        pending: dict[Any, Any] = {root: backend.ones(values[root].shape, values[root].dtype)}
        given = {id(pending[root])}
        for k in order:
            step = self.steps[k]
            grad = pending.pop(k)
            op, ctx = step.op, step.ctx
            saved = list(inputs[k]) if op.saves_inputs else []
            if op.saves_output:
                saved.append(values[k])
            ctx.saved_tensors, ctx.xp = saved, ctx.backend
            ctx.inputs = step.needs
            grads = op.backward(ctx, grad)
            if type(grads) is not tuple:
                grads = (grads,)
            x_arrays = inputs[k]
            for i, key, dtype in step.routes:
                g = grads[i]
                if g is None:
                    continue
                x = x_arrays[i]
                if g.shape != x.shape:
                    g = ctx.backend.sum_to(g, x.shape)
                if dtype is None:  # an argument's: as the tensor passed in this call
                    dtype = args[key[1]].dtype
                if g.dtype != dtype:
                    g = ctx.backend.astype(g, dtype)
                previous = pending.get(key)
                pending[key] = g if previous is None else previous + g
        for source in leaves:
            leaf = source[1] if source[0] == "tensor" else args[source[1]]
            grad = pending.pop(_key(source))
            flat = self.flat_of.get(id(leaf))
            if flat is None or not flat.accumulate(leaf, grad):
                autograd._accumulate(leaf, grad, False, given)

    def lay_out_flat(self) -> None:
        """Put the parameters, gradients and state of each optimizer whose step the plan
        calls into flat buffers, and replay that step as one fused update per group."""
        for k, step in enumerate(self.steps):
            if type(step) is not tuple or step[0] != "call":
                continue
            owner = getattr(step[1], "__self__", None)
            if owner is not None and step[1].__name__ == "step":
                flat = FlatOptimizer.of(owner)
                if flat is not None:
                    self.flat_of.update(dict.fromkeys(flat.grad_view, flat))
                    self.steps[k] = ("flat step", flat)

    def describe(self, k: int) -> str:
        """Step ``k`` in one line."""
        step = self.steps[k]
        if type(step) is tuple:
            return f"{k}  {_describe_call(step)}"
        ins = ", ".join(_describe(s) for s in step.sources)
        return f"{k}  {step.op.__name__}({ins}) -> {step.dtype}"

    def __str__(self) -> str:
        if self.program:
            return str(self.program)
        return "\n".join(self.describe(k) for k in range(len(self.steps)))


_REDO = REDO


def _graph_backend(steps: list) -> Any:
    """The one backend the plan's ops run on, where it captures graphs (it implements
    ``Backend.capture_graph``); else None."""
    backends = {id(s.ctx.backend): s.ctx.backend for s in steps if type(s) is ForwardStep}
    if len(backends) != 1:
        return None
    backend = next(iter(backends.values()))
    if type(backend).capture_graph is Backend.capture_graph:
        return None
    return backend


def _resolve(value: Any, array: Callable[[tuple], Any]) -> Any:
    if not isinstance(value, Live):
        return value
    if value.source is not None:
        return array(value.source)
    return value.kind(_resolve(p, array) for p in value.parts)


def _describe_call(step: tuple) -> str:
    kind = step[0]
    if kind == "call":
        owner = getattr(step[1], "__self__", None)
        return step[1].__name__ if owner is None else f"{type(owner).__name__}.{step[1].__name__}"
    if kind == "inplace":
        return f"{_describe(step[2])} {step[1].__name__}= {_describe(step[3])}"
    if kind == "flat step":
        opt = step[1].optimizer
        return (f"{type(opt).__name__}.step over flat buffers "
                f"({len(opt.param_groups)} group(s), one fused update each)")
    if kind == "draw":
        return f"{step[1].__name__}{step[2]} -> {step[3]}"
    return f"backward from %{step[1]} through {len(step[2])} ops"


def _key(source: tuple) -> Any:
    return ("leaf", id(source[1])) if source[0] == "tensor" else ("arg", source[1])


def _describe(source: tuple) -> str:
    kind, where = source
    if kind == "step":
        return f"%{where}"
    if kind == "input":
        return f"arg{where}"
    if kind == "tensor":
        return f"tensor{tuple(where.shape)}"
    return repr(where)


def _outline(result: Any, trace: Trace) -> Any:
    """The call's result with each tensor made inside replaced by its step."""
    if isinstance(result, Tensor):
        step = trace.step_of.get(id(result))
        return ("step", step) if step is not None else ("tensor", result)
    if isinstance(result, (tuple, list)):
        return type(result)(_outline(r, trace) for r in result)
    if isinstance(result, dict):
        return {k: _outline(v, trace) for k, v in result.items()}
    if result is None or isinstance(result, (str, bool)):
        return ("value", result)
    trace.fail(f"a result of type {type(result).__name__}")
    return None


class CompiledFunction:
    """A function whose calls replay a recorded plan (see the module's docstring)."""

    def __init__(self, fn: Callable) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.plans: dict[Any, Plan] = {}
        self.seen: set[Any] = set()
        self.fallback: str | None = None
        self.stats = {"eager": 0, "captures": 0, "replays": 0, "fallbacks": 0,
                      "reasons": [], "graph_captures": 0, "graph_launches": 0,
                      "no_graph": []}

    @property
    def plan(self) -> str:
        """The plans recorded so far, one line per step."""
        return "\n\n".join(str(p) for p in self.plans.values()) or "(nothing recorded yet)"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fallback is not None or kwargs or autograd.tracer is not None:
            if self.fallback is not None:
                self.stats["fallbacks"] += 1
            return self.fn(*args, **kwargs)
        key = _signature(args)
        plan = self.plans.get(key)
        if plan is not None:
            out = plan.replay(args)
            if out is not _REDO:
                self.stats["replays"] += 1
                return out
        if key not in self.seen:
            self.seen.add(key)
            self.stats["eager"] += 1
            return self.fn(*args)
        return self._capture(key, args)

    def _capture(self, key: Any, args: tuple) -> Any:
        trace = Trace(args)
        autograd.tracer = trace
        try:
            result = self.fn(*args)
        finally:
            autograd.tracer = None
        plan = Plan(trace, result)
        self.stats["captures"] += 1
        if trace.failure is not None:
            self.fallback = trace.failure
            self.stats["reasons"].append(trace.failure)
            self.plans.clear()
            warnings.warn(f"mg.compile: {self.__name__} runs eagerly: it uses "
                          f"{trace.failure}, which a recorded plan cannot replay",
                          stacklevel=3)
            return result
        if len(self.plans) >= MAX_PLANS:
            self.plans.pop(next(iter(self.plans)))
        plan.stats = self.stats
        self.plans[key] = plan
        return result


def _signature(args: tuple) -> tuple:
    parts = [autograd.is_grad_enabled()]
    for a in args:
        if isinstance(a, Tensor):
            parts.append((a.shape, a.dtype, a.backend.name, a.requires_grad))
        else:
            try:
                hash(a)
            except TypeError:
                parts.append(("id", id(a)))
            else:
                parts.append(("value", type(a), a))
    return tuple(parts)


def compile(fn: Callable) -> CompiledFunction:  # noqa: A001  (PyTorch's name)
    """Record ``fn`` (a training step: forward, backward, optimizer) on its second call and
    replay the recording on later calls; see ``minigrad.compiled``'s module docstring.

    The tensors it returns are new on every call (copies of the replay's buffers) and stay
    valid after the next one. A parameter's ``.grad`` is a view of the optimizer's flat
    gradient buffer, which each call writes in place: a ``.grad`` tensor kept from an
    earlier call shows the new values.
    """
    return CompiledFunction(fn)


def guarded(decide: Callable[[Any], Any], t: Tensor) -> Any:
    """``decide(t's array)``, noted as a guard while a call is being recorded: a plan that
    took one branch on a tensor's values is replayed only while the decision is the same."""
    value = decide(t._data)
    if autograd.tracer is not None:
        autograd.tracer.guard(decide, t, value)
    return value
