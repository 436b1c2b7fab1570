"""The ``minigrad`` command: ``train`` a model, ``bench`` the backends, show ``info`` about
this machine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def _train(args: argparse.Namespace) -> int:
    from .training import TrainConfig, train

    config = TrainConfig.from_args(args)
    train(config)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import run_from_args

    return run_from_args(args)


def _info(args: argparse.Namespace) -> int:
    import platform

    import numpy as np

    from . import backend

    print(f"minigrad {__version__}")
    print(f"python   {platform.python_version()} ({platform.machine()})")
    print(f"numpy    {np.__version__}")
    print("devices:")
    for name in backend.known_devices():
        try:
            b = backend.get_backend(name)
        except backend.BackendUnavailable as err:
            print(f"  {name:7s} unavailable: {err}")
            continue
        print(f"  {name:7s} usable    {b.describe()}")
    from .host_memory import malloc_settings

    print(f"malloc   {malloc_settings()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad", description="Train small networks with minigrad; inspect its backends."
    )
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train",
        help="train an MLP on a data set",
        description="Train an MLP; prints metrics per epoch, saves a checkpoint and a plot.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from .training import add_train_arguments

    add_train_arguments(train)
    train.set_defaults(run=_train)

    bench = commands.add_parser(
        "bench",
        help="time minigrad's backends, hand-written NumPy and PyTorch on the same workloads",
        description="Time per-op dispatch, single kernels and MLP training steps on every "
        "minigrad backend, a hand-written NumPy program and PyTorch; print a table, and "
        "write JSON and a plot if asked.",
    )
    from .bench import add_bench_arguments

    add_bench_arguments(bench)
    bench.set_defaults(run=_bench)

    info = commands.add_parser("info", help="versions, and the backends usable here")
    info.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
