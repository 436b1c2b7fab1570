"""nn: module registration and state, the layers against NumPy and PyTorch, the loss modules."""

import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5))
        self.scale = nn.Parameter(mg.ones(5))
        self.register_buffer("running", mg.zeros(5))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)
        self.head = nn.Linear(5, 2)
        self.note = "not registered"

    def forward(self, x):
        return self.head(self.encoder(x) * self.scale)


# registration


def test_registration_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
        "head.weight", "head.bias",
    ]
    assert [n for n, _ in net.named_children()] == ["encoder", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "", "encoder", "encoder.0", "encoder.1", "encoder.2", "head",
    ]
    assert list(net.modules())[0] is net
    assert list(net.children()) == [net.encoder, net.head]
    assert [n for n, _ in net.named_buffers()] == ["running", "scratch"]
    assert len(list(net.buffers())) == 2
    assert "note" not in dict(net.named_parameters()) and net.note == "not registered"
    assert len(list(net.parameters(recurse=False))) == 1


def test_reassigning_replaces_in_place_and_deleting_removes():
    net = Net()
    new = nn.Parameter(mg.zeros(5))
    net.scale = new
    assert net.scale is new
    assert next(iter(net.named_parameters()))[0] == "scale"  # kept its position
    net.head = nn.Identity()
    assert [n for n, _ in net.named_children()] == ["encoder", "head"]
    assert "head.weight" not in net.state_dict()
    del net.scale
    assert "scale" not in dict(net.named_parameters())
    assert not hasattr(net, "scale")
    net.scale = 3.0  # now a plain attribute
    assert "scale" not in dict(net.named_parameters())
    net.head = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="Parameter"):
        net.head.weight = mg.ones(1, 1)  # a plain tensor cannot replace a parameter
    b = nn.Linear(2, 2)
    b.weight = nn.Parameter(mg.zeros(2, 2))
    assert list(b.state_dict()) == ["weight", "bias"]  # a replaced entry keeps its place


def test_assignment_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="__init__"):
        Broken()


def test_register_and_add_module():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(mg.ones(2)))
    m.register_parameter("unused", None)
    m.add_module("child", nn.Linear(2, 2))
    m.register_buffer("b", mg.arange(3))
    assert list(m.state_dict()) == ["w", "b", "child.weight", "child.bias"]
    assert m.unused is None
    with pytest.raises(TypeError):
        m.register_parameter("x", mg.ones(2))
    with pytest.raises(KeyError):
        m.add_module("a.b", nn.Identity())


def test_shared_parameters_are_counted_once():
    a = nn.Linear(3, 3)
    b = nn.Linear(3, 3)
    b.weight = a.weight
    model = nn.Sequential(a, nn.ReLU(), b, a)
    params = list(model.parameters())
    assert len(params) == 3  # a.weight (shared), a.bias, b.bias
    assert len({id(p) for p in params}) == 3
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    # the state dict names a shared tensor under every name, as PyTorch's does
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias",
    ]
    model.load_state_dict(model.state_dict())
    assert len(list(model.modules())) == 4  # Sequential, a, ReLU, b


def test_parameter_is_a_leaf_tensor():
    p = nn.Parameter(mg.randn(2, 3))
    assert isinstance(p, mg.Tensor) and p.is_leaf and p.requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    frozen = nn.Parameter(np.zeros(2), requires_grad=False)
    assert not frozen.requires_grad and frozen.dtype == np.float64
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.full((2, 3), 2.0, np.float32))


# state dicts


def test_nested_state_dict_keys_and_copies():
    net = Net()
    state = net.state_dict()
    assert list(state) == [
        "scale", "running", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight",
        "encoder.2.bias", "head.weight", "head.bias",
    ]
    assert all(type(v) is np.ndarray for v in state.values())
    assert state["encoder.0.weight"].shape == (6, 4)
    state["scale"][:] = 7  # a copy: the model is untouched
    np.testing.assert_array_equal(net.scale.numpy(), np.ones(5, np.float32))
    kept = net.state_dict(keep_vars=True)
    assert kept["scale"] is net.scale


def test_load_state_dict_round_trip_in_place():
    src, dst = Net(), Net()
    with mg.no_grad():
        src.running += 3
    weight = dst.encoder[0].weight
    version = weight._version.changed_at if weight._version else 0
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.encoder[0].weight is weight  # loaded into the same parameter
    assert weight.is_leaf and weight.requires_grad and weight.dtype == np.float32
    assert weight._version.changed_at > version
    for key, value in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[key], value)
    x = mg.randn(3, 4)
    np.testing.assert_array_equal(dst(x).numpy(), src(x).numpy())


