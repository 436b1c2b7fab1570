"""Tests for minigrad.data.datasets."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from minigrad.data.datasets import (
    load_digits,
    load_mnist,
    make_moons,
    make_regression,
    make_spirals,
    train_test_split,
)

# --------------------------------------------------------------------------- digits

DIGITS_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_load_digits_shapes_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    # pixels are counts 0..16 divided by 16
    assert np.array_equal(X * 16, np.round(X * 16))


def test_load_digits_classes():
    _, y = load_digits()
    counts = np.bincount(y)
    assert len(counts) == 10
    assert counts.sum() == 1797
    assert np.all((counts >= 170) & (counts <= 190))
    assert counts.tolist() == DIGITS_CLASS_COUNTS


def test_load_digits_returns_fresh_arrays():
    X1, _ = load_digits()
    X1[:] = -1
    X2, _ = load_digits()
    assert X2.min() == 0.0


# --------------------------------------------------------------------------- generators

CLASSIFIERS = [
    (make_spirals, {"n_samples": 301, "n_classes": 4}),
    (make_moons, {"n_samples": 201}),
]


@pytest.mark.parametrize("make, kwargs", CLASSIFIERS)
def test_classification_shapes_and_dtypes(make, kwargs):
    X, y = make(seed=0, **kwargs)
    n = kwargs["n_samples"]
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make, kwargs", CLASSIFIERS)
def test_classification_determinism(make, kwargs):
    X1, y1 = make(seed=3, **kwargs)
    X2, y2 = make(seed=3, **kwargs)
    X3, _ = make(seed=4, **kwargs)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_spirals_class_split():
    _, y = make_spirals(n_samples=301, n_classes=4, seed=0)
    assert np.bincount(y).tolist() == [76, 75, 75, 75]
    _, y = make_spirals(seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]


def test_spirals_geometry_without_noise():
    X, y = make_spirals(n_samples=90, n_classes=3, noise=0.0, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() == pytest.approx(1.0)
    assert radius.min() == pytest.approx(0.0, abs=1e-7)
    # the arms are rotated copies of one another
    first = X[y == 0][np.argsort(np.hypot(*X[y == 0].T))]
    second = X[y == 1][np.argsort(np.hypot(*X[y == 1].T))]
    assert np.allclose(np.hypot(*first.T), np.hypot(*second.T), atol=1e-6)


def test_moons_geometry_without_noise():
    X, y = make_moons(n_samples=101, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [50, 51]
    outer, inner = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    assert np.allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert outer[:, 1].min() >= -1e-6 and inner[:, 1].max() <= 0.5 + 1e-6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 2, "n_classes": 3},
        {"n_classes": 1},
        {"n_samples": 10.5},
        {"n_samples": True},
        {"noise": -0.1},
        {"noise": float("nan")},
        {"noise": "big"},
        {"seed": -1},
        {"seed": 1.5},
    ],
)
def test_spirals_argument_errors(kwargs):
    with pytest.raises(ValueError):
        make_spirals(**kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"n_samples": 1}, {"n_samples": "3"}, {"noise": -1.0}, {"seed": "x"}]
)
def test_moons_argument_errors(kwargs):
    with pytest.raises(ValueError):
        make_moons(**kwargs)


def test_regression_shapes_dtypes_determinism():
    X, y = make_regression(n_samples=50, n_features=3, seed=1)
    assert X.shape == (50, 3) and X.dtype == np.float32
    assert y.shape == (50, 1) and y.dtype == np.float32
    X2, y2 = make_regression(n_samples=50, n_features=3, seed=1)
    X3, y3 = make_regression(n_samples=50, n_features=3, seed=2)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, X3) and not np.array_equal(y, y3)


def test_regression_is_linear_plus_noise():
    X, y = make_regression(n_samples=500, n_features=2, noise=0.1, seed=0)
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, y[:, 0].astype(np.float64), rcond=None)
    residual = y[:, 0] - A @ coef
    assert residual.std() == pytest.approx(0.1, rel=0.15)
    assert np.all(np.abs(coef[:2]) >= 0.5) and np.all(np.abs(coef[:2]) <= 2.0)


@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.25])
def test_regression_outlier_fraction(fraction):
    n = 200
    X_clean, y_clean = make_regression(n_samples=n, seed=7)
    X, y = make_regression(n_samples=n, outliers=fraction, seed=7)
    assert np.array_equal(X, X_clean)
    shift = (y - y_clean)[:, 0]
    large = np.abs(shift) > 5 * y_clean.std()
    assert large.sum() == round(fraction * n)
    assert np.all(shift[~large] == 0)
    assert np.allclose(shift[large], 10 * y_clean.std(), rtol=1e-4)


def test_regression_outliers_pull_least_squares_fit():
    X, y_clean = make_regression(n_samples=200, noise=0.1, seed=5)
    _, y = make_regression(n_samples=200, noise=0.1, outliers=0.1, seed=5)
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    clean_fit, *_ = np.linalg.lstsq(A, y_clean[:, 0], rcond=None)
    dirty_fit, *_ = np.linalg.lstsq(A, y[:, 0], rcond=None)
    assert abs(dirty_fit[1] - clean_fit[1]) > 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 1},
        {"n_features": 0},
        {"noise": -0.5},
        {"outliers": -0.1},
        {"outliers": 1.0},
        {"outliers": float("inf")},
        {"seed": -3},
    ],
)
def test_regression_argument_errors(kwargs):
    with pytest.raises(ValueError):
        make_regression(**kwargs)


# --------------------------------------------------------------------------- train_test_split


def test_train_test_split_partition():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=1)
    assert X_train.shape == (7, 2) and X_test.shape == (3, 2)
    assert y_train.shape == (7,) and y_test.shape == (3,)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))
    assert np.array_equal(X_train[:, 0], 2 * y_train)  # rows stay paired
    assert np.array_equal(X_test[:, 0], 2 * y_test)


def test_train_test_split_seeded():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    a = train_test_split(X, y, seed=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[3], c[3])


def test_train_test_split_integer_size():
    X, y = np.zeros((10, 1)), np.zeros(10)
    _, X_test, _, _ = train_test_split(X, y, test_size=4)
    assert len(X_test) == 4


@pytest.mark.parametrize(
    "X, y, test_size",
    [
        (np.zeros((10, 2)), np.zeros(9), 0.2),
        (np.zeros((10, 2)), np.zeros(10), 0.0),
        (np.zeros((10, 2)), np.zeros(10), 1.0),
        (np.zeros((10, 2)), np.zeros(10), -0.2),
        (np.zeros((10, 2)), np.zeros(10), 10),
        (np.zeros((10, 2)), np.zeros(10), 0),
        (np.zeros((10, 2)), np.zeros(10), "0.2"),
        (np.zeros((1, 2)), np.zeros(1), 0.5),
        (np.float32(1.0), np.int64(1), 0.2),
    ],
)
def test_train_test_split_errors(X, y, test_size):
    with pytest.raises(ValueError):
        train_test_split(X, y, test_size=test_size)


# --------------------------------------------------------------------------- MNIST


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode an unsigned-byte array in the IDX format."""
    if magic is None:
        magic = 0x0800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path: Path, data: bytes, gzipped: bool) -> None:
    if gzipped:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


