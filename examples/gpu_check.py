"""Everything a GPU must show, in one run: the test suite on cupy, a training run that
matches the CPU, a compiled step launched as one CUDA graph, and the GPU benchmark with
its targets against PyTorch CUDA (the compiled MLP steps, the LeNet-5 step).

Run on a machine with an NVIDIA GPU and `pip install "minigrad[cuda]"`:
    python examples/gpu_check.py
Without a usable GPU it says why and stops.

Exit status: 0 checked and passed, 1 checked and failed, 3 could not check here (no usable
GPU).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.training import TrainConfig, train


def suite_on_cupy() -> int:
    """The whole test suite, which runs on every device mg.devices() reports (cupy too)."""
    tests = Path(__file__).resolve().parent.parent / "tests"
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-x", str(tests),
                            "-k", "cupy"])


def training_matches_cpu(epochs: int) -> float:
    """Train the same digits model on numpy and on cupy; the largest parameter difference."""
    states = {}
    for device in ("numpy", "cupy"):
        result = train(TrainConfig(epochs=epochs, device=device, out=f"runs/gpu_check/{device}",
                                   progress=False, quiet=True, plot=False))
        print(f"{device:6s} test accuracy {result['final']['test_accuracy']:.4f}")
        states[device] = mg.load(result["checkpoint"])["model"]
    return max(float(np.max(np.abs(states["numpy"][k] - states["cupy"][k])))
               for k in states["numpy"])


def compiled_step_uses_a_graph(steps: int = 10) -> bool:
    """An MLP trained with Adam and with SGD (momentum) on cupy, eagerly and through
    mg.compile, under an lr schedule: the compiled step must launch its device work as
    one CUDA graph per call after warm-up, and end with eager's parameters."""
    import minigrad.functional as F
    from minigrad import nn, optim

    ok = True
    for name, make in (("Adam", lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-3)),
                       ("SGD", lambda p: optim.SGD(p, lr=0.05, momentum=0.9))):
        runs = []
        for compiled in (False, True):
            mg.manual_seed(0)
            model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                                  nn.Linear(16, 1)).to("cupy")
            opt = make(model.parameters())

            def step(x, y, model=model, opt=opt):
                opt.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                opt.step()
                return loss

            fn = mg.compile(step) if compiled else step
            rng = np.random.default_rng(0)
            for _ in range(steps):
                opt.param_groups[0]["lr"] *= 0.9
                x = rng.standard_normal((32, 2)).astype(np.float32)
                y = rng.standard_normal((32, 1)).astype(np.float32)
                fn(mg.tensor(x, device="cupy"), mg.tensor(y, device="cupy"))
            runs.append(([p.numpy() for p in model.parameters()], fn))
        gap = max(float(np.max(np.abs(a - b))) for a, b in zip(runs[0][0], runs[1][0]))
        stats = runs[1][1].stats
        print(f"compiled {name} step on cupy: {stats['graph_captures']} graph capture(s), "
              f"{stats['graph_launches']} launch(es) in {steps} calls, largest parameter "
              f"difference from eager {gap:.2e}"
              + (f"; no graph: {stats['no_graph']}" if stats["no_graph"] else ""))
        ok &= stats["graph_launches"] == steps - 3 and gap < 1e-5
    return ok


PASSED, FAILED, NOT_CHECKED = 0, 1, 3  # exit statuses

#: the GPU models of the benchmark: (layers, batch)
GPU_MODELS = "784-512-256-10@256,784-2048-2048-10@512,784-4096-4096-4096-10@4096"
#: per benchmark row: minigrad's contender, and the most it may take of PyTorch CUDA's time
TARGETS = {
    ("mlp_step", "784-512-256-10 batch 256"): ("minigrad[cupy] compiled", 0.6),
    ("mlp_step", "784-2048-2048-10 batch 512"): ("minigrad[cupy] compiled", 0.6),
    ("mlp_step", "784-4096-4096-4096-10 batch 4096"): ("minigrad[cupy] compiled", 1.05),
    ("lenet_step", "LeNet-5 28x28 batch 64"): ("minigrad[cupy] compiled", 1.5),
}


def speed_targets(result: dict) -> tuple[list[str], bool]:
    """Each target's line (minigrad's median against PyTorch CUDA's, from one bench run's
    JSON) and whether all were measured and met."""
    medians = {(r["workload"], r["size"], r["contender"]): r["median_s"]
               for r in result["results"] if r["status"] == "ok"}
    lines, met = [], True
    for (workload, size), (contender, most) in TARGETS.items():
        ours, theirs = (medians.get((workload, size, c)) for c in (contender, "torch[cuda]"))
        if ours is None or theirs is None:
            lines.append(f"{size}: not measured ({contender} or torch[cuda] missing)")
            met = False
            continue
        ratio = ours / theirs
        met &= ratio <= most
        lines.append(f"{size}: {contender} {ours * 1e3:.3f} ms, torch[cuda] "
                     f"{theirs * 1e3:.3f} ms, {ratio:.2f}x (target <= {most}x: "
                     f"{'met' if ratio <= most else 'NOT met'})")
    return lines, met


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"exit status: {PASSED} checked and passed, {FAILED} checked and failed, "
               f"{NOT_CHECKED} could not check here (no usable GPU)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--skip-bench", action="store_true")
    args = parser.parse_args()
    try:
        backend = mg.get_backend("cupy")
    except mg.BackendUnavailable as err:
        print(f"no GPU to check: {err}")
        return NOT_CHECKED
    print(backend.describe())
    failed = 0
    if not args.skip_suite:
        failed |= suite_on_cupy()
    gap = training_matches_cpu(args.epochs)
    print(f"largest parameter difference between numpy and cupy training: {gap:.2e}")
    failed |= gap > 1e-3
    failed |= not compiled_step_uses_a_graph()
    if not args.skip_bench:
        import json

        from minigrad.cli import main as cli

        failed |= cli(["bench", "--devices", "cupy", "--only", "mlp,cnn", "--no-handwritten",
                       "--models", GPU_MODELS, "--json", "runs/gpu_check/bench.json",
                       "--plot", "runs/gpu_check/bench.png"])
        lines, met = speed_targets(json.loads(Path("runs/gpu_check/bench.json").read_text()))
        print("\n".join(["speed targets against PyTorch CUDA:", *lines]))
        failed |= not met
    print("all GPU checks passed" if not failed else "some GPU checks FAILED")
    return FAILED if failed else PASSED


if __name__ == "__main__":
    sys.exit(main())
