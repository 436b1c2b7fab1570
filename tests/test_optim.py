"""Optimizers: every update rule step by step against its formula, and against PyTorch."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.backends.numpy_backend import NumPyBackend

N_STEPS = 6
SCALES = [1.0, 3.0, 0.1, 2.0, 0.01, 1.0, 5.0, 0.2, 1.0, 0.3]  # shrinking grads exercise amsgrad


# The update rules written out in NumPy, as in PyTorch's documentation.
def ref_sgd(p, grads, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    p, buf, out = p.copy(), None, []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                centered=False, maximize=False):
    p, v, mean, buf, out = p.copy(), np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            mean = alpha * mean + (1 - alpha) * g
            avg = np.sqrt(v - mean * mean) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        out.append(p)
    return out


def ref_adam(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
             decoupled=False, maximize=False):
    beta1, beta2 = betas
    p, m, v, vmax, out = p.copy(), np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (vmax if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_adamw(p, grads, lr, weight_decay=1e-2, **options):
    return ref_adam(p, grads, lr, weight_decay=weight_decay, decoupled=True, **options)


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    p, v, u, out = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
        out.append(p)
    return out


def ref_adagrad(p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                eps=1e-10, maximize=False):
    p, total, out = p.copy(), np.full_like(p, initial_accumulator_value), []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
        out.append(p)
    return out


REFS = {"SGD": ref_sgd, "RMSprop": ref_rmsprop, "Adam": ref_adam, "AdamW": ref_adamw,
        "Adadelta": ref_adadelta, "Adagrad": ref_adagrad}
SGD_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.1, momentum=0.8, dampening=0.5),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.2, weight_decay=0.3),
    dict(lr=0.1, momentum=0.7, dampening=0.2, weight_decay=0.1),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.2),
    dict(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
]
RMSPROP_OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.02, alpha=0.8, eps=1e-3),
    dict(lr=0.01, momentum=0.6),
    dict(lr=0.01, alpha=0.9, centered=True),
    dict(lr=0.01, weight_decay=0.2, eps=1e-4),
    dict(lr=0.03, alpha=0.3, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-3),
    dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, maximize=True),
]
ADAM_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, weight_decay=0.3),
    dict(lr=0.1, betas=(0.3, 0.7), eps=1e-4, weight_decay=0.2, amsgrad=True),
    dict(lr=0.1, weight_decay=0.1, amsgrad=True, maximize=True),
]
ADAMW_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.05, weight_decay=0.5, betas=(0.8, 0.9)),
    dict(lr=0.1, amsgrad=True, weight_decay=0.0),
    dict(lr=0.1, betas=(0.3, 0.7), eps=1e-3, weight_decay=0.3, amsgrad=True),
    dict(lr=0.1, weight_decay=0.2, maximize=True),
]
ADADELTA_OPTIONS = [
    dict(lr=1.0),
    dict(lr=0.5, rho=0.8, eps=1e-4),
    dict(lr=1.0, weight_decay=0.2),
    dict(lr=2.0, rho=0.95, weight_decay=0.1, maximize=True),
]
ADAGRAD_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05, eps=1e-6),
    dict(lr=0.2, weight_decay=0.3, initial_accumulator_value=0.5),
    dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, maximize=True),
]
CASES = (
    [("SGD", ref_sgd, o, SGD_OPTIONS) for o in SGD_OPTIONS]
    + [("Adadelta", ref_adadelta, o, ADADELTA_OPTIONS) for o in ADADELTA_OPTIONS]
    + [("Adagrad", ref_adagrad, o, ADAGRAD_OPTIONS) for o in ADAGRAD_OPTIONS]
    + [("RMSprop", ref_rmsprop, o, RMSPROP_OPTIONS) for o in RMSPROP_OPTIONS]
    + [("Adam", ref_adam, o, ADAM_OPTIONS) for o in ADAM_OPTIONS]
    + [("AdamW", ref_adamw, o, ADAMW_OPTIONS) for o in ADAMW_OPTIONS]
)
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for name, _, o, _ in CASES]
# options that create every state buffer: for the state-dict tests
FULL_STATE = {
    "SGD": [dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1),
            dict(lr=0.05, momentum=0.8, nesterov=True)],
    "RMSprop": [dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
                dict(lr=0.02, alpha=0.9)],
    "Adam": [dict(lr=0.1, amsgrad=True, weight_decay=0.1), dict(lr=0.05, betas=(0.5, 0.9))],
    "AdamW": [dict(lr=0.1, amsgrad=True), dict(lr=0.05, weight_decay=0.3)],
    "Adadelta": [dict(lr=1.0, weight_decay=0.1), dict(lr=0.5, rho=0.8)],
    "Adagrad": [dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
                dict(lr=0.05, weight_decay=0.2)],
}
DEFAULT_OPTIONS = {
    "SGD": dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                maximize=False),
    "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                    maximize=False),
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 maximize=False),
    "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                  maximize=False),
    "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
    "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                    eps=1e-10, maximize=False),
}
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=2e-5, atol=1e-6)}
SHAPES = [(3, 4), (5,)]


def _problem(dtype, n_steps=N_STEPS, seed=0):
    """Initial values and a gradient sequence for two parameters (shapes SHAPES)."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * SCALES[t % len(SCALES)]).astype(dtype) for s in SHAPES]
             for t in range(n_steps)]
    return init, grads


def _params(init, device):
    return [mg.tensor(x, device=device, requires_grad=True) for x in init]


def _set_grads(params, grads, by_backward):
    """Give each parameter its gradient, through a real backward pass or by assignment."""
    if by_backward:
        loss = sum((p * mg.tensor(g, device=p.device)).sum() for p, g in zip(params, grads))
        loss.backward()
    else:
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g, dtype=p.dtype, device=p.device)


def _two_groups(name, params, options, other):
    """An optimizer with ``options`` as defaults for group 0 and ``other`` set on group 1
    (its missing options are the class defaults, not group 0's)."""
    other = {**DEFAULT_OPTIONS[name], **other}
    return getattr(optim, name)([{"params": [params[0]]}, {"params": [params[1]], **other}],
                                **options)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ref, options, family", CASES, ids=CASE_IDS)
