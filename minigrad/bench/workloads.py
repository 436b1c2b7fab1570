"""What the bench times: per-op dispatch, single kernels, and whole MLP and LeNet-5 training
steps.

A :class:`Workload` names the work, its size and the unit its time is given per (one op of
the dispatch chain, one kernel call, one optimizer update, one training step); the input
data are made here once, from a seed, so that every contender gets the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .handwritten import MLPProblem

#: the groups of workloads, in the order they run
GROUPS = ("dispatch", "kernels", "mlp", "cnn")
#: every workload, by group
WORKLOADS = {
    "dispatch": ("dispatch_fwd", "dispatch_fwd_bwd"),
    "kernels": ("matmul", "elementwise", "softmax_xent", "optimizer_update"),
    "mlp": ("mlp_step",),
    "cnn": ("lenet_step",),
}
#: the MLPs used across the project: layer sizes and batch size
PROJECT_MODELS = (
    ((2, 16, 16, 1), 32),
    ((64, 128, 10), 64),
    ((784, 512, 256, 10), 256),
    ((784, 2048, 2048, 10), 512),
)
#: the model ``--quick`` leaves out
LARGEST_MODEL = PROJECT_MODELS[-1]
DEFAULT_BATCH = 64

REGRESSION_LOSSES = ("mse", "l1", "huber")
CLASS_LOSSES = ("cross_entropy", "multi_margin")
BINARY_LOSSES = ("hinge", "bce_with_logits")
LOSSES = ("auto", *CLASS_LOSSES, *BINARY_LOSSES, *REGRESSION_LOSSES)


@dataclass
class Workload:
    """One thing to time. ``time / items`` is reported, per ``unit``."""

    name: str
    group: str
    size: str  # a label such as "512x512" or "784-512-256-10 batch 256"
    unit: str  # what one item is: "op", "call", "update", "step"
    items: int = 1  # items per call (the ops of one pass over the dispatch chain)
    params: dict[str, Any] = field(default_factory=dict)
    skip_reason: str | None = None  # set when no contender can run it (a loss that misfits)
    make: Callable[[], Any] | None = field(default=None, repr=False)  # the shared inputs

    def data(self) -> Any:
        """The inputs every contender starts from (made on first use, then kept)."""
        if not hasattr(self, "_data"):
            self._data = self.make() if self.make is not None else None
        return self._data

    def release(self) -> None:
        """Drop the inputs (large for the big updates) once every contender has run."""
        if hasattr(self, "_data"):
            del self._data


# losses


def model_loss(loss: str, outputs: int) -> tuple[str | None, str | None]:
    """(the loss to use for a model with ``outputs`` outputs, or None with the reason)."""
    if loss == "auto":
        return ("mse" if outputs == 1 else "cross_entropy"), None
    if loss in CLASS_LOSSES and outputs < 2:
        return None, f"loss {loss!r} needs two or more outputs (classes), the model has 1"
    if loss in BINARY_LOSSES and outputs != 1:
        return None, f"loss {loss!r} is binary and needs one output, the model has {outputs}"
    return loss, None


def make_target(loss: str, rng: np.random.Generator, batch: int, outputs: int) -> np.ndarray:
    """A random target for ``loss``: class indices, {0, 1}, {-1, +1}, or real numbers."""
    if loss in CLASS_LOSSES:
        return rng.integers(0, outputs, size=batch).astype(np.int64)
    if loss == "bce_with_logits":
        return rng.integers(0, 2, size=(batch, 1)).astype(np.float32)
    if loss == "hinge":
        return (rng.integers(0, 2, size=(batch, 1)) * 2 - 1).astype(np.float32)
    return rng.standard_normal((batch, outputs)).astype(np.float32)


def minigrad_loss(loss: str) -> Callable[[Any, Any], Any]:
    """minigrad's function for ``loss``, called as ``fn(output, target)``."""
    from .. import functional as F

    return {
        "cross_entropy": F.cross_entropy,
        "multi_margin": F.multi_margin_loss,
        "hinge": F.hinge_loss,
        "bce_with_logits": F.binary_cross_entropy_with_logits,
        "mse": F.mse_loss,
        "l1": F.l1_loss,
        "huber": F.huber_loss,
    }[loss]


# the MLP problems