def test_load_state_dict_accepts_tensors_lists_and_casts():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64),
                         "bias": [0.5, -0.5]})
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(lin.bias.numpy(), [0.5, -0.5])


def test_load_state_dict_strict_and_non_strict():
    net = Net()
    state = net.state_dict()
    del state["head.bias"]
    state["extra.weight"] = np.zeros(3)
    with pytest.raises(RuntimeError) as info:
        Net().load_state_dict(state)
    assert '"head.bias"' in str(info.value) and '"extra.weight"' in str(info.value)
    assert "Missing" in str(info.value) and "Unexpected" in str(info.value)
    other = Net()
    result = other.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.bias"]
    assert result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(other.head.weight.numpy(), net.head.weight.numpy())


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    lin = nn.Linear(3, 2)
    before = lin.state_dict()
    bad = {"weight": np.zeros((3, 2), np.float32), "bias": np.ones(2, np.float32)}
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"weight.*\(3, 2\).*\(2, 3\)"):
            lin.load_state_dict(bad, strict=strict)
    # nothing was written, not even the bias that matched
    for key, value in lin.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_is_seen_by_the_version_check():
    lin = nn.Linear(3, 2)
    loss = lin(mg.randn(4, 3, requires_grad=True)).sum()  # the input's gradient reads W
    lin.load_state_dict(nn.Linear(3, 2).state_dict())
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()
    loss = lin(mg.randn(4, 3)).sum()  # only W's and b's gradients: W is not read (PyTorch)
    lin.load_state_dict(nn.Linear(3, 2).state_dict())
    loss.backward()


# Linear and PyTorch


def test_linear_shapes_init_bounds_and_forward():
    lin = nn.Linear(64, 10)
    assert lin.weight.shape == (10, 64) and lin.bias.shape == (10,)
    assert lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(64)
    for p in (lin.weight, lin.bias):
        values = p.numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound  # spread over the whole range
    assert abs(lin.weight.numpy().mean()) < 0.1 * bound
    x = np.random.default_rng(0).standard_normal((7, 64)).astype(np.float32)
    expected = x @ lin.weight.numpy().T + lin.bias.numpy()
    np.testing.assert_allclose(lin(mg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert lin(mg.tensor(x[0])).shape == (10,)
    assert lin(mg.tensor(x.reshape(7, 1, 64))).shape == (7, 1, 10)
    no_bias = nn.Linear(3, 2, bias=False, dtype=np.float64)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    assert no_bias.weight.dtype == np.float64
    assert "bias" not in no_bias.state_dict()


def test_linear_init_follows_the_seed():
    mg.manual_seed(3)
    a = nn.Linear(5, 4).state_dict()
    mg.manual_seed(3)
    b = nn.Linear(5, 4).state_dict()
    c = nn.Linear(5, 4).state_dict()
    np.testing.assert_array_equal(a["weight"], b["weight"])
    assert not np.array_equal(b["weight"], c["weight"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pytorch_state_dict_gives_same_outputs_and_gradients(dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ref = ref.to(getattr(torch, dtype))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(np.dtype(dtype))
    assert model.load_state_dict(ref.state_dict()) == ([], [])  # torch tensors as they are
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(dtype)
    y = rng.standard_normal((16, 3)).astype(dtype)

    out_ref = ref(torch.from_numpy(x))
    ((out_ref - torch.from_numpy(y)) ** 2).mean().backward()
    out = model(mg.tensor(x))
    ((out - mg.tensor(y)) ** 2).mean().backward()

    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 0}
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.numpy(), out_ref.detach().numpy(), **tol)
    ours = list(model.named_parameters())
    theirs = list(ref.named_parameters())
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    for (name, p), (_, q) in zip(ours, theirs):
        assert p.grad.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), err_msg=name, **tol)
    # and back: our state dict loads into PyTorch
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})


# modes, gradients, devices


def test_train_and_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1].train(False)
    assert net.training and not net[1].training and not net[1][0].training


