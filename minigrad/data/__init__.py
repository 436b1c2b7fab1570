"""Data sets (toy generators, bundled digits, an MNIST reader) and mini-batch loading."""

from .datasets import (
    load_digits,
    load_mnist,
    make_moons,
    make_regression,
    make_spirals,
    train_test_split,
)
from .loader import DataLoader, TensorDataset

__all__ = [
    "DataLoader",
    "TensorDataset",
    "load_digits",
    "load_mnist",
    "make_moons",
    "make_regression",
    "make_spirals",
    "train_test_split",
]
