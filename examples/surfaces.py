"""Optimizers on 2-D surfaces: where each one goes, step by step.

``optimizer_paths`` runs minigrad's optimizers on a function of two variables, the
gradient coming from minigrad's autograd; ``test_functions`` holds three classic surfaces
to run them on, ``GradientNoise`` stands in for the noise of mini-batches, and
``plot_optimizer_paths`` draws the result. Used by ``optimizer_paths.py`` beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import autograd, optim, plotting
from minigrad.creation import tensor as _tensor
from minigrad.dtypes import float64
from minigrad.tensor import Tensor


def ill_conditioned_quadratic(x: Any, y: Any) -> Any:
    """0.5 x^2 + 10 y^2: curvature 1 along x, 20 along y (condition number 20)."""
    return 0.5 * x * x + 10 * y * y


def rosenbrock(x: Any, y: Any) -> Any:
    """(1 - x)^2 + 100 (y - x^2)^2: a curved, flat-bottomed valley; minimum 0 at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def saddle(x: Any, y: Any) -> Any:
    """x^2 - y^2 + y^4 / 4: near the origin the saddle x^2 - y^2 (a minimum along x, a
    maximum along y); the y^4 term bounds it below, with minima -1 at (0, ±sqrt(2))."""
    return x * x - y * y + 0.25 * y**4


@dataclass(frozen=True)
class Surface:
    """A function of two variables to run optimizers on, with what it takes to show it.

    ``f(x, y)`` is written with tensor operators (so minigrad differentiates it);
    ``lr`` is the learning rate of gradient descent and its momentum variants,
    ``rmsprop_lr`` and ``adam_lr`` those of RMSprop and Adam, whose steps are about as long
    as their learning rate (RMSprop's first ones up to 1/sqrt(1 - alpha) = 10 times longer:
    it has no bias correction), ``noise`` the standard deviation of the gradient noise of
    noisy SGD. ``minima`` are marked on the plots.
    ``log_scale`` draws contours and losses on a log scale (for f >= 0).
    """

    name: str
    formula: str
    f: Callable[[Any, Any], Any]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    lr: float
    rmsprop_lr: float
    adam_lr: float
    noise: float
    minima: tuple[tuple[float, float], ...] = ()
    log_scale: bool = True

    def optimizers(self, seed: int = 0) -> dict[str, Callable[[list[Tensor]], Any]]:
        """The six optimizers compared, with this surface's learning rates."""
        return default_optimizers(self.lr, self.rmsprop_lr, self.adam_lr, self.noise, seed)


test_functions: dict[str, Surface] = {
    "quadratic": Surface(
        "ill-conditioned quadratic", "0.5 x² + 10 y²", ill_conditioned_quadratic,
        xlim=(-5.0, 5.0), ylim=(-2.0, 2.0), start=(-4.5, 1.5),
        lr=0.06, rmsprop_lr=0.03, adam_lr=0.15, noise=1.0, minima=((0.0, 0.0),),
    ),
    "rosenbrock": Surface(
        "Rosenbrock", "(1 - x)² + 100 (y - x²)²", rosenbrock,
        xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), start=(-1.2, 1.0),
        lr=1e-3, rmsprop_lr=0.02, adam_lr=0.1, noise=20.0, minima=((1.0, 1.0),),
    ),
    "saddle": Surface(
        "saddle", "x² - y² + y⁴/4", saddle,
        xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), start=(-1.8, 1e-3),
        lr=0.05, rmsprop_lr=0.01, adam_lr=0.05, noise=0.5,
        minima=((0.0, 2**0.5), (0.0, -(2**0.5))), log_scale=False,
    ),
}


class GradientNoise:
    """An optimizer whose gradients get Gaussian noise of standard deviation ``std``
    (from a generator seeded with ``seed``) just before each step: a stand-in for the
    noise of mini-batch gradients. It wraps any minigrad optimizer."""

    def __init__(self, optimizer: optim.Optimizer, std: float, seed: int = 0) -> None:
        self.optimizer = optimizer
        self.std = float(std)
        self._rng = np.random.default_rng(seed)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def step(self) -> None:
        with autograd.no_grad():
            for group in self.optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    noise = self._rng.normal(0.0, self.std, size=p.shape)
                    # a new gradient tensor, leaving the one backward made as it was
                    p.grad = p.grad + _tensor(noise, dtype=p.dtype, device=p.backend)
        self.optimizer.step()


