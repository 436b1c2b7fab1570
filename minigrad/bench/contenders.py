"""Who runs the workloads: minigrad on each backend, the hand-written NumPy programs, and
PyTorch on the CPU (and CUDA where it answers).

A contender turns a workload into a function of no arguments that does one call of it,
or raises :class:`Unsupported` saying why it cannot. A contender that cannot run at all
(a backend not installed, no GPU) keeps the reason in ``skip_reason``.
"""

from __future__ import annotations

import importlib.util
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
from .workloads import Workload, minigrad_loss

HANDWRITTEN = "numpy-handwritten"
DEVICE_ALIASES = {"cpu": "numpy", "cuda": "cupy"}  # minigrad's names for its devices

Prepared = tuple[Callable[[], Any], dict[str, Any]]  # (one call of the workload, notes)


class Contender:
    """One way to run the workloads."""

    name = "?"
    kind = "?"  # "minigrad", "handwritten" or "torch"

    def __init__(self) -> None:
        self.skip_reason: str | None = None

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
        return f"hand-written NumPy {np.__version__} (no framework, preallocated buffers)"

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
        return SoftmaxCrossEntropy(*workload.data()), {}

    def _optimizer_update(self, workload: Workload) -> Prepared:
        name = workload.params["optimizer"]
        p, g = workload.data()
        opt = HandwrittenOptimizer([p.copy()], name, hyperparameters(name))
        grads = [g]
        return (lambda: opt.step(grads)), {}

    def _mlp_step(self, workload: Workload) -> Prepared:
        problem = workload.data()
        mlp = HandwrittenMLP(problem.weights, problem.batch, problem.loss, problem.optimizer)
        notes = {}
        if self.check:
            notes["check"] = check_handwritten_gradients(problem)
        x, target = problem.x, problem.target
        return (lambda: mlp.step(x, target)), notes


class TorchContender(TensorLibrary):
    """PyTorch on one device, eager mode, its default settings (threads, optimizer paths)."""

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

    def _optimizer(self, name: str, params: list) -> Any:
        optim = self.torch.optim
        h = hyperparameters(name)
        if name == "sgd":
            return optim.SGD(params, lr=h.lr, weight_decay=h.weight_decay)
        if name in ("momentum", "nesterov"):
            return optim.SGD(params, lr=h.lr, momentum=h.momentum, weight_decay=h.weight_decay,
                             nesterov=name == "nesterov")
        if name == "rmsprop":
            return optim.RMSprop(params, lr=h.lr, weight_decay=h.weight_decay)
        adam = optim.AdamW if name == "adamw" else optim.Adam
        try:  # PyTorch's fastest Adam: one fused kernel over all parameters
            return adam(params, lr=h.lr, weight_decay=h.weight_decay, fused=True)
        except (RuntimeError, TypeError):
            return adam(params, lr=h.lr, weight_decay=h.weight_decay)

    def _optimizer_update(self, workload: Workload) -> Prepared:
        p0, g0 = workload.data()
        p = self.torch.nn.Parameter(self._tensor(p0))
        p.grad = self._tensor(g0)
        opt = self._optimizer(workload.params["optimizer"], [p])
        return opt.step, {}

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
        opt = self._optimizer(problem.optimizer, list(model.parameters()))
        loss_fn = self._loss(problem.loss)
        return _training_step(model, opt, loss_fn, self._tensor(problem.x),
                              self._tensor(problem.target)), {}


def _training_step(model: Any, opt: Any, loss_fn: Callable, x: Any, target: Any) -> Callable:
    """One step (forward, loss, backward, update) written the same for minigrad and PyTorch."""

    def step() -> None:
        loss = loss_fn(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def discover(devices: tuple[str, ...] | None = None, torch: bool = True,
             handwritten: bool = True, check: bool = True) -> list[Contender]:
    """Every contender, in table order, each usable or carrying the reason it is not.

    ``devices`` selects minigrad backends (None: every backend minigrad knows of; the ones
    not usable here are listed with the reason).
    """
    from .. import backend

    torches = [TorchContender("cpu", selected=torch), TorchContender("cuda", selected=torch)]
    known = backend.known_devices()
    wanted = known if devices is None else [DEVICE_ALIASES.get(d, d) for d in devices]
    names = list(dict.fromkeys([*known, *wanted]))
    out: list[Contender] = [MinigradContender(name, selected=name in wanted) for name in names]
    out.append(HandwrittenContender(selected=handwritten, check=check))
    return out + torches
