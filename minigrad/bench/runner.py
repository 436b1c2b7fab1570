"""The bench loop: every workload on every contender, measured or skipped with the reason."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import sys
import time
from typing import Any

from . import report
from .config import BenchConfig
from .contenders import Contender, discover
from .handwritten import Unsupported
from .timing import ThreadChoice, ThreadLimits, environment, finish_environment, measure
from .workloads import Workload, select


def run_bench(config: BenchConfig | None = None, **options: Any) -> dict[str, Any]:
    """Run the bench and return its results, a plain dict that is also the JSON.

    ``options`` are :class:`BenchConfig` fields, applied over ``config`` (or over the
    defaults): ``run_bench(only=("mlp",), quick=True)``. Keys: ``schema``, ``created``,
    ``seconds``, ``environment``, ``settings``, ``contenders`` and ``results`` (one row per
    workload, size and contender; see the package documentation).
    """
    if config is None:
        config = BenchConfig(**options)
    elif options:
        config = dataclasses.replace(config, **options)
    started = time.perf_counter()
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    contenders = discover(config.devices, torch=config.torch, handwritten=config.handwritten,
                          check=config.check, race_seconds=config.race_seconds())
    names = [c.name for c in contenders]
    if config.baseline is not None and config.baseline not in names:
        raise ValueError(f"unknown baseline {config.baseline!r}; choose a contender: "
                         f"{', '.join(names)} (or torch, numpy, handwritten)")
    workloads = select(config)
    usable = [c for c in contenders if c.skip_reason is None]
    uses_torch = any(c.kind == "torch" for c in usable)
    rows: list[dict[str, Any]] = []
    # Objects alive now (the libraries' own, torch's are many) are left out of later
    # collections, so the collection before each measurement takes milliseconds, not 0.1 s.
    gc.collect()
    gc.freeze()
    with ThreadLimits(config.threads, uses_torch) as limits:
        env = environment({"notes": limits.notes})
        total = sum(1 for w in workloads if w.skip_reason is None) * len(usable)
        progress = _Progress(total, config.progress)
        try:
            for workload in workloads:
                for contender in contenders:
                    limits.refresh()
                    rows.append(_run_one(workload, contender, config, progress))
                workload.release()
        finally:
            progress.close()
            gc.unfreeze()
        finish_environment(env)
    report.add_ratios(rows, config.baseline_for)
    return {
        "schema": report.SCHEMA,
        "created": created,
        "seconds": time.perf_counter() - started,
        "environment": env,
        "settings": config.as_dict(),
        "contenders": [{"name": c.name, "kind": c.kind, "describe": c.describe(),
                        "skip_reason": c.skip_reason} for c in contenders],
        "results": rows,
    }


def _row(workload: Workload, contender: Contender) -> dict[str, Any]:
    return {
        "workload": workload.name,
        "group": workload.group,
        "size": workload.size,
        "unit": workload.unit,
        "items_per_call": workload.items,
        "params": workload.params,
        "contender": contender.name,
        "status": "skipped",
        "skip_reason": None,
        "median_s": None,
        "spread": None,
        "first_call_s": None,
        "samples_s": [],
        "calls_per_sample": None,
        "warmup_calls": None,
        "compile_s": None,
        "threads": None,
        "notes": {},
    }


def _run_one(workload: Workload, contender: Contender, config: BenchConfig,
             progress: _Progress) -> dict[str, Any]:
    row = _row(workload, contender)
    if contender.skip_reason is not None:
        row["skip_reason"] = contender.skip_reason
        return row
    if workload.skip_reason is not None:
        row["skip_reason"] = workload.skip_reason
        return row
    label = f"{workload.name} {workload.size} / {contender.name}"
    progress.start(label)
    compiled = contender.compile_seconds()
    try:
        fn, notes = contender.prepare(workload)
        row["notes"] = notes
        with ThreadChoice(contender.thread_knobs(), fn, contender.synchronize,
                          tune=config.tunes(contender.kind),
                          seconds=config.min_time) as threads:
            row["threads"] = threads.record
            m = measure(fn, contender.synchronize, repeats=config.repeats,
                        warmup=config.warmup, min_time=config.min_time, items=workload.items,
                        max_time=config.max_time)
    except Unsupported as err:
        row["skip_reason"] = str(err)
    except Exception as err:  # a failure is a result: report it, go on with the others
        row["status"] = "failed"
        row["skip_reason"] = f"{type(err).__name__}: {err}"
        progress.write(f"{label}: failed: {row['skip_reason']}")
    else:
        row.update(status="ok", first_call_s=m.first_call_s, samples_s=m.samples_s,
                   calls_per_sample=m.calls_per_sample, warmup_calls=m.warmup_calls,
                   **m.stats())
        if compiled is not None:
            row["compile_s"] = contender.compile_seconds() - compiled
    finally:
        fn = None  # let the workload's arrays go before the next contender's are made
    progress.done(label, row)
    return row


class _Progress:
    """A tqdm bar on stderr; one plain line per measurement without tqdm; or nothing."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.count, self.enabled = total, 0, enabled
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="measurement", dynamic_ncols=True,
                                leave=False, file=sys.stderr)

    def start(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_description(label[:60])

    def write(self, line: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def done(self, label: str, row: dict[str, Any]) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update()
        elif self.enabled:
            what = (f"{report.format_time(row['median_s'])}/{row['unit']}"
                    if row["status"] == "ok" else f"{row['status']}: {row['skip_reason']}")
            print(f"[{self.count}/{self.total}] {label}: {what}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_from_args(args: argparse.Namespace) -> int:
    """``minigrad bench``: run, print the table, write the JSON and the plot if asked."""
    config = BenchConfig.from_args(args)
    result = run_bench(config)
    print(report.format_table(result))
    if args.json:
        print(f"results: {report.write_json(result, args.json)}")
    if args.plot:
        report.plot_mlp(result, args.plot)
    failed = [r for r in result["results"] if r["status"] == "failed"]
    return 1 if failed else 0
