"""minigrad.viz: the drawn graph is the recorded one."""

import re
import shutil
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, viz

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$', re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$", re.M)


def parse(dot):
    """Nodes (id -> label lines and attributes) and edges (id pairs, in order)."""
    nodes = {m[1]: (m[2].split("\\n"), m[3]) for m in NODE.finditer(dot)}
    edges = [(m[1], m[2]) for m in EDGE.finditer(dot)]
    return nodes, edges


def titled(nodes, edges):
    """The edges as (title of the input, title of the op): the first label lines."""
    return [(nodes[a][0][0], nodes[b][0][0]) for a, b in edges]


def small_expression():
    x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], requires_grad=True)
    w = mg.tensor([0.3, -0.2, 0.1], requires_grad=True)
    b = mg.tensor([0.1], requires_grad=True)
    return x, w, b, (x * w + b).tanh().sum()


def no_dot(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot"
                        else real(name, *a, **k))


# the graph


def test_small_expression_nodes_and_edges():
    x, w, b, z = small_expression()
    nodes, edges = parse(viz.draw_graph(z, params={"w": w, "b": b}))
    labels = sorted(lines[:2] for lines, _ in nodes.values())
    assert labels == sorted([
        ["leaf", "(2, 3) float32"], ["w", "(3,) float32"], ["b", "(1,) float32"],
        ["Mul", "(2, 3) float32"], ["Add", "(2, 3) float32"], ["Tanh", "(2, 3) float32"],
        ["Sum", "() float32"],
    ])
    assert sorted(titled(nodes, edges)) == sorted([
        ("leaf", "Mul"), ("w", "Mul"), ("Mul", "Add"), ("b", "Add"), ("Add", "Tanh"),
        ("Tanh", "Sum"),
    ])
    roots = [lines[0] for lines, attrs in nodes.values() if "peripheries=2" in attrs]
    assert roots == ["Sum"]
    assert not any("grad norm" in line for lines, _ in nodes.values() for line in lines)


def test_shared_subexpression_is_drawn_once():
    x = mg.tensor([0.2, -0.4], requires_grad=True)
    y = x.tanh()
    z = (y * y + y).sum()
    nodes, edges = parse(viz.draw_graph(z))
    assert sorted(lines[0] for lines, _ in nodes.values()) == ["Add", "Mul", "Sum", "Tanh",
                                                               "leaf"]
    # y * y uses y twice: two edges into Mul from the one Tanh node
    assert sorted(titled(nodes, edges)) == sorted([
        ("leaf", "Tanh"), ("Tanh", "Mul"), ("Tanh", "Mul"), ("Mul", "Add"), ("Tanh", "Add"),
        ("Add", "Sum"),
    ])


def test_constants_are_counted_not_drawn():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 3.0 + mg.tensor([1.0, 1.0])).sum()
    nodes, edges = parse(viz.draw_graph(z))
    by_title = {lines[0]: lines for lines, _ in nodes.values()}
    assert by_title["Mul"][2] == "+ 1 constant"
    assert by_title["Add"][2] == "+ 1 constant"
    assert len(by_title["Sum"]) == 2
    assert len(nodes) == 4 and len(edges) == 3


def test_gradient_norms_after_backward_match_direct_gradients():
    x, w, b, z = small_expression()
    z.backward(retain_graph=True)
    nodes, _ = parse(viz.draw_graph(z, params={"w": w, "b": b}))
    drawn = {lines[0]: float(lines[2].removeprefix("grad norm "))
             for lines, _ in nodes.values() if len(lines) > 2}
    # z = sum(tanh(x w + b)); with s = 1 - tanh^2: dz/dx = w s, dz/dw = sum_rows x s,
    # dz/db = sum s
    xs, ws, bs = (t.numpy().astype(np.float64) for t in (x, w, b))
    s = 1 - np.tanh(xs * ws + bs) ** 2
    direct = {"leaf": np.linalg.norm(ws * s), "w": np.linalg.norm((xs * s).sum(0)),
              "b": abs(s.sum())}
    assert drawn.keys() == direct.keys()
    for name, norm in direct.items():
        assert drawn[name] == pytest.approx(norm, rel=1e-5)
    for name, t in (("leaf", x), ("w", w), ("b", b)):
        assert drawn[name] == pytest.approx(np.linalg.norm(t.grad.numpy()), rel=1e-5)


def test_freed_graph_is_said():
    _, _, _, z = small_expression()
    z.backward()
    with pytest.warns(UserWarning, match="retain_graph=True"):
        nodes, edges = parse(viz.draw_graph(z))
    assert [lines for lines, _ in nodes.values()] == [
        ["Sum", "() float32", "(inputs freed by backward)"]]
    assert edges == []


