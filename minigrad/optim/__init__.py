"""Optimizers: PyTorch's update rules on minigrad tensors, state on each parameter's device.

Each update runs on raw backend arrays, unrecorded, through the fused kernels of
:mod:`minigrad.optimizer_kernels` (or a backend's own faster version of them).
"""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD"]

from . import lr_scheduler  # noqa: E402

__all__ += ["lr_scheduler"]
