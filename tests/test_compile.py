"""mg.compile: a recorded training step replays what eager mode computes."""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.backends.numpy_backend import NumPyBackend

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "dampened": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
    "rmsprop_plain": lambda p: optim.RMSprop(p, lr=1e-2),
    "rmsprop_momentum": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-3),
    "amsgrad": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
}
LOSSES = {
    "cross_entropy": lambda out, y: F.cross_entropy(out, y),
    "multi_margin": lambda out, y: F.multi_margin_loss(out, y),
    "mse": lambda out, y: F.mse_loss(out, y),
    "scaled_mse": lambda out, y: F.mse_loss(out, y) * 0.5,
    "scaled_cross_entropy": lambda out, y: F.cross_entropy(out, y) * 0.5,
    "l1": lambda out, y: F.l1_loss(out, y),
    "huber": lambda out, y: F.huber_loss(out, y, delta=0.5),
    "bce": lambda out, y: F.binary_cross_entropy(out.sigmoid(), y),
    "bce_with_logits": lambda out, y: F.binary_cross_entropy_with_logits(out, y),
}
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
               "leaky_relu": nn.LeakyReLU}


def _batches(loss, steps, batch=6, seed=1):
    rng = np.random.default_rng(seed)
    for i in range(steps):
        n = batch if i < steps - 1 else batch - 2  # the short last batch of an epoch
        x = rng.standard_normal((n, 4)).astype(np.float32)
        if loss.endswith(("cross_entropy", "multi_margin")):
            y = rng.integers(0, 3, n)
        elif loss.startswith("bce"):
            y = rng.random((n, 3)).astype(np.float32)
        else:
            y = rng.standard_normal((n, 3)).astype(np.float32)
        yield x, y


def _train(device, compiled, optimizer="adam", loss="cross_entropy", activation="relu",
           steps=12):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), ACTIVATIONS[activation](), nn.Linear(8, 3))
    model = model.to(device)
    opt = OPTIMIZERS[optimizer](model.parameters())

    def step(x, y):
        opt.zero_grad()
        value = LOSSES[loss](model(x), y)
        value.backward()
        opt.step()
        return value

    fn = mg.compile(step) if compiled else step
    losses = [fn(mg.tensor(x, device=device), mg.tensor(y, device=device)).item()
              for x, y in _batches(loss, steps)]
    return losses, model.state_dict(), opt, fn


