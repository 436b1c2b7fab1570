"""Per-op dispatch cost: a chain of small-tensor ops, forward and backward.

The chain repeats (add a tensor, multiply by a tensor, tanh) on a shape-(4,) float32
tensor; time per op is the median over repeats, after warm-up, beside PyTorch's on one
thread when it is installed. Run: python examples/dispatch_overhead.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import minigrad as mg


def chain(lib, x, a, m, length: int):
    y = x
    for i in range(length):
        k = i % 3
        if k == 0:
            y = y + a
        elif k == 1:
            y = y * m
        else:
            y = lib.tanh(y)
    return y


def run_once(lib, make, length: int, backward: bool) -> float:
    """Seconds per op of one pass over the chain (forward, plus backward if asked)."""
    x, a, m = make()
    start = time.perf_counter()
    y = chain(lib, x, a, m, length)
    if backward:
        y.sum().backward()
    return (time.perf_counter() - start) / length


def measure(contenders: dict, length: int, repeats: int) -> dict:
    """Median (forward, forward+backward) seconds per op; contenders take turns each repeat."""
    times = {name: ([], []) for name in contenders}
    for r in range(repeats + 2):
        for name, (lib, make) in contenders.items():
            fwd, both = run_once(lib, make, length, False), run_once(lib, make, length, True)
            if r >= 2:  # the first two rounds are warm-up
                times[name][0].append(fwd)
                times[name][1].append(both)
    return {name: (statistics.median(f), statistics.median(b)) for name, (f, b) in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(4).astype(np.float32) for _ in range(3)]

    def make_mg():
        x = mg.tensor(values[0], requires_grad=True)
        return x, mg.tensor(values[1], requires_grad=True), mg.tensor(values[2] * 0.5)

    contenders = {}
    for device in mg.devices():
        def make(device=device):
            return tuple(t.to(device) if t.is_leaf else t for t in make_mg())

        contenders[f"minigrad[{device}]"] = (mg, make)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no comparison")
    else:
        torch.set_num_threads(1)

        def make_torch():
            x = torch.tensor(values[0], requires_grad=True)
            return x, torch.tensor(values[1], requires_grad=True), torch.tensor(values[2] * 0.5)

        contenders["torch (1 thread)"] = (torch, make_torch)
    rows = measure(contenders, args.length, args.repeats)
    base = rows.get("torch (1 thread)")
    print(f"{'':20s} {'forward µs/op':>14s} {'fwd+bwd µs/op':>14s} {'vs torch':>9s}")
    for name, (fwd, both) in rows.items():
        ratio = f"{both / base[1]:.2f}x" if base else "-"
        print(f"{name:20s} {fwd * 1e6:14.2f} {both * 1e6:14.2f} {ratio:>9s}")


if __name__ == "__main__":
    main()
