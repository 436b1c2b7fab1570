"""Pictures of what minigrad does: the recorded graph, and optimizers on 2-D surfaces.

``draw_graph`` turns the tape behind a tensor into Graphviz DOT text (and an SVG or PNG
when Graphviz is installed). ``optimizer_paths`` runs minigrad's optimizers on a function
of two variables, the gradient coming from minigrad's autograd; ``test_functions`` holds
the classic surfaces to run them on and ``plot_optimizer_paths`` draws the result.
Run ``python -m minigrad.viz FOLDER`` to draw the graphs of a small expression and of an
MLP loss into FOLDER.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import autograd, optim, plotting
from .autograd import Context
from .creation import tensor as _tensor
from .dtypes import float32, float64
from .tensor import Tensor

__all__ = [
    "GradientNoise", "Surface", "animate_optimizer_paths", "default_optimizers", "demo_graphs",
    "draw_graph", "gradient_norm", "ill_conditioned_quadratic", "optimizer_paths",
    "plot_optimizer_paths", "rosenbrock", "run_test_functions", "saddle", "surface_values",
    "test_functions",
]

# the recorded graph

RENDER_FORMATS = ("svg", "png", "pdf")

INSTALL_GRAPHVIZ = (
    "Graphviz's `dot` program is not on PATH, so only the DOT file {dot} was written. "
    "Install Graphviz to render it (apt-get install graphviz / brew install graphviz / "
    "conda install graphviz), then run: dot -T{fmt} {dot} -o {out}"
)

_OP_STYLE = 'shape=ellipse, style=filled, fillcolor="#d6e6f5"'
_PARAM_STYLE = 'shape=box, style="rounded,filled", fillcolor="#fbe3bd"'
_LEAF_STYLE = 'shape=box, style="rounded,filled", fillcolor="#e8e8e8"'


def draw_graph(
    tensor: Tensor,
    path: str | Path | None = None,
    format: str | None = None,
    params: Any = None,
) -> str:
    """The graph the tape recorded for ``tensor``, as Graphviz DOT text.

    One node per recorded op (its name, output shape and dtype, and how many of its inputs
    were constants, which need no gradient and are not drawn) and one per leaf that
    requires grad (shape, dtype, its name when ``params`` knows it, and the norm of its
    ``.grad`` when it has one, e.g. after ``backward(retain_graph=True)``). An edge runs
    from each input to the op that used it; the output node has a double border.

    ``params`` is a Module (its ``named_parameters()`` name the leaves) or a mapping of
    names to tensors. With ``path``, the DOT text is written to it (its suffix made
    ``.dot`` unless it is ``.dot`` or ``.gv``) and, for a ``.svg``/``.png``/``.pdf`` path
    or a ``format``, rendered beside it by Graphviz's ``dot`` program; where that is not
    installed, a warning says how to install it. The DOT text is returned either way.
    """
    if format is not None and format.lower() not in RENDER_FORMATS:
        raise ValueError(f"draw_graph: format must be one of {RENDER_FORMATS}, got {format!r}")
    dot = _to_dot(tensor, _parameter_names(params))
    if path is None:
        return dot
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    fmt = format.lower() if format is not None else (suffix if suffix in RENDER_FORMATS else None)
    dot_path = path if suffix in ("dot", "gv") else path.with_suffix(".dot")
    dot_path.parent.mkdir(parents=True, exist_ok=True)
    dot_path.write_text(dot)
    if fmt is not None:
        out = path if suffix == fmt else path.with_suffix("." + fmt)
        _render(dot_path, out, fmt)
    return dot


def _render(dot_path: Path, out: Path, fmt: str) -> None:
    program = shutil.which("dot")
    if program is None:
        warnings.warn(INSTALL_GRAPHVIZ.format(dot=dot_path, fmt=fmt, out=out), stacklevel=3)
        return
    done = subprocess.run([program, f"-T{fmt}", str(dot_path), "-o", str(out)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz could not render {dot_path}: {done.stderr.strip()}")


def _parameter_names(params: Any) -> dict[int, str]:
    """id(tensor) -> name, from a Module or a mapping of names to tensors."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        pairs: Iterable = params.named_parameters()
    elif isinstance(params, Mapping):
        pairs = params.items()
    else:
        raise TypeError(
            "draw_graph: params must be a Module or a dict of names to tensors, "
            f"got {type(params).__name__}"
        )
    names: dict[int, str] = {}
    for name, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] is not a Tensor")
        names.setdefault(id(t), str(name))
    return names


