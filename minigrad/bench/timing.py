"""Honest clocks: warm-up apart, first call apart, synchronised reads, medians and spreads;
the thread counts and the machine the numbers came from.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: environment variables that change how fast the numbers come out; recorded, never set
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY",
            "GOMP_SPINCOUNT", "MKL_NUM_THREADS", "KMP_BLOCKTIME", "NUMBA_NUM_THREADS",
            "NUMBA_THREADING_LAYER", "NUMBA_DISABLE_JIT", "CUDA_VISIBLE_DEVICES",
            "MINIGRAD_TUNE_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
            "MALLOC_TOP_PAD_", "GLIBC_TUNABLES", "LD_PRELOAD")


@dataclass
class Measurement:
    """The first call, and ``repeats`` samples of ``calls_per_sample`` calls each."""

    first_call_s: float  # the whole first call, compile or first launch included
    samples_s: list[float]  # seconds per item, one number per sample
    calls_per_sample: int
    warmup_calls: int

    def stats(self) -> dict[str, float]:
        """median_s and the spread: min, max, quartiles, IQR, mean, standard deviation."""
        s = np.asarray(self.samples_s, dtype=np.float64)
        q1, median, q3 = np.percentile(s, [25, 50, 75])
        return {
            "median_s": float(median),
            "spread": {
                "min_s": float(s.min()),
                "max_s": float(s.max()),
                "q1_s": float(q1),
                "q3_s": float(q3),
                "iqr_s": float(q3 - q1),
                "mean_s": float(s.mean()),
                "stdev_s": float(statistics.stdev(s)) if s.size > 1 else 0.0,
            },
        }


def measure(fn: Callable[[], Any], synchronize: Callable[[], None], *, repeats: int,
            warmup: int, min_time: float, items: int = 1,
            max_time: float | None = None) -> Measurement:
    """Time ``fn``: the first call alone, then warm-up calls (excluded), then ``repeats``
    samples, each of as many calls as take at least ``min_time`` seconds.

    ``synchronize`` runs before every clock read, so a GPU's queued work is counted where
    it was queued. The warm-up is at least ``warmup`` calls, continued while working out
    the calls per sample. After ``max_time`` seconds of samples, and three samples at
    least, the rest are left out (``len(samples_s)`` says how many ran).
    """
    clock = time.perf_counter
    synchronize()
    start = clock()
    fn()
    synchronize()
    first = clock() - start

    warmed = 0
    for _ in range(warmup):
        fn()
        warmed += 1
    number = 1
    while True:  # calibrate, timeit.autorange-style; these calls are warm-up too
        synchronize()
        start = clock()
        for _ in range(number):
            fn()
        synchronize()
        elapsed = clock() - start
        warmed += number
        if elapsed >= min_time or number >= 1 << 20:
            break
        guess = int(number * min_time / max(elapsed, 1e-9) * 1.1) + 1
        number = min(max(guess, number * 2), number * 100)

    gc.collect()
    samples: list[float] = []
    spent = 0.0
    for r in range(repeats):
        synchronize()
        start = clock()
        for _ in range(number):
            fn()
        synchronize()
        elapsed = clock() - start
        samples.append(elapsed / (number * items))
        spent += elapsed
        if max_time is not None and spent > max_time and r + 1 >= min(3, repeats):
            break
    return Measurement(first, samples, number, warmed)


# threads


class ThreadLimits:
    """Run with ``threads`` threads in PyTorch, Numba and the BLAS libraries (through
    threadpoolctl), restoring every count on exit; ``None`` changes nothing.

    ``notes`` lists what could not be set. :meth:`refresh` sets the count again where it
    has drifted: a BLAS library loaded since (SciPy's, say), or PyTorch's count after
    Numba's OpenMP pool started (starting it resets the count of the OpenMP runtime that
    PyTorch reads too).
    """

    def __init__(self, threads: int | None, use_torch: bool) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.threads = threads
        self.use_torch = use_torch and importlib.util.find_spec("torch") is not None
        self.notes: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> ThreadLimits:
        n = self.threads
        if n is None:
            return self
        try:
            if importlib.util.find_spec("numba") is not None:
                # first: starting Numba's thread pool resets the OpenMP thread count
                import numba

                most = numba.config.NUMBA_NUM_THREADS
                old_numba = numba.get_num_threads()
                if n > most:
                    self.notes.append(f"numba runs at most NUMBA_NUM_THREADS={most} threads; "
                                      f"set to {most}")
                numba.set_num_threads(min(n, most))
                self._undo.append(lambda: numba.set_num_threads(old_numba))
            if self.use_torch:
                import torch

                old = torch.get_num_threads()
                torch.set_num_threads(n)
                self._undo.append(lambda: torch.set_num_threads(old))
            self._limit_blas()
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self._restore()

    def refresh(self) -> None:
        """Set the count again wherever it is no longer ``threads``."""
        n = self.threads
        if n is None:
            return
        torch = _loaded("torch") if self.use_torch else None
        if torch is not None and torch.get_num_threads() != n:
            self.notes.append(f"torch's thread count had changed to "
                              f"{torch.get_num_threads()}; set to {n} again")
            torch.set_num_threads(n)
        blas = [lib for lib in blas_info() if lib.get("user_api") == "blas"]
        if any(lib.get("num_threads") != n for lib in blas):
            self._limit_blas()

    def _limit_blas(self) -> None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            note = ("threadpoolctl is not installed: BLAS threads left as they are "
                    "(pip install threadpoolctl)")
            if note not in self.notes:
                self.notes.append(note)
            return
        limiter = threadpool_limits(limits=self.threads, user_api="blas")
        self._undo.append(limiter.restore_original_limits)

    def _restore(self) -> None:
        while self._undo:
            self._undo.pop()()


def thread_counts() -> dict[str, Any]:
    """The thread counts in force now, for each library that is loaded."""
    counts: dict[str, Any] = {}
    torch = _loaded("torch")
    if torch is not None:
        counts["torch"] = torch.get_num_threads()
        counts["torch_interop"] = torch.get_num_interop_threads()
    if importlib.util.find_spec("numba") is not None:
        import numba

        counts["numba"] = numba.get_num_threads()
        counts["numba_max"] = numba.config.NUMBA_NUM_THREADS
        try:
            counts["numba_layer"] = numba.threading_layer()
        except ValueError:  # no parallel kernel has run yet
            counts["numba_layer"] = None
    counts["blas"] = [
        {k: lib.get(k) for k in ("internal_api", "num_threads", "prefix")}
        for lib in blas_info() if isinstance(lib, dict) and "internal_api" in lib
    ]
    return counts


def blas_info() -> list[dict[str, Any]]:
    """threadpoolctl's view of the loaded BLAS and OpenMP libraries, or why there is none."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl is not installed (pip install threadpoolctl)"}]
    keep = ("user_api", "internal_api", "num_threads", "version", "prefix",
            "threading_layer", "architecture", "filepath")
    return [{k: lib.get(k) for k in keep if k in lib} for lib in threadpool_info()]