def test_update_matches_formula(device, name, ref, options, family, dtype):
    other = {**DEFAULT_OPTIONS[name], **family[(family.index(options) + 1) % len(family)]}
    other["lr"] = other["lr"] * 0.5
    init, grads = _problem(dtype)
    expected_other = dict(other)
    if name == "Adagrad":  # as PyTorch's: every group starts from the constructor's value
        expected_other["initial_accumulator_value"] = options.get("initial_accumulator_value", 0)
    params = _params(init, device)
    opt = _two_groups(name, params, options, other)
    expected = [ref(init[0], [g[0] for g in grads], **options),
                ref(init[1], [g[1] for g in grads], **expected_other)]
    for t in range(N_STEPS):
        opt.zero_grad()
        _set_grads(params, grads[t], by_backward=t % 2 == 0)
        opt.step()
        for i, p in enumerate(params):
            assert p.dtype == dtype
            np.testing.assert_allclose(p.numpy(), expected[i][t], **TOL[dtype],
                                       err_msg=f"parameter {i} after step {t + 1}")


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_zero_dimensional_parameter(device, name):
    options = FULL_STATE[name][0]
    grads = [np.array([g]) for g in (0.7, -0.3, 1.2)]
    p = mg.tensor(1.5, dtype=mg.float64, device=device, requires_grad=True)
    opt = getattr(optim, name)([p], **options)
    expected = REFS[name](np.array([1.5]), grads, **options)
    for t, g in enumerate(grads):
        p.grad = mg.tensor(g[0], dtype=mg.float64, device=device)
        opt.step()
        assert p.shape == ()
        np.testing.assert_allclose(p.numpy(), expected[t][0], **TOL[np.float64])
    assert all(np.shape(v) == () for v in opt.state[p].values())


def _torch_optimizer(torch, name, tparams, options, other):
    return getattr(torch.optim, name)(
        [{"params": [tparams[0]]}, {"params": [tparams[1]], **other}], foreach=False, **options
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ref, options, family", CASES, ids=CASE_IDS)
def test_matches_pytorch(device, name, ref, options, family, dtype):
    torch = pytest.importorskip("torch")
    other = {**DEFAULT_OPTIONS[name], **family[(family.index(options) + 2) % len(family)]}
    init, grads = _problem(dtype, n_steps=10, seed=1)
    params = _params(init, device)
    tparams = [torch.tensor(x, requires_grad=True) for x in init]
    opt = _two_groups(name, params, options, other)
    topt = _torch_optimizer(torch, name, tparams, options, other)
    for step_grads in grads:
        _set_grads(params, step_grads, by_backward=False)
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for p, tp in zip(params, tparams):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), **tol)
    tstate = topt.state_dict()["state"]
    state = opt.state_dict()["state"]
    assert sorted(state) == sorted(tstate)
    for i in tstate:
        assert sorted(state[i]) == sorted(tstate[i])
        for key, tvalue in tstate[i].items():
            if key == "step":
                assert state[i][key] == tvalue.item()
            else:
                assert state[i][key].dtype == dtype
                np.testing.assert_allclose(state[i][key], tvalue.numpy(), **tol, err_msg=key)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_defaults_follow_the_spec(name):
    opt = getattr(optim, name)([mg.zeros(2, requires_grad=True)])
    assert opt.defaults == DEFAULT_OPTIONS[name]
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == opt.defaults


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_params_without_grad_are_skipped(device, name):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = getattr(optim, name)(params, **FULL_STATE[name][0])
    for t in range(3):
        params[0].grad = mg.tensor(grads[t][0], device=device)
        params[1].grad = None
        opt.step()
    np.testing.assert_array_equal(params[1].numpy(), init[1])
    assert not np.array_equal(params[0].numpy(), init[0])
    assert len(opt.state) == 1 and next(iter(opt.state)) is params[0]
    assert opt.state.get(params[1]) is None
    assert list(opt.state_dict()["state"]) == [0]
    assert opt.state[params[1]] == {}  # a defaultdict, as in PyTorch
    params[1].grad = mg.tensor(grads[0][1], device=device)
    opt.step()  # an empty state entry is initialised on the parameter's first step
    assert not np.array_equal(params[1].numpy(), init[1])


def test_sgd_without_momentum_keeps_no_state(device):
    p = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    p.grad = mg.tensor([1.0, -1.0], device=device)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), np.array([0.5, 2.5], np.float32))
    assert opt.state_dict()["state"] == {}


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_gradients_are_never_written(device, name):
    """Gradients may be shared or read-only broadcast views: an update only reads them."""
    init, grads = _problem(np.float64)
    p = mg.tensor(init[0], device=device, requires_grad=True)
    q = mg.tensor(init[0] + 1, device=device, requires_grad=True)
    opt = getattr(optim, name)([p, q], **FULL_STATE[name][0])
    shared = mg.tensor(grads[0][0], device=device)
    p.grad = q.grad = shared
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared.numpy(), grads[0][0])
    # the gradient of a sum is a read-only broadcast array on the NumPy backend
    r = mg.tensor(init[1], device=device, requires_grad=True)
    opt = getattr(optim, name)([r], **FULL_STATE[name][0])
    for _ in range(3):
        r.grad = None
        r.sum().backward()
        opt.step()
    np.testing.assert_array_equal(r.grad.numpy(), np.ones_like(init[1]))


def test_zero_grad_sets_to_none(device):
    params = _params(_problem(np.float32)[0], device)
    opt = optim.SGD(params, lr=0.1)
    (params[0].sum() + params[1].sum()).backward()
    opt.zero_grad()
    assert params[0].grad is None and params[1].grad is None


def test_zero_grad_leaves_a_gradient_with_history_alone(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * x).sum().backward(create_graph=True)  # x.grad = 2x, recorded
    first = x.grad
    optim.SGD([x], lr=0.1).zero_grad(set_to_none=False)
    assert x.grad is not first and not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(first.numpy(), [2.0, 4.0])