def _walk(tensor: Tensor) -> tuple[list[Context], list[Tensor]]:
    """Every recorded op behind ``tensor`` (oldest first) and every leaf, each once.

    Iterative, so a chain of any length is fine. Nodes are keyed by id: a Tensor's ``==``
    compares values, and a graph must not be grown by looking at it.
    """
    start = tensor._node if tensor._node is not None else tensor
    seen: dict[int, Any] = {}
    stack = [start]
    while stack:
        entry = stack.pop()
        if id(entry) in seen:
            continue
        seen[id(entry)] = entry
        if isinstance(entry, Context) and entry.inputs is not None:
            stack.extend(e for e in entry.inputs if e is not None and id(e) not in seen)
    ops = sorted((e for e in seen.values() if isinstance(e, Context)), key=lambda c: c.seq)
    leaves: dict[int, Tensor] = {}
    if not isinstance(start, Context):
        leaves[id(start)] = start
    for ctx in ops:  # leaves in the order the ops first used them
        for e in ctx.inputs or ():
            if e is not None and not isinstance(e, Context):
                leaves.setdefault(id(e), e)
    return ops, list(leaves.values())


def _to_dot(tensor: Tensor, names: dict[int, str]) -> str:
    ops, leaves = _walk(tensor)
    ids: dict[int, str] = {}
    lines = [
        "digraph minigrad {",
        f"  // {len(ops)} recorded ops, {len(leaves)} leaves",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    root = tensor._node if tensor._node is not None else tensor
    freed = 0
    for i, leaf in enumerate(leaves):
        ids[id(leaf)] = f"leaf{i}"
        name = names.get(id(leaf))
        label = [name if name is not None else "leaf", _describe(leaf.shape, leaf.dtype)]
        if leaf.grad is not None:
            label.append(f"grad norm {gradient_norm(leaf):.6g}")
        style = _PARAM_STYLE if name is not None else _LEAF_STYLE
        lines.append(_node(ids[id(leaf)], label, style, leaf is root))
    for i, ctx in enumerate(ops):
        ids[id(ctx)] = f"op{i}"
        label = [ctx.op.__name__, _describe(ctx.shape, ctx.dtype)]
        if ctx.inputs is None:
            freed += 1
            label.append("(inputs freed by backward)")
        else:
            constants = sum(e is None for e in ctx.inputs)
            if constants:
                label.append(f"+ {constants} constant" + ("s" if constants > 1 else ""))
        lines.append(_node(ids[id(ctx)], label, _OP_STYLE, ctx is root))
    for ctx in ops:
        for e in ctx.inputs or ():
            if e is not None:
                lines.append(f"  {ids[id(e)]} -> {ids[id(ctx)]};")
    lines.append("}")
    if freed:
        warnings.warn(
            "draw_graph: backward() has freed this graph, so its inputs are not drawn; "
            "call backward(retain_graph=True) to draw the graph after the backward pass",
            stacklevel=3,
        )
    return "\n".join(lines) + "\n"


def gradient_norm(t: Tensor) -> float:
    """The Euclidean norm of ``t.grad`` (in float64), as drawn by ``draw_graph``."""
    return float(np.linalg.norm(np.asarray(t.grad.numpy(), dtype=np.float64).ravel()))


def _describe(shape: tuple, dtype: Any) -> str:
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _node(node_id: str, label: list[str], style: str, is_root: bool) -> str:
    text = "\\n".join(_escape(part) for part in label)
    extra = ", peripheries=2" if is_root else ""
    return f'  {node_id} [label="{text}", {style}{extra}];'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def demo_graphs(folder: str | Path, format: str = "png") -> list[str]:
    """Draw the graphs the tour shows: a small expression and an MLP's loss, after
    ``backward(retain_graph=True)``. Returns the DOT texts."""
    from . import functional as F
    from . import nn
    from .random import manual_seed

    folder = Path(folder)
    manual_seed(0)
    x = _tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], requires_grad=True)
    w = _tensor([0.3, -0.2, 0.1], requires_grad=True)
    b = _tensor([0.1], requires_grad=True)
    z = (x * w + b).tanh().sum()
    z.backward(retain_graph=True)
    small = draw_graph(z, folder / f"graph_expression.{format}",
                       params={"x": x, "w": w, "b": b})

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    inputs = _tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=float32)
    labels = _tensor([0, 2, 1, 1, 0])
    loss = F.cross_entropy(model(inputs), labels)
    loss.backward(retain_graph=True)
    mlp = draw_graph(loss, folder / f"graph_mlp.{format}", params=model)
    return [small, mlp]


# optimizers on 2-D surfaces


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


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m minigrad.viz",
        description="Draw the recorded graphs of a small expression and of an MLP loss.",
    )
    parser.add_argument("folder", help="where graph_expression.* and graph_mlp.* go")
    parser.add_argument("--format", default="png", choices=RENDER_FORMATS)
    args = parser.parse_args(argv)
    for dot in demo_graphs(args.folder, args.format):
        print(dot.splitlines()[1].strip("/ "))


if __name__ == "__main__":
    main()
