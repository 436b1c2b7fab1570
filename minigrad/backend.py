"""The backend interface, the registry of backends and the default device.

A backend owns arrays on one device and the array functions that work on them.
Every op of minigrad computes its forward through these methods, and gradient formulas
use them too, except for elementwise arithmetic, which they write with the arrays' own
operators (for NumPy and CuPy arrays, the same functions). A new backend is one class
implementing them. Backends are created lazily: importing minigrad imports neither numba
nor cupy.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import numpy as np


class BackendUnavailable(RuntimeError):
    """The backend's library or device is missing on this machine."""


def required(doc: str) -> Any:
    """A primitive every backend implements: declared here with what it computes, and
    refused at registration when a backend leaves it out."""

    def primitive(self: Backend, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"backend {self.name!r} does not implement this primitive")

    primitive.__doc__ = doc
    primitive.required = True
    return primitive


def optional(doc: str) -> Any:
    """A primitive only some ops need (``sin``, ``erf``, ...): a backend without it runs
    everything else, and the op that needs it says what is missing."""

    def primitive(self: Backend, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"backend {self.name!r} has no {name!r}, which this op "
                                  "needs")

    name = doc.split(":")[0]
    primitive.__doc__ = doc
    primitive.required = False
    return primitive


class Backend:
    """One device's arrays and the array functions minigrad needs on them.

    What a backend implements is declared here: ``required`` primitives (creation,
    elementwise math, comparisons, reductions, movement, matmul), ``optional`` ones that
    only some ops need, and kernels with a default built from the primitives, which a
    backend may replace with faster ones. Elementwise functions broadcast as NumPy's do and
    accept ``out=``.

    Gradient formulas also use the arrays themselves, so a backend's arrays support:
    ``shape``, ``ndim``, ``dtype``, ``size``; ``astype(dtype)``, ``reshape(shape)``,
    ``transpose(axes)``, ``swapaxes(a, b)``, ``sum(axis=, keepdims=)``; the operators
    ``+ - * / ** @``, unary ``-``, comparisons and ``& | ~``; basic and integer-array
    indexing. NumPy's and CuPy's arrays do.
    """

    name: str = "?"
    install_hint: str = ""  # how to get what unavailable_reason() says is missing
    host_memory: bool = True  # arrays live in host memory (False: on an accelerator)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this backend cannot run here, or None when it can."""
        return None

    def describe(self) -> str:
        """One line about the library and device behind this backend."""
        return type(self).__name__

    def synchronize(self) -> None:
        """Wait until the device has finished all queued work (timers need this on a GPU)."""

    def capture_graph(self, body: Callable[[], Any]) -> Callable[[], Any] | None:
        """Optional: record the device work of ``body`` (a function of no arguments that
        queues kernels on arrays allocated before, and returns the arrays it made) once,
        as one unit the device replays (a CUDA graph), without running it.

        Returns ``launch``: a function that runs the recorded work once more and returns
        what ``body`` returned while it was recorded (the same arrays, rewritten by every
        launch); results read on the host after ``launch()`` see its work complete. The
        default returns None: the backend has no graphs, and ``body`` runs as it is on
        every call. ``body`` must do the same work on every call: what changes between
        calls (inputs, hyperparameters) is written into its arrays before ``launch``.
        """
        return None

    # creation and transfer
    asarray = required("asarray(data, dtype=None): a new array holding a copy of data")
    to_numpy = required("to_numpy(x): the values as a host numpy.ndarray")
    zeros = required("zeros(shape, dtype)")
    ones = required("ones(shape, dtype)")
    full = required("full(shape, value, dtype)")
    arange = required("arange(start, stop, step, dtype)")
    astype = required("astype(x, dtype): a converted copy")
    copy = required("copy(x): a copy that owns its memory")

    def from_backend(self, x: Any, source: Backend) -> Any:
        """``x``, an array of ``source``, as an array of this backend."""
        return self.asarray(source.to_numpy(x))

    def zeros_like(self, x: Any) -> Any:
        """Zeros of ``x``'s shape and dtype."""
        return self.zeros(x.shape, x.dtype)

    def owns_memory(self, x: Any) -> bool:
        """Whether ``x`` is a whole, writable array rather than a view of another one."""
        return False

    def writable(self, x: Any) -> Any:
        """``x``, or an array that can be written in place holding its values."""
        return x

    def is_read_only(self, x: Any) -> bool:
        """Whether ``x`` cannot be written in place (a broadcast view)."""
        return False

    def shares_memory(self, a: Any, b: Any) -> bool:
        """Whether writing into ``a`` may change ``b`` (a view of it, or the same array)."""
        return True

    # random numbers, from one seeded generator per backend
    seed = required("seed(seed): restart this backend's generator")
    randn = required("randn(shape, dtype): standard normal samples")
    rand = required("rand(shape, dtype): uniform samples in [0, 1)")
    permutation = required("permutation(n): the integers 0..n-1 in random order")

    # elementwise, binary
    add = required("add(a, b, out=None): a + b")
    sub = required("sub(a, b, out=None): a - b")
    mul = required("mul(a, b, out=None): a * b")
    div = required("div(a, b, out=None): a / b, true division")
    pow = required("pow(a, b, out=None): a ** b")
    maximum = required("maximum(a, b, out=None): the larger, NaN if either is NaN")
    minimum = required("minimum(a, b, out=None): the smaller, NaN if either is NaN")

    # elementwise, unary
    neg = required("neg(x, out=None): -x")
    exp = required("exp(x, out=None)")
    log = required("log(x, out=None): the natural logarithm")
    sqrt = required("sqrt(x, out=None)")
    abs = required("abs(x, out=None)")
    tanh = required("tanh(x, out=None)")
    sign = required("sign(x): -1, 0 or 1; 0 at NaN, as PyTorch")

    # comparisons (bool arrays) and selection
    lt = required("lt(a, b): a < b")
    le = required("le(a, b): a <= b")
    gt = required("gt(a, b): a > b")
    ge = required("ge(a, b): a >= b")
    eq = required("eq(a, b): a == b")
    ne = required("ne(a, b): a != b")
    where = required("where(condition, a, b): a where condition holds, else b")
    clip = required("clip(x, low, high): x limited to [low, high]; None: no limit")

    # reductions (axis None, an int or a tuple)
    sum = required("sum(x, axis=None, keepdims=False)")
    max = required("max(x, axis=None, keepdims=False)")
    min = required("min(x, axis=None, keepdims=False)")
    argmax = required("argmax(x, axis=None, keepdims=False): int64, the first of ties")
    argmin = required("argmin(x, axis=None, keepdims=False): int64, the first of ties")

    # movement and indexing
    reshape = required("reshape(x, shape): a view where the layout allows")
    transpose = required("transpose(x, axes=None): the axes in a new order, a view")
    broadcast_to = required("broadcast_to(x, shape): a read-only view")
    getitem = required("getitem(x, index): x[index] (a view for basic indices)")
    setitem = required("setitem(x, index, value): x[index] = value, in place")
    scatter_add = required("scatter_add(shape, index, values): zeros of shape with values "
                           "added at index, repeated indices summed")
    concatenate = required("concatenate(arrays, axis)")
    stack = required("stack(arrays, axis)")

    # linear algebra
    matmul = required("matmul(a, b): a @ b, batched over leading axes")

    # math that only some ops need: NumPy's names, out= accepted
    sin = optional("sin: elementwise")
    cos = optional("cos: elementwise")
    tan = optional("tan: elementwise")
    arcsin = optional("arcsin: elementwise")
    arccos = optional("arccos: elementwise")
    arctan = optional("arctan: elementwise")
    sinh = optional("sinh: elementwise")
    cosh = optional("cosh: elementwise")
    arctan2 = optional("arctan2: elementwise, of (y, x)")
    floor = optional("floor: elementwise")
    ceil = optional("ceil: elementwise")
    rint = optional("rint: elementwise, halves to even")
    trunc = optional("trunc: elementwise")
    floor_divide = optional("floor_divide: a // b")
    fmod = optional("fmod: the remainder with the sign of a")
    remainder = optional("remainder: the remainder with the sign of b")
    copysign = optional("copysign: |a| with the sign of b")
    isnan = optional("isnan: elementwise, bool")
    isinf = optional("isinf: elementwise, bool")
    isfinite = optional("isfinite: elementwise, bool")
    bitwise_and = optional("bitwise_and: a & b on ints and bools")
    bitwise_or = optional("bitwise_or: a | b on ints and bools")
    bitwise_xor = optional("bitwise_xor: a ^ b on ints and bools")
    invert = optional("invert: ~a on ints and bools")
    left_shift = optional("left_shift: a << b on ints")
    right_shift = optional("right_shift: a >> b on ints")
    erf = optional("erf: the error function, 2/sqrt(pi) times the integral of exp(-t^2) "
                   "from 0 to x")
    erfc = optional("erfc: 1 - erf(x), accurate where erf(x) is near 1")
    log1p = optional("log1p: log(1 + x), accurate for small x")
    expm1 = optional("expm1: exp(x) - 1, accurate for small x")
    exp2 = optional("exp2: 2 ** x")
    log2 = optional("log2: the base-2 logarithm")
    log10 = optional("log10: the base-10 logarithm")
    arcsinh = optional("arcsinh: elementwise")
    arccosh = optional("arccosh: elementwise")
    arctanh = optional("arctanh: elementwise")
    hypot = optional("hypot: sqrt(a^2 + b^2) without overflow")
    logaddexp = optional("logaddexp: log(exp(a) + exp(b)) without overflow")
    logaddexp2 = optional("logaddexp2: log2(2^a + 2^b) without overflow")
    fmax = optional("fmax: the larger; where one is NaN, the other")
    fmin = optional("fmin: the smaller; where one is NaN, the other")

    # optional fused optimizer updates; None: the default of minigrad.optimizer_kernels
    adam_update = sgd_update = rmsprop_update = None

    def prepare_update(self, name: str, *arrays: Any) -> Callable[..., Any]:
        """The fused optimizer update ``name`` (``"adam_update"``, ``"sgd_update"``,
        ``"rmsprop_update"``) bound to ``arrays`` (parameter, gradient, state buffers, as
        its signature orders them: 1-D, contiguous, checked here once): a function of the
        update's keyword arguments that runs it and returns what it returns, called once
        per step while the arrays stay the same. A backend may replace it with one that
        skips the per-call checks of the update; the default is bound to a workspace
        of its own, and checks once."""
        from . import optimizer_kernels

        kernel = getattr(self, name, None)
        if kernel is None:
            return optimizer_kernels.prepare(self, name, *arrays)
        return functools.partial(kernel, *arrays)

    # fused kernels: defaults from primitives
    def relu(self, x: Any) -> Any:
        """max(x, 0); NaN stays NaN."""
        return self.maximum(x, 0)

    def relu_backward(self, out: Any, grad: Any) -> Any:
        """``grad`` where relu's result ``out`` is not <= 0, else 0 (PyTorch's rule: a NaN
        output passes its gradient, and a NaN gradient is zeroed where the output is 0)."""
        return self.where(out <= 0, self.zeros((), grad.dtype), grad)

    def sigmoid(self, x: Any) -> Any:
        """1 / (1 + exp(-x)), without overflow for large negative x."""
        e = self.exp(-self.abs(x))
        return self.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def softmax_cross_entropy(self, logits: Any, target: Any) -> tuple[Any, Any]:
        """Per row of (N, C) ``logits`` with class indices ``target`` (N,): the loss
        -log softmax(logits)[target], computed as log sum exp(x - max) - (x[target] - max),
        and the softmax itself (for the gradient)."""
        shifted = self.sub(logits, self.max(logits, axis=1, keepdims=True))
        e = self.exp(shifted)
        total = self.sum(e, axis=1, keepdims=True)
        rows = self.arange(0, logits.shape[0], 1, np.int64)
        losses = self.sub(self.log(total).reshape(-1), self.getitem(shifted, (rows, target)))
        return losses, self.div(e, total, out=e)

    def softmax_cross_entropy_backward(self, probs: Any, target: Any, grad: Any) -> Any:
        """(softmax - onehot(target)) * grad per row: the gradient of those losses."""
        out = self.mul(probs, grad.reshape(-1, 1))
        rows = self.arange(0, probs.shape[0], 1, np.int64)
        self.setitem(out, (rows, target), self.sub(self.getitem(out, (rows, target)), grad))
        return out

    def any(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """Whether any element is nonzero, along ``axis``: a bool array."""
        return self.ne(self.sum(self.ne(x, 0), axis=axis, keepdims=keepdims), 0)

    def all(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """Whether every element is nonzero, along ``axis``: a bool array."""
        return self.eq(self.sum(self.eq(x, 0), axis=axis, keepdims=keepdims), 0)

    def sum_to(self, x: Any, shape: tuple[int, ...]) -> Any:
        """Sum ``x`` down to ``shape`` (the reverse of broadcasting)."""
        if x.shape == shape:
            return x
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
        )
        return self.reshape(self.sum(x, axis=axes), shape)

    # scans, sorting, selection and contraction
    def cumsum(self, x: Any, axis: int) -> Any:
        """Running sums along ``axis`` (integers and bools sum in int64, as PyTorch)."""
        if x.dtype.kind in "biu":
            x = self.astype(x, np.int64)
        return self._scan(x, axis, self.add)

    def cumprod(self, x: Any, axis: int) -> Any:
        """Running products along ``axis`` (integers and bools multiply in int64)."""
        if x.dtype.kind in "biu":
            x = self.astype(x, np.int64)
        return self._scan(x, axis, self.mul)

    def cummax(self, x: Any, axis: int) -> Any:
        """Running maxima along ``axis``; a NaN stays from where it first appears."""
        return self._scan(x, axis, self.maximum)

    def cummin(self, x: Any, axis: int) -> Any:
        """Running minima along ``axis``; a NaN stays from where it first appears."""
        return self._scan(x, axis, self.minimum)

    def logcumsumexp(self, x: Any, axis: int) -> Any:
        """log of the running sums of exp(x) along ``axis``, without overflow or underflow."""

        def logaddexp(a: Any, b: Any) -> Any:
            top = self.maximum(a, b)
            gap = self.where(a == b, 0, -self.abs(a - b))  # equal infinities: no NaN
            return top + self.log(1 + self.exp(gap))

        return self._scan(x, axis, logaddexp)

    def _scan(self, x: Any, axis: int, combine: Callable[[Any, Any], Any]) -> Any:
        """Inclusive scan by doubling strides (log2(n) vectorised steps): a default that
        backends with a native cumulative function replace."""
        axis = axis % x.ndim
        n, step = x.shape[axis], 1
        lead = (slice(None),) * axis
        while step < n:
            head = self.getitem(x, (*lead, slice(0, step)))
            rest = combine(self.getitem(x, (*lead, slice(step, n))),
                           self.getitem(x, (*lead, slice(0, n - step))))
            x = self.concatenate([head, rest], axis=axis)
            step *= 2
        return x

    argsort = optional("argsort: argsort(x, axis), the positions that sort x ascending "
                       "along axis, equal values kept in order (stable), NaN last; int64")

    def argpartition(self, x: Any, kth: int, axis: int) -> Any:
        """Positions that put the ``kth`` smallest value of ``x`` along ``axis`` in its sorted
        place, the values before it no larger and those after no smaller (NaN last); int64.
        A full sort is one such order."""
        return self.argsort(x, axis)

    nonzero = optional("nonzero: nonzero(x), the positions of the nonzero elements, "
                       "int64 of shape (count, x.ndim), in row-major order")

    scatter_reduce = optional("scatter_reduce: scatter_reduce(x, index, values, reduce) "
                              "combines values into x at index in place by reduce ('sum', "
                              "'prod', 'amax' or 'amin'), every repeated index taking part")

    einsum = optional("einsum: einsum(equation, *operands), the Einstein summation given "
                      "by an explicit equation ('ij,jk->ik'), labels of size 1 broadcasting")

    # linear algebra and sampling that only some functions need
    inverse = optional("inverse: inverse(a), the inverse of each square matrix of a "
                       "(..., n, n); raises ValueError for a singular one")
    det = optional("det: det(a), the determinant of each square matrix of a (..., n, n)")
    solve = optional("solve: solve(a, b), x with a @ x = b for matrices a (..., n, n) and "
                     "b (..., n, k), batch dims broadcast; raises ValueError for a singular a")
    searchsorted = optional("searchsorted: searchsorted(a, v, side), where the values v "
                            "would go in the sorted 1-D a ('left': before equal ones, "
                            "'right': after), int64, NaN sorted last")

    def randint(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        """Integers drawn uniformly from [low, high), int64, from this backend's generator."""
        draws = self.rand(shape, np.dtype(np.float64)) * float(high - low)
        ints = self.astype(self.clip(draws, 0, high - low - 1), np.dtype(np.int64))
        return self.add(ints, self.full((), low, np.dtype(np.int64)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def __reduce__(self) -> tuple:
        # copies and pickles of a tensor find the one registered backend by its name
        return get_backend, (self.name,)

    def sliding_windows(self, x: Any, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                        dilation: tuple[int, ...]) -> Any:
        """The windows of the last ``k = len(kernel_size)`` axes (im2col): shape
        (..., *out, *kernel_size), where window ``o`` reads x at o * stride + j * dilation
        for kernel offset ``j``; out = (size - dilation * (kernel - 1) - 1) // stride + 1.
        This default gathers with integer indices; a backend may return a strided view."""
        k = len(kernel_size)
        out = tuple((n - d * (kk - 1) - 1) // s + 1
                    for n, kk, s, d in zip(x.shape[-k:], kernel_size, stride, dilation))
        return self.getitem(x, (Ellipsis, *self._window_positions(
            out, kernel_size, stride, dilation)))

    def fold_windows(self, windows: Any, shape: tuple[int, ...], stride: tuple[int, ...],
                     dilation: tuple[int, ...]) -> Any:
        """Zeros of ``shape`` with every window of ``windows`` (as ``sliding_windows`` gives
        them) added back where it was read (col2im): the gradient of ``sliding_windows``."""
        k = len(stride)
        positions = self._window_positions(windows.shape[-2 * k:-k], windows.shape[-k:],
                                           stride, dilation)
        lead = tuple(slice(None) for _ in shape[:-k])
        return self.scatter_add(shape, (*lead, *positions), windows)

    def fold_windows_by_offsets(self, windows: Any, shape: tuple[int, ...],
                                stride: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
        """``fold_windows`` as one strided add per kernel offset (prod(kernel) vectorised
        adds, no index arrays): for backends whose arrays add into strided slices in place,
        as NumPy's and CuPy's do."""
        k = len(stride)
        out = self.zeros(shape, windows.dtype)
        out_size = windows.shape[-2 * k:-k]
        for offset in np.ndindex(*windows.shape[-k:]):
            target = tuple(slice(j * d, j * d + s * (n - 1) + 1, s)
                           for j, d, s, n in zip(offset, dilation, stride, out_size))
            out[(Ellipsis, *target)] += windows[(Ellipsis, *offset)]
        return out

    def im2col(self, x: Any, kernel_size: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...]) -> Any:
        """The windows of ``sliding_windows`` as columns: shape (..., *kernel_size, *out),
        the kernel offsets before the window positions, so that (..., C * prod(kernel),
        prod(out)) is a reshape of it and ``W @ cols`` a convolution. This default is a
        transposed view of the windows (the reshape copies it); a backend may copy once
        into that layout."""
        windows = self.sliding_windows(x, kernel_size, stride, dilation)
        return self.transpose(windows, _columns_order(windows.ndim, len(kernel_size)))

    def col2im(self, cols: Any, shape: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...]) -> Any:
        """Zeros of ``shape`` with every column of ``cols`` (as ``im2col`` gives them)
        added back where it was read: the gradient of ``im2col``."""
        k = len(stride)
        order = _columns_order(cols.ndim, k)
        back = tuple(sorted(range(cols.ndim), key=order.__getitem__))  # the inverse order
        return self.fold_windows(self.transpose(cols, back), shape, stride, dilation)

    def max_pool(self, x: Any, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...]) -> tuple[Any, Any]:
        """The maximum of each window of the last ``len(kernel_size)`` axes, shape
        (..., *out), and its flat index in the window, as ``window_max`` gives them."""
        windows = self.sliding_windows(x, kernel_size, stride, dilation)
        return self.window_max(windows, len(kernel_size))

    def max_pool_backward(self, grad: Any, best: Any, shape: tuple[int, ...],
                          kernel_size: tuple[int, ...], stride: tuple[int, ...],
                          dilation: tuple[int, ...]) -> Any:
        """Zeros of ``shape`` with each value of ``grad`` added at the maximum of its
        window (``best``, from ``max_pool``): the gradient of ``max_pool``."""
        picked = self.window_picks(best, kernel_size, grad.dtype)
        kept = (*grad.shape, *(1,) * len(kernel_size))
        return self.fold_windows(self.mul(self.reshape(grad, kept), picked), shape, stride,
                                 dilation)

    def window_picks(self, best: Any, kernel_size: tuple[int, ...], dtype: Any) -> Any:
        """One-hot windows, shape (*best.shape, *kernel_size): 1 at each flat index of
        ``best``, else 0."""
        size = int(np.prod(kernel_size))
        picked = self.eq(self.reshape(best, (*best.shape, 1)), self.arange(0, size, 1, np.int64))
        return self.astype(self.reshape(picked, (*best.shape, *kernel_size)), dtype)

    def conv2d_direct_pays(self, x_shape: tuple[int, ...], weight_shape: tuple[int, ...],
                           dtype: Any) -> bool:
        """Whether ``conv2d_direct`` beats im2col and a matmul for these shapes (stride 1,
        one group); the composed convolution runs where it does not."""
        return False

    def conv2d_direct(self, x: Any, weight: Any, bias: Any,
                      dilation: tuple[int, int]) -> Any:
        """The convolution of (N, C, H, W) by (C_out, C, kh, kw) at stride 1, one group,
        plus ``bias`` (C_out,) unless it is None: (N, C_out, out_h, out_w). This default is
        the composed one, im2col and a matmul per image; a backend may loop over the input
        directly."""
        n, out_channels = x.shape[0], weight.shape[0]
        cols = self.im2col(x, weight.shape[2:], (1, 1), dilation)
        out = cols.shape[-2:]
        y = self.matmul(self.reshape(weight, (out_channels, -1)),
                        self.reshape(cols, (n, -1, out[0] * out[1])))
        if bias is not None:
            y = self.add(y, self.reshape(bias, (out_channels, 1)), out=y)
        return self.reshape(y, (n, out_channels, *out))

    def conv2d_direct_backward(self, x: Any, weight: Any, grad: Any,
                               dilation: tuple[int, int], needs_input: bool = True,
                               needs_weight: bool = True) -> tuple[Any, Any]:
        """The gradients of ``conv2d_direct`` with respect to x and the weight (None where
        not needed), from the gradient of its result."""
        n, out_channels = grad.shape[:2]
        g = self.reshape(grad, (n, out_channels, -1))
        w = self.reshape(weight, (out_channels, -1))
        grad_x = grad_weight = None
        if needs_weight:  # dL/dW = sum over images of G cols^T
            cols = self.reshape(self.im2col(x, weight.shape[2:], (1, 1), dilation),
                                (n, w.shape[1], -1))
            per_image = self.matmul(g, self.transpose(cols, (0, 2, 1)))
            grad_weight = self.reshape(self.sum(per_image, axis=0), weight.shape)
        if needs_input:  # dL/dcols = W^T G, folded back (col2im)
            cols = self.matmul(self.transpose(w, (1, 0)), g)
            grad_x = self.col2im(self.reshape(cols, (n, *weight.shape[1:], *grad.shape[2:])),
                                 x.shape, (1, 1), dilation)
        return grad_x, grad_weight

    def window_max(self, windows: Any, axes: int) -> tuple[Any, Any]:
        """The maximum of each window (the last ``axes`` axes) and its flat index in the
        window: the first where several tie; a NaN is the maximum (which of several NaNs
        is the backend's choice)."""
        lead = windows.shape[:-axes]
        flat = self.reshape(windows, (*lead, -1))
        best = self.argmax(flat, axis=-1)
        return self.max(flat, axis=-1), best

    def _window_positions(self, out_size: tuple[int, ...], kernel_size: tuple[int, ...],
                          stride: tuple[int, ...], dilation: tuple[int, ...]) -> list:
        """Per windowed axis, the integer positions the windows read, shaped to broadcast
        to (*out_size, *kernel_size)."""
        k = len(kernel_size)
        positions = []
        for axis, (out, kk, s, d) in enumerate(zip(out_size, kernel_size, stride, dilation)):
            starts = self.reshape(self.arange(0, out * s, s, np.int64), (out, 1))
            offsets = self.reshape(self.arange(0, kk * d, d, np.int64), (1, kk))
            shape = [1] * (2 * k)
            shape[axis], shape[k + axis] = out, kk
            positions.append(self.reshape(self.add(starts, offsets), tuple(shape)))
        return positions


def _columns_order(ndim: int, k: int) -> tuple[int, ...]:
    """The axes of (..., *out, *kernel) windows in the order of columns (..., *kernel, *out)."""
    lead = ndim - 2 * k
    return (*range(lead), *range(lead + k, ndim), *range(lead, lead + k))


_ALIASES = {"cpu": "numpy", "cuda": "cupy"}
_BUILTIN = {
    "numpy": "minigrad.backends.numpy_backend:NumPyBackend",
    "numba": "minigrad.backends.numba_backend:NumbaBackend",
    "cupy": "minigrad.backends.cupy_backend:CuPyBackend",
}
_INSTALL_HINTS = {
    "numba": 'pip install "minigrad[numba]"',
    "cupy": 'pip install "minigrad[cuda]" (and an NVIDIA GPU with its driver)',
}
_factories: dict[str, Callable[[], Backend]] = {}
_instances: dict[str, Backend] = {}
_default_device = "numpy"


def missing_primitives(backend: Backend) -> list[str]:
    """The required primitives that ``backend`` leaves to Backend's declarations."""
    return [name for name, declared in vars(Backend).items()
            if getattr(declared, "required", False) and name not in vars(backend)
            and getattr(type(backend), name) is declared]


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``factory`` (a Backend class, or any callable returning a Backend) known as
    ``name``. The backend is made and checked when first asked for: one that leaves a
    required primitive out is refused with the names of what is missing."""
    _factories[name] = factory
    _instances.pop(name, None)


def _installed_entry_points() -> dict[str, Any]:
    """Backends that other packages declare in the ``minigrad.backends`` entry-point group."""
    return {ep.name: ep for ep in entry_points(group="minigrad.backends")}


def _factory(name: str) -> Callable[[], Backend] | None:
    if name in _factories:
        return _factories[name]
    if name in _BUILTIN:
        path = _BUILTIN[name]
    elif name in (found := _installed_entry_points()):
        path = found[name].value
    else:
        return None
    module, _, attr = path.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except ImportError as err:
        hint = _INSTALL_HINTS.get(name, "install the package that provides it")
        raise BackendUnavailable(f"device {name!r} is not available ({err}); {hint}") from err
    _factories[name] = factory
    return factory


def known_devices() -> list[str]:
    """Every backend name minigrad knows of, usable here or not."""
    return list(dict.fromkeys([*_BUILTIN, *_factories, *_installed_entry_points()]))


def get_backend(device: str | Backend | None = None) -> Backend:
    """The backend object for a device name (or for the default device)."""
    if isinstance(device, Backend):
        return device
    if device is None:
        device = _default_device
    if not isinstance(device, str):
        raise TypeError(f"device must be a name such as 'numpy', got {device!r}")
    name, colon, index = device.partition(":")  # PyTorch's "cuda:0"
    if colon and index != "0":
        raise ValueError(f"device {device!r}: each minigrad device has one index, 0")
    name = _ALIASES.get(name, name)
    backend = _instances.get(name)
    if backend is not None:
        return backend
    factory = _factory(name)
    if factory is None:
        raise ValueError(
            f"unknown device {device!r}; known devices: {', '.join(known_devices())} "
            "(aliases: cpu for numpy, cuda for cupy)"
        )
    reason = factory.unavailable_reason() if isinstance(factory, type) else None
    if reason:
        hint = getattr(factory, "install_hint", "") or _INSTALL_HINTS.get(name, "")
        raise BackendUnavailable(
            f"device {name!r} is not available: {reason}" + (f"; {hint}" if hint else "")
        )
    backend = factory()
    missing = missing_primitives(backend)
    if missing:
        raise TypeError(f"device {name!r}: {type(backend).__name__} does not implement "
                        f"{', '.join(missing)} (see minigrad.Backend for what each computes)")
    backend.name = name
    _instances[name] = backend
    from .random import seed_backend

    seed_backend(backend)
    return backend


def devices() -> list[str]:
    """Names of the backends usable on this machine; ``numpy`` is always first."""
    usable = []
    for name in known_devices():
        try:
            get_backend(name)
        except BackendUnavailable:
            continue
        usable.append(name)
    return usable


class device(str):  # noqa: N801  (PyTorch's name)
    """A device, as ``torch.device``: ``mg.device("cuda")``, ``mg.device("cuda:0")``,
    ``mg.device("cpu", 0)``; ``type`` and ``index`` as in PyTorch. It is its name, a str,
    so whatever takes a device name takes it."""

    type: str
    index: int | None

    def __new__(cls, type: str, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device name, got {type!r}")
        name, colon, number = type.partition(":")
        if colon:
            if index is not None or not number.isdigit():
                raise ValueError(f"device(): invalid device string {type!r}")
            index = int(number)
        if name not in _ALIASES and name not in known_devices():
            raise ValueError(f"device(): unknown device type {name!r}; known: "
                             f"{', '.join([*known_devices(), *_ALIASES])}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device(): the index must be a non-negative int, got {index!r}")
        self = super().__new__(cls, name if index is None else f"{name}:{index}")
        self.type, self.index = name, index
        return self

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


def set_default_device(device: str) -> None:
    """Make ``device`` the device of tensors created without ``device=``."""
    global _default_device
    _default_device = get_backend(device).name


def get_default_device() -> str:
    """The device new tensors are created on."""
    return _default_device
