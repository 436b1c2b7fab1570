"""The tape: accumulation, retained and freed graphs, grad modes, mg.grad, higher-order
gradients, memory release, the version counter, in-place ops and user Functions."""

import gc
import sys
import weakref

import numpy as np
import pytest

import minigrad as mg


def _leaf(data, device, dtype=mg.float64):
    return mg.tensor(np.asarray(data, dtype=dtype), dtype=dtype, device=device,
                     requires_grad=True)


def _weak(obj):
    """A weak reference to ``obj``; skips where the backend's arrays do not support one."""
    try:
        return weakref.ref(obj)
    except TypeError:
        pytest.skip(f"{type(obj).__name__} does not support weak references")


@pytest.fixture
def no_gc():
    """Run a test with the cycle collector off: what dies must die by reference counting."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


# ------------------------------------------------------------------ accumulation, retain

def test_gradients_accumulate_across_backward_calls(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_retain_graph_allows_second_backward(device):
    x = _leaf([1.0, -2.0], device)
    loss = (x.tanh() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    xn = x.numpy()
    np.testing.assert_allclose(first, np.tanh(xn) + xn * (1 - np.tanh(xn) ** 2))


def test_second_backward_without_retain_graph_raises(device):
    x = _leaf([1.0, 2.0], device)
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_backward_on_non_scalar_needs_gradient(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    y = x * 2
    with pytest.raises(RuntimeError, match="gradient"):
        y.backward()
    assert x.grad is None


def test_backward_with_gradient_argument(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    y = x * x
    y.backward(gradient=mg.tensor([1.0, 0.5, -1.0], dtype=mg.float64, device=device),
               retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, -6.0])
    x.grad = None
    y.backward(np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 12.0])


def test_backward_of_one_element_tensor_of_any_shape(device):
    x = _leaf([[2.0]], device)
    (x * 3).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0]])


def test_grad_has_shape_and_device_of_its_tensor(device):
    x = _leaf(np.ones((2, 3)), device)
    b = _leaf(np.ones(3), device)
    ((x + b) ** 2).sum().backward()
    assert x.grad.shape == (2, 3) and b.grad.shape == (3,)
    assert x.grad.device == device and b.grad.device == device
    assert isinstance(x.grad, mg.Tensor)
    assert x.grad.requires_grad is False


def test_grad_can_be_modified_in_place(device):
    """``.grad`` is an ordinary tensor that belongs to its leaf, as in PyTorch
    (``x.grad.zero_()``), even when the backward pass produced the same gradient for two
    leaves."""
    x = _leaf([1.0, 2.0, 3.0], device)
    y = _leaf([4.0, 5.0, 6.0], device)
    (x + y).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0, 1.0])
    y.grad.mul_(2.0)
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 2.0, 2.0])


# ------------------------------------------------------------------ grad modes

def test_no_grad_context_records_nothing(device):
    x = _leaf([1.0, 2.0], device)
    with mg.no_grad():
        y = (x * 2).exp().sum()
        assert mg.is_grad_enabled() is False
    assert mg.is_grad_enabled() is True
    assert y.requires_grad is False
    assert y.grad_fn is None
    z = x * 2
    assert z.requires_grad is True and z.grad_fn is not None


def test_no_grad_decorator_records_nothing(device):
    @mg.no_grad()
    def double(t):
        return t * 2 + 1

    x = _leaf([1.0, 2.0], device)
    y = double(x)
    assert y.requires_grad is False
    assert y.grad_fn is None
    np.testing.assert_allclose(y.numpy(), [3.0, 5.0])
    assert mg.is_grad_enabled() is True


def test_grad_mode_decorators_without_parentheses(device):
    @mg.no_grad
    def double(t):
        """Twice, plus one."""
        return t * 2 + 1

    @mg.enable_grad
    def triple(t):
        return t * 3

    x = _leaf([1.0, 2.0], device)
    assert double(x).requires_grad is False and double.__doc__ == "Twice, plus one."
    with mg.no_grad():
        assert triple(x).requires_grad is True
    assert mg.is_grad_enabled() is True


def test_grad_mode_is_per_thread(device):
    import threading

    x = _leaf([1.0, 2.0], device)
    seen = {}

    def record():
        seen["requires_grad"] = (x * 2).requires_grad

    with mg.no_grad():
        worker = threading.Thread(target=record)
        worker.start()
        worker.join()
        assert (x * 2).requires_grad is False
    assert seen["requires_grad"] is True  # a new thread records, as in PyTorch


def test_grad_mode_restored_after_exception(device):
    with pytest.raises(KeyError):
        with mg.no_grad():
            raise KeyError("boom")
    assert mg.is_grad_enabled() is True


def test_enable_grad_inside_no_grad_records(device):
    x = _leaf([1.0, 2.0], device)
    with mg.no_grad():
        with mg.enable_grad():
            y = (x * x).sum()
        z = x * x
    assert y.requires_grad is True and y.grad_fn is not None
    assert z.requires_grad is False
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])

    @mg.enable_grad()
    def square(t):
        return t * t

    with mg.no_grad():
        w = square(x)
    assert w.requires_grad is True


# ------------------------------------------------------------------ mg.grad

def test_mg_grad_returns_tuple_and_leaves_grad_untouched(device):
    x = _leaf([1.0, 2.0], device)
    y = _leaf([3.0, 4.0], device)
    out = (x * y).sum()
    grads = mg.grad(out, [x, y])
    assert isinstance(grads, tuple) and len(grads) == 2
    np.testing.assert_allclose(grads[0].numpy(), [3.0, 4.0])
    np.testing.assert_allclose(grads[1].numpy(), [1.0, 2.0])
    assert x.grad is None and y.grad is None

    x.grad = mg.tensor([10.0, 10.0], dtype=mg.float64, device=device)
    (g,) = mg.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])


def test_mg_grad_results_are_independent_and_writable(device):
    a = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    b = mg.tensor([3.0, 4.0], device=device, requires_grad=True)
    ga, gb = mg.grad(((a + b) * 2).sum(), [a, b])  # one array reaches both inputs
    ga += 1
    np.testing.assert_array_equal(ga.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(gb.numpy(), [2.0, 2.0])
    (g,) = mg.grad(a.sum(), [a])  # the gradient of sum is a broadcast, read-only view
    g += 1
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])


def test_mg_grad_with_respect_to_intermediate(device):
    x = _leaf([1.0, 2.0], device)
    h = x * 3
    out = (h * h).sum()
    (gh,) = mg.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_mg_grad_grad_outputs_and_several_outputs(device):
    x = _leaf([1.0, 2.0], device)
    y = x * x
    (g,) = mg.grad(y, x, grad_outputs=mg.tensor([1.0, -1.0], dtype=mg.float64,
                                                device=device))
    np.testing.assert_allclose(g.numpy(), [2.0, -4.0])
    a, b = (x * 2).sum(), (x * x * x).sum()
    (g,) = mg.grad([a, b], [x])
    np.testing.assert_allclose(g.numpy(), 2 + 3 * x.numpy() ** 2)


def test_mg_grad_allow_unused(device):
    x = _leaf([1.0, 2.0], device)
    unused = _leaf([5.0], device)
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad(out, [x, unused], retain_graph=True)
    gx, gu = mg.grad(out, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0])
    assert gu is None


# ------------------------------------------------------------------ higher order

SECOND_ORDER = {
    # f, f', f''
    "x**3": (lambda t: t ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x),
    "tanh": (lambda t: t.tanh(), lambda x: 1 - np.tanh(x) ** 2,
             lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    "sigmoid": (lambda t: t.sigmoid(), lambda x: _sig(x) * (1 - _sig(x)),
                lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x))),
    "exp*tanh": (lambda t: t.exp() * t.tanh(),
                 lambda x: np.exp(x) * (np.tanh(x) + 1 - np.tanh(x) ** 2),
                 lambda x: np.exp(x) * (np.tanh(x) + 2 * (1 - np.tanh(x) ** 2)
                                        - 2 * np.tanh(x) * (1 - np.tanh(x) ** 2))),
    "x*log(x)": (lambda t: t * t.log(), lambda x: np.log(x) + 1, lambda x: 1 / x),
    "sqrt": (lambda t: t.sqrt(), lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x ** -1.5),
    "1/x": (lambda t: 1 / t, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    "exp(x**2)": (lambda t: (t * t).exp(), lambda x: 2 * x * np.exp(x ** 2),
                  lambda x: (2 + 4 * x ** 2) * np.exp(x ** 2)),
    "2**x": (lambda t: 2 ** t, lambda x: np.log(2) * 2 ** x, lambda x: np.log(2) ** 2 * 2 ** x),
    "x**x": (lambda t: t ** t, lambda x: x ** x * (np.log(x) + 1),
             lambda x: x ** x * ((np.log(x) + 1) ** 2 + 1 / x)),
}


def _sig(x):
    return 1 / (1 + np.exp(-x))


X2 = np.array([0.3, 0.8, 1.7])


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivative_via_create_graph_backward(device, name):
    f, df, d2f = SECOND_ORDER[name]
    x = _leaf(X2, device)
    f(x).sum().backward(create_graph=True)
    g = x.grad
    np.testing.assert_allclose(g.numpy(), df(X2), rtol=1e-10)
    assert g.requires_grad is True
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d2f(X2), rtol=1e-10)


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivative_via_mg_grad_twice(device, name):
    f, df, d2f = SECOND_ORDER[name]
    x = _leaf(X2, device)
    (g,) = mg.grad(f(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), df(X2), rtol=1e-10)
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), d2f(X2), rtol=1e-10)
    assert x.grad is None


DOUBLE_BACKWARD = {
    "mul": lambda a, b: a * b * a,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": lambda a, b: a.reshape(2, 3) @ b.reshape(3, 2),
    "sum axis": lambda a, b: (a * b).sum(axis=1) ** 2,
    "mean": lambda a, b: a.mean(axis=0, keepdims=True) * b,
    "amax": lambda a, b: a.amax(axis=1) * b.sum(axis=1),
    "var": lambda a, b: a.var(axis=1) * b.mean(),
    "index": lambda a, b: a[np.array([0, 0, 1])] * b[1],
    "slice": lambda a, b: a[:, ::2] * b[:, 1:],
    "transpose": lambda a, b: a.T @ b,
    "where": lambda a, b: mg.where(a > 1.0, a * a, b * b),
    "maximum": lambda a, b: mg.maximum(a * a, b),
    "concatenate": lambda a, b: mg.concatenate([a * a, b], axis=1) * mg.concatenate([b, a],
                                                                                     axis=1),
    "stack": lambda a, b: mg.stack([a * b, a], axis=0) ** 2,
    "broadcast": lambda a, b: a[:, :1] * b,
    "sigmoid tanh": lambda a, b: a.sigmoid() * b.tanh(),
    "sqrt log": lambda a, b: a.sqrt() * b.log(),
    "abs relu clip": lambda a, b: a.abs() * b.relu() * (a * b).clip(0.5, 2.0),
}


@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_gradient_of_gradient_gradchecks(device, name):
    """The recorded backward pass of each op is itself differentiable and correct."""
    fn = DOUBLE_BACKWARD[name]
    rng = np.random.default_rng(3)
    a = _leaf(rng.uniform(0.5, 1.6, (2, 3)), device)
    b = _leaf(rng.uniform(0.5, 1.6, (2, 3)), device)
    v = mg.tensor(rng.standard_normal(fn(a, b).shape), dtype=mg.float64, device=device)

    def first_derivatives(x, y):
        gx, gy = mg.grad(fn(x, y), [x, y], grad_outputs=v, create_graph=True)
        return mg.concatenate([gx.flatten(), gy.flatten()])

    assert mg.gradcheck(first_derivatives, [a, b])


def test_hessian_vector_product_of_quadratic_form(device):
    rng = np.random.default_rng(4)
    m = rng.standard_normal((4, 4))
    a_np = m + m.T
    v_np = rng.standard_normal(4)
    a = mg.tensor(a_np, dtype=mg.float64, device=device)
    v = mg.tensor(v_np, dtype=mg.float64, device=device)
    x = _leaf(rng.standard_normal(4), device)
    f = 0.5 * (x @ (a @ x))
    (g,) = mg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), a_np @ x.numpy())
    (hv,) = mg.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), a_np @ v_np)


def test_gradient_penalty(device):
    """P(w) = ||d/dX sum(tanh(X w))||^2, backpropagated to w, against its closed form.

    With t_i = tanh(x_i . w): dS/dX_ij = (1 - t_i^2) w_j, so P = ||w||^2 sum_i (1 - t_i^2)^2
    and dP/dw = 2 w sum_i (1 - t_i^2)^2 - 4 ||w||^2 sum_i t_i (1 - t_i^2)^2 x_i.
    """
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((5, 3))
    w_np = rng.standard_normal(3) * 0.5
    x = _leaf(x_np, device)
    w = _leaf(w_np, device)
    s = (x @ w).tanh().sum()
    (gx,) = mg.grad(s, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    t = np.tanh(x_np @ w_np)
    u = (1 - t ** 2) ** 2
    expected = 2 * w_np * u.sum() - 4 * (w_np @ w_np) * ((t * u) @ x_np)
    assert penalty.item() == pytest.approx((w_np @ w_np) * u.sum())
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-10)


def test_create_graph_backward_keeps_graph_for_a_second_pass(device):
    x = _leaf([2.0], device)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    (x.grad * 1.0).sum().backward()  # d/dx 3x^2 = 6x accumulates onto 3x^2
    np.testing.assert_allclose(x.grad.numpy(), [12.0 + 12.0])


# ------------------------------------------------------------------ deep graphs

def test_long_chain_does_not_hit_recursion_limit(device):
    n = 100_000
    assert n > sys.getrecursionlimit()
    x = _leaf(1.0, device)
    y = x
    for _ in range(n):
        y = y * 1.00001
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001 ** n, rel=1e-9)


def test_long_unused_chain_is_released(device, no_gc):
    x = _leaf([1.0], device)
    y = x * 1.0
    first = weakref.ref(y)  # the next multiplication saves it
    for _ in range(30_000):
        y = y * 1.0
    assert first() is not None
    del y  # deallocating a deep chain must not overflow the stack
    assert first() is None


# ------------------------------------------------------------------ freeing the graph

def test_saved_arrays_released_after_backward(device, no_gc):
    x = _leaf([0.5, -1.0, 2.0], device)
    h = x.tanh()
    saved = _weak(h._data)  # tanh saves its output for the backward pass
    loss = (h * 2.0).sum()
    del h
    assert saved() is not None  # needed by the backward pass
    loss.backward()
    assert saved() is None  # released, while the loss tensor is still alive
    assert loss.item() == pytest.approx(2 * np.tanh([0.5, -1.0, 2.0]).sum())


def test_saved_arrays_released_after_backward_with_intermediate_alive(device, no_gc):
    """After backward, an op's saved tensors go, even if the op's output is kept."""
    x = _leaf([0.5, -1.0, 2.0], device)
    w = _leaf([1.0, 2.0, 3.0], device)
    h = x.tanh()
    saved = _weak(h._data)
    p = h * w  # p stays alive; the multiplication saved h
    del h
    p.sum().backward()
    assert saved() is None
    np.testing.assert_allclose(p.numpy(), np.tanh([0.5, -1.0, 2.0]) * [1.0, 2.0, 3.0])


def test_forward_without_backward_is_freed_when_output_dropped(device, no_gc):
    x = _leaf([0.5, -1.0, 2.0], device)
    a = x * 2.0
    h = (a * a).tanh()
    intermediate = weakref.ref(a)  # saved by the multiplication
    saved = _weak(h._data)  # saved by tanh
    out = h.sum()
    del a, h
    assert intermediate() is not None and saved() is not None  # the graph needs them
    del out
    assert intermediate() is None
    assert saved() is None


def test_create_graph_leaves_no_reference_cycles(device, no_gc):
    x = _leaf([0.5, 1.5], device)
    t = x.tanh()
    saved = _weak(t._data)
    y = (t * x.exp()).sum()
    del t
    (g,) = mg.grad(y, x, create_graph=True)
    (h,) = mg.grad(g.sum(), x)
    assert saved() is not None
    del y, g
    assert saved() is None
    assert h.requires_grad is False


# ------------------------------------------------------------------ version counter

MUTATIONS = {
    "+=": lambda t: t.__iadd__(1.0),
    "-=": lambda t: t.__isub__(1.0),
    "*=": lambda t: t.__imul__(2.0),
    "/=": lambda t: t.__itruediv__(2.0),
    "setitem": lambda t: t.__setitem__(0, 5.0),
    "setitem slice": lambda t: t.__setitem__(slice(1, None), 0.0),
    "add_": lambda t: t.add_(1.0),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0),
    "copy_": lambda t: t.copy_(mg.tensor([7.0, 8.0, 9.0], dtype=mg.float64, device=t.device)),
    "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(3.0),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_modifying_a_saved_input_in_place_raises_at_backward(device, name):
    x = _leaf([1.0, 2.0, 3.0], device)
    a = mg.tensor([4.0, 5.0, 6.0], dtype=mg.float64, device=device)
    y = x * a  # the multiplication saves a for x's gradient
    MUTATIONS[name](a)
    with pytest.raises(RuntimeError, match="Mul") as info:
        y.sum().backward()
    assert "in-place" in str(info.value)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_modifying_a_saved_output_in_place_raises_at_backward(device, name):
    x = _leaf([0.1, 0.2, 0.3], device)
    h = x.tanh()  # tanh saves its output
    MUTATIONS[name](h)
    with pytest.raises(RuntimeError, match="Tanh") as info:
        h.sum().backward()
    assert "in-place" in str(info.value)


def test_modifying_a_saved_tensor_through_a_view_raises(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    a = mg.tensor([4.0, 5.0, 6.0], dtype=mg.float64, device=device)
    y = x * a
    view = a[1:]
    view.mul_(10.0)
    assert a.numpy()[2] == 60.0
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def _backward_is_right_or_raises(loss, leaf, expected):
    """The contract: a changed saved value raises at backward, or (when the op kept its own
    copy) the gradient is that of the forward pass that ran; never a silently wrong one."""
    try:
        loss.backward()
    except RuntimeError as err:
        assert "in-place" in str(err)
        return
    np.testing.assert_array_equal(leaf.grad.numpy(), expected)


def test_modifying_where_condition_after_use(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    cond = mg.tensor([True, False, False], device=device)
    y = mg.where(cond, x, 0.0)
    cond[...] = True
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.0, 0.0])
    _backward_is_right_or_raises(y.sum(), x, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("kind", ["numpy ints", "tensor ints", "numpy mask", "tensor mask"])
def test_modifying_an_index_after_use(device, kind):
    x = _leaf([1.0, 2.0, 3.0], device)
    if kind == "numpy ints":
        index = np.array([0, 0])
    elif kind == "tensor ints":
        index = mg.tensor([0, 0], device=device)
    elif kind == "numpy mask":
        index = np.array([True, False, False])
    else:
        index = mg.tensor([True, False, False], device=device)
    y = x[index]
    expected = [2.0, 0.0, 0.0] if "ints" in kind else [1.0, 0.0, 0.0]
    index[...] = 2 if "ints" in kind else np.array([False, False, True])
    _backward_is_right_or_raises(y.sum(), x, expected)


def test_modifying_an_unsaved_tensor_is_allowed(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    a = mg.tensor([4.0, 5.0, 6.0], dtype=mg.float64, device=device)
    y = x + a  # addition saves nothing
    a += 1.0
    a.mul_(3.0)
    a[0] = 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(y.numpy(), [5.0, 7.0, 9.0])


def test_modifying_after_backward_is_allowed(device):
    x = _leaf([1.0, 2.0], device)
    a = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device)
    (x * a).sum().backward()
    a.mul_(2.0)
    (x * a).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0 + 6.0, 4.0 + 8.0])


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_in_place_on_leaf_requiring_grad_raises(device, name):
    x = _leaf([1.0, 2.0, 3.0], device)
    with pytest.raises(RuntimeError, match="leaf"):
        MUTATIONS[name](x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])


def test_in_place_on_leaf_inside_no_grad_works_and_bumps_version(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    y = x * x  # saves x
    with mg.no_grad():
        x -= 0.5
        x.mul_(2.0)
        x[0] = 10.0
    np.testing.assert_array_equal(x.numpy(), [10.0, 3.0, 5.0])
    assert x.requires_grad is True and x.is_leaf
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
    # a fresh graph after the update works
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 6.0, 10.0])


def test_sgd_style_update_inside_no_grad(device):
    w = _leaf([1.0, -2.0], device)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with mg.no_grad():
            w -= 0.25 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.numpy(), np.array([1.0, -2.0]) * 0.5 ** 3)


# ------------------------------------------------------------------ differentiable in-place

def test_in_place_add_on_non_leaf(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    y = x * 2
    y += x
    np.testing.assert_array_equal(y.numpy(), [3.0, 6.0, 9.0])
    assert y.requires_grad is True
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_in_place_chain_on_non_leaf(device):
    x = _leaf([1.0, 2.0], device)
    y = x * x
    y.mul_(x)  # x^3
    y.sub_(x)  # x^3 - x
    y /= 2.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (3 * x.numpy() ** 2 - 1) / 2)


def test_setitem_with_value_requiring_grad(device):
    v = _leaf([10.0, 20.0], device)
    w = mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=mg.float64, device=device)
    buf = mg.zeros(5, dtype=mg.float64, device=device)
    buf[np.array([1, 3])] = v
    assert buf.requires_grad is True
    np.testing.assert_array_equal(buf.numpy(), [0.0, 10.0, 0.0, 20.0, 0.0])
    (buf * w).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 4.0])


def test_setitem_on_non_leaf_both_gradients(device):
    x = _leaf([1.0, 2.0, 3.0, 4.0], device)
    v = _leaf([7.0, 8.0], device)
    y = x * 3
    y[1:3] = v * v
    w = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, device=device)
    (y * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 0.0, 12.0])
    np.testing.assert_array_equal(v.grad.numpy(), [2 * 7.0 * 2.0, 2 * 8.0 * 3.0])


def test_setitem_gradcheck(device):
    def fn(x, v):
        y = x * 1.0
        y[0, 1:] = v.exp()
        return y * x

    rng = np.random.default_rng(6)
    assert mg.gradcheck(fn, [_leaf(rng.standard_normal((2, 3)), device),
                             _leaf(rng.standard_normal(2), device)])


# ------------------------------------------------------------------ user Functions

class Cube(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class ScaledProduct(mg.Function):
    """a * b * scale, with a Python-number argument that gets no gradient."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ctx.seen = ctx.needs_input_grad
        need_a, need_b, _ = ctx.needs_input_grad
        return (grad * b * ctx.scale if need_a else None,
                grad * a * ctx.scale if need_b else None,
                None)


