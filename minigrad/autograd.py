"""The tape: what each op records, and the backward pass that replays it in reverse.

Recording is define-by-run. Every op applied to a tensor that requires grad creates a
``Context`` (the node of the graph, and the ``ctx`` its forward and backward receive):
it holds its inputs, what the gradient needs, and a sequence number that grows with
every recorded op. The backward pass replays the recorded ops in reverse order of
those numbers, so each node is visited once, after every op that used its output.

Gradient formulas of the built-in ops are written with operators and ``ctx.xp``, so the
same formula runs on plain backend arrays (nothing recorded: fast) or on tensors (the
backward pass is itself recorded: ``create_graph=True`` for higher-order gradients).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class _GradState(threading.local):
    """Whether ops are recorded, per thread (each thread starts with recording on, as in
    PyTorch)."""

    enabled = True


grad_state = _GradState()
_sequence = itertools.count(1)
# the sequence number of the latest in-place change of any tensor: a node recorded after it
# cannot have a stale saved tensor, so its check is skipped
last_change = 0
# the Trace of minigrad.compile recording a call, or None
tracer: Any = None


class _GradMode:
    """Sets grad mode inside a ``with`` block, or around a function as a decorator (with or
    without the parentheses: ``@mg.no_grad()`` or ``@mg.no_grad``)."""

    mode: bool

    def __new__(cls, fn: Callable | None = None) -> Any:
        mode = super().__new__(cls)
        return mode if fn is None else mode(fn)

    def __enter__(self) -> None:
        self._previous = grad_state.enabled
        grad_state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        grad_state.enabled = self._previous

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Nothing computed inside is recorded: ``with mg.no_grad():`` or ``@mg.no_grad()``."""

    mode = False


class enable_grad(_GradMode):
    """Recording is back on inside, even within ``no_grad``."""

    mode = True


def is_grad_enabled() -> bool:
    return grad_state.enabled


class set_grad_enabled:  # noqa: N801  (PyTorch's name)
    """Turns recording on or off: at once when called as a function, and back to what it
    was at the end of a ``with`` block or of a decorated function."""

    def __init__(self, mode: bool) -> None:
        self._previous = grad_state.enabled
        self.mode = bool(mode)
        grad_state.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        grad_state.enabled = self._previous

    def __call__(self, fn: Any) -> Any:
        import functools

        grad_state.enabled = self._previous  # a decorator changes nothing yet

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)

        return wrapper


def inference_mode(mode: bool = True) -> Any:
    """``no_grad`` (with ``mode=False``, ``enable_grad``), as PyTorch's inference mode
    computes the same values."""
    if callable(mode):  # @inference_mode, without the parentheses
        return no_grad()(mode)
    return no_grad() if mode else enable_grad()


class Version:
    """The version counter of a tensor's memory, shared with its views: the sequence number
    of the op that last changed it in place (0: never), whether views of it exist, and weak
    references to the views made by ops (rerouted when the memory changes in place).
    A tensor gets one when it is first viewed, saved, or changed in place."""

    __slots__ = ("changed_at", "has_views", "views")

    def __init__(self) -> None:
        self.changed_at = 0
        self.has_views = False
        self.views: list = []


def version_of(t: Any) -> Version:
    """``t``'s version counter, made now if it has none yet."""
    v = t._version
    if v is None:
        v = t._version = Version()
    return v


class Context:
    """One recorded op: the node of the graph and the ``ctx`` of its forward and backward.

    Set by the tape: ``op`` (the Function class), ``inputs`` (per input: the Context
    that produced it, the leaf tensor itself, or None when it needs no gradient),
    ``seq``, and ``shape``/``dtype``/``backend`` of the output. An op may store anything
    else it needs as attributes.
    """

    __slots__ = ("op", "inputs", "seq", "shape", "dtype", "backend", "_saved", "_args",
                 "_output_version", "saved_tensors", "xp", "__dict__")
    # set when recorded, None once freed: _saved, the arrays an Op's formulas read;
    # _args, the tensors saved (an Op's inputs, or what a Function saved)

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for the backward pass (checked there for in-place changes)."""
        self._saved = tensors

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Per input, whether a gradient for it is wanted."""
        return tuple([entry is not None for entry in self.inputs])

    def __repr__(self) -> str:
        return f"<{self.op.__name__} node #{self.seq}>"


# anomaly detection (``set_detect_anomaly``): each op's gradients checked for NaN
anomaly_checks = False


