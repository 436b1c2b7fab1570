"""Every example runs, at a small size, and says what it shows."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's minigrad, not an installed one
MODULES = {"surfaces.py"}  # imported by the scripts beside it (tests/test_surfaces.py)

RUNS = {
    "regression_outliers.py": (["--steps", "150"], "Huber"),
    "classification_losses.py": (["--epochs", "30"], "test accuracy"),
    "optimizers.py": (["--epochs", "2"], "Adam"),
    "backend_crossover.py": (["--quick", "--repeats", "2", "--models", "2-16-16-1,8-16-4@16"],
                             "cross over"),
    "optimizer_paths.py": (["--steps", "15"], "Rosenbrock"),
    "loss_shapes.py": (["--steps", "30"], "the outlier moves the MSE line"),
    "gpu_check.py": (["--epochs", "1", "--skip-suite", "--skip-bench"], "GPU"),
    "distributed_scaling.py": (["--steps", "2", "--warmup", "1", "--repeats", "1"],
                               "distributed scaling"),
    "numba_tuning.py": (["--quick"], "threading layers"),
    "host_memory.py": (["--quick"], "tuned by minigrad"),
    "cnn_digits.py": (["--epochs", "1"], "test accuracy"),
    "lenet_timing.py": (["--steps", "2", "--rounds", "1"], "ms/step"),
    "im2col_picture.py": ([], "windows that read each pixel"),
    "step_phases.py": (["--steps", "20", "--warmup", "2", "--device", "numpy",
                        "--model", "4-8-3@5"], "backward"),
}
WITHOUT_PLOT = {"gpu_check.py", "distributed_scaling.py", "numba_tuning.py", "host_memory.py",
                "lenet_timing.py", "step_phases.py"}
NEEDS = {"numba_tuning.py": "numba"}
# exit status of a script that could not check anything here (stated in its --help)
NOT_CHECKED = {"gpu_check.py": ("cupy", 3)}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_example_runs(script, tmp_path):
    if NEEDS.get(script, "numpy") not in mg.devices():
        pytest.skip(f"{script} needs the {NEEDS[script]} backend")
    args, expected = RUNS[script]
    if script not in WITHOUT_PLOT:
        args = [*args, "--out", str(tmp_path / "plot.png")]
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, timeout=300, env=ENV)
    device, code = NOT_CHECKED.get(script, (None, 0))
    if device is not None and device not in mg.devices():
        assert done.returncode == code, done.stderr
        usage = subprocess.run([sys.executable, str(EXAMPLES / script), "--help"],
                               capture_output=True, text=True, timeout=60, env=ENV).stdout
        assert f"1 checked and failed, {code} could not check" in " ".join(usage.split())
    else:
        assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    if "--out" in args:
        assert (tmp_path / "plot.png").exists()


def test_every_example_is_run():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(RUNS) | MODULES


ON_EVERY_DEVICE = ("regression_outliers.py", "classification_losses.py", "optimizers.py")
OTHER_DEVICES = [d for d in mg.devices() if d != "numpy"]


@pytest.mark.parametrize("device", OTHER_DEVICES)
@pytest.mark.parametrize("script", ON_EVERY_DEVICE)
def test_toolbox_examples_run_on_every_device(script, device, tmp_path):
    args, expected = RUNS[script]
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args, "--device", device,
                           "--out", str(tmp_path / "plot.png")], capture_output=True, text=True,
                          timeout=300, env=ENV)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def test_gpu_check_reads_its_targets_from_the_bench_json():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", EXAMPLES / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    rows = []
    for (workload, size), (contender, most) in gpu_check.TARGETS.items():
        rows += [{"workload": workload, "size": size, "contender": contender, "status": "ok",
                  "median_s": 0.9 * most},
                 {"workload": workload, "size": size, "contender": "torch[cuda]",
                  "status": "ok", "median_s": 1.0}]
    lines, met = gpu_check.speed_targets({"results": rows})
    assert met and len(lines) == len(gpu_check.TARGETS) == 4
    assert all("met" in line and "NOT" not in line for line in lines)
    rows[0]["median_s"] = 2.0  # slower than the target allows
    lines, met = gpu_check.speed_targets({"results": rows})
    assert not met and "NOT met" in lines[0]
    lines, met = gpu_check.speed_targets({"results": rows[2:]})  # a row missing
    assert not met and "not measured" in lines[0]
    from minigrad.bench.workloads import model_label, parse_model

    labels = {model_label(*parse_model(m)) for m in gpu_check.GPU_MODELS.split(",")}
    assert labels == {size for workload, size in gpu_check.TARGETS if workload == "mlp_step"}