class WrongSquare(mg.Function):
    """A deliberately wrong gradient: right everywhere except at element 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        bump = np.zeros(x.shape)
        bump[2] = 1.0
        return grad * 2 * x + mg.tensor(bump, dtype=x.dtype, device=x.device)


def test_user_function_backward(device):
    x = _leaf([1.0, -2.0, 0.5], device)
    y = Cube.apply(x)
    assert y.requires_grad and y.grad_fn is not None
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 3)
    (y * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy() ** 2)


def test_user_function_gradcheck(device):
    rng = np.random.default_rng(7)
    assert mg.gradcheck(lambda t: Cube.apply(t.tanh()), [_leaf(rng.standard_normal(4),
                                                                device)])
    a = _leaf(rng.standard_normal((2, 3)), device)
    b = _leaf(rng.standard_normal((2, 3)), device)
    assert mg.gradcheck(lambda p, q: ScaledProduct.apply(p, q, 1.5), [a, b])


def test_user_function_needs_input_grad(device):
    a = _leaf([1.0, 2.0], device)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device)
    out = ScaledProduct.apply(a, b, 2.0)
    ctx = out.grad_fn
    out.sum().backward()
    assert ctx.seen == (True, False, False)
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 8.0])
    assert b.grad is None


def test_user_function_needs_input_grad_in_forward(device):
    """As in PyTorch, ``ctx.needs_input_grad`` can be read in ``forward`` too."""
    seen = []

    class Probe(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    a = _leaf([1.0], device)
    b = mg.tensor([2.0], dtype=mg.float64, device=device)
    Probe.apply(a, b)
    assert seen == [(True, False)]


def test_user_function_without_grad_records_nothing(device):
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, device=device)
    y = Cube.apply(x)
    assert y.requires_grad is False and y.grad_fn is None
    with mg.no_grad():
        z = Cube.apply(_leaf([1.0], device))
    assert z.requires_grad is False


def test_user_function_second_order(device):
    x = _leaf([1.0, 2.0], device)
    (g,) = mg.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


def test_user_function_saved_tensor_version_check(device):
    x = _leaf([1.0, 2.0], device)
    a = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device)
    out = ScaledProduct.apply(x, a, 1.0)
    a.add_(1.0)
    with pytest.raises(RuntimeError, match="ScaledProduct"):
        out.sum().backward()


class SavedExp(mg.Function):
    """exp(x), its gradient read from the saved output."""

    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


def test_user_function_saved_output_version_check(device):
    """As in PyTorch: the output a Function saved, changed in place, is stale."""
    x = _leaf([0.0, 1.0], device)
    y = SavedExp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))
    y = SavedExp.apply(_leaf([0.0, 1.0], device))
    y.mul_(2)
    with pytest.raises(RuntimeError, match="SavedExp"):
        y.sum().backward()


def test_user_function_output_on_the_device_it_returns(device):
    """A Function without tensor arguments, or returning a tensor of another device, gives
    its output that tensor's device."""

    class Ones(mg.Function):
        @staticmethod
        def forward(ctx, n):
            return mg.ones(n, device=device)

        @staticmethod
        def backward(ctx, grad):
            return None

    out = Ones.apply(3)
    assert out.device == device and out.tolist() == [1.0, 1.0, 1.0]


