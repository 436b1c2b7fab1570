"""A recorded plan as straight-line Python: one generated function per plan.

``Program(plan)`` writes the replay of a plan as the source of one Python function, one
line per array call, and compiles it with ``compile``/``exec``. Every value and gradient
an op of ``minigrad.compiled_ops`` computes is written into a buffer allocated here, once
(``out=``); constants are folded (the gradient of the loss, ``1/batch``); a gradient that
gets two contributions is summed in place. An op without an emitter runs its own forward
and gradient, as the interpreted replay does, on the same names.

The arrays, functions and tensors the code reads are the globals of the function, bound
once, so a call of the function is the array calls alone. ``str(program)`` is the code,
each step of the plan as a comment above its lines. Its first lines check what the plan
depends on: it returns ``REDO`` (record again) or ``SLOW`` (replay step by step this
time, the flat buffers being out of place) instead of running.

On a backend that captures graphs (``Backend.capture_graph``) the code is two functions:
``replay(args)``, the work of the host on every call, and ``device()``, every kernel,
which a ``DeviceGraph`` runs once as it is and then launches as one captured graph.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd
from .compiled_ops import Site, emitter_of
from .flat_buffers import FlatOptimizer
from .function import _widen
from .optim.adam import Adam
from .optim.optimizer import Optimizer
from .optim.rmsprop import RMSprop
from .tensor import Tensor

SLOW = object()  # what the function returns where the interpreted replay must run instead
REDO = object()  # what it returns where a guard failed: the call is recorded again


class Writer:
    """The lines of a generated function and the objects its names are bound to.

    Split (for a backend with graphs): ``line`` writes device work, ``host`` what runs on
    the host on every call (bookkeeping, hyperparameters), and ``no_graph`` collects why
    the device work cannot be one graph; else both write one sequence of lines.
    """

    def __init__(self, split: bool = False) -> None:
        self.split = split
        self.lines: list[str] = []
        self.host_lines: list[str] = []
        self.no_graph: list[str] = []
        self.env: dict[str, Any] = {}
        self.named: dict[int, str] = {}  # id(object) -> its name
        self.buffers: dict[str, Any] = {}  # name -> an array allocated here
        self.consts: dict[str, Any] = {}  # name -> its value, known now
        self.counts: dict[str, int] = {}
        self.scalars: dict[tuple, str] = {}  # (value, dtype, hint) -> its 0-d array's name
        self.bias_added: tuple | None = None  # (output, bias, line) of a linear layer's add

    def line(self, code: str) -> None:
        self.lines.append(code)

    def host(self, code: str) -> None:
        (self.host_lines if self.split else self.lines).append(code)

    def refuse_graph(self, reason: str) -> None:
        if self.split and reason not in self.no_graph:
            self.no_graph.append(reason)

    def fresh(self, hint: str) -> str:
        n = self.counts.get(hint, 0)
        self.counts[hint] = n + 1
        return f"{hint}{n}"

    def bind(self, obj: Any, hint: str) -> str:
        """The name ``obj`` is read by (one per object)."""
        name = self.named.get(id(obj))
        if name is None:
            name = hint if hint not in self.env and hint.isidentifier() else self.fresh(hint)
            self.env[name] = obj
            self.named[id(obj)] = name
        return name

    def buffer(self, shape: tuple, dtype: Any, hint: str) -> str:
        """A new array of ``shape`` and ``dtype``, made now and written by every call."""
        array = np.zeros(shape, dtype)
        name = self.bind(array, self.fresh(hint))
        self.buffers[name] = array
        return name

    def view(self, name: str, shape: tuple) -> str:
        """A buffer seen with another shape (a view made once)."""
        array = self.buffers[name]
        if array.shape == shape:
            return name
        view = array.reshape(shape)
        self.buffers[view_name := self.bind(view, f"{name}_")] = view
        return view_name

    def bits(self, name: str, dtype: Any) -> str:
        """A buffer's bits seen as integers of ``dtype`` (a view made once)."""
        view = self.buffers[name].view(dtype)
        return self.bind(view, f"{name}_bits")

    def const(self, value: Any, hint: str = "c") -> str:
        name = self.bind(value, self.fresh(hint))
        self.consts[name] = value
        return name

    def scalar(self, value: Any, dtype: Any, hint: str) -> str:
        """A number as a 0-d array of ``dtype``: a ufunc takes one faster than a Python
        number, which it converts to ``dtype`` first, to the same value."""
        key = (value, np.dtype(dtype).str, hint)
        if key not in self.scalars:
            self.scalars[key] = self.const(np.asarray(value, dtype), hint)
        return self.scalars[key]

    def literal(self, value: Any) -> str:
        """``value`` as source text where it reads as itself, else a bound name."""
        if value is None or type(value) in (bool, int, str) or (
                type(value) is float and math.isfinite(value)):
            return repr(value)
        if type(value) is tuple and all(type(v) in (int, bool) or v is None for v in value):
            return repr(value)
        if isinstance(value, np.dtype):
            return self.bind(value, str(value))
        return self.const(value)