def test_zero_grad_to_zeros_zeroes_in_place(device):
    init, grads = _problem(np.float32)
    params = _params(init, device)
    untouched = mg.tensor([5.0], device=device, requires_grad=True)
    opt = optim.SGD([*params, untouched], lr=0.1)
    shared = mg.tensor(grads[0][0], device=device)
    params[0].grad = shared
    params[1].grad = mg.tensor(grads[0][1], device=device)
    opt.zero_grad(set_to_none=False)
    for p in params:
        assert p.grad is not None
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and p.grad.device == device
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape, np.float32))
    assert params[0].grad is shared  # the same tensor, zeroed in place (as PyTorch)
    np.testing.assert_array_equal(shared.numpy(), np.zeros(SHAPES[0], np.float32))
    assert untouched.grad is None
    params[0].grad = mg.tensor(grads[1][0], device=device)  # accumulation starts from zero
    (params[1] * 2).sum().backward()
    np.testing.assert_array_equal(params[1].grad.numpy(), np.full(SHAPES[1], 2, np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(FULL_STATE))
def test_state_dict_round_trip_continues_bit_for_bit(device, name, dtype):
    init, grads = _problem(dtype, n_steps=10, seed=2)
    options, other = FULL_STATE[name]
    params = _params(init, device)
    opt = _two_groups(name, params, options, other)
    for t in range(5):
        _set_grads(params, grads[t], by_backward=False)
        opt.step()
    saved = opt.state_dict()
    copies = [mg.tensor(p.numpy().copy(), device=device, requires_grad=True) for p in params]
    fresh = _two_groups(name, copies, DEFAULT_OPTIONS[name], {})
    fresh.load_state_dict(saved)
    for group, fresh_group in zip(opt.param_groups, fresh.param_groups):
        assert {k: v for k, v in group.items() if k != "params"} == {
            k: v for k, v in fresh_group.items() if k != "params"}
    for t in range(5, 10):
        _set_grads(params, grads[t], by_backward=False)
        _set_grads(copies, grads[t], by_backward=False)
        opt.step()
        fresh.step()
        for p, c in zip(params, copies):
            assert c.dtype == dtype
            np.testing.assert_array_equal(c.numpy(), p.numpy())
    after, fresh_after = opt.state_dict(), fresh.state_dict()
    for i, values in after["state"].items():
        for key, value in values.items():
            np.testing.assert_array_equal(fresh_after["state"][i][key], value)


def test_state_dict_layout_and_copies(device):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    extra = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    opt = optim.Adam([{"params": params}, {"params": [extra], "lr": 0.5}], amsgrad=True)
    _set_grads(params, grads[0], by_backward=False)
    opt.step()
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["lr"] == 1e-3
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1]  # extra has no gradient: no state
    for i in (0, 1):
        state = sd["state"][i]
        assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
        assert state["step"] == 2 and isinstance(state["step"], int)
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert isinstance(state[key], np.ndarray) and state[key].shape == SHAPES[i]
    kept = opt.state_dict()["state"][0]["exp_avg"].copy()
    sd["state"][0]["exp_avg"][...] = 123.0  # a copy: the optimizer's state is untouched
    sd["param_groups"][0]["lr"] = 7.0
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["exp_avg"], kept)
    assert opt.param_groups[0]["lr"] == 1e-3


def test_load_state_dict_casts_to_each_parameter(device):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = optim.RMSprop(params, momentum=0.9, centered=True)
    _set_grads(params, grads[0], by_backward=False)
    opt.step()
    sd = opt.state_dict()
    single = [mg.tensor(x, dtype=mg.float32, device=device, requires_grad=True) for x in init]
    loaded = optim.RMSprop(single)
    loaded.load_state_dict(sd)
    assert loaded.param_groups[0]["momentum"] == 0.9 and loaded.param_groups[0]["centered"]
    assert loaded.param_groups[0]["params"][0] is single[0]
    for p in single:
        state = loaded.state[p]
        assert state["step"] == 1
        for key in ("square_avg", "grad_avg", "momentum_buffer"):
            assert state[key].dtype == np.float32 and state[key].shape == p.shape
            assert type(state[key]) is type(p._data)
    host = mg.get_backend(device).to_numpy
    np.testing.assert_allclose(host(loaded.state[single[0]]["square_avg"]),
                               host(sd["state"][0]["square_avg"]), rtol=1e-6)
    # the loaded buffers are the optimizer's own, not the dict's arrays
    sd["state"][0]["square_avg"][...] = -1.0
    assert (loaded.state[single[0]]["square_avg"] >= 0).all()
    _set_grads(single, grads[1], by_backward=False)
    loaded.step()
    assert all(p.dtype == np.float32 for p in single)


def test_load_state_dict_rejects_a_different_layout():
    a, b = mg.zeros(2, requires_grad=True), mg.zeros(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_add_param_group(device):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = optim.SGD([params[0]], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": params[1], "lr": 0.01})
    assert len(opt.param_groups) == 2
    group = opt.param_groups[1]
    assert group["params"][0] is params[1] and len(group["params"]) == 1
    assert group["lr"] == 0.01 and group["momentum"] == 0.9 and group["nesterov"] is False
    for t in range(3):
        _set_grads(params, grads[t], by_backward=False)
        opt.step()
    expected = ref_sgd(init[1], [g[1] for g in grads[:3]], lr=0.01, momentum=0.9)
    np.testing.assert_allclose(params[1].numpy(), expected[-1], rtol=1e-12)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [params[0]]})
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [mg.zeros(1, requires_grad=True)], "lr": -1.0})
    assert len(opt.param_groups) == 2


