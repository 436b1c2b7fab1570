"""README.md and docs/tour.md say what the code does: every Python block runs as pasted
(or is a verbatim quotation of the code), the tour's pictures are what its command draws,
and the examples table names the plots the scripts draw."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from minigrad import viz

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "tour.md"]
SOURCES = sorted([*(ROOT / "minigrad").rglob("*.py"), *(ROOT / "backends").glob("*.py")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks():
    for doc in DOCS:
        text = doc.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            yield pytest.param(match.group(1), id=f"{doc.name}:{line}")


def quoted_from(code):
    """The source file that holds ``code`` word for word, if any."""
    return next((path for path in SOURCES if code in path.read_text()), None)


@pytest.mark.parametrize("code", python_blocks())
def test_python_block_runs_as_pasted(code, tmp_path):
    """A block runs in a fresh process from a folder like the repository's root (with an
    examples/ folder), or quotes the code exactly. None needs a GPU or an MPI launcher,
    so none is skipped: the distributed one runs as a job of one."""
    if quoted_from(code) is not None:
        return
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{code}\n{done.stderr}"


def test_quoted_blocks_are_found():
    quoted = [p for p in python_blocks() if quoted_from(p.values[0]) is not None]
    assert len(quoted) >= 3  # Tanh in README; the backward loop and sum_to in the tour
    names = {quoted_from(p.values[0]).name for p in quoted}
    assert {"ops.py", "autograd.py"} <= names


def test_regenerating_the_tours_graphs_leaves_the_tracked_files_unchanged(tmp_path):
    tour = (ROOT / "docs" / "tour.md").read_text()
    assert "python -m minigrad.viz docs/images" in tour
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no Graphviz here: the DOT files alone
        viz.main([str(tmp_path), "--format", "svg"])
    tracked = sorted((ROOT / "docs" / "images").glob("*.dot"))
    assert [p.name for p in tracked] == sorted(p.name for p in tmp_path.glob("*.dot"))
    for path in tracked:
        assert (tmp_path / path.name).read_text() == path.read_text(), path.name


def test_examples_table_names_the_plot_each_script_draws():
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| \[`examples/(\w+\.py)`\]\(examples/\w+\.py\) \| .* \| (.*) \|$",
                      readme, re.M)
    scripts = {p.name for p in (ROOT / "examples").glob("*.py")} - {"surfaces.py"}
    assert {name for name, _ in rows} == scripts
    for name, plot in rows:
        source = (ROOT / "examples" / name).read_text()
        if plot == "—":
            assert ".png" not in source, name
        else:
            path = plot.strip("`")
            assert path.startswith("runs/") and f'"{path}"' in source, name


def test_the_tours_plan_is_what_its_step_prints(tmp_path):
    """The program the tour shows (its checks elided as ``...``) is the one mg.compile
    writes for the tour's step today."""
    tour = (ROOT / "docs" / "tour.md").read_text()
    code = next(m.group(1) for m in BLOCK.finditer(tour) if "print(step.plan)" in m.group(1))
    shown = tour[tour.index(code) + len(code):].split("```\n")[2]  # the next block
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    first = printed.index("def replay(args):") + 2  # after the line that names the checks
    body = next(i for i in range(first, len(printed)) if printed[i].startswith("    # 0 "))
    printed[first:body] = ["    ..."]
    assert shown.splitlines()[:len(printed) - 2] == printed[:-2]
