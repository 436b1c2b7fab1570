"""Learning-rate schedulers: the same rates as PyTorch's, step for step."""

import pickle
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import lr_scheduler as mg_sched

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as torch_sched  # noqa: E402

STEPS = 30


def _halve(epoch):
    return 0.5 ** (epoch // 4)


def _shrink(epoch):
    return 0.9


CASES = {
    "StepLR": ("sgd", lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("sgd", lambda m, o: m.MultiStepLR(o, milestones=[3, 9, 9, 20], gamma=0.3)),
    "ExponentialLR": ("sgd", lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    "CosineAnnealingLR": ("sgd", lambda m, o: m.CosineAnnealingLR(o, T_max=8, eta_min=0.01)),
    "LambdaLR": ("sgd", lambda m, o: m.LambdaLR(o, lr_lambda=_halve)),
    "MultiplicativeLR": ("sgd", lambda m, o: m.MultiplicativeLR(o, lr_lambda=_shrink)),
    "LinearLR": ("sgd", lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9,
                                                total_iters=12)),
    "ConstantLR": ("sgd", lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6)),
    "OneCycleLR-cos": ("sgd", lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.4], total_steps=31)),
    "OneCycleLR-linear-3": ("adam", lambda m, o: m.OneCycleLR(
        o, max_lr=0.8, epochs=4, steps_per_epoch=8, anneal_strategy="linear",
        three_phase=True, pct_start=0.25)),
    "WarmRestarts": ("sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                      eta_min=0.001)),
    "PolynomialLR": ("sgd", lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0)),
    "ChainedScheduler": ("sgd", lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9)])),
    "SequentialLR": ("sgd", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.CosineAnnealingLR(o, T_max=6)], milestones=[5, 14])),
}


def _optimizer(lib, kind):
    """Two parameter groups with different rates, built the same way in both libraries."""
    if lib is torch:
        params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
        opt = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    else:
        params = [mg.zeros(2, requires_grad=True), mg.zeros(3, requires_grad=True)]
        opt = mg.optim.SGD if kind == "sgd" else mg.optim.Adam
    extra = {"momentum": 0.9} if kind == "sgd" else {}
    return opt([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}], lr=1.0, **extra)


def _run(lib, sched_module, kind, make, steps=STEPS):
    opt = _optimizer(lib, kind)
    scheduler = make(sched_module, opt)
    lrs = [scheduler.get_last_lr()]
    groups = [[dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        groups.append([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])
    return lrs, groups


@pytest.mark.parametrize("name", CASES)
def test_rates_match_pytorch(name):
    kind, make = CASES[name]
    ours, our_groups = _run(mg, mg_sched, kind, make)
    theirs, their_groups = _run(torch, torch_sched, kind, make)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    for mine, other in zip(our_groups, their_groups):  # momentum / betas cycled alike
        for g, h in zip(mine, other):
            for key in ("momentum", "betas", "initial_lr", "max_lr", "min_lr"):
                if key in h:
                    np.testing.assert_allclose(g[key], h[key], rtol=1e-13)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "LambdaLR", "OneCycleLR-cos",
                                  "WarmRestarts", "SequentialLR",
                                  "ChainedScheduler", "PolynomialLR"])
def test_state_dict_round_trip(name):
    kind, make = CASES[name]
    opt = _optimizer(mg, kind)
    scheduler = make(mg_sched, opt)
    for _ in range(11):
        opt.step()
        scheduler.step()
    state = pickle.loads(pickle.dumps(scheduler.state_dict()))
    assert "optimizer" not in state
    expected = []
    for _ in range(9):
        opt.step()
        scheduler.step()
        expected.append(scheduler.get_last_lr())
    # a fresh scheduler on an optimizer at step 11, loaded from the saved state
    opt2 = _optimizer(mg, kind)
    resumed = make(mg_sched, opt2)
    resumed.load_state_dict(state)
    for group, lr in zip(opt2.param_groups, state["_last_lr"]):
        group["lr"] = lr
    got = []
    for _ in range(9):
        opt2.step()
        resumed.step()
        got.append(resumed.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_initial_lr_and_last_epoch():
    opt = _optimizer(mg, "sgd")
    scheduler = mg_sched.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [1.0, 0.3]
    assert scheduler.last_epoch == 0 and scheduler.base_lrs == [1.0, 0.3]
    with pytest.raises(KeyError, match="initial_lr"):
        mg_sched.StepLR(_optimizer(mg, "sgd"), step_size=2, last_epoch=3)


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(mg, "sgd")
    scheduler = mg_sched.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        scheduler.step()
    opt = _optimizer(mg, "sgd")
    scheduler = mg_sched.ExponentialLR(opt, gamma=0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


@pytest.mark.parametrize("options", [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2, "threshold_mode": "abs", "threshold": 0.1},
    {"patience": 1, "cooldown": 2, "min_lr": [0.05, 0.2], "factor": 0.3},
    {"patience": 0, "eps": 0.2, "factor": 0.5},
])
def test_reduce_lr_on_plateau_matches_pytorch(options):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.88, 0.88] * 3
    results = []
    for lib, module in ((mg, mg_sched), (torch, torch_sched)):
        opt = _optimizer(lib, "sgd")
        scheduler = module.ReduceLROnPlateau(opt, **options)
        lrs = []
        for m in metrics:
            scheduler.step(m)
            lrs.append(scheduler.get_last_lr())
        results.append((lrs, scheduler.num_bad_epochs, scheduler.best))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-15)
    assert results[0][1:] == results[1][1:]


