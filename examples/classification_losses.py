"""Cross-entropy against hinge loss, on the same network and data.

An MLP learns the two-moons data twice: with binary cross-entropy on logits (which keeps
pushing every point further from the boundary) and with the hinge loss (which stops caring
once a point is beyond the margin), then the same for three spirals with cross-entropy and
the multi-class hinge (multi-margin) loss. Prints the test accuracies and draws the
decision regions. Run: python examples/classification_losses.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim, plotting
from minigrad.data import make_moons, make_spirals, train_test_split


def binary(loss):
    """Adapt a loss on one score per sample to class labels 0/1."""
    def wrapped(scores, labels):
        target = labels.astype(mg.float32).reshape(-1, 1)
        return loss(scores, target * 2 - 1 if loss is F.hinge_loss else target)
    return wrapped


def train(X, y, loss_fn, outputs: int, epochs: int) -> nn.Module:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, outputs))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, t = mg.tensor(X), mg.tensor(y)
    for _ in range(epochs):
        loss = loss_fn(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def predict(model: nn.Module, X: np.ndarray) -> np.ndarray:
    with mg.no_grad():
        scores = model(mg.tensor(X)).numpy()
    return (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", default="runs/classification_losses.png")
    parser.add_argument("--device", default="numpy", help="numpy, numba or cupy")
    args = parser.parse_args()
    mg.set_default_device(args.device)

    problems = {
        "moons": (make_moons(n_samples=400, noise=0.2, seed=0), 1,
                  {"BCE with logits": binary(F.binary_cross_entropy_with_logits),
                   "hinge": binary(F.hinge_loss)}),
        "spirals": (make_spirals(n_samples=600, seed=0), 3,
                    {"cross-entropy": F.cross_entropy, "multi-margin hinge": F.multi_margin_loss}),
    }
    panels = []
    for problem, ((X, y), outputs, losses) in problems.items():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
        for name, loss_fn in losses.items():
            model = train(X_train, y_train, loss_fn, outputs, args.epochs)
            accuracy = (predict(model, X_test) == y_test).mean()
            print(f"{problem:8s} {name:20s} test accuracy {accuracy:.3f}")
            panels.append((f"{problem}: {name} ({accuracy:.0%})", model, X, y))
    _plot(panels, Path(args.out))


def _plot(panels, path: Path) -> None:
    plt = plotting.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4))
    for ax, (title, model, X, y) in zip(axes, panels):
        xs = np.linspace(X[:, 0].min() - 0.3, X[:, 0].max() + 0.3, 200)
        ys = np.linspace(X[:, 1].min() - 0.3, X[:, 1].max() + 0.3, 200)
        gx, gy = np.meshgrid(xs, ys)
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
        ax.contourf(gx, gy, predict(model, grid).reshape(gx.shape), alpha=0.3, cmap="viridis")
        ax.scatter(X[:, 0], X[:, 1], c=y, s=8, cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    plotting.save(fig, path)


if __name__ == "__main__":
    main()
