"""``minigrad bench``: the JSON it writes, its contenders, its ratios, its correctness guard
and its command line, all at tiny sizes (the numbers are not looked at, only their form)."""

import copy
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import bench, nn, optim
from minigrad.bench import handwritten, report, timing
from minigrad.cli import main

HAS_TORCH = importlib.util.find_spec("torch") is not None
TINY = dict(chain_length=6, matmul_size=8, elementwise_size=64, softmax_shape=(4, 5),
            update_sizes=(100,), models=(((4, 8, 1), 4), ((4, 8, 3), 4)), lenet_size=12,
            lenet_batch=4, repeats=3, warmup=0, min_time=0.0, progress=False)
ROW_KEYS = {"workload", "group", "size", "unit", "items_per_call", "params", "contender",
            "status", "skip_reason", "median_s", "spread", "first_call_s", "samples_s",
            "calls_per_sample", "warmup_calls", "compile_s", "threads", "notes", "baseline",
            "ratio"}
SPREAD_KEYS = {"min_s", "max_s", "q1_s", "q3_s", "iqr_s", "mean_s", "stdev_s"}


@pytest.fixture(scope="module")
def tiny():
    """One tiny run of every workload, shared by the tests that only read it."""
    result = bench.run_bench(**TINY)
    return json.loads(json.dumps(result, allow_nan=False))  # exactly what the JSON holds


def _rows(result, **match):
    return [r for r in result["results"] if all(r[k] == v for k, v in match.items())]


def test_json_schema(tiny):
    assert tiny["schema"] == bench.SCHEMA
    assert {"schema", "created", "seconds", "environment", "settings", "contenders",
            "results"} <= set(tiny)
    env = tiny["environment"]
    for key in ("platform", "cpu_count", "python", "numpy", "numba", "torch", "blas",
                "threads", "env", "load_average"):
        assert key in env
    assert "OPENBLAS_CORETYPE" in env["env"]
    assert env["cpu_count"] >= 1 and env["numpy"] == np.__version__
    settings = tiny["settings"]
    assert settings["repeats"] == 3 and settings["optimizer"] == "adam"
    assert settings["baselines"] == {"mlp": "numpy-handwritten", "other": "minigrad[numpy]"}
    assert {tuple(m["layers"]) for m in settings["models"]} == {(4, 8, 1), (4, 8, 3)}
    for row in tiny["results"]:
        assert set(row) == ROW_KEYS
        assert row["status"] in ("ok", "skipped", "failed")
        if row["status"] == "ok":
            assert row["skip_reason"] is None
            s = row["spread"]
            assert set(s) == SPREAD_KEYS
            assert 0 < s["min_s"] <= s["q1_s"] <= row["median_s"] <= s["q3_s"] <= s["max_s"]
            assert s["iqr_s"] == pytest.approx(s["q3_s"] - s["q1_s"])
            assert row["median_s"] == pytest.approx(float(np.median(row["samples_s"])))
            assert len(row["samples_s"]) == 3 and row["first_call_s"] > 0
            assert row["calls_per_sample"] >= 1
        else:
            assert isinstance(row["skip_reason"], str) and row["skip_reason"]
            assert row["median_s"] is None and row["ratio"] is None
    assert not _rows(tiny, status="failed"), _rows(tiny, status="failed")


def test_every_workload_and_size(tiny):
    seen = {(r["workload"], r["size"]) for r in tiny["results"]}
    names = {w for w, _ in seen}
    assert names == {"dispatch_fwd", "dispatch_fwd_bwd", "matmul", "elementwise",
                     "softmax_xent", "optimizer_update", "mlp_step", "lenet_step"}
    assert {r["size"] for r in _rows(tiny, workload="lenet_step")} == {"LeNet-5 12x12 batch 4"}
    assert {r["size"] for r in _rows(tiny, workload="mlp_step")} == {
        "4-8-1 batch 4", "4-8-3 batch 4"}
    assert {r["params"]["loss"] for r in _rows(tiny, workload="mlp_step")} == {
        "mse", "cross_entropy"}
    chain = _rows(tiny, workload="dispatch_fwd_bwd")[0]
    assert chain["unit"] == "op" and chain["items_per_call"] == 6