@pytest.fixture
def tiny_mnist():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    return images, labels


def write_mnist(folder, images, labels, prefix="train", gzipped=False):
    write(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(images), gzipped)
    write(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), gzipped)


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_load_mnist(tmp_path, tiny_mnist, gzipped, train):
    images, labels = tiny_mnist
    write_mnist(tmp_path, images, labels, "train" if train else "t10k", gzipped)
    X, y = load_mnist(tmp_path, train=train)
    assert X.shape == (5, 12) and X.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1, 5]
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.allclose(X, images.reshape(5, 12) / 255.0)


def test_load_mnist_accepts_str_path(tmp_path, tiny_mnist):
    write_mnist(tmp_path, *tiny_mnist)
    X, _ = load_mnist(str(tmp_path))
    assert X.shape == (5, 12)


def test_load_mnist_mixed_plain_and_gz(tmp_path, tiny_mnist):
    images, labels = tiny_mnist
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images), gzipped=False)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels), gzipped=True)
    _, y = load_mnist(tmp_path)
    assert y.tolist() == labels.tolist()


def test_load_mnist_missing_files(tmp_path, tiny_mnist):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path)
    message = str(err.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "download" in message.lower() and "http" in message

    write_mnist(tmp_path, *tiny_mnist)  # training files present, test files missing
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, train=False)


def test_load_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path / "nowhere")


@pytest.mark.parametrize("magic", [0x12340803, 0x00000903, 0x00000801])
def test_load_mnist_bad_magic(tmp_path, tiny_mnist, magic):
    images, labels = tiny_mnist
    write_mnist(tmp_path, images, labels)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(images, magic=magic))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("keep", [2, 10, 16 + 59])
def test_load_mnist_truncated(tmp_path, tiny_mnist, keep):
    images, labels = tiny_mnist
    write_mnist(tmp_path, images, labels)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(images)[:keep])
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_gzip(tmp_path, tiny_mnist):
    images, labels = tiny_mnist
    write_mnist(tmp_path, images, labels, gzipped=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(ValueError):
        load_mnist(tmp_path)


def test_load_mnist_trailing_bytes(tmp_path, tiny_mnist):
    images, labels = tiny_mnist
    write_mnist(tmp_path, images, labels)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels) + b"\x00")
    with pytest.raises(ValueError, match="unexpected"):
        load_mnist(tmp_path)


def test_load_mnist_count_mismatch(tmp_path, tiny_mnist):
    images, labels = tiny_mnist
    write_mnist(tmp_path, images, labels[:4])
    with pytest.raises(ValueError, match="5 images.*4 labels"):
        load_mnist(tmp_path)
