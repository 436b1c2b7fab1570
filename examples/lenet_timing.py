"""LeNet-5 training steps, minigrad beside PyTorch on the CPU, timed in one process.

One step is forward, cross-entropy, backward and an Adam update on a batch of random
28x28 images. The two frameworks alternate in short rounds (so a busy machine slows both
alike) and each reports the median of its steps; both use one thread unless ``--threads``
says otherwise. ``--device numpy,numba`` times several minigrad backends in the same rounds.
Run: python examples/lenet_timing.py
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from typing import Any

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.bench import lenet5  # LeNet-5 from minigrad.nn or torch.nn, the same layers


def minigrad_step(device: str, images: np.ndarray, labels: np.ndarray):
    model = lenet5(nn).to(device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = mg.tensor(images, device=device), mg.tensor(labels, device=device)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        mg.get_backend(device).synchronize()
    return step


def torch_step(torch, images: np.ndarray, labels: np.ndarray):
    model = lenet5(torch.nn)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.tensor(images), torch.tensor(labels)

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def blas_threads(count: int) -> Any:
    """A context that limits NumPy's BLAS to ``count`` threads (with threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("threadpoolctl is not installed: BLAS threads left as they are")
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api="blas")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per framework")
    parser.add_argument("--rounds", type=int, default=6, help="alternations between them")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="numpy",
                        help="numpy, numba or cupy; several, comma separated, run in turn")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = rng.random((args.batch_size, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, args.batch_size)
    runs = {f"minigrad ({device})": minigrad_step(device, images, labels)
            for device in args.device.split(",")}
    try:
        import torch

        torch.set_num_threads(args.threads)
        runs["torch (cpu)"] = torch_step(torch, images, labels)
    except ImportError:
        print("PyTorch is not installed: timing minigrad alone")
    times: dict[str, list[float]] = {name: [] for name in runs}
    with blas_threads(args.threads):
        for step in runs.values():  # warm up: first calls, allocator, JIT
            for _ in range(3):
                step()
        per_round = max(1, args.steps // args.rounds)
        for _ in range(args.rounds):
            for name, step in runs.items():
                for _ in range(per_round):
                    start = time.perf_counter()
                    step()
                    times[name].append(time.perf_counter() - start)
    print(f"LeNet-5 step (batch {args.batch_size}, 28x28, Adam), {args.threads} thread(s), "
          f"median of {per_round * args.rounds} steps:")
    medians = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    for name, median in medians.items():
        print(f"  {name:18s} {median:8.2f} ms/step")
    theirs = medians.get("torch (cpu)")
    for name, median in medians.items():
        if theirs is not None and name.startswith("minigrad"):
            print(f"  {name} / torch: {median / theirs:.2f}x")


if __name__ == "__main__":
    main()
