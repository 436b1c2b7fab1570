"""The CuPy backend's logic, checked on the CPU by running it over NumPy.

On a machine with a GPU the whole suite also runs on ``cupy`` through the ``device``
fixture; here the backend class is driven with NumPy standing in for CuPy, which has
the same array API, so everything but the CUDA kernels is exercised: the fused kernels'
C runs statement by statement on NumPy arrays, and a stand-in stream's graph runs the
captured function again at each launch.
"""

import re
import sys
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad.backends.cupy_backend import CuPyBackend


def _numpy_as_cupy() -> types.SimpleNamespace:
    """NumPy dressed as the parts of CuPy the backend uses."""
    shim = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np)
                                    if not name.startswith("_")})
    shim.asnumpy = np.array  # both directions copy, as between host and GPU
    shim.asarray = np.array
    shim.random = types.SimpleNamespace(RandomState=_RandomState)
    shim.ElementwiseKernel = _ElementwiseKernel
    shim.cuda = types.SimpleNamespace(Stream=_Stream, get_current_stream=lambda: _NULL_STREAM)
    return shim


class _ElementwiseKernel:
    """CuPy's ElementwiseKernel for the C the backend writes (declarations, assignments,
    ``c ? a : b``, ``max``, ``sqrt``, ``T(x)`` casts), run statement by statement with
    NumPy on whole arrays."""

    def __init__(self, in_params, out_params, body, name):
        def names(params):
            return [p.split()[-1] for p in params.split(",")]

        self.ins, self.outs = names(in_params), names(out_params)
        lines = []
        for statement in filter(None, (s.strip() for s in body.split(";"))):
            statement = re.sub(r"^T ", "", statement)
            statement = re.sub(r"\bT\(([^()]*)\)", r"(\1)", statement)
            statement = statement.replace("max(", "np.maximum(").replace("sqrt(", "np.sqrt(")
            ternary = re.fullmatch(r"(\w+) = (.+?) \? (.+) : (.+)", statement)
            if ternary:
                statement = "{} = np.where({}, {}, {})".format(*ternary.groups())
            lines.append(statement)
        self.code = compile("\n".join(lines), f"<{name}>", "exec")

    def __call__(self, *arrays):
        scope = {"np": np, **dict(zip(self.ins + self.outs, arrays))}
        exec(self.code, scope)
        for name, out in zip(self.outs, arrays[len(self.ins):]):
            out[...] = scope[name]


class _Event:
    pass


class _Stream:
    """A CUDA stream whose capture records the function the backend captures: NumPy runs
    it at once (it cannot defer work), so the graph's first launch, the capture's own,
    does nothing, and each later launch runs the function again, writing what it makes
    into the arrays the capture made, as a graph rewrites its arrays."""

    captures = 0

    def __init__(self, non_blocking=False):
        self.capturing = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def record(self):
        return _Event()

    def wait_event(self, event):
        assert isinstance(event, _Event)

    def begin_capture(self, mode=None):
        assert not self.capturing
        self.capturing = True

    def end_capture(self):
        assert self.capturing
        self.capturing = False
        _Stream.captures += 1
        caller = sys._getframe(1).f_locals  # the backend's capture_graph
        return _Graph(caller["body"], caller.get("kept"))


class _Graph:
    def __init__(self, body, kept):
        self.body, self.kept, self.launches = body, kept, 0

    def launch(self, stream):
        self.launches += 1
        if self.launches == 1:
            return
        fresh = self.body()
        for name, array in self.kept.items():
            if isinstance(array, np.ndarray) and array.flags.writeable:
                array[...] = fresh[name]
            else:  # a NumPy scalar, where CuPy has a 0-d array
                self.kept[name] = fresh[name]


_NULL_STREAM = _Stream()


class _RandomState(np.random.RandomState):
    """CuPy's RandomState takes a dtype; NumPy's legacy one does not."""

    def standard_normal(self, size=None, dtype=np.float64):
        return super().standard_normal(size).astype(dtype)

    def random_sample(self, size=None, dtype=np.float64):
        return super().random_sample(size).astype(dtype)


@pytest.fixture
def gpu_like():
    mg.register_backend("cupy-on-numpy", lambda: CuPyBackend(xp=_numpy_as_cupy()))
    yield "cupy-on-numpy"
    from minigrad import backend

    backend._factories.pop("cupy-on-numpy", None)
    backend._instances.pop("cupy-on-numpy", None)


def test_unavailable_without_cupy_says_why():
    reason = CuPyBackend.unavailable_reason()
    if reason is None:
        pytest.skip("CuPy and a GPU are available here: the device fixture covers cupy")
    assert "CuPy" in reason
    with pytest.raises(mg.BackendUnavailable, match=r"minigrad\[cuda\]"):
        mg.zeros(2, device="cuda")


def test_training_step_on_the_cupy_logic(gpu_like):
    x = mg.randn(8, 3, device=gpu_like)
    w = mg.randn(3, 4, device=gpu_like, requires_grad=True)
    b = mg.zeros(4, device=gpu_like, requires_grad=True)
    h = (x @ w + b).relu()
    loss = (h[[0, 0, 2]] * h[[1, 1, 3]]).sum() + h.amax(axis=1).mean()
    loss.backward()
    host = [t.to("numpy").detach().requires_grad_() for t in (w, b)]
    xh = x.to("numpy")
    hh = (xh @ host[0] + host[1]).relu()
    ((hh[[0, 0, 2]] * hh[[1, 1, 3]]).sum() + hh.amax(axis=1).mean()).backward()
    np.testing.assert_allclose(w.grad.numpy(), host[0].grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), host[1].grad.numpy(), rtol=1e-5)


