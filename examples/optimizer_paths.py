"""Six optimizers on three classic surfaces: where each one goes, step by step.

Gradient descent, SGD with seeded gradient noise, momentum, Nesterov momentum, RMSprop
and Adam (minigrad's own optimizers, the gradient from minigrad's autograd) start from
the same point on an ill-conditioned quadratic, the Rosenbrock valley and a saddle.
Prints where each one ends and its final loss; draws the paths over the contours and the
loss against the step (and, with --gif, an animation).
Run: python examples/optimizer_paths.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import surfaces  # examples/surfaces.py, beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="seed of the gradient noise")
    parser.add_argument("--out", default="runs/optimizer_paths.png")
    parser.add_argument("--gif", action="store_true",
                        help="also write an animation beside --out (.gif)")
    args = parser.parse_args()

    results = surfaces.run_test_functions(steps=args.steps, seed=args.seed)
    for key, paths in results.items():
        surface = surfaces.test_functions[key]
        minima = " and ".join(f"({x:.3g}, {y:.3g})" for x, y in surface.minima)
        print(f"{surface.name}: f = {surface.formula}, from {surface.start}, "
              f"minimum at {minima}, {args.steps} steps")
        for name, points in paths.items():
            finite = np.isfinite(points).all(axis=1)
            x, y = points[finite][-1]
            loss = surfaces.surface_values(surface.f, x, y)
            note = "" if finite.all() else f"  (diverged after {finite.sum() - 1} steps)"
            print(f"  {name:22s} ends at ({x:8.4f}, {y:8.4f})  final loss {loss:10.3g}{note}")
    out = Path(args.out)
    surfaces.plot_optimizer_paths(results, out, gif=out.with_suffix(".gif") if args.gif else None)


if __name__ == "__main__":
    main()
