"""The hand-written NumPy programs: what a NumPy framework costs at the very least.

No tape, no tensors, no dispatch: explicit forward and backward passes and the optimizer
updates written out with NumPy calls into buffers allocated once. The MLP training step
here is the floor that any framework on NumPy sits on; :func:`check_handwritten_gradients`
shows that it computes what minigrad computes (the bench runs it before timing, the tests
call it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: losses the hand-written step implements (``multi_margin`` is left to the frameworks)
LOSSES = ("mse", "l1", "huber", "cross_entropy", "bce_with_logits", "hinge")
#: optimizers the hand-written step implements, with the hyperparameters of ``minigrad train``
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")


class Unsupported(Exception):
    """A contender cannot run this workload; the message says why."""


# losses: value and gradient with respect to the model output, means over all elements


def loss_and_grad(name: str, out: np.ndarray, target: np.ndarray, grad: np.ndarray,
                  scratch: np.ndarray) -> float:
    """The loss ``name`` of ``out`` (mean reduction); its gradient is written into ``grad``.

    ``scratch`` is a buffer of ``out``'s shape. Targets: class indices (int) for
    cross_entropy, floats of ``out``'s shape otherwise ({0, 1} for bce_with_logits,
    {-1, +1} for hinge).
    """
    n = out.size
    if name == "cross_entropy":
        return _cross_entropy(out, target, grad, scratch)
    if name in ("mse", "l1", "huber"):
        np.subtract(out, target, out=scratch)  # d = out - target
        if name == "mse":  # mean d^2; d/dout = 2 d / n
            np.multiply(scratch, 2.0 / n, out=grad)
            return float(np.vdot(scratch, scratch)) / n
        if name == "l1":  # mean |d|; d/dout = sign(d) / n (0 where equal)
            np.sign(scratch, out=grad)
            grad *= 1.0 / n
            return float(np.abs(scratch).sum()) / n
        # huber, delta 1: 0.5 d^2 where |d| < 1, else |d| - 0.5; d/dout = clip(d, -1, 1) / n
        size = np.abs(scratch)
        value = np.where(size < 1.0, 0.5 * scratch * scratch, size - 0.5).sum()
        np.clip(scratch, -1.0, 1.0, out=grad)
        grad *= 1.0 / n
        return float(value) / n
    if name == "bce_with_logits":
        # max(x, 0) - x t + log(1 + exp(-|x|)); d/dx = sigmoid(x) - t
        np.abs(out, out=scratch)
        np.negative(scratch, out=scratch)
        np.exp(scratch, out=scratch)  # e = exp(-|x|)
        value = (np.maximum(out, 0) - out * target + np.log1p(scratch)).sum()
        np.add(scratch, 1.0, out=grad)
        np.divide(np.where(out >= 0, 1.0, scratch), grad, out=grad)  # sigmoid(x), stably
        grad -= target
        grad *= 1.0 / n
        return float(value) / n
    if name == "hinge":
        # max(0, 1 - t x); d/dx = -t where 1 - t x > 0, else 0
        np.multiply(out, target, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        np.greater(scratch, 0, out=grad, casting="unsafe")
        grad *= target
        grad *= -1.0 / n
        np.maximum(scratch, 0, out=scratch)
        return float(scratch.sum()) / n
    raise Unsupported(f"the hand-written step has no {name!r} loss "
                      f"(it implements {', '.join(LOSSES)})")


def _cross_entropy(logits: np.ndarray, labels: np.ndarray, grad: np.ndarray,
                   scratch: np.ndarray) -> float:
    """Mean softmax cross-entropy over the rows; d/dlogits = (softmax - onehot) / rows."""
    rows = logits.shape[0]
    top = logits.max(axis=1, keepdims=True)
    np.subtract(logits, top, out=scratch)
    picked = scratch[np.arange(rows), labels]  # shifted logit of the true class
    np.exp(scratch, out=grad)
    total = grad.sum(axis=1, keepdims=True)
    value = float(np.log(total).sum() - picked.sum()) / rows
    np.divide(grad, total, out=grad)
    grad[np.arange(rows), labels] -= 1.0
    grad *= 1.0 / rows
    return value


class SoftmaxCrossEntropy:
    """Softmax cross-entropy of a fixed batch of logits, forward and backward, in buffers."""

    def __init__(self, logits: np.ndarray, labels: np.ndarray) -> None:
        self.logits, self.labels = logits, labels
        self.grad = np.empty_like(logits)
        self.scratch = np.empty_like(logits)

    def __call__(self) -> float:
        return _cross_entropy(self.logits, self.labels, self.grad, self.scratch)


# the optimizers


@dataclass
class Hyperparameters:
    """The options of ``minigrad train``'s optimizers (``training.build_optimizer``)."""

    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    alpha: float = 0.99