def test_bad_parameter_lists():
    p = mg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [p]}, {"params": [p], "lr": 0.1}])
    with pytest.raises(ValueError, match="twice"):
        optim.Adam([p, p])
    with pytest.raises(TypeError):
        optim.SGD(p)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({p})
    with pytest.raises(TypeError, match="Tensor"):
        optim.SGD([p, np.zeros(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2])


@pytest.mark.parametrize("cls, kwargs, name, value", [
    (optim.SGD, dict(lr=-0.1), "lr", "-0.1"),
    (optim.SGD, dict(momentum=-0.5), "momentum", "-0.5"),
    (optim.SGD, dict(weight_decay=-1e-4), "weight_decay", "-0.0001"),
    (optim.SGD, dict(nesterov=True), "nesterov", "momentum=0"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov", "dampening=0.1"),
    (optim.RMSprop, dict(lr=-1.0), "lr", "-1.0"),
    (optim.RMSprop, dict(alpha=-0.1), "alpha", "-0.1"),
    (optim.RMSprop, dict(eps=-1e-8), "eps", "-1e-08"),
    (optim.RMSprop, dict(momentum=-0.9), "momentum", "-0.9"),
    (optim.RMSprop, dict(weight_decay=-0.5), "weight_decay", "-0.5"),
    (optim.Adam, dict(lr=-1e-3), "lr", "-0.001"),
    (optim.Adam, dict(eps=-1.0), "eps", "-1.0"),
    (optim.Adam, dict(weight_decay=-0.1), "weight_decay", "-0.1"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "beta", "1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "beta", "-0.1"),
    (optim.Adam, dict(lr=float("nan")), "lr", "nan"),
    (optim.AdamW, dict(betas=(-0.5, 0.9)), "beta", "-0.5"),
    (optim.AdamW, dict(weight_decay=-1e-2), "weight_decay", "-0.01"),
])
def test_invalid_hyperparameters_raise(cls, kwargs, name, value):
    with pytest.raises(ValueError, match=name) as info:
        cls([mg.zeros(2, requires_grad=True)], **kwargs)
    assert value in str(info.value)


def test_invalid_group_option_raises():
    p, q = mg.zeros(2, requires_grad=True), mg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([{"params": [p]}, {"params": [q], "momentum": -1.0}], lr=0.1)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_step_with_closure(device, name):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = getattr(optim, name)(params, **FULL_STATE[name][0])
    targets = [mg.tensor(g, device=device) for g in grads[0]]
    calls = []

    def closure():
        opt.zero_grad()
        loss = sum((p * t).sum() for p, t in zip(params, targets))
        loss.backward()
        calls.append(loss.item())
        return loss

    with mg.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert len(calls) == 1 and loss.item() == calls[0]
    ref = REFS[name]
    for p, x, g in zip(params, init, grads[0]):
        np.testing.assert_allclose(p.numpy(), ref(x, [g], **FULL_STATE[name][0])[0],
                                   rtol=1e-12)
    assert opt.step() is None


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_float32_stays_float32(device, name):
    init, grads = _problem(np.float32)
    params = _params(init, device)
    opt = getattr(optim, name)(params, **FULL_STATE[name][0])
    for t in range(3):
        params[0].grad = mg.tensor(grads[t][0], device=device)
        params[1].grad = mg.tensor(grads[t][1], dtype=np.float32, device=device)
        opt.step()
    for p in params:
        assert p.dtype == np.float32 and p.numpy().dtype == np.float32
        for value in opt.state[p].values():
            if hasattr(value, "dtype"):
                assert value.dtype == np.float32
            else:
                assert isinstance(value, int)
    expected = REFS[name](init[1], [g[1] for g in grads[:3]], **FULL_STATE[name][0])
    np.testing.assert_allclose(params[1].numpy(), expected[-1], rtol=2e-5, atol=1e-6)
    # a float64 gradient is used as its float32 rounding: the same bits as a float32 one
    single = mg.tensor(init[1], device=device, requires_grad=True)
    opt = getattr(optim, name)([single], **FULL_STATE[name][0])
    for t in range(3):
        single.grad = mg.tensor(grads[t][1], device=device)
        opt.step()
    np.testing.assert_array_equal(single.numpy(), params[1].numpy())


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_step_is_in_place_unrecorded_and_bumps_the_version(device, name):
    p = mg.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    data = p._data
    opt = getattr(optim, name)([p], **FULL_STATE[name][0])
    y = p * p  # saves p for its backward
    p.grad = mg.tensor([0.5, 0.5, -0.5], device=device)
    opt.step()
    assert p._data is data  # updated in place: views of p see the update
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    with pytest.raises(RuntimeError):
        y.sum().backward()


@pytest.mark.parametrize("name, kernel", [
    ("SGD", "sgd_update"), ("RMSprop", "rmsprop_update"), ("Adam", "adam_update"),
    ("AdamW", "adam_update"),
])
def test_backend_kernel_is_used_when_offered(device, monkeypatch, name, kernel):
    from minigrad import optimizer_kernels as updates

    backend = mg.get_backend(device)
    calls = []

    def fused(*args, **kwargs):
        calls.append(kwargs)
        return getattr(updates, kernel)(backend, *args, **kwargs)

    monkeypatch.setattr(backend, kernel, fused, raising=False)
    p = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    opt = getattr(optim, name)([p], **FULL_STATE[name][0])
    p.grad = mg.tensor([0.1, -0.2], device=device)
    opt.step()
    opt.step()
    assert len(calls) == 2
    if kernel == "adam_update":
        assert [c["step"] for c in calls] == [1, 2]
        assert calls[0]["decoupled"] is (name == "AdamW")


def test_mismatched_gradient_raises():
    p = mg.zeros(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(RuntimeError, match="does not match"):
        p.grad = mg.zeros(4)
    with pytest.raises(RuntimeError, match="float64"):
        p.grad = mg.zeros(3, dtype=mg.float64)
    assert p.grad is None
    opt.step()  # nothing to do
    np.testing.assert_array_equal(p.numpy(), np.zeros(3, np.float32))


# Checked state, atomic steps, maximize and PyTorch's implementation keywords
KERNEL_STATES = {  # the state buffers each fused update takes, after param and grad
    "sgd_update": ("momentum_buffer",),
    "rmsprop_update": ("square_avg", "grad_avg", "momentum_buffer"),
    "adam_update": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}
KERNEL_OPTIONS = {
    "sgd_update": dict(lr=0.1, momentum=0.9, dampening=0, weight_decay=0.1, nesterov=False),
    "rmsprop_update": dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.5,
                           centered=True),
    "adam_update": dict(step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                        decoupled=False, amsgrad=True),
}


def _stepped(name, device, dtype=np.float64, steps=2):
    """An optimizer of ``name`` (every state buffer) over two parameters, after ``steps``."""
    init, grads = _problem(dtype)
    params = _params(init, device)
    opt = getattr(optim, name)(params, **FULL_STATE[name][0])
    for t in range(steps):
        _set_grads(params, grads[t], by_backward=False)
        opt.step()
    return opt, params


def _snapshot(opt, params):
    return [p.numpy().copy() for p in params], opt.state_dict()


def _assert_unchanged(opt, params, snapshot):
    values, sd = snapshot
    for p, v in zip(params, values):
        np.testing.assert_array_equal(p.numpy(), v)
    now = opt.state_dict()
    assert sorted(now["state"]) == sorted(sd["state"])
    for i, state in sd["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(now["state"][i][key], value, err_msg=key)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_load_state_dict_refuses_state_of_another_shape(device, name):
    opt, params = _stepped(name, device)
    sd = opt.state_dict()
    swapped = getattr(optim, name)(params[::-1], **FULL_STATE[name][0])
    before = _snapshot(swapped, params)
    with pytest.raises(ValueError) as info:
        swapped.load_state_dict(sd)
    message = str(info.value)
    assert "parameter 0 of parameter group 0" in message
    assert str(SHAPES[0]) in message and str(SHAPES[1]) in message
    assert len(swapped.state) == 0 and swapped.param_groups[0]["params"][0] is params[1]
    _assert_unchanged(swapped, params, before)
    _set_grads(params, _problem(np.float64)[1][0], by_backward=False)
    swapped.step()  # still usable, from fresh state


@pytest.mark.parametrize("layout, change", [
    ("groups", lambda sd: {**sd, "param_groups": sd["param_groups"] * 2}),
    ("sizes", lambda sd: {**sd, "param_groups": [
        {**sd["param_groups"][0], "params": sd["param_groups"][0]["params"][:1]}]}),
])
def test_load_state_dict_refuses_another_layout_as_pytorch(layout, change):
    torch = pytest.importorskip("torch")
    init, _ = _problem(np.float64)
    opt = optim.Adam(_params(init, "numpy"))
    topt = torch.optim.Adam([torch.tensor(x, requires_grad=True) for x in init])
    with pytest.raises(ValueError) as expected:
        topt.load_state_dict(change(topt.state_dict()))
    with pytest.raises(ValueError) as info:
        opt.load_state_dict(change(opt.state_dict()))
    assert str(info.value).startswith(str(expected.value))


def test_load_state_dict_casts_as_pytorch(device):
    """Floating state takes the parameter's dtype, other arrays and the step keep theirs."""
    torch = pytest.importorskip("torch")
    p = mg.zeros(3, dtype=mg.float32, device=device, requires_grad=True)
    tp = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    values = {"step": np.array(4.0), "exp_avg": np.arange(3.0), "exp_avg_sq": np.ones(3),
              "counts": np.arange(3, dtype=np.int32)}
    opt, topt = optim.Adam([p]), torch.optim.Adam([tp])
    opt.load_state_dict({"state": {0: values}, "param_groups": opt.state_dict()["param_groups"]})
    topt.load_state_dict({"state": {0: {k: torch.tensor(v) for k, v in values.items()}},
                          "param_groups": topt.state_dict()["param_groups"]})
    state, tstate = opt.state[p], topt.state[tp]
    assert state["step"] == tstate["step"].item()
    for key in ("exp_avg", "exp_avg_sq"):
        assert state[key].dtype == np.float32 == tstate[key].numpy().dtype
        assert type(state[key]) is type(p._data)
    assert state["counts"].dtype == np.int32


@pytest.mark.parametrize("name", list(FULL_STATE))
@pytest.mark.parametrize("tamper", ["smaller", "larger", "dtype", "missing", "step"])
def test_state_changed_after_loading_is_refused_before_any_update(device, name, tamper):
    """A state that no longer fits its parameter raises before anything is written."""
    opt, params = _stepped(name, device)
    fresh = getattr(optim, name)(params, **FULL_STATE[name][0])
    fresh.load_state_dict(opt.state_dict())
    state = fresh.state[params[1]]  # the second parameter: the first one must stay untouched
    key = next(k for k, v in state.items() if hasattr(v, "shape"))
    backend = mg.get_backend(device)
    if tamper == "smaller":
        state[key] = backend.zeros((1,), params[1].dtype)
    elif tamper == "larger":
        state[key] = backend.zeros((1000,), params[1].dtype)
    elif tamper == "dtype":
        state[key] = backend.astype(state[key], np.float32)
    elif tamper == "missing":
        if name == "SGD":
            pytest.skip("SGD's momentum buffer is created on the first step")
        del state[key]
    else:
        if name == "SGD":
            pytest.skip("SGD keeps no step")
        state["step"] = None
    _set_grads(params, _problem(np.float64)[1][2], by_backward=False)
    before = _snapshot(fresh, params)
    with pytest.raises(RuntimeError, match="parameter 1 of parameter group 0"):
        fresh.step()
    for p, v in zip(params, before[0]):
        np.testing.assert_array_equal(p.numpy(), v)
    first = fresh.state[params[0]]
    for k, v in before[1]["state"][0].items():
        np.testing.assert_array_equal(backend.to_numpy(first[k]) if k != "step" else first[k], v)


@pytest.mark.parametrize("kernel", list(KERNEL_STATES))
@pytest.mark.parametrize("wrong", ["grad", "state", "dtype"])
def test_fused_updates_refuse_arrays_of_another_shape(device, kernel, wrong):
    """The device's own kernel (or the default) checks every array before it writes."""
    from minigrad import optimizer_kernels as updates

    backend = mg.get_backend(device)
    fused = getattr(backend, kernel, None)
    if fused is None:
        def fused(*args, **kwargs):
            return getattr(updates, kernel)(backend, *args, **kwargs)
    rng = np.random.default_rng(0)
    host = [rng.standard_normal(5) for _ in range(2 + len(KERNEL_STATES[kernel]))]
    arrays = [backend.asarray(np.abs(a) if i > 1 else a, np.float64) for i, a in enumerate(host)]
    bad = {"grad": 1, "state": 2, "dtype": len(arrays) - 1}[wrong]
    arrays[bad] = backend.zeros((3,) if wrong != "dtype" else (5,),
                                np.float32 if wrong == "dtype" else np.float64)
    kept = [backend.to_numpy(a).copy() for a in arrays]
    with pytest.raises(ValueError, match="shape"):
        fused(*arrays, **KERNEL_OPTIONS[kernel])
    for a, k in zip(arrays, kept):
        np.testing.assert_array_equal(backend.to_numpy(a), k)


@pytest.mark.parametrize("kernel", list(KERNEL_STATES))
def test_fused_updates_on_strided_state_match_contiguous(device, kernel):
    """State that is not contiguous is updated correctly, not through flat views."""
    from minigrad import optimizer_kernels as updates

    backend = mg.get_backend(device)
    fused = getattr(backend, kernel, None) or (
        lambda *a, **k: getattr(updates, kernel)(backend, *a, **k))
    rng = np.random.default_rng(1)
    host = [np.abs(rng.standard_normal((4, 3))) for _ in range(2 + len(KERNEL_STATES[kernel]))]
    if kernel == "rmsprop_update":  # square_avg above grad_avg ** 2: a real square root
        host[2] += 1
        host[3] *= 0.1
    plain = [backend.asarray(a, np.float64) for a in host]
    strided = [backend.asarray(a, np.float64) for a in host]
    strided[2:] = [backend.transpose(backend.asarray(a.T.copy(), np.float64), (1, 0))
                   for a in host[2:]]
    fused(*plain, **KERNEL_OPTIONS[kernel])
    fused(*strided, **KERNEL_OPTIONS[kernel])
    for a, b in zip(plain, strided):
        np.testing.assert_allclose(backend.to_numpy(b), backend.to_numpy(a), rtol=1e-12)


BAD_OPTIONS = {
    "SGD": [("lr", None), ("lr", -0.1), ("momentum", -0.5), ("weight_decay", float("nan")),
            ("dampening", None), ("lr", "0.1")],
    "RMSprop": [("lr", None), ("alpha", -0.1), ("eps", -1.0), ("momentum", None)],
    "Adam": [("lr", None), ("betas", (1.0, 0.999)), ("betas", (0.9, None)), ("betas", 0.9),
             ("eps", -1e-8), ("weight_decay", -0.1)],
    "AdamW": [("lr", -1e-3), ("betas", (0.9, 1.5)), ("weight_decay", None)],
}


@pytest.mark.parametrize("name, key, value",
                         [(n, k, v) for n, bad in BAD_OPTIONS.items() for k, v in bad])
def test_a_step_with_a_bad_option_in_a_later_group_changes_nothing(device, name, key, value):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = _two_groups(name, params, FULL_STATE[name][0], FULL_STATE[name][1])
    _set_grads(params, grads[0], by_backward=False)
    opt.step()
    _set_grads(params, grads[1], by_backward=False)
    before = _snapshot(opt, params)
    opt.param_groups[1][key] = value  # as a scheduler with a bug would
    with pytest.raises(ValueError, match=f"parameter group 1: invalid {key[:4]}"):
        opt.step()
    _assert_unchanged(opt, params, before)


def test_a_step_with_a_gradient_that_no_longer_fits_changes_nothing(device):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = _two_groups("Adam", params, FULL_STATE["Adam"][0], FULL_STATE["Adam"][1])
    _set_grads(params, grads[0], by_backward=False)
    opt.step()
    before = _snapshot(opt, params)
    params[1].grad = mg.zeros(params[1].shape, dtype=mg.float64, device=device)
    params[1].grad.data = mg.get_backend(device).zeros((7,), np.float64)
    with pytest.raises(RuntimeError, match="gradient of parameter 0 of parameter group 1"):
        opt.step()
    _assert_unchanged(opt, params, before)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_implementation_keywords_are_accepted_as_pytorch(device, name):
    torch = pytest.importorskip("torch")
    keywords = {"SGD": dict(foreach=False, fused=None),
                "RMSprop": dict(foreach=None, capturable=False),
                "Adam": dict(foreach=True, fused=None, capturable=False),
                "AdamW": dict(foreach=False, fused=None, capturable=False),
                "Adadelta": dict(foreach=None, capturable=False),
                "Adagrad": dict(foreach=False, fused=None)}[name]
    getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], differentiable=False,
                               **keywords)
    init, grads = _problem(np.float64)
    plain, chosen = _params(init, device), _params(init, device)
    opts = [getattr(optim, name)(plain, **FULL_STATE[name][0]),
            getattr(optim, name)(chosen, **FULL_STATE[name][0], differentiable=False,
                                 **keywords)]
    for t in range(3):
        for opt, params in zip(opts, (plain, chosen)):
            _set_grads(params, grads[t], by_backward=False)
            opt.step()
    for a, b in zip(plain, chosen):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(optim, name)(plain, differentiable=True)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_pytorch_state_dict_loads_and_continues_as_pytorch(device, name):
    """PyTorch's own state dict (tensors, a float step, its extra group keys) loads as it is."""
    torch = pytest.importorskip("torch")
    init, grads = _problem(np.float64)
    options = FULL_STATE[name][0]
    tparams = [torch.tensor(x, requires_grad=True) for x in init]
    topt = getattr(torch.optim, name)(tparams, foreach=False, **options)
    for t in range(3):
        for tp, g in zip(tparams, grads[t]):
            tp.grad = torch.tensor(g)
        topt.step()
    params = _params([tp.detach().numpy().copy() for tp in tparams], device)
    opt = getattr(optim, name)(params)
    opt.load_state_dict(topt.state_dict())
    for t in range(3, N_STEPS):
        for tp, g in zip(tparams, grads[t]):
            tp.grad = torch.tensor(g)
        topt.step()
        _set_grads(params, grads[t], by_backward=False)
        opt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-14)


# A group of several parameters is updated at once, over flat copies of its parameters and
# gradients and flat state buffers that optimizer.state[p] holds views of
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ref, options, family", CASES, ids=CASE_IDS)
def test_a_group_updated_at_once_matches_one_by_one(device, name, ref, options, family, dtype):
    init, grads = _problem(dtype)
    together, alone = _params(init, device), _params(init, device)
    opts = [getattr(optim, name)(together, **options),  # one group: flat buffers
            getattr(optim, name)([{"params": [p]} for p in alone], **options)]
    for t in range(N_STEPS):
        for opt, params in zip(opts, (together, alone)):
            opt.zero_grad()
            _set_grads(params, grads[t], by_backward=t % 2 == 0)
            opt.step()
        for a, b in zip(together, alone):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"step {t + 1}")
    flat, single = (opt.state_dict()["state"] for opt in opts)
    assert sorted(flat) == sorted(single)
    for i, state in single.items():
        assert sorted(flat[i]) == sorted(state)
        for key, value in state.items():
            np.testing.assert_array_equal(flat[i][key], value, err_msg=key)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_group_follows_options_changed_between_steps(device, name):
    """The group's update is bound to its options once, and bound again when one changes:
    a schedule's lr at every step, a momentum or weight decay set by hand."""
    init, grads = _problem(np.float32, n_steps=8)
    options = FULL_STATE[name][0]
    together, alone = _params(init, device), _params(init, device)
    opts = [getattr(optim, name)(together, **options),
            getattr(optim, name)([{"params": [p]} for p in alone], **options)]
    for t in range(8):
        for opt, params in zip(opts, (together, alone)):
            for group in opt.param_groups:
                group["lr"] = options["lr"] * 0.8**t
                if t == 4:
                    group["weight_decay"] = 0.3
                if t == 6 and "momentum" in group:
                    group["momentum"] = 0.5
            _set_grads(params, grads[t], by_backward=False)
            opt.step()
        for a, b in zip(together, alone):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"step {t + 1}")
    assert opts[0]._group_buffers  # the group's update ran over its buffers


