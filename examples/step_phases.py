"""Where an eager training step's time goes: zero_grad, forward, loss, backward, optimizer.

Trains an MLP with Adam on a random batch and times each phase of every step apart; prints
the median of each phase over the steps (after a warm-up) and their sum. Compare devices,
or a change to the core, phase by phase.
Run: python examples/step_phases.py --device numpy,numba --model 64-128-10@64
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.bench.workloads import parse_model

PHASES = ("zero_grad", "forward", "loss", "backward", "step")


def phase_times(device: str, layers: tuple[int, ...], batch: int, steps: int,
                warmup: int) -> dict[str, float]:
    """The median seconds of each phase of ``steps`` Adam steps on ``device``."""
    mg.manual_seed(0)
    modules: list = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        modules += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*modules[:-1]).to(device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((batch, layers[0])).astype(np.float32), device=device)
    y = mg.tensor(rng.integers(0, layers[-1], batch), device=device)
    clock = time.perf_counter
    samples: dict[str, list[float]] = {name: [] for name in PHASES}
    for i in range(warmup + steps):
        t0 = clock()
        opt.zero_grad()
        t1 = clock()
        out = model(x)
        t2 = clock()
        loss = F.cross_entropy(out, y)
        t3 = clock()
        loss.backward()
        t4 = clock()
        opt.step()
        t5 = clock()
        if i >= warmup:
            for name, seconds in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                samples[name].append(seconds)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="numpy", help="devices, comma-separated")
    parser.add_argument("--model", default="64-128-10@64", help="layer sizes @ batch")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    args = parser.parse_args()
    layers, batch = parse_model(args.model)
    print(f"eager Adam step, {'-'.join(map(str, layers))} batch {batch}, median µs of "
          f"{args.steps} steps per phase:")
    print(f"  {'device':8s}" + "".join(f"{name:>11s}" for name in (*PHASES, "sum")))
    for device in args.device.split(","):
        times = phase_times(device, layers, batch, args.steps, args.warmup)
        cells = [times[name] * 1e6 for name in PHASES]
        print(f"  {device:8s}" + "".join(f"{v:11.1f}" for v in (*cells, sum(cells))))


if __name__ == "__main__":
    main()