class set_detect_anomaly:  # noqa: N801  (PyTorch's name)
    """Check, in every backward pass, that no op's gradient formula returns NaN: raise
    where one does, naming the op (PyTorch's error). At once when called, and back to what
    it was at the end of a ``with`` block. (PyTorch also keeps the forward traceback of
    each op; minigrad does not.)"""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        global anomaly_checks, _hooks_used
        self._previous = anomaly_checks
        anomaly_checks = bool(mode) and bool(check_nan)
        if anomaly_checks:
            _hooks_used = True  # the backward pass takes its path that looks at each node

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        global anomaly_checks
        anomaly_checks = self._previous


class detect_anomaly(set_detect_anomaly):  # noqa: N801  (PyTorch's name)
    """``with mg.autograd.detect_anomaly():``: anomaly detection inside the block."""

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__(True, check_nan)


def is_anomaly_enabled() -> bool:
    return anomaly_checks


def _refuse_nan(ctx: Context, grads: tuple) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        array = g._data if isinstance(g, Tensor) else g
        if bool(ctx.backend.any(array != array)):
            raise RuntimeError(f"Function '{ctx.op.__name__}Backward' returned nan values in "
                               f"its {i}th output.")


# Set once a hook or retain_grad is registered: from then on the backward pass looks for
# them on every node and leaf. They live on the node or leaf itself, and go with it.
_hooks_used = False


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def add_hook(key: Any, hook: Callable) -> RemovableHandle:
    """Call ``hook(grad)`` when the gradient of ``key`` (a node, or a leaf tensor) is
    complete; a tensor it returns replaces the gradient."""
    global _hooks_used
    hooks = getattr(key, "_hooks", None)
    if hooks is None:
        hooks = key._hooks = []
    hooks.append(hook)
    _hooks_used = True
    return RemovableHandle(hooks, hook)


def retain(tensor: Any) -> None:
    """Have the backward pass keep the gradient of ``tensor`` (made by an op) in its .grad."""
    global _hooks_used
    tensor._node._retained = weakref.ref(tensor)
    _hooks_used = True


def _run_hooks(key: Any, grad: Any, create_graph: bool, given: set) -> Any:
    """``grad`` of ``key`` after its hooks; kept in .grad as well if its tensor retains it.
    Arrays a hook saw or returned join ``given``, so that no leaf keeps one as its .grad
    (which later backward passes add into)."""
    for hook in list(getattr(key, "_hooks", None) or ()):
        given.add(id(grad))
        out = hook(grad if create_graph else Tensor._make(grad, key.backend))
        if out is None:
            continue
        if not isinstance(out, Tensor) or out.shape != key.shape or out.dtype != key.dtype:
            got = f"{out.shape} {out.dtype}" if isinstance(out, Tensor) else type(out).__name__
            raise RuntimeError(f"a gradient hook returned {got}; it must return None or a "
                               f"tensor of the gradient's shape {key.shape} and dtype "
                               f"{key.dtype}")
        grad = out if create_graph else out._data
        given.add(id(grad))
    ref = getattr(key, "_retained", None)
    tensor = ref() if ref is not None else None
    if tensor is not None:  # a copy of its own: the array also flows on to the inputs
        _accumulate(tensor, grad, create_graph, {id(grad)})
    return grad


def graph_error() -> RuntimeError:
    return RuntimeError(
        "Trying to backward through the graph a second time (or to use its gradients after "
        "they were freed). Pass retain_graph=True to the first backward() or mg.grad() call "
        "if you need to backward through the graph twice."
    )


def check_saved(ctx: Context) -> None:
    """Raise if a tensor saved for this op was changed in place after the op was recorded.

    A version counter holds the sequence number of the last in-place op on its tensor,
    so a saved tensor is stale exactly when that number is newer than the op's own.
    """
    seq, op = ctx.seq, ctx.op
    if op.saves_output and ctx._output_version.changed_at > seq:
        _stale(ctx, "its output", ctx._output_version.changed_at)
    for i, t in enumerate(getattr(ctx, "_args", ())):
        if isinstance(t, Tensor) and t._version is not None and t._version.changed_at > seq:
            if op.grad_uses is not None and not any(
                    i in uses for uses, entry in zip(op.grad_uses, ctx.inputs)
                    if entry is not None):
                continue  # no gradient wanted here reads it
            _stale(ctx, f"saved tensor {i}", t._version.changed_at)


def _stale(ctx: Context, which: str, changed_at: int) -> None:
    raise RuntimeError(
        f"one of the tensors needed for gradient computation has been modified by an "
        f"in-place operation: {which} of {ctx.op.__name__} (node #{ctx.seq}) was changed by "
        f"op #{changed_at}, recorded after it. Compute without the in-place op "
        f"(e.g. `x = x + y` instead of `x += y`), or clone before it."
    )


