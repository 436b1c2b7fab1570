"""Pictures of what minigrad does: the graph the tape recorded.

``draw_graph`` turns the tape behind a tensor into Graphviz DOT text (and an SVG or PNG
when Graphviz is installed). Run ``python -m minigrad.viz FOLDER`` to draw the graphs of a
small expression and of an MLP loss into FOLDER (those of docs/tour.md).
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .autograd import Context
from .creation import tensor as _tensor
from .dtypes import float32
from .tensor import Tensor

__all__ = ["demo_graphs", "draw_graph", "gradient_norm"]

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
