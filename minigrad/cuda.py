"""``mg.cuda``: PyTorch's questions about the GPU, answered for the ``cupy`` device
(``"cuda"`` is its alias), so that ``"cuda" if mg.cuda.is_available() else "cpu"`` works."""

from __future__ import annotations

from typing import Any

from .backend import BackendUnavailable, get_backend


def is_available() -> bool:
    """Whether the ``cupy`` device is usable here (CuPy imports and a GPU answers)."""
    try:
        get_backend("cupy")
    except BackendUnavailable:
        return False
    return True


def device_count() -> int:
    """The number of GPUs minigrad uses: 1 where the ``cupy`` device is usable, else 0."""
    return int(is_available())


def current_device() -> int:
    """The index of the GPU in use: always 0."""
    get_backend("cupy")  # says why, where there is none
    return 0


def get_device_name(device: Any = None) -> str:
    """The name of the GPU, as its driver gives it."""
    props = get_backend("cupy").xp.cuda.runtime.getDeviceProperties(0)
    return props["name"].decode()


def synchronize(device: Any = None) -> None:
    """Wait until the GPU has finished its queued work (nothing to wait for without one)."""
    if is_available():
        get_backend("cupy").synchronize()


def manual_seed(seed: int) -> None:
    """Seed the GPU's generator only (``mg.manual_seed`` seeds every device's)."""
    from .random import _checked_seed

    value = _checked_seed(seed)
    if is_available():
        get_backend("cupy").seed(value)


manual_seed_all = manual_seed