def test_gradcheck_names_input_and_index_of_wrong_gradient(device):
    good = _leaf([1.0, 2.0], device)
    bad = _leaf([0.5, -1.0, 2.0, 3.0], device)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda a, b: a.sum() * WrongSquare.apply(b), [good, bad])
    message = str(info.value)
    assert "input 1" in message
    assert "(2,)" in message
    assert issubclass(mg.GradcheckError, Exception)


def test_gradcheck_passes_for_correct_and_requires_float64(device):
    x = _leaf([1.0, 2.0], device)
    assert mg.gradcheck(lambda t: Cube.apply(t), [x]) is True
    x32 = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises((ValueError, TypeError), match="float64"):
        mg.gradcheck(lambda t: t * 2, [x32])


# ------------------------------------------------------------------ leaf state

@pytest.mark.parametrize("dtype", [mg.int64, mg.int32, mg.bool_, mg.uint8])
def test_integer_and_bool_tensors_cannot_require_grad(device, dtype):
    with pytest.raises(RuntimeError, match="floating"):
        mg.tensor([1, 0], dtype=dtype, device=device, requires_grad=True)
    t = mg.tensor([1, 0], dtype=dtype, device=device)
    with pytest.raises(RuntimeError):
        t.requires_grad_()
    with pytest.raises(RuntimeError):
        mg.zeros(2, dtype=dtype, device=device, requires_grad=True)
    assert t.requires_grad is False


