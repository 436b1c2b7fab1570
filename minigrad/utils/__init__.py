"""PyTorch's ``torch.utils`` import paths: ``minigrad.utils.data``."""

from . import data

__all__ = ["data"]