def test_a_subclass_with_its_own_update_keeps_it_in_a_group(device):
    class HalfAdam(optim.Adam):
        def _run_update(self, backend, param, grad, state, group):
            super()._run_update(backend, param, backend.mul(grad, 0.5), state, group)

    init, grads = _problem(np.float64)
    halved, plain = _params(init, device), _params(init, device)
    opts = [HalfAdam(halved, lr=0.1), optim.Adam(plain, lr=0.1)]
    for t in range(3):
        _set_grads(halved, grads[t], by_backward=False)
        _set_grads(plain, [g * 0.5 for g in grads[t]], by_backward=False)
        for opt in opts:
            opt.step()
    for a, b in zip(halved, plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_group_keeps_each_state_entry_in_one_buffer(device, name):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = getattr(optim, name)(params, **FULL_STATE[name][0])
    held = opt.state[params[0]]  # an empty entry of the defaultdict, filled in place
    for t in range(2):
        _set_grads(params, grads[t], by_backward=False)
        opt.step()
    first, second = (opt.state[p] for p in params)
    assert first is held
    arrays = [key for key, value in first.items() if hasattr(value, "shape")]
    assert arrays and sorted(first) == sorted(second)
    for key in arrays:
        assert first[key].shape == SHAPES[0] and second[key].shape == SHAPES[1]
        assert first[key].base is not None and first[key].base is second[key].base, key
    # a replaced entry is updated where it is, the parameters one by one, to the same numbers
    alone = _params(init, device)
    ref = getattr(optim, name)([{"params": [p]} for p in alone], **FULL_STATE[name][0])
    for t in range(2):
        _set_grads(alone, grads[t], by_backward=False)
        ref.step()
    backend = mg.get_backend(device)
    first[arrays[0]] = backend.copy(first[arrays[0]])
    for t in range(2, 4):
        for o, ps in ((opt, params), (ref, alone)):
            _set_grads(ps, grads[t], by_backward=False)
            o.step()
    for a, b in zip(params, alone):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_parameters_that_share_memory_are_updated_one_after_the_other(device):
    """Two parameters over the same memory each see the other's update, as in PyTorch."""
    torch = pytest.importorskip("torch")
    base = mg.tensor([1.0, 2.0, 3.0], device=device)
    params = [mg.nn.Parameter(base), mg.nn.Parameter(base)]
    tbase = torch.tensor([1.0, 2.0, 3.0])
    tparams = [torch.nn.Parameter(tbase), torch.nn.Parameter(tbase)]
    opt = optim.Adam(params, lr=0.1)
    topt = torch.optim.Adam(tparams, lr=0.1, foreach=False)
    for _ in range(3):
        for p, tp, g in zip(params, tparams, ([0.5, -1.0, 2.0], [1.0, 1.0, -3.0])):
            p.grad = mg.tensor(g, device=device)
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(base.numpy(), tbase.numpy(), rtol=1e-6)


def test_a_copied_optimizer_keeps_its_own_state(device):
    import copy

    init, grads = _problem(np.float64)
    params = _params(init, device)
    opt = optim.Adam(params, lr=0.1)
    _set_grads(params, grads[0], by_backward=False)
    opt.step()
    twin = copy.deepcopy(opt)
    twin_params = twin.param_groups[0]["params"]
    _set_grads(twin_params, grads[1], by_backward=False)
    twin.step()
    _set_grads(params, grads[1], by_backward=False)
    opt.step()
    for p, q in zip(params, twin_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        for key in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(mg.get_backend(device).to_numpy(opt.state[p][key]),
                                          mg.get_backend(device).to_numpy(twin.state[q][key]))


def test_a_subclass_that_updates_one_parameter_at_a_time(device):
    class SignDescent(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def _update(self, p, grad, group):
            state = self.state[p]
            state["steps"] = state.get("steps", 0) + 1
            p.backend.sub(p._data, p.backend.mul(p.backend.sign(grad), group["lr"]), out=p._data)

    params = _params([np.zeros(3), np.ones(2)], device)
    opt = SignDescent(params)
    for _ in range(2):
        _set_grads(params, [np.array([1.0, -2.0, 0.0]), np.array([-1.0, 3.0])], False)
        opt.step()
    np.testing.assert_allclose(params[0].numpy(), [-0.2, 0.2, 0.0])
    np.testing.assert_allclose(params[1].numpy(), [1.2, 0.8])
    assert [opt.state[p]["steps"] for p in params] == [2, 2]
    loaded = SignDescent(params)
    loaded.load_state_dict(opt.state_dict())
    loaded.step()
    assert [loaded.state[p]["steps"] for p in params] == [3, 3]


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_group_with_frozen_parameters_keeps_the_others_in_one_buffer(device, name):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    frozen = mg.tensor([1.0, 2.0], dtype=mg.float64, device=device, requires_grad=True)
    opt = getattr(optim, name)([params[0], frozen, params[1]], **FULL_STATE[name][0])
    alone = _params(init, device)
    ref = getattr(optim, name)([{"params": [p]} for p in alone], **FULL_STATE[name][0])
    for t in range(3):
        for o, ps in ((opt, params), (ref, alone)):
            _set_grads(ps, grads[t], by_backward=False)
            o.step()
    first, second = (opt.state[p] for p in params)
    key = next(k for k, v in first.items() if hasattr(v, "shape"))
    assert first[key].base is not None and first[key].base is second[key].base
    assert opt.state.get(frozen) is None
    np.testing.assert_array_equal(frozen.numpy(), [1.0, 2.0])
    frozen.grad = mg.tensor([1.0, -1.0], dtype=mg.float64, device=device)  # thawed
    _set_grads(params, grads[3], by_backward=False)
    _set_grads(alone, grads[3], by_backward=False)
    opt.step()
    ref.step()
    assert not np.array_equal(frozen.numpy(), [1.0, 2.0])
    for a, b in zip(params, alone):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_first_step_that_fails_in_a_later_group_makes_no_state(device, name):
    init, grads = _problem(np.float64)
    params = _params(init, device)
    extra = mg.tensor([1.0, 2.0], dtype=mg.float64, device=device, requires_grad=True)
    opt = getattr(optim, name)([{"params": params}, {"params": [extra]}],
                               **FULL_STATE[name][0])
    _set_grads(params, grads[0], by_backward=False)
    extra.grad = mg.tensor([0.5, 0.5], dtype=mg.float64, device=device)
    opt.param_groups[1]["lr"] = -1.0
    with pytest.raises(ValueError, match="parameter group 1: invalid lr"):
        opt.step()
    assert opt.state_dict()["state"] == {}
    for p, x in zip(params, init):
        np.testing.assert_array_equal(p.numpy(), x)
    opt.param_groups[1]["lr"] = 0.1
    opt.step()
    assert sorted(opt.state_dict()["state"]) == [0, 1, 2]


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_loaded_state_is_laid_out_in_one_buffer_and_continues(device, name):
    opt, params = _stepped(name, device)
    copies = _params([p.numpy() for p in params], device)
    loaded = getattr(optim, name)(copies, **FULL_STATE[name][0])
    loaded.load_state_dict(opt.state_dict())
    first, second = (loaded.state[p] for p in copies)
    for key, value in first.items():
        if hasattr(value, "shape"):
            assert value.base is not None and value.base is second[key].base, key
    grads = _problem(np.float64)[1][3]
    for o, ps in ((opt, params), (loaded, copies)):
        _set_grads(ps, grads, by_backward=False)
        o.step()
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", list(FULL_STATE))
def test_a_large_parameter_stays_outside_its_groups_buffers(device, name):
    from minigrad.optim.group_buffers import SMALL_PARAM

    rng = np.random.default_rng(3)
    shapes = [(3, 4), (SMALL_PARAM + 1,), (5,)]
    init = [rng.standard_normal(s) for s in shapes]
    params, alone = _params(init, device), _params(init, device)
    opt = getattr(optim, name)(params, **FULL_STATE[name][0])
    ref = getattr(optim, name)([{"params": [p]} for p in alone], **FULL_STATE[name][0])
    for _ in range(3):
        grads = [rng.standard_normal(s) for s in shapes]
        for o, ps in ((opt, params), (ref, alone)):
            _set_grads(ps, grads, by_backward=False)
            o.step()
    for a, b in zip(params, alone):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    small, large, other = (opt.state[p] for p in params)
    key = next(k for k, v in small.items() if hasattr(v, "shape"))
    assert small[key].base is not None and small[key].base is other[key].base
    assert large[key].base is None or large[key].base is not small[key].base


def test_a_subclass_check_of_its_own_still_runs_every_step(device):
    class Clipped(optim.Adam):
        def _check(self, group):
            super()._check(group)
            if group.get("clip", 1.0) <= 0:
                raise ValueError("invalid clip")

    params = _params([np.zeros(3), np.ones(2), np.ones(4)], device)
    opt = Clipped(params, lr=0.1)
    for _ in range(2):
        _set_grads(params, [np.ones(3), np.ones(2), np.ones(4)], by_backward=False)
        opt.step()
    opt.param_groups[0]["clip"] = -1.0
    with pytest.raises(ValueError, match="invalid clip"):
        opt.step()


class _KernelByState(NumPyBackend):
    """A backend whose bound Adam update picks its kernel by the state it is bound to, as
    CuPy's does: amsgrad wherever a max_exp_avg_sq buffer is bound."""

    name = "numpy-kernel-by-state"

    def prepare_update(self, name, *arrays):
        run = super().prepare_update(name, *arrays)
        if name != "adam_update":
            return run
        has_max = arrays[4] is not None
        return lambda **options: run(**{**options, "amsgrad": has_max})


def test_an_option_that_drops_a_state_entry_leaves_the_bound_update():
    backend = _KernelByState()
    mg.register_backend(backend.name, lambda: backend)
    try:
        init, grads = _problem(np.float64, n_steps=6)
        together, alone = _params(init, backend.name), _params(init, backend.name)
        opts = [optim.Adam(together, lr=0.1, amsgrad=True),
                optim.Adam([{"params": [p]} for p in alone], lr=0.1, amsgrad=True)]
        for t in range(6):
            for opt, params in zip(opts, (together, alone)):
                if t == 3:
                    opt.param_groups[0]["amsgrad"] = False  # the max buffer stays in state
                    for group in opt.param_groups:
                        group["amsgrad"] = False
                _set_grads(params, grads[t], by_backward=False)
                opt.step()
            for a, b in zip(together, alone):
                np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"step {t + 1}")
    finally:
        from minigrad import backend as registry

        registry._factories.pop(backend.name, None)
        registry._instances.pop(backend.name, None)
