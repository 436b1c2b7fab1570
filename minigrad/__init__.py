"""minigrad: a tape-based autodiff framework with pluggable device backends."""

from . import autograd, data, functional, nn, optim, return_types  # noqa: E402  (built on the above)
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
from .compiled import compile
from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from .errors import OpError
from .function import Function
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .return_types import ValuesIndices
from .serialization import load, save
from .spelling import FUNCTIONS
from .tensor import Tensor
from .tensor_functions import (
    # arithmetic, math, bits and tests,
    abs,
    add,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    broadcast_to,
    cat,
    ceil,
    clamp,
    clip,
    concat,
    concatenate,
    cummax,
    cummin,
    cumprod,
    cumsum,
    div,
    divide,
    einsum,
    exp,
    fix,
    flatten,
    flip,
    floor,
    floor_divide,
    fmod,
    gather,
    index_select,
    isclose,
    lerp,
    log,
    log_softmax,
    logcumsumexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    masked_select,
    matmul,
    max,
    maximum,
    mean,
    meshgrid,
    min,
    minimum,
    mul,
    multiply,
    nonzero,
    norm,
    relu,
    remainder,
    reshape,
    roll,
    round,
    scatter,
    scatter_add,
    scatter_reduce,
    sigmoid,
    sign,
    softmax,
    sort,
    sqrt,
    squeeze,
    stack,
    std_mean,
    sub,
    subtract,
    sum,
    tanh,
    tile,
    topk,
    transpose,
    tril,
    triu,
    true_divide,
    trunc,
    unsqueeze,
    var,
    var_mean,
    where,
)

globals().update(FUNCTIONS)

__version__ = "0.1.0"

__all__ = [
    "Backend", "BackendUnavailable", "Context", "Function", "GradcheckError", "OpError",
    "Tensor", "ValuesIndices", "abs", "amax", "amin", "compile",
    "arange", "argmax", "argmin", "autograd", "backward", "bool_", "broadcast_to", "cat",
    "clamp", "clip", "concatenate", "data", "devices", "enable_grad", "exp", "flatten",
    "float16", "float32", "float64", "full", "functional", "get_backend", "get_default_device",
    "grad", "gradcheck", "int16", "int32", "int64", "int8", "is_grad_enabled", "load", "log",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "nn", "no_grad",
    "ones", "ones_like", "optim", "rand", "randn", "register_backend", "relu", "reshape",
    "save", "set_default_device", "sigmoid", "sign", "sqrt", "squeeze", "stack", "sum", "tanh",
    "tensor", "transpose", "uint8", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
__all__ += [
    "empty", "empty_like", "eye", "full_like", "linspace", "add", "all", "any", "bitwise_and",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "ceil", "div", "divide", "fix", "floor", "floor_divide", "fmod", "isclose", "lerp",
    "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "mul",
    "multiply", "remainder", "round", "softmax", "sub", "subtract", "true_divide", "trunc",
]
__all__ += [
    "argsort", "concat", "cummax", "cummin", "cumprod", "cumsum", "einsum", "flip", "gather",
    "index_select", "logcumsumexp", "masked_select", "meshgrid", "nonzero", "norm", "roll",
    "scatter", "scatter_add", "scatter_reduce", "sort", "std_mean", "tile", "topk", "tril",
    "triu", "var_mean", "return_types",
]
__all__ += sorted(FUNCTIONS)  # registered beside their ops: "sin", "erf", ...