def test_every_contender_measured_or_skipped_with_a_reason(tiny):
    names = [c["name"] for c in tiny["contenders"]]
    expected = [f"minigrad[{d}]" for d in mg.backend.known_devices()]
    expected += ["minigrad[numpy] compiled", "minigrad[numba] compiled"]
    expected += ["numpy-handwritten", "torch[cpu]", "torch[cuda]"]
    assert names == expected
    for key in {(r["workload"], r["size"]) for r in tiny["results"]}:
        rows = _rows(tiny, workload=key[0], size=key[1])
        assert [r["contender"] for r in rows] == names
    usable = [f"minigrad[{d}]" for d in mg.devices()] + ["numpy-handwritten"]
    if HAS_TORCH:
        usable.append("torch[cpu]")
    usable += [f"minigrad[{d}] compiled" for d in mg.devices() if d in ("numpy", "numba")]
    for row in tiny["results"]:
        if row["contender"] == "numpy-handwritten" and row["workload"] == "lenet_step":
            assert row["status"] == "skipped" and "no hand-written LeNet-5" in row["skip_reason"]
        elif row["contender"].endswith("compiled") and row["workload"] not in (
                "mlp_step", "lenet_step"):
            assert row["status"] == "skipped" and "training steps" in row["skip_reason"]
        elif row["contender"] in usable:
            assert row["status"] == "ok", row
        else:
            assert row["status"] == "skipped" and row["skip_reason"]
    contenders = {c["name"]: c for c in tiny["contenders"]}
    if not HAS_TORCH:
        assert "not installed" in contenders["torch[cpu]"]["skip_reason"]
    if "cupy" not in mg.devices():
        assert "cupy" in contenders["minigrad[cupy]"]["skip_reason"]


def test_ratios_against_the_right_baseline(tiny):
    checked = 0
    for row in tiny["results"]:
        base = "numpy-handwritten" if row["group"] == "mlp" else "minigrad[numpy]"
        assert row["baseline"] == base
        if row["status"] != "ok":
            continue
        (ref,) = _rows(tiny, workload=row["workload"], size=row["size"], contender=base)
        assert row["ratio"] == pytest.approx(row["median_s"] / ref["median_s"], rel=1e-12)
        if row["contender"] == base:
            assert row["ratio"] == 1.0
        checked += 1
    assert checked >= 2 * len({(r["workload"], r["size"]) for r in tiny["results"]})


def test_table_shows_every_measured_row_and_the_skipped_contenders(tiny):
    text = bench.format_table(tiny)
    assert "ratio" in text and "first call" in text
    for row in _rows(tiny, status="ok"):
        assert row["contender"] in text
    for c in tiny["contenders"]:
        if c["skip_reason"]:
            assert f"skipped {c['name']}: {c['skip_reason']}" in text
    assert bench.format_time(2.5e-6) == "2.5 µs" and bench.format_time(0.0123) == "12.3 ms"
    assert bench.format_time(6e-7, "µs") == "0.60 µs" and bench.format_time(3e-10) == "0.3 ns"
    assert "µs/op" in text


def test_table_names_the_blas_kernels_and_flags_a_pinned_core_type(tiny):
    pinned = copy.deepcopy(tiny)
    pinned["environment"]["env"]["OPENBLAS_CORETYPE"] = "Haswell"
    pinned["environment"]["blas"] = [{"internal_api": "openblas", "architecture": "Haswell"}]
    text = bench.format_table(pinned)
    assert "OpenBLAS kernels: Haswell" in text
    assert "note: OPENBLAS_CORETYPE pins NumPy's BLAS to the Haswell kernels" in text
    pinned["environment"]["env"]["OPENBLAS_CORETYPE"] = None
    assert "note: OPENBLAS_CORETYPE" not in bench.format_table(pinned)


def test_table_gives_each_recording_call_against_the_eager_step(tiny):
    rows = [r for r in tiny["results"] if r["status"] == "ok"
            and r["contender"].endswith(" compiled")]
    assert rows and all(r["notes"]["recording_s"] > 0 for r in rows)
    assert all(r["notes"]["recording_compile_s"] >= 0 for r in rows)
    assert all(r["notes"]["eager_call_s"] > 0 for r in rows)
    line = next(line for line in bench.format_table(tiny).splitlines()
                if line.startswith("recording call of mg.compile"))
    for r in rows:
        assert f"{r['contender'].removesuffix(' compiled')} {r['size']}" in line