class Program:
    """A plan's replay as one generated function: ``program(args)`` runs it.

    With ``graphs`` (a backend whose ``capture_graph`` records device work) the function
    is split: the host part (checks, this call's inputs copied into fixed buffers, the
    optimizer's hyperparameters and step counts written into its device arrays, the
    bookkeeping of ``.grad`` and versions) runs on every call, then the device part (every
    kernel) runs through a ``DeviceGraph``, as one graph launch once it has run once.
    ``no_graph`` says why a plan could not be split that way (it is then written whole).
    """

    def __init__(self, plan: Any, args: tuple, graphs: Any = None) -> None:
        self.w = w = Writer(split=graphs is not None)
        self.graphs = graphs
        self.graph: DeviceGraph | None = None
        self.inputs: dict[int, str] = {}  # argument -> its fixed buffer (split)
        self.live: dict[int, Tensor] = {}  # tensors whose .data the device part reads
        self.given = False
        self.plan = plan
        self.steps = plan.steps
        self.args = args
        self.names: list[str | None] = [None] * len(self.steps)  # per step: its output
        self.sites: dict[int, Site] = {}
        self.grad_state: dict[int, str] = {}  # id(parameter) -> "none" / "view" (known)
        self.flats = [s[1] for s in self.steps if type(s) is tuple and s[0] == "flat step"]
        self.flat_of = {p_id: f for f in self.flats for p_id in f.grad_view}
        self.buffer_ids: set[int] = set()  # arrays made here: a leaf keeps a copy of one
        for name in ("add", "multiply", "subtract", "divide", "matmul", "dot", "maximum",
                     "not_equal", "negative", "bitwise_and", "exp", "log", "tanh", "copyto", "take",
                     "broadcast_to", "ascontiguousarray"):
            w.bind(getattr(np, name), name)
        w.bind(Tensor._make, "make")
        w.bind(REDO, "REDO")
        w.bind(SLOW, "SLOW")
        self.grads_written: set[int] = set()  # ids of parameters whose .grad is rewritten
        for module, _, _ in plan.modules:
            for name, p in module._parameters.items():
                if p is not None:
                    w.bind(p, w.fresh(name))
        for k, step in enumerate(self.steps):
            w.line(f"# {plan.describe(k)}")
            if type(step) is tuple:
                getattr(self, "_" + step[0].replace(" ", "_"))(k, step)
            else:
                self._forward(k, step)
        if not w.split:
            w.line(f"return {self.result(plan.result)}")
        body, w.lines = w.lines, []
        w.line("# checks: the modules as recorded (else REDO), the flat buffers intact (else SLOW)")
        self._check_modules()
        for flat in self.flats:
            self._check_layout(flat)
        for decide, source, value in plan.guards:
            w.line(f"if {w.bind(decide, 'guard')}({self.source(source, host=True)}) != "
                   f"{w.literal(value)}: return REDO")
        self.buffer_ids.update(id(a) for a in [*w.buffers.values(), *w.consts.values()])
        if w.split:
            self.graph = DeviceGraph(graphs, getattr(plan, "stats", None),
                                     list(self.live.values()))
            w.line("# this call on the host: inputs, hyperparameters, step counts, .grad")
            w.lines += w.host_lines
            w.line(f"d = {w.bind(self.graph, 'graph')}.run()")
            w.line(f"return {self.result(plan.result)}")
            device = ["# the device work: run once, then captured as one graph and launched",
                      *body, "return locals()"]
            self.source_text = ("def device():\n" + "".join(f"    {x}\n" for x in device)
                                + "\n\ndef replay(args):\n"
                                + "".join(f"    {x}\n" for x in w.lines))
        else:
            w.lines += body
            self.source_text = "def replay(args):\n" + "".join(f"    {x}\n" for x in w.lines)
        namespace = dict(w.env)  # the names the code reads: its globals
        exec(_compiled(self.source_text), namespace)
        self.run = namespace["replay"]
        if self.graph is not None:
            self.graph.device = namespace["device"]

    def _check_modules(self) -> None:
        """Lines returning REDO unless each module has its recorded train/eval flag and
        parameters (of the same dtypes and shapes, where no flat layout vouches for them)."""
        w = self.w
        for module, training, params in self.plan.modules:
            m = w.bind(module, w.fresh(type(module).__name__.lower()))
            names = list(module._parameters)
            checks = [f"{m}.training is not {training!r}",
                      f"len({m}._parameters) != {len(names)}"]
            for name, (p, dtype, shape) in zip(names, params):
                t = "None" if p is None else w.bind(p, "t")
                checks.append(f"{m}._parameters.get({name!r}) is not {t}")
                if p is not None and id(p) not in self.flat_of:
                    checks.append(f"{t}._data.dtype != {w.literal(dtype)}")
                    checks.append(f"{t}._data.shape != {tuple(shape)!r}")
            w.line(f"if {' or '.join(checks)}: return REDO")

    def _check_layout(self, flat: FlatOptimizer) -> None:
        """Lines returning SLOW unless each parameter, its state (and its gradient, where
        the program does not write it anew) are still the flat buffers' views."""
        w = self.w
        opt = w.bind(flat.optimizer, w.fresh(type(flat.optimizer).__name__.lower()))
        # flat.groups_intact(), written out: the same groups, parameters and options
        groups = f"{opt}.param_groups"
        checks = [f"len({groups}) != {flat.group_count}"]
        seen: set[int] = set()
        for entry in flat.parts:
            if id(entry["group"]) in seen:
                continue
            seen.add(id(entry["group"]))
            group = w.bind(entry["group"], "group")
            ids = w.bind(entry["group_ids"], "ids")
            checks += [f"{groups}[{entry['index']}] is not {group}", f"{group}.get('maximize')",
                       f"list(map(id, {group}['params'])) != {ids}",
                       _keys_unfit(flat.optimizer, group, entry["keys"])]
        w.line(f"if {' or '.join(checks)}: return SLOW")
        first = True
        for entry in flat.parts:
            views = entry["views"]
            stateless = not entry["keys"] and not flat.counted  # SGD without momentum
            for i, p in enumerate(entry["params"]):
                t = w.bind(p, "t")
                state = f"state_{t}"
                data = w.bind(views["param"][i], t + "_data")
                checks = [f"{t}._data is not {data}"]
                if not stateless:
                    w.line(f"{state} = {opt}.state.get({t})")
                    checks.insert(0, f"{state} is None")
                if id(p) not in self.grads_written:
                    g = w.bind(views["grad"][i], t + "_grad")
                    checks.append(f"{t}._grad is None or {t}._grad._data is not {g}")
                checks += [f"{state}.get({k!r}) is not {w.bind(views[k][i], t + '_' + k)}"
                           for k in entry["keys"]]
                if not first and not stateless:
                    checks.append(f"{state}.get('step') != step")
                w.line(f"if {' or '.join(checks)}: return SLOW")
                if first and not stateless:
                    w.line(f"step = {state}.get('step')")
                    first = False

    def __call__(self, args: tuple) -> Any:
        return self.run(args)

    def __str__(self) -> str:
        """The code, after the arrays it writes (made once) and the constants it reads."""
        w = self.w
        made = [f"{n} {_shape(w.env[n])}" for n in self.inputs.values()]
        made += [f"{n} {_shape(a)}" for n, a in w.buffers.items() if a.base is None]
        consts = [f"{n} {_shape(a)}" for n, a in w.consts.items() if isinstance(a, np.ndarray)]
        head = []
        if self.graph is not None:
            head = [f"# device part: {self.graph.describe()}"]
        elif self.no_graph:
            head = _wrapped("# no graph (the whole call runs as Python): ", self.no_graph)
        return "\n".join([*head, *_wrapped("# buffers: ", made),
                          *_wrapped("# constants: ", consts), self.source_text])

    @property
    def no_graph(self) -> list[str]:
        return self.w.no_graph

    # where values come from
    def source(self, source: tuple, host: bool = False) -> str:
        """The expression of a value; an argument's, in the device part of a split
        program, is its fixed buffer, which the host part fills on every call."""
        kind, where = source
        if kind == "step":
            return self.names[where]
        if kind == "input":
            if not self.w.split or host:
                return f"args[{where}]._data"
            name = self.inputs.get(where)
            if name is None:
                arg = self.args[where]
                name = self.inputs[where] = self.w.bind(
                    arg.backend.zeros(arg.shape, arg.dtype), f"input{where}")
                self.w.host(f"{self.w.bind(arg.backend, 'backend')}.setitem({name}, "
                            f"Ellipsis, args[{where}]._data)")
            return name
        if kind == "tensor":
            if not host:
                self.live[id(where)] = where
            return f"{self.w.bind(where, 't')}._data"
        return self.w.literal(where)

    def shape_of(self, source: tuple) -> tuple | None:
        kind, where = source
        if kind == "step":
            step = self.steps[where]
            return step.shape if type(step) is not tuple else step[2]
        if kind == "input":
            return tuple(self.args[where].shape)
        if kind == "tensor":
            return tuple(where.shape)
        return getattr(where, "shape", None)

    def dtype_of(self, source: tuple) -> Any:
        kind, where = source
        if kind == "step":
            step = self.steps[where]
            return step.dtype if type(step) is not tuple else step[3]
        if kind == "input":
            return self.args[where].dtype
        if kind == "tensor":
            return where.dtype
        return getattr(where, "dtype", None)

    def result(self, outline: Any) -> str:
        """The expression of the call's result: each tensor made inside is a copy, so that
        it stays as it is when the next call writes the buffers again."""
        if isinstance(outline, list):
            return "[" + ", ".join(self.result(o) for o in outline) + "]"
        if isinstance(outline, dict):
            return "{" + ", ".join(f"{self.w.literal(k)}: {self.result(v)}"
                                   for k, v in outline.items()) + "}"
        if isinstance(outline, tuple) and outline and outline[0] in ("step", "tensor", "value"):
            kind, where = outline
            if kind == "step":
                backend = self.w.bind(self.steps[where].ctx.backend, "backend")
                name = self.names[where]
                if self.w.split and name not in self.w.env:  # a local of the device part
                    name = f"d[{name!r}]"
                return f"make({name}.copy(), {backend})"
            return self.w.bind(where, "t") if kind == "tensor" else self.w.literal(where)
        return "(" + "".join(self.result(o) + ", " for o in outline) + ")"

    # the steps
    def _forward(self, k: int, step: Any) -> None:
        w = self.w
        site = Site(step, [self.source(s) for s in step.sources],
                    [self.shape_of(s) for s in step.sources],
                    [self.dtype_of(s) for s in step.sources],
                    {name: self._parameter(v) for name, v in step.params.items()})
        emitter = emitter_of(step.op)
        if emitter is not None and not step.widened and emitter.fits(site):
            site.emitter = emitter
            site.out = w.buffer(step.shape, step.dtype, "v")
            emitter.forward(w, site)
        else:
            ins = site.ins
            if step.widened:
                ins = [self._widened(k, i, a, s) for i, (a, s) in
                       enumerate(zip(ins, step.sources))]
            params = "".join(f", {name}={v}" for name, v in site.params.items())
            out = site.out = w.fresh("v")
            ctx = w.bind(step.ctx, "ctx")
            w.line(f"{out} = {w.bind(step.op.forward, step.op.__name__)}({ctx}, "
                   f"{', '.join(ins)}{params})")
            w.line(f"if {out}.dtype != {w.literal(step.dtype)}: "
                   f"{out} = {ctx}.backend.astype({out}, {w.literal(step.dtype)})")
            site.ins = ins
        self.names[k] = site.out
        self.sites[k] = site

    def _widened(self, k: int, i: int, expr: str, source: tuple) -> str:
        if source[0] == "value":
            return expr
        name = f"w{k}_{i}"
        self.w.line(f"{name} = {self.w.bind(_widen, 'widen')}({expr})")
        return name

    def _parameter(self, value: Any) -> str:
        from .compiled import Live

        if not isinstance(value, Live):
            return self.w.literal(value)
        if value.source is not None:
            return self.source(value.source)
        parts = ", ".join(self._parameter(p) for p in value.parts)
        return f"({parts},)" if value.kind is tuple else f"{value.kind.__name__}([{parts}])"

    def _call(self, k: int, step: tuple) -> None:
        method, args = step[1], step[2]
        owner = getattr(method, "__self__", None)
        flat = next((f for f in self.flats if f.optimizer is owner), None)
        reached = self._leaves_of_next_backward(k)
        if (flat is not None and getattr(method, "__func__", None) is Optimizer.zero_grad
                and args in ((), (True,)) and reached is not None):
            # zero_grad(set_to_none=True) before a backward pass that writes the
            # gradients: the pass writes them into their buffers, the others become None
            params = [p for g in owner.param_groups for p in g["params"]]
            for p in params:
                if id(p) in reached:
                    self.grad_state[id(p)] = "none"
                else:
                    self.w.host(f"{self.w.bind(p, 't')}.grad = None")
            return
        self.grad_state.clear()
        name = method.__name__ if owner is None else f"{type(owner).__name__}_{method.__name__}"
        self.w.refuse_graph(f"a call of {name.lstrip('_').replace('_', '.', 1)}, which runs "
                            "as Python")
        call = self.w.bind(method, name.lstrip("_"))
        self.w.line(f"{call}({', '.join(self.w.literal(a) for a in args)})")

    def _leaves_of_next_backward(self, k: int) -> set | None:
        """The ids of the leaves the next backward pass reaches, where only ops come
        between; else None."""
        for step in self.steps[k + 1:]:
            if type(step) is not tuple:
                continue
            if step[0] == "backward":
                return {id(s[1]) for s in step[3] if s[0] == "tensor"}
            if step[0] != "draw":
                return None
        return None

    def _flat_step(self, k: int, step: tuple) -> None:
        """The optimizer's step over its flat buffers. Where the program wrote every
        gradient, the layout is the one checked on entry: each group's options are
        checked, its step counted, its fused update run and its parameters marked changed,
        line by line; else the step checks the layout itself."""
        w, flat = self.w, step[1]
        f = w.bind(flat, "flat")
        params = [p for g in flat.optimizer.param_groups for p in g["params"]]
        if not all(self.grad_state.get(id(p)) == "view" for p in params):
            w.refuse_graph("the optimizer's own step (gradients outside its flat buffers)")
            w.line(f"{f}.step()")
            return
        for i, entry in enumerate(flat.parts):
            states = [f"state_{w.bind(p, 't')}" for p in entry["params"]]
            checked = w.bind(entry["options"], "group_options")
            kernel = entry["flat"]["update"]
            update = w.bind(kernel, f"{f}_update")
            split = w.split and hasattr(kernel, "load")  # hyperparameters in device arrays
            run = w.fresh("run")  # the options checked where they changed since last call
            w.host(f"{checked}.check()" if split else f"{run} = {checked}.check()")
            count = "0"
            if flat.counted:
                count = "count"
                w.host(f"count = {states[0]}['step'] + 1")
                w.host(" = ".join(f"{s}['step']" for s in states) + " = count")
            if split:
                step = "step=count, " if flat.takes_step else ""
                w.host(f"{update}.load({step}**{checked}.kwargs)")
                w.line(f"{update}.launch()")
            else:
                w.refuse_graph(f"{type(flat.optimizer).__name__}'s fused update, which takes "
                               "its hyperparameters as Python numbers on this backend")
                w.line(f"{run}({count})")
            w.host(f"{f}.mark_changed({i})")

    def _inplace(self, k: int, step: tuple) -> None:
        _, fn, target, value = step
        t = self.source(target)
        self.w.line(f"{self.w.bind(fn, fn.__name__)}({t}, {self.source(value)}, out={t})")
        if target[0] == "tensor":
            self.w.host(f"{self.w.bind(target[1], 't')}._bump_version()")

    def _draw(self, k: int, step: tuple) -> None:
        _, fn, shape, dtype = step
        self.w.refuse_graph("random numbers, which a graph would draw the same on every launch")
        self.names[k] = name = self.w.fresh("v")
        self.w.line(f"{name} = {self.w.bind(fn, fn.__name__)}({shape!r}, "
                    f"{self.w.literal(dtype)})")

    def _backward(self, k: int, step: tuple) -> None:
        Backward(self, step).write()


