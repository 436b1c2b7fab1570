"""Plotting is optional: matplotlib is used when it is installed, and its absence is said."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` drawing to files, or None (after saying so) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed, so no plot is drawn (pip install matplotlib)")
        return None
    return plt


def save(fig: Any, path: str | Path) -> str:
    """Write ``fig`` to ``path`` (making its folder) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"plot: {path}")
    return str(path)
