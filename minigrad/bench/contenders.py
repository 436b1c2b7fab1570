"""Who runs the workloads: minigrad on each backend, the hand-written NumPy programs, and
PyTorch on the CPU (and CUDA where it answers).

A contender turns a workload into a function of no arguments that does one call of it,
or raises :class:`Unsupported` saying why it cannot. A contender that cannot run at all
(a backend not installed, no GPU) keeps the reason in ``skip_reason``. ``CONTENDERS`` lists
the kinds in table order; a new kind of contender is one class and one entry there.

The baselines (the hand-written programs, PyTorch) run as well as they can be made to: the
thread count fastest for each workload (raced, see ``timing.ThreadChoice``), and PyTorch's
fastest optimizer implementation (for-loop, foreach or fused). minigrad runs with what a
user gets unless asked otherwise; every row records the thread counts it ran with.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .handwritten import (
    DispatchChain,
    HandwrittenMLP,
    HandwrittenOptimizer,
    SoftmaxCrossEntropy,
    Unsupported,
    check_handwritten_gradients,
    hyperparameters,
)
from .timing import ThreadKnob, blas_knob, numba_knob, race, torch_knob
from .workloads import Workload, lenet5, minigrad_loss

HANDWRITTEN = "numpy-handwritten"
DEVICE_ALIASES = {"cpu": "numpy", "cuda": "cupy"}  # minigrad's names for its devices

Prepared = tuple[Callable[[], Any], dict[str, Any]]  # (one call of the workload, notes)


class Contender:
    """One way to run the workloads."""

    name = "?"
    kind = "?"  # "minigrad", "handwritten" or "torch"

    def __init__(self) -> None:
        self.skip_reason: str | None = None
        #: seconds a round of a race between settings lasts; None: no races (defaults)
        self.race_seconds: float | None = None

    def thread_knobs(self) -> list[ThreadKnob]:
        """The thread counts this contender runs with (recorded; set when tuned)."""
        return []

    def describe(self) -> str:
        return self.name

    def synchronize(self) -> None:
        """Wait for queued device work; runs before every clock read."""

    def compile_seconds(self) -> float | None:
        """Seconds spent so far compiling kernels (JIT backends), or None."""
        return None

    def prepare(self, workload: Workload) -> Prepared:
        builder = getattr(self, f"_{workload.name}", None)
        if builder is None:
            raise Unsupported(f"{self.name} has no {workload.name} workload")
        return builder(workload)


def _chain(x: Any, a: Any, m: Any, length: int) -> Any:
    """(add a, multiply by m, tanh), repeated to ``length`` ops, with the tensors' methods."""
    y = x
    for i in range(length):
        k = i % 3
        if k == 0:
            y = y + a
        elif k == 1:
            y = y * m
        else:
            y = y.tanh()
    return y


class TensorLibrary(Contender):
    """The workloads that read the same in minigrad and in PyTorch (their tensors share the
    operator API); a subclass says how to make a tensor."""

    def _tensor(self, array: np.ndarray, requires_grad: bool = False) -> Any:
        raise NotImplementedError

    def _dispatch(self, workload: Workload) -> Prepared:
        x0, a0, m0 = workload.data()
        x, a = self._tensor(x0, True), self._tensor(a0, True)
        m = self._tensor(m0)
        length = workload.params["length"]
        if not workload.params["backward"]:
            return (lambda: _chain(x, a, m, length)), {}

        def run() -> None:
            x.grad = a.grad = None
            _chain(x, a, m, length).sum().backward()

        return run, {}

    _dispatch_fwd = _dispatch_fwd_bwd = _dispatch

    def _matmul(self, workload: Workload) -> Prepared:
        a, b = (self._tensor(v) for v in workload.data())
        return (lambda: a @ b), {}

    def _elementwise(self, workload: Workload) -> Prepared:
        x, a, m = (self._tensor(v) for v in workload.data())
        return (lambda: ((x + a) * m).tanh()), {}


