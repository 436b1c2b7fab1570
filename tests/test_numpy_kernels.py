"""The NumPy backend's lean paths: the default optimizer updates (scratch arrays reused,
numbers bit for bit those of the plain allocating formulas) and relu's gradient."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import optimizer_kernels as updates


# the formulas of PyTorch's single-tensor optimizers, operation for operation, each
# intermediate result a new array: what the kernels must reproduce bit for bit
def _decayed(grad, param, weight_decay):
    return grad if weight_decay == 0 else grad + param * weight_decay


def _lerp(start, end, weight):
    if weight < 0.5:
        return start + (end - start) * weight
    return end - (end - start) * (1 - weight)


def reference_sgd(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay,
                  nesterov):
    g = _decayed(grad, param, weight_decay)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = g.copy()
        elif dampening == 0:
            momentum_buffer[...] = momentum_buffer * momentum + g
        else:
            momentum_buffer[...] = momentum_buffer * momentum + g * (1 - dampening)
        g = g + momentum_buffer * momentum if nesterov else momentum_buffer
    else:
        momentum_buffer = None
    param[...] = param + g * -lr
    return momentum_buffer


def reference_rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                      weight_decay, momentum, centered):
    g = _decayed(grad, param, weight_decay)
    square_avg[...] = square_avg * alpha + g * (1 - alpha) * g
    if centered:
        grad_avg[...] = _lerp(grad_avg, g, 1 - alpha)
        avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = np.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer[...] = momentum_buffer * momentum + g / avg
        param[...] = param + momentum_buffer * -lr
    else:
        param[...] = param + g * -lr / avg


def reference_adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1,
                   beta2, eps, weight_decay, decoupled, amsgrad):
    if decoupled:
        if weight_decay != 0:
            param[...] = param * (1 - lr * weight_decay)
        g = grad
    else:
        g = _decayed(grad, param, weight_decay)
    exp_avg_sq[...] = exp_avg_sq * beta2 + g * (1 - beta2) * g
    exp_avg[...] = _lerp(exp_avg, g, 1 - beta1)
    step_size = lr / (1 - beta1**step)
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    second = max_exp_avg_sq if amsgrad else exp_avg_sq
    denom = np.sqrt(second) / bias_correction2_sqrt + eps
    param[...] = param + exp_avg * -step_size / denom


REFERENCES = {"sgd_update": reference_sgd, "rmsprop_update": reference_rmsprop,
              "adam_update": reference_adam}


def _sgd(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    return dict(lr=0.07, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                nesterov=nesterov)


def _rmsprop(weight_decay=0.0, momentum=0.0, centered=False):
    return dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=weight_decay, momentum=momentum,
                centered=centered)


def _adam(weight_decay=0.0, decoupled=False, amsgrad=False, beta1=0.9):
    return dict(lr=0.05, beta1=beta1, beta2=0.999, eps=1e-3, weight_decay=weight_decay,
                decoupled=decoupled, amsgrad=amsgrad)


CONFIGS = [
    ("sgd_update", _sgd()), ("sgd_update", _sgd(weight_decay=0.1)),
    ("sgd_update", _sgd(momentum=0.9)), ("sgd_update", _sgd(momentum=0.9, dampening=0.3)),
    ("sgd_update", _sgd(momentum=0.9, nesterov=True)),
    ("sgd_update", _sgd(momentum=0.9, weight_decay=0.1, nesterov=True)),
    ("sgd_update", _sgd(momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("rmsprop_update", _rmsprop()), ("rmsprop_update", _rmsprop(weight_decay=0.1)),
    ("rmsprop_update", _rmsprop(centered=True)), ("rmsprop_update", _rmsprop(momentum=0.5)),
    ("rmsprop_update", _rmsprop(weight_decay=0.1, momentum=0.5, centered=True)),
    ("adam_update", _adam()), ("adam_update", _adam(weight_decay=0.1)),
    ("adam_update", _adam(amsgrad=True)), ("adam_update", _adam(beta1=0.2)),
    ("adam_update", _adam(weight_decay=0.1, decoupled=True)),
    ("adam_update", _adam(weight_decay=0.1, decoupled=True, amsgrad=True)),
]
IDS = [f"{k.removesuffix('_update')}-" + "-".join(
    f"{n}={v}" for n, v in o.items() if v and n not in ("lr", "alpha", "eps", "beta2"))
    for k, o in CONFIGS]


def _state(kernel, options, rng, shape, dtype):
    """Random state buffers (None where the configuration keeps none), valid for ``kernel``:
    square_avg above grad_avg^2, second moments not negative."""
    def draw(low=None):
        a = rng.standard_normal(shape)
        return (np.abs(a) + (low or 0) if low is not None else a).astype(dtype)

    if kernel == "sgd_update":
        return [None]
    if kernel == "rmsprop_update":
        grad_avg = draw() * 0.1 if options["centered"] else None
        buf = draw() if options["momentum"] > 0 else None
        return [draw(1.0), grad_avg, buf]
    return [draw(), draw(0.0), draw(0.5) if options["amsgrad"] else None]


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


@pytest.mark.parametrize("prepared", [False, True], ids=["call", "prepared"])
@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, options", CONFIGS, ids=IDS)
def test_updates_match_the_allocating_formulas_bit_for_bit(kernel, options, dtype, maximize,
                                                           prepared):
    backend = mg.get_backend("numpy")
    rng = np.random.default_rng(7)
    shape = (37,) if prepared else (5, 7)  # prepared updates run on flat buffers
    param = rng.standard_normal(shape).astype(dtype)
    state = _state(kernel, options, rng, shape, dtype)
    ref_param, ref_state = param.copy(), [None if s is None else s.copy() for s in state]
    update, bound = None, None
    grad = np.empty(shape, dtype)  # one gradient buffer, as a prepared update reads
    for step in range(1, 4):
        grad.flags.writeable = True
        grad[...] = rng.standard_normal(shape)
        if maximize:  # as the optimizers do: the kernels descend along -grad
            np.negative(grad, out=grad)
        grad.flags.writeable = False  # an update never writes the gradient
        extra = {"step": step} if kernel == "adam_update" else {}
        expected = REFERENCES[kernel](ref_param, grad, *ref_state, **options, **extra)
        if prepared:
            if update is None or state[0] is not bound:  # SGD's first buffer: bind it
                update, bound = backend.prepare_update(kernel, param, grad, *state), state[0]
            got = update(**options, **extra)
        else:
            got = getattr(updates, kernel)(backend, param, grad, *state, **options, **extra)
        if kernel == "sgd_update":
            assert (got is None) is (expected is None)
            state, ref_state = [got], [expected]
        _same_bits(param, ref_param)
        for s, r in zip(state, ref_state):
            assert (s is None) is (r is None)
            if s is not None:
                _same_bits(s, r)


@pytest.mark.parametrize("kernel, options", CONFIGS, ids=IDS)
def test_updates_allocate_nothing_after_the_first(kernel, options):
    backend = mg.get_backend("numpy")
    rng = np.random.default_rng(3)
    n = 20_000
    param, grad = rng.standard_normal(n), rng.standard_normal(n)
    state = _state(kernel, options, rng, (n,), np.float64)
    if kernel == "sgd_update" and options["momentum"] != 0:
        state = [np.zeros(n)]  # the first step's buffer is a new array, kept as state
    extra = {"step": 1} if kernel == "adam_update" else {}
    prepared = backend.prepare_update(kernel, param, grad, *state)
    run = [lambda: getattr(updates, kernel)(backend, param, grad, *state, **options, **extra),
           lambda: prepared(**options, **extra)]
    for update in run:
        update()
        tracemalloc.start()
        try:
            update()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < n * 8 // 4  # far below one array of the parameter's size


def test_workspaces_are_kept_per_array_and_freed_with_it():
    backend = mg.get_backend("numpy")
    p = np.zeros((4, 3), np.float32)
    first = updates.workspace(backend, p, 1)
    assert updates.workspace(backend, p, 2) is first and len(first.arrays) == 2
    assert [(a.shape, a.dtype) for a in first.arrays] == [((4, 3), np.float32)] * 2
    assert updates.workspace(backend, p.copy(), 2) is not first
    assert updates.workspace(backend, p.astype(np.float64), 2).arrays[0].dtype == np.float64
    flat = updates.workspace(backend, p.reshape(-1), 2)
    assert flat.arrays[0].shape == (12,) and flat is not first
    gone = weakref.ref(first.arrays[0])
    del p, first
    gc.collect()
    assert gone() is None


def test_workspace_scalars_keep_the_sign_of_zero():
    room = updates.Workspace(mg.get_backend("numpy"), np.zeros(3, np.float32), 1)
    (positive,) = room.scalars(0.0)
    (negative,) = room.scalars(-0.0)
    assert not np.signbit(positive) and np.signbit(negative)
    assert room.scalars(0.25, 0.5) is room.scalars(0.25, 0.5)
    assert room.scalars(0.25)[0].dtype == np.float32 and room.scalars(0.25)[0].shape == ()


# relu's gradient on both sides of the size at which the NumPy backend leaves np.where
RELU_SHAPES = [(5,), (32, 64), (33, 64), (256, 300)]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "broadcast"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", RELU_SHAPES, ids=str)
def test_relu_backward_is_pytorchs_bit_for_bit(device, shape, dtype, layout):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(dtype)
    grad = rng.standard_normal(shape[::-1]).astype(dtype).T.copy()
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    # NaN and infinite outputs and gradients, on both sides of 0, and an output of exactly 0
    flat_x[:5] = [np.nan, np.inf, -np.inf, 0.0, 1.0]
    flat_g[:5] = [-1.0, -2.0, np.nan, np.inf, -np.inf]
    flat_x[-4:] = [-1.0, -2.0, 3.0, -4.0]
    flat_g[-4:] = [np.nan, -np.inf, np.nan, -5.0]
    if layout == "transposed":
        host_grad = np.ascontiguousarray(grad.T).T
    elif layout == "broadcast":
        host_grad = np.broadcast_to(dtype(-2.5), shape)
    else:
        host_grad = grad
    tx = torch.tensor(x, requires_grad=True)
    tx.relu().backward(torch.tensor(np.ascontiguousarray(host_grad)))
    expected = tx.grad.numpy()

    backend = mg.get_backend(device)
    out = backend.relu(backend.asarray(x))
    g = backend.asarray(np.ascontiguousarray(host_grad))
    if layout == "transposed":
        g = backend.transpose(backend.asarray(np.ascontiguousarray(host_grad.T)),
                              tuple(range(len(shape)))[::-1])
    elif layout == "broadcast":
        g = backend.broadcast_to(backend.asarray(np.array(-2.5, dtype)), shape)
    got = backend.to_numpy(backend.relu_backward(out, g))
    _same_bits(np.asarray(got), expected)  # zeros too: +0, never -0


def test_relu_backward_keeps_a_0d_result_an_array():
    backend = mg.get_backend("numpy")
    for value in (-1.0, 2.0):
        got = backend.relu_backward(np.maximum(np.array(value), 0), np.array(3.0))
        assert isinstance(got, np.ndarray) and got.shape == ()
        assert got == (3.0 if value > 0 else 0.0)
