"""LeNet-5 training steps, minigrad beside PyTorch on the CPU, timed in one process.

One step is forward, cross-entropy, backward and an Adam update on a batch of random
28x28 images. The two frameworks alternate in short rounds (so a busy machine slows both
alike) and each reports the median of its steps; both use one thread unless ``--threads``
says otherwise. ``--device numpy,numba`` times several minigrad backends in the same rounds,
``--compiled`` their ``mg.compile``d steps too, and ``--ops`` adds, per backend, the time
spent in each op's forward and backward (the rest of a step is the optimizer and Python).
Run: python examples/lenet_timing.py --device numpy,numba --compiled --ops
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.bench import lenet5  # LeNet-5 from minigrad.nn or torch.nn, the same layers
from minigrad.function import Op


def minigrad_step(device: str, images: np.ndarray, labels: np.ndarray, compiled: bool = False):
    model = lenet5(nn).to(device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = mg.tensor(images, device=device), mg.tensor(labels, device=device)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        mg.get_backend(device).synchronize()
    return mg.compile(step) if compiled else step


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


def op_times(step: Callable[[], None], steps: int) -> dict[str, float]:
    """Milliseconds per step in each op's forward and backward, over ``steps`` steps."""
    totals: dict[str, float] = collections.defaultdict(float)
    ops = [cls for cls in _subclasses(Op) if "forward" in vars(cls)]
    saved = {cls: (vars(cls)["forward"], vars(cls).get("backward")) for cls in ops}

    def timed(cls: type, name: str, fn: Any) -> staticmethod:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[f"{cls.__name__}.{name}"] += time.perf_counter() - start
        return staticmethod(run)

    for cls, (forward, backward) in saved.items():
        cls.forward = timed(cls, "forward", forward.__func__)
        if backward is not None:
            cls.backward = timed(cls, "backward", backward.__func__)
    try:
        for _ in range(steps):
            step()
    finally:
        for cls, (forward, backward) in saved.items():
            cls.forward = forward
            if backward is not None:
                cls.backward = backward
    return {name: t * 1e3 / steps for name, t in totals.items()}


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return list(dict.fromkeys(found))


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
    parser.add_argument("--compiled", action="store_true",
                        help="time each backend's mg.compile'd step too")
    parser.add_argument("--ops", action="store_true",
                        help="then time each op's forward and backward, per backend")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = rng.random((args.batch_size, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, args.batch_size)
    runs = {}
    for device in args.device.split(","):
        runs[f"minigrad ({device})"] = minigrad_step(device, images, labels)
        if args.compiled:
            runs[f"minigrad ({device}, compiled)"] = minigrad_step(device, images, labels, True)
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
        print(f"  {name:28s} {median:8.2f} ms/step")
    theirs = medians.get("torch (cpu)")
    for name, median in medians.items():
        if theirs is not None and name.startswith("minigrad"):
            print(f"  {name} / torch: {median / theirs:.2f}x")
    if args.ops:
        with blas_threads(args.threads):
            for name, step in runs.items():
                if not name.startswith("minigrad"):
                    continue
                times_per_op = op_times(step, per_round * args.rounds)
                print(f"{name}: ms per step in each op (the rest: optimizer and Python)")
                for op, ms in sorted(times_per_op.items(), key=lambda item: -item[1]):
                    if ms >= 0.01:
                        print(f"  {op:32s} {ms:7.3f}")


if __name__ == "__main__":
    main()