def default_optimizers(
    lr: float, rmsprop_lr: float, adam_lr: float, noise: float, seed: int = 0
) -> dict[str, Callable[[list[Tensor]], Any]]:
    """Factories (params -> optimizer) of the six optimizers compared."""
    return {
        "gradient descent": lambda p: optim.SGD(p, lr=lr),
        "SGD + gradient noise": lambda p: GradientNoise(optim.SGD(p, lr=lr), noise, seed),
        "momentum 0.9": lambda p: optim.SGD(p, lr=lr, momentum=0.9),
        "Nesterov 0.9": lambda p: optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
        "RMSprop": lambda p: optim.RMSprop(p, lr=rmsprop_lr),
        "Adam": lambda p: optim.Adam(p, lr=adam_lr),
    }


def optimizer_paths(
    function: Callable[[Any, Any], Any] | Surface,
    start: tuple[float, float] | None = None,
    optimizers: Mapping[str, Callable[[list[Tensor]], Any]] | None = None,
    steps: int = 100,
    dtype: Any = float64,
) -> dict[str, np.ndarray]:
    """Where each optimizer goes on ``function``: name -> (steps + 1, 2) array of points.

    ``function(x, y)`` returns a one-element tensor; ``optimizers`` maps names to
    factories that build an optimizer (SGD, Adam, ...) for a list of parameters. Each
    starts from ``start`` with a 2-element parameter p and takes ``steps`` steps of
    zero_grad, ``function(p[0], p[1]).backward()``, step; row 0 is the start. Once a
    point or a loss is not finite, the remaining rows are NaN. A Surface brings its own
    start and optimizers when they are not given.
    """
    if isinstance(function, Surface):
        start = function.start if start is None else start
        optimizers = function.optimizers() if optimizers is None else optimizers
        function = function.f
    if start is None or optimizers is None:
        raise ValueError("optimizer_paths needs a start and optimizers (or a Surface)")
    paths = {}
    for name, make in optimizers.items():
        p = _tensor(start, dtype=dtype, requires_grad=True)
        if p.shape != (2,):
            raise ValueError(f"optimizer_paths: start must hold 2 numbers, got shape {p.shape}")
        opt = make([p])
        points = np.full((steps + 1, 2), np.nan)
        points[0] = p.numpy()
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked below
            _descend(function, p, opt, points)
        paths[name] = points
    return paths


def _descend(function: Callable[[Any, Any], Any], p: Tensor, opt: Any,
             points: np.ndarray) -> None:
    """Fill ``points[1:]`` with p after each step, until a loss or a point is not finite."""
    for i in range(1, len(points)):
        opt.zero_grad()
        loss = function(p[0], p[1])
        if not np.isfinite(loss.item()):
            return
        loss.backward()
        opt.step()
        here = p.numpy()
        if not np.isfinite(here).all():
            return
        points[i] = here


