"""How a convolution becomes one matmul (im2col), and how its gradient comes back (col2im).

A 4x4 input and a 2x2 kernel, stride 1: ``sliding_windows`` makes the nine 2x2 windows a
strided view of the input, reshaped into a 4x9 matrix of columns (one column per window);
the kernel, flattened to a row, times that matrix is the 3x3 output. The gradient runs the
other way: ``fold_windows`` adds each column back where its window was read, so a pixel
read by several windows sums their gradients. The numbers in the picture are computed by
the NumPy backend's primitives. Run: python examples/im2col_picture.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg

SIZE, KERNEL = 4, 2
HIGHLIGHT = {0: "#f4a261", 4: "#6fa8dc"}  # window index -> colour (top-left, centre)
WEIGHT = np.array([[1.0, 2.0], [0.0, -1.0]])


def im2col_numbers() -> dict[str, np.ndarray]:
    """The input, its windows as columns, the output, and what folding back gives."""
    xp = mg.get_backend("numpy")
    image = np.arange(1.0, SIZE * SIZE + 1).reshape(SIZE, SIZE)
    windows = xp.sliding_windows(image, (KERNEL, KERNEL), (1, 1), (1, 1))  # (3, 3, 2, 2) view
    out = windows.shape[0]
    columns = windows.reshape(out * out, KERNEL * KERNEL).T  # (kernel offsets, windows)
    output = (WEIGHT.reshape(1, -1) @ columns).reshape(out, out)
    # the gradient of the output all ones: each column is the kernel, folded back (col2im)
    grad_columns = np.repeat(WEIGHT.reshape(-1, 1), out * out, axis=1)
    grad_windows = grad_columns.T.reshape(windows.shape)
    grad_image = xp.fold_windows(grad_windows, image.shape, (1, 1), (1, 1))
    reads = xp.fold_windows(np.ones(windows.shape), image.shape, (1, 1), (1, 1))
    return {"image": image, "windows": windows, "columns": columns, "output": output,
            "grad_image": grad_image, "reads": reads}


def _window_cells(index: int, out: int) -> list[tuple[int, int]]:
    row, col = divmod(index, out)
    return [(row + i, col + j) for i in range(KERNEL) for j in range(KERNEL)]


def _grid(ax, values: np.ndarray, colours: dict[tuple[int, int], str], title: str) -> None:
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(_rectangle(c, rows - 1 - r, colours.get((r, c), "white")))
            value = values[r, c]
            text = f"{value:g}" if value == int(value) else f"{value:.1f}"
            ax.text(c + 0.5, rows - 0.5 - r, text, ha="center", va="center", fontsize=9)
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def _rectangle(x: float, y: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="#444444", linewidth=0.8)


def draw(path: str | Path) -> Path:
    """Draw the four panels into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = im2col_numbers()
    out = n["output"].shape[0]
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.0),
                             gridspec_kw={"width_ratios": [4, 9, 3.4, 4]})
    in_colours: dict[tuple[int, int], str] = {}
    for index, colour in HIGHLIGHT.items():
        for cell in _window_cells(index, out):
            in_colours[cell] = "#b48ead" if cell in in_colours else colour  # read by both
    _grid(axes[0], n["image"], in_colours, "input x (4x4)\ntwo of its nine 2x2 windows")
    col_colours = {(r, index): colour for index, colour in HIGHLIGHT.items()
                   for r in range(KERNEL * KERNEL)}
    _grid(axes[1], n["columns"], col_colours,
          "sliding_windows: a strided view (no copy);\nthe reshape copies it into columns (4x9)")
    out_colours = {divmod(index, out): colour for index, colour in HIGHLIGHT.items()}
    _grid(axes[2], n["output"], out_colours,
          "y = w @ columns\nw = [1 2; 0 -1]")
    _grid(axes[3], n["grad_image"], {},
          "dx = fold_windows(wᵀ dy)\ndy = 1: each window adds w back")
    fig.suptitle("A convolution as one matmul (im2col) and its gradient (col2im)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/im2col.png", help="where to write the PNG")
    args = parser.parse_args()
    n = im2col_numbers()
    print("columns (one per window):")
    print(n["columns"])
    print("output y = w @ columns:")
    print(n["output"])
    print("windows that read each pixel (fold_windows of ones):")
    print(n["reads"])
    print(f"picture: {draw(args.out)}")


if __name__ == "__main__":
    main()
