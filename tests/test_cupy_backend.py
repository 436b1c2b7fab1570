"""The CuPy backend's logic, checked on the CPU by running it over NumPy.

On a machine with a GPU the whole suite also runs on ``cupy`` through the ``device``
fixture; here the backend class is driven with NumPy standing in for CuPy, which has
the same array API, so everything but the CUDA kernels is exercised.
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
