"""Everything a GPU must show, in one run: the test suite on cupy, a training run that
matches the CPU, and the GPU benchmark.

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


PASSED, FAILED, NOT_CHECKED = 0, 1, 3  # exit statuses


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
    if not args.skip_bench:
        from minigrad.cli import main as cli

        failed |= cli(["bench", "--devices", "numpy,cupy", "--only", "mlp",
                       "--json", "runs/gpu_check/bench.json",
                       "--plot", "runs/gpu_check/bench.png"])
    print("all GPU checks passed" if not failed else "some GPU checks FAILED")
    return FAILED if failed else PASSED


if __name__ == "__main__":
    sys.exit(main())
