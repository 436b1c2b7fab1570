"""Data-parallel scaling of a 784-512-256-10 MLP step: one process against several MPI ranks.

    python examples/distributed_scaling.py --steps 40

runs the same training step (Adam, cross-entropy, a global batch of 256 random MNIST-sized
rows) three ways, each in fresh processes:

* 1 rank, 1 BLAS thread;
* 1 rank, 2 BLAS threads;
* 2 ranks (``mpiexec -n 2``), 1 BLAS thread each, each rank on half the batch, the
  gradients averaged by ``minigrad.distributed.DistributedOptimizer``;

and prints the time per step, the time spent in all-reduce per step and its bandwidth,
then what a ring all-reduce would cost on a cluster. Without mpi4py or mpiexec it says
so and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

LAYERS = (784, 512, 256, 10)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def worker(args: argparse.Namespace) -> None:
    """One rank: time ``args.steps`` steps after ``args.warmup`` untimed ones."""
    import numpy as np

    import minigrad as mg
    import minigrad.distributed as dist
    import minigrad.functional as F
    from minigrad import nn, optim

    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:
        pass
    dist.init()
    rank, size = dist.rank(), dist.size()
    mg.manual_seed(0)
    layers: list = []
    for a, b in zip(LAYERS[:-2], LAYERS[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(LAYERS[-2], LAYERS[-1])).to(args.device)
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=1e-3))
    share = args.batch // size
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.random((share, LAYERS[0]), dtype=np.float32), device=args.device)
    y = mg.tensor(rng.integers(0, LAYERS[-1], share), device=args.device)

    update_seconds = [0.0]

    def step() -> None:  # opt.step(), in its two parts, the update timed on its own
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.synchronize()
        start = time.perf_counter()
        opt.optimizer.step()
        update_seconds[0] += time.perf_counter() - start

    for _ in range(args.warmup):
        step()
    comm = dist._job()
    if comm is not None:
        comm.Barrier()
    opt.allreduce_seconds, opt.allreduce_calls = 0.0, 0
    update_seconds[0] = 0.0
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    param_bytes = sum(p.numpy().nbytes for p in model.parameters())
    result = {"ranks": size, "threads": args.threads, "step_ms": 1e3 * seconds / args.steps,
              "allreduce_ms": 1e3 * opt.allreduce_seconds / args.steps,
              "calls_per_step": opt.allreduce_calls / args.steps, "param_bytes": param_bytes,
              "update_ms": 1e3 * update_seconds[0] / args.steps}
    if comm is not None:  # the slowest rank sets the pace
        result["step_ms"] = comm.allreduce(result["step_ms"], op=dist._mpi.MAX)
        result["allreduce_ms"] = comm.allreduce(result["allreduce_ms"], op=dist._mpi.MAX)
        # The all-reduce alone, the ranks in step (inside training it also waits for the
        # slower rank): one flat buffer of the parameters' size.
        buf = np.ones(param_bytes // 4, dtype=np.float32)
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(args.steps):
            comm.Allreduce(dist._mpi.IN_PLACE, buf)
        result["bare_allreduce_ms"] = 1e3 * (time.perf_counter() - start) / args.steps
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def launch(args: argparse.Namespace, ranks: int, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    command = [sys.executable, __file__, "--worker", "--threads", str(threads),
               "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--batch", str(args.batch), "--device", args.device]
    if ranks > 1:
        command = ["mpiexec", "-n", str(ranks), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    line = next(s for s in done.stdout.splitlines() if s.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def ring_model(param_bytes: int, step_ms: float, update_ms: float) -> None:
    """Per-step cost of data parallelism on N machines under a ring all-reduce."""
    print(f"\non paper, N machines and a ring all-reduce: each sends and receives 2(N-1)/N x "
          f"{param_bytes / 1e6:.2f} MB per step; compute per step = forward+backward / N "
          f"+ the optimizer update, which every rank repeats ({step_ms - update_ms:.2f} / N "
          f"+ {update_ms:.2f} ms):")
    links = (("10 Gb/s", 1.25e9), ("100 Gb/s", 12.5e9))
    print(f"{'N':>4} {'compute ms':>11} " + " ".join(
        f"{'comm ms @' + name:>17} {'speed-up':>8}" for name, _ in links))
    for n in (1, 2, 4, 8, 16, 64):
        compute = (step_ms - update_ms) / n + update_ms
        cells = []
        for _, bandwidth in links:
            comm = 0.0 if n == 1 else 1e3 * param_bytes * 2 * (n - 1) / n / bandwidth
            cells.append(f"{comm:17.2f} {step_ms / (compute + comm):8.1f}")
        print(f"{n:4d} {compute:11.2f} " + " ".join(cells))
    print("(latency of 2(N-1) messages per bucket left out; it adds ~2(N-1) x 5-50 us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=256, help="global batch")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each configuration")
    parser.add_argument("--device", default="numpy")
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    import numpy as np

    print(f"distributed scaling of a {'-'.join(map(str, LAYERS))} MLP step, "
          f"global batch {args.batch}, {args.device}")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        mpi4py = None
    if mpi4py is None or shutil.which("mpiexec") is None:
        print('MPI is not available (pip install "minigrad[distributed]"); nothing to measure')
        return
    configs = ((1, 1), (1, 2), (2, 1))
    samples: dict = {c: [] for c in configs}
    for _ in range(args.repeats):  # interleaved, so that a busy spell hits every config
        for ranks, threads in configs:
            samples[ranks, threads].append(launch(args, ranks, threads))
    runs = []
    for c in configs:
        median = {k: float(np.median([r[k] for r in samples[c]])) for k in samples[c][0]}
        median["spread"] = (min(r["step_ms"] for r in samples[c]),
                            max(r["step_ms"] for r in samples[c]))
        runs.append(median)
    print(f"medians of {args.repeats} runs of {args.steps} steps each")
    print(f"{'ranks':>5} {'threads':>7} {'step ms':>8} {'(min-max)':>13} {'all-reduce ms':>13} "
          f"{'calls/step':>10} {'GB/s':>6} {'speed-up':>8}")
    base = runs[0]["step_ms"]
    for r in runs:
        rate = ""
        if r["allreduce_ms"] > 0:
            rate = f"{r['param_bytes'] / (r['allreduce_ms'] * 1e-3) / 1e9:6.2f}"
        spread = f"{r['spread'][0]:.1f}-{r['spread'][1]:.1f}"
        print(f"{int(r['ranks']):5d} {int(r['threads']):7d} {r['step_ms']:8.2f} {spread:>13} "
              f"{r['allreduce_ms']:13.3f} {r['calls_per_step']:10.0f} {rate:>6} "
              f"{base / r['step_ms']:8.2f}")
    print("all-reduce ms: time per step inside DistributedOptimizer's Allreduce calls, "
          "waiting for the slower rank included; speed-up: against 1 rank, 1 thread")
    bare = runs[2]["bare_allreduce_ms"]
    print(f"parameters: {runs[0]['param_bytes'] / 1e6:.2f} MB of float32; GB/s = parameter "
          "bytes / all-reduce time")
    print(f"one Allreduce of the parameters' size alone, ranks in step: {bare:.3f} ms, "
          f"{runs[2]['param_bytes'] / (bare * 1e-3) / 1e9:.2f} GB/s")
    print(f"optimizer update (Adam, every rank): {runs[0]['update_ms']:.2f} ms per step")
    ring_model(int(runs[0]["param_bytes"]), base, runs[0]["update_ms"])


if __name__ == "__main__":
    main()