def parse_model(text: str) -> tuple[tuple[int, ...], int]:
    """``"784-512-256-10@256"`` -> ((784, 512, 256, 10), 256); the batch defaults to the
    project's for its four models, else to 64."""
    sizes_text, _, batch_text = text.strip().partition("@")
    try:
        layers = tuple(int(n) for n in sizes_text.split("-"))
        batch = int(batch_text) if batch_text else None
    except ValueError:
        raise ValueError(f"expected a model like 784-512-256-10 or 64-128-10@64, "
                         f"got {text!r}") from None
    if len(layers) < 2 or any(n < 1 for n in layers) or (batch is not None and batch < 1):
        raise ValueError(f"a model needs two or more positive layer sizes and a positive "
                         f"batch, got {text!r}")
    if batch is None:
        batch = dict(PROJECT_MODELS).get(layers, DEFAULT_BATCH)
    return layers, batch


def model_label(layers: tuple[int, ...], batch: int) -> str:
    return f"{'-'.join(map(str, layers))} batch {batch}"


def make_mlp_problem(layers: tuple[int, ...], batch: int, loss: str = "auto",
                     optimizer: str = "adam", seed: int = 0) -> MLPProblem:
    """Weights drawn as ``nn.Linear`` draws them (uniform in +-1/sqrt(fan_in)), a batch of
    standard normal inputs and a random target, all from ``seed``."""
    name, reason = model_loss(loss, layers[-1])
    if name is None:
        raise ValueError(reason)
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        bound = 1 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, size=(n_out, n_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, size=n_out).astype(np.float32)
        weights.append((w, b))
    x = rng.standard_normal((batch, layers[0])).astype(np.float32)
    target = make_target(name, rng, batch, layers[-1])
    n_params = sum(w.size + b.size for w, b in weights)
    return MLPProblem(layers=tuple(layers), weights=weights, x=x, target=target, loss=name,
                      optimizer=optimizer, info={"parameters": int(n_params)})


# the LeNet-5 problem


def lenet5(nn: ModuleType, size: int = 28, classes: int = 10) -> Any:
    """LeNet-5 with ReLU and max-pooling, for 1 x size x size images, built from ``nn``:
    ``minigrad.nn`` or ``torch.nn`` (their layers and parameter names are the same)."""
    side = lenet_side(size)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, classes),
    )


