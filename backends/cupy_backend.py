"""The CuPy backend: arrays in GPU memory, NumPy's functions from CuPy, fused CUDA kernels.

Data moves between host and GPU only where the user asks (``to``, ``numpy``, ``item``).
CuPy imports without a GPU and fails only at the first array, so availability asks
``cupy.cuda.is_available()`` rather than trusting the import.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from minigrad.backend import Backend
from minigrad.optimizer_kernels import check_arrays


class CuPyBackend(Backend):
    """Arrays are ``cupy.ndarray`` on the current CUDA device."""

    name = "cupy"
    host_memory = False

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("cupy") is None:
            return "CuPy is not installed"
        try:
            import cupy

            if not cupy.cuda.is_available():
                return "CuPy is installed, but no CUDA GPU answers (is the driver loaded?)"
        except Exception as err:  # a broken CUDA install surfaces as many error types
            return f"CuPy could not reach a GPU: {err}"
        return None

    def __init__(self, xp: Any = None) -> None:
        if xp is None:
            import cupy as xp
        self.xp = xp
        self.rng = xp.random.RandomState()
        self._kernels: dict[str, Any] = {}
        # elementwise: CuPy's ufuncs, which accept out= as NumPy's do
        self.add, self.sub, self.mul, self.div = xp.add, xp.subtract, xp.multiply, xp.true_divide
        self.pow, self.maximum, self.minimum = xp.power, xp.maximum, xp.minimum
        self.neg, self.exp, self.log, self.sqrt = xp.negative, xp.exp, xp.log, xp.sqrt
        self.abs, self.tanh = xp.abs, xp.tanh
        self.sign = lambda x: xp.nan_to_num(xp.sign(x), copy=False)  # 0 at NaN, as PyTorch
        self.lt, self.le, self.gt, self.ge = xp.less, xp.less_equal, xp.greater, xp.greater_equal
        self.eq, self.ne = xp.equal, xp.not_equal
        self.sin, self.cos, self.tan = xp.sin, xp.cos, xp.tan
        self.sinh, self.cosh = xp.sinh, xp.cosh
        self.arcsin, self.arccos, self.arctan = xp.arcsin, xp.arccos, xp.arctan
        self.arctan2, self.copysign = xp.arctan2, xp.copysign
        self.floor, self.ceil, self.rint, self.trunc = xp.floor, xp.ceil, xp.rint, xp.trunc
        self.floor_divide, self.fmod, self.remainder = xp.floor_divide, xp.fmod, xp.remainder
        self.isnan, self.isinf, self.isfinite = xp.isnan, xp.isinf, xp.isfinite
        self.bitwise_and, self.bitwise_or = xp.bitwise_and, xp.bitwise_or
        self.bitwise_xor, self.invert = xp.bitwise_xor, xp.invert
        self.left_shift, self.right_shift = xp.left_shift, xp.right_shift
        self.log1p, self.expm1, self.exp2 = xp.log1p, xp.expm1, xp.exp2
        self.log2, self.log10 = xp.log2, xp.log10
        self.arcsinh, self.arccosh, self.arctanh = xp.arcsinh, xp.arccosh, xp.arctanh
        self.hypot, self.logaddexp, self.logaddexp2 = xp.hypot, xp.logaddexp, xp.logaddexp2
        self.fmax, self.fmin = xp.fmax, xp.fmin

    def describe(self) -> str:
        xp = self.xp
        device = xp.cuda.Device()
        props = xp.cuda.runtime.getDeviceProperties(device.id)
        pool = xp.get_default_memory_pool()
        return (f"CuPy {xp.__version__} on GPU {device.id} ({props['name'].decode()}), "
                f"memory pool {pool.used_bytes() / 2**20:.1f} MiB used of "
                f"{pool.total_bytes() / 2**20:.1f} MiB held")

    def synchronize(self) -> None:
        self.xp.cuda.Device().synchronize()

    def capture_graph(self, body: Any) -> Any:
        """``body``'s kernels captured on a stream of their own (CuPy's stream capture) and
        launched there as one CUDA graph. Each launch waits for the work queued before it
        on the current stream, and the current stream waits for the launch, so that what
        reads the results afterwards (a copy, ``.item()``) sees them complete. Memory
        ``body`` allocates during capture comes from the capture stream's pool, which
        nothing but the graph uses after; what it returns is kept alive with the graph."""
        cuda = self.xp.cuda
        stream = cuda.Stream(non_blocking=True)
        with stream:
            stream.begin_capture()
            try:
                kept = body()
            finally:
                graph = stream.end_capture()

        def launch() -> Any:
            current = cuda.get_current_stream()
            stream.wait_event(current.record())
            graph.launch(stream)
            current.wait_event(stream.record())
            return kept

        return launch

    # creation and transfer
    def asarray(self, data: Any, dtype: np.dtype | None = None) -> Any:
        return self.xp.array(data, dtype=dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        return self.xp.asnumpy(x)

    def from_backend(self, x: Any, source: Backend) -> Any:
        return self.xp.asarray(source.to_numpy(x))

    def zeros(self, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        return self.xp.zeros(shape, dtype)

    def ones(self, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        return self.xp.ones(shape, dtype)

    def full(self, shape: tuple[int, ...], value: Any, dtype: np.dtype) -> Any:
        return self.xp.full(shape, value, dtype)

    def arange(self, start: Any, stop: Any, step: Any, dtype: np.dtype) -> Any:
        return self.xp.arange(start, stop, step, dtype=dtype)

    def astype(self, x: Any, dtype: np.dtype) -> Any:
        return x.astype(dtype)

    def copy(self, x: Any) -> Any:
        return x.copy()

    def owns_memory(self, x: Any) -> bool:
        return isinstance(x, self.xp.ndarray) and x.base is None

    def shares_memory(self, a: Any, b: Any) -> bool:
        return bool(self.xp.may_share_memory(a, b))

    # random numbers
    def seed(self, seed: int) -> None:
        self.rng = self.xp.random.RandomState(seed)

    def randn(self, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        if dtype == np.float16:  # drawn in float32, as the NumPy backend's
            return self.rng.standard_normal(shape, dtype=np.float32).astype(np.float16)
        return self.rng.standard_normal(shape, dtype=dtype)

    def rand(self, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        if dtype == np.float16:
            return (self.rng.randint(0, 2048, shape) * 2.0**-11).astype(np.float16)
        return self.rng.random_sample(shape, dtype=dtype)

    def permutation(self, n: int) -> Any:
        return self.rng.permutation(n)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return self.xp.where(condition, a, b)

    def clip(self, x: Any, low: Any, high: Any) -> Any:
        return self.xp.clip(x, low, high)

    # reductions
    def sum(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.sum(x, axis=axis, keepdims=keepdims)

    def max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.max(x, axis=axis, keepdims=keepdims)

    def min(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.min(x, axis=axis, keepdims=keepdims)

    def argmax(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self.xp.argmax(x, axis=axis, keepdims=keepdims)

    def argmin(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self.xp.argmin(x, axis=axis, keepdims=keepdims)

    # movement and indexing
    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any:
        return self.xp.reshape(x, shape)

    def transpose(self, x: Any, axes: tuple[int, ...] | None = None) -> Any:
        return self.xp.transpose(x, axes)

    def broadcast_to(self, x: Any, shape: tuple[int, ...]) -> Any:
        return self.xp.broadcast_to(x, shape)

    def getitem(self, x: Any, index: Any) -> Any:
        return x[self._index(index)]

    def setitem(self, x: Any, index: Any, value: Any) -> None:
        x[self._index(index)] = value

    def scatter_add(self, shape: tuple[int, ...], index: Any, values: Any) -> Any:
        out = self.xp.zeros(shape, dtype=values.dtype)
        self.xp.add.at(out, self._index(index), values)
        return out

    def concatenate(self, arrays: list, axis: int) -> Any:
        return self.xp.concatenate(arrays, axis=axis)

    def stack(self, arrays: list, axis: int) -> Any:
        return self.xp.stack(arrays, axis=axis)

    def _index(self, index: Any) -> Any:
        """Host index arrays (from lists or NumPy) go to the device once, here."""
        if isinstance(index, tuple):
            return tuple(self._index(i) for i in index)
        if isinstance(index, np.ndarray):
            return self.xp.asarray(index)
        return index

    # linear algebra
    def matmul(self, a: Any, b: Any) -> Any:
        return self.xp.matmul(a, b)

    # windows (convolution and pooling); untested here: written as the NumPy backend's
    def sliding_windows(self, x: Any, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                        dilation: tuple[int, ...]) -> Any:
        k = len(kernel_size)
        out = tuple((n - d * (kk - 1) - 1) // s + 1
                    for n, kk, s, d in zip(x.shape[-k:], kernel_size, stride, dilation))
        steps = x.strides[-k:]
        strides = (*x.strides[:-k], *(st * s for st, s in zip(steps, stride)),
                   *(st * d for st, d in zip(steps, dilation)))
        return self.xp.lib.stride_tricks.as_strided(
            x, shape=(*x.shape[:-k], *out, *kernel_size), strides=strides)

    fold_windows = Backend.fold_windows_by_offsets

    # scans, sorting, selection and contraction (cummax, cummin and logcumsumexp: the
    # Backend's doubling scan, as CuPy has no cumulative maximum)
    def cumsum(self, x: Any, axis: int) -> Any:
        return self.xp.cumsum(x, axis=axis, dtype=np.int64 if x.dtype.kind in "biu" else None)

    def cumprod(self, x: Any, axis: int) -> Any:
        return self.xp.cumprod(x, axis=axis, dtype=np.int64 if x.dtype.kind in "biu" else None)

    def argsort(self, x: Any, axis: int) -> Any:
        return self.xp.argsort(x, axis=axis, kind="stable")

    def argpartition(self, x: Any, kth: int, axis: int) -> Any:
        return self.xp.argpartition(x, kth, axis=axis)

    def nonzero(self, x: Any) -> Any:
        return self.xp.argwhere(x)

    def scatter_reduce(self, x: Any, index: Any, values: Any, reduce: str) -> None:
        if reduce == "prod":  # CuPy has no multiply.at: NumPy's, through host memory
            host = self.to_numpy(x)
            np.multiply.at(host, tuple(self.to_numpy(i) if hasattr(i, "shape") else i
                                       for i in index), self.to_numpy(values))
            x[...] = self.xp.asarray(host)
            return
        ufunc = {"sum": "add", "amax": "maximum", "amin": "minimum"}[reduce]
        getattr(self.xp, ufunc).at(x, self._index(index), values)

    def einsum(self, equation: str, *operands: Any) -> Any:
        return self.xp.einsum(equation, *operands)

    def inverse(self, a: Any) -> Any:
        return self.xp.linalg.inv(a)

    def det(self, a: Any) -> Any:
        return self.xp.linalg.det(a)

    def solve(self, a: Any, b: Any) -> Any:
        return self.xp.linalg.solve(a, b)

    def searchsorted(self, a: Any, v: Any, side: str) -> Any:
        return self.xp.searchsorted(a, v, side=side).astype(np.int64, copy=False)

    def randint(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        return self.rng.randint(low, high, size=shape, dtype=np.int64)

    # fused kernels
    def sigmoid(self, x: Any) -> Any:
        kernel = self._kernel("sigmoid", lambda xp: xp.ElementwiseKernel(
            "T x", "T y",
            "y = x >= 0 ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x))",
            "minigrad_sigmoid"))
        return kernel(x)

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr,
                    beta1, beta2, eps, weight_decay, decoupled, amsgrad) -> None:
        """Adam/AdamW in one kernel launch (formulas: minigrad.optimizer_kernels.adam_update)."""
        check_arrays(param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                     max_exp_avg_sq=max_exp_avg_sq)
        name = "adam_amsgrad" if amsgrad else "adam"
        kernel = self._kernel(name, lambda xp: xp.ElementwiseKernel(
            "T g, T decay, T wd, T keep1, T beta2, T omb1, T omb2, T bc2_sqrt, T eps, T neg_step",
            "T p, T m, T v" + (", T vmax" if amsgrad else ""),
            _ADAM.replace("AMSGRAD", "v2 = max(vmax, v2); vmax = v2;" if amsgrad else ""),
            f"minigrad_{name}"))
        t = param.dtype.type
        decay = 1 - lr * weight_decay if decoupled else 1.0
        states = (exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
        kernel(grad, t(decay), t(0 if decoupled else weight_decay), t(1 - (1 - beta1)),
               t(beta2), t(1 - beta1), t(1 - beta2), t((1 - beta2**step) ** 0.5), t(eps),
               t(-lr / (1 - beta1**step)), param, *states)

    def prepare_update(self, name: str, *arrays: Any) -> Any:
        """Adam/AdamW, SGD and RMSprop as one kernel that reads its hyperparameters from
        a small device array (``DeviceUpdate``), so that a CUDA graph holding it follows a
        schedule."""
        scalars = _DEVICE_SCALARS.get(name)
        if scalars is None:
            return super().prepare_update(name, *arrays)
        return DeviceUpdate(self, name, arrays, scalars)

    def _device_kernel(self, name: str, states: tuple) -> Any:
        """The fused kernel of ``name`` over the state arrays present, its hyperparameters
        read from ``raw T h``."""
        if name == "adam_update":
            amsgrad = states[2] is not None
            key = "adam_h_amsgrad" if amsgrad else "adam_h"
            body = _ADAM.replace("AMSGRAD", "v2 = max(vmax, v2); vmax = v2;" if amsgrad
                                 else "")
            outs = "T p, T m, T v" + (", T vmax" if amsgrad else "")
            names = ("decay", "wd", "keep1", "beta2", "omb1", "omb2", "bc2_sqrt", "eps",
                     "neg_step")
        elif name == "rmsprop_update":
            centered, momentum = states[1] is not None, states[2] is not None
            key = f"rmsprop_h{'_centered' * centered}{'_momentum' * momentum}"
            body = (_RMSPROP_SQUARE + (_RMSPROP_CENTERED if centered else "a = sqrt(s);")
                    + (_RMSPROP_MOMENTUM if momentum else _RMSPROP_PLAIN))
            outs = "T p, T sq" + (", T ga" if centered else "") + (", T buf" if momentum
                                                                  else "")
            names = ("neg_lr", "wd", "oma", "alpha", "lerp_low", "lerp_w", "lerp_keep", "eps",
                     "momentum")
        else:
            momentum = states[0] is not None
            key = "sgd_h_momentum" if momentum else "sgd_h"
            body = _SGD_MOMENTUM if momentum else _SGD
            outs = "T p, T buf" if momentum else "T p"
            names = ("neg_lr", "wd", "momentum", "undamped", "damped", "nesterov")
        loads = "".join(f"T {n} = h[{i}];\n" for i, n in enumerate(names))
        return self._kernel(key, lambda xp: xp.ElementwiseKernel(
            "T g, raw T h", outs, loads + body, f"minigrad_{key}"))

    # trigonometry, rounding, remainders, bits and tests
    def any(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.any(x, axis=axis, keepdims=keepdims)

    def all(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.all(x, axis=axis, keepdims=keepdims)

    def erf(self, x: Any) -> Any:
        from cupyx.scipy.special import erf

        return erf(x)

    def erfc(self, x: Any) -> Any:
        from cupyx.scipy.special import erfc

        return erfc(x)

    def _kernel(self, name: str, build: Any) -> Any:
        kernel = self._kernels.get(name)
        if kernel is None:
            kernel = self._kernels[name] = build(self.xp)
        return kernel


# the operations of minigrad.optimizer_kernels.adam_update, in the same order
_ADAM = """
T p1 = p * decay;
T g1 = g + wd * p1;
T m1 = omb1 < T(0.5) ? m + (g1 - m) * omb1 : g1 - (g1 - m) * keep1;
m = m1;
T v2 = v * beta2 + g1 * omb2 * g1;
v = v2;
AMSGRAD
p = p1 + m1 * neg_step / (sqrt(v2) / bc2_sqrt + eps);
"""


# SGD, as minigrad.optimizer_kernels.sgd_update computes it (flags as 0 or 1)
_SGD = """
T g1 = wd != T(0) ? g + p * wd : g;
p = p + g1 * neg_lr;
"""
_SGD_MOMENTUM = """
T g1 = wd != T(0) ? g + p * wd : g;
T b = buf * momentum;
b = damped != T(0) ? b + g1 * undamped : b + g1;
buf = b;
T d = nesterov != T(0) ? g1 + b * momentum : b;
p = p + d * neg_lr;
"""

# RMSprop, as minigrad.optimizer_kernels.rmsprop_update computes it
_RMSPROP_SQUARE = """
T g1 = wd != T(0) ? g + p * wd : g;
T a = g1 * oma;
a = a * g1;
T s = sq * alpha;
s = s + a;
sq = s;
"""
_RMSPROP_CENTERED = """
T d = g1 - ga;
T ga1 = lerp_low != T(0) ? ga + d * lerp_w : g1 - d * lerp_keep;
ga = ga1;
a = ga1 * ga1;
a = s - a;
a = sqrt(a);
"""
_RMSPROP_PLAIN = """
a = a + eps;
p = p + (g1 * neg_lr) / a;
"""
_RMSPROP_MOMENTUM = """
a = a + eps;
a = g1 / a;
T b = buf * momentum;
b = b + a;
buf = b;
p = p + b * neg_lr;
"""


def _rmsprop_scalars(*, lr, alpha, eps, weight_decay, momentum, centered):
    weight = 1 - alpha  # of the lerp of the centered average, with PyTorch's two branches
    return (-lr, weight_decay, 1 - alpha, alpha, weight < 0.5, weight, 1 - weight, eps,
            momentum)


def _adam_scalars(*, step, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad):
    """The numbers the Adam kernel reads, computed as ``CuPyBackend.adam_update`` does."""
    decay = 1 - lr * weight_decay if decoupled else 1.0
    return (decay, 0 if decoupled else weight_decay, 1 - (1 - beta1), beta2, 1 - beta1,
            1 - beta2, (1 - beta2**step) ** 0.5, eps, -lr / (1 - beta1**step))


def _sgd_scalars(*, lr, momentum, dampening, weight_decay, nesterov):
    return (-lr, weight_decay, momentum, 1 - dampening, dampening != 0, bool(nesterov))


_DEVICE_SCALARS = {"adam_update": _adam_scalars, "sgd_update": _sgd_scalars,
                   "rmsprop_update": _rmsprop_scalars}
_MAX_SCALARS = 9


class DeviceUpdate:
    """A fused optimizer update over flat buffers whose hyperparameters live in a small
    device array: ``load(**options)`` writes them (host work, every step), ``launch()``
    runs the kernel (device work only, which a CUDA graph can hold); calling it does both.
    """

    def __init__(self, backend: CuPyBackend, name: str, arrays: tuple, scalars: Any) -> None:
        param, grad, *states = arrays
        check_arrays(param, grad=grad, **{f"state{i}": a for i, a in enumerate(states)})
        self.backend, self.scalars = backend, scalars
        self.kernel = backend._device_kernel(name, tuple(states))
        self.param, self.grad = param, grad
        self.states = tuple(a for a in states if a is not None)
        self.host = np.zeros(_MAX_SCALARS, param.dtype)
        self.device = backend.xp.zeros(_MAX_SCALARS, param.dtype)

    def load(self, **options: Any) -> None:
        values = self.scalars(**options)
        self.host[:len(values)] = values
        if isinstance(self.device, np.ndarray):
            self.device[...] = self.host
        else:
            self.device.set(self.host)

    def launch(self) -> None:
        self.kernel(self.grad, self.device, self.param, *self.states)

    def __call__(self, **options: Any) -> None:
        self.load(**options)
        self.launch()