class MinigradContender(TensorLibrary):
    """minigrad on one backend, through its public API (``nn``, ``optim``, ``functional``)."""

    kind = "minigrad"

    def __init__(self, device: str, selected: bool = True) -> None:
        super().__init__()
        self.device = device
        self.name = f"minigrad[{device}]"
        self.backend: Any = None
        if not selected:
            self.skip_reason = "not selected (--devices)"
            return
        from .. import backend

        try:
            self.backend = backend.get_backend(device)
        except (backend.BackendUnavailable, ValueError) as err:
            self.skip_reason = str(err)

    def describe(self) -> str:
        return self.backend.describe() if self.backend is not None else self.name

    def thread_knobs(self) -> list[ThreadKnob]:
        if self.device not in ("numpy", "numba"):
            return []
        knobs = [blas_knob(), numba_knob() if self.device == "numba" else None]
        return [k for k in knobs if k is not None]

    def synchronize(self) -> None:
        self.backend.synchronize()

    def compile_seconds(self) -> float | None:
        seconds = getattr(self.backend, "compile_seconds", None)
        return float(seconds) if seconds is not None else None

    def _tensor(self, array: np.ndarray, requires_grad: bool = False) -> Any:
        import minigrad as mg

        return mg.tensor(array, device=self.device, requires_grad=requires_grad)

    def _softmax_xent(self, workload: Workload) -> Prepared:
        from .. import functional as F

        logits0, labels0 = workload.data()
        logits, labels = self._tensor(logits0, True), self._tensor(labels0)

        def run() -> None:
            logits.grad = None
            F.cross_entropy(logits, labels).backward()

        return run, {}

    def _optimizer_update(self, workload: Workload) -> Prepared:
        from ..nn import Parameter
        from ..training import TrainConfig, build_optimizer

        p0, g0 = workload.data()
        p = Parameter(self._tensor(p0.copy()))
        p.grad = self._tensor(g0)
        opt = build_optimizer(TrainConfig(optimizer=workload.params["optimizer"]), [p])
        return opt.step, {}

    def _mlp_step(self, workload: Workload) -> Prepared:
        from ..training import TrainConfig, build_model, build_optimizer

        problem = workload.data()
        config = TrainConfig(hidden=problem.layers[1:-1], optimizer=problem.optimizer,
                             device=self.device)
        model = build_model(config, problem.layers[0], problem.layers[-1])
        model.load_state_dict(problem.state_dict())
        opt = build_optimizer(config, model.parameters())
        loss_fn = minigrad_loss(problem.loss)
        return _training_step(model, opt, loss_fn, self._tensor(problem.x),
                              self._tensor(problem.target)), {}

    def _lenet_step(self, workload: Workload) -> Prepared:
        from .. import functional as F
        from .. import nn
        from ..training import TrainConfig, build_optimizer

        problem = workload.data()
        model = lenet5(nn, workload.params["size"]).to(self.device)
        model.load_state_dict(problem.state_dict())
        opt = build_optimizer(TrainConfig(optimizer=problem.optimizer), model.parameters())
        return _training_step(model, opt, F.cross_entropy, self._tensor(problem.x),
                              self._tensor(problem.target)), {}


