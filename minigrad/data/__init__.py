"""Data sets: toy generators, bundled digits and an MNIST reader."""

from .datasets import (
    load_digits,
    load_mnist,
    make_moons,
    make_regression,
    make_spirals,
    train_test_split,
)

__all__ = [
    "load_digits",
    "load_mnist",
    "make_moons",
    "make_regression",
    "make_spirals",
    "train_test_split",
]
