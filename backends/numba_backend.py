"""The Numba backend: host NumPy arrays, with fused JIT-compiled kernels on the hot paths.

Arrays are plain ``numpy.ndarray``, so moving a tensor between ``numpy`` and ``numba``
costs no copy. Everything NumPy already does well (small elementwise ops, matmul on
BLAS) is inherited from the NumPy backend; the kernels in ``numba_kernels`` replace the
operations that NumPy does in several passes. Each kernel is compiled on first use
(``cache=True``, so a second process starts warm), and the time spent compiling is kept
in ``compile_seconds``.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import importlib.util
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import optimizer_kernels as updates

from .numpy_backend import NumPyBackend

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # Numba has no float16 math
SOFTMAX_MAX_CLASSES = 32  # the softmax kernel beats NumPy's up to about this many classes,
SOFTMAX_MIN_LOGITS = 1 << 22  # and, with more, from about this many logits
# Direct convolution beats im2col and a matmul per image up to about this many taps per
# output (C_in * k_h * k_w): LeNet-5's first layer (25 taps, 64x1x32x32 padded) took 0.45
# against 0.61 ms forward, without the column buffer its weight gradient would need; its
# second (150 taps, 64x6x14x14) 0.95 against 0.77 ms.
DIRECT_CONV_MAX_TAPS = 32


class NumbaBackend(NumPyBackend):
    """NumPy arrays and functions, with Numba kernels where one pass beats several."""

    name = "numba"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("numba") is None:
            return "numba is not installed"
        return None

    def __init__(self) -> None:
        super().__init__()
        import numba

        # Parallel kernels run on the TBB layer where the tbb package is installed (the
        # numba extra brings it), else on the workqueue layer: the workers of both sleep
        # when idle, where OpenMP's spin for a while after each kernel, beside the BLAS
        # threads. TBB wakes its workers several times faster than workqueue or OpenMP:
        # a 1M-element Adam update runs twice as fast, and parallel optimizer updates pay
        # from 256K elements instead of 4M (examples/numba_tuning.py measures the layers).
        # A layer the user chose (NUMBA_THREADING_LAYER) is kept.
        load_tbb()
        if "NUMBA_THREADING_LAYER" not in os.environ:
            numba.config.THREADING_LAYER = "tbb" if tbb_available() else "workqueue"
        from . import numba_kernels

        self.kernels = numba_kernels.Kernels(numba.config.THREADING_LAYER)

    def describe(self) -> str:
        import numba

        return (f"Numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads, "
                f"{self.threading_layer()} layer), host memory shared with numpy")

    def threading_layer(self) -> str:
        """The layer Numba's parallel kernels run on, as Numba reports it once its threads
        have started (they are started here if need be)."""
        import numba
        from numba.np.ufunc import parallel

        try:
            parallel._launch_threads()
            return numba.threading_layer()
        except Exception as err:  # the layer asked for cannot start here
            return f"no {numba.config.THREADING_LAYER} threads: {err}"

    @property
    def compile_seconds(self) -> float:
        """Seconds spent so far compiling (or loading from the cache) this backend's kernels."""
        return self.kernels.compile_seconds

    def from_backend(self, x: Any, source: Any) -> np.ndarray:
        if isinstance(source, NumPyBackend):
            return x  # the same host memory
        return source.to_numpy(x)

    def sigmoid(self, x: np.ndarray) -> np.ndarray:
        if x.dtype not in KERNEL_DTYPES:
            return super().sigmoid(x)
        return self.kernels.elementwise("sigmoid", x)

    def relu(self, x: np.ndarray) -> np.ndarray:
        if x.dtype not in KERNEL_DTYPES:
            return super().relu(x)
        return self.kernels.elementwise("relu", x)

    def relu_backward(self, out: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if out.dtype not in KERNEL_DTYPES or grad.dtype != out.dtype or grad.shape != out.shape:
            return super().relu_backward(out, grad)
        grad_in = np.empty(out.shape, out.dtype)
        self.kernels.call("relu_backward", out.size, *_flat(out, grad), grad_in.reshape(-1))
        return grad_in

    def sum_to(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        # a bias's gradient, the rows of a C-contiguous array summed: one kernel call that
        # adds them in NumPy's order, without NumPy's reduction machinery (one column
        # NumPy sums pairwise, so that stays NumPy's)
        if (x.ndim == 2 and x.shape[1:] == shape and x.shape[0] > 0 and x.shape[1] > 1
                and x.dtype in KERNEL_DTYPES and x.flags.c_contiguous):
            out = np.empty(shape, x.dtype)
            self.kernels.call("sum_rows", x.size, x, out)
            return out
        return super().sum_to(x, shape)

    def _softmax_kernel_pays(self, x: np.ndarray) -> bool:
        # Numba's exp is scalar where NumPy's is SIMD: the kernel wins on few classes (2-5x
        # at 10), and on many only for millions of logits, in parallel; in between NumPy
        # is as fast or faster (examples/numba_tuning.py measures it).
        return (x.dtype in KERNEL_DTYPES and x.flags.c_contiguous
                and (x.shape[1] <= SOFTMAX_MAX_CLASSES or x.size >= SOFTMAX_MIN_LOGITS))

    def softmax_cross_entropy(self, logits, target):
        if not self._softmax_kernel_pays(logits):
            return super().softmax_cross_entropy(logits, target)
        losses = np.empty(logits.shape[0], logits.dtype)
        probs = np.empty(logits.shape, logits.dtype)
        self.kernels.call("softmax_xent", logits.size, logits, target, losses, probs)
        return losses, probs

    def softmax_cross_entropy_backward(self, probs, target, grad):
        if not self._softmax_kernel_pays(probs):
            return super().softmax_cross_entropy_backward(probs, target, grad)
        out = np.empty(probs.shape, probs.dtype)
        self.kernels.call("softmax_xent_backward", probs.size, probs, target,
                          np.ascontiguousarray(grad, probs.dtype), out)
        return out

    # 2-D windows (convolution and pooling): one pass where NumPy makes one per kernel offset
    def fold_windows(self, windows, shape, stride, dilation):
        images = _images(windows, 2)
        if images is None or len(shape) != windows.ndim - 2:
            return super().fold_windows(windows, shape, stride, dilation)
        out = np.zeros((*images.shape[:2], *shape[-2:]), windows.dtype)
        self.kernels.call("fold_windows", windows.size, images, out, *stride, *dilation)
        return out.reshape(shape)

    def window_max(self, windows, axes):
        images = _images(windows, axes)
        if images is None:
            return super().window_max(windows, axes)
        best = np.empty(images.shape[:4], windows.dtype)
        size = images.shape[4] * images.shape[5]
        index = np.empty(images.shape[:4], np.int8 if size <= 127 else np.int64)
        self.kernels.call("window_max", windows.size, images, best, index)
        lead = windows.shape[:-2]
        return best.reshape(lead), index.reshape(lead)

    # 2-D im2col, col2im and max-pooling on whole images, one pass each (im2col only at
    # stride and dilation 1: elsewhere NumPy's copy of the strided view beat the kernel)
    def im2col(self, x, kernel_size, stride, dilation):
        out = _window_counts(x, kernel_size, stride, dilation)
        if out is None or not stride == dilation == (1, 1):
            return super().im2col(x, kernel_size, stride, dilation)
        images = np.ascontiguousarray(x).reshape(-1, *x.shape[-2:])
        cols = np.empty((images.shape[0], *kernel_size, *out), x.dtype)
        self.kernels.call("im2col_unit", cols.size, images, cols)
        return cols.reshape(*x.shape[:-2], *kernel_size, *out)

    def col2im(self, cols, shape, stride, dilation):
        if (len(stride) != 2 or cols.ndim != len(shape) + 2 or cols.dtype not in KERNEL_DTYPES
                or not cols.flags.c_contiguous or cols.size == 0):
            return super().col2im(cols, shape, stride, dilation)
        columns = cols.reshape(-1, *cols.shape[-4:])
        out = np.zeros((columns.shape[0], *shape[-2:]), cols.dtype)
        if stride == dilation == (1, 1):
            self.kernels.call("col2im_unit", cols.size, columns, out)
        else:
            self.kernels.call("col2im", cols.size, columns, out, *stride, *dilation)
        return out.reshape(shape)

    def max_pool(self, x, kernel_size, stride, dilation):
        out = _window_counts(x, kernel_size, stride, dilation)
        if out is None:
            return super().max_pool(x, kernel_size, stride, dilation)
        images = np.ascontiguousarray(x).reshape(-1, *x.shape[-2:])
        best = np.empty((images.shape[0], *out), x.dtype)
        index = np.empty(best.shape, np.int8 if math.prod(kernel_size) <= 127 else np.int64)
        if _pairs_at_two(kernel_size, stride, dilation):
            self.kernels.call("max_pool_2x2", x.size, images, best, index)
        else:
            self.kernels.call("max_pool", x.size, images, best, index, *kernel_size, *stride,
                              *dilation)
        lead = x.shape[:-2]
        return best.reshape(*lead, *out), index.reshape(*lead, *out)

    def max_pool_backward(self, grad, best, shape, kernel_size, stride, dilation):
        if (len(kernel_size) != 2 or grad.ndim < 2 or grad.dtype not in KERNEL_DTYPES
                or grad.size == 0 or best.dtype.kind not in "iu"):
            return super().max_pool_backward(grad, best, shape, kernel_size, stride, dilation)
        out_size = grad.shape[-2:]
        out = np.zeros((math.prod(shape[:-2]), *shape[-2:]), grad.dtype)
        grad = np.ascontiguousarray(grad).reshape(-1, *out_size)
        best = np.ascontiguousarray(best).reshape(-1, *out_size)
        if _pairs_at_two(kernel_size, stride, dilation):
            self.kernels.call("max_pool_2x2_backward", grad.size, grad, best, out)
        else:
            self.kernels.call("max_pool_backward", grad.size, grad, best, out, kernel_size[1],
                              *stride, *dilation)
        return out.reshape(shape)

    # direct convolution for few input channels: no column buffer
    def conv2d_direct_pays(self, x_shape, weight_shape, dtype):
        return (np.dtype(dtype) in KERNEL_DTYPES
                and math.prod(weight_shape[1:]) <= DIRECT_CONV_MAX_TAPS)

    def conv2d_direct(self, x, weight, bias, dilation):
        if not self._direct_ready(x, weight, dilation) or (bias is not None
                                                            and bias.dtype != x.dtype):
            return super().conv2d_direct(x, weight, bias, dilation)
        out = np.empty((x.shape[0], weight.shape[0], *_direct_out(x, weight, dilation)),
                       x.dtype)
        bias = np.zeros(weight.shape[0], x.dtype) if bias is None else np.ravel(bias)
        self.kernels.call("conv_direct", out.size, np.ascontiguousarray(x),
                          np.ascontiguousarray(weight), bias, out, *dilation)
        return out

    def conv2d_direct_backward(self, x, weight, grad, dilation, needs_input=True,
                               needs_weight=True):
        if not self._direct_ready(x, weight, dilation) or grad.dtype != x.dtype:
            return super().conv2d_direct_backward(x, weight, grad, dilation, needs_input,
                                                  needs_weight)
        x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
        grad = np.ascontiguousarray(grad)
        grad_x = grad_weight = None
        if needs_weight:
            grad_weight = np.empty_like(weight)
            self.kernels.call("conv_direct_weight", x.size, x, grad, grad_weight, *dilation)
        if needs_input:
            grad_x = np.empty_like(x)
            self.kernels.call("conv_direct_input", x.size, grad, weight, grad_x, *dilation)
        return grad_x, grad_weight

    def _direct_ready(self, x, weight, dilation):
        """Whether the kernels take these arrays (else the default runs, and says what
        does not fit)."""
        return (x.ndim == weight.ndim == 4 and x.dtype in KERNEL_DTYPES
                and weight.dtype == x.dtype and x.shape[1] == weight.shape[1]
                and x.size > 0 and weight.size > 0 and min(_direct_out(x, weight, dilation)) > 0)

    # fused optimizer updates: one pass over parameter, gradient and state, in place
    # (signatures and formulas: minigrad.optimizer_kernels). The kernels index every array
    # up to param.size, so each update first checks that every array has the parameter's
    # shape and dtype, and runs a kernel only on contiguous ones (check_arrays, _kernel_ready).
    def adam_update(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr,
                    beta1, beta2, eps, weight_decay, decoupled, amsgrad) -> None:
        updates.check_arrays(param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                             max_exp_avg_sq=max_exp_avg_sq)
        if amsgrad and max_exp_avg_sq is None:
            raise ValueError("amsgrad needs a max_exp_avg_sq buffer")
        t = param.dtype.type  # hyperparameters in the parameter's precision
        states = (exp_avg, exp_avg_sq, exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq)
        if not _kernel_ready(param, *states):
            return updates.adam_update(
                self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr,
                beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                decoupled=decoupled, amsgrad=amsgrad)
        self.kernels.call("adam", param.size, *_flat(param, grad, *states),
                          *_adam_scalars(t, step, lr, beta1, beta2, eps, weight_decay,
                                         decoupled, amsgrad))

    def sgd_update(self, param, grad, momentum_buffer, *, lr, momentum, dampening,
                   weight_decay, nesterov):
        updates.check_arrays(param, grad=grad, momentum_buffer=momentum_buffer)
        t = param.dtype.type
        first = momentum_buffer is None
        if momentum != 0 and first:
            momentum_buffer = np.empty_like(param)
        buffer = param if momentum_buffer is None else momentum_buffer
        if not _kernel_ready(param, buffer):
            return updates.sgd_update(
                self, param, grad, None if first else momentum_buffer, lr=lr, momentum=momentum,
                dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        self.kernels.call("sgd", param.size, *_flat(param, grad, buffer),
                          *_sgd_scalars(t, first, lr, momentum, dampening, weight_decay,
                                        nesterov))
        return momentum_buffer if momentum != 0 else None

    def rmsprop_update(self, param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha,
                       eps, weight_decay, momentum, centered) -> None:
        updates.check_arrays(param, grad=grad, square_avg=square_avg, grad_avg=grad_avg,
                             momentum_buffer=momentum_buffer)
        if (centered and grad_avg is None) or (momentum > 0 and momentum_buffer is None):
            raise ValueError("centered needs a grad_avg buffer and momentum a momentum_buffer")
        t = param.dtype.type
        states = (square_avg, square_avg if grad_avg is None else grad_avg,
                  square_avg if momentum_buffer is None else momentum_buffer)
        if not _kernel_ready(param, *states):
            return updates.rmsprop_update(
                self, param, grad, square_avg, grad_avg, momentum_buffer, lr=lr, alpha=alpha,
                eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        self.kernels.call("rmsprop", param.size, *_flat(param, grad, *states),
                          *_rmsprop_scalars(t, lr, alpha, eps, weight_decay, momentum,
                                            centered))

    def prepare_update(self, name, *arrays):
        # checked, flattened and the kernel's build chosen once; each call computes the
        # scalars and runs the kernel (the same as the update method's)
        param = arrays[0]
        kernel = name.removesuffix("_update")
        if name == "adam_update":
            param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq = arrays
            states = (exp_avg, exp_avg_sq,
                      exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq)
            scalars = _adam_scalars
        elif name == "sgd_update":
            param, grad, momentum_buffer = arrays
            states = (param if momentum_buffer is None else momentum_buffer,)
            scalars = functools.partial(_sgd_scalars, first=momentum_buffer is None)
        elif name == "rmsprop_update":
            param, grad, square_avg, grad_avg, momentum_buffer = arrays
            states = (square_avg, square_avg if grad_avg is None else grad_avg,
                      square_avg if momentum_buffer is None else momentum_buffer)
            scalars = _rmsprop_scalars
        else:
            return super().prepare_update(name, *arrays)
        updates.check_arrays(param, **{f"array {i}": a for i, a in enumerate(arrays[1:])})
        if param.ndim != 1 or not _kernel_ready(param, grad, *states):
            return super().prepare_update(name, *arrays)
        run = self.kernels.build(kernel, param.size)
        flat = (param, grad, *states)
        t = param.dtype.type
        slow = getattr(self, name)
        first_momentum = name == "sgd_update" and states[0] is param

        def update(**options: Any) -> Any:
            if first_momentum and options["momentum"] != 0:
                return slow(*arrays, **options)  # the first step makes the buffer
            run(*flat, *scalars(t, **options))
            return None

        def bind(**options: Any) -> tuple[Callable[[int], None], Callable[[Any], None] | None]:
            # the kernel's arguments made once for these options; Adam's two that change
            # with the step (and lr) made at each call, as _adam_scalars makes them
            if name != "adam_update":
                if first_momentum and options["momentum"] != 0:
                    return (lambda step: update(**options)), None
                fixed = (*flat, *scalars(t, **options))
                return (lambda step: run(*fixed)), None
            head = (*flat, *_adam_scalars(t, 1, **options)[:6])
            eps, amsgrad = t(options["eps"]), bool(options["amsgrad"])
            beta1, beta2 = options["beta1"], options["beta2"]
            rate = [options["lr"]]

            def adam(step: int) -> None:
                run(*head, t((1 - beta2**step) ** 0.5), eps,
                    t(-rate[0] / (1 - beta1**step)), amsgrad)

            def new_lr(value: Any) -> None:
                rate[0] = value

            return adam, (new_lr if not options["decoupled"] else None)

        update.bind = bind  # type: ignore[attr-defined]
        return update


def _adam_scalars(t, step, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad) -> tuple:
    """The scalar arguments of the Adam kernel, in the parameter's precision ``t``."""
    decay = 1 - lr * weight_decay if decoupled else 1.0
    bias_correction2 = 1 - beta2**step
    return (t(decay), t(0 if decoupled else weight_decay), t(1 - (1 - beta1)), t(beta2),
            t(1 - beta1), t(1 - beta2), t(bias_correction2**0.5), t(eps),
            t(-lr / (1 - beta1**step)), bool(amsgrad))


def _sgd_scalars(t, first, lr, momentum, dampening, weight_decay, nesterov) -> tuple:
    """The scalar arguments of the SGD kernel."""
    return (t(-lr), t(weight_decay), t(momentum), t(1 - dampening), first, bool(nesterov))


def _rmsprop_scalars(t, lr, alpha, eps, weight_decay, momentum, centered) -> tuple:
    """The scalar arguments of the RMSprop kernel."""
    return (t(-lr), t(alpha), t(1 - alpha), t(eps), t(weight_decay), t(momentum),
            bool(centered))


_TBB_LIBRARY = {"linux": "libtbb.so.12", "darwin": "libtbb.12.dylib"}


def load_tbb() -> str | None:
    """Load the TBB library of the ``tbb`` package, so that Numba finds it; its path.

    The package puts ``libtbb.so.12`` in the environment's ``lib`` folder (a virtual
    environment's, or ``~/.local/lib`` for ``pip install --user``), where the loader does not
    look; Numba asks for it by name and falls back to another layer. Loaded once by its
    path, with its symbols global, it is found by name afterwards. None where the package
    or its library is missing (Numba may still find a TBB of the system).
    """
    name = _TBB_LIBRARY.get(sys.platform)
    try:
        files = importlib.metadata.files("tbb") or ()
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if name is not None and file.name == name:
            path = os.path.realpath(file.locate())
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                return None
            return path
    return None


def tbb_available() -> bool:
    """Whether Numba can load its TBB threading layer (the tbb package, recent enough)."""
    load_tbb()
    try:
        from numba.np.ufunc import parallel

        parallel._check_tbb_version_compatible()
        from numba.np.ufunc import tbbpool  # noqa: F401
    except Exception:  # no tbb, an old one, or a Numba without these internals
        return False
    return True


def _kernel_ready(*arrays: np.ndarray) -> bool:
    """Whether a kernel can update these arrays in place through flat views (NumPy arrays,
    contiguous, of a dtype Numba computes in; shapes and dtypes are checked before)."""
    return arrays[0].dtype in KERNEL_DTYPES and all(
        isinstance(a, np.ndarray) and a.flags.c_contiguous for a in arrays)


def _window_counts(x: np.ndarray, kernel_size: tuple, stride: tuple,
                   dilation: tuple) -> tuple[int, int] | None:
    """The windows along the last two axes of ``x``, or None where the column and pooling
    kernels do not apply (other ranks or dtypes, no windows)."""
    if len(kernel_size) != 2 or x.ndim < 2 or x.dtype not in KERNEL_DTYPES or x.size == 0:
        return None
    out = tuple((n - d * (k - 1) - 1) // s + 1
                for n, k, s, d in zip(x.shape[-2:], kernel_size, stride, dilation))
    return out if min(out) > 0 else None


def _direct_out(x: np.ndarray, weight: np.ndarray, dilation: tuple) -> tuple[int, int]:
    return tuple(n - d * (k - 1) for n, k, d in zip(x.shape[2:], weight.shape[2:], dilation))


def _pairs_at_two(kernel_size: tuple, stride: tuple, dilation: tuple) -> bool:
    """2x2 windows at stride 2, side by side: the pooling that has kernels of its own."""
    return kernel_size == stride == (2, 2) and dilation == (1, 1)


def _images(windows: np.ndarray, axes: int) -> np.ndarray | None:
    """2-D windows (..., out_h, out_w, k_h, k_w) as a 6-D view with two leading axes, or
    None where the kernels do not apply (other dtypes or ranks, or leading axes that do not
    merge without a copy)."""
    if axes != 2 or windows.ndim < 4 or windows.dtype not in KERNEL_DTYPES or windows.size == 0:
        return None
    if windows.ndim <= 6:
        return windows.reshape((1,) * (6 - windows.ndim) + windows.shape)  # a view
    try:
        return np.reshape(windows, (-1, *windows.shape[-5:]), copy=False)
    except ValueError:
        return None


def _flat(*arrays: np.ndarray) -> list[np.ndarray]:
    """1-D views (a gradient that is not contiguous, such as a broadcast, is copied)."""
    return [a.reshape(-1) if a.flags.c_contiguous else np.ravel(a) for a in arrays]
