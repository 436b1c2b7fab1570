"""Where the backends cross over: one MLP training step, timed from tiny to large models.

Runs the bench's MLP workload (forward, loss, backward, Adam step) at the project's four
model sizes on every usable minigrad backend, the hand-written NumPy program and PyTorch
where it is installed; prints the table, then reads the numbers back: the fastest
contender at each size, the framework's cost over hand-written NumPy, and the sizes
between which one backend overtakes another. Saves the time-per-step plot.
Run: python examples/backend_crossover.py   (--quick for a short run)
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from minigrad.bench import (
    HANDWRITTEN,
    format_table,
    format_time,
    parse_model,
    plot_mlp,
    run_bench,
    write_json,
)


def medians(result: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """The model sizes in order, and {contender: {size: median seconds per step}}."""
    rows = [r for r in result["results"] if r["workload"] == "mlp_step"]
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    times: dict[str, dict[str, float]] = {}
    for r in rows:
        if r["status"] == "ok":
            times.setdefault(r["contender"], {})[r["size"]] = r["median_s"]
    return sizes, times


def fastest_per_size(sizes: list[str], times: dict[str, dict[str, float]]) -> list[str]:
    lines = []
    for size in sizes:
        here = sorted((t[size], name) for name, t in times.items() if size in t)
        if not here:
            continue
        best_time, best = here[0]
        others = ", ".join(f"{name} {t / best_time:.2f}x" for t, name in here[1:])
        lines.append(f"  {size}: fastest {best} ({format_time(best_time)}/step)"
                     + (f"; then {others}" if others else ""))
    return lines


def crossovers(sizes: list[str], times: dict[str, dict[str, float]]) -> list[str]:
    """For each pair of contenders: between which sizes the faster one changes, or that
    one of them is faster throughout (with the range of the ratio)."""
    lines = []
    for a, b in itertools.combinations(times, 2):
        shared = [s for s in sizes if s in times[a] and s in times[b]]
        if len(shared) < 2:
            continue
        ratios = [times[a][s] / times[b][s] for s in shared]  # below 1: a is faster
        flips = [(shared[i], shared[i + 1], ratios[i], ratios[i + 1])
                 for i in range(len(shared) - 1) if (ratios[i] < 1) != (ratios[i + 1] < 1)]
        if not flips:
            faster, slower = (a, b) if ratios[0] < 1 else (b, a)
            span = [r if faster == a else 1 / r for r in ratios]
            lines.append(f"  no crossover: {faster} is faster than {slower} at every size "
                         f"(time ratio {min(span):.2f} to {max(span):.2f})")
            continue
        for small, large, before, after in flips:
            winner = a if after < 1 else b
            lines.append(f"  crossover: {winner} overtakes {b if winner == a else a} between "
                         f"{small} and {large} ({a} / {b} time ratio {before:.2f} -> "
                         f"{after:.2f})")
    return lines


def framework_cost(sizes: list[str], times: dict[str, dict[str, float]]) -> list[str]:
    """Each framework's time over the hand-written NumPy step, smallest to largest model."""
    floor = times.get(HANDWRITTEN)
    if not floor:
        return []
    lines = []
    for name, t in times.items():
        if name == HANDWRITTEN:
            continue
        ratios = [t[s] / floor[s] for s in sizes if s in t and s in floor]
        if not ratios:
            continue
        trend = ""
        if len(ratios) > 1:
            trend = ("; the fixed cost per op weighs less as the arrays grow"
                     if ratios[-1] < ratios[0] else "; the gap widens as the arrays grow")
        lines.append(f"  {name}: {' -> '.join(f'{r:.2f}x' for r in ratios)} the "
                     f"hand-written NumPy time{trend}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="few repeats, without the 784-2048-2048-10 model")
    parser.add_argument("--repeats", type=int, help="timed samples per measurement")
    parser.add_argument("--models", help="models to time instead, e.g. 64-128-10,784-512-10@128")
    parser.add_argument("--threads", type=int, help="threads for BLAS, Numba and PyTorch")
    parser.add_argument("--out", default="runs/backend_crossover.png", help="the plot")
    parser.add_argument("--json", help="also write the results as JSON")
    args = parser.parse_args()
    options: dict[str, Any] = {"only": ("mlp",), "quick": args.quick, "repeats": args.repeats,
                               "threads": args.threads}
    if args.models:
        options["models"] = tuple(parse_model(m) for m in args.models.split(","))
    result = run_bench(**options)
    print(format_table(result, groups=("mlp",)))
    sizes, times = medians(result)
    print("\nFastest at each size (time per step, and the others as multiples of it):")
    print("\n".join(fastest_per_size(sizes, times)))
    print("\nWhere the contenders cross over as the model grows:")
    print("\n".join(crossovers(sizes, times)) or "  fewer than two sizes measured")
    cost = framework_cost(sizes, times)
    if cost:
        print("\nWhat the framework costs over hand-written NumPy, smallest to largest model:")
        print("\n".join(cost))
    if args.json:
        print(f"results: {write_json(result, args.json)}")
    plot_mlp(result, args.out)


if __name__ == "__main__":
    main()
