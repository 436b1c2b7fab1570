"""One seed for every source of randomness: initialisation, dropout and shuffling."""

from __future__ import annotations

import numpy as np

from . import backend as _backend

_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed the generator of every backend (those created later too) and the host generator."""
    global _seed, _host
    _seed = int(seed)
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