def test_integer_results_carry_no_gradient(device):
    x = _leaf([1.5, -0.5], device)
    assert x.astype(mg.int64).requires_grad is False
    assert (x > 0).requires_grad is False
    assert x.argmax().requires_grad is False


def test_detach_shares_memory_and_cuts_the_graph(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    y = x * 2
    d = y.detach()
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), y.numpy())
    d[0] = 100.0
    assert y.numpy()[0] == 100.0
    xd = x.detach()
    xd[1] = -1.0
    assert x.numpy()[1] == -1.0
    out = (d * x).sum()
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), d.numpy())


def test_in_place_on_a_tensor_after_detaching_it(device):
    # as in PyTorch: allowed (softmax detaches its input inside), and caught where the
    # detached alias was saved for backward
    x = _leaf([1.0, 2.0, 3.0], device)
    h = x * 2
    p = mg.functional.softmax(h, axis=0)
    h += 1
    ((h * h).sum() + (p * mg.tensor([1.0, 0.0, 2.0], dtype=mg.float64, device=device)).sum()
     ).backward()
    s = np.exp(2 * x.numpy()) / np.exp(2 * x.numpy()).sum()
    v = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 4 * (2 * x.numpy() + 1) + 2 * s * (v - s @ v))
    a = x * 3
    loss = (a.detach() * x).sum()
    a += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_is_leaf_grad_fn_requires_grad_(device):
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, device=device)
    assert x.is_leaf and x.grad_fn is None and x.requires_grad is False
    assert (x * 2).is_leaf  # no grad recorded: still a leaf, as in PyTorch
    assert x.requires_grad_() is x
    assert x.requires_grad is True and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)
    x.requires_grad_(False)
    assert x.requires_grad is False
    assert (x * 2).grad_fn is None
    assert x.grad is None