class HandwrittenOptimizer:
    """PyTorch's update rules over NumPy arrays, in place, with every buffer made once."""

    def __init__(self, params: Sequence[np.ndarray], name: str,
                 hyper: Hyperparameters | None = None) -> None:
        if name not in OPTIMIZERS:
            raise Unsupported(f"the hand-written step has no {name!r} optimizer "
                              f"(it implements {', '.join(OPTIMIZERS)})")
        self.params = list(params)
        self.name = name
        self.hyper = hyper or Hyperparameters()
        self.t = 0
        self.scratch = [np.empty_like(p) for p in self.params]
        keep = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
        self.buffers = [[np.zeros_like(p) for p in self.params] for _ in range(keep[name])]
        if name == "nesterov" or name == "adamw":
            self.scratch2 = [np.empty_like(p) for p in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        self.t += 1
        update = getattr(self, f"_{self.name}")
        for i, (p, g) in enumerate(zip(self.params, grads)):
            update(i, p, g)

    def _decayed(self, i: int, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """g + weight_decay * p (L2), in a scratch buffer when there is decay."""
        wd = self.hyper.weight_decay
        if wd == 0:
            return g
        s = self.scratch[i]
        np.multiply(p, wd, out=s)
        s += g
        return s

    def _sgd(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        g = self._decayed(i, p, g)
        s = self.scratch[i]
        np.multiply(g, -self.hyper.lr, out=s)  # p = p - lr g
        p += s

    def _momentum(self, i: int, p: np.ndarray, g: np.ndarray, nesterov: bool = False) -> None:
        h = self.hyper
        g = self._decayed(i, p, g)
        buf = self.buffers[0][i]
        if self.t == 1:  # buf = g on the first step, as PyTorch
            np.copyto(buf, g)
        else:  # buf = momentum buf + g
            buf *= h.momentum
            buf += g
        direction = buf
        if nesterov:  # d = g + momentum buf
            direction = self.scratch2[i]
            np.multiply(buf, h.momentum, out=direction)
            direction += g
        s = self.scratch[i]
        np.multiply(direction, -h.lr, out=s)
        p += s

    def _nesterov(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        self._momentum(i, p, g, nesterov=True)

    def _rmsprop(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        # v = alpha v + (1 - alpha) g^2; p = p - lr g / (sqrt(v) + eps)
        h = self.hyper
        g = self._decayed(i, p, g)
        v, s = self.buffers[0][i], self.scratch[i]
        np.multiply(g, g, out=s)
        s *= 1 - h.alpha
        v *= h.alpha
        v += s
        np.sqrt(v, out=s)
        s += h.eps
        np.divide(g, s, out=s)
        s *= -h.lr
        p += s

    def _adam(self, i: int, p: np.ndarray, g: np.ndarray, decoupled: bool = False) -> None:
        # m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2
        # p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        h = self.hyper
        beta1, beta2 = h.betas
        if decoupled:  # AdamW: p = p (1 - lr wd), then Adam on the plain gradient
            p *= 1 - h.lr * h.weight_decay
        else:
            g = self._decayed(i, p, g)
        m, v = self.buffers[0][i], self.buffers[1][i]
        s = self.scratch2[i] if decoupled else self.scratch[i]
        m *= beta1
        np.multiply(g, 1 - beta1, out=s)
        m += s
        v *= beta2
        np.multiply(g, g, out=s)
        s *= 1 - beta2
        v += s
        np.sqrt(v, out=s)
        s *= 1 / (1 - beta2**self.t) ** 0.5
        s += h.eps
        np.divide(m, s, out=s)
        s *= -h.lr / (1 - beta1**self.t)
        p += s

    def _adamw(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        self._adam(i, p, g, decoupled=True)


def hyperparameters(optimizer: str) -> Hyperparameters:
    """The hyperparameters ``minigrad train`` gives ``optimizer`` (its learning rate, the
    momentum of SGD with momentum, AdamW's default decay)."""
    from ..training import TrainConfig

    config = TrainConfig(optimizer=optimizer)
    decay = config.weight_decay or (1e-2 if optimizer == "adamw" else 0.0)
    return Hyperparameters(lr=float(config.lr), momentum=config.momentum, weight_decay=decay)


# the MLP


class HandwrittenMLP:
    """Linear layers with ReLU between them, forward and backward by hand.

    ``weights`` holds (W, b) per layer, W of shape (out, in) as in ``nn.Linear``; the
    arrays are copied. Every activation, gradient and optimizer buffer is allocated here,
    once, for batches of ``batch`` rows.
    """

    def __init__(self, weights: Sequence[tuple[np.ndarray, np.ndarray]], batch: int,
                 loss: str, optimizer: str, hyper: Hyperparameters | None = None) -> None:
        if loss not in LOSSES:
            raise Unsupported(f"the hand-written step has no {loss!r} loss "
                              f"(it implements {', '.join(LOSSES)})")
        self.loss = loss
        self.W = [np.array(w, dtype=np.float32) for w, _ in weights]
        self.b = [np.array(b, dtype=np.float32) for _, b in weights]
        widths = [w.shape[0] for w in self.W]
        self.h = [np.empty((batch, n), np.float32) for n in widths]  # layer outputs
        self.d = [np.empty((batch, n), np.float32) for n in widths]  # d loss / d pre-activation
        self.mask = [np.empty((batch, n), bool) for n in widths[:-1]]
        self.scratch = np.empty((batch, widths[-1]), np.float32)
        self.gW = [np.empty_like(w) for w in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        self.optimizer = HandwrittenOptimizer(self.parameters(), optimizer,
                                              hyper or hyperparameters(optimizer))

    def parameters(self) -> list[np.ndarray]:
        """W0, b0, W1, b1, ...: the order of ``nn.Sequential(...).parameters()``."""
        return [a for pair in zip(self.W, self.b) for a in pair]

    def gradients(self) -> list[np.ndarray]:
        return [a for pair in zip(self.gW, self.gb) for a in pair]

    def forward_backward(self, x: np.ndarray, target: np.ndarray) -> float:
        """The loss of the batch; leaves every parameter's gradient in ``gradients()``."""
        last = len(self.W) - 1
        a = x
        for i, (w, b, h) in enumerate(zip(self.W, self.b, self.h)):
            np.matmul(a, w.T, out=h)  # z = a W^T + b
            h += b
            if i < last:
                np.maximum(h, 0, out=h)  # relu
            a = h
        value = loss_and_grad(self.loss, self.h[last], target, self.d[last], self.scratch)
        for i in range(last, -1, -1):
            d = self.d[i]
            a = x if i == 0 else self.h[i - 1]
            np.matmul(d.T, a, out=self.gW[i])  # dW = d^T a
            np.sum(d, axis=0, out=self.gb[i])  # db = sum of d over the batch
            if i > 0:
                prev = self.d[i - 1]
                np.matmul(d, self.W[i], out=prev)  # da = d W
                np.greater(self.h[i - 1], 0, out=self.mask[i - 1])  # relu'(z) = [z > 0]
                np.multiply(prev, self.mask[i - 1], out=prev)
        return value

    def step(self, x: np.ndarray, target: np.ndarray) -> float:
        """One training step: forward, loss, backward, optimizer update; returns the loss."""
        value = self.forward_backward(x, target)
        self.optimizer.step(self.gradients())
        return value


# the dispatch chain


class DispatchChain:
    """The per-op chain (add a vector, multiply by a vector, tanh, repeated) on small arrays,
    with the backward pass written out: the cost of the NumPy calls alone."""

    def __init__(self, x: np.ndarray, a: np.ndarray, m: np.ndarray, length: int) -> None:
        self.x, self.a, self.m, self.length = x, a, m, length

    def forward(self) -> list[np.ndarray]:
        outs = []
        y = self.x
        for i in range(self.length):
            k = i % 3
            if k == 0:
                y = y + self.a
            elif k == 1:
                y = y * self.m
            else:
                y = np.tanh(y)
            outs.append(y)
        return outs

    def forward_backward(self) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of sum(chain(x)) with respect to x and a."""
        outs = self.forward()
        g = np.ones_like(self.x)
        ga = np.zeros_like(self.a)
        for i in range(self.length - 1, -1, -1):
            k = i % 3
            if k == 0:
                ga = ga + g
            elif k == 1:
                g = g * self.m
            else:
                g = g - g * outs[i] * outs[i]  # d/dy tanh(y) = 1 - tanh(y)^2
        return g, ga


# the correctness guard


@dataclass
class MLPProblem:
    """One MLP training problem: its layer sizes, weights, a batch, the loss and optimizer."""

    layers: tuple[int, ...]
    weights: list[tuple[np.ndarray, np.ndarray]]
    x: np.ndarray
    target: np.ndarray
    loss: str
    optimizer: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def batch(self) -> int:
        return self.x.shape[0]

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights under ``nn.Sequential``'s names (Linear layers at 0, 2, 4, ...)."""
        state = {}
        for i, (w, b) in enumerate(self.weights):
            state[f"{2 * i}.weight"] = w
            state[f"{2 * i}.bias"] = b
        return state


class GradientMismatch(AssertionError):
    """The hand-written step does not compute what minigrad computes."""


def check_handwritten_gradients(problem: MLPProblem, steps: int = 2, rtol: float = 1e-5,
                                device: str = "numpy") -> dict[str, Any]:
    """Compare the hand-written step with minigrad's on the same weights and batch.

    For ``steps`` steps: the losses, every parameter's gradient, and the parameters after
    the optimizer update (the hand-written optimizer gets minigrad's gradients, so that the
    update is compared on its own). An array passes when
    ``|hand - minigrad| <= rtol * (|minigrad| + max |minigrad|)``, a relative tolerance that
    does not fail on entries that cancel to nearly zero. Returns the largest errors, in
    units of that tolerance; raises :class:`GradientMismatch` naming the first array that
    fails.
    """
    from ..creation import tensor
    from ..training import TrainConfig, build_model, build_optimizer
    from .workloads import minigrad_loss

    config = TrainConfig(hidden=problem.layers[1:-1], optimizer=problem.optimizer,
                         device=device)
    model = build_model(config, problem.layers[0], problem.layers[-1])
    model.load_state_dict(problem.state_dict())
    opt = build_optimizer(config, model.parameters())
    loss_fn = minigrad_loss(problem.loss)
    x = tensor(problem.x, device=device)
    target = tensor(problem.target, device=device)
    hand = HandwrittenMLP(problem.weights, problem.batch, problem.loss, problem.optimizer,
                          hyperparameters(problem.optimizer))
    names = [name for name, _ in model.named_parameters()]
    worst = {"loss": 0.0, "gradients": 0.0, "parameters": 0.0}
    for step in range(1, steps + 1):
        loss = loss_fn(model(x), target)
        opt.zero_grad()
        loss.backward()
        mine = hand.forward_backward(problem.x, problem.target)
        ref = loss.item()
        err = abs(mine - ref) / (rtol * 2 * abs(ref) + 1e-30)
        worst["loss"] = max(worst["loss"], err)
        if err > 1:
            raise GradientMismatch(f"step {step}: loss {mine!r} by hand, {ref!r} by minigrad")
        grads = [p.grad.numpy() for p in model.parameters()]
        for name, got, want in zip(names, hand.gradients(), grads):
            worst["gradients"] = max(worst["gradients"],
                                     _check(f"step {step}: gradient of {name}", got, want, rtol))
        opt.step()
        hand.optimizer.step(grads)
        for name, got, p in zip(names, hand.parameters(), model.parameters()):
            worst["parameters"] = max(worst["parameters"], _check(
                f"step {step}: {name} after the {problem.optimizer} update", got, p.numpy(),
                rtol))
    return {"ok": True, "steps": steps, "rtol": rtol,
            "worst_error_in_tolerances": {k: float(v) for k, v in worst.items()}}


def _check(label: str, got: np.ndarray, want: np.ndarray, rtol: float) -> float:
    """The largest error of ``got`` in units of the tolerance; raises above 1."""
    if got.shape != want.shape:
        raise GradientMismatch(f"{label}: shape {got.shape} by hand, {want.shape} by minigrad")
    tol = rtol * (np.abs(want) + np.abs(want).max()) + np.finfo(np.float32).tiny
    ratio = np.abs(got.astype(np.float64) - want) / tol
    worst = float(ratio.max()) if ratio.size else 0.0
    if not worst <= 1:  # NaN fails too
        i = np.unravel_index(int(np.nanargmax(np.where(np.isnan(ratio), np.inf, ratio))),
                             ratio.shape)
        raise GradientMismatch(f"{label}: at {tuple(int(k) for k in i)} {got[i]!r} by hand, "
                               f"{want[i]!r} by minigrad (rtol {rtol})")
    return worst
