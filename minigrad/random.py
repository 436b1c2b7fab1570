"""One seed for every source of randomness (initialisation, dropout and shuffling), and
generators of their own (``mg.Generator``) for the draws that ask for one."""

from __future__ import annotations

import json
from typing import Any

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
    _seed = _checked_seed(seed)
    _host = np.random.default_rng(_seed)
    for b in _backend._instances.values():
        b.seed(_seed)


def _checked_seed(seed: Any) -> int:
    value = int(seed)
    if not -(_SEEDS >> 1) <= value < _SEEDS:
        raise ValueError(f"seed {value} is out of range: a seed is in [-2**63, 2**64)")
    return value % _SEEDS


def seed_backend(backend: _backend.Backend) -> None:
    """Give a newly created backend the current seed, if one was set."""
    if _seed is not None:
        backend.seed(_seed)


def host_generator() -> np.random.Generator:
    """The host NumPy generator behind shuffling, seeded by ``manual_seed``."""
    return _host


_host = np.random.default_rng()


# the seed of a new torch.Generator
_DEFAULT_SEED = 67280421310721


class Generator:
    """A random-number generator of its own (``torch.Generator``): pass it as
    ``generator=`` (``mg.rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
    ``bernoulli``, ``multinomial``, the in-place fills, ``nn.init``, ``random_split``,
    ``DataLoader``) to draw from it instead of the device's generator.

    Its numbers are drawn on the host (NumPy's PCG64) and moved to the tensor's device, so
    a seed gives the same numbers on every device (not PyTorch's numbers). A new generator
    starts from PyTorch's default seed; ``manual_seed`` reseeds it and returns it.
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device if isinstance(device, str) else str(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed`` (an integer in [-2**63, 2**64)); returns the generator."""
        self._initial_seed = _checked_seed(seed)
        self.rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Restart from a seed drawn from the operating system's entropy; returns it."""
        seed = int(np.random.SeedSequence().entropy) % _SEEDS
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the generator last started from."""
        return self._initial_seed

    def get_state(self) -> Any:
        """The generator's state, as a uint8 tensor that ``set_state`` takes back."""
        from .creation import tensor

        text = json.dumps({"seed": self._initial_seed, "rng": self.rng.bit_generator.state})
        return tensor(np.frombuffer(text.encode(), dtype=np.uint8).copy())

    def set_state(self, state: Any) -> Generator:
        """Continue from a state ``get_state`` returned; returns the generator."""
        data = state.numpy() if hasattr(state, "numpy") else np.asarray(state)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError(f"Generator.set_state: expected a 1-D uint8 tensor from "
                            f"get_state(), got {data.dtype} of shape {tuple(data.shape)}")
        try:
            saved = json.loads(data.tobytes().decode())
            rng = np.random.default_rng()
            rng.bit_generator.state = saved["rng"]
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError("Generator.set_state: not a state that get_state() "
                               "returned") from err
        self._initial_seed, self.rng = saved["seed"], rng
        return self

    def __repr__(self) -> str:
        return f"<minigrad.Generator device={self.device!r} initial_seed={self._initial_seed}>"


class _Draws:
    """A backend's random primitives, drawn from a ``Generator`` on the host and moved to
    the backend."""

    def __init__(self, rng: np.random.Generator, backend: Any) -> None:
        self.rng, self.backend = rng, backend

    def randn(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return self.backend.asarray(numpy_draws.standard_normal(self.rng, shape, dtype))

    def rand(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return self.backend.asarray(numpy_draws.uniform(self.rng, shape, dtype))

    def randint(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        return self.backend.asarray(self.rng.integers(low, high, shape, dtype=np.int64))

    def permutation(self, n: int) -> Any:
        return self.backend.asarray(self.rng.permutation(n))


def draws(generator: Generator | None, backend: Any) -> Any:
    """Where the random numbers of a draw on ``backend`` come from: the backend's own
    generator, or ``generator``."""
    if generator is None:
        return backend
    return _Draws(host_rng(generator), backend)


def host_rng(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator behind ``generator``: its own, the host generator for None."""
    if generator is None:
        return _host
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a minigrad.Generator or None, got "
                    f"{type(generator).__name__}")


from .backends import numpy_backend as numpy_draws  # noqa: E402