def test_reduce_lr_on_plateau_errors_and_round_trip():
    opt = _optimizer(mg, "sgd")
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        mg_sched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode max2 is unknown"):
        mg_sched.ReduceLROnPlateau(opt, mode="max2")
    scheduler = mg_sched.ReduceLROnPlateau(opt, patience=1)
    for m in (1.0, 2.0, 3.0):
        scheduler.step(mg.tensor(m))
    other = mg_sched.ReduceLROnPlateau(_optimizer(mg, "sgd"), patience=5)
    other.load_state_dict(scheduler.state_dict())
    assert (other.patience, other.best, other.num_bad_epochs) == (1, 1.0, 0)


@pytest.mark.parametrize("make, message", [
    (lambda o: mg_sched.OneCycleLR(o, max_lr=1.0), "total_steps OR"),
    (lambda o: mg_sched.OneCycleLR(o, max_lr=[1.0], total_steps=5), "same length"),
    (lambda o: mg_sched.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1),
     "pct_start"),
    (lambda o: mg_sched.LinearLR(o, start_factor=0), "Starting multiplicative"),
    (lambda o: mg_sched.ConstantLR(o, factor=2), "between 0 and 1"),
    (lambda o: mg_sched.CosineAnnealingWarmRestarts(o, T_0=0), "positive integer T_0"),
    (lambda o: mg_sched.LambdaLR(o, [_halve]), "Expected 2 lr_lambdas"),
    (lambda o: mg_sched.SequentialLR(o, [mg_sched.StepLR(o, 2)], milestones=[3]),
     "one more than the number of milestone"),
])
def test_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make(_optimizer(mg, "sgd"))


def test_one_cycle_past_total_steps_raises():
    opt = _optimizer(mg, "sgd")
    scheduler = mg_sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


def test_scheduled_rate_drives_the_update():
    p = mg.tensor([1.0], requires_grad=True)
    opt = mg.optim.SGD([p], lr=0.5)
    scheduler = mg_sched.StepLR(opt, step_size=1, gamma=0.1)
    for expected in (0.5, 0.05):
        p.grad = mg.tensor([1.0])
        before = p.item()
        opt.step()
        scheduler.step()
        assert before - p.item() == pytest.approx(expected)


def test_compiled_step_follows_the_schedule():
    """mg.compile replays the optimizer step with the rate the scheduler set."""
    x, y = mg.randn(4, 3), mg.randn(4, 1)
    models = [mg.nn.Linear(3, 1) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    opts = [mg.optim.SGD(m.parameters(), lr=0.1, momentum=0.5) for m in models]
    schedulers = [mg_sched.CosineAnnealingLR(o, T_max=4) for o in opts]

    def train(model, opt):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    compiled = mg.compile(lambda: train(models[0], opts[0]))
    for _ in range(6):
        compiled()
        train(models[1], opts[1])
        for s in schedulers:
            s.step()
        np.testing.assert_allclose(models[0].weight.numpy(), models[1].weight.numpy(),
                                   rtol=1e-6)
    assert opts[0].param_groups[0]["lr"] == opts[1].param_groups[0]["lr"]


def test_wrapped_step_survives_deepcopy():
    import copy

    opt = _optimizer(mg, "sgd")
    mg_sched.StepLR(opt, step_size=2)
    clone = copy.deepcopy(opt)
    clone.step()
    assert clone._opt_called and not getattr(opt, "_opt_called", False)