class CompiledMinigradContender(MinigradContender):
    """minigrad's training steps through ``mg.compile``: recorded once, replayed after
    (the first two calls, eager and recording, are made before the clock starts)."""

    def __init__(self, device: str, selected: bool = True) -> None:
        super().__init__(device, selected)
        self.name = f"minigrad[{device}] compiled"

    def prepare(self, workload: Workload) -> Prepared:
        if workload.name not in ("mlp_step", "lenet_step"):
            raise Unsupported("mg.compile records training steps; the other rows are single "
                              "ops, the same as eager")
        import minigrad as mg

        run, notes = super().prepare(workload)
        for _ in range(2):
            run()  # first calls: JIT compilation, buffers made once
        eager = sorted(self._single_call(run)[0] for _ in range(5))[2]
        compiled = mg.compile(run)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a fallback is said in the row's notes
            compiled()  # eager
            # recorded, timed alone: the calls of the measurement replay it
            seconds, compiling = self._single_call(compiled)
        notes.update(recording_s=seconds, recording_compile_s=compiling, eager_call_s=eager)
        if compiled.fallback is not None:
            notes["compiled"] = f"runs eagerly: it uses {compiled.fallback}"
        return compiled, notes

    def _single_call(self, fn: Callable[[], Any]) -> tuple[float, float]:
        """One call of ``fn`` timed alone: its seconds without the JIT compilation it set
        off, and that compilation's seconds."""
        compiling = getattr(self.backend, "compile_seconds", 0.0)
        self.synchronize()
        start = time.perf_counter()
        fn()
        self.synchronize()
        seconds = time.perf_counter() - start
        compiling = getattr(self.backend, "compile_seconds", 0.0) - compiling
        return seconds - compiling, compiling


class HandwrittenContender(Contender):
    """Plain NumPy, every pass written out, buffers made once: the floor under minigrad[numpy].

    Before its MLP step is timed, its gradients and update are checked against minigrad's
    on the same weights and batch (``check``), and a mismatch fails the row.
    """

    kind = "handwritten"
    name = HANDWRITTEN

    def __init__(self, selected: bool = True, check: bool = True) -> None:
        super().__init__()
        self.check = check
        if not selected:
            self.skip_reason = "not selected (--no-handwritten)"

    def describe(self) -> str:
        return (f"hand-written NumPy {np.__version__} (no framework; flat parameter buffers, "
                "preallocated temporaries)")

    def thread_knobs(self) -> list[ThreadKnob]:
        knob = blas_knob()
        return [knob] if knob is not None else []

    def _dispatch(self, workload: Workload) -> Prepared:
        chain = DispatchChain(*workload.data(), workload.params["length"])
        return (chain.forward_backward if workload.params["backward"] else chain.forward), {}

    _dispatch_fwd = _dispatch_fwd_bwd = _dispatch

    def _matmul(self, workload: Workload) -> Prepared:
        a, b = workload.data()
        out = np.empty((a.shape[0], b.shape[1]), np.float32)
        return (lambda: np.matmul(a, b, out=out)), {}

    def _elementwise(self, workload: Workload) -> Prepared:
        x, a, m = workload.data()
        out = np.empty_like(x)

        def run() -> None:
            np.add(x, a, out=out)
            np.multiply(out, m, out=out)
            np.tanh(out, out=out)

        return run, {}

    def _softmax_xent(self, workload: Workload) -> Prepared:
        logits, labels = workload.data()
        loss = SoftmaxCrossEntropy(*logits.shape, dtype=logits.dtype)
        grad = np.empty_like(logits)
        return (lambda: loss(logits, labels, grad)), {}

    def _optimizer_update(self, workload: Workload) -> Prepared:
        name = workload.params["optimizer"]
        p, g = workload.data()
        opt = HandwrittenOptimizer(p.copy(), g, name, hyperparameters(name))
        return opt.step, {}

    def _mlp_step(self, workload: Workload) -> Prepared:
        problem = workload.data()
        mlp = HandwrittenMLP(problem.weights, problem.batch, problem.loss, problem.optimizer)
        notes = {}
        if self.check:
            notes["check"] = check_handwritten_gradients(problem)
        x, target = problem.x, problem.target
        return (lambda: mlp.step(x, target)), notes

    def _lenet_step(self, workload: Workload) -> Prepared:
        raise Unsupported("no hand-written LeNet-5: the hand-written programs cover the MLP "
                          "and the kernels; a convolution written out in NumPy would be "
                          "minigrad's own im2col and col2im again")


