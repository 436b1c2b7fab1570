"""Neural-network building blocks: modules, parameters, layers and losses, as in PyTorch."""

from .layers import (
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
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
)
from .module import Module, Parameter

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "HingeLoss",
    "HuberLoss", "Identity", "L1Loss", "LeakyReLU", "Linear", "MSELoss", "Module",
    "MultiMarginLoss", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh",
]

from . import conv, normalization  # noqa: E402
from .conv import *  # noqa: E402, F403  (convolution and pooling layers)
from .normalization import *  # noqa: E402, F403  (batch and layer normalisation)

__all__ += conv.__all__ + normalization.__all__
