"""Small data sets for examples and tests.

Everything here is plain NumPy. The generators return ``float32`` features and are
deterministic for a given integer ``seed``; classification labels are ``int64``.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "load_digits",
    "load_mnist",
    "make_moons",
    "make_regression",
    "make_spirals",
    "train_test_split",
]

_DIGITS_FILE = Path(__file__).with_name("digits.npz")

_IDX_UBYTE = 0x08
_MNIST_URLS = (
    "https://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an int, or raise ValueError if it is not an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_real(name: str, value: object, low: float, high: float = math.inf) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and in [low, high)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not low <= value < high:
        bounds = f">= {low}" if high == math.inf else f"in [{low}, {high})"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return value


def _rng(seed: int | None) -> np.random.Generator:
    """Make a generator from ``seed`` (None or a non-negative integer)."""
    if seed is not None:
        _check_int("seed", seed, 0)
    return np.random.default_rng(seed)


def _shuffled(
    rng: np.random.Generator, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the same random row permutation to ``X`` and ``y``."""
    order = rng.permutation(len(X))
    return X[order], y[order]


# --------------------------------------------------------------------------- bundled digits


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Load the UCI hand-written digits (1,797 images of 8x8 pixels, classes 0-9).

    Returns ``X`` float32 of shape (1797, 64) with pixels scaled to [0, 1] and
    ``y`` int64 of shape (1797,). See ``DIGITS_LICENSE.txt`` for the attribution.
    """
    with np.load(_DIGITS_FILE) as data:
        images, target = data["images"], data["target"]
    X = images.astype(np.float32) / np.float32(16.0)
    return X, target.astype(np.int64)


# --------------------------------------------------------------------------- generators


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one arm per class.

    Each arm runs from the origin out to radius 1 while its angle turns by 4 radians;
    the arms start at evenly spaced angles and ``noise`` is the standard deviation of
    Gaussian noise added to the angle. ``n_samples`` is the total number of points,
    split as evenly as possible over the classes. Rows are shuffled.

    Returns ``X`` float32 of shape (n_samples, 2) and ``y`` int64 of shape (n_samples,).
    """
    n_classes = _check_int("n_classes", n_classes, 2)
    n_samples = _check_int("n_samples", n_samples, n_classes)
    noise = _check_real("noise", noise, 0.0)
    rng = _rng(seed)

    sizes = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    X_parts, y_parts = [], []
    for k, size in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, size)
        start = 2.0 * np.pi * k / n_classes
        theta = np.linspace(start, start + 4.0, size) + noise * rng.standard_normal(size)
        X_parts.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        y_parts.append(np.full(size, k, dtype=np.int64))
    X = np.concatenate(X_parts).astype(np.float32)
    return _shuffled(rng, X, np.concatenate(y_parts))


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below), as in scikit-learn.

    ``noise`` is the standard deviation of Gaussian noise added to each coordinate.
    Rows are shuffled. Returns ``X`` float32 of shape (n_samples, 2) and ``y`` int64.
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    noise = _check_real("noise", noise, 0.0)
    rng = _rng(seed)

    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer = np.linspace(0.0, np.pi, n_outer)
    inner = np.linspace(0.0, np.pi, n_inner)
    X = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            np.column_stack([1.0 - np.cos(inner), 0.5 - np.sin(inner)]),
        ]
    )
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    return _shuffled(rng, X.astype(np.float32), y)