def _saved_as_tensors(ctx: Context) -> tuple:
    """What an op saved, as tensors that keep their history: the tensors a Function saved,
    or an Op's inputs and output, in that order."""
    saved = list(getattr(ctx, "_args", ()))
    if ctx.op.saves_output:
        saved.append(Tensor._make(ctx._saved[-1], ctx.backend, ctx))
    return tuple(saved)


def _call_backward(ctx: Context, grad: Any, create_graph: bool) -> tuple:
    """Run one op's gradient formula on tensors: a Function's always, an Op's when the
    backward pass is itself recorded (create_graph)."""
    op = ctx.op
    ctx.saved_tensors = _saved_as_tensors(ctx)
    ctx.xp = tensor_xp
    if not create_graph:
        grad = Tensor._make(grad, ctx.backend)
    previous, grad_state.enabled = grad_state.enabled, create_graph
    try:
        grads = op.backward(ctx, grad)
    finally:
        grad_state.enabled = previous
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(ctx.inputs):
        raise RuntimeError(
            f"{op.__name__}.backward returned {len(grads)} gradients for "
            f"{len(ctx.inputs)} inputs"
        )
    if not create_graph:
        grads = tuple(g._data if isinstance(g, Tensor) else g for g in grads)
    return grads


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
    visited: list | None = None,
) -> list:
    """Backpropagate from ``roots``: replay the recorded ops from the newest to the oldest.

    A node's gradient is complete when it leaves the heap, since every op that used its
    output was recorded later. Leaf gradients accumulate into ``.grad``; or, when
    ``capture`` maps leaves and contexts to None, they are put there and ``.grad`` is left.
    Gradients in flight are never changed in place, so several may share memory; a leaf
    keeps an array of its own in ``.grad`` (see ``_accumulate``). ``visited``, when given,
    gets each node in the order the pass took them. Returns the leaves reached.
    """
    pending: dict[Any, Any] = {}  # node or leaf -> gradient summed so far
    heap: list[tuple[int, Context]] = []
    leaves = []
    given = {id(grad) for grad in root_grads}  # arrays that are not a leaf's alone
    for root, grad in zip(roots, root_grads):
        entry = root._node or root
        if entry in pending:
            pending[entry] = pending[entry] + grad
        else:
            pending[entry] = grad
            if isinstance(entry, Context):
                heapq.heappush(heap, (-entry.seq, entry))
            else:
                leaves.append(entry)

    pop, push = heapq.heappop, heapq.heappush
    while heap:
        ctx = pop(heap)[1]
        grad = pending.pop(ctx)
        saved = ctx._saved
        if saved is None:
            raise graph_error()
        if saved and ctx.seq < last_change:
            check_saved(ctx)
        if visited is not None:
            visited.append(ctx)
            if getattr(ctx, "_hooks", None) or getattr(ctx, "_retained", None):
                tracer.fail("a gradient hook or retain_grad")
        if _hooks_used:
            grad = _run_hooks(ctx, grad, create_graph, given)
        if capture is not None and ctx in capture:
            capture[ctx] = grad
        op = ctx.op
        if op.array_level and not create_graph:  # the fast path: formulas on arrays
            ctx.saved_tensors = saved
            ctx.xp = ctx.backend
            grads = op.backward(ctx, grad)
            if not isinstance(grads, tuple):
                grads = (grads,)
        else:
            grads = _call_backward(ctx, grad, create_graph)
        if _hooks_used and anomaly_checks:
            _refuse_nan(ctx, grads)
        for entry, g in zip(ctx.inputs, grads):
            if entry is None or g is None:
                continue
            # the one broadcasting rule: sum a gradient down to its input's shape
            if g.shape != entry.shape:
                g = g.sum_to(entry.shape) if create_graph else entry.backend.sum_to(g, entry.shape)
            if g.dtype is not entry.dtype:
                g = g.astype(entry.dtype) if create_graph else entry.backend.astype(g, entry.dtype)
            previous = pending.get(entry)
            if previous is not None:
                pending[entry] = previous + g
            else:
                pending[entry] = g
                if isinstance(entry, Context):
                    push(heap, (-entry.seq, entry))
                else:
                    leaves.append(entry)
        if retain_graph:
            ctx.saved_tensors = None
        else:
            ctx._saved = ctx.saved_tensors = ctx.inputs = ctx._args = None

    for leaf in leaves:
        grad = pending[leaf]
        if _hooks_used:
            if visited is not None and getattr(leaf, "_hooks", None):
                tracer.fail("a gradient hook")
            grad = _run_hooks(leaf, grad, create_graph, given)
        if capture is not None:
            if leaf in capture:
                capture[leaf] = grad
            continue
        _accumulate(leaf, grad, create_graph, given)
    return leaves


