"""The measurements behind the numba backend's settings: thresholds, threads, start-up.

1. Serial against parallel kernels by array size (Adam update): where the optimizer
   updates go parallel on the threading layer in use. 1b: the memory-bound kernels (Adam,
   relu and its gradient) timed call by call inside training steps, serial and parallel.
2. The softmax cross-entropy kernel against NumPy by batch and class count:
   ``SOFTMAX_MAX_CLASSES``.
3. Threading layers, each in a fresh process: TBB (the default where the tbb package is
   installed), workqueue and OpenMP, on a 1M-parameter Adam update and on a
   784-512-256-10 training step (where spinning workers starve the BLAS threads).
4. Start-up: the first training step of a fresh process, with an empty kernel cache
   (everything compiled) and again with the cache the first process wrote.

    python examples/numba_tuning.py            # about a minute
    python examples/numba_tuning.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad.backends.numba_backend import tbb_available


def median_us(fn, repeats: int, warmup: int = 3, pause: float = 0.0) -> float:
    """Median time of ``fn()`` in µs; ``pause`` seconds of idling (untimed) before each call
    let worker threads fall asleep, as they do between the kernels of a training step."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if pause:
            time.sleep(pause)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def adam_args(n: int) -> tuple:
    rng = np.random.default_rng(0)
    arrays = [rng.random(n, dtype=np.float32) for _ in range(4)]
    t = np.float32
    hyper = (t(1), t(0), t(0.9), t(0.999), t(0.1), t(0.001), t(0.03), t(1e-8), t(-1e-3), False)
    return (*arrays, arrays[3], *hyper)


def serial_vs_parallel(repeats: int) -> None:
    import numba

    from minigrad.backends import numba_kernels as k

    backend = mg.get_backend("numba")  # sets the threading layer
    print(f"1. Adam kernel, serial vs parallel on the {numba.config.THREADING_LAYER} layer "
          f"(parallel from {backend.kernels.parallel_min['adam']:,} elements); parallel "
          "calls back to back, and after 2 ms idle (workers asleep)")
    print(f"   {'elements':>10} {'serial µs':>10} {'parallel µs':>12} {'after idle µs':>14}")
    for n in (1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 10_000_000):
        args = adam_args(n)
        serial = median_us(partial(k.adam_serial, *args), repeats)
        parallel = median_us(partial(k.adam_parallel, *args), repeats)
        idle = median_us(partial(k.adam_parallel, *args), repeats, pause=0.002)
        print(f"   {n:>10,} {serial:>10.1f} {parallel:>12.1f} {idle:>14.1f}")


def train_step(net, opt, x, y) -> None:
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def inside_a_step(rounds: int, models: tuple[tuple[int, ...], ...]) -> None:
    """The memory-bound kernels timed call by call inside Adam training steps, with every
    one of them serial, then parallel, alternately (a few steps each, ``rounds`` times)."""
    from minigrad.backends import numba_kernels as k
    from minigrad.training import TrainConfig, build_model, build_optimizer

    backend = mg.get_backend("numba")
    kernels, chosen = backend.kernels, dict(backend.kernels.parallel_min)
    print("\n1b. the same kernels inside training steps (Adam, cross-entropy), each call "
          "timed; where BLAS threads have just run, a second thread rarely pays")
    print(f"   {'model':<24} {'kernel':<14} {'elements':>10} {'serial µs':>10} "
          f"{'parallel µs':>12}")
    times: dict[tuple, list[float]] = {}
    mode = ["serial"]
    call = kernels.call

    def timed_call(name, size, *args):
        start = time.perf_counter()
        result = call(name, size, *args)
        if size >= k.PARALLEL_MIN // 2:
            times.setdefault((name, size, mode[0]), []).append(time.perf_counter() - start)
        return result

    kernels.call = timed_call
    try:
        for layers in models:
            batch = 256 if layers[1] <= 512 else 512
            rng = np.random.default_rng(0)
            x = mg.tensor(rng.standard_normal((batch, layers[0]), dtype=np.float32),
                          device="numba")
            y = mg.tensor(rng.integers(0, layers[-1], batch), device="numba")
            config = TrainConfig(hidden=layers[1:-1], optimizer="adam", device="numba")
            net = build_model(config, layers[0], layers[-1])
            step = partial(train_step, net, build_optimizer(config, net.parameters()), x, y)
            step()
            times.clear()
            for _ in range(rounds):
                for mode[0] in ("serial", "parallel"):
                    for name in (*k.UPDATES, *k.RELU):
                        kernels.parallel_min[name] = 0 if mode[0] == "parallel" else 1 << 62
                    for _ in range(3):
                        step()
            model = "-".join(map(str, layers)) + f" batch {batch}"
            for name, size in sorted({(n, s) for n, s, _ in times}):
                serial, parallel = (float(np.median(times[name, size, m])) * 1e6
                                    for m in ("serial", "parallel"))
                print(f"   {model:<24} {name:<14} {size:>10,} {serial:>10.1f} {parallel:>12.1f}")
                model = ""
    finally:
        kernels.call = call
        kernels.parallel_min.update(chosen)


def numpy_pass(backend, x, y, g) -> None:
    _, probs = backend.softmax_cross_entropy(x, y)
    backend.softmax_cross_entropy_backward(probs, y, g)


def kernel_pass(kernels, x, y, g) -> None:
    losses, probs, out = np.empty(len(x), x.dtype), np.empty_like(x), np.empty_like(x)
    kernels.call("softmax_xent", x.size, x, y, losses, probs)
    kernels.call("softmax_xent_backward", x.size, probs, y, g, out)


