"""Devices: discovery, the default device, unavailable backends, plug-in backends (by
``register_backend`` and by entry point), moving tensors across devices, and every usable
backend checked against the NumPy reference."""

import importlib.metadata
import subprocess
import sys
import types

import numpy as np
import pytest

import minigrad as mg
import minigrad.backend as backend_module
from minigrad.backends.numpy_backend import NumPyBackend


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the backend registry, restored after the test."""
    monkeypatch.setattr(backend_module, "_factories", dict(backend_module._factories))
    monkeypatch.setattr(backend_module, "_instances", dict(backend_module._instances))
    return backend_module


class CountingBackend(NumPyBackend):
    """The NumPy backend, counting its matmul calls."""

    def __init__(self):
        super().__init__()
        self.matmuls = 0

    def matmul(self, a, b):
        self.matmuls += 1
        return np.matmul(a, b)


class MissingBackend(NumPyBackend):
    install_hint = 'pip install "widget-backend"'

    @classmethod
    def unavailable_reason(cls):
        return "the widget accelerator is not plugged in"


class PluginBackend(NumPyBackend):
    """Found through the ``minigrad.backends`` entry-point group."""


# ------------------------------------------------------------------ discovery

def test_devices_lists_numpy_first():
    names = mg.devices()
    assert isinstance(names, list)
    assert names[0] == "numpy"
    assert len(names) == len(set(names))
    for name in names:
        assert mg.tensor([1.0], device=name).device == name


def test_cpu_is_an_alias_of_numpy():
    t = mg.tensor([1.0, 2.0], device="cpu")
    assert t.device == "numpy"
    assert mg.get_backend("cpu") is mg.get_backend("numpy")
    assert mg.zeros(2, device="cpu").device == "numpy"


def test_default_device(device):
    assert mg.get_default_device() == "numpy"
    mg.set_default_device(device)
    assert mg.get_default_device() == device
    for t in (mg.tensor([1.0]), mg.zeros(2), mg.ones(2), mg.full((2,), 3.0), mg.randn(2),
              mg.rand(2), mg.arange(3)):
        assert t.device == device
    assert (mg.tensor([1.0]) + mg.tensor([2.0])).device == device
    mg.set_default_device("cpu")
    assert mg.get_default_device() == "numpy"
    assert mg.tensor([1.0]).device == "numpy"
    # an explicit device wins over the default
    mg.set_default_device(device)
    assert mg.tensor([1.0], device="numpy").device == "numpy"


def test_unknown_device_raises_value_error_listing_known_ones():
    with pytest.raises(ValueError) as info:
        mg.tensor([1.0], device="tpu9000")
    message = str(info.value)
    assert "tpu9000" in message
    for name in ("numpy", "numba", "cupy"):
        assert name in message
    with pytest.raises(ValueError, match="tpu9000"):
        mg.set_default_device("tpu9000")
    assert mg.get_default_device() == "numpy"
    with pytest.raises(ValueError, match="numpy"):
        mg.zeros(2, device="tpu9000")


@pytest.mark.parametrize("name, extra", [("cupy", "cuda"), ("cuda", "cuda"),
                                         ("numba", "numba")])
def test_missing_builtin_backend_says_how_to_install(name, extra):
    canonical = {"cuda": "cupy"}.get(name, name)
    if canonical in mg.devices():
        pytest.skip(f"{canonical} is usable on this machine")
    with pytest.raises(mg.BackendUnavailable) as info:
        mg.tensor([1.0], device=name)
    message = str(info.value)
    assert canonical in message
    assert f'pip install "minigrad[{extra}]"' in message
    assert issubclass(mg.BackendUnavailable, Exception)


def test_unavailable_registered_backend_raises_backend_unavailable(registry):
    mg.register_backend("widget", MissingBackend)
    with pytest.raises(mg.BackendUnavailable, match="widget accelerator is not plugged in"):
        mg.tensor([1.0], device="widget")
    assert "widget" not in mg.devices()
    assert mg.devices()[0] == "numpy"


def test_unavailable_registered_backend_gives_its_install_hint(registry):
    """A backend declares ``install_hint``; the error passes it on to the user."""
    mg.register_backend("widget", MissingBackend)
    with pytest.raises(mg.BackendUnavailable) as info:
        mg.zeros(1, device="widget")
    assert 'pip install "widget-backend"' in str(info.value)


def test_import_minigrad_imports_neither_numba_nor_cupy():
    code = "import minigrad, sys; print('numba' in sys.modules, 'cupy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_import_minigrad_is_silent():
    result = subprocess.run([sys.executable, "-c", "import minigrad"], capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout == "" and result.stderr == ""


# ------------------------------------------------------------------ register_backend

def test_register_backend_end_to_end(registry):
    mg.register_backend("counting", CountingBackend)
    assert "counting" in mg.devices()
    assert mg.devices()[0] == "numpy"
    counter = mg.get_backend("counting")
    assert isinstance(counter, CountingBackend)
    assert mg.get_backend("counting") is counter  # created once

    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    a = mg.tensor(a_np, dtype=mg.float64, device="counting", requires_grad=True)
    b = mg.tensor(b_np, dtype=mg.float64, device="counting", requires_grad=True)
    assert a.device == "counting"
    out = (a @ b).tanh().sum()
    assert out.device == "counting"
    assert counter.matmuls == 1
    out.backward()
    g = 1 - np.tanh(a_np @ b_np) ** 2
    np.testing.assert_allclose(a.grad.numpy(), g @ b_np.T)
    np.testing.assert_allclose(b.grad.numpy(), a_np.T @ g)
    assert a.grad.device == "counting"
    assert mg.gradcheck(lambda x, y: (x @ y).sigmoid(), [a, b])


def test_backward_runs_on_the_backend(registry):
    """Gradients are computed with the backend's own functions (backend.py: every op
    reaches its arrays through the backend's methods), so a backend's kernels serve the
    backward pass too."""
    mg.register_backend("counting", CountingBackend)
    counter = mg.get_backend("counting")
    a = mg.ones(3, 4, dtype=mg.float64, device="counting", requires_grad=True)
    b = mg.ones(4, 2, dtype=mg.float64, device="counting", requires_grad=True)
    out = (a @ b).sum()
    before = counter.matmuls
    out.backward()
    assert counter.matmuls == before + 2  # dA = G B^T and dB = A^T G
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 4), 2.0))


def test_register_backend_with_a_factory_function(registry):
    made = []

    def factory():
        made.append(CountingBackend())
        return made[-1]

    mg.register_backend("made", factory)
    t = mg.ones(2, 2, device="made")
    assert t.device == "made"
    (t @ t).sum()
    assert len(made) == 1 and made[0].matmuls == 1


def test_manual_seed_reaches_registered_backends(registry):
    mg.register_backend("counting", CountingBackend)
    mg.manual_seed(7)
    a = mg.randn(4, device="counting").numpy()
    mg.manual_seed(7)
    b = mg.randn(4, device="counting").numpy()
    np.testing.assert_array_equal(a, b)


def test_to_keeps_the_autograd_link_across_devices(registry):
    mg.register_backend("counting", CountingBackend)
    x = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
    xc = x.to("counting")
    assert xc.device == "counting" and xc.requires_grad and not xc.is_leaf
    w = mg.tensor([0.5, 1.0, 2.0], dtype=mg.float64, device="counting", requires_grad=True)
    y = (xc * xc * w).sum()  # computed on "counting"
    back = y.to("numpy") * 3.0  # and back on numpy
    assert back.device == "numpy"
    back.backward()
    assert x.grad.device == "numpy" and w.grad.device == "counting"
    np.testing.assert_allclose(x.grad.numpy(), 3 * 2 * x.numpy() * w.numpy())
    np.testing.assert_allclose(w.grad.numpy(), 3 * x.numpy() ** 2)
    assert mg.gradcheck(lambda t: (t.to("counting").exp() * 2.0).to("numpy"), [x])


def test_to_copies_values_and_dtype(registry, device):
    mg.register_backend("counting", CountingBackend)
    t = mg.tensor([[1, 2], [3, 4]], device=device)
    moved = t.to("counting")
    assert moved.device == "counting" and moved.dtype == np.int64
    np.testing.assert_array_equal(moved.numpy(), [[1, 2], [3, 4]])
    assert moved.to(device).device == device
    assert moved.cpu().device == "numpy"


def test_to_between_usable_devices(device):
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x.to(device)
    assert y.device == device
    (y * y).sum().to("numpy").backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.grad.device == "numpy"


MIXED = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: b - a,
    "matmul": lambda a, b: a @ b,
    "maximum": lambda a, b: mg.maximum(a, b),
    "where": lambda a, b: mg.where(a > 0, a, b),
    "concatenate": lambda a, b: mg.concatenate([a, b]),
    "stack": lambda a, b: mg.stack([a, b]),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_mixing_devices_raises_naming_both(registry, name):
    mg.register_backend("counting", CountingBackend)
    a = mg.tensor([1.0, 2.0])
    b = mg.tensor([3.0, 4.0], device="counting")
    with pytest.raises(RuntimeError) as info:
        MIXED[name](a, b)
    message = str(info.value)
    assert "numpy" in message and "counting" in message


# ------------------------------------------------------------------ entry points

class _FakeEntryPoint:
    def __init__(self, name, value):
        self.name = name
        self.value = value
        self.group = "minigrad.backends"

    def load(self):
        module, _, attr = self.value.partition(":")
        return getattr(importlib.import_module(module), attr)


def test_entry_point_group_is_consulted(registry, monkeypatch):
    module = types.ModuleType("minigrad_test_plugin")
    module.PluginBackend = PluginBackend
    monkeypatch.setitem(sys.modules, "minigrad_test_plugin", module)
    plugin = _FakeEntryPoint("plugin", "minigrad_test_plugin:PluginBackend")
    groups = []

    real_entry_points = importlib.metadata.entry_points

    def fake_entry_points(*args, **kwargs):
        group = kwargs.get("group")
        groups.append(group)
        if group == "minigrad.backends":
            return [plugin]
        return real_entry_points(*args, **kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(backend_module, "entry_points", fake_entry_points, raising=False)

    assert "plugin" in mg.devices()
    assert "minigrad.backends" in groups
    t = mg.tensor([1.0, 2.0], device="plugin", requires_grad=True)
    assert t.device == "plugin"
    assert isinstance(mg.get_backend("plugin"), PluginBackend)
    (t * t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [2.0, 4.0])
    with pytest.raises(ValueError, match="plugin"):
        mg.tensor([1.0], device="not-a-plugin")


# ------------------------------------------------------------------ backends vs NumPy

def test_backend_matches_numpy_reference(device):
    rng = np.random.default_rng(1)
    a_np = rng.standard_normal((3, 4)).astype(np.float32)
    b_np = rng.standard_normal((4, 5)).astype(np.float32)
    a = mg.tensor(a_np, device=device)
    b = mg.tensor(b_np, device=device)
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose((a @ b).numpy(), a_np @ b_np, **tol)
    np.testing.assert_allclose((a * 2 - 1).exp().numpy(), np.exp(a_np * 2 - 1), **tol)
    np.testing.assert_allclose(a.abs().sqrt().log().numpy(), np.log(np.sqrt(np.abs(a_np))),
                               **tol)
    np.testing.assert_allclose(a.tanh().numpy(), np.tanh(a_np), **tol)
    np.testing.assert_allclose(a.sigmoid().numpy(), 1 / (1 + np.exp(-a_np)), **tol)
    np.testing.assert_allclose(a.relu().numpy(), np.maximum(a_np, 0), **tol)
    np.testing.assert_allclose(a.sum(axis=0).numpy(), a_np.sum(axis=0), **tol)
    np.testing.assert_allclose(a.amax(axis=1).numpy(), a_np.max(axis=1), **tol)
    np.testing.assert_allclose(a.mean().item(), a_np.mean(), **tol)
    np.testing.assert_allclose(a.var(axis=1).numpy(), a_np.var(axis=1, ddof=1), **tol)
    np.testing.assert_array_equal(a.argmax(axis=1).numpy(), a_np.argmax(axis=1))
    np.testing.assert_array_equal((a > 0).numpy(), a_np > 0)
    np.testing.assert_array_equal(a.T.numpy(), a_np.T)
    np.testing.assert_array_equal(a[1:, ::2].numpy(), a_np[1:, ::2])
    np.testing.assert_array_equal(a[np.array([2, 0, 2])].numpy(), a_np[[2, 0, 2]])
    np.testing.assert_array_equal(mg.where(a > 0, a, 0.0).numpy(), np.where(a_np > 0, a_np, 0))
    np.testing.assert_array_equal(mg.concatenate([a, a], axis=1).numpy(),
                                  np.concatenate([a_np, a_np], axis=1))
    for t in (a @ b, a.exp(), a.sum(), a[0]):
        assert t.dtype == np.float32 and t.device == device


def test_backend_gradients_match_numpy_reference(device):
    rng = np.random.default_rng(2)
    w_np = rng.standard_normal((4, 3))
    x_np = rng.standard_normal((5, 4))
    grads = {}
    for name in ("numpy", device):
        w = mg.tensor(w_np, dtype=mg.float64, device=name, requires_grad=True)
        x = mg.tensor(x_np, dtype=mg.float64, device=name)
        loss = ((x @ w).sigmoid() * (x @ w).tanh()).amax(axis=1).mean()
        loss.backward()
        grads[name] = w.grad.numpy()
    np.testing.assert_allclose(grads[device], grads["numpy"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("value, dtype", [
    (2.5, np.float32), (7, np.int64), (True, np.bool_), (-1, np.int8), (300, np.int8),
    (float("nan"), np.int64), (float("inf"), np.int32), (1e40, np.float32),
    (np.float64(0.1), np.float16), (3 + 1j, np.float64), (1.5, None), (4, None)])
def test_numpy_full_is_np_full(value, dtype):
    """The NumPy backend's ``full`` fills in C, and casts as ``np.full`` does where filling
    refuses the value."""
    import warnings

    backend = mg.get_backend("numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's own casting warnings
        try:
            expected = np.full((3,), value, dtype)
        except Exception as err:  # noqa: BLE001  (the same error, whatever NumPy raises)
            with pytest.raises(type(err)):
                backend.full((3,), value, dtype)
            return
        out = backend.full((3,), value, dtype)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