# the machine


def finish_environment(env: dict[str, Any]) -> None:
    """Update ``env`` at the end of a run: the libraries loaded meanwhile (a JIT backend's
    thread pool), their thread counts, the load average over the run, and malloc's
    setting (made when the first host backend was created)."""
    from ..host_memory import malloc_settings

    env["blas"] = blas_info()
    env["threads"] = thread_counts()
    env["load_average_end"] = _load_average()
    env["malloc"] = malloc_settings()


def environment(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The machine, the versions, the BLAS and thread counts, and the relevant variables."""
    from .. import __version__
    from ..host_memory import malloc_settings

    env: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else None,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "minigrad": __version__,
        "numpy": np.__version__,
        "numba": _version("numba"),
        "torch": _version("torch"),
        "threadpoolctl": _version("threadpoolctl"),
        "env": {name: os.environ.get(name) for name in ENV_VARS},
        "load_average": _load_average(),
        "blas": blas_info(),
        "threads": thread_counts(),
        "malloc": malloc_settings(),
    }
    torch = _loaded("torch")
    if torch is not None:
        env["torch_config"] = {
            "blas": _torch_blas(torch),
            "mkl": bool(torch.backends.mkl.is_available()),
            "cuda_available": bool(torch.cuda.is_available()),
            "cuda_device": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        }
    env.update(extra or {})
    return env


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the numbers."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # an odd install: fall back to the module's own attribute
        return getattr(importlib.import_module(module), "__version__", None)


def _loaded(module: str) -> Any:
    """The module if something already imported it (the bench never imports torch for this)."""
    import sys

    return sys.modules.get(module)


def _torch_blas(torch: Any) -> str | None:
    for part in torch.__config__.show().replace(",", "\n").splitlines():
        if "BLAS_INFO=" in part:
            return part.split("BLAS_INFO=", 1)[1].strip()
    return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


# the fastest settings of a baseline


def race(candidates: dict[Any, tuple[Callable[[], Any] | None, Callable[[], Any]]],
         synchronize: Callable[[], None], *, seconds: float, rounds: int = 5,
         margin: float = 0.05) -> tuple[Any, dict[Any, float]]:
    """The candidate that runs fastest, and each one's median seconds per call.

    ``candidates`` maps a key to (setup, fn), in order of preference: ``setup`` (None:
    nothing) runs before the candidate's calls, which last about ``seconds`` a round. The
    rounds interleave the candidates, so that a burst of other work on the machine slows
    them alike. A later candidate wins only when faster than the earlier winner by more
    than ``margin`` (a fraction), so that noise does not pick, say, more threads.
    """
    clock = time.perf_counter
    numbers: dict[Any, int] = {}
    for key, (setup, fn) in candidates.items():
        if setup is not None:
            setup()
        fn()  # warm: first-use costs out of the race
        synchronize()
        start = clock()
        fn()
        synchronize()
        once = clock() - start
        numbers[key] = max(1, min(1 << 16, int(seconds / max(once, 1e-9))))
    times: dict[Any, list[float]] = {key: [] for key in candidates}
    for _ in range(rounds):
        for key, (setup, fn) in candidates.items():
            if setup is not None:
                setup()
            number = numbers[key]
            synchronize()
            start = clock()
            for _ in range(number):
                fn()
            synchronize()
            times[key].append((clock() - start) / number)
    medians = {key: float(np.median(t)) for key, t in times.items()}
    best = next(iter(medians))
    for key, median in medians.items():
        if median < medians[best] * (1 - margin):
            best = key
    return best, medians


@dataclass
class ThreadKnob:
    """One library's thread count, to read and to set."""

    name: str  # "blas", "torch", "numba"
    get: Callable[[], int]
    set: Callable[[int], None]


def blas_knob() -> ThreadKnob | None:
    """The thread count of the BLAS libraries loaded (through threadpoolctl), or None
    where threadpoolctl is missing or sees no BLAS."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    if not libraries:
        return None

    def set_count(n: int) -> None:
        for lib in libraries:
            lib.set_num_threads(n)

    return ThreadKnob("blas", lambda: int(libraries[0].num_threads), set_count)


def torch_knob() -> ThreadKnob | None:
    """PyTorch's intra-op thread count (its BLAS and OpenMP loops), if torch is loaded."""
    torch = _loaded("torch")
    if torch is None:
        return None
    return ThreadKnob("torch", torch.get_num_threads, torch.set_num_threads)


def numba_knob() -> ThreadKnob | None:
    """Numba's thread count (its parallel kernels), if Numba is installed."""
    if importlib.util.find_spec("numba") is None:
        return None
    import numba

    return ThreadKnob("numba", numba.get_num_threads, numba.set_num_threads)


def thread_candidates(most: int) -> list[int]:
    """1, 2, 4, ... below ``most``, and ``most``: the counts a tuned baseline tries."""
    counts, n = [], 1
    while n < most:
        counts.append(n)
        n *= 2
    return [*counts, max(most, 1)]


class ThreadChoice:
    """The thread counts one measurement runs with: as they are, or (``tune``) the fastest
    of :func:`thread_candidates` for ``fn``, raced with :func:`race`. Every knob gets the
    same count; the previous counts come back on exit. ``record`` says what ran."""

    def __init__(self, knobs: list[ThreadKnob], fn: Callable[[], Any],
                 synchronize: Callable[[], None], *, tune: bool, seconds: float) -> None:
        self.knobs, self.fn, self.synchronize = knobs, fn, synchronize
        self.tune, self.seconds = tune, seconds
        self.record: dict[str, Any] = {}
        self._old: list[tuple[ThreadKnob, int]] = []

    def __enter__(self) -> ThreadChoice:
        self._old = [(k, k.get()) for k in self.knobs]
        most = max((n for _, n in self._old), default=1)
        candidates = thread_candidates(most)
        if self.tune and self.knobs and len(candidates) > 1:
            def setting(n: int) -> Callable[[], None]:
                return lambda: [k.set(n) for k in self.knobs]

            try:
                best, medians = race({n: (setting(n), self.fn) for n in candidates},
                                     self.synchronize, seconds=self.seconds)
            except BaseException:
                self.__exit__()
                raise
            setting(best)()
            self.record = {"tuned": True,
                           "tried_s": {str(n): t for n, t in medians.items()}}
        else:
            self.record = {"tuned": False}
        self.record["counts"] = {k.name: k.get() for k in self.knobs}
        return self

    def __exit__(self, *exc: Any) -> None:
        for knob, n in self._old:
            if knob.get() != n:
                knob.set(n)


def describe_threads(record: dict[str, Any] | None) -> str:
    """'blas 1*' (tuned: the fastest count tried), 'torch 2', 'blas 2, numba 2', or '-'."""
    counts = (record or {}).get("counts") or {}
    if not counts:
        return "-"
    mark = "*" if record.get("tuned") else ""
    values = set(counts.values())
    if len(values) == 1 and len(counts) > 1:
        return f"{'+'.join(counts)} {values.pop()}{mark}"
    return ", ".join(f"{name} {n}{mark}" for name, n in counts.items())
