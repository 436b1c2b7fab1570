"""minigrad: a tape-based autodiff framework with pluggable device backends."""

from . import autograd, data, functional, nn, optim  # noqa: E402  (built on the above)
from .autograd import Context, backward, enable_grad, grad, is_grad_enabled, no_grad
from .backend import (
    Backend,
    BackendUnavailable,
    devices,
    get_backend,
    get_default_device,
    register_backend,
    set_default_device,
)
from .creation import arange, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from .errors import OpError
from .function import Function
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .return_types import ValuesIndices
from .serialization import load, save
from .tensor import Tensor
from .tensor_functions import (
    abs,
    amax,
    amin,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    concatenate,
    exp,
    flatten,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    relu,
    reshape,
    sigmoid,
    sign,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)

__version__ = "0.1.0"

__all__ = [
    "Backend", "BackendUnavailable", "Context", "Function", "GradcheckError", "OpError",
    "Tensor", "ValuesIndices", "abs", "amax", "amin",
    "arange", "argmax", "argmin", "autograd", "backward", "bool_", "broadcast_to", "cat",
    "clamp", "clip", "concatenate", "data", "devices", "enable_grad", "exp", "flatten",
    "float16", "float32", "float64", "full", "functional", "get_backend", "get_default_device",
    "grad", "gradcheck", "int16", "int32", "int64", "int8", "is_grad_enabled", "load", "log",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "nn", "no_grad",
    "ones", "ones_like", "optim", "rand", "randn", "register_backend", "relu", "reshape",
    "save", "set_default_device", "sigmoid", "sign", "sqrt", "squeeze", "stack", "sum", "tanh",
    "tensor", "transpose", "uint8", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
