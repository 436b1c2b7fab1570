"""The optimizers side by side: one network, one data set, five ways to descend.

Full-batch gradient descent, mini-batch SGD, SGD with momentum, RMSprop and Adam train
the same MLP from the same initial weights on the bundled digits; their training-loss
curves go on one plot. Run: python examples/optimizers.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim, plotting
from minigrad.data import DataLoader, TensorDataset, load_digits, train_test_split

RUNS = {
    # name: (optimizer factory, batch size; None is the whole training set)
    "gradient descent (full batch)": (lambda p: optim.SGD(p, lr=0.5), None),
    "SGD (batch 32)": (lambda p: optim.SGD(p, lr=0.05), 32),
    "momentum 0.9 (batch 32)": (lambda p: optim.SGD(p, lr=0.05, momentum=0.9), 32),
    "RMSprop (batch 32)": (lambda p: optim.RMSprop(p, lr=1e-3), 32),
    "Adam (batch 32)": (lambda p: optim.Adam(p, lr=1e-3), 32),
}


def run(make_optimizer, batch_size, data, epochs: int) -> tuple[list[float], float]:
    """Training loss after each epoch, and the final test accuracy."""
    X_train, X_test, y_train, y_test = data
    mg.manual_seed(0)  # the same initial weights for every optimizer
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = make_optimizer(model.parameters())
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size,
                        shuffle=batch_size is not None, seed=0)
    x_all, y_all = mg.tensor(X_train), mg.tensor(y_train)
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with mg.no_grad():
            losses.append(F.cross_entropy(model(x_all), y_all).item())
            accuracy = (model(mg.tensor(X_test)).numpy().argmax(1) == y_test).mean()
    return losses, float(accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="runs/optimizers.png")
    parser.add_argument("--device", default="numpy", help="numpy, numba or cupy")
    args = parser.parse_args()
    mg.set_default_device(args.device)
    data = train_test_split(*load_digits(), test_size=0.2, seed=0)
    curves = {}
    for name, (make_optimizer, batch_size) in RUNS.items():
        losses, accuracy = run(make_optimizer, batch_size, data, args.epochs)
        curves[name] = losses
        print(f"{name:30s} final train loss {losses[-1]:.4f}  test accuracy {accuracy:.3f}")
    _plot(curves, Path(args.out))


def _plot(curves, path: Path) -> None:
    plt = plotting.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plotting.save(fig, path)


if __name__ == "__main__":
    main()