def test_zero_grad_modes():
    lin = nn.Linear(3, 2)
    lin(mg.randn(4, 3)).sum().backward()
    old = lin.weight.grad
    old_values = old.numpy().copy()
    assert np.any(old_values != 0)
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is old  # zeroed in place, as PyTorch
    np.testing.assert_array_equal(old.numpy(), np.zeros((2, 3), np.float32))
    lin(mg.randn(4, 3)).sum().backward()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_to_device_keeps_parameters(device):
    net = Net()
    params = list(net.parameters())
    x = mg.randn(3, 4)
    expected = net(x).numpy()
    assert net.to(device) is net
    for before, p in zip(params, net.parameters()):
        assert p is before  # the same objects, as an optimizer holds them
        assert isinstance(p, nn.Parameter) and p.is_leaf and p.requires_grad
        assert p.device == mg.get_backend(device).name
    assert net.running.device == mg.get_backend(device).name
    out = net(x.to(device))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert net.head.weight.grad.device == mg.get_backend(device).name
    net.to("numpy")
    assert all(p.device == "numpy" for p in net.parameters())
    assert net.head.weight.grad.device == "numpy"


def test_float_and_double():
    net = Net()
    net.register_buffer("count", mg.tensor([1, 2]))
    assert net.double() is net
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.running.dtype == np.float64 and net.count.dtype == np.int64
    assert net(mg.randn(2, 4, dtype=np.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.state_dict().values() if p.dtype.kind == "f")


def test_deepcopy_gives_independent_parameters():
    lin = nn.Linear(3, 2)
    twin = copy.deepcopy(lin)
    assert twin.weight is not lin.weight and isinstance(twin.weight, nn.Parameter)
    np.testing.assert_array_equal((twin.weight - lin.weight).numpy(), np.zeros((2, 3)))
    with mg.no_grad():
        twin.weight += 1
    assert not np.array_equal(twin.weight.numpy(), lin.weight.numpy())


def test_repr():
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 10), nn.LeakyReLU(0.2), nn.Dropout(0.25),
        nn.Sequential(nn.Softmax(axis=1)),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Linear(in_features=64, out_features=10, bias=True)\n"
        "  (2): LeakyReLU(negative_slope=0.2)\n"
        "  (3): Dropout(p=0.25)\n"
        "  (4): Sequential(\n"
        "    (0): Softmax(axis=1)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.HuberLoss(delta=0.5)) == "HuberLoss(delta=0.5)"


# Sequential


def test_sequential_indexing_and_building():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]  # keys kept, as in PyTorch
    with pytest.raises(IndexError):
        seq.__getitem__(3)
    assert seq.append(nn.Sigmoid()) is seq
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]
    x = mg.randn(5, 2)
    np.testing.assert_allclose(named(x).numpy(), np.tanh(named.fc(x).numpy()), rtol=1e-6)


# activations and reshaping against NumPy


def test_activations_match_numpy():
    x_np = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32) * 3
    x = mg.tensor(x_np)
    close = {"rtol": 1e-6, "atol": 1e-7}
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(x_np, 0), **close)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x_np), **close)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x_np)), **close)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), np.where(x_np > 0, x_np, 0.1 * x_np),
                               **close)
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy(), np.where(x_np > 0, x_np, 0.01 * x_np),
                               **close)
    for axis, module in [(-1, nn.Softmax()), (0, nn.Softmax(axis=0)), (0, nn.Softmax(dim=0))]:
        e = np.exp(x_np - x_np.max(axis=axis, keepdims=True))
        np.testing.assert_allclose(module(x).numpy(), e / e.sum(axis=axis, keepdims=True),
                                   **close)
    assert nn.Identity(3, key="ignored")(x) is x


def test_flatten_matches_numpy():
    x_np = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    x = mg.tensor(x_np)
    assert nn.Flatten()(x).shape == (2, 60)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x_np.reshape(2, 60))
    np.testing.assert_array_equal(nn.Flatten(0, 1)(x).numpy(), x_np.reshape(6, 4, 5))
    np.testing.assert_array_equal(nn.Flatten(1, 2)(x).numpy(), x_np.reshape(2, 12, 5))
    np.testing.assert_array_equal(nn.Flatten(start_dim=-2)(x).numpy(), x_np.reshape(2, 3, 20))


# Dropout


