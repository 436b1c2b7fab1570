"""Convolution, pooling and normalisation modules against PyTorch's.

State dicts travel both ways (same keys, shapes and values, so outputs and gradients
agree); initialisation follows PyTorch's bounds; BatchNorm's running statistics after a
few training steps equal PyTorch's, with every momentum and mode; buffers move with the
module and stay out of ``parameters()``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")
TOL = {"rtol": 1e-6, "atol": 1e-9}
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _pair(ours: nn.Module, theirs, device: str):
    """Our module in float64 on ``device``, holding torch's (float64) values."""
    theirs.double()
    ours.double().to(device)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _check_forward_backward(ours: nn.Module, theirs, x: np.ndarray, device: str) -> None:
    xt = torch.tensor(x, requires_grad=True)
    xm = mg.tensor(x, device=device, requires_grad=True)
    out, expected = ours(xm), theirs(xt)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TOL)
    direction = np.random.default_rng(3).standard_normal(expected.shape)
    (out * mg.tensor(direction, device=device)).sum().backward()
    (expected * torch.tensor(direction)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), **TOL)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **TOL)


CONV_MODULES = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": 2, "padding": "same", "groups": 2}, (2, 4, 7, 6)),
    ("Conv2d", (3, 4, 3), {"padding": (1, 2), "padding_mode": "reflect"}, (2, 3, 7, 6)),
    ("Conv2d", (3, 4, 3), {"padding": 1, "padding_mode": "replicate", "bias": False},
     (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 2), {"padding": "same", "padding_mode": "circular", "dilation": 2},
     (2, 3, 5, 6)),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2}, (2, 4, 4, 3)),
]


@pytest.mark.parametrize("name,args,options,shape", CONV_MODULES,
                         ids=[f"{c[0]}-{c[2]}" for c in CONV_MODULES])
def test_conv_modules_match_torch(device, name, args, options, shape):
    if options.get("stride", 1) != 1 and options.get("padding") == "same":
        options = {**options, "stride": 1}
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **options)
    ours, theirs = _pair(getattr(nn, name)(*args, **options), theirs, device)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _check_forward_backward(ours, theirs, np.random.default_rng(0).standard_normal(shape),
                            device)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("module", [
    lambda: nn.Conv2d(6, 8, (3, 5), groups=2), lambda: nn.Conv1d(4, 16, 7),
    lambda: nn.ConvTranspose2d(6, 9, 3, groups=3),
])
def test_initialisation_bounds_are_torchs(module):
    m = module()
    fan_in = m.weight.shape[1] * math.prod(m.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    for p in (m.weight, m.bias):
        values = np.abs(p.numpy())
        assert values.max() <= bound and values.max() > 0.6 * bound
    assert m.weight.dtype == np.float32


def test_state_dict_round_trips_to_torch(device):
    ours = nn.Conv2d(3, 5, 3, padding=1).to(device)
    theirs = torch.nn.Conv2d(3, 5, 3, padding=1)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x, device=device)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# batch normalisation


def _batches(shape: tuple, count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.standard_normal(shape) * (1 + i) + i for i in range(count)]


@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 3, 2))])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batch_norm_running_stats_follow_torch(device, name, shape, momentum):
    ours = getattr(nn, name)(3, momentum=momentum)
    ours, theirs = _pair(ours, getattr(torch.nn, name)(3, momentum=momentum), device)
    for x in _batches(shape):
        out, expected = ours(mg.tensor(x, device=device)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TOL)
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert list(mine) == ["weight", "bias", "running_mean", "running_var",
                          "num_batches_tracked"] == list(reference)
    for key in reference:
        np.testing.assert_allclose(mine[key], reference[key].numpy(), err_msg=key, **TOL)
    assert mine["num_batches_tracked"].dtype == np.int64
    ours.eval()
    theirs.eval()
    _check_forward_backward(ours, theirs, _batches(shape, 5)[-1], device)


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batch_norm_options(device, affine, track):
    options = {"affine": affine, "track_running_stats": track}
    ours, theirs = _pair(nn.BatchNorm2d(3, **options), torch.nn.BatchNorm2d(3, **options),
                         device)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    for x in _batches((4, 3, 2, 2), 2):
        np.testing.assert_allclose(ours(mg.tensor(x, device=device)).numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), **TOL)
    ours.eval()
    theirs.eval()  # without running estimates, evaluation still uses the batch's
    x = _batches((4, 3, 2, 2), 3)[-1]
    np.testing.assert_allclose(ours(mg.tensor(x, device=device)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), **TOL)