def test_transfers_keep_the_autograd_link(gpu_like):
    a = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    on_gpu = a.to(gpu_like)
    assert on_gpu.device == gpu_like
    assert on_gpu.data is not a.data
    (on_gpu * on_gpu).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, -4.0, 6.0])
    with pytest.raises(RuntimeError, match="numpy"):
        on_gpu + a


def test_seeded_generator_repeats(gpu_like):
    mg.manual_seed(3)
    first = mg.randn(5, device=gpu_like).numpy()
    mg.manual_seed(3)
    assert np.array_equal(first, mg.randn(5, device=gpu_like).numpy())
    assert mg.rand(4, device=gpu_like, dtype=mg.float32).dtype == np.float32


# mg.compile on the CuPy backend: the device part of a step as one CUDA graph launch
GRAPH_OPTIMIZERS = {
    "momentum": lambda p: mg.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda p: mg.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "sgd": lambda p: mg.optim.SGD(p, lr=0.1, weight_decay=1e-2),
    "adam": lambda p: mg.optim.Adam(p, lr=1e-2, weight_decay=1e-3),
    "amsgrad": lambda p: mg.optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw": lambda p: mg.optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: mg.optim.RMSprop(p, lr=1e-2, weight_decay=1e-3),
    "rmsprop_centered": lambda p: mg.optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
}


def _graph_train(device, compiled, make_opt, steps=10, schedule=None, dropout=False):
    """A 2-16-16-1 MLP trained ``steps`` steps on fresh batches; the losses, the final
    parameters, the optimizer and the (compiled) step."""
    import minigrad.functional as F
    from minigrad import nn

    mg.manual_seed(0)
    layers = [nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)]
    if dropout:
        layers.insert(2, nn.Dropout(0.25))
    model = nn.Sequential(*layers).to(device)
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = mg.compile(step) if compiled else step
    rng = np.random.default_rng(1)
    losses = []
    for i in range(steps):
        if schedule is not None:
            opt.param_groups[0]["lr"] = schedule(i)
        x = rng.standard_normal((8, 2)).astype(np.float32)
        y = rng.standard_normal((8, 1)).astype(np.float32)
        losses.append(fn(mg.tensor(x, device=device), mg.tensor(y, device=device)).item())
    return losses, [p.numpy() for p in model.parameters()], opt, fn


def _assert_same(eager, compiled):
    np.testing.assert_allclose(compiled[0], eager[0], rtol=1e-6, atol=1e-7)
    for a, b in zip(eager[1], compiled[1]):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("optimizer", GRAPH_OPTIMIZERS)
def test_compiled_step_launches_one_graph_and_matches_eager(gpu_like, optimizer):
    eager = _graph_train(gpu_like, False, GRAPH_OPTIMIZERS[optimizer])
    compiled = _graph_train(gpu_like, True, GRAPH_OPTIMIZERS[optimizer])
    _assert_same(eager, compiled)  # each call's new batch reached the graph's inputs
    assert len(set(compiled[0])) == len(compiled[0])
    fn = compiled[3]
    # eager, recorded, the program's warm-up run, then captured once and launched
    assert fn.stats["replays"] == 8 and fn.stats["graph_captures"] == 1
    assert fn.stats["graph_launches"] == 7 and not fn.stats["no_graph"]
    assert "def device():" in fn.plan and "launched 7 time(s)" in fn.plan
    assert ".load(" in fn.plan.split("def replay")[1]  # hyperparameters written each call


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_graph_follows_an_lr_schedule_and_the_step_count(gpu_like, optimizer):
    def schedule(i):
        return 0.05 * 0.7**i

    eager = _graph_train(gpu_like, False, GRAPH_OPTIMIZERS[optimizer], schedule=schedule)
    compiled = _graph_train(gpu_like, True, GRAPH_OPTIMIZERS[optimizer], schedule=schedule)
    _assert_same(eager, compiled)
    assert compiled[3].stats["graph_launches"] == 7
    if optimizer == "adam":
        assert all(s["step"] == 10 for s in compiled[2].state.values())
    frozen = _graph_train(gpu_like, True, GRAPH_OPTIMIZERS[optimizer])
    assert not np.allclose(frozen[1][0], compiled[1][0])  # the schedule made a difference


def test_a_plan_that_draws_random_numbers_runs_without_a_graph(gpu_like):
    fn = _graph_train(gpu_like, True, GRAPH_OPTIMIZERS["adam"], dropout=True)[3]
    assert fn.stats["replays"] == 8 and fn.stats["graph_launches"] == 0
    assert any("random" in r for r in fn.stats["no_graph"])
    assert "no graph" in fn.plan and "def device():" not in fn.plan


def test_a_convolutional_step_on_the_cupy_logic(gpu_like):
    """LeNet-5's pieces (conv, relu, max-pool, linear) on the CuPy backend's code paths:
    values and gradients equal the NumPy backend's."""
    results = []
    for device in ("numpy", gpu_like):
        mg.manual_seed(0)
        model = mg.nn.Sequential(
            mg.nn.Conv2d(1, 3, 5, padding=2), mg.nn.ReLU(), mg.nn.MaxPool2d(2),
            mg.nn.Conv2d(3, 4, 3), mg.nn.ReLU(), mg.nn.AvgPool2d(2), mg.nn.Flatten(),
            mg.nn.Linear(16, 5)).to(device)
        x = mg.tensor(np.random.default_rng(1).standard_normal((2, 1, 12, 12)),
                      dtype=mg.float32, device=device)
        loss = mg.functional.cross_entropy(model(x), mg.tensor([1, 4], device=device))
        loss.backward()
        results.append([loss.item()] + [p.grad.numpy() for p in model.parameters()])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