class DeviceGraph:
    """The device part of a split program: run as it is the first ``WARM_UP`` times (its
    kernels compiled, the memory pools settled), then captured by the backend as one
    graph and launched on every later call.

    The graph holds the arrays the device part read while it was captured: where a tensor
    it reads now holds another array (``.data`` replaced), the call runs the device part
    as it is and the graph is captured again on a later call. A capture that fails leaves
    the device part running as it is, and says why in ``fn.stats["no_graph"]``.
    """

    WARM_UP = 1

    def __init__(self, backend: Any, stats: dict | None, tensors: list) -> None:
        self.backend, self.stats, self.tensors = backend, stats, tensors
        self.device: Callable[[], dict] = dict
        self.launch: Callable[[], dict] | None = None
        self.arrays: list = []  # the tensors' arrays when the graph was captured
        self.runs = self.launches = self.captures = 0
        self.failure: str | None = None

    def run(self) -> dict:
        """This call's device work; the device part's local names (its arrays)."""
        if self.launch is not None:
            if all(t._data is a for t, a in zip(self.tensors, self.arrays)):
                return self._launched()
            self.launch, self.runs = None, 0  # an array it holds was replaced
        if self.runs >= self.WARM_UP and self.failure is None:
            try:
                self.arrays = [t._data for t in self.tensors]
                self.launch = self.backend.capture_graph(self.device)
                if self.launch is None:
                    self.failure = "the backend captured no graph"
            except Exception as err:  # a kernel or a read the graph cannot hold
                self.failure = f"capturing the device part failed: {type(err).__name__}: {err}"
            if self.failure is not None and self.stats is not None:
                self.stats["no_graph"].append(self.failure)
            if self.launch is not None:
                self.captures += 1
                if self.stats is not None:
                    self.stats["graph_captures"] = self.stats.get("graph_captures", 0) + 1
                return self._launched()
        self.runs += 1
        return self.device()

    def _launched(self) -> dict:
        self.launches += 1
        if self.stats is not None:
            self.stats["graph_launches"] = self.stats.get("graph_launches", 0) + 1
        return self.launch()

    def describe(self) -> str:
        if self.failure is not None:
            return f"runs as Python ({self.failure})"
        state = (f"captured, launched {self.launches} time(s)" if self.launch is not None
                 else f"not captured yet (runs as Python for the first {self.WARM_UP})")
        return (f"def device() below, one {type(self.backend).__name__} graph launch per "
                f"call after warm-up; {state}")


