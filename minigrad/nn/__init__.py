"""Neural-network building blocks: modules, parameters, layers and losses, as in PyTorch."""

from .layers import (
    GELU,
    Dropout,
    Flatten,
    Hardsigmoid,
    Identity,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softsign,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "HingeLoss",
    "HuberLoss", "Identity", "L1Loss", "LeakyReLU", "Linear", "MSELoss", "Module",
    "MultiMarginLoss", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh",
]
__all__ += [
    "GELU", "Hardsigmoid", "LogSigmoid", "LogSoftmax", "SiLU", "SmoothL1Loss", "Softmin",
    "Softsign",
]

from . import conv, normalization  # noqa: E402
from .conv import *  # noqa: E402, F403  (convolution and pooling layers)
from .normalization import *  # noqa: E402, F403  (batch and layer normalisation)

__all__ += conv.__all__ + normalization.__all__

from . import activation, containers, init, recurrent, utils  # noqa: E402
from .activation import *  # noqa: E402, F403  (ELU family, softplus, hard clips, PReLU, GLU)
from .containers import *  # noqa: E402, F403  (ModuleList, ModuleDict, ParameterList, ...)
from .losses import (  # noqa: E402
    CosineEmbeddingLoss,
    CosineSimilarity,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    KLDivLoss,
    MarginRankingLoss,
    MultiLabelSoftMarginLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from .recurrent import *  # noqa: E402, F403  (RNN, LSTM, GRU)

__all__ += activation.__all__ + containers.__all__ + recurrent.__all__
__all__ += ["functional", "init", "utils"]
__all__ += [
    "CosineEmbeddingLoss", "CosineSimilarity", "GaussianNLLLoss", "HingeEmbeddingLoss",
    "KLDivLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss", "PairwiseDistance",
    "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
]

import sys as _sys  # noqa: E402

from .. import functional  # noqa: E402

# PyTorch's spelling: ``import minigrad.nn.functional as F`` is ``minigrad.functional``
_sys.modules[__name__ + ".functional"] = functional