def _own(grad: Any, backend: Any, given: set) -> Any:
    """``grad`` as an array its receiver may keep and write: itself when it is a whole
    array not handed out before (its id is not in ``given``), else a copy."""
    if id(grad) in given or not backend.owns_memory(grad):
        grad = backend.copy(grad)
    given.add(id(grad))
    return grad


def _accumulate(leaf: Tensor, grad: Any, create_graph: bool, given: set) -> None:
    """Add ``grad`` into ``leaf.grad``, which the leaf owns, as PyTorch's AccumulateGrad.

    Gradients of one pass may share memory (an addition hands the same array to both of
    its inputs), so a leaf keeps its first gradient as it is only when that array is a
    whole array of its own, not a view and not given to another leaf; else it keeps a copy.
    """
    if create_graph:  # .grad keeps its history, so it is a new tensor each time
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        return
    owned = leaf._grad  # set below without the setter's checks: the tape made it fit
    if owned is None:
        leaf._grad = Tensor._make(_own(grad, leaf.backend, given), leaf.backend)
    elif owned._requires_grad:  # a gradient with history (from create_graph) keeps it
        leaf._grad = owned + Tensor._make(grad, leaf.backend)
    else:
        owned.backend.add(owned._data, grad, out=owned._data)
        owned._bump_version()


def zero_grads(tensors: Iterable[Tensor], set_to_none: bool) -> None:
    """Clear each tensor's ``.grad``: to None, or to zeros in place, as PyTorch. A gradient
    with history (from ``create_graph``) gets new zeros instead: its array may be one the
    recorded graph still holds."""
    for t in tensors:  # its callers replay it whole under mg.compile: no setter needed
        g = t._grad
        if g is None:
            continue
        if set_to_none:
            t._grad = None
        elif g._requires_grad:
            t._grad = Tensor._make(g.backend.zeros(g.shape, g.dtype), g.backend)
        else:
            g.zero_()


def _root_grad(t: Tensor, grad: Any, create_graph: bool) -> Any:
    """The gradient a backward pass starts from: ones for a one-element tensor."""
    if not t.requires_grad:
        raise RuntimeError(
            "this tensor does not require grad and has no recorded op to backpropagate "
            "through; create the inputs with requires_grad=True"
        )
    if grad is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"backward() needs a `gradient` argument for a tensor of shape {t.shape}; "
                "it can be omitted only for a one-element tensor"
            )
        grad = t.backend.ones(t.shape, t.dtype)
    elif isinstance(grad, Tensor):
        if grad.shape != t.shape:
            raise RuntimeError(f"gradient has shape {grad.shape}, but the tensor has {t.shape}")
        if create_graph:
            return grad
        grad = grad._data
    else:
        grad = Tensor(grad, dtype=t.dtype, device=t.backend)._data
        if grad.shape != t.shape:
            raise RuntimeError(f"gradient has shape {grad.shape}, but the tensor has {t.shape}")
    return Tensor._make(grad, t.backend) if create_graph else grad


def backward(
    tensor: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradient of ``tensor`` into the ``.grad`` of the leaves it depends on."""
    if retain_graph is None:
        retain_graph = create_graph
    grad = _root_grad(tensor, gradient, create_graph)
    trace = tracer if tracer is not None and not tracer.paused else None
    if trace is not None and (gradient is not None or retain_graph or create_graph):
        trace.fail("backward() with a gradient, retain_graph or create_graph")
    if create_graph:
        with enable_grad():
            run_backward([tensor], [grad], retain_graph, create_graph)
    elif trace is not None:
        order: list = []
        trace.paused += 1  # the leaves' .grad change in place, as the replay repeats
        try:
            leaves = run_backward([tensor], [grad], retain_graph, create_graph, visited=order)
        finally:
            trace.paused -= 1
        trace.backward(tensor, order, leaves)
    else:
        run_backward([tensor], [grad], retain_graph, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, as a tuple; ``.grad`` is untouched."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if tracer is not None:
        tracer.fail("mg.grad")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("mg.grad: one of the inputs does not require grad")
    keys = [t if t._node is None else t._node for t in inputs]
    capture = dict.fromkeys(keys)
    roots = [_root_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    with enable_grad() if create_graph else no_grad():
        run_backward(outputs, roots, retain_graph, create_graph, capture)
    results = []
    given = {id(g) for g in roots}
    for i, key in enumerate(keys):
        g = capture[key]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"mg.grad: input {i} was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:
            backend = inputs[i].backend
            results.append(Tensor._make(_own(g, backend, given), backend))
    return tuple(results)


from .ops import tensor_xp  # noqa: E402  (ops and tensors build on this module)
from .tensor import Tensor  # noqa: E402
