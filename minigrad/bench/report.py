"""The results as a terminal table, as JSON and as a plot of time per training step."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .timing import describe_threads

SCHEMA = "minigrad-bench/1"


def add_ratios(rows: list[dict[str, Any]], baseline_for: Any) -> None:
    """Give every row its ``baseline`` (a contender name, from ``baseline_for(group)``) and
    its ``ratio``: median / the baseline's median on the same workload and size, None where
    either was not measured. Below 1 is faster than the baseline."""
    medians = {(r["workload"], r["size"], r["contender"]): r["median_s"]
               for r in rows if r["status"] == "ok"}
    for row in rows:
        base = baseline_for(row["group"])
        row["baseline"] = base
        mine = row.get("median_s")
        theirs = medians.get((row["workload"], row["size"], base))
        row["ratio"] = mine / theirs if mine is not None and theirs else None


def write_json(result: dict[str, Any], path: str | Path) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return str(path)


_SCALES = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}


def format_time(seconds: float | None, unit: str | None = None) -> str:
    """Seconds with a unit that keeps three significant digits (812 ns, 4.07 µs, 1.23 s),
    or in ``unit`` ("s", "ms", "µs", "ns") when given."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if unit is not None:
        value = seconds / _SCALES[unit]
        return f"{value:.3g} {unit}" if value >= 1 else f"{value:.2f} {unit}"
    for name, scale in _SCALES.items():
        if seconds >= scale or name == "ns":
            return f"{seconds / scale:.3g} {name}"
    raise AssertionError("unreachable")


def _names(workload: str) -> str:
    return {"dispatch_fwd": "dispatch", "dispatch_fwd_bwd": "dispatch", "matmul": "matmul",
            "elementwise": "elementwise", "softmax_xent": "softmax+xent",
            "optimizer_update": "optimizer update", "mlp_step": "MLP train step",
            "lenet_step": "LeNet-5 step"}.get(
                workload, workload)


def format_table(result: dict[str, Any], groups: tuple[str, ...] | None = None) -> str:
    """The results as text: one block per workload and size, one line per contender.

    Contenders that cannot run here at all are listed once, below the table, with why.
    """
    absent = {c["name"]: c["skip_reason"] for c in result["contenders"] if c["skip_reason"]}
    rows = [r for r in result["results"]
            if r["contender"] not in absent and (groups is None or r["group"] in groups)]
    w = max([18, *(len(r["contender"]) for r in rows)])  # the contender column
    header = (f"{'workload':<17} {'size':<34} {'contender':<{w}} {'threads':<15} "
              f"{'median':>14} {'IQR':>6} {'min':>9} {'first call':>10} {'ratio':>7}")
    lines = [header, "-" * len(header)]
    last = None
    for r in rows:
        key = (r["workload"], r["size"])
        if last is not None and key != last:
            lines.append("")
        name, size = (_names(r["workload"]), r["size"]) if key != last else ("", "")
        last = key
        if r["status"] != "ok":
            lines.append(f"{name:<17} {size:<34} {r['contender']:<{w}} "
                         f"{r['status']}: {r['skip_reason']}")
            continue
        spread = r["spread"]
        iqr = f"{100 * spread['iqr_s'] / r['median_s']:.0f}%" if r["median_s"] else "-"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        fixed = "µs" if r["unit"] == "op" else None  # per-op dispatch: always in µs
        median = f"{format_time(r['median_s'], fixed)}/{r['unit']}"
        threads = describe_threads(r.get("threads"))
        lines.append(f"{name:<17} {size:<34} {r['contender']:<{w}} {threads:<15} "
                     f"{median:>14} {iqr:>6} "
                     f"{format_time(spread['min_s'], fixed):>9} "
                     f"{format_time(r['first_call_s']):>10} {ratio:>7}")
    settings = result["settings"]
    bases = settings["baselines"]
    lines.append("")
    if bases["mlp"] == bases["other"]:
        lines.append(f"ratio: median / the median of {bases['mlp']} (below 1: faster)")
    else:
        lines.append(f"ratio: median / the median of {bases['mlp']} (MLP rows) or of "
                     f"{bases['other']} (other rows); below 1: faster")
    lines.append("IQR: interquartile range of the samples, in % of the median; first call: "
                 "the first call alone (JIT compile, first launch), not in the median")
    lines.append("threads: the counts each contender ran with (blas: NumPy's BLAS; * the "
                 "fastest of 1, 2, 4, ... up to the count in force, raced per row)")
    for name, reason in absent.items():
        lines.append(f"skipped {name}: {reason}")
    lines.extend(_recording_lines(result["results"]))
    env = result["environment"]
    threads = env["threads"]
    blas = ", ".join(f"{b.get('internal_api')} x{b.get('num_threads')}"
                     for b in threads.get("blas", []))
    kernels = sorted({b["architecture"] for b in env.get("blas", []) if b.get("architecture")})
    lines.append(
        f"{env['cpu_model'] or env['machine']}, {env['cpu_count']} CPUs; python "
        f"{env['python']}, numpy {env['numpy']}, numba {env['numba']}, torch {env['torch']}; "
        f"threads: torch {threads.get('torch', '-')}, numba {threads.get('numba', '-')}, "
        f"BLAS/OpenMP [{blas or 'unknown'}]; OpenBLAS kernels: {', '.join(kernels) or '-'}; "
        f"OPENBLAS_CORETYPE={env['env'].get('OPENBLAS_CORETYPE')}; "
        f"malloc: {env.get('malloc', 'unknown')}")
    if env["env"].get("OPENBLAS_CORETYPE"):
        lines.append(f"note: OPENBLAS_CORETYPE pins NumPy's BLAS to the "
                     f"{env['env']['OPENBLAS_CORETYPE']} kernels, which may be slower than "
                     "this processor's own; unset it (and OPENBLAS_L2_SIZE) for the "
                     "command to time what a NumPy user gets")
    load = env.get("load_average"), env.get("load_average_end")
    load_text = ""
    if all(load):
        load_text = (f"; load average {load[0][0]:.2f} at the start, {load[1][0]:.2f} at the "
                     "end (other work on the machine skews the numbers)")
    lines.append(f"{settings['repeats']} repeats of >= {settings['min_time']} s after "
                 f"{settings['warmup']}+ warm-up calls; {result['seconds']:.1f} s in all"
                 f"{load_text}")
    return "\n".join(lines)