class Backward:
    """The lines of one backward pass: each op's gradient in the recorded order, and the
    gradients of each input summed as they come, in place, in a buffer of its own (a
    parameter's: its gradient's view in the optimizer's flat buffer)."""

    def __init__(self, program: Program, step: tuple) -> None:
        _, self.root, self.order, self.leaves = step
        self.p = program
        self.w = program.w
        # per pending key (a step, or a leaf): (step, input) of each contribution, in order
        self.parts: dict[Any, list[tuple[int, int]]] = {}
        for k in self.order:
            for i, key, _ in program.steps[k].routes:
                self.parts.setdefault(key, []).append((k, i))
        # keys summed as the interpreted replay sums them (an op without an emitter adds)
        self.slow = dict.fromkeys(key for key, parts in self.parts.items()
                                  if any(program.sites[k].emitter is None for k, _ in parts))
        self.leaf_of = {_key(s): s for s in self.leaves}
        self.grad: dict[Any, str] = {}  # key -> the name of its gradient so far
        self.total: dict[Any, str] = {}  # key -> the buffer its sum is kept in
        self.handed: dict[Any, int] = {}  # key -> buffers handed to emitters for it
        self.seen: dict[Any, int] = {}  # key -> contributions added so far

    def write(self) -> None:
        p, w = self.p, self.w
        root = p.steps[self.root]
        self.grad[self.root] = w.const(root.ctx.backend.ones(root.shape, root.dtype), "ones")
        for key in self.slow:
            self.grad[key] = name = w.fresh("s")
            w.line(f"{name} = None")
        for k in self.order:
            site = p.sites[k]
            grad = self.grad.pop(k)
            if site.emitter is not None:
                made = site.emitter.backward(w, site, grad, lambda i, k=k: self._dest(k, i))
            else:
                made = self._generic(k, site, grad)
            for i, key, dtype in p.steps[k].routes:
                self._add(key, k, i, made[i], dtype)
        for source in self.leaves:
            self._finish_leaf(source)

    def _fast_leaf(self, source: tuple | None) -> str | None:
        """The name of a parameter's gradient buffer where this pass writes its gradient
        as it is (its optimizer's zero_grad set it to None just before), else None."""
        if source is None or source[0] != "tensor" or _key(source) in self.slow:
            return None
        p = source[1]
        flat = self.p.flat_of.get(id(p))
        if flat is None or self.p.grad_state.get(id(p)) != "none":
            return None
        view = flat.grad_view[id(p)]
        name = self.w.bind(view, f"{self.w.bind(p, 't')}_grad")
        self.w.buffers[name] = view
        return name

    def _copied_leaf(self, source: tuple) -> str | None:
        """The name of a parameter's gradient buffer where this pass gives it its
        gradient (summed as the tape sums it) while its optimizer's zero_grad set it to
        None just before: the sum is copied there."""
        if source[0] != "tensor" or self.p.grad_state.get(id(source[1])) != "none":
            return None
        flat = self.p.flat_of.get(id(source[1]))
        if flat is None:
            return None
        view = flat.grad_view[id(source[1])]
        name = self.w.bind(view, f"{self.w.bind(source[1], 't')}_grad")
        self.w.buffers[name] = view
        return name

    def _sum_buffer(self, key: Any, k: int, i: int) -> str:
        name = self.total.get(key)
        if name is None:
            name = self._fast_leaf(self.leaf_of.get(key))
            if name is None:
                source = self.p.steps[k].sources[i]
                name = self.w.buffer(self.p.shape_of(source), self.p.dtype_of(source), "g")
            self.total[key] = name
        return name

    def _dest(self, k: int, i: int) -> str:
        """Where the emitter of step ``k`` writes the gradient of its input ``i``: the
        buffer of the input's sum for the first term, a buffer of its own for the others."""
        key = next(key for j, key, _ in self.p.steps[k].routes if j == i)
        n = self.handed.get(key, 0)
        self.handed[key] = n + 1
        if n == 0 and key not in self.slow:
            return self._sum_buffer(key, k, i)
        source = self.p.steps[k].sources[i]
        return self.w.buffer(self.p.shape_of(source), self.p.dtype_of(source), "tmp")

    def _add(self, key: Any, k: int, i: int, made: str, dtype: Any) -> None:
        """Add ``made``, the gradient of input ``i`` of step ``k``, to ``key``'s sum."""
        p, w = self.p, self.w
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        if key in self.slow:
            source = p.steps[k].sources[i]
            if dtype is None:
                dtype = p.args[source[1]].dtype
            name = self.grad[key]
            backend = w.bind(p.steps[k].ctx.backend, "backend")
            w.line(f"{name} = {w.bind(_route, 'route')}({name}, {made}, "
                   f"{p.shape_of(source)!r}, {w.literal(dtype)}, {backend})")
            return
        if n == 0:
            self.grad[key] = made
            return
        total = self._sum_buffer(key, k, i)
        w.line(f"add({self.grad[key]}, {made}, out={total})")
        self.grad[key] = total

    def _generic(self, k: int, site: Site, grad: str) -> dict[int, str]:
        """An op without an emitter: its own gradient formula, on the same arrays."""
        w, step = self.w, self.p.steps[k]
        saved = list(site.ins) if step.op.saves_inputs else []
        if step.op.saves_output:
            saved.append(site.out)
        run = w.bind(_gradient_of(step), f"{step.op.__name__}_gradient")
        out = w.fresh("r")
        w.line(f"{out} = {run}({grad}{''.join(', ' + s for s in saved)})")
        return {i: f"{out}[{i}]" for i, _, _ in step.routes}

    def _finish_leaf(self, source: tuple) -> None:
        """Hand a leaf its gradient: a parameter's is in its buffer already (or copied
        there); another's is added to ``.grad`` as the backward pass does."""
        p, w = self.p, self.w
        key = _key(source)
        total = self.grad.pop(key)
        view = self._fast_leaf(source)
        if view is None and w.split:
            view = self._copied_leaf(source)
        if view is not None:
            leaf = source[1]
            if total != view:
                if w.split:
                    w.line(f"{w.bind(leaf.backend, 'backend')}.setitem({view}, Ellipsis, "
                           f"{total})")
                else:
                    w.line(f"copyto({view}, {total})")
            grad = w.bind(Tensor._make(w.buffers[view], leaf.backend), f"{view}_tensor")
            w.host(f"{w.bind(leaf, 't')}._grad = {grad}")
            p.grad_state[id(leaf)] = "view"
            p.grads_written.add(id(leaf))
            return
        w.refuse_graph("a gradient added to .grad as the tape adds it (a leaf outside the "
                       "optimizer's flat buffers)")
        if not p.given:
            w.line(f"given = set({w.bind(p.buffer_ids, 'buffer_ids')})")
            p.given = True
        if source[0] == "tensor":
            leaf = w.bind(source[1], "t")
            if p.grad_state.pop(id(source[1]), None) == "none":
                w.line(f"{leaf}.grad = None")  # the zero_grad left out before
        else:
            leaf = f"args[{source[1]}]"
        flat = p.flat_of.get(id(source[1])) if source[0] == "tensor" else None
        flat_name = "None" if flat is None else w.bind(flat, "flat")
        w.line(f"{w.bind(_accumulate, 'accumulate')}({leaf}, {total}, {flat_name}, given)")


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> Any:
    """The code of a generated function (plans of one structure share one)."""
    return compile(source, "<mg.compile plan>", "exec")


