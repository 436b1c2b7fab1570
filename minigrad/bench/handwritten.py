"""The hand-written NumPy programs: what a NumPy framework costs at the very least.

No tape, no tensors, no dispatch: explicit forward and backward passes and the optimizer
updates written out with NumPy calls into buffers allocated once. The MLP training step
here is the floor that any framework on NumPy sits on, written as a NumPy expert would:

- every parameter, gradient and optimizer state lives in one flat contiguous buffer each,
  the layers' weights and biases being views into them, so an optimizer step is one pass
  of ``out=`` ufuncs over the flat buffers (PyTorch's formulas, operation for operation);
- weights are stored (in, out), so the forward pass is ``x @ W`` with no transpose; bias
  gradients are ``ones @ d`` (a matrix-vector product, not a reduction); every product is
  ``np.dot``, the same BLAS call as ``np.matmul`` with less dispatch; ReLU and its
  gradient compare against a zeros buffer; every temporary is made once;
- the loss and its gradient (softmax cross-entropy, MSE) are one fused hand-written pass.

:func:`check_handwritten_gradients` shows that it computes what minigrad computes (the
bench runs it before timing, the tests call it too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: losses the hand-written step implements (``multi_margin`` is left to the frameworks)
LOSSES = ("mse", "l1", "huber", "cross_entropy", "bce_with_logits", "hinge")
#: optimizers the hand-written step implements, with the hyperparameters of ``minigrad train``
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
#: an update over more elements than this runs block by block, ``UPDATE_BLOCK`` elements at
#: a time, so that the dozen passes of one update find the block's arrays in cache
#: (measured on a 2-core EPYC: Adam over 10M parameters 22 -> 13.5 ms; over 1M, whose five
#: arrays fit in the L3 cache, blocks gain nothing)
BLOCKED_ABOVE = 1 << 21
UPDATE_BLOCK = 1 << 16


class Unsupported(Exception):
    """A contender cannot run this workload; the message says why."""


# losses: value and gradient with respect to the model output, means over all elements

#: ``loss(out, target, grad) -> value``: the gradient with respect to ``out`` is written
#: into ``grad``
LossFunction = Callable[[np.ndarray, np.ndarray, np.ndarray], float]


class SoftmaxCrossEntropy:
    """Mean softmax cross-entropy of (rows, classes) logits against class indices, forward
    and backward in one pass over buffers made once; d/dlogits = (softmax - onehot) / rows.
    """

    def __init__(self, rows: int, classes: int, dtype: Any = np.float32) -> None:
        self.rows, self.classes = rows, classes
        self.top = np.empty((rows, 1), dtype)
        self.total = np.empty(rows, dtype)
        self.log_total = np.empty(rows, dtype)
        self.ones = np.ones(classes, dtype)
        self.row_start = np.arange(rows, dtype=np.intp) * classes  # flat index of each row
        self.picked_at = np.empty(rows, np.intp)
        self.picked = np.empty(rows, dtype)

    def __call__(self, logits: np.ndarray, labels: np.ndarray, grad: np.ndarray) -> float:
        if logits.shape != (self.rows, self.classes):
            raise ValueError(f"logits of shape {logits.shape}, buffers made for "
                             f"{(self.rows, self.classes)}")
        flat = grad.reshape(-1)
        np.max(logits, axis=1, keepdims=True, out=self.top)
        np.subtract(logits, self.top, out=grad)  # z = logits - max: exp(z) <= 1
        np.add(self.row_start, labels, out=self.picked_at)
        np.take(flat, self.picked_at, out=self.picked)  # z of the true class
        np.exp(grad, out=grad)
        np.dot(grad, self.ones, out=self.total)  # row sums, as a matrix-vector product
        np.log(self.total, out=self.log_total)
        value = (float(self.log_total.sum()) - float(self.picked.sum())) / self.rows
        np.divide(1.0 / self.rows, self.total, out=self.total)
        np.multiply(grad, self.total[:, None], out=grad)  # softmax / rows
        flat[self.picked_at] -= 1.0 / self.rows  # - onehot / rows
        return value


def mean_squared_error(out: np.ndarray, target: np.ndarray, grad: np.ndarray) -> float:
    """mean (out - target)^2; d/dout = 2 (out - target) / n."""
    n = out.size
    np.subtract(out, target, out=grad)
    value = float(np.vdot(grad, grad)) / n
    np.multiply(grad, 2.0 / n, out=grad)
    return value


def make_loss(name: str, shape: tuple[int, ...], dtype: Any = np.float32) -> LossFunction:
    """The hand-written ``name`` loss for outputs of ``shape`` (mean reduction), with its
    buffers. Targets: class indices (int) for cross_entropy, floats of the output's shape
    otherwise ({0, 1} for bce_with_logits, {-1, +1} for hinge)."""
    if name == "cross_entropy":
        return SoftmaxCrossEntropy(*shape, dtype=dtype)
    if name == "mse":
        return mean_squared_error
    if name not in LOSSES:
        raise Unsupported(f"the hand-written step has no {name!r} loss "
                          f"(it implements {', '.join(LOSSES)})")
    scratch = np.empty(shape, dtype)
    return lambda out, target, grad: loss_and_grad(name, out, target, grad, scratch)


def loss_and_grad(name: str, out: np.ndarray, target: np.ndarray, grad: np.ndarray,
                  scratch: np.ndarray) -> float:
    """The loss ``name`` of ``out`` (mean reduction); its gradient is written into ``grad``.

    ``scratch`` is a buffer of ``out``'s shape. The MLP step calls :func:`make_loss`,
    which fuses cross-entropy and MSE; this covers every loss, the rarer ones plainly.
    """
    n = out.size
    if name == "cross_entropy":
        return SoftmaxCrossEntropy(*out.shape, dtype=out.dtype)(out, target, grad)
    if name == "mse":
        return mean_squared_error(out, target, grad)
    if name in ("l1", "huber"):
        np.subtract(out, target, out=scratch)  # d = out - target
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


#: the state buffers each optimizer keeps (momentum, or Adam's two moments)
_STATE_BUFFERS = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2, "adamw": 2}


class HandwrittenOptimizer:
    """PyTorch's update rules over one flat parameter buffer and its flat gradient, in place.

    ``param`` and ``grad`` are 1-d contiguous arrays (a model's parameters are views into
    them); ``grad`` is read at each :meth:`step`, never written. An update is one pass of
    ``out=`` ufuncs over the flat buffers (block by block above ``BLOCKED_ABOVE``
    elements), with the formulas of PyTorch's single-tensor optimizers, operation for
    operation as in ``minigrad.optim.updates``.
    """

    def __init__(self, param: np.ndarray, grad: np.ndarray, name: str,
                 hyper: Hyperparameters | None = None) -> None:
        if name not in OPTIMIZERS:
            raise Unsupported(f"the hand-written step has no {name!r} optimizer "
                              f"(it implements {', '.join(OPTIMIZERS)})")
        if param.ndim != 1 or grad.shape != param.shape or not param.flags.c_contiguous:
            raise ValueError("param and grad must be 1-d contiguous arrays of one shape")
        self.param, self.grad = param, grad
        self.name = name
        self.hyper = hyper or Hyperparameters()
        self.t = 0
        self.state = [np.zeros_like(param) for _ in range(_STATE_BUFFERS[name])]
        self.scratch = np.empty_like(param)
        decays = self.hyper.weight_decay != 0 and name != "adamw"
        self.decayed = np.empty_like(param) if decays else None  # g + weight_decay * p
        self._update = getattr(self, f"_{name}")
        self._coefficients: tuple[float, ...] = ()
        arrays = [param, grad, self.scratch, self.decayed, *self.state]
        n = param.size
        size = UPDATE_BLOCK if n > BLOCKED_ABOVE else max(n, 1)
        self.blocks = [tuple(None if a is None else a[i:i + size] for a in arrays)
                       for i in range(0, max(n, 1), size)]

    def step(self) -> None:
        """One update of ``param`` from ``grad``."""
        self.t += 1
        if self.name in ("adam", "adamw"):
            beta1, beta2 = self.hyper.betas
            bias_correction1 = 1 - beta1**self.t
            bias_correction2 = 1 - beta2**self.t
            self._coefficients = (self.hyper.lr / bias_correction1, bias_correction2**0.5)
        update = self._update
        for arrays in self.blocks:
            update(*arrays)

    def _decay(self, p: np.ndarray, g: np.ndarray, d: np.ndarray | None) -> np.ndarray:
        """g + weight_decay * p (L2), into ``d``; ``g`` itself without decay."""
        if d is None:
            return g
        np.multiply(p, self.hyper.weight_decay, out=d)
        np.add(g, d, out=d)
        return d

    def _sgd(self, p: np.ndarray, g: np.ndarray, s: np.ndarray, d: np.ndarray | None) -> None:
        g = self._decay(p, g, d)
        np.multiply(g, -self.hyper.lr, out=s)  # p = p - lr g
        np.add(p, s, out=p)

    def _momentum(self, p: np.ndarray, g: np.ndarray, s: np.ndarray, d: np.ndarray | None,
                  buf: np.ndarray, nesterov: bool = False) -> None:
        h = self.hyper
        g = self._decay(p, g, d)
        if self.t == 1:  # buf = g on the first step, as PyTorch
            np.copyto(buf, g)
        else:  # buf = momentum buf + g
            np.multiply(buf, h.momentum, out=buf)
            np.add(buf, g, out=buf)
        if nesterov:  # direction = g + momentum buf
            np.multiply(buf, h.momentum, out=s)
            np.add(g, s, out=s)
            np.multiply(s, -h.lr, out=s)
        else:
            np.multiply(buf, -h.lr, out=s)
        np.add(p, s, out=p)

    def _nesterov(self, p: np.ndarray, g: np.ndarray, s: np.ndarray, d: np.ndarray | None,
                  buf: np.ndarray) -> None:
        self._momentum(p, g, s, d, buf, nesterov=True)

    def _rmsprop(self, p: np.ndarray, g: np.ndarray, s: np.ndarray, d: np.ndarray | None,
                 v: np.ndarray) -> None:
        # v = alpha v + (1 - alpha) g^2; p = p - lr g / (sqrt(v) + eps)
        h = self.hyper
        g = self._decay(p, g, d)
        np.multiply(g, 1 - h.alpha, out=s)
        np.multiply(s, g, out=s)
        np.multiply(v, h.alpha, out=v)
        np.add(v, s, out=v)
        np.sqrt(v, out=s)
        np.add(s, h.eps, out=s)
        np.divide(g, s, out=s)
        np.multiply(s, -h.lr, out=s)
        np.add(p, s, out=p)

    def _adam(self, p: np.ndarray, g: np.ndarray, s: np.ndarray, d: np.ndarray | None,
              m: np.ndarray, v: np.ndarray) -> None:
        # v = b2 v + (1 - b2) g^2; m = lerp(m, g, 1 - b1)
        # p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        h = self.hyper
        beta1, beta2 = h.betas
        step_size, bias_correction2_sqrt = self._coefficients
        if self.name == "adamw":  # p = p (1 - lr wd), then Adam on the plain gradient
            np.multiply(p, 1 - h.lr * h.weight_decay, out=p)
        else:
            g = self._decay(p, g, d)
        np.multiply(g, 1 - beta2, out=s)
        np.multiply(s, g, out=s)
        np.multiply(v, beta2, out=v)
        np.add(v, s, out=v)
        np.subtract(g, m, out=s)  # lerp with a weight below 1/2: m + w (g - m)
        np.multiply(s, 1 - beta1, out=s)
        np.add(m, s, out=m)
        np.sqrt(v, out=s)
        np.divide(s, bias_correction2_sqrt, out=s)
        np.add(s, h.eps, out=s)
        np.divide(m, s, out=s)
        np.multiply(s, -step_size, out=s)
        np.add(p, s, out=p)

    _adamw = _adam


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

    ``weights`` holds (W, b) per layer, W of shape (out, in) as in ``nn.Linear``; they are
    copied into one flat buffer, each W stored transposed, (in, out), so that the forward
    pass multiplies without a transpose. Every activation, gradient and optimizer buffer
    is allocated here, once, for batches of ``batch`` rows.
    """

    def __init__(self, weights: Sequence[tuple[np.ndarray, np.ndarray]], batch: int,
                 loss: str, optimizer: str, hyper: Hyperparameters | None = None) -> None:
        self.loss_name = loss
        shapes = [(w.shape[1], w.shape[0]) for w, _ in weights]  # (in, out)
        total = sum(n_in * n_out + n_out for n_in, n_out in shapes)
        self.flat_params = np.empty(total, np.float32)
        self.flat_grads = np.zeros(total, np.float32)
        self.W, self.b = self._views(self.flat_params, shapes)
        self.gW, self.gb = self._views(self.flat_grads, shapes)
        for (w, b), W, B in zip(weights, self.W, self.b):
            W[...] = w.T
            B[...] = b
        widths = [n_out for _, n_out in shapes]
        self.batch = batch
        self.h = [np.empty((batch, n), np.float32) for n in widths]  # layer outputs
        self.d = [np.empty((batch, n), np.float32) for n in widths]  # d loss / d pre-activation
        self.zeros = [np.zeros((batch, n), np.float32) for n in widths[:-1]]
        self.alive = [np.empty((batch, n), bool) for n in widths[:-1]]  # where z > 0
        self.ones = np.ones(batch, np.float32)
        self.loss = make_loss(loss, (batch, widths[-1]))
        self.optimizer = HandwrittenOptimizer(self.flat_params, self.flat_grads, optimizer,
                                              hyper or hyperparameters(optimizer))

    @staticmethod
    def _views(flat: np.ndarray, shapes: list[tuple[int, int]]
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(W of shape (in, out), b) per layer, views into ``flat`` in the order
        W0, b0, W1, b1, ... (the order of ``nn.Sequential(...).parameters()``)."""
        weights, biases, at = [], [], 0
        for n_in, n_out in shapes:
            weights.append(flat[at:at + n_in * n_out].reshape(n_in, n_out))
            at += n_in * n_out
            biases.append(flat[at:at + n_out])
            at += n_out
        return weights, biases

    def parameters(self) -> list[np.ndarray]:
        """W0, b0, W1, b1, ... as ``nn.Linear`` holds them (W of shape (out, in): views)."""
        return [a for pair in zip((w.T for w in self.W), self.b) for a in pair]

    def gradients(self) -> list[np.ndarray]:
        """The gradients of :meth:`parameters`, in the same order and layout (views)."""
        return [a for pair in zip((w.T for w in self.gW), self.gb) for a in pair]

    def forward_backward(self, x: np.ndarray, target: np.ndarray) -> float:
        """The loss of the batch; leaves every parameter's gradient in ``gradients()``."""
        if x.shape[0] != self.batch:
            raise ValueError(f"a batch of {x.shape[0]} rows, buffers made for {self.batch}")
        last = len(self.W) - 1
        a = x
        for i in range(last + 1):
            h = self.h[i]
            np.dot(a, self.W[i], out=h)  # z = a W + b
            np.add(h, self.b[i], out=h)
            if i < last:
                np.maximum(h, self.zeros[i], out=h)  # relu
            a = h
        value = self.loss(self.h[last], target, self.d[last])
        for i in range(last, -1, -1):
            d = self.d[i]
            a = x if i == 0 else self.h[i - 1]
            np.dot(a.T, d, out=self.gW[i])  # dW = a^T d
            np.dot(self.ones, d, out=self.gb[i])  # db = sum of d over the batch
            if i > 0:
                prev = self.d[i - 1]
                np.dot(d, self.W[i].T, out=prev)  # da = d W^T
                # relu'(z) = [z > 0], as a multiplication: a masked copy (copyto with
                # where=) branches on every element and is 40x slower at 256x512
                alive = self.alive[i - 1]
                np.greater(self.h[i - 1], self.zeros[i - 1], out=alive)
                np.multiply(prev, alive, out=prev)
        return value

    def step(self, x: np.ndarray, target: np.ndarray) -> float:
        """One training step: forward, loss, backward, optimizer update; returns the loss."""
        value = self.forward_backward(x, target)
        self.optimizer.step()
        return value


# the dispatch chain


class DispatchChain:
    """The per-op chain (add a vector, multiply by a vector, tanh, repeated) on small arrays,
    with the backward pass written out: the cost of the NumPy calls alone.

    Each op writes into a buffer made once; the forward pass keeps what the backward pass
    reads (the tanh outputs), the backward pass updates the gradients in place.
    """

    def __init__(self, x: np.ndarray, a: np.ndarray, m: np.ndarray, length: int) -> None:
        self.x, self.a, self.m, self.length = x, a, m, length
        self.outs = [np.empty_like(x) for _ in range(length)]
        self.y = np.empty_like(x)
        self.g, self.ga, self.scratch = (np.empty_like(x) for _ in range(3))

    def forward(self) -> np.ndarray:
        """The chain alone, into one buffer (nothing is kept for a backward pass)."""
        y, a, m = self.y, self.a, self.m
        np.copyto(y, self.x)
        for i in range(self.length):
            k = i % 3
            if k == 0:
                np.add(y, a, out=y)
            elif k == 1:
                np.multiply(y, m, out=y)
            else:
                np.tanh(y, out=y)
        return y

    def forward_backward(self) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of sum(chain(x)) with respect to x and a."""
        outs, a, m = self.outs, self.a, self.m
        y = self.x
        for i in range(self.length):
            k, out = i % 3, outs[i]
            if k == 0:
                np.add(y, a, out=out)
            elif k == 1:
                np.multiply(y, m, out=out)
            else:
                np.tanh(y, out=out)
            y = out
        g, ga, s = self.g, self.ga, self.scratch
        g.fill(1.0)
        ga.fill(0.0)
        for i in range(self.length - 1, -1, -1):
            k = i % 3
            if k == 0:
                np.add(ga, g, out=ga)
            elif k == 1:
                np.multiply(g, m, out=g)
            else:  # d/dy tanh(y) = 1 - tanh(y)^2
                np.multiply(outs[i], outs[i], out=s)
                np.multiply(s, g, out=s)
                np.subtract(g, s, out=g)
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
        for mine_grad, want in zip(hand.gradients(), grads):
            mine_grad[...] = want
        hand.optimizer.step()
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