def make_regression(
    n_samples: int = 200,
    n_features: int = 1,
    noise: float = 0.1,
    outliers: float = 0.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A linear regression problem, optionally with gross outliers.

    Features are standard normal. The target is ``X @ w + b`` plus Gaussian noise of
    standard deviation ``noise``, with weights of magnitude 0.5 to 2 (random signs) and
    a bias in [-1, 1]. Then ``round(outliers * n_samples)`` randomly chosen targets are
    shifted upwards by 10 times the standard deviation of the clean target: a
    mean-squared-error fit is pulled towards them, a robust (e.g. Huber) fit is not.
    For a given seed the clean data are the same whatever ``outliers`` is.

    Returns ``X`` float32 of shape (n_samples, n_features) and ``y`` float32 of
    shape (n_samples, 1).
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    n_features = _check_int("n_features", n_features, 1)
    noise = _check_real("noise", noise, 0.0)
    outliers = _check_real("outliers", outliers, 0.0, 1.0)
    rng = _rng(seed)

    X = rng.standard_normal((n_samples, n_features))
    weights = rng.uniform(0.5, 2.0, n_features) * rng.choice([-1.0, 1.0], n_features)
    bias = rng.uniform(-1.0, 1.0)
    y = X @ weights + bias + noise * rng.standard_normal(n_samples)

    n_outliers = round(outliers * n_samples)
    if n_outliers:
        scale = float(np.std(y)) or 1.0
        rows = rng.choice(n_samples, size=n_outliers, replace=False)
        y[rows] += 10.0 * scale
    return X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


# --------------------------------------------------------------------------- MNIST


def _read_bytes(path: Path) -> bytes:
    """Read a file, decompressing it if its name ends in ``.gz``."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from err


def _parse_idx(data: bytes, ndim: int, name: str) -> np.ndarray:
    """Parse an IDX file of unsigned bytes with ``ndim`` dimensions."""
    if len(data) < 4:
        raise ValueError(f"{name}: truncated file, only {len(data)} bytes (no IDX header)")
    magic = int.from_bytes(data[:4], "big")
    expected = (_IDX_UBYTE << 8) | ndim
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: bad magic number 0x{magic:08x}, not an IDX file")
    if data[2] != _IDX_UBYTE:
        raise ValueError(f"{name}: IDX data type 0x{data[2]:02x} is not unsigned byte (0x08)")
    if data[3] != ndim:
        raise ValueError(
            f"{name}: bad magic number 0x{magic:08x}, expected 0x{expected:08x} "
            f"({ndim} dimensions, got {data[3]})"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated file, header needs {header} bytes, has {len(data)}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    size = math.prod(shape)
    if len(data) - header < size:
        raise ValueError(
            f"{name}: truncated file, shape {shape} needs {size} data bytes, "
            f"found {len(data) - header}"
        )
    if len(data) - header > size:
        raise ValueError(f"{name}: {len(data) - header - size} unexpected bytes after the data")
    return np.frombuffer(data, dtype=np.uint8, count=size, offset=header).reshape(shape)


def _find_file(folder: Path, name: str) -> Path | None:
    """Return ``folder/name`` or ``folder/name.gz``, whichever exists first."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_mnist(path: str | os.PathLike[str], train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST (or Fashion-MNIST) from the IDX files in the folder ``path``.

    Uses ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``t10k-...`` when
    ``train`` is False), each either plain or gzipped (``.gz``). Nothing is downloaded.

    Returns ``X`` float32 of shape (n, rows * cols) scaled to [0, 1] and ``y`` int64.
    Raises FileNotFoundError if a file is missing, ValueError if a file is malformed.
    """
    folder = Path(path)
    prefix = "train" if train else "t10k"
    names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    files = [_find_file(folder, name) for name in names]
    missing = [name for name, file in zip(names, files, strict=True) if file is None]
    if missing:
        looked_for = ", ".join(f"{name} or {name}.gz" for name in missing)
        raise FileNotFoundError(
            f"MNIST file(s) not found in {str(folder)!r}: looked for {looked_for}. "
            f"Download the four MNIST files from {_MNIST_URLS[0]} "
            f"(or the mirror {_MNIST_URLS[1]}) into that folder."
        )
    images_file, labels_file = files
    images = _parse_idx(_read_bytes(images_file), 3, images_file.name)
    labels = _parse_idx(_read_bytes(labels_file), 1, labels_file.name)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_file.name} has {len(images)} images but "
            f"{labels_file.name} has {len(labels)} labels"
        )
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    return X, labels.astype(np.int64)


# --------------------------------------------------------------------------- splitting


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_size: float | int = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``X`` and ``y`` into random train and test parts.

    ``test_size`` is either a fraction in (0, 1) of the rows (rounded up) or an integer
    number of rows; both parts must end up non-empty. The split is a permutation drawn
    from ``np.random.default_rng(seed)``.

    Returns ``(X_train, X_test, y_train, y_test)``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must be arrays with at least one dimension")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y have different lengths: {n} and {len(y)}")
    if isinstance(test_size, (float, np.floating)):
        fraction = _check_real("test_size", test_size, 0.0, 1.0)
        n_test = math.ceil(fraction * n)
    else:
        n_test = _check_int("test_size", test_size, 1)
    if not 1 <= n_test < n:
        raise ValueError(
            f"test_size={test_size!r} gives {n_test} test rows out of {n}; "
            "both the train and the test part must be non-empty"
        )
    order = _rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