def _recording_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Per compiled row, its recording call against one eager call of the same step timed
    alone just before it (the median of five): both single calls, before the clock of the
    row started."""
    parts = []
    for r in rows:
        notes = r.get("notes") or {}
        recording, eager = notes.get("recording_s"), notes.get("eager_call_s")
        if recording is None or not eager:
            continue
        compiling = notes.get("recording_compile_s") or 0.0
        also = f" + {format_time(compiling)} JIT" if compiling >= 1e-6 else ""
        parts.append(f"{r['contender'].removesuffix(' compiled')} {r['size']} "
                     f"{format_time(recording)}{also} ({recording / eager:.1f}x)")
    if not parts:
        return []
    return ["recording call of mg.compile (against one eager call of the same step): "
            + "; ".join(parts)]


def plot_mlp(result: dict[str, Any], path: str | Path) -> str | None:
    """Time per training step by model size, one line per contender (log scale), and the
    ratio to the MLP baseline beside it. None without matplotlib or without MLP rows."""
    from .. import plotting

    rows = [r for r in result["results"] if r["workload"] == "mlp_step"]
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    measured = [r for r in rows if r["status"] == "ok"]
    if not measured:
        print("no MLP step was measured, so there is nothing to plot")
        return None
    plt = plotting.pyplot()
    if plt is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    contenders = list(dict.fromkeys(r["contender"] for r in measured))
    for name in contenders:
        mine = {r["size"]: r for r in measured if r["contender"] == name}
        xs = [i for i, s in enumerate(sizes) if s in mine]
        median = [mine[sizes[i]]["median_s"] * 1e3 for i in xs]
        low = [m - mine[sizes[i]]["spread"]["min_s"] * 1e3 for i, m in zip(xs, median)]
        high = [mine[sizes[i]]["spread"]["max_s"] * 1e3 - m for i, m in zip(xs, median)]
        left.errorbar(xs, median, yerr=[low, high], marker="o", capsize=3, label=name)
        ratios = [(i, mine[sizes[i]]["ratio"]) for i in xs if mine[sizes[i]]["ratio"]]
        if ratios:
            right.plot([i for i, _ in ratios], [q for _, q in ratios], marker="o", label=name)
    labels = [s.replace(" batch ", "\nbatch ") for s in sizes]
    for ax in (left, right):
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("model (layer sizes) and batch")
    settings = result["settings"]
    left.set_ylabel("ms per training step (median; bars: min to max)")
    losses = " / ".join(dict.fromkeys(str(r["params"].get("loss")) for r in measured))
    left.set_title(f"training step ({settings['optimizer']}; loss {losses})")
    right.set_ylabel(f"time / time of {settings['baselines']['mlp']}")
    right.set_title("ratio to the baseline (below 1: faster)")
    right.axhline(1.0, color="grey", lw=0.8)
    from matplotlib.ticker import FormatStrFormatter

    right.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    right.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    left.legend(fontsize=8)
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize=8)
    else:
        right.text(0.5, 0.5, f"{settings['baselines']['mlp']} not in this run", ha="center",
                   transform=right.transAxes)
    return plotting.save(fig, path)