def run_test_functions(
    steps: int = 300, surfaces: Mapping[str, Surface] | None = None, seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """``optimizer_paths`` on every surface: key -> optimizer name -> path."""
    surfaces = test_functions if surfaces is None else surfaces
    return {key: optimizer_paths(s, optimizers=s.optimizers(seed), steps=steps)
            for key, s in surfaces.items()}


def surface_values(f: Callable[[Any, Any], Any], x: Any, y: Any) -> np.ndarray:
    """``f`` at the points (x, y), computed by minigrad in float64, unrecorded."""
    with autograd.no_grad():
        out = f(_tensor(np.asarray(x, dtype=np.float64)),
                _tensor(np.asarray(y, dtype=np.float64)))
    return np.asarray(out.numpy() if isinstance(out, Tensor) else out, dtype=np.float64)


_COLORS = ("#1f77b4", "#7f7f7f", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728")


def plot_optimizer_paths(
    paths: Mapping[str, Mapping[str, np.ndarray]],
    path: str | Path = "optimizer_paths.png",
    surfaces: Mapping[str, Surface] | None = None,
    gif: str | Path | None = None,
) -> str | None:
    """Draw ``run_test_functions``' result: one column per surface, its contours with
    every optimizer's path on top and the loss against the step below. With ``gif``, an
    animation of the paths growing is written there too. Returns the figure's path
    (None without matplotlib)."""
    plt = plotting.pyplot()
    if plt is None:
        return None
    surfaces = test_functions if surfaces is None else surfaces
    keys = list(paths)
    fig = plt.figure(figsize=(5.4 * len(keys), 10))
    grid = fig.add_gridspec(3, len(keys), height_ratios=[3, 2, 0.25])
    for col, key in enumerate(keys):
        surface, runs = surfaces[key], paths[key]
        top, bottom = fig.add_subplot(grid[0, col]), fig.add_subplot(grid[1, col])
        _contours(top, surface)
        for color, (name, points) in zip(_cycle(_COLORS), runs.items()):
            top.plot(points[:, 0], points[:, 1], "-", color=color, lw=1.5, label=name,
                     alpha=0.9)
            last = _last_finite(points)
            if last is not None:
                top.plot(*last, "o", color=color, ms=6, mec="black", mew=0.6)
            losses = surface_values(surface.f, points[:, 0], points[:, 1])
            if surface.log_scale:
                losses = np.maximum(losses, _LOSS_FLOOR)
            bottom.plot(np.arange(len(losses)), losses, color=color, lw=1.5)
        top.plot(*surface.start, "*", color="black", ms=14, label="start", zorder=5)
        _minima(top, surface)
        if col == 0:
            handles, labels = top.get_legend_handles_labels()
        steps = len(next(iter(runs.values()))) - 1
        if surface.log_scale:
            bottom.set_yscale("log")
        bottom.set_xlabel("step")
        bottom.set_ylabel("f(x, y)")
        bottom.set_title(f"{surface.name}: loss against step", fontsize=10)
        bottom.set_xlim(0, steps)
        bottom.grid(alpha=0.3)
    legend = fig.add_subplot(grid[2, :])
    legend.axis("off")
    legend.legend(handles, labels, loc="center", ncol=len(labels), fontsize=10, frameon=False)
    out = plotting.save(fig, path)
    if gif is not None:
        animate_optimizer_paths(paths, gif, surfaces)
    return out


_LOSS_FLOOR = 1e-12  # losses below it are drawn at it on a log axis


def animate_optimizer_paths(
    paths: Mapping[str, Mapping[str, np.ndarray]],
    path: str | Path,
    surfaces: Mapping[str, Surface] | None = None,
    frames: int = 60,
    fps: int = 12,
) -> str | None:
    """An animated GIF of the paths growing step by step (matplotlib's PillowWriter)."""
    plt = plotting.pyplot()
    if plt is None:
        return None
    from matplotlib.animation import FuncAnimation, PillowWriter

    surfaces = test_functions if surfaces is None else surfaces
    keys = list(paths)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 4.4), squeeze=False)
    lines, heads = [], []
    for col, key in enumerate(keys):
        ax = axes[0, col]
        _contours(ax, surfaces[key], resolution=120)
        for color, (name, points) in zip(_cycle(_COLORS), paths[key].items()):
            (line,) = ax.plot([], [], "-", color=color, lw=1.6, label=name)
            (head,) = ax.plot([], [], "o", color=color, ms=5, mec="black", mew=0.5)
            lines.append((line, points))
            heads.append((head, points))
        ax.plot(*surfaces[key].start, "*", color="black", ms=11, label="start", zorder=5)
        _minima(ax, surfaces[key])
    steps = len(lines[0][1]) - 1
    shown = np.unique(np.linspace(0, steps, min(frames, steps + 1)).round().astype(int))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 0.94))
    title = fig.suptitle("")

    def draw(frame: int) -> list:
        k = shown[frame]
        for line, points in lines:
            line.set_data(points[: k + 1, 0], points[: k + 1, 1])
        for head, points in heads:
            here = _last_finite(points[: k + 1])
            head.set_data([], []) if here is None else head.set_data([here[0]], [here[1]])
        title.set_text(f"step {k}")
        return [line for line, _ in lines] + [head for head, _ in heads] + [title]

    animation = FuncAnimation(fig, draw, frames=len(shown), blit=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    animation.save(str(path), writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    print(f"animation: {path}")
    return str(path)


def _contours(ax: Any, surface: Surface, resolution: int = 300) -> None:
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = surface_values(surface.f, X, Y)
    if surface.log_scale:  # log-spaced levels, so the flat bottom of a valley shows
        top = Z.max()
        levels = np.geomspace(max(Z.min(), top * 1e-5, 1e-3), top, 22)
        from matplotlib.colors import LogNorm

        norm = LogNorm(levels[0], top)
        Z = np.maximum(Z, levels[0])
    else:
        levels, norm = np.linspace(Z.min(), Z.max(), 22), None
    ax.contourf(X, Y, Z, levels=levels, norm=norm, cmap="bone", alpha=0.35)
    ax.contour(X, Y, Z, levels=levels, norm=norm, colors="#808080", linewidths=0.5)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_title(f"{surface.name}: {surface.formula}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _minima(ax: Any, surface: Surface) -> None:
    for i, point in enumerate(surface.minima):
        ax.plot(*point, "x", color="black", ms=10, mew=2.5, zorder=5,
                label="minimum" if i == 0 else None)


def _cycle(items: tuple) -> Iterable:
    while True:
        yield from items


def _last_finite(points: np.ndarray) -> np.ndarray | None:
    finite = np.isfinite(points).all(axis=1)
    return points[finite][-1] if finite.any() else None
