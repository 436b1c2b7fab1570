"""The shapes of the classic losses, and of their gradients, computed by minigrad.

Top row: the regression losses (MSE, L1, Huber with several deltas) against the error,
and their gradients. Bottom row: hinge and binary cross-entropy (on logits) against the
margin y * score, and their gradients; then what one outlier does to a line fitted with
MSE and with Huber (minigrad's Adam on both). Every gradient drawn is minigrad's autograd
at work, not a formula typed in. Prints what each panel shows.
Run: python examples/loss_shapes.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import optim, plotting

HUBER_DELTAS = (0.5, 1.0, 2.0)


def value_and_grad(loss_fn, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise loss at ``points`` and its derivative there, by backward()."""
    x = mg.tensor(points, dtype=mg.float64, requires_grad=True)
    loss = loss_fn(x)
    loss.sum().backward()  # the losses are elementwise, so d(sum)/dx_i = dloss_i/dx_i
    return loss.numpy(), x.grad.numpy()


def regression_losses(errors: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Loss of a prediction ``error`` away from a zero target, and its gradient."""
    def zero(x):
        return mg.zeros_like(x)

    curves = {
        "MSE": value_and_grad(lambda x: F.mse_loss(x, zero(x), reduction="none"), errors),
        "L1": value_and_grad(lambda x: F.l1_loss(x, zero(x), reduction="none"), errors),
    }
    for delta in HUBER_DELTAS:
        curves[f"Huber, delta={delta:g}"] = value_and_grad(
            lambda x, d=delta: F.huber_loss(x, zero(x), delta=d, reduction="none"), errors)
    return curves


def classification_losses(margins: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Loss of a score with margin y * score for the label y = +1, and its gradient."""
    def positive(x):
        return mg.ones_like(x)

    return {
        "hinge": value_and_grad(
            lambda s: F.hinge_loss(s, positive(s), reduction="none"), margins),
        "binary cross-entropy (logits)": value_and_grad(
            lambda s: F.binary_cross_entropy_with_logits(s, positive(s), reduction="none"),
            margins),
    }


def fit_line(x: np.ndarray, y: np.ndarray, loss_fn, steps: int) -> np.ndarray:
    """(slope, intercept) minimising ``loss_fn`` by full-batch Adam from (0, 0)."""
    params = mg.zeros(2, dtype=mg.float64, requires_grad=True)
    opt = optim.Adam([params], lr=0.1)
    inputs, targets = mg.tensor(x, dtype=mg.float64), mg.tensor(y, dtype=mg.float64)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(inputs * params[0] + params[1], targets).backward()
        opt.step()
    return params.numpy().copy()


def outlier_data(height: float) -> tuple[np.ndarray, np.ndarray]:
    """20 points near y = 0.8 x + 1, the last one lifted by ``height``."""
    rng = np.random.default_rng(0)
    x = np.linspace(-2, 2, 20)
    y = 0.8 * x + 1 + 0.2 * rng.standard_normal(20)
    y[-1] += height
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="Adam steps per line fit")
    parser.add_argument("--out", default="runs/loss_shapes.png")
    args = parser.parse_args()

    errors = np.linspace(-3, 3, 601)
    margins = np.linspace(-3, 3, 601)
    regression = regression_losses(errors)
    classification = classification_losses(margins)

    heights = np.linspace(0, 20, 6)
    fits = {"MSE": [], "Huber, delta=1": []}
    for h in heights:
        x, y = outlier_data(h)
        fits["MSE"].append(fit_line(x, y, F.mse_loss, args.steps))
        fits["Huber, delta=1"].append(fit_line(x, y, F.huber_loss, args.steps))
    fits = {name: np.array(lines) for name, lines in fits.items()}
    shown = len(heights) // 2  # the outlier drawn in the scatter panel

    at = np.searchsorted(errors, 3.0)
    grads = {name: g[at] for name, (_, g) in regression.items()}
    print("Regression losses against the error e = prediction - target:")
    print(f"  MSE grows as e^2 and so does its pull: its gradient at e = 3 is {grads['MSE']:.2f};")
    print(f"  L1's gradient is sign(e), {grads['L1']:.2f} at e = 3, whatever the size;")
    capped = ", ".join(f"{grads[f'Huber, delta={d:g}']:.2f} (delta {d:g})" for d in HUBER_DELTAS)
    print("  Huber is e^2 / 2 inside |e| < delta, then linear with slope delta:")
    print(f"  its gradients at e = 3 are capped at delta: {capped}.")
    m = np.searchsorted(margins, 2.0)
    hinge_g = classification["hinge"][1][m] + 0.0  # + 0.0 makes -0.0 print as 0.000
    bce_g = classification["binary cross-entropy (logits)"][1][m]
    print("Classification losses against the margin y * score:")
    print(f"  hinge is zero past the margin 1: its gradient at margin 2 is {hinge_g:.3f};")
    print(f"  cross-entropy never stops pushing: its gradient at margin 2 is {bce_g:.3f}.")
    print("One outlier lifted by h at x = 2 (line fits with Adam):")
    for i, h in enumerate(heights):
        mse_line, huber_line = fits["MSE"][i], fits["Huber, delta=1"][i]
        print(f"  h = {h:4.1f}: MSE slope {mse_line[0]:6.3f} intercept {mse_line[1]:6.3f} | "
              f"Huber slope {huber_line[0]:6.3f} intercept {huber_line[1]:6.3f}")
    mse_moved = abs(fits["MSE"][-1] - fits["MSE"][0]).max()
    huber_moved = abs(fits["Huber, delta=1"][-1] - fits["Huber, delta=1"][0]).max()
    print(f"  the outlier moves the MSE line by up to {mse_moved:.3f}, "
          f"the Huber line by up to {huber_moved:.3f}")
    _plot(errors, regression, margins, classification, heights, fits, shown, Path(args.out))