class TorchContender(TensorLibrary):
    """PyTorch on one device, eager mode; its optimizer implementation (for-loop, foreach,
    fused) the fastest of a short race when races are on, else the fused one."""

    kind = "torch"

    def __init__(self, device: str = "cpu", selected: bool = True) -> None:
        super().__init__()
        self.device = device
        self.name = f"torch[{device}]"
        self.torch: Any = None
        if not selected:
            self.skip_reason = "not selected (--no-torch)"
            return
        if importlib.util.find_spec("torch") is None:
            self.skip_reason = "PyTorch is not installed (pip install torch)"
            return
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            self.skip_reason = ("torch.cuda.is_available() is False (no CUDA GPU here, "
                                "or a CPU-only build of PyTorch)")
            return
        self.torch = torch

    def describe(self) -> str:
        torch = self.torch
        if torch is None:
            return self.name
        if self.device == "cuda":
            return f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}"
        return f"PyTorch {torch.__version__} on the CPU ({torch.get_num_threads()} threads)"

    def synchronize(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def thread_knobs(self) -> list[ThreadKnob]:
        knob = torch_knob() if self.device == "cpu" else None
        return [knob] if knob is not None else []

    def _tensor(self, array: np.ndarray, requires_grad: bool = False) -> Any:
        t = self.torch.from_numpy(np.array(array)).to(self.device)
        return t.requires_grad_(requires_grad)

    def _softmax_xent(self, workload: Workload) -> Prepared:
        F = self.torch.nn.functional
        logits0, labels0 = workload.data()
        logits, labels = self._tensor(logits0, True), self._tensor(labels0)

        def run() -> None:
            logits.grad = None
            F.cross_entropy(logits, labels).backward()

        return run, {}

    def _optimizers(self, name: str, params: list) -> dict[str, Any]:
        """Each implementation PyTorch has of optimizer ``name`` here, by label."""
        optim = self.torch.optim
        h = hyperparameters(name)
        if name == "sgd":
            cls, options = optim.SGD, {}
        elif name in ("momentum", "nesterov"):
            cls, options = optim.SGD, {"momentum": h.momentum, "nesterov": name == "nesterov"}
        elif name == "rmsprop":
            cls, options = optim.RMSprop, {}
        else:
            cls, options = (optim.AdamW if name == "adamw" else optim.Adam), {}
        out = {}
        for label, path in (("fused", {"fused": True}), ("foreach", {"foreach": True}),
                            ("for-loop", {"foreach": False})):
            try:
                out[f"{cls.__name__}({label})"] = cls(params, lr=h.lr,
                                                      weight_decay=h.weight_decay,
                                                      **options, **path)
            except (RuntimeError, TypeError, ValueError):  # not offered for this optimizer
                pass
        return out

    def _fastest(self, steps: dict[str, Callable[[], Any]]) -> Prepared:
        """The fastest of ``steps`` (one per optimizer implementation), with notes saying
        which ran; the first offered when races are off."""
        if self.race_seconds is None or len(steps) == 1:
            label = next(iter(steps))
            return steps[label], {"optimizer": label}
        best, medians = race({label: (None, fn) for label, fn in steps.items()},
                             self.synchronize, seconds=self.race_seconds)
        return steps[best], {"optimizer": best, "optimizer_tried_s": medians}

    def _optimizer_update(self, workload: Workload) -> Prepared:
        p0, g0 = workload.data()
        p = self.torch.nn.Parameter(self._tensor(p0))
        p.grad = self._tensor(g0)
        opts = self._optimizers(workload.params["optimizer"], [p])
        return self._fastest({label: opt.step for label, opt in opts.items()})

    def _loss(self, name: str) -> Callable[[Any, Any], Any]:
        F = self.torch.nn.functional
        return {
            "cross_entropy": F.cross_entropy,
            "multi_margin": F.multi_margin_loss,
            "hinge": lambda out, target: (1 - target * out).clamp(min=0).mean(),
            "bce_with_logits": F.binary_cross_entropy_with_logits,
            "mse": F.mse_loss,
            "l1": F.l1_loss,
            "huber": F.huber_loss,
        }[name]

    def _mlp_step(self, workload: Workload) -> Prepared:
        nn = self.torch.nn
        problem = workload.data()
        layers: list[Any] = []
        for i, (n_in, n_out) in enumerate(zip(problem.layers[:-1], problem.layers[1:])):
            if i:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(n_in, n_out))
        model = nn.Sequential(*layers).to(self.device)
        model.load_state_dict({k: self.torch.from_numpy(v)
                               for k, v in problem.state_dict().items()})
        loss_fn = self._loss(problem.loss)
        x, target = self._tensor(problem.x), self._tensor(problem.target)
        opts = self._optimizers(problem.optimizer, list(model.parameters()))
        return self._fastest({label: _training_step(model, opt, loss_fn, x, target)
                              for label, opt in opts.items()})

    def _lenet_step(self, workload: Workload) -> Prepared:
        problem = workload.data()
        model = lenet5(self.torch.nn, workload.params["size"]).to(self.device)
        model.load_state_dict({k: self.torch.from_numpy(v)
                               for k, v in problem.state_dict().items()})
        x, target = self._tensor(problem.x), self._tensor(problem.target)
        opts = self._optimizers(problem.optimizer, list(model.parameters()))
        loss_fn = self.torch.nn.functional.cross_entropy
        return self._fastest({label: _training_step(model, opt, loss_fn, x, target)
                              for label, opt in opts.items()})


