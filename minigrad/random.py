"""One seed for every source of randomness: initialisation, dropout and shuffling."""

from __future__ import annotations

import numpy as np

from . import backend as _backend

_seed: int | None = None


_SEEDS = 1 << 64


def manual_seed(seed: int) -> None:
    """Seed the generator of every backend (those created later too) and the host generator.

    As in PyTorch, any integer in [-2**63, 2**64) is a seed; a negative one is taken
    modulo 2**64 (-1 seeds as 2**64 - 1).
    """
    global _seed, _host
    value = int(seed)
    if not -(_SEEDS >> 1) <= value < _SEEDS:
        raise ValueError(f"seed {value} is out of range: a seed is in [-2**63, 2**64)")
    _seed = value % _SEEDS
    _host = np.random.default_rng(_seed)
    for b in _backend._instances.values():
        b.seed(_seed)


def seed_backend(backend: _backend.Backend) -> None:
    """Give a newly created backend the current seed, if one was set."""
    if _seed is not None:
        backend.seed(_seed)


def host_generator() -> np.random.Generator:
    """The host NumPy generator behind shuffling, seeded by ``manual_seed``."""
    return _host


_host = np.random.default_rng()
