"""A small convolutional network on the bundled 8x8 digits, seen as 1x8x8 images.

Two blocks of 3x3 convolution, batch normalisation, ReLU and 2x2 max-pooling, then a
linear classifier (``minigrad.nn.digits_cnn``), trained with Adam and a cosine learning
rate on the same 80/20 split as ``minigrad train``; prints the test accuracy after each
epoch and plots it.
Run: python examples/cnn_digits.py
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from pathlib import Path
from typing import Any

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim, plotting
from minigrad.data import DataLoader, TensorDataset, load_digits, train_test_split


def accuracy(model: nn.Module, images: mg.Tensor, labels) -> float:
    model.eval()
    with mg.no_grad():
        predicted = model(images).numpy().argmax(1)
    model.train()
    return float((predicted == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="numpy", help="numpy, numba or cupy")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (small matrices run best on one)")
    parser.add_argument("--out", default="runs/cnn_digits.png")
    args = parser.parse_args()
    with blas_threads(args.threads):
        train(args)


def blas_threads(count: int) -> Any:
    """A context that limits NumPy's BLAS to ``count`` threads (with threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api="blas")


def train(args: argparse.Namespace) -> None:
    mg.set_default_device(args.device)
    mg.manual_seed(args.seed)

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=args.seed)
    X_train, X_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
    model = nn.digits_cnn()
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=args.batch_size,
                        shuffle=True, seed=args.seed)
    test_images = mg.tensor(X_test)
    curve = []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for group in opt.param_groups:  # cosine decay, from lr to 0 over the run
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / args.epochs))
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        curve.append(accuracy(model, test_images, y_test))
        print(f"epoch {epoch:2d}  loss {loss.item():.4f}  test accuracy {curve[-1]:.4f}  "
              f"({time.perf_counter() - start:.1f} s)")
    print(f"final test accuracy {curve[-1]:.4f} after {args.epochs} epochs "
          f"in {time.perf_counter() - start:.1f} s")
    _plot(curve, Path(args.out))


def _plot(curve: list[float], path: Path) -> None:
    plt = plotting.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(curve) + 1), curve, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    plotting.save(fig, path)


if __name__ == "__main__":
    main()