def test_leaf_and_untracked_tensors():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    nodes, edges = parse(viz.draw_graph(w, params={"w": w}))
    assert [lines for lines, _ in nodes.values()] == [["w", "(2,) float32"]] and not edges
    nodes, _ = parse(viz.draw_graph(mg.tensor([1, 2]) * 2))
    assert [lines for lines, _ in nodes.values()] == [["leaf", "(2,) int64"]]


def test_user_function_is_drawn():
    class Cube(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    nodes, edges = parse(viz.draw_graph(Cube.apply(x).sum(), params={"x": x}))
    assert sorted(titled(nodes, edges)) == [("Cube", "Sum"), ("x", "Cube")]
    assert ["Cube", "(2,) float64"] in [lines for lines, _ in nodes.values()]


def test_mlp_loss_graph_names_every_parameter():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = mg.randn(5, 4)
    loss = F.cross_entropy(model(x), mg.tensor([0, 2, 1, 1, 0]))
    loss.backward(retain_graph=True)
    nodes, edges = parse(viz.draw_graph(loss, params=model))
    leaves = {lines[0]: lines for node, (lines, _) in nodes.items() if node.startswith("leaf")}
    params = dict(model.named_parameters())
    assert leaves.keys() == params.keys()
    for name, p in params.items():
        assert leaves[name][1] == f"{p.shape} float32"
        assert float(leaves[name][2].removeprefix("grad norm ")) == pytest.approx(
            np.linalg.norm(p.grad.numpy()), rel=1e-5)
    # every recorded op once: as many op nodes as distinct contexts on the tape
    contexts, stack = {}, [loss.grad_fn]
    while stack:
        ctx = stack.pop()
        if isinstance(ctx, mg.Context) and id(ctx) not in contexts:
            contexts[id(ctx)] = ctx
            stack.extend(ctx.inputs)
    assert sum(node.startswith("op") for node in nodes) == len(contexts)
    assert len(edges) == sum(e is not None for c in contexts.values() for e in c.inputs)
    # a dict names only the parameters it holds
    nodes, _ = parse(viz.draw_graph(loss, params={"first": model[0].weight}))
    titles = sorted(lines[0] for node, (lines, _) in nodes.items() if node.startswith("leaf"))
    assert titles == ["first", "leaf", "leaf", "leaf"]


def test_deep_chain_needs_no_recursion():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    dot = viz.draw_graph(y.sum())
    nodes, edges = parse(dot)
    assert "// 5001 recorded ops, 1 leaves" in dot
    assert len(nodes) == 5002 and len(edges) == 5001


def test_bad_arguments():
    _, _, _, z = small_expression()
    with pytest.raises(ValueError, match="format"):
        viz.draw_graph(z, "graph", format="gif")
    with pytest.raises(TypeError, match="Module or a dict"):
        viz.draw_graph(z, params=[1, 2])


# files


def test_missing_graphviz_says_how_to_install(tmp_path, monkeypatch):
    no_dot(monkeypatch)
    _, w, b, z = small_expression()
    with pytest.warns(UserWarning) as caught:
        dot = viz.draw_graph(z, tmp_path / "graph.png", params={"w": w, "b": b})
    message = str(caught[0].message)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert (tmp_path / "graph.dot").read_text() == dot
    assert not (tmp_path / "graph.png").exists()


def test_dot_path_writes_only_dot(tmp_path, monkeypatch):
    no_dot(monkeypatch)
    _, _, _, z = small_expression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to render, so nothing to warn about
        dot = viz.draw_graph(z, tmp_path / "sub" / "graph.dot")
    assert (tmp_path / "sub" / "graph.dot").read_text() == dot
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["graph.dot"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_renders_with_graphviz(tmp_path, fmt):
    _, w, b, z = small_expression()
    viz.draw_graph(z, tmp_path / "graph", format=fmt, params={"w": w, "b": b})
    assert (tmp_path / "graph.dot").exists()
    data = (tmp_path / f"graph.{fmt}").read_bytes()
    if fmt == "svg":
        assert b"<svg" in data and b"Tanh" in data
    else:
        assert data.startswith(b"\x89PNG")


def test_demo_graphs(tmp_path, monkeypatch):
    no_dot(monkeypatch)
    with pytest.warns(UserWarning, match="install graphviz"):
        small, mlp = viz.demo_graphs(tmp_path, "svg")
    assert "// 4 recorded ops, 3 leaves" in small and "0.weight" in mlp
    assert "grad norm" in small and "grad norm" in mlp
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["graph_expression.dot", "graph_mlp.dot"]