def _plot(errors, regression, margins, classification, heights, fits, shown, path: Path):
    plt = plotting.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    styles = {"MSE": ("C0", "-"), "L1": ("C1", "-"), "Huber, delta=0.5": ("C2", "--"),
              "Huber, delta=1": ("C2", "-"), "Huber, delta=2": ("C2", ":")}
    for name, (loss, grad) in regression.items():
        color, ls = styles[name]
        axes[0, 0].plot(errors, loss, color=color, ls=ls, lw=2, label=name)
        axes[0, 1].plot(errors, grad, color=color, ls=ls, lw=2, label=name)
    axes[0, 0].set_ylim(-0.2, 5)
    axes[0, 0].set_title("regression losses")
    axes[0, 0].set_ylabel("loss")
    axes[0, 1].set_ylim(-3.5, 3.5)
    axes[0, 1].set_title("their gradients (autograd): the pull of one error")
    axes[0, 1].set_ylabel("d loss / d prediction")
    for ax in axes[0, :2]:
        ax.set_xlabel("error = prediction - target")

    colors = {"hinge": "C3", "binary cross-entropy (logits)": "C4"}
    for name, (loss, grad) in classification.items():
        axes[1, 0].plot(margins, loss, color=colors[name], lw=2, label=name)
        axes[1, 1].plot(margins, grad, color=colors[name], lw=2, label=name)
    zero_one = (margins <= 0).astype(float)
    axes[1, 0].plot(margins, zero_one, color="grey", lw=1.5, ls="--",
                    label="0-1 loss (what accuracy counts)")
    axes[1, 0].set_title("classification losses, label y = +1")
    axes[1, 0].set_ylabel("loss")
    axes[1, 1].set_title("their gradients (autograd)")
    axes[1, 1].set_ylabel("d loss / d score")
    for ax in axes[1, :2]:
        ax.set_xlabel("margin = y * score")

    x, y = _outlier_scatter(axes[0, 2], heights[shown])
    grid = np.array([x.min(), x.max()])
    clean_line = fits["MSE"][0]
    axes[0, 2].plot(grid, clean_line[0] * grid + clean_line[1], color="grey", lw=2, ls="--",
                    label="MSE fit without the outlier")
    for name, color in (("MSE", "C0"), ("Huber, delta=1", "C2")):
        slope, intercept = fits[name][shown]
        axes[0, 2].plot(grid, slope * grid + intercept, color=color, lw=2, label=f"{name} fit")
    axes[0, 2].set_title(f"one outlier, lifted by {heights[shown]:g}")
    axes[0, 2].set_xlabel("x")
    axes[0, 2].set_ylabel("y")

    at_outlier = {name: lines[:, 0] * x[-1] + lines[:, 1] for name, lines in fits.items()}
    clean = at_outlier["MSE"][0]
    for name, color in (("MSE", "C0"), ("Huber, delta=1", "C2")):
        axes[1, 2].plot(heights, at_outlier[name] - clean, "o-", color=color, lw=2,
                        label=f"{name} fit")
    axes[1, 2].set_title("how far the outlier drags the fitted line")
    axes[1, 2].set_xlabel("height the outlier is lifted by")
    axes[1, 2].set_ylabel("change of the fit at the outlier's x")

    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    plotting.save(fig, path)


def _outlier_scatter(ax, height):
    x, y = outlier_data(height)
    ax.scatter(x[:-1], y[:-1], s=18, color="black", label="data")
    ax.scatter(x[-1:], y[-1:], s=60, color="C3", marker="D", label="outlier")
    return x, y


if __name__ == "__main__":
    main()
