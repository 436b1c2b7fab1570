"""The settings of a bench run, and the ``minigrad bench`` options that fill them."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from .contenders import DEVICE_ALIASES, HANDWRITTEN
from .handwritten import OPTIMIZERS
from .workloads import GROUPS, LARGEST_MODEL, LOSSES, PROJECT_MODELS, WORKLOADS, parse_model

ALL_WORKLOADS = tuple(name for group in GROUPS for name in WORKLOADS[group])
#: the defaults of a full run, and of ``--quick``
FULL = {"repeats": 15, "warmup": 2, "min_time": 0.05, "update_sizes": (1_000_000, 10_000_000)}
QUICK = {"repeats": 5, "warmup": 1, "min_time": 0.01, "update_sizes": (1_000_000,)}
#: names a baseline may be given by, besides a contender's own name
BASELINE_ALIASES = {"torch": "torch[cpu]", "pytorch": "torch[cpu]", "handwritten": HANDWRITTEN,
                    **{d: f"minigrad[{d}]" for d in ("numpy", "numba", "cupy")},
                    **{a: f"minigrad[{d}]" for a, d in DEVICE_ALIASES.items()}}
DEFAULT_BASELINES = {"mlp": HANDWRITTEN, "other": "minigrad[numpy]"}
#: who runs with its fastest settings: "baselines" (the hand-written programs and PyTorch),
#: "all" (minigrad too) or "none" (every library as it is)
TUNE_CHOICES = ("baselines", "all", "none")


@dataclasses.dataclass
class BenchConfig:
    """Everything a bench run depends on; written into its results as ``settings``.

    Fields left as None take the value of a full run, or of a quick one with ``quick``.
    """

    only: tuple[str, ...] = ()  # groups (dispatch, kernels, mlp) or workload names; () = all
    models: tuple[tuple[tuple[int, ...], int], ...] | None = None  # (layers, batch) pairs
    loss: str = "auto"  # auto: mse for a 1-output model, cross_entropy otherwise
    optimizer: str = "adam"
    devices: tuple[str, ...] | None = None  # minigrad backends; None = every known one
    torch: bool = True
    handwritten: bool = True
    baseline: str | None = None  # None: numpy-handwritten for MLP rows, minigrad[numpy] else
    repeats: int | None = None
    warmup: int | None = None  # warm-up calls at least (more run while calibrating)
    min_time: float | None = None  # seconds one sample lasts at least
    max_time: float = 60.0  # seconds of samples per measurement before stopping early
    threads: int | None = None  # None: leave every library's thread count as it is
    tune: str = "baselines"  # who runs with the fastest thread count (see TUNE_CHOICES)
    chain_length: int = 300
    matmul_size: int = 512
    elementwise_size: int = 1 << 20
    softmax_shape: tuple[int, int] = (512, 1000)
    update_sizes: tuple[int, ...] | None = None
    lenet_size: int = 28  # side of the LeNet-5 step's square images
    lenet_batch: int = 64
    quick: bool = False
    check: bool = True  # check the hand-written MLP step against minigrad before timing it
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        defaults = QUICK if self.quick else FULL
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.models is None:
            self.models = tuple(m for m in PROJECT_MODELS if not (self.quick and
                                                                  m == LARGEST_MODEL))
        self.models = tuple((tuple(int(n) for n in layers), int(batch))
                            for layers, batch in self.models)
        if isinstance(self.only, str):
            self.only = tuple(part for part in self.only.split(",") if part)
        self.only = tuple(self.only)
        unknown = [w for w in self.only if w not in GROUPS and w not in ALL_WORKLOADS]
        if unknown:
            raise ValueError(f"unknown workload {unknown[0]!r}; choose groups "
                             f"({', '.join(GROUPS)}) or workloads ({', '.join(ALL_WORKLOADS)})")
        if self.tune not in TUNE_CHOICES:
            raise ValueError(f"unknown tune {self.tune!r}; choose from {', '.join(TUNE_CHOICES)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose from "
                             f"{', '.join(OPTIMIZERS)}")
        if self.devices is not None:
            self.devices = tuple(self.devices)
        if self.lenet_size < 12:
            raise ValueError(f"lenet_size must be at least 12 (LeNet-5's smallest image), "
                             f"got {self.lenet_size}")
        for name in ("repeats", "chain_length", "matmul_size", "elementwise_size",
                     "lenet_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.warmup < 0 or self.min_time < 0 or self.max_time <= 0:
            raise ValueError("warmup and min_time must be >= 0 and max_time > 0")
        self.softmax_shape = tuple(int(n) for n in self.softmax_shape)
        self.update_sizes = tuple(int(n) for n in self.update_sizes)
        if self.baseline is not None:
            self.baseline = BASELINE_ALIASES.get(self.baseline, self.baseline)

    def selected_workloads(self) -> tuple[str, ...]:
        """The workload names to run, in running order."""
        if not self.only:
            return ALL_WORKLOADS
        return tuple(w for w in ALL_WORKLOADS
                     if w in self.only or any(w in WORKLOADS[g] for g in self.only
                                              if g in GROUPS))

    def baseline_for(self, group: str) -> str:
        """The contender a row of ``group`` is compared with."""
        if self.baseline is not None:
            return self.baseline
        return DEFAULT_BASELINES["mlp" if group == "mlp" else "other"]

    def tunes(self, kind: str) -> bool:
        """Whether contenders of ``kind`` race thread counts for the fastest (never when
        ``threads`` fixes the count for all)."""
        if self.threads is not None or self.tune == "none":
            return False
        return self.tune == "all" or kind != "minigrad"

    def race_seconds(self) -> float | None:
        """Seconds a round of a race between a baseline's settings lasts (None: no races)."""
        return None if self.tune == "none" else self.min_time

    def as_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["models"] = [{"layers": list(layers), "batch": batch}
                            for layers, batch in self.models]
        values["baselines"] = {"mlp": self.baseline_for("mlp"),
                               "other": self.baseline_for("kernels")}
        return values

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in vars(args).items() if k in fields})


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``minigrad bench``."""
    d = BenchConfig
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['repeats']} repeats of >= {QUICK['min_time']} s, "
                             "without the 784-2048-2048-10 model and the 10M-parameter update")
    parser.add_argument("--only", type=_names, default=(), metavar="WORKLOADS",
                        help=f"comma-separated groups ({', '.join(GROUPS)}) or workloads "
                             f"({', '.join(ALL_WORKLOADS)}); default: all")
    parser.add_argument("--models", type=_models, default=None, metavar="MODELS",
                        help="MLPs to time, comma separated, each LAYERS[@BATCH], e.g. "
                             "784-512-256-10@256 (default: the project's four models)")
    parser.add_argument("--loss", choices=LOSSES, default=d.loss,
                        help="loss of the MLP step (auto: mse for one output, else "
                             "cross_entropy)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                        help="optimizer of the MLP step and of the update workload")
    parser.add_argument("--devices", type=_names, default=None,
                        help="minigrad backends, comma separated (default: every one known; "
                             "those not usable here are reported skipped)")
    parser.add_argument("--no-torch", dest="torch", action="store_false",
                        help="leave PyTorch out")
    parser.add_argument("--no-handwritten", dest="handwritten", action="store_false",
                        help="leave the hand-written NumPy programs out")
    parser.add_argument("--baseline",
                        help=f"contender every ratio is taken against, e.g. minigrad[numpy], "
                             f"{HANDWRITTEN} or torch (default: {HANDWRITTEN} for MLP rows, "
                             "minigrad[numpy] for the others)")
    parser.add_argument("--repeats", type=int,
                        help=f"timed samples per measurement (default {FULL['repeats']}, "
                             f"{QUICK['repeats']} with --quick)")
    parser.add_argument("--warmup", type=int,
                        help=f"warm-up calls at least (default {FULL['warmup']}, "
                             f"{QUICK['warmup']} with --quick)")
    parser.add_argument("--min-time", type=float,
                        help=f"seconds one sample lasts at least (default {FULL['min_time']}, "
                             f"{QUICK['min_time']} with --quick)")
    parser.add_argument("--max-time", type=float, default=d.max_time,
                        help="seconds of samples per measurement before the remaining "
                             "repeats are left out (3 samples at least; default %(default)s)")
    parser.add_argument("--threads", type=int,
                        help="threads for PyTorch, Numba and BLAS (restored afterwards); "
                             "default: leave them as they are, except where --tune races them")
    parser.add_argument("--tune", choices=TUNE_CHOICES, default=d.tune,
                        help="who runs each workload with its fastest thread count (raced "
                             "among 1, 2, 4, ... up to the count in force), and PyTorch with "
                             "its fastest optimizer implementation: the baselines (default), "
                             "all (minigrad too), or none")
    parser.add_argument("--chain-length", type=int, default=d.chain_length,
                        help="ops in the dispatch chain (default %(default)s)")
    parser.add_argument("--matmul-size", type=int, default=d.matmul_size,
                        help="N of the N x N matmul (default %(default)s)")
    parser.add_argument("--elementwise-size", type=int, default=d.elementwise_size,
                        help="floats in the elementwise chain (default %(default)s)")
    parser.add_argument("--softmax-shape", type=_shape, default=d.softmax_shape,
                        metavar="ROWSxCLASSES",
                        help="logits of the softmax cross-entropy (default 512x1000)")
    parser.add_argument("--update-sizes", type=_counts, default=None, metavar="N,N",
                        help="parameters of the optimizer update workload (default 1e6,1e7; "
                             "1e6 with --quick)")
    parser.add_argument("--lenet-size", type=int, default=d.lenet_size,
                        help="side of the LeNet-5 step's square images (default %(default)s)")
    parser.add_argument("--lenet-batch", type=int, default=d.lenet_batch,
                        help="batch of the LeNet-5 step (default %(default)s)")
    parser.add_argument("--no-check", dest="check", action="store_false",
                        help="skip checking the hand-written MLP step against minigrad")
    parser.add_argument("--seed", type=int, default=d.seed,
                        help="seed of the weights and data (default %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--plot", metavar="PATH",
                        help="plot time per training step by model size (needs matplotlib)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _models(text: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    try:
        return tuple(parse_model(part) for part in text.split(",") if part.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _shape(text: str) -> tuple[int, int]:
    try:
        rows, classes = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCLASSES like 512x1000, "
                                         f"got {text!r}") from None
    return rows, classes


def _counts(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(float(part)) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected counts like 1e6,1e7, got {text!r}") from None