def _same(eager, compiled):
    (la, sa), (lb, sb) = eager, compiled
    np.testing.assert_allclose(lb, la, rtol=1e-6, atol=1e-7)
    for key in sa:
        np.testing.assert_allclose(sb[key], sa[key], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_replays_what_eager_computes(device, optimizer):
    eager = _train(device, False, optimizer=optimizer)
    compiled = _train(device, True, optimizer=optimizer)
    _same(eager[:2], compiled[:2])
    stats = compiled[3].stats
    # per signature: one eager call, one capture, replays after (the short batch is new)
    assert stats["captures"] == 1 and stats["replays"] == 12 - 3 and stats["eager"] == 2


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_hundred_replayed_steps_stay_within_1e6_of_eager(device, optimizer):
    eager = _train(device, False, optimizer=optimizer, steps=100)
    compiled = _train(device, True, optimizer=optimizer, steps=100)
    _same(eager[:2], compiled[:2])
    assert compiled[3].stats["replays"] == 100 - 3


@pytest.mark.parametrize("optimizer", [name for name in OPTIMIZERS if name != "sgd"])
def test_the_plan_keeps_the_flat_state_the_eager_step_made(optimizer):
    """The eager step's flat buffers of the group (its state entries, and room for the
    parameters and gradients) become the plan's: capture makes no second copy."""
    eager = _train("numpy", False, optimizer=optimizer, steps=2)
    opt = eager[2]
    group = opt.param_groups[0]
    buffers = opt._group_buffers[id(group)]
    assert buffers.entry_views  # plain SGD keeps no state, and no buffers
    losses, state, opt2, fn = _train("numpy", True, optimizer=optimizer, steps=6)
    buffers = opt2._group_buffers[id(opt2.param_groups[0])]
    params = opt2.param_groups[0]["params"]
    for p in params:
        assert np.shares_memory(p._data, buffers.param_buffer)
        for key in buffers.entry_views:
            assert opt2.state[p][key].base is buffers.state[key]
    _same(_train("numpy", False, optimizer=optimizer, steps=6)[:2], (losses, state))


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop"])
def test_eager_steps_after_replays_update_the_group_at_once(device, optimizer):
    """Once the plan has laid the parameters out in the group's buffers, an eager step
    (a batch of another shape) still updates the group with one fused call, to the numbers
    of a run that never compiled."""
    runs = []
    for compiled in (False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
        opt = OPTIMIZERS[optimizer](model.parameters())
        step = _classifier_step(model, opt, compiled)
        rng = np.random.default_rng(2)
        for rows in (5, 5, 5, 5, 3, 5, 2):  # the short batches run eagerly
            x = mg.tensor(rng.standard_normal((rows, 4)), dtype=mg.float32, device=device)
            step(x, mg.tensor(rng.integers(0, 3, rows), device=device))
        runs.append((model.state_dict(), opt))
    _same(([0.0], runs[0][0]), ([0.0], runs[1][0]))
    opt = runs[1][1]
    group = opt.param_groups[0]
    buffers = opt._group_buffers[id(group)]
    for p, view in zip(buffers.params, buffers.param_views):
        assert p._data is view  # the plan's layout, which the eager steps kept using
    assert buffers.ready(group, opt.state, opt._state_keys(group)) is not None


def _train_large(device, compiled, optimizer, steps=8):
    """A model with one parameter too large for the flat buffers (130 x 130 > 16,384)."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 130), nn.ReLU(), nn.Linear(130, 130), nn.ReLU(),
                          nn.Linear(130, 3)).to(device)
    opt = OPTIMIZERS[optimizer](model.parameters())
    fn = _classifier_step(model, opt, compiled)
    rng = np.random.default_rng(1)
    held = None
    losses = []
    for k in range(steps):
        x = mg.tensor(rng.standard_normal((5, 6)), dtype=mg.float32, device=device)
        losses.append(fn(x, mg.tensor(rng.integers(0, 3, 5), device=device)).item())
        if k == 0:  # the large weight's memory and state, before the plan is made
            weight = model[2].weight
            held = (weight._data, dict(opt.state[weight]))
    return losses, model.state_dict(), opt, held, model, fn


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_large_parameter_is_updated_where_it_lives(device, optimizer):
    """A parameter too large for the flat buffers is its own part of the layout: the plan
    updates it over its own arrays (no copy of it or of its state) to eager's numbers."""
    eager = _train_large(device, False, optimizer)
    losses, state, opt, (array, moments), model, fn = _train_large(device, True, optimizer)
    _same(eager[:2], (losses, state))
    assert fn.stats["replays"] == 6 and "over flat buffers" in fn.plan
    weight = model[2].weight
    backend = weight.backend
    assert np.shares_memory(backend.to_numpy(weight._data), backend.to_numpy(array))
    for key, value in moments.items():
        if hasattr(value, "shape"):
            assert np.shares_memory(backend.to_numpy(opt.state[weight][key]),
                                    backend.to_numpy(value)), key


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_loss_and_activation_replays_what_eager_computes(loss, activation):
    eager = _train("numpy", False, loss=loss, activation=activation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multi_margin picks with a host-built index
        compiled = _train("numpy", True, loss=loss, activation=activation)
    _same(eager[:2], compiled[:2])
    stats = compiled[3].stats
    if loss == "multi_margin":
        assert stats["replays"] == 0 and "Index" in stats["reasons"][0]
    else:
        assert stats["replays"] > 0 and not stats["reasons"]


def test_the_plan_shows_the_recorded_program():
    *_, fn = _train("numpy", True, steps=3)
    plan = fn.plan
    for part in ("Adam.zero_grad", "Linear(arg0", "SoftmaxCrossEntropy", "backward from",
                 "Adam.step"):
        assert part in plan


def test_hyperparameters_are_read_at_replay():
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = mg.ones(2, 3), mg.zeros(2, 1)

    @mg.compile
    def step(x, y):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step(x, y)
    before = model.weight.numpy().copy()
    opt.param_groups[0]["lr"] = 0.0
    step(x, y)
    np.testing.assert_array_equal(model.weight.numpy(), before)
    assert step.stats["replays"] == 2


def _linear_problem(optimizer, compiled):
    """A linear layer, its optimizer, its training step (compiled or not) and one batch."""
    mg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = OPTIMIZERS[optimizer](model.parameters())

    def step(x, y):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()

    return model, opt, mg.compile(step) if compiled else step, (mg.randn(4, 3), mg.randn(4, 2))


@pytest.mark.parametrize("optimizer, name, bad", [
    ("momentum", "lr", -1.0), ("nesterov", "dampening", 0.5), ("rmsprop", "alpha", -0.5),
    ("adam", "eps", float("nan")), ("adamw", "betas", (0.9, 1.5)), ("amsgrad", "lr", -0.5),
])
def test_changed_and_invalid_hyperparameters_at_replay_act_as_in_eager(optimizer, name, bad):
    runs = []
    for compiled in (False, True):
        model, opt, fn, (x, y) = _linear_problem(optimizer, compiled)
        for _ in range(4):
            fn(x, y)
        group = opt.param_groups[0]
        good, group[name] = group[name], bad
        before = [p.numpy().copy() for p in model.parameters()]
        steps = [s.get("step") for s in opt.state.values()]
        with pytest.raises(ValueError) as err:
            fn(x, y)
        for p, b in zip(model.parameters(), before):
            np.testing.assert_array_equal(p.numpy(), b)
        assert [s.get("step") for s in opt.state.values()] == steps
        group[name] = good
        for lr in (0.5, 0.25, 0.25):  # a schedule: new numbers, then an equal one
            group["lr"] = group["lr"] * lr
            fn(x, y)
        if "betas" in group:  # a list of betas, changed in place
            group["betas"] = [0.8, 0.99]
            fn(x, y)
            group["betas"][0] = 0.5
            fn(x, y)
        runs.append((str(err.value), [p.numpy() for p in model.parameters()]))
    assert runs[1][0] == runs[0][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    assert fn.stats["replays"] >= 5 and not fn.stats["reasons"]


def _toggle(name, value):
    def change(opt, model):
        opt.param_groups[0][name] = value
    return change


def _new_group(opt, model):
    opt.add_param_group({"params": [mg.zeros(2, requires_grad=True)]})


def _fewer_params(opt, model):
    opt.param_groups[0]["params"].pop()


@pytest.mark.parametrize("optimizer, change", [
    ("amsgrad", _toggle("amsgrad", False)),
    ("sgd", _toggle("maximize", True)), ("sgd", _toggle("momentum", 0.9)),
    ("momentum", _toggle("momentum", 0.0)), ("rmsprop", _toggle("centered", False)),
    ("rmsprop", _toggle("momentum", 0.0)), ("adam", _new_group), ("adam", _fewer_params),
])
def test_a_step_whose_layout_changed_runs_as_in_eager(optimizer, change):
    runs = []
    for compiled in (False, True):
        model, opt, fn, (x, y) = _linear_problem(optimizer, compiled)
        for i in range(8):
            if i == 4:
                change(opt, model)
            fn(x, y)
        runs.append([p.numpy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_eval_mode_and_a_new_parameter_capture_again():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Linear(3, 1))
    fn = mg.compile(lambda x: model(x))
    x = mg.ones(4, 3)
    with mg.no_grad():
        for _ in range(3):
            fn(x)
        model.eval()
        expected = model(x).numpy()
        fn(x)
        np.testing.assert_allclose(fn(x).numpy(), expected)
        assert fn.stats["captures"] == 2
        model[0].weight = nn.Parameter(mg.zeros(3, 3))
        fn(x)
        np.testing.assert_allclose(fn(x).numpy(), model(x).numpy())
        assert fn.stats["captures"] == 3


def test_dropout_draws_fresh_masks_on_every_replay():
    drop = nn.Dropout(0.5)
    fn = mg.compile(lambda x: drop(x))
    x = mg.ones(2000)
    masks = [fn(x).numpy() for _ in range(4)]
    assert fn.stats["replays"] == 2
    for m in masks:
        assert set(np.unique(m)) <= {0.0, 2.0} and 0.4 < (m == 0).mean() < 0.6
    assert (masks[2] != masks[3]).any()


@pytest.mark.filterwarnings("ignore:mg.compile")  # with ignored targets: an eager fallback
def test_ignored_targets_are_a_guard():
    mg.manual_seed(0)
    model = nn.Linear(4, 3)
    fn = mg.compile(lambda x, y: F.cross_entropy(model(x), y, ignore_index=1))
    x = mg.randn(5, 4)
    plain, ignoring = mg.tensor([0, 2, 2, 0, 2]), mg.tensor([0, 1, 2, 1, 2])
    for _ in range(3):
        fn(x, plain)
    with_ignored = fn(x, ignoring)  # the recorded plan took the branch without ignored
    np.testing.assert_allclose(with_ignored.numpy(),
                               F.cross_entropy(model(x), ignoring, ignore_index=1).numpy())
    assert fn.stats["captures"] == 2


def test_a_value_read_inside_falls_back_to_eager_with_one_warning():
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss.item()

    fn = mg.compile(step)
    x = mg.ones(2, 3)
    fn(x)
    with pytest.warns(UserWarning, match="runs eagerly.*read on the host"):
        fn(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = fn(x)
    assert isinstance(value, float)
    assert fn.stats["fallbacks"] == 1 and fn.stats["replays"] == 0


class _Double(mg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


@pytest.mark.parametrize("body, reason", [
    (lambda m, x: m(x).sum().backward(retain_graph=True), "retain_graph"),
    (lambda m, x: mg.grad(m(x).sum(), m.weight), "mg.grad"),
    (lambda m, x: m.weight.register_hook(lambda g: g) and m(x).sum().backward(), "hook"),
    (lambda m, x: m.weight.data.__setitem__(0, 0.0) or m(x).sum().backward(), None),
    (lambda m, x: _Double.apply(m(x)).sum().backward(), "user-defined Function _Double"),
])
def test_what_cannot_be_replayed_runs_eagerly(body, reason):
    model = nn.Linear(3, 1)
    fn = mg.compile(lambda x: body(model, x))
    x = mg.ones(2, 3)
    fn(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(x)
        fn(x)
    if reason is not None:
        assert len(caught) == 1 and reason in str(caught[0].message)
        assert fn.stats["replays"] == 0


def test_results_stay_valid_after_the_next_call():
    model = nn.Linear(3, 2)
    fn = mg.compile(lambda x: model(x) * 2)
    with mg.no_grad():
        outs = [fn(mg.full((1, 3), float(i))) for i in range(4)]
        for i, out in enumerate(outs):
            np.testing.assert_allclose(out.numpy(), (model(mg.full((1, 3), float(i))) * 2).numpy())


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_optimizer_steps_replay_over_flat_buffers(device, optimizer):
    eager = _train(device, False, optimizer=optimizer)
    compiled = _train(device, True, optimizer=optimizer)
    assert "over flat buffers" in compiled[3].plan
    state_a, state_b = eager[2].state_dict(), compiled[2].state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    for index, values in state_a["state"].items():
        for key, value in values.items():
            np.testing.assert_allclose(state_b["state"][index][key], value, rtol=1e-6,
                                       atol=1e-7)


def test_flat_buffers_keep_eager_use_and_saving_working(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    fn = mg.compile(step)
    x, y = mg.randn(6, 4), mg.tensor([0, 1, 2, 0, 1, 2])
    for _ in range(4):
        fn(x, y)
    assert model[0].weight.grad is not None and model[0].weight.grad.shape == (8, 4)
    mg.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
    step(x, y)  # an eager step between replays
    fn(x, y)
    copy = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    copy_opt = optim.Adam(copy.parameters(), lr=1e-2)
    saved = mg.load(tmp_path / "c.npz")
    copy.load_state_dict(saved["model"])
    copy_opt.load_state_dict(saved["opt"])
    for _ in range(2):
        copy_opt.zero_grad()
        F.cross_entropy(copy(x), y).backward()
        copy_opt.step()
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(copy.state_dict()[key], value, rtol=1e-6, atol=1e-7)
    model[0].weight = nn.Parameter(mg.zeros(8, 4))  # the layout is broken: a new plan
    fn(x, y)
    fn(x, y)
    assert fn.stats["captures"] == 2


def test_a_module_cast_to_another_dtype_records_again():
    model = nn.Linear(3, 2)
    fn = mg.compile(lambda: model(mg.ones(1, 3, dtype=model.weight.dtype)) * 2)
    with mg.no_grad():
        for _ in range(3):
            assert fn().dtype == mg.float32
        model.double()
        out = fn()
    assert out.dtype == mg.float64 and fn.stats["captures"] == 2


def _classifier_step(model, opt, compiled):
    """A cross-entropy training step of ``model`` with ``opt``, compiled or not."""

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return mg.compile(step) if compiled else step


def test_batch_norm_running_statistics_replay(device):
    results = []
    for compiled in (False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3)).to(device)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        fn = _classifier_step(model, opt, compiled)
        rng = np.random.default_rng(3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(6):
                x = mg.tensor(rng.standard_normal((5, 1, 4, 4)), dtype=mg.float32,
                              device=device)
                fn(x, mg.tensor(rng.integers(0, 3, 5), device=device))
        results.append(model.state_dict())
        if compiled:
            assert fn.stats["replays"] == 4 and "running_mean" not in fn.plan
            assert "add=" in fn.plan  # the running statistics, updated in place
            if device == "numba":  # the backend's relu kernels, as its eager step runs them
                assert "relu(" in fn.plan and "relu_backward(" in fn.plan
    for key, value in results[0].items():
        np.testing.assert_allclose(results[1][key], value, rtol=1e-5, atol=1e-6)
    assert int(results[1]["1.num_batches_tracked"]) == 6


def _shared_layer(lin, head, x):
    return head(F.relu(lin(F.relu(lin(x)))))  # the weight of ``lin`` gets two gradients


def _broadcast_and_square(lin, head, x):
    h = lin(x) + lin.scale  # a (1, 4) parameter added to every row
    return head(h * h)


def _tanh(lin, head, x):
    return head(F.tanh(lin(x)).sum(axis=1, keepdims=True) * lin(x))


STEPS = {
    "shared layer": (_shared_layer, "zero_grad"),
    "broadcast and square": (_broadcast_and_square, "zero_grad"),
    "tanh and sum": (_tanh, "zero_grad"),
    "gradients kept as zeros": (_shared_layer, "zero_grad(set_to_none=False)"),
    "gradients accumulated": (_shared_layer, None),
    "the modules' zero_grad": (_shared_layer, "modules"),
}


def _run_step(device, compiled, forward, zeroing, steps=7):
    mg.manual_seed(0)
    lin, head = nn.Linear(4, 4), nn.Linear(4, 3)
    if forward is _broadcast_and_square:
        lin.scale = nn.Parameter(mg.randn(1, 4))
    lin, head = lin.to(device), head.to(device)
    opt = optim.Adam([*lin.parameters(), *head.parameters()], lr=1e-2)

    def step(x, y):
        if zeroing == "zero_grad":
            opt.zero_grad()
        elif zeroing == "modules":
            lin.zero_grad()
            head.zero_grad()
        elif zeroing is not None:
            opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(forward(lin, head, x), y)
        loss.backward()
        opt.step()
        return loss

    fn = mg.compile(step) if compiled else step
    rng = np.random.default_rng(2)
    losses = [fn(mg.tensor(rng.standard_normal((6, 4)), dtype=mg.float32, device=device),
                 mg.tensor(rng.integers(0, 3, 6), device=device)) for _ in range(steps)]
    grads = [None if p.grad is None else p.grad.numpy() for p in opt.param_groups[0]["params"]]
    return [t.item() for t in losses], {**lin.state_dict(), **head.state_dict()}, grads, fn


@pytest.mark.parametrize("name", STEPS)
def test_generated_replay_computes_what_eager_computes(device, name):
    """Two gradients of one weight summed in place, a broadcast gradient summed to its
    parameter's shape, gradients kept as zeros or accumulated over calls: as eager."""
    eager = _run_step(device, False, *STEPS[name])
    compiled = _run_step(device, True, *STEPS[name])
    _same(eager[:2], compiled[:2])
    for a, b in zip(eager[2], compiled[2]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    assert compiled[3].stats["replays"] == 5 and "def replay(args):" in compiled[3].plan


def test_the_plan_is_straight_line_code_into_buffers():
    *_, fn = _train("numpy", True, steps=4)
    code = fn.plan.split("def replay(args):")[1]
    calls = [line.strip() for line in code.splitlines()
             if line.strip() and not line.strip().startswith(("#", "if ", "return", "state"))]
    assert any(c.startswith("dot(") and "out=" in c for c in calls)
    assert sum("out=" in c for c in calls) >= 10  # values and gradients into buffers
    assert any("_grad" in c and "=" in c for c in calls)  # gradients go to the flat buffer
    assert len(calls) == len(set(calls))  # one call a line, none repeated


def test_returned_tensors_are_not_overwritten_by_later_calls():
    eager = _run_step("numpy", False, *STEPS["shared layer"])
    mg.manual_seed(0)
    losses, *_ = _run_step("numpy", True, *STEPS["shared layer"])
    np.testing.assert_allclose(losses, eager[0], rtol=1e-6)


def test_a_parameter_replaced_in_place_replays_step_by_step():
    """A parameter whose array is replaced (same shape and dtype) leaves the flat layout:
    the replay runs step by step, as eager, and the next capture lays it out again."""
    results = []
    for compiled in (False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        fn = _classifier_step(model, opt, compiled)
        x, y = mg.randn(6, 4), mg.tensor([0, 1, 2, 0, 1, 2])
        for i in range(6):
            if i == 3:
                model[0].weight._data = model[0].weight._data.copy()
            fn(x, y)
        results.append(model.state_dict())
    for key, value in results[0].items():
        np.testing.assert_allclose(results[1][key], value, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "scaled_cross_entropy",
                                  "scaled_mse"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_the_program_computes_eager_numbers_bit_for_bit(device, loss, activation):
    """The generated lines are the ops' own array calls in the same order (fused kernels
    included): not close, equal."""
    eager = _train(device, False, optimizer="momentum", loss=loss, activation=activation)
    compiled = _train(device, True, optimizer="momentum", loss=loss, activation=activation)
    assert compiled[0] == eager[0]
    if device == "numpy":  # every op written out, none through its own formulas
        assert "_gradient(" not in compiled[3].plan and "(ctx, " not in compiled[3].plan
    for key, value in eager[1].items():
        np.testing.assert_array_equal(compiled[1][key], value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf in the forward product
@pytest.mark.parametrize("size", [24, 3000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_relu_gradient_passes_nan_and_inf_as_eager_bit_for_bit(size, dtype):
    """Where relu's output is 0 its gradient is +0 whatever comes in (inf, NaN); where
    the output is NaN the incoming gradient passes."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(size).astype(dtype)
    x[:4] = [np.nan, 0.0, -0.0, -1.0]
    c = rng.standard_normal(size).astype(dtype)
    c[:6] = [np.inf, np.nan, -np.inf, np.nan, 2.0, np.nan]
    c[-3:] = [np.nan, np.inf, -np.inf]
    grads = []
    for compiled in (False, True):
        xt, ct = mg.tensor(x, requires_grad=True), mg.tensor(c)

        def step(x, c):
            (x.relu() * c).sum().backward()

        fn = mg.compile(step) if compiled else step
        for _ in range(4):
            xt.grad = None
            fn(xt, ct)
        assert not compiled or fn.stats["replays"] == 2
        grads.append(xt.grad.numpy())
    bits = np.dtype(dtype.replace("float", "int"))
    np.testing.assert_array_equal(grads[1].view(bits), grads[0].view(bits))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_fused_update_computes_eager_numbers_bit_for_bit(device, optimizer):
    eager = _train(device, False, optimizer=optimizer, loss="mse")
    compiled = _train(device, True, optimizer=optimizer, loss="mse")
    assert compiled[0] == eager[0]
    for key, value in eager[1].items():
        np.testing.assert_array_equal(compiled[1][key], value)


def test_a_backward_pass_alone_accumulates_into_grad_as_eager():
    grads = []
    for compiled in (False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        x = mg.randn(4, 3, requires_grad=True)

        def step(x, model=model):
            (model(x) * model(x)).mean().backward()

        fn = mg.compile(step) if compiled else step
        for _ in range(4):
            fn(x)
        assert not compiled or fn.stats["replays"] == 2
        grads.append([p.grad.numpy() for p in model.parameters()] + [x.grad.numpy()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_a_plan_the_generator_cannot_write_replays_step_by_step(monkeypatch):
    from minigrad import compiled_ops

    def broken(*args):
        raise ValueError("no emitter for this")

    monkeypatch.setattr(compiled_ops.Linear, "forward", broken)
    eager = _train("numpy", False)
    with pytest.warns(UserWarning, match="replayed step by step"):
        compiled = _train("numpy", True)
    _same(eager[:2], compiled[:2])
    assert compiled[3].stats["replays"] == 12 - 3


def test_norms_and_normalize_replay(device):
    """Their mask of zeros is made by an op, so a step that uses them replays."""
    mg.manual_seed(0)
    x = mg.randn(4, 3, device=device, requires_grad=True)
    x.data[0] = 0  # a zero row: the gradient there is 0, not NaN

    def step():
        x.grad = None
        (F.normalize(x, dim=1).sum() + x.norm(2, 1).sum()).backward()

    step()
    eager = x.grad.numpy().copy()
    compiled = mg.compile(step)
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            compiled()
            results.append(x.grad.numpy().copy())
    assert compiled.stats["replays"] >= 1 and compiled.stats["fallbacks"] == 0
    for got in results:
        np.testing.assert_allclose(got, eager, rtol=1e-6)


def test_a_gradient_cleared_by_assignment_replays(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)

    def step():
        x.grad = None
        (x * x).sum().backward()

    compiled = mg.compile(step)
    for _ in range(4):
        compiled()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert compiled.stats["replays"] == 2 and compiled.stats["fallbacks"] == 0

    def assign():
        x.grad = mg.zeros(2, device=device)
        (x * x).sum().backward()

    compiled = mg.compile(assign)
    with pytest.warns(UserWarning, match="a tensor assigned to .grad"):
        for _ in range(3):
            compiled()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


class _RecordingNumPy(NumPyBackend):
    """NumPy with stand-ins for graphs: a capture keeps the device work's function and
    each launch runs it (NumPy cannot defer work, so the capture itself runs nothing);
    its fused updates take their hyperparameters before they run (``load``)."""

    name = "numpy-graphs"

    def __init__(self):
        super().__init__()
        self.captured = []

    def capture_graph(self, body):
        self.captured.append(body)
        return body

    def prepare_update(self, name, *arrays):
        return _LoadedUpdate(super().prepare_update(name, *arrays))


class _LoadedUpdate:
    def __init__(self, run):
        self.run, self.options = run, None

    def load(self, **options):
        self.options = options

    def launch(self):
        self.run(**self.options)


@pytest.fixture
def numpy_graphs():
    backend = _RecordingNumPy()
    mg.register_backend(backend.name, lambda: backend)
    yield backend
    from minigrad import backend as registry

    registry._factories.pop(backend.name, None)
    registry._instances.pop(backend.name, None)


@pytest.mark.parametrize("optimizer", ["momentum", "adam", "adamw"])
def test_the_device_part_runs_through_the_backends_graph(numpy_graphs, optimizer):
    eager = _train("numpy", False, optimizer)
    losses, state, opt, fn = _train(numpy_graphs.name, True, optimizer)
    _same(eager[:2], (losses, state))
    # 11 full batches: eager, recorded, the device part's warm-up, then 8 launches
    assert fn.stats["graph_captures"] == 1 and fn.stats["graph_launches"] == 8
    assert len(numpy_graphs.captured) == 1 and not fn.stats["no_graph"]
    host = fn.plan.split("def replay")[1]
    assert "matmul(" not in host and ".load(" in host and "graph.run()" in host


def test_what_a_graph_cannot_hold_runs_whole_and_says_why(numpy_graphs):
    model = nn.Linear(3, 1).to(numpy_graphs.name)
    opt = optim.SGD(model.parameters(), lr=0.1, maximize=True)  # not laid out flat

    def step(x):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()

    fn = mg.compile(step)
    for _ in range(5):
        fn(mg.ones(2, 3, device=numpy_graphs.name))
    assert fn.stats["replays"] == 3 and fn.stats["graph_launches"] == 0
    assert not numpy_graphs.captured and "def device" not in fn.plan
    assert any("SGD.step" in r or "step, which runs as Python" in r
               for r in fn.stats["no_graph"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drop = nn.Dropout(0.5).to(numpy_graphs.name)
        fn = mg.compile(lambda x: drop(x))
        masks = [fn(mg.ones(500, device=numpy_graphs.name)).numpy() for _ in range(5)]
    assert (masks[3] != masks[4]).any() and fn.stats["graph_launches"] == 0
    assert any("random" in r for r in fn.stats["no_graph"]) and "no graph" in fn.plan


def test_the_backend_default_has_no_graphs():
    assert mg.backend.Backend.capture_graph(NumPyBackend(), lambda: None) is None
    fn = _train("numpy", True)[3]
    assert "def device" not in fn.plan and fn.stats["graph_launches"] == 0
    assert "graph" not in fn.plan and not fn.stats["no_graph"]


def test_a_replaced_array_or_a_failed_capture_runs_the_device_part_as_python(numpy_graphs):
    mg.manual_seed(0)
    frozen = nn.Linear(3, 4).to(numpy_graphs.name).requires_grad_(False)
    head = nn.Linear(4, 1).to(numpy_graphs.name)
    opt = optim.SGD(head.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        loss = head(frozen(x).tanh()).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    fn = mg.compile(step)
    x = mg.ones(2, 3, device=numpy_graphs.name)
    for _ in range(5):
        fn(x)
    assert fn.stats["graph_captures"] == 1 and fn.stats["graph_launches"] == 2
    frozen.weight.data = frozen.weight.data * 2  # the graph holds the old array
    fn(x)
    assert fn.stats["graph_launches"] == 2  # this call as Python, the next one captures
    fn(x)
    assert fn.stats["graph_captures"] == 2 and fn.stats["graph_launches"] == 3

    def refuse(body):
        raise RuntimeError("operation not permitted when stream is capturing")

    numpy_graphs.capture_graph = refuse
    frozen.weight.data = frozen.weight.data * 2
    for _ in range(3):
        fn(x)
    assert fn.stats["graph_launches"] == 3 and fn.stats["replays"] == 8
    assert "not permitted" in fn.stats["no_graph"][0] and "not permitted" in fn.plan