def _minigrad_step(problem, optimizer):
    """minigrad's gradients and updated parameters, from the problem's weights."""
    layers = []
    for i, (w, b) in enumerate(problem.weights):
        if i:
            layers.append(nn.ReLU())
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.load_state_dict({"weight": w, "bias": b})
        layers.append(linear)
    model = nn.Sequential(*layers)
    hyper = handwritten.hyperparameters(optimizer)
    opt = (optim.Adam(model.parameters(), lr=hyper.lr) if optimizer == "adam"
           else optim.SGD(model.parameters(), lr=hyper.lr))
    loss_fn = F.mse_loss if problem.loss == "mse" else F.cross_entropy
    loss = loss_fn(model(mg.tensor(problem.x)), mg.tensor(problem.target))
    opt.zero_grad()
    loss.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    opt.step()
    return loss.item(), grads, [p.numpy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("layers", [(2, 16, 16, 1), (64, 128, 10)])
def test_handwritten_step_equals_minigrad(layers, optimizer):
    problem = bench.make_mlp_problem(layers, 32, optimizer=optimizer, seed=3)
    loss, grads, params = _minigrad_step(problem, optimizer)
    hand = bench.HandwrittenMLP(problem.weights, problem.batch, problem.loss, optimizer)
    value = hand.step(problem.x, problem.target)
    assert value == pytest.approx(loss, rel=1e-5)
    for got, want in zip(hand.gradients(), grads):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    for got, want in zip(hand.parameters(), params):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("optimizer", handwritten.OPTIMIZERS)
@pytest.mark.parametrize("loss", ["auto", "l1", "huber"])
def test_guard_passes_for_every_optimizer(optimizer, loss):
    problem = bench.make_mlp_problem((5, 7, 3), 6, loss=loss, optimizer=optimizer)
    report_ = bench.check_handwritten_gradients(problem, steps=3)
    assert report_["ok"] and max(report_["worst_error_in_tolerances"].values()) <= 1


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits"])
def test_guard_passes_for_binary_losses(loss):
    problem = bench.make_mlp_problem((5, 7, 1), 6, loss=loss)
    assert bench.check_handwritten_gradients(problem)["ok"]


def test_guard_catches_a_wrong_gradient(monkeypatch):
    problem = bench.make_mlp_problem((5, 7, 3), 6)
    real = handwritten.HandwrittenMLP.forward_backward

    def wrong(self, x, target):
        value = real(self, x, target)
        self.gW[0] *= 1.0001  # off by 1e-4: ten times the tolerance
        return value

    monkeypatch.setattr(handwritten.HandwrittenMLP, "forward_backward", wrong)
    with pytest.raises(bench.GradientMismatch, match="gradient of 0.weight"):
        bench.check_handwritten_gradients(problem)


def test_guard_catches_a_wrong_update(monkeypatch):
    problem = bench.make_mlp_problem((5, 7, 3), 6, optimizer="adam")

    def no_bias_correction(self, p, g, s, d, m, v):
        m *= 0.9
        m += 0.1 * g
        p -= self.hyper.lr * m

    monkeypatch.setattr(handwritten.HandwrittenOptimizer, "_adam", no_bias_correction)
    with pytest.raises(bench.GradientMismatch, match="after the adam update"):
        bench.check_handwritten_gradients(problem)


def test_bench_fails_the_row_when_the_guard_fails(monkeypatch):
    real = handwritten.HandwrittenMLP.forward_backward

    def wrong(self, x, target):
        value = real(self, x, target)
        self.gb[-1] += 1e-3
        return value

    monkeypatch.setattr(handwritten.HandwrittenMLP, "forward_backward", wrong)
    result = bench.run_bench(**{**TINY, "only": ("mlp",), "torch": False})
    rows = _rows(result, contender="numpy-handwritten")
    assert rows and all(r["status"] == "failed" for r in rows)
    assert all("GradientMismatch" in r["skip_reason"] for r in rows)
    assert all(r["ratio"] is None for r in _rows(result, contender="minigrad[numpy]"))


def test_a_loss_that_does_not_fit_skips_with_the_reason():
    result = bench.run_bench(**{**TINY, "only": ("mlp",), "torch": False,
                                "loss": "multi_margin"})
    usable = {c["name"] for c in result["contenders"] if c["skip_reason"] is None}
    one_output = [r for r in _rows(result, size="4-8-1 batch 4") if r["contender"] in usable]
    assert one_output and all(r["status"] == "skipped" and "two or more outputs" in r["skip_reason"]
               for r in one_output)
    (hand,) = _rows(result, size="4-8-3 batch 4", contender="numpy-handwritten")
    assert hand["status"] == "skipped" and "multi_margin" in hand["skip_reason"]
    assert _rows(result, size="4-8-3 batch 4", contender="minigrad[numpy]")[0]["status"] == "ok"


def test_threads_are_set_and_restored():
    before = timing.thread_counts()
    result = bench.run_bench(**{**TINY, "only": ("matmul",), "threads": 1})
    during = result["environment"]["threads"]
    assert all(lib["num_threads"] == 1 for lib in during["blas"]
               if lib["internal_api"] in ("openblas", "mkl", "blis"))
    if HAS_TORCH:
        assert during["torch"] == 1
    if "numba" in during:
        assert during["numba"] == 1
    after = timing.thread_counts()
    for key in ("torch", "numba"):
        assert after.get(key) == before.get(key)
    assert [b["num_threads"] for b in after["blas"][:len(before["blas"])]] == [
        b["num_threads"] for b in before["blas"]]


def test_threads_in_a_fresh_process():
    """Starting Numba's OpenMP pool resets the count PyTorch reads: set in the right order."""
    code = ("import json; from minigrad.bench import run_bench; "
            "r = run_bench(only=('matmul',), matmul_size=8, repeats=2, warmup=0, min_time=0, "
            "progress=False, threads=1); print(json.dumps(r['environment']['threads']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert threads.get("torch", 1) == 1 and threads.get("numba", 1) == 1
    assert all(lib["num_threads"] == 1 for lib in threads["blas"]
               if lib["internal_api"] in ("openblas", "mkl", "blis"))


def test_measure_keeps_the_first_call_and_warmup_apart():
    calls, syncs = [], []
    clock = iter(range(1000))

    def fn():
        calls.append(next(clock))

    m = timing.measure(fn, lambda: syncs.append(len(calls)), repeats=4, warmup=2,
                       min_time=0.0, items=5)
    assert len(m.samples_s) == 4 and m.calls_per_sample == 1
    assert m.warmup_calls == 3  # two warm-up calls and one calibration call
    assert len(calls) == 1 + 3 + 4
    assert len(syncs) == 2 * (1 + 1 + 4)  # before and after each timed stretch
    stats = m.stats()
    assert stats["median_s"] == pytest.approx(float(np.median(m.samples_s)))


def test_quick_and_option_checks():
    quick = bench.BenchConfig(quick=True)
    assert quick.repeats == 5 and quick.update_sizes == (1_000_000,)
    assert ((784, 2048, 2048, 10), 512) not in quick.models and len(quick.models) == 3
    full = bench.BenchConfig()
    assert full.models == bench.PROJECT_MODELS and 10_000_000 in full.update_sizes
    assert bench.BenchConfig(baseline="torch").baseline_for("mlp") == "torch[cpu]"
    assert bench.BenchConfig(only="mlp").selected_workloads() == ("mlp_step",)
    assert bench.parse_model("64-128-10") == ((64, 128, 10), 64)
    assert bench.parse_model("3-5-2@7") == ((3, 5, 2), 7)
    with pytest.raises(ValueError, match="unknown workload"):
        bench.BenchConfig(only=("nope",))
    with pytest.raises(ValueError, match="unknown loss"):
        bench.BenchConfig(loss="nope")
    with pytest.raises(ValueError):
        bench.parse_model("784")
    with pytest.raises(ValueError, match="unknown baseline"):
        bench.run_bench(only=("matmul",), baseline="nobody")


def test_cli_writes_json_and_plot(tmp_path, capsys):
    out, plot = tmp_path / "bench.json", tmp_path / "bench.png"
    code = main(["bench", "--quick", "--only", "mlp,matmul", "--models", "4-8-1@4,4-16-3@8",
                 "--matmul-size", "8", "--repeats", "2", "--min-time", "0", "--no-progress",
                 "--baseline", "minigrad[numpy]", "--json", str(out), "--plot", str(plot)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "MLP train step" in printed and "4-16-3 batch 8" in printed
    result = json.loads(out.read_text())
    assert result["settings"]["quick"] and result["settings"]["repeats"] == 2
    assert {r["workload"] for r in result["results"]} == {"matmul", "mlp_step"}
    for row in result["results"]:
        assert row["baseline"] == "minigrad[numpy]"
        if row["status"] == "ok":
            (ref,) = _rows(result, workload=row["workload"], size=row["size"],
                           contender="minigrad[numpy]")
            assert row["ratio"] == pytest.approx(row["median_s"] / ref["median_s"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_runs_the_lenet_row_in_quick_form(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--only", "cnn", "--lenet-size", "12", "--lenet-batch",
                 "2", "--repeats", "2", "--min-time", "0", "--no-progress", "--json", str(out)])
    assert code == 0
    assert "LeNet-5 step" in capsys.readouterr().out
    result = json.loads(out.read_text())
    rows = {r["contender"]: r for r in result["results"]}
    assert {r["workload"] for r in rows.values()} == {"lenet_step"}
    for device in mg.devices():
        row = rows[f"minigrad[{device}]"]
        assert row["status"] == "ok"
        assert row["params"]["parameters"] == sum(
            p.numel() for p in bench.lenet5(nn, 12).parameters())
        assert row["baseline"] == "minigrad[numpy]" and row["ratio"] > 0
    assert rows["numpy-handwritten"]["status"] == "skipped"
    assert rows["torch[cpu]"]["status"] == ("ok" if HAS_TORCH else "skipped")
    with pytest.raises(ValueError, match="lenet_size"):
        bench.BenchConfig(lenet_size=11)


def _lenet_first_step(problem, model, opt, tensor, cross_entropy):
    """The loss, the gradients and the parameters after one step, as NumPy arrays."""
    model.load_state_dict({k: tensor(v) for k, v in problem.state_dict().items()})
    loss = cross_entropy(model(tensor(problem.x)), tensor(problem.target))
    opt.zero_grad()
    loss.backward()
    grads = [p.grad.detach().numpy().copy() for p in model.parameters()]
    opt.step()
    return loss.item(), grads, [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_lenet_first_step_equals_torch(device, optimizer):
    torch = pytest.importorskip("torch")
    problem = bench.make_lenet_problem(size=16, batch=6, optimizer=optimizer, seed=3)
    h = handwritten.hyperparameters(optimizer)

    mg_model = bench.lenet5(nn, 16).to(device)
    mg_opt = (optim.Adam(mg_model.parameters(), lr=h.lr) if optimizer == "adam" else
              optim.SGD(mg_model.parameters(), lr=h.lr, momentum=h.momentum))
    ours = _lenet_first_step(problem, mg_model, mg_opt,
                             lambda a: mg.tensor(a, device=device), F.cross_entropy)
    t_model = bench.lenet5(torch.nn, 16)
    t_opt = (torch.optim.Adam(t_model.parameters(), lr=h.lr) if optimizer == "adam" else
             torch.optim.SGD(t_model.parameters(), lr=h.lr, momentum=h.momentum))
    theirs = _lenet_first_step(problem, t_model, t_opt, torch.from_numpy,
                               torch.nn.functional.cross_entropy)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-5)
    start = list(problem.state_dict().values())
    for got, ref in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)
    for got, ref, first in zip(ours[2], theirs[2], start):
        assert not np.array_equal(ref, first)  # the step moved every parameter
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_progress_without_tqdm_prints_plain_lines(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    bench.run_bench(**{**TINY, "only": ("matmul",), "progress": True, "torch": False})
    err = capsys.readouterr().err
    assert "[1/" in err and "matmul" in err and "minigrad[numpy]" in err


def test_add_ratios_arithmetic():
    rows = [{"workload": "w", "size": "s", "group": "kernels", "contender": c,
             "status": "ok", "median_s": t} for c, t in (("a", 2.0), ("b", 3.0))]
    rows.append({"workload": "w", "size": "s", "group": "kernels", "contender": "c",
                 "status": "skipped", "median_s": None})
    report.add_ratios(rows, lambda group: "a")
    assert [r["ratio"] for r in rows] == [1.0, 1.5, None]
    report.add_ratios(rows, lambda group: "missing")
    assert all(r["ratio"] is None for r in rows)


# the hand-written floor: what it computes and how it is laid out


def _batches(problem, steps, seed=1):
    """``steps`` different batches shaped like the problem's (inputs and targets)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        x = rng.standard_normal(problem.x.shape).astype(np.float32)
        if problem.loss == "cross_entropy":
            target = rng.integers(0, problem.layers[-1], size=problem.batch).astype(np.int64)
        else:
            target = rng.standard_normal(problem.target.shape).astype(np.float32)
        out.append((x, target))
    return out


MLP_WORKLOADS = [((2, 16, 16, 1), 32), ((64, 128, 10), 64)]
STEPS = 5


def _minigrad_train(problem, batches, device):
    from minigrad.training import TrainConfig, build_model, build_optimizer

    config = TrainConfig(hidden=problem.layers[1:-1], optimizer=problem.optimizer,
                         device=device)
    model = build_model(config, problem.layers[0], problem.layers[-1])
    model.load_state_dict(problem.state_dict())
    opt = build_optimizer(config, model.parameters())
    loss_fn = F.mse_loss if problem.loss == "mse" else F.cross_entropy
    for x, target in batches:
        loss = loss_fn(model(mg.tensor(x, device=device)), mg.tensor(target, device=device))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.numpy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
@pytest.mark.parametrize("layers,batch", MLP_WORKLOADS)
def test_floor_trains_as_minigrad_does(device, layers, batch, optimizer):
    """Same weights, same batches, several steps each on its own: the same parameters."""
    problem = bench.make_mlp_problem(layers, batch, optimizer=optimizer, seed=2)
    batches = _batches(problem, STEPS)
    hand = bench.HandwrittenMLP(problem.weights, batch, problem.loss, optimizer)
    for x, target in batches:
        hand.step(x, target)
    want = _minigrad_train(problem, batches, device)
    start = [a for pair in problem.weights for a in pair]
    for got, ref, first in zip(hand.parameters(), want, start):
        assert not np.array_equal(ref, first)  # the steps moved every parameter
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
@pytest.mark.parametrize("layers,batch", MLP_WORKLOADS)
def test_floor_trains_as_torch_does(layers, batch, optimizer):
    torch = pytest.importorskip("torch")
    problem = bench.make_mlp_problem(layers, batch, optimizer=optimizer, seed=2)
    batches = _batches(problem, STEPS)
    hand = bench.HandwrittenMLP(problem.weights, batch, problem.loss, optimizer)
    for x, target in batches:
        hand.step(x, target)
    modules = []
    for i, (w, _) in enumerate(problem.weights):
        if i:
            modules.append(torch.nn.ReLU())
        modules.append(torch.nn.Linear(w.shape[1], w.shape[0]))
    model = torch.nn.Sequential(*modules)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in problem.state_dict().items()})
    h = handwritten.hyperparameters(optimizer)
    opt = (torch.optim.Adam(model.parameters(), lr=h.lr) if optimizer == "adam" else
           torch.optim.SGD(model.parameters(), lr=h.lr, momentum=h.momentum))
    loss_fn = (torch.nn.functional.mse_loss if problem.loss == "mse"
               else torch.nn.functional.cross_entropy)
    for x, target in batches:
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(target))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for got, ref in zip(hand.parameters(), model.parameters()):
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-5, atol=2e-6)


def test_floor_layout_is_flat_and_allocates_nothing_per_step():
    import tracemalloc

    problem = bench.make_mlp_problem((64, 512, 512), 128, seed=0)  # 256 KiB activations
    hand = bench.HandwrittenMLP(problem.weights, 128, problem.loss, "adam")
    total = sum(w.size + b.size for w, b in problem.weights)
    assert hand.flat_params.shape == hand.flat_grads.shape == (total,)
    for w, b, gw, gb in zip(hand.W, hand.b, hand.gW, hand.gb):
        assert w.flags.c_contiguous and w.base is hand.flat_params  # stored (in, out)
        assert b.base is hand.flat_params
        assert gw.base is hand.flat_grads and gb.base is hand.flat_grads
    for (w, _), param in zip(problem.weights, hand.W):
        np.testing.assert_array_equal(param, w.T)
    hand.step(problem.x, problem.target)
    tracemalloc.start()
    try:
        hand.step(problem.x, problem.target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # nothing activation-sized: NumPy's own iteration buffer (32 KiB) and a few rows at most
    assert peak < 64 * 1024, peak


@pytest.mark.parametrize("optimizer", handwritten.OPTIMIZERS)
def test_blocked_update_equals_one_pass(monkeypatch, optimizer):
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal((2, 1000), dtype=np.float32)
    hyper = handwritten.Hyperparameters(lr=0.01, weight_decay=0.1)
    whole = handwritten.HandwrittenOptimizer(p0.copy(), g, optimizer, hyper)
    monkeypatch.setattr(handwritten, "BLOCKED_ABOVE", 100)
    monkeypatch.setattr(handwritten, "UPDATE_BLOCK", 64)
    blocked = handwritten.HandwrittenOptimizer(p0.copy(), g, optimizer, hyper)
    assert len(blocked.blocks) == 16 and len(whole.blocks) == 1
    for _ in range(3):
        whole.step()
        blocked.step()
    assert not np.array_equal(whole.param, p0)
    np.testing.assert_array_equal(blocked.param, whole.param)


def test_handwritten_kernels_equal_minigrad(device):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 5), dtype=np.float32)
    labels = rng.integers(0, 5, size=6)
    grad = np.empty_like(logits)
    value = handwritten.SoftmaxCrossEntropy(6, 5)(logits, labels, grad)
    t = mg.tensor(logits, device=device, requires_grad=True)
    loss = F.cross_entropy(t, mg.tensor(labels, device=device))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)

    x, a, m = (rng.standard_normal(4).astype(np.float32) for _ in range(3))
    chain = handwritten.DispatchChain(x, a, m, 7)
    gx, ga = chain.forward_backward()
    tx, ta = (mg.tensor(v, device=device, requires_grad=True) for v in (x, a))
    from minigrad.bench.contenders import _chain

    y = _chain(tx, ta, mg.tensor(m, device=device), 7)
    np.testing.assert_allclose(chain.forward(), y.numpy(), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-5)


# threads and the baselines' fastest settings


def test_every_row_records_its_threads(tiny):
    for row in _rows(tiny, status="ok"):
        threads = row["threads"]
        assert isinstance(threads["counts"], dict)
        if row["contender"] in ("minigrad[numpy]", "minigrad[numba]", "numpy-handwritten"):
            assert "blas" in threads["counts"]
        if row["contender"] == "torch[cpu]":
            assert set(threads["counts"]) == {"torch"}
        if row["contender"].startswith("minigrad"):
            assert threads["tuned"] is False  # minigrad runs as a user gets it by default
        elif threads["tuned"]:
            assert str(next(iter(threads["counts"].values()))) in threads["tried_s"]
    text = bench.format_table(tiny)
    assert "threads" in text.splitlines()[0] and "blas" in text


def test_torch_runs_its_fastest_optimizer(tiny):
    if not HAS_TORCH:
        pytest.skip("PyTorch is not installed")
    for row in _rows(tiny, contender="torch[cpu]", status="ok"):
        if row["workload"] in ("mlp_step", "optimizer_update"):
            assert row["notes"]["optimizer"] in row["notes"]["optimizer_tried_s"]


def test_no_tuning_leaves_every_count_alone():
    before = timing.thread_counts()
    result = bench.run_bench(**{**TINY, "only": ("matmul",), "tune": "none"})
    for row in _rows(result, status="ok"):
        assert row["threads"]["tuned"] is False
    assert timing.thread_counts()["blas"] == before["blas"]
    with pytest.raises(ValueError, match="unknown tune"):
        bench.BenchConfig(tune="some")


def test_race_picks_the_fastest_and_thread_choice_restores():
    import time

    best, medians = timing.race({"slow": (None, lambda: time.sleep(0.002)),
                                 "fast": (None, lambda: None)}, lambda: None, seconds=0.004)
    assert best == "fast" and medians["slow"] > medians["fast"]
    counts = {"x": 2}
    knob = timing.ThreadKnob("x", lambda: counts["x"], lambda n: counts.__setitem__("x", n))

    def fn():  # fastest on one thread
        time.sleep(0.001 * counts["x"])

    with timing.ThreadChoice([knob], fn, lambda: None, tune=True, seconds=0.003) as choice:
        assert counts["x"] == 1
        assert choice.record["counts"] == {"x": 1} and set(choice.record["tried_s"]) == {"1", "2"}
    assert counts["x"] == 2
    assert timing.thread_candidates(6) == [1, 2, 4, 6] and timing.thread_candidates(1) == [1]


def test_contenders_are_a_registry(monkeypatch):
    from minigrad.bench import contenders

    class Extra(contenders.Contender):
        name, kind = "extra", "minigrad"

    monkeypatch.setattr(contenders, "CONTENDERS",
                        [*contenders.CONTENDERS, lambda options: [Extra()]])
    names = [c.name for c in bench.discover(torch=False)]
    assert names[-1] == "extra" and "numpy-handwritten" in names
