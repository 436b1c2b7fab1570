"""What glibc's malloc costs a training step on the host, and what minigrad's setting saves.

Every training step allocates its activations, gradients and temporaries anew. With
glibc's own thresholds, malloc hands much of that memory back to the OS after each step
and the next step faults it in again, page by page; ``minigrad train`` and ``minigrad
bench`` raise the thresholds (``minigrad.host_memory.tune_malloc()``, which a script may
call too). Each backend and model runs in fresh processes, with malloc as glibc leaves it
(``MINIGRAD_TUNE_MALLOC=0``) and as minigrad sets it, alternately for several rounds; each
process counts the page faults of its timed steps (after a warm-up) and takes their median
time.

    python examples/host_memory.py            # about a minute
    python examples/host_memory.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

import minigrad as mg

MODELS = ("784-512-256-10@256", "784-2048-2048-10@512")


def child(device: str, model: str, steps: int) -> None:
    """Time ``steps`` Adam training steps of ``model`` on ``device``; print JSON."""
    from minigrad import functional as F
    from minigrad.host_memory import malloc_settings, tune_malloc
    from minigrad.training import TrainConfig, build_model, build_optimizer

    tune_malloc()  # as minigrad train does; MINIGRAD_TUNE_MALLOC=0 leaves malloc as it is

    layers_text, batch = model.split("@")
    layers = [int(n) for n in layers_text.split("-")]
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((int(batch), layers[0]), dtype=np.float32), device=device)
    y = mg.tensor(rng.integers(0, layers[-1], int(batch)), device=device)
    config = TrainConfig(hidden=tuple(layers[1:-1]), optimizer="adam", device=device)
    net = build_model(config, layers[0], layers[-1])
    opt = build_optimizer(config, net.parameters())

    def step() -> None:
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    print(json.dumps({"ms": float(np.median(times)) * 1e3, "faults": faults / steps,
                      "malloc": malloc_settings()}))


def run_child(device: str, model: str, steps: int, tuned: bool) -> dict:
    env = dict(os.environ, MINIGRAD_TUNE_MALLOC="1" if tuned else "0")
    done = subprocess.run([sys.executable, __file__, "--child", device, model, str(steps)],
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="LAYERS@BATCH, comma separated")
    parser.add_argument("--rounds", type=int, default=3, help="processes per setting")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per process")
    parser.add_argument("--quick", action="store_true", help="one small model, 2 rounds")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        device, model, steps = args.child
        child(device, model, int(steps))
        return
    models = args.models.split(",")
    if args.quick:
        models, args.rounds, args.steps = ["784-256-10@128"], 2, 5
    devices = [d for d in ("numpy", "numba") if d in mg.devices()]

    print(f"training steps (Adam), {args.rounds} processes per setting, {args.steps} timed "
          "steps each; faults: minor page faults per step; ms: median over the processes")
    print(f"{'device':7s} {'model':22s} {'glibc as is':>22s} {'tuned by minigrad':>22s}"
          f" {'speed-up':>9s}")
    note = ""
    for device in devices:
        for model in models:
            runs: dict[bool, list[dict]] = {False: [], True: []}
            for _ in range(args.rounds):
                for tuned in (False, True):
                    runs[tuned].append(run_child(device, model, args.steps, tuned))
            cells = []
            for tuned in (False, True):
                ms = float(np.median([r["ms"] for r in runs[tuned]]))
                faults = float(np.median([r["faults"] for r in runs[tuned]]))
                cells.append((ms, faults))
            note = runs[True][0]["malloc"]
            (ms0, f0), (ms1, f1) = cells
            print(f"{device:7s} {model:22s} {f0:7.0f} faults {ms0:7.2f} ms {f1:7.0f} faults "
                  f"{ms1:7.2f} ms {ms0 / ms1:8.2f}x")
    print(f"tuned: {note}")


if __name__ == "__main__":
    main()