def test_leaf_without_grad_gets_no_gradient(device):
    x = _leaf([1.0, 2.0], device)
    c = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


# ------------------------------------------------------------------ hooks and retain_grad


def test_hooks_see_and_replace_gradients(device):
    x = _leaf([1.0, 2.0, 3.0], device)
    h = x * 2
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h.register_hook(lambda g: g * 10)  # replaces the gradient flowing back through h
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 80 * x.numpy())  # 2 * (10 * 2h)
    np.testing.assert_array_equal(seen[0], 80 * x.numpy())
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_a_leaf_hook_changes_what_accumulates(device):
    w = _leaf([1.0, 1.0], device)
    w.register_hook(lambda g: g * 0.5)
    (w * 4).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])
    (g,) = mg.grad((w * 4).sum(), [w])  # mg.grad sees the hook's gradient too
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])


def test_retain_grad_keeps_an_intermediate_gradient(device):
    a = _leaf([1.0, 2.0], device)
    b = a * 3
    assert not b.retains_grad
    b.retain_grad()
    assert b.retains_grad
    c = b * b
    c.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(b.grad.numpy(), 2 * b.numpy())
    c.sum().backward()  # accumulates, as a leaf's does
    np.testing.assert_array_equal(b.grad.numpy(), 4 * b.numpy())
    np.testing.assert_array_equal(a.grad.numpy(), 2 * 3 * 2 * b.numpy())  # not disturbed


