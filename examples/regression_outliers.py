"""Why Huber beats MSE when the data has outliers.

A line is fitted to data where some targets were pushed far up, once with the mean
squared error and once with the Huber loss, beside the line fitted to the same data
without the outliers. Squared errors let the few outliers pull the MSE line away; Huber's
linear tails do not. Run: python examples/regression_outliers.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim, plotting
from minigrad.data import make_regression


def fit(X: np.ndarray, y: np.ndarray, loss_fn, steps: int) -> tuple[float, float]:
    """Slope and intercept of a line fitted by full-batch Adam on ``loss_fn``."""
    mg.manual_seed(0)
    model = nn.Linear(1, 1)
    opt = optim.Adam(model.parameters(), lr=0.05)
    x, t = mg.tensor(X), mg.tensor(y)
    for _ in range(steps):
        loss = loss_fn(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.weight.item(), model.bias.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--outliers", type=float, default=0.1, help="fraction of outliers")
    parser.add_argument("--out", default="runs/regression_outliers.png")
    parser.add_argument("--device", default="numpy", help="numpy, numba or cupy")
    args = parser.parse_args()
    mg.set_default_device(args.device)

    X, y = make_regression(n_samples=200, noise=0.3, outliers=args.outliers, seed=1)
    X_clean, y_clean = make_regression(n_samples=200, noise=0.3, seed=1)
    fits = {
        "MSE, clean data": fit(X_clean, y_clean, F.mse_loss, args.steps),
        "MSE": fit(X, y, F.mse_loss, args.steps),
        "Huber (delta=1)": fit(X, y, F.huber_loss, args.steps),
    }
    reference = np.array(fits["MSE, clean data"])
    print(f"{int(args.outliers * 100)}% of the targets are outliers")
    for name, (slope, intercept) in fits.items():
        miss = np.abs(np.array([slope, intercept]) - reference).max()
        print(f"  {name:16s} slope {slope:7.3f}  intercept {intercept:7.3f}  "
              f"off the clean fit by {miss:.3f}")
    _plot(X, y, fits, Path(args.out))


def _plot(X, y, fits, path: Path) -> None:
    plt = plotting.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(X[:, 0], y[:, 0], s=10, color="grey", label="data")
    grid = np.linspace(X.min(), X.max(), 2)
    for name, (slope, intercept) in fits.items():
        ax.plot(grid, slope * grid + intercept, label=name, lw=2)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    plotting.save(fig, path)


if __name__ == "__main__":
    main()