def lenet_side(size: int) -> int:
    """The side of LeNet-5's last feature maps for ``size`` x ``size`` images (5 for 28)."""
    side = (size // 2 - 4) // 2
    if side < 1:
        raise ValueError(f"LeNet-5 needs images of 12x12 or larger, got {size}x{size}")
    return side


@dataclass
class LeNetProblem:
    """One LeNet-5 training problem: weights under ``nn.Sequential``'s names, a batch of
    images (N, 1, size, size), class labels, and the optimizer (the loss is cross-entropy)."""

    state: dict[str, np.ndarray]
    x: np.ndarray
    target: np.ndarray
    optimizer: str

    def state_dict(self) -> dict[str, np.ndarray]:
        return self.state


def make_lenet_problem(size: int = 28, batch: int = DEFAULT_BATCH, optimizer: str = "adam",
                       seed: int = 0, classes: int = 10) -> LeNetProblem:
    """Weights drawn as the layers draw them (uniform in +-1/sqrt(fan_in)), uniform images
    in [0, 1) and random labels, all from ``seed``."""
    side = lenet_side(size)
    shapes = {"0": (6, 1, 5, 5), "3": (16, 6, 5, 5), "7": (120, 16 * side * side),
              "9": (84, 120), "11": (classes, 84)}
    rng = np.random.default_rng(seed)
    state = {}
    for name, shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        state[f"{name}.weight"] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        state[f"{name}.bias"] = rng.uniform(-bound, bound, size=shape[0]).astype(np.float32)
    x = rng.random((batch, 1, size, size), dtype=np.float32)
    target = rng.integers(0, classes, size=batch).astype(np.int64)
    return LeNetProblem(state=state, x=x, target=target, optimizer=optimizer)


# the workload list


def select(config: Any) -> list[Workload]:
    """The workloads ``config`` (a BenchConfig) asks for, in running order."""
    seed = config.seed
    wanted = config.selected_workloads()
    out: list[Workload] = []
    if "dispatch_fwd" in wanted or "dispatch_fwd_bwd" in wanted:
        length = config.chain_length

        def chain_inputs() -> tuple[np.ndarray, ...]:
            rng = np.random.default_rng(seed)
            x, a, m = (rng.standard_normal(4).astype(np.float32) for _ in range(3))
            return x, a, m * np.float32(0.5)

        for name, what in (("dispatch_fwd", "forward"), ("dispatch_fwd_bwd", "forward+backward")):
            if name in wanted:
                out.append(Workload(name, "dispatch", f"(4,) x {length} ops, {what}", "op",
                                    items=length, params={"shape": [4], "length": length,
                                                          "backward": name.endswith("bwd")},
                                    make=chain_inputs))
    if "matmul" in wanted:
        n = config.matmul_size

        def matmul_inputs(n: int = n) -> tuple[np.ndarray, np.ndarray]:
            rng = np.random.default_rng(seed)
            return (rng.standard_normal((n, n), dtype=np.float32),
                    rng.standard_normal((n, n), dtype=np.float32))

        out.append(Workload("matmul", "kernels", f"{n}x{n} @ {n}x{n}", "call",
                            params={"n": n, "dtype": "float32"}, make=matmul_inputs))
    if "elementwise" in wanted:
        n = config.elementwise_size

        def elementwise_inputs(n: int = n) -> tuple[np.ndarray, ...]:
            rng = np.random.default_rng(seed)
            return tuple(rng.standard_normal(n, dtype=np.float32) for _ in range(3))

        out.append(Workload("elementwise", "kernels", f"tanh((x+a)*m), {n:,} floats",
                            "call", params={"n": n, "ops": ["add", "mul", "tanh"]},
                            make=elementwise_inputs))
    if "softmax_xent" in wanted:
        rows, classes = config.softmax_shape

        def softmax_inputs(rows: int = rows, classes: int = classes) -> tuple[np.ndarray, ...]:
            rng = np.random.default_rng(seed)
            return (rng.standard_normal((rows, classes), dtype=np.float32),
                    rng.integers(0, classes, size=rows).astype(np.int64))

        out.append(Workload("softmax_xent", "kernels",
                            f"{rows}x{classes} logits, forward+backward", "call",
                            params={"rows": rows, "classes": classes}, make=softmax_inputs))
    if "optimizer_update" in wanted:
        for n in config.update_sizes:
            def update_inputs(n: int = n) -> tuple[np.ndarray, np.ndarray]:
                rng = np.random.default_rng(seed)
                return (rng.standard_normal(n, dtype=np.float32),
                        rng.standard_normal(n, dtype=np.float32) * np.float32(1e-2))

            out.append(Workload("optimizer_update", "kernels",
                                f"{config.optimizer}, {_count(n)} params", "update",
                                params={"n": n, "optimizer": config.optimizer},
                                make=update_inputs))
    if "mlp_step" in wanted:
        for layers, batch in config.models:
            loss, reason = model_loss(config.loss, layers[-1])

            def mlp_inputs(layers: tuple[int, ...] = layers, batch: int = batch,
                           loss: str | None = loss) -> MLPProblem:
                return make_mlp_problem(layers, batch, loss or "auto", config.optimizer, seed)

            n_params = sum(a * b + b for a, b in zip(layers[:-1], layers[1:]))
            out.append(Workload("mlp_step", "mlp", model_label(layers, batch), "step",
                                params={"layers": list(layers), "batch": batch,
                                        "loss": loss or config.loss,
                                        "optimizer": config.optimizer,
                                        "parameters": n_params},
                                skip_reason=reason, make=mlp_inputs))
    if "lenet_step" in wanted:
        size, batch = config.lenet_size, config.lenet_batch

        def lenet_inputs(size: int = size, batch: int = batch) -> LeNetProblem:
            return make_lenet_problem(size, batch, config.optimizer, seed)

        n_params = sum(a.size for a in make_lenet_problem(size, 1).state.values())
        out.append(Workload("lenet_step", "cnn", f"LeNet-5 {size}x{size} batch {batch}", "step",
                            params={"size": size, "batch": batch, "loss": "cross_entropy",
                                    "optimizer": config.optimizer, "parameters": n_params},
                            make=lenet_inputs))
    return out


def _count(n: int) -> str:
    """10000000 -> "10M", 1500 -> "1.5k"."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:g}{suffix}"
    return str(n)