def _shape(a: np.ndarray) -> str:
    return f"{'x'.join(map(str, a.shape)) or 'scalar'} {a.dtype}"


def _wrapped(head: str, items: list[str], width: int = 92) -> list[str]:
    lines, line = [], head
    for item in items:
        if len(line) + len(item) > width and line != head:
            lines.append(line.rstrip(", "))
            line = "#   "
        line += item + ", "
    return lines + [line.rstrip(", ")] if items else lines


def _keys_unfit(opt: Optimizer, group: str, keys: list) -> str:
    """An expression true where ``group``'s options no longer ask for exactly the state
    ``keys`` laid out (``group_options.keys_fit``, negated)."""
    if isinstance(opt, Adam):
        return f"not {group}['amsgrad'] == {'max_exp_avg_sq' in keys}"
    if isinstance(opt, RMSprop):
        return (f"not ({group}['centered'] == {'grad_avg' in keys} and "
                f"({group}['momentum'] > 0) == {'momentum_buffer' in keys})")
    return f"not ({group}['momentum'] != 0) == {'momentum_buffer' in keys}"


def _key(source: tuple) -> Any:
    return ("leaf", id(source[1])) if source[0] == "tensor" else ("arg", source[1])


def _route(total: Any, grad: Any, shape: tuple, dtype: Any, backend: Any) -> Any:
    """``total + grad`` (None: nothing yet), ``grad`` summed down to ``shape`` and cast to
    ``dtype`` first: the tape's one broadcasting rule, as the interpreted replay runs it."""
    if grad is None:
        return total
    if grad.shape != shape:
        grad = backend.sum_to(grad, shape)
    if grad.dtype != dtype:
        grad = backend.astype(grad, dtype)
    return grad if total is None else total + grad


def _accumulate(leaf: Tensor, grad: Any, flat: FlatOptimizer | None, given: set) -> None:
    """Add a replayed gradient to ``leaf.grad``, as the backward pass does."""
    if grad is None:
        return
    if flat is None or not flat.accumulate(leaf, grad):
        autograd._accumulate(leaf, grad, False, given)


def _gradient_of(step: Any) -> Callable:
    """A function running ``step``'s own gradient formula on arrays."""
    op, ctx, needs = step.op, step.ctx, step.needs

    def gradient(grad: Any, *saved: Any) -> tuple:
        ctx.saved_tensors, ctx.xp, ctx.inputs = list(saved), ctx.backend, needs
        grads = op.backward(ctx, grad)
        return grads if type(grads) is tuple else (grads,)

    return gradient