def test_dropout_in_training(device):
    p = 0.3
    drop = nn.Dropout(p)
    x = mg.ones(200_000, device=device, requires_grad=True)
    y = drop(x)
    assert y.device == mg.get_backend(device).name
    values = y.numpy()
    zeroed = np.mean(values == 0)
    assert abs(zeroed - p) < 0.01  # 10 standard deviations
    np.testing.assert_allclose(values[values != 0], 1 / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient is the scaled mask


def test_dropout_is_deterministic_under_the_seed(device):
    drop = nn.Dropout(0.5)
    x = mg.ones(1000, device=device)
    mg.manual_seed(7)
    a = drop(x).numpy()
    mg.manual_seed(7)
    b = drop(x).numpy()
    c = drop(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_dropout_in_eval_and_edge_probabilities():
    x = mg.randn(50, 4)
    drop = nn.Dropout(0.9).eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((50, 4)))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)


# losses


def _loss_cases():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((6, 4)).astype(np.float32)
    classes = np.array([0, 3, 1, 2, 3, 0])
    weight = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    probs = 1 / (1 + np.exp(-scores))
    bits = (rng.random((6, 4)) > 0.5).astype(np.float32)
    signs = np.where(rng.random(6) > 0.5, 1.0, -1.0).astype(np.float32)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    t = mg.tensor
    return [
        (nn.MSELoss, {}, F.mse_loss, scores, scores[::-1].copy()),
        (nn.L1Loss, {}, F.l1_loss, scores, scores[::-1].copy()),
        (nn.HuberLoss, {"delta": 0.5}, F.huber_loss, scores, 2 * scores[::-1]),
        (nn.CrossEntropyLoss, {"weight": t(weight), "label_smoothing": 0.1}, F.cross_entropy,
         scores, classes),
        (nn.CrossEntropyLoss, {}, F.cross_entropy, scores, probs / probs.sum(1, keepdims=True)),
        (nn.NLLLoss, {"weight": t(weight)}, F.nll_loss, log_probs, classes),
        (nn.BCELoss, {"weight": t(weight)}, F.binary_cross_entropy, probs, bits),
        (nn.BCEWithLogitsLoss, {"weight": t(weight), "pos_weight": t(weight[::-1].copy())},
         F.binary_cross_entropy_with_logits, scores, bits),
        (nn.HingeLoss, {"margin": 0.5}, F.hinge_loss, scores[:, 0].copy(), signs),
        (nn.MultiMarginLoss, {"p": 2, "margin": 0.7, "weight": t(weight)}, F.multi_margin_loss,
         scores, classes),
    ]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", range(10))
def test_loss_module_equals_functional_twin(case, reduction):
    module_cls, options, fn, x_np, target_np = _loss_cases()[case]
    x1 = mg.tensor(x_np, requires_grad=True)
    x2 = mg.tensor(x_np, requires_grad=True)
    target = mg.tensor(target_np)
    module = module_cls(**options, reduction=reduction)
    got = module(x1, target)
    want = fn(x2, target, **options, reduction=reduction)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())
    assert module.reduction == reduction


def test_loss_modules_default_to_mean_and_validate_reduction():
    x = mg.randn(3, 2)
    y = mg.randn(3, 2)
    assert nn.MSELoss()(x, y).shape == ()
    np.testing.assert_allclose(nn.MSELoss()(x, y).item(), np.mean((x.numpy() - y.numpy()) ** 2),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="avg")
    loss = nn.CrossEntropyLoss(weight=mg.ones(3))
    assert "weight" in loss.state_dict()  # a buffer, so to(device) moves it


def test_a_small_model_learns():
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((64, 2)), dtype=mg.float32)
    y = mg.tensor((x.numpy()[:, 0] * x.numpy()[:, 1] > 0).astype(np.int64))
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(200):
        loss = loss_fn(model(x), y)
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert loss.item() < 0.5 * first


def test_registered_attributes_follow_every_change():
    lin = nn.Linear(3, 2)
    assert lin.weight is lin._parameters["weight"]
    new = nn.Parameter(mg.zeros(2, 3))
    lin.weight = new
    assert lin.weight is new and lin._parameters["weight"] is new
    lin.bias = None
    assert lin.bias is None and lin._parameters["bias"] is None
    lin.register_buffer("scale", mg.ones(2))
    assert lin.scale is lin._buffers["scale"]
    del lin.scale
    with pytest.raises(AttributeError):
        getattr(lin, "scale")  # noqa: B009
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    del seq[0]
    assert len(seq) == 1 and not hasattr(seq, "0")
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).to("numpy").double()
    assert model[1].running_mean is model[1]._buffers["running_mean"]
    assert model[1].running_mean.dtype == mg.float64