def test_retain_grad_follows_an_in_place_change(device):
    x = _leaf([1.0, 2.0], device)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    (y * y).sum().backward()
    assert y.retains_grad
    np.testing.assert_array_equal(y.grad.numpy(), 2 * y.numpy())  # of the new value


def test_hooks_need_a_tensor_that_requires_grad(device):
    x = mg.tensor([1.0], device=device)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.retain_grad()


def test_hooks_go_with_their_tensors(device):
    import gc
    import weakref

    def hooked():
        w = _leaf([1.0], device)
        w.register_hook(lambda g: g if w.requires_grad else g)  # a cycle through the hook
        h = w * 2
        h.retain_grad()
        h.register_hook(lambda g: g if h.requires_grad else g)
        return [weakref.ref(w), weakref.ref(h)]

    refs = hooked()
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_a_gradient_a_hook_saw_is_not_changed_later(device):
    # the array a hook saw or returned is not kept as .grad (which backward adds into)
    x = _leaf([1.0, 2.0], device)
    seen = []
    x.register_hook(seen.append)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0].numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    y = _leaf([1.0, 2.0], device)
    fixed = mg.tensor([5.0, 5.0], dtype=mg.float64, device=device)
    y.register_hook(lambda g: fixed)
    (y * 1).sum().backward()
    (y * 1).sum().backward()
    np.testing.assert_array_equal(fixed.numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(y.grad.numpy(), [10.0, 10.0])


def test_a_hook_must_return_a_gradient_like_its_input(device):
    x = _leaf([1.0, 2.0], device)
    x.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="hook returned"):
        (x * 2).sum().backward()