def softmax_table(repeats: int) -> None:
    numba_be, numpy_be = mg.get_backend("numba"), mg.get_backend("numpy")
    from minigrad.backends.numba_backend import SOFTMAX_MAX_CLASSES, SOFTMAX_MIN_LOGITS

    print(f"\n2. softmax cross-entropy forward+backward, NumPy vs the Numba kernel "
          f"(kernel used up to {SOFTMAX_MAX_CLASSES} classes, or from "
          f"{SOFTMAX_MIN_LOGITS:,} logits)")
    print(f"   {'classes':>7} {'batch':>6} {'numpy µs':>9} {'kernel µs':>10}")
    rng = np.random.default_rng(0)
    for classes in (10, 32, 100, 1000):
        for batch in (64, 256, 1024, 4096):
            x = rng.standard_normal((batch, classes)).astype(np.float32)
            y = rng.integers(0, classes, batch)
            g = np.ones(batch, np.float32)
            with_numpy = partial(numpy_pass, numpy_be, x, y, g)
            with_kernel = partial(kernel_pass, numba_be.kernels, x, y, g)
            print(f"   {classes:>7} {batch:>6} {median_us(with_numpy, repeats):>9.0f} "
                  f"{median_us(with_kernel, repeats):>10.0f}")


_CHILD = """
import json, sys, time
import numpy as np
import minigrad as mg
from minigrad import nn, optim
import minigrad.functional as F
sys.path.insert(0, {here!r})
from numba_tuning import median_us

numba = mg.get_backend("numba")
p, g, m, v = (np.random.default_rng(i).random(1 << 20, dtype=np.float32) for i in range(4))
step = [0]

def adam():
    step[0] += 1
    numba.adam_update(p, g, m, v, None, step=step[0], lr=1e-3, beta1=0.9, beta2=0.999,
                      eps=1e-8, weight_decay=0, decoupled=False, amsgrad=False)

mg.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                      nn.Linear(256, 10)).to("numba")
opt = optim.Adam(model.parameters())
rng = np.random.default_rng(0)
x = mg.tensor(rng.standard_normal((256, 784)).astype(np.float32), device="numba")
y = mg.tensor(rng.integers(0, 10, 256), device="numba")

def train_step():
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()

adam_us = median_us(adam, {repeats})
step_us = median_us(train_step, {repeats})
print(json.dumps(dict(adam_us=adam_us, step_us=step_us)))
"""


def threading_layers(repeats: int) -> None:
    print("\n3. threading layers, each in a fresh process (Adam 1M parameters; "
          "784-512-256-10 step, batch 256)")
    here = os.path.dirname(os.path.abspath(__file__))
    settings = {
        "tbb (the default)": {"NUMBA_THREADING_LAYER": "tbb"},
        "workqueue (without tbb)": {"NUMBA_THREADING_LAYER": "workqueue"},
        "omp, OpenMP's default spin": {"NUMBA_THREADING_LAYER": "omp"},
    }
    base = {k: v for k, v in os.environ.items()
            if k not in ("NUMBA_THREADING_LAYER", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    print(f"   {'setting':<28} {'Adam 1M µs':>11} {'step ms':>8}")
    for label, extra in settings.items():
        if extra["NUMBA_THREADING_LAYER"] == "tbb" and not tbb_available():
            print(f"   {label:<28} (TBB does not load here: pip install \"tbb>=2021.6\", "
                  "or the numba extra)")
            continue
        child = subprocess.run(
            [sys.executable, "-c", _CHILD.format(here=here, repeats=repeats)],
            env={**base, **extra}, capture_output=True, text=True, check=True)
        got = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"   {label:<28} {got['adam_us']:>11.0f} {got['step_us'] / 1e3:>8.2f}")


_STARTUP = """
import json, sys, time
if {hide_scipy}:
    sys.modules["scipy"] = None  # as if SciPy were not installed
started = time.perf_counter()
import numpy as np
import minigrad as mg
from minigrad import nn, optim
import minigrad.functional as F

backend = mg.get_backend("numba")
imported = time.perf_counter() - started
mg.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                      nn.Linear(256, 10)).to("numba")
opt = optim.Adam(model.parameters())
x = mg.randn(256, 784, device="numba")
y = mg.tensor(np.random.default_rng(0).integers(0, 10, 256), device="numba")
first = time.perf_counter()
loss = F.cross_entropy(model(x), y)
opt.zero_grad()
loss.backward()
opt.step()
print(json.dumps(dict(import_s=imported, step_s=time.perf_counter() - first,
                      compile_s=backend.compile_seconds)))
"""


def startup() -> None:
    print("\n4. the first 784-512-256-10 training step of a fresh process "
          "(NUMBA_CACHE_DIR in a new folder)")
    print(f"   {'kernel cache':<24} {'import s':>9} {'first step s':>13} "
          f"{'of it compiling':>16}")
    # Numba looks for BLAS on its first compilation by importing scipy.linalg, where
    # SciPy is installed; the last row shows a process without it.
    runs = [("empty", False), ("warm", False), ("warm, without SciPy", True)]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label, hide_scipy in runs:
            child = subprocess.run([sys.executable, "-c",
                                    _STARTUP.replace("{hide_scipy}", str(hide_scipy))],
                                   env=env, capture_output=True, text=True, check=True)
            got = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"   {label:<24} {got['import_s']:>9.2f} {got['step_s']:>13.2f} "
                  f"{got['compile_s']:>16.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    try:
        mg.get_backend("numba")
    except mg.BackendUnavailable as err:
        print(err)
        return 1
    repeats = 10 if args.quick else 40
    serial_vs_parallel(repeats)
    models = ((784, 512, 256, 10),) if args.quick else ((784, 512, 256, 10),
                                                         (784, 2048, 2048, 10))
    inside_a_step(3 if args.quick else 10, models)
    softmax_table(repeats)
    threading_layers(repeats)
    startup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