def test_batch_norm_buffers_move_with_the_module_and_are_not_parameters(device):
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    bn.to(device).double()
    assert all(b.device == mg.get_backend(device).name for b in bn.buffers())
    assert bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64  # integer state keeps its type
    bn(mg.randn(3, 4, 2, 2, device=device, dtype=np.float64))
    assert int(bn.num_batches_tracked.item()) == 1


def test_batch_norm_rejects_the_wrong_rank():
    with pytest.raises(ValueError, match="4D"):
        nn.BatchNorm2d(3)(mg.randn(4, 3))


# other modules


def test_layer_norm_matches_torch(device):
    theirs = torch.nn.LayerNorm((4, 5))
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours, theirs = _pair(nn.LayerNorm((4, 5)), theirs, device)
    _check_forward_backward(ours, theirs, np.random.default_rng(0).standard_normal((3, 4, 5)),
                            device)
    assert list(nn.LayerNorm(5, bias=False).state_dict()) == ["weight"]


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_matches_torch(device, padding_idx):
    ours = nn.Embedding(6, 3, padding_idx=padding_idx)
    assert padding_idx is None or not ours.weight.numpy()[padding_idx].any()
    assert ours.weight.numpy().std() > 0.5  # drawn from N(0, 1)
    ours, theirs = _pair(ours, torch.nn.Embedding(6, 3, padding_idx=padding_idx), device)
    index = np.array([[1, 5, 1], [0, 2, 1]])
    out, expected = ours(mg.tensor(index, device=device)), theirs(torch.tensor(index))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TOL)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), **TOL)


@pytest.mark.parametrize("module,torch_module", [
    (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
     lambda: torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     lambda: torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: torch.nn.AdaptiveAvgPool2d((2, 3))),
    (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3))),
])
def test_parameterless_modules_match_torch(device, module, torch_module):
    shape = (2, 6, 5) if isinstance(module(), nn.Unflatten) else (2, 3, 7, 6)
    _check_forward_backward(module(), torch_module(),
                            np.random.default_rng(0).standard_normal(shape), device)


def test_max_pool_module_returns_indices():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    out, indices = nn.MaxPool2d(2, return_indices=True)(mg.tensor(x))
    _, expected = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


def test_dropout2d_module_train_and_eval():
    drop = nn.Dropout2d(0.5)
    x = mg.ones(4, 8, 2, 2)
    assert (drop(x).numpy() == 0).any()
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError):
        nn.Dropout2d(1.5)


def test_digits_cnn_loads_a_torch_state_dict():
    ours = nn.digits_cnn()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1, bias=False), torch.nn.BatchNorm2d(32),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1, bias=False), torch.nn.BatchNorm2d(64),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(256, 10))
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make, shape", [
    (lambda lib: lib.nn.GroupNorm(2, 4), (3, 4, 5, 6)),
    (lambda lib: lib.nn.GroupNorm(4, 4, affine=False), (2, 4, 7)),
    (lambda lib: lib.nn.GroupNorm(1, 6, eps=1e-3), (2, 6)),
    (lambda lib: lib.nn.InstanceNorm2d(4), (3, 4, 5, 6)),
    (lambda lib: lib.nn.InstanceNorm1d(3, affine=True), (2, 3, 8)),
    (lambda lib: lib.nn.InstanceNorm2d(4, affine=True, track_running_stats=True), (3, 4, 5, 6)),
    (lambda lib: lib.nn.InstanceNorm1d(3, momentum=None, track_running_stats=True), (3, 7)),
])
def test_group_and_instance_norm(device, make, shape):
    ours, theirs = _pair(make(mg), make(torch), device)
    rng = np.random.default_rng(4)
    for _ in range(2):  # running statistics, where kept, move twice
        _check_forward_backward(ours, theirs, rng.standard_normal(shape) * 3 + 1, device)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), **TOL, err_msg=key)
    ours.eval()
    theirs.eval()
    _check_forward_backward(ours, theirs, rng.standard_normal(shape), device)


@pytest.mark.parametrize("make, shape", [
    (lambda lib: lib.nn.Unfold(3), (2, 3, 6, 7)),
    (lambda lib: lib.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (2, 3, 6, 7)),
    (lambda lib: lib.nn.Unfold(2, stride=2), (3, 5, 5)),
    (lambda lib: lib.nn.Fold((6, 7), 3), (2, 27, 20)),
    (lambda lib: lib.nn.Fold((6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
     (2, 18, 20)),
    (lambda lib: lib.nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 9)),
    (lambda lib: lib.nn.AvgPool1d(2, ceil_mode=True), (2, 3, 9)),
])
def test_unfold_fold_and_1d_pooling(device, make, shape):
    ours, theirs = make(mg), make(torch)
    _check_forward_backward(ours, theirs, np.random.default_rng(5).standard_normal(shape),
                            device)
