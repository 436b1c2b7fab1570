"""How the generated replay of ``mg.compile`` writes the common ops: lines of array calls
into buffers allocated once, forward and gradient, on host (NumPy) arrays.

Each emitter computes what its op's ``forward`` and ``backward`` in ``minigrad.ops``
compute, with the same array calls in the same order (so the numbers are eager mode's),
only with ``out=``. An op is written by its emitter in full, or not at all: then the
generated code calls the op's own formulas (``minigrad.compiled_program``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
BITS = {np.dtype(np.float32): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.int64)}
# up to this many elements a relu gradient of an array not known here is a masked copy (no
# NaN to clean after a product); above, NumPy's masked copy branches on every element and a
# product wins
MASKED_COPY_MAX = 2048


class Site:
    """One op of the plan as the code generator sees it: the expressions, shapes and dtypes
    of its inputs, its parameters, and the name of its output."""

    def __init__(self, step: Any, ins: list[str], shapes: list, dtypes: list,
                 params: dict[str, str]) -> None:
        self.step, self.ins, self.shapes, self.dtypes = step, ins, shapes, dtypes
        self.params = params
        self.out = ""
        self.emitter: Emitter | None = None
        self.wanted = {i for i, _, _ in step.routes}

    @property
    def backend(self) -> Any:
        return self.step.ctx.backend

    def plain_floats(self) -> bool:
        """Whether every array input has the output's dtype, float32 or float64, on a host
        backend, and every other input is a Python number."""
        from .backends.numpy_backend import NumPyBackend

        if self.step.dtype not in FLOATS or not isinstance(self.backend, NumPyBackend):
            return False
        for i, source in enumerate(self.step.sources):
            if source[0] == "value":
                if type(source[1]) not in (int, float):
                    return False
            elif self.dtypes[i] != self.step.dtype or self.shapes[i] is None:
                return False
        return True


class Emitter:
    """Writes one op: ``forward`` fills ``site.out`` (a buffer of the output's shape);
    ``backward`` writes the gradient of each input that wants one and returns its name per
    input: ``dest(i)``, a buffer of input i's shape it asked for and wrote, or the name of
    an array it passes on unchanged (which nothing may write to)."""

    def fits(self, site: Site) -> bool:
        return site.plain_floats()

    def forward(self, w: Any, site: Site) -> None:
        raise NotImplementedError

    def backward(self, w: Any, site: Site, grad: str, dest: Callable[[int], str]
                 ) -> dict[int, str]:
        raise NotImplementedError


def sum_to(w: Any, grad: str, shape: tuple, target: tuple, dest: Callable[[], str]) -> str:
    """``grad`` (of ``shape``) summed down to ``target``, the tape's broadcasting rule:
    ``grad`` itself where the shapes agree, else a sum over the broadcast axes."""
    if shape == target:
        return grad
    lead = len(shape) - len(target)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(target)
                                      if n == 1 and shape[i + lead] != 1)
    reduced = tuple(n for i, n in enumerate(shape) if i not in axes)
    out = dest()
    w.line(f"add.reduce({grad}, axis={axes!r}, out={w.view(out, reduced)})")
    return out


class Linear(Emitter):
    """x @ w.T + b; dx = G w, dw = G^T x, db = G summed over the rows. The products go
    through ``np.dot``: for 2-D operands the same BLAS call as ``np.matmul``, with less
    dispatch in front of it (a third of a small product's time)."""

    def fits(self, site: Site) -> bool:
        return (super().fits(site) and len(site.shapes[0]) == 2 and len(site.shapes[1]) == 2
                and (len(site.ins) < 3 or site.step.sources[2][0] != "value"
                     or site.step.sources[2][1] is None))

    def forward(self, w, site):
        x, weight = site.ins[:2]
        w.line(f"dot({x}, {weight}.T, out={site.out})")
        if len(site.ins) > 2 and site.ins[2] != "None":
            w.line(f"add({site.out}, {site.ins[2]}, out={site.out})")
            w.bias_added = (site.out, site.ins[2], len(w.lines) - 1)  # for a relu after it

    def backward(self, w, site, grad, dest):
        x, weight = site.ins[:2]
        made = {}
        if 0 in site.wanted:
            made[0] = dest(0)
            w.line(f"dot({grad}, {weight}, out={made[0]})")
        if 1 in site.wanted:
            made[1] = dest(1)
            w.line(f"dot({grad}.T, {x}, out={made[1]})")
        if 2 in site.wanted:
            rows = numba_kernel(site.backend, "sum_rows", 0)
            if rows is not None and grad in w.buffers and site.step.shape[0] > 0:
                made[2] = dest(2)  # the same sums in the same order, in one call
                w.line(f"{w.bind(rows, 'sum_rows')}({grad}, {made[2]})")
            else:
                made[2] = sum_to(w, grad, site.step.shape, site.shapes[2], lambda: dest(2))
        return made


class Relu(Emitter):
    """max(x, 0); the gradient passes where the output is not 0 (relu's output is 0 or
    more, or NaN, so ``out != 0`` is ``not out <= 0``, PyTorch's rule)."""

    def forward(self, w, site):
        x = site.ins[0]
        added = w.bias_added
        kernel = numba_kernel(site.backend, "bias_relu", int(np.prod(site.step.shape)))
        if (kernel is not None and added is not None and added[0] == x
                and len(site.step.shape) == 2
                and all(line.startswith("#") for line in w.lines[added[2] + 1:])):
            del w.lines[added[2]]  # the bias is added in the same pass
            w.line(f"{w.bind(kernel, 'bias_relu')}({x}, {added[1]}, {site.out})")
            return
        kernel = numba_kernel(site.backend, "relu", int(np.prod(site.step.shape)))
        if kernel is not None:  # the backend's own relu, as its eager step runs it
            w.line(f"{w.bind(kernel, 'relu')}({_flat(w, x)}, {w.view(site.out, (-1,))})")
            return
        w.line(f"maximum({x}, {w.scalar(0, site.step.dtype, 'zero')}, out={site.out})")

    def backward(self, w, site, grad, dest):
        out = dest(0)
        kernel = numba_kernel(site.backend, "relu_backward", int(np.prod(site.step.shape)))
        if kernel is not None:
            flat = [w.view(site.out, (-1,)), _flat(w, grad), w.view(out, (-1,))]
            w.line(f"{w.bind(kernel, 'relu_backward')}({', '.join(flat)})")
            return {0: out}
        bits = BITS.get(np.dtype(site.step.dtype))
        if bits is not None and grad in w.buffers and out in w.buffers:
            # grad's bits anded with a mask of all ones (out != 0) or all zeros, as the
            # backend's relu gradient: no branch per element, and a NaN where off is gone
            mask = w.buffer(site.step.shape, bits, "m")
            w.line(f"not_equal({site.out}, {w.scalar(0, site.step.dtype, 'zero')}, "
                   f"out={mask})")
            w.line(f"negative({mask}, out={mask})")
            w.line(f"bitwise_and({w.bits(grad, bits)}, {mask}, out={w.bits(out, bits)})")
            return {0: out}
        mask = w.buffer(site.step.shape, np.bool_, "m")
        zero = w.scalar(0, site.step.dtype, "zero")
        w.line(f"not_equal({site.out}, {zero}, out={mask})")
        if np.prod(site.step.shape) <= MASKED_COPY_MAX:
            w.line(f"copyto({out}, {zero})")
            w.line(f"copyto({out}, {grad}, where={mask})")
            return {0: out}
        w.line(f"multiply({grad}, {mask}, out={out})")
        w.line(f"{w.bind(zero_nans_where_off, 'zero_nans_where_off')}({out}, {mask})")
        return {0: out}


def _flat(w: Any, name: str) -> str:
    """An array as one contiguous row: a view made once of a plan's buffer, else the
    value of this call read flat (copied only where it is not contiguous)."""
    if name in w.buffers:
        return w.view(name, (-1,))
    return f"ascontiguousarray({name}).reshape(-1)"


def zero_nans_where_off(grad: np.ndarray, mask: np.ndarray) -> None:
    """Zero ``grad`` where ``mask`` is off, once a sum shows a NaN (an inf or NaN gradient
    times 0), as the NumPy backend's relu gradient does."""
    total = np.add.reduce(grad, axis=None)
    if total != total:
        np.copyto(grad, 0, where=~mask)


class Tanh(Emitter):
    """tanh(x); d/dx = 1 - tanh(x)^2, as ``grad * (1 - out * out)``."""

    def forward(self, w, site):
        w.line(f"tanh({site.ins[0]}, out={site.out})")

    def backward(self, w, site, grad, dest):
        out = dest(0)
        w.line(f"multiply({site.out}, {site.out}, out={out})")
        w.line(f"subtract({w.scalar(1, site.step.dtype, 'one')}, {out}, out={out})")
        w.line(f"multiply({grad}, {out}, out={out})")
        return {0: out}


class Add(Emitter):
    symbol = "add"

    def forward(self, w, site):
        w.line(f"{self.symbol}({site.ins[0]}, {site.ins[1]}, out={site.out})")

    def backward(self, w, site, grad, dest):
        made = {}
        for i in sorted(site.wanted):
            term = grad
            if i == 1 and self.symbol == "subtract":  # d(a - b)/db = -1
                term = w.buffer(site.step.shape, site.step.dtype, "tmp")
                w.line(f"negative({grad}, out={term})")
            made[i] = sum_to(w, term, site.step.shape, site.shapes[i], lambda i=i: dest(i))
        return made


class Sub(Add):
    symbol = "subtract"


class Mul(Emitter):
    """a b; da = G b, db = G a (one product, counted twice, for ``x * x``)."""

    def forward(self, w, site):
        w.line(f"multiply({site.ins[0]}, {site.ins[1]}, out={site.out})")

    def backward(self, w, site, grad, dest):
        made = {}
        same = site.step.sources[0] == site.step.sources[1]
        for i in sorted(site.wanted):
            if same and i == 1 and 0 in made:
                made[1] = made[0]
                continue
            shape = site.shapes[i]
            if shape == site.step.shape:
                made[i] = dest(i)
                w.line(f"multiply({grad}, {site.ins[1 - i]}, out={made[i]})")
                continue
            term = w.buffer(site.step.shape, site.step.dtype, "tmp")
            w.line(f"multiply({grad}, {site.ins[1 - i]}, out={term})")
            made[i] = sum_to(w, term, site.step.shape, shape, lambda i=i: dest(i))
        return made


class Sum(Emitter):
    """A sum over ``axis``; the gradient is the output's, spread back over the axis."""

    mean = False

    def forward(self, w, site):
        params = site.step.params
        axis, keepdims = params.get("axis"), params.get("keepdims", False)
        w.line(f"add.reduce({site.ins[0]}, axis={w.literal(axis)}, keepdims={keepdims!r}, "
               f"out={site.out})")
        if self.mean:
            count = w.scalar(site.step.ctx.count, site.step.dtype, "count")
            w.line(f"divide({site.out}, {count}, out={site.out})")

    def fits(self, site: Site) -> bool:
        axis = site.step.params.get("axis")
        return super().fits(site) and (axis is None or type(axis) in (int, tuple))

    def backward(self, w, site, grad, dest):
        ctx = site.step.ctx
        kept, shape = ctx.kept_shape, ctx.in_shape
        scale = (1 / ctx.count if ctx.count else 0.0) if self.mean else None
        value = w.consts.get(grad)
        if value is not None:  # a constant gradient: its spread is one too
            spread = np.asarray(value).reshape(kept)
            return {0: w.const(np.broadcast_to(spread if scale is None else spread * scale,
                                               shape), "c")}
        if scale is not None:
            spread = w.buffer(kept, site.step.dtype, "tmp")
            scale = w.scalar(scale, site.step.dtype, "scale")
            w.line(f"multiply({grad}.reshape({kept!r}), {scale}, out={spread})")
        elif grad in w.buffers:
            spread = w.view(grad, kept)
        else:
            name = w.fresh("b")
            w.line(f"{name} = broadcast_to({grad}.reshape({kept!r}), {shape!r})")
            return {0: name}
        return {0: w.bind(np.broadcast_to(w.buffers[spread], shape), w.fresh("b"))}


class Mean(Sum):
    mean = True


class SoftmaxCrossEntropy(Emitter):
    """-log softmax(x)[y] per row, and the softmax kept for the gradient, as the backend's
    ``softmax_cross_entropy`` computes them; the gradient is (softmax - onehot(y)) * G."""

    def fits(self, site: Site) -> bool:
        target = site.step.params.get("target")
        return (super().fits(site) and len(site.shapes[0]) == 2 and target is not None
                and "target" in site.params and len(site.step.params) == 1)

    def forward(self, w, site):
        x = site.ins[0]
        rows, classes = site.shapes[0]
        dtype = site.step.dtype
        target = site.params["target"]
        site.probs = probs = w.buffer((rows, classes), dtype, "probs")
        site.kernel = None
        if x in w.buffers and site.backend.name == "numba" and getattr(
                site.backend, "_softmax_kernel_pays", lambda a: False)(w.buffers[x]):
            site.kernel = numba_kernel(site.backend, "softmax_xent", rows * classes)
        if site.kernel is not None:
            kernel = w.bind(site.kernel, "softmax_xent")
            w.line(f"{kernel}({x}, {target}, {site.out}, {probs})")
            return
        top = w.buffer((rows, 1), dtype, "tmp")
        total = w.buffer((rows, 1), dtype, "tmp")
        site.index = index = w.buffer((rows,), np.intp, "index")
        row_start = w.const(np.arange(rows, dtype=np.intp) * classes, "row_start")
        w.line(f"maximum.reduce({x}, axis=1, keepdims=True, out={top})")
        w.line(f"subtract({x}, {top}, out={probs})")  # shifted: x - max
        picked = w.buffer((rows,), dtype, "tmp")
        w.line(f"add({row_start}, {target}, out={index})")  # flat position of each target
        w.line(f"take({w.view(probs, (-1,))}, {index}, out={picked})")
        w.line(f"exp({probs}, out={probs})")
        w.line(f"add.reduce({probs}, axis=1, keepdims=True, out={total})")
        log_total = w.buffer((rows, 1), dtype, "tmp")
        w.line(f"log({total}, out={log_total})")
        w.line(f"subtract({w.view(log_total, (rows,))}, {picked}, out={site.out})")
        w.line(f"divide({probs}, {total}, out={probs})")

    def backward(self, w, site, grad, dest):
        out = dest(0)
        rows = site.shapes[0][0]
        if site.kernel is not None:
            value = w.consts.get(grad)
            if value is not None:
                grad = w.const(np.ascontiguousarray(value), "c")
            elif grad not in w.buffers:
                w.line(f"{grad} = ascontiguousarray({grad})")
            kernel = numba_kernel(site.backend, "softmax_xent_backward",
                                  int(np.prod(site.shapes[0])))
            w.line(f"{w.bind(kernel, 'softmax_xent_backward')}({site.probs}, "
                   f"{site.params['target']}, {grad}, {out})")
            return {0: out}
        value = w.consts.get(grad)
        column = (w.const(np.asarray(value).reshape(rows, 1), "column") if value is not None
                  else f"{grad}.reshape(({rows}, 1))")
        w.line(f"multiply({site.probs}, {column}, out={out})")
        w.line(f"{w.view(out, (-1,))}[{site.index}] -= {grad}")
        return {0: out}


class MeanSquaredError(Emitter):
    """mean((x - t)^2) as ``functional._MeanSquaredError`` computes it: the difference
    kept for the gradient, 2 (x - t) / n times the output's gradient (-that for t)."""

    def fits(self, site: Site) -> bool:
        return (super().fits(site) and site.shapes[0] == site.shapes[1]
                and site.step.ctx.count > 0)

    def forward(self, w, site):
        x, t = site.ins
        dtype = site.step.dtype
        site.diff = diff = w.buffer(site.shapes[0], dtype, "diff")
        square = w.buffer(site.shapes[0], dtype, "tmp")
        w.line(f"subtract({x}, {t}, out={diff})")
        w.line(f"multiply({diff}, {diff}, out={square})")
        w.line(f"add.reduce({square}, axis=None, out={site.out})")
        w.line(f"divide({site.out}, {w.scalar(site.step.ctx.count, dtype, 'count')}, "
               f"out={site.out})")

    def backward(self, w, site, grad, dest):
        dtype = site.step.dtype
        scale = 2 / site.step.ctx.count
        value = w.consts.get(grad)
        if value is not None:  # the loss's own gradient: its factor folded
            factor = w.scalar(float(np.asarray(value) * scale), dtype, "factor")
        else:
            factor = w.buffer((), dtype, "tmp")
            w.line(f"multiply({grad}, {w.scalar(scale, dtype, 'scale')}, out={factor})")
        made = {}
        out = dest(0) if 0 in site.wanted else w.buffer(site.shapes[0], dtype, "tmp")
        w.line(f"multiply({site.diff}, {factor}, out={out})")
        if 0 in site.wanted:
            made[0] = out
        if 1 in site.wanted:
            made[1] = dest(1)
            w.line(f"negative({out}, out={made[1]})")
        return made


class MeanSoftmaxCrossEntropy(SoftmaxCrossEntropy):
    """The mean over the rows of ``SoftmaxCrossEntropy``, as
    ``functional._MeanSoftmaxCrossEntropy`` computes it: the rows' losses summed and
    divided by their count; each row's gradient is the output's times 1/n."""

    def fits(self, site: Site) -> bool:
        return super().fits(site) and site.shapes[0][0] > 0

    def forward(self, w, site):
        rows = site.shapes[0][0]
        dtype = site.step.dtype
        mean, site.out = site.out, w.buffer((rows,), dtype, "losses")
        super().forward(w, site)
        site.losses, site.out = site.out, mean
        w.line(f"add.reduce({site.losses}, axis=None, out={mean})")
        w.line(f"divide({mean}, {w.scalar(rows, dtype, 'count')}, out={mean})")

    def backward(self, w, site, grad, dest):
        rows = site.shapes[0][0]
        scale = 1 / rows
        value = w.consts.get(grad)
        if value is not None:  # the loss's own gradient: the rows' folded
            spread = w.const(np.broadcast_to(np.asarray(value).reshape((1,)) * scale,
                                             (rows,)), "c")
        else:
            spread = w.buffer((rows,), site.step.dtype, "tmp")  # each row the same
            w.line(f"multiply({grad}.reshape((1,)), {w.literal(scale)}, out={spread})")
        return super().backward(w, site, spread, dest)


def numba_kernel(backend: Any, name: str, size: int) -> Any:
    """The Numba kernel ``name`` of ``backend`` (its serial or parallel build for ``size``
    elements), or None where the backend has no such kernels."""
    kernels = getattr(backend, "kernels", None)
    if kernels is None or not hasattr(kernels, "parallel_min"):
        return None
    module = sys.modules[type(kernels).__module__]
    parallel = size >= kernels.parallel_min.get(name, getattr(module, "PARALLEL_MIN", 0))
    return getattr(module, f"{name}_{'parallel' if parallel else 'serial'}", None)


EMITTERS: dict[type, Emitter] = {
    ops.Linear: Linear(),
    ops.Relu: Relu(),
    ops.Tanh: Tanh(),
    ops.Add: Add(),
    ops.Sub: Sub(),
    ops.Mul: Mul(),
    ops.Sum: Sum(),
    ops.Mean: Mean(),
    ops.SoftmaxCrossEntropy: SoftmaxCrossEntropy(),
}


def emitter_of(op: type) -> Emitter | None:
    """The emitter of ``op``, None where it has none (the fused losses of
    ``minigrad.functional`` are added on first use: that module imports this one)."""
    if len(EMITTERS) == _BUILT_IN:
        from . import functional

        EMITTERS[functional._MeanSquaredError] = MeanSquaredError()
        EMITTERS[functional._MeanSoftmaxCrossEntropy] = MeanSoftmaxCrossEntropy()
    return EMITTERS.get(op)


_BUILT_IN = len(EMITTERS)