def _training_step(model: Any, opt: Any, loss_fn: Callable, x: Any, target: Any) -> Callable:
    """One step (forward, loss, backward, update) written the same for minigrad and PyTorch."""

    def step() -> None:
        loss = loss_fn(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _minigrad_contenders(options: dict[str, Any]) -> list[Contender]:
    """minigrad on every backend it knows (or those of ``devices``; the rest are listed
    as not selected), and on any device named that it does not know."""
    from .. import backend

    devices = options["devices"]
    known = backend.known_devices()
    wanted = known if devices is None else [DEVICE_ALIASES.get(d, d) for d in devices]
    names = list(dict.fromkeys([*known, *wanted]))
    return [MinigradContender(name, selected=name in wanted) for name in names]


def _compiled_contenders(options: dict[str, Any]) -> list[Contender]:
    """The compiled step on the host backends selected (a GPU's wants its CUDA graph)."""
    devices = options["devices"]
    wanted = ("numpy", "numba") if devices is None else [
        d for d in (DEVICE_ALIASES.get(d, d) for d in devices) if d in ("numpy", "numba")]
    return [CompiledMinigradContender(name) for name in wanted]


def _handwritten_contenders(options: dict[str, Any]) -> list[Contender]:
    return [HandwrittenContender(selected=options["handwritten"], check=options["check"])]


def _torch_contenders(options: dict[str, Any]) -> list[Contender]:
    return [TorchContender(device, selected=options["torch"]) for device in ("cpu", "cuda")]


#: the kinds of contender, in table order: each makes its contenders from the options
CONTENDERS: list[Callable[[dict[str, Any]], list[Contender]]] = [
    _minigrad_contenders,
    _compiled_contenders,
    _handwritten_contenders,
    _torch_contenders,
]


def discover(devices: tuple[str, ...] | None = None, torch: bool = True,
             handwritten: bool = True, check: bool = True,
             race_seconds: float | None = None) -> list[Contender]:
    """Every contender, in table order, each usable or carrying the reason it is not.

    ``devices`` selects minigrad backends (None: every backend minigrad knows of; the ones
    not usable here are listed with the reason). ``race_seconds``: the length of a round
    of the races that pick a baseline's fastest implementation (None: no races).
    """
    options = {"devices": devices, "torch": torch, "handwritten": handwritten, "check": check}
    out = [c for make in CONTENDERS for c in make(options)]
    for c in out:
        if c.kind != "minigrad":
            c.race_seconds = race_seconds
    return out
