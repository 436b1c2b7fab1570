"""The ``minigrad`` command: ``train`` a model, ``bench`` the backends, show ``info`` about
this machine.

A mistake in the arguments or the inputs ends the command with one line on stderr
(``minigrad train: error: ...``) and exit status 2 (1 for other failures); ``--debug``
shows the traceback instead. Ctrl-C ends it with status 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

EXIT_FAILED = 1
EXIT_USAGE = 2  # as argparse's own errors
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


def _train(args: argparse.Namespace) -> int:
    from .host_memory import tune_malloc
    from .training import TrainConfig, given_options, train

    config = TrainConfig.from_args(args)
    tune_malloc()  # a measured gain for training steps; see minigrad.host_memory
    train(config, given_options(args))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import run_from_args
    from .host_memory import tune_malloc

    tune_malloc()
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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="on an error, show the traceback instead of one line")

    train = commands.add_parser(
        "train",
        parents=[common],
        help="train an MLP on a data set",
        description="Train an MLP; prints metrics per epoch, saves a checkpoint and a plot.",
    )
    from .training import add_train_arguments

    add_train_arguments(train)
    train.set_defaults(run=_train)

    bench = commands.add_parser(
        "bench",
        parents=[common],
        help="time minigrad's backends, hand-written NumPy and PyTorch on the same workloads",
        description="Time per-op dispatch, single kernels and MLP training steps on every "
        "minigrad backend, a hand-written NumPy program and PyTorch; print a table, and "
        "write JSON and a plot if asked.",
    )
    from .bench import add_bench_arguments

    add_bench_arguments(bench)
    bench.set_defaults(run=_bench)

    info = commands.add_parser("info", parents=[common],
                               help="versions, and the backends usable here")
    info.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = f"minigrad {args.command}"
    try:
        return args.run(args)
    except KeyboardInterrupt as stop:
        print(f"{name}: {stop or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:
        if args.debug or (_in_mpi_job() and not _is_usage(err)):
            raise  # in a job of several ranks, the excepthook of distributed.init() ends all
        print(f"{name}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE if _is_usage(err) else EXIT_FAILED


def _in_mpi_job() -> bool:
    """Whether this process is one of several ranks of a joined MPI job."""
    distributed = sys.modules.get("minigrad.distributed")
    return distributed is not None and distributed.is_initialized() and distributed.size() > 1


def _is_usage(err: Exception) -> bool:
    from .training import TrainingError

    return isinstance(err, TrainingError)


def _one_line(err: Exception) -> str:
    """The error in one line; its kind too, and how to see more, where it was not foreseen."""
    from .backend import BackendUnavailable
    from .training import TrainingError

    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, (TrainingError, BackendUnavailable)):
        return text
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or text}"
    return f"{type(err).__name__}: {text} (--debug shows the traceback)"


if __name__ == "__main__":
    sys.exit(main())
