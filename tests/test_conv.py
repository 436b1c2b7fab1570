"""Convolution, pooling, padding, normalisation and resampling functions against PyTorch.

Every function is checked in float64 on every device: the value, and the gradient of every
input along a random direction, within 1e-6 relative; the differentiable ones also
second-order (the gradient of a gradient, recorded with ``create_graph``). Then the
backend primitives' defaults against NumPy's strided versions, dtypes and errors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.backend import Backend, get_backend

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {"rtol": 1e-6, "atol": 1e-9}
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _compare(fn: Callable, torch_fn: Callable, arrays: list, device: str,
             second_order: bool = False) -> None:
    """``fn`` on minigrad tensors and ``torch_fn`` on torch tensors agree in value and in
    the gradient of every input along a random direction (and, with ``second_order``, in
    the gradient of that gradient's projection)."""
    rng = np.random.default_rng(1)
    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TOL)
    assert out.device == get_backend(device).name
    direction = rng.standard_normal(expected.shape)
    grads = mg.grad([(out * mg.tensor(direction, device=device)).sum()], ours,
                    create_graph=second_order)
    torch_grads = torch.autograd.grad((expected * torch.tensor(direction)).sum(), theirs,
                                      create_graph=second_order)
    for g, tg in zip(grads, torch_grads):
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), **TOL)
    if second_order:
        probes = [rng.standard_normal(a.shape) for a in arrays]
        total = sum((g * mg.tensor(p, device=device)).sum() for g, p in zip(grads, probes))
        torch_total = sum((g * torch.tensor(p)).sum() for g, p in zip(torch_grads, probes))
        second = mg.grad([total], ours, allow_unused=True)
        torch_second = torch.autograd.grad(torch_total, theirs, allow_unused=True)
        for g, tg, a in zip(second, torch_second, arrays):
            expected_second = np.zeros(a.shape) if tg is None else tg.numpy()
            got = np.zeros(a.shape) if g is None else g.numpy()
            np.testing.assert_allclose(got, expected_second, **TOL)


def _random(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + len(shape) + sum(shape)).standard_normal(shape)


# convolutions

CONV2D = [
    # (input shape, weight shape, options)
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 2, 9, 8), (3, 2, 3, 3), {"stride": (2, 3), "padding": (2, 0), "dilation": (1, 2)}),
    ((2, 4, 6, 6), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 4, 6, 5), (4, 1, 2, 3), {"groups": 4, "dilation": 2}),
    ((2, 3, 6, 7), (5, 3, 4, 3), {"padding": "same"}),
    ((2, 3, 6, 7), (5, 3, 2, 2), {"padding": "same", "dilation": (1, 2)}),
    ((2, 3, 6, 7), (5, 3, 3, 3), {"padding": "valid"}),
    ((3, 1, 8, 8), (2, 1, 1, 1), {"stride": 3}),
    # few input channels at stride 1: the direct kernels where a backend has them
    ((2, 1, 9, 8), (3, 1, 3, 2), {"padding": 1, "dilation": (2, 1)}),
    ((2, 2, 7, 7), (3, 2, 3, 3), {"padding": "same"}),
]


@pytest.mark.parametrize("dilation", [(1, 1), (2, 1)])
def test_direct_conv2d_matches_torch(device, dilation):
    """The direct convolution as its own op, on every backend (the composed default where a
    backend has no kernel), against PyTorch to second order."""
    from minigrad.conv_ops import DirectConv2d

    arrays = [_random(2, 2, 7, 8), _random(3, 2, 3, 2, seed=1), _random(3, seed=2)]
    _compare(lambda x, w, b: DirectConv2d.apply(x, w, b, dilation=dilation),
             lambda x, w, b: TF.conv2d(x, w, b, dilation=dilation), arrays, device,
             second_order=True)
    _compare(lambda x, w: DirectConv2d.apply(x, w, dilation=dilation),
             lambda x, w: TF.conv2d(x, w, dilation=dilation), arrays[:2], device)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shapes", CONV2D, ids=lambda c: str(c[2]))
def test_conv2d_matches_torch(device, shapes, bias):
    x_shape, w_shape, options = shapes
    arrays = [_random(*x_shape), _random(*w_shape, seed=1)]
    if bias:
        arrays.append(_random(w_shape[0], seed=2))
    _compare(lambda *t: F.conv2d(*t, **options), lambda *t: TF.conv2d(*t, **options),
             arrays, device)


@pytest.mark.parametrize("options", [{}, {"stride": 2, "padding": 1, "groups": 2},
                                     {"padding": "same", "dilation": 2}])
def test_conv1d_matches_torch(device, options):
    arrays = [_random(2, 4, 11), _random(6, 4 // options.get("groups", 1), 3, seed=1),
              _random(6, seed=2)]
    _compare(lambda *t: F.conv1d(*t, **options), lambda *t: TF.conv1d(*t, **options),
             arrays, device)


CONV_TRANSPOSE2D = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    ((2, 3, 4, 5), (3, 2, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 3, 4), (4, 3, 2, 3), {"stride": (1, 2), "dilation": 2, "groups": 2}),
    ((2, 2, 5, 3), (2, 1, 3, 3), {"stride": 3, "padding": (1, 0), "output_padding": (2, 1)}),
]


@pytest.mark.parametrize("shapes", CONV_TRANSPOSE2D, ids=lambda c: str(c[2]))
def test_conv_transpose2d_matches_torch(device, shapes):
    x_shape, w_shape, options = shapes
    out_channels = w_shape[1] * options.get("groups", 1)
    arrays = [_random(*x_shape), _random(*w_shape, seed=1), _random(out_channels, seed=2)]
    _compare(lambda *t: F.conv_transpose2d(*t, **options),
             lambda *t: TF.conv_transpose2d(*t, **options), arrays, device)


def test_conv_transpose1d_matches_torch(device):
    options = {"stride": 2, "padding": 1, "output_padding": 1}
    arrays = [_random(2, 3, 5), _random(3, 4, 3, seed=1)]
    _compare(lambda *t: F.conv_transpose1d(*t, **options),
             lambda *t: TF.conv_transpose1d(*t, **options), arrays, device)


def test_unbatched_inputs(device):
    x, w = _random(3, 6, 5), _random(2, 3, 3, 3, seed=1)
    _compare(lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: TF.conv2d(a, b, padding=1),
             [x, w], device)
    _compare(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x], device)


# pooling

MAX_POOL2D = [
    (2, {}),
    (3, {"stride": 2, "padding": 1}),
    ((2, 3), {"stride": (1, 2), "padding": (1, 0), "dilation": 2}),
    (3, {"stride": 2, "padding": 1, "ceil_mode": True}),
    (2, {"stride": 3, "ceil_mode": True}),
    ((3, 2), {"stride": 1, "dilation": (1, 3), "ceil_mode": True}),
]


@pytest.mark.parametrize("case", MAX_POOL2D, ids=lambda c: str(c[1]))
def test_max_pool2d_matches_torch(device, case):
    kernel, options = case
    x = _random(2, 3, 9, 8)
    _compare(lambda t: F.max_pool2d(t, kernel, **options),
             lambda t: TF.max_pool2d(t, kernel, **options), [x], device)
    _, indices = F.max_pool2d(mg.tensor(x, device=device), kernel, return_indices=True,
                              **options)
    _, torch_indices = TF.max_pool2d(torch.tensor(x), kernel, return_indices=True, **options)
    np.testing.assert_array_equal(indices.numpy(), torch_indices.numpy())


def test_max_pool_gradient_goes_to_the_first_maximum(device):
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]]])
    _compare(lambda t: F.max_pool2d(t, 2, 1), lambda t: TF.max_pool2d(t, 2, 1), [x], device)


def test_max_pool_nan_is_the_maximum(device):
    x = _random(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 3, 3] = np.nan
    out, indices = F.max_pool2d(mg.tensor(x, device=device), 2, return_indices=True)
    expected, torch_indices = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), torch_indices.numpy())


def test_max_pool1d_matches_torch(device):
    _compare(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True),
             lambda t: TF.max_pool1d(t, 3, 2, 1, ceil_mode=True), [_random(2, 3, 10)], device)


AVG_POOL2D = [
    (2, {}),
    (3, {"stride": 2, "padding": 1}),
    (3, {"stride": 2, "padding": 1, "count_include_pad": False}),
    (3, {"stride": 2, "padding": 1, "ceil_mode": True}),
    (3, {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ((2, 3), {"stride": (3, 2), "ceil_mode": True}),
    (3, {"stride": 1, "padding": 1, "divisor_override": 5}),
]


@pytest.mark.parametrize("case", AVG_POOL2D, ids=lambda c: str(c[1]))
def test_avg_pool2d_matches_torch(device, case):
    kernel, options = case
    _compare(lambda t: F.avg_pool2d(t, kernel, **options),
             lambda t: TF.avg_pool2d(t, kernel, **options), [_random(2, 3, 9, 8)], device)


def test_avg_pool1d_matches_torch(device):
    _compare(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
             lambda t: TF.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
             [_random(2, 3, 10)], device)


@pytest.mark.parametrize("size", [(4, 3), 1, 5, (None, 2), (9, 8)])
def test_adaptive_avg_pool2d_matches_torch(device, size):
    _compare(lambda t: F.adaptive_avg_pool2d(t, size),
             lambda t: TF.adaptive_avg_pool2d(t, size), [_random(2, 3, 9, 8)], device)


# padding


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(1, 2), (2, 0, 1, 3), (0, 1, 2, 2)])
def test_pad_matches_torch(device, mode, pads):
    shape = (2, 3, 5, 4)[:len(pads) // 2 + 2]  # the ranks PyTorch pads in every mode
    _compare(lambda t: F.pad(t, pads, mode), lambda t: TF.pad(t, pads, mode),
             [_random(*shape)], device)


@pytest.mark.parametrize("pads", [(-1, 2), (1, -2, -1, 0), (0, 0, 2, 1, 1, 1)])
def test_constant_pad_value_and_cropping(device, pads):
    _compare(lambda t: F.pad(t, pads, value=-2.5), lambda t: TF.pad(t, pads, value=-2.5),
             [_random(2, 3, 5, 4)], device)


# normalisation


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(device, shape, affine):
    x = _random(*shape)
    running = [np.linspace(-1, 1, 3), np.linspace(0.5, 2, 3)]
    ours = [mg.tensor(r, device=device) for r in running]
    theirs = [torch.tensor(r) for r in running]
    arrays = [x] + ([_random(3, seed=1), _random(3, seed=2)] if affine else [])
    _compare(lambda t, *wb: F.batch_norm(t, *ours, *wb, training=True, momentum=0.3),
             lambda t, *wb: TF.batch_norm(t, *theirs, *wb, training=True, momentum=0.3),
             arrays, device)
    for mine, expected in zip(ours, theirs):  # updated once per forward
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), **TOL)


def test_batch_norm_eval_uses_the_running_estimates(device):
    running = [_random(3, seed=3), np.abs(_random(3, seed=4)) + 0.1]
    ours = [mg.tensor(r, device=device) for r in running]
    theirs = [torch.tensor(r) for r in running]
    arrays = [_random(2, 3, 4, 4), _random(3, seed=1), _random(3, seed=2)]
    _compare(lambda t, w, b: F.batch_norm(t, *ours, w, b, eps=1e-3),
             lambda t, w, b: TF.batch_norm(t, *theirs, w, b, eps=1e-3), arrays, device)
    np.testing.assert_array_equal(ours[0].numpy(), running[0])


@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5), 5])
def test_layer_norm_matches_torch(device, normalized_shape):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    arrays = [_random(3, 4, 5), _random(*shape, seed=1), _random(*shape, seed=2)]
    _compare(lambda *t: F.layer_norm(t[0], normalized_shape, *t[1:], eps=1e-4),
             lambda *t: TF.layer_norm(t[0], shape, *t[1:], eps=1e-4), arrays, device)


# second order: the gradient of the gradient, recorded with create_graph

SECOND_ORDER = {
    "conv2d": (lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),
               lambda x, w: TF.conv2d(x, w, stride=2, padding=1, groups=2),
               [(2, 4, 5, 5), (4, 2, 3, 3)]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                         lambda x, w: TF.conv_transpose2d(x, w, stride=2, padding=1),
                         [(2, 3, 3, 3), (3, 2, 3, 3)]),
    "max_pool2d": (lambda x: F.max_pool2d(x * x, 3, 2, 1, ceil_mode=True),
                   lambda x: TF.max_pool2d(x * x, 3, 2, 1, ceil_mode=True), [(2, 3, 6, 5)]),
    "max_pool2d_2x2": (lambda x: F.max_pool2d(x * x, 2), lambda x: TF.max_pool2d(x * x, 2),
                       [(2, 3, 5, 6)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x * x, 3, 2, 1, count_include_pad=False),
                   lambda x: TF.avg_pool2d(x * x, 3, 2, 1, count_include_pad=False),
                   [(2, 3, 6, 5)]),
    "batch_norm": (lambda x, w: F.batch_norm(x, None, None, w, training=True),
                   lambda x, w: TF.batch_norm(x, None, None, w, training=True),
                   [(4, 3, 2, 2), (3,)]),
    "layer_norm": (lambda x, w: F.layer_norm(x, (4,), w),
                   lambda x, w: TF.layer_norm(x, (4,), w), [(3, 4), (4,)]),
    "pad_reflect": (lambda x: F.pad(x * x, (1, 2, 2, 1), "reflect"),
                    lambda x: TF.pad(x * x, (1, 2, 2, 1), "reflect"), [(1, 2, 4, 4)]),
    "interpolate": (lambda x: F.interpolate(x * x, scale_factor=2, mode="bilinear"),
                    lambda x: TF.interpolate(x * x, scale_factor=2, mode="bilinear"),
                    [(1, 2, 3, 3)]),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_matches_torch(device, name):
    fn, torch_fn, shapes = SECOND_ORDER[name]
    arrays = [_random(*shape, seed=i) for i, shape in enumerate(shapes)]
    _compare(fn, torch_fn, arrays, device, second_order=True)


# resampling, embedding, dropout


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False),
                                                ("bilinear", True)])
@pytest.mark.parametrize("resize", [{"size": (13, 5)}, {"size": 4}, {"scale_factor": 1.7},
                                    {"scale_factor": (0.5, 3)}])
def test_interpolate_matches_torch(device, mode, align_corners, resize):
    _compare(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **resize),
             lambda t: TF.interpolate(t, mode=mode, align_corners=align_corners, **resize),
             [_random(2, 3, 9, 8)], device)


def test_interpolate_linear_and_nearest_1d(device):
    for mode in ("nearest", "linear"):
        _compare(lambda t, m=mode: F.interpolate(t, size=7, mode=m),
                 lambda t, m=mode: TF.interpolate(t, size=7, mode=m), [_random(2, 3, 10)],
                 device)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(device, padding_idx):
    index = np.array([[0, 2, 4], [2, 2, 1]])
    _compare(lambda w: F.embedding(mg.tensor(index, device=device), w, padding_idx),
             lambda w: TF.embedding(torch.tensor(index), w, padding_idx),
             [_random(5, 3)], device)


def test_dropout2d_zeroes_whole_channels(device):
    x = mg.ones(8, 16, 3, 3, device=device, requires_grad=True)
    y = F.dropout2d(x, p=0.25)
    values = y.numpy()
    per_channel = values.reshape(8, 16, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # a channel is kept or not
    assert set(np.unique(values)) <= {0.0, np.float32(1 / 0.75)}
    assert 0 < (values == 0).mean() < 0.6
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)
    assert F.dropout2d(x, 0.5, training=False) is x


# backend primitives, dtypes and errors


@pytest.mark.parametrize("kernel,stride,dilation", [((3, 2), (2, 1), (1, 2)), ((2,), (3,), (2,)),
                                                    ((1, 1), (1, 1), (1, 1))])
def test_window_defaults_match_numpy(kernel, stride, dilation):
    """The primitives a new backend gets for free agree with NumPy's strided versions."""
    numpy_backend = get_backend("numpy")
    x = _random(2, 3, 9, 8)
    windows = numpy_backend.sliding_windows(x, kernel, stride, dilation)
    np.testing.assert_array_equal(Backend.sliding_windows(numpy_backend, x, kernel, stride,
                                                          dilation), windows)
    grad = _random(*windows.shape, seed=5)
    np.testing.assert_allclose(
        Backend.fold_windows(numpy_backend, grad, x.shape, stride, dilation),
        numpy_backend.fold_windows(grad, x.shape, stride, dilation), rtol=1e-12)
    for ours, theirs in zip(Backend.window_max(numpy_backend, windows, len(kernel)),
                            numpy_backend.window_max(windows, len(kernel))):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("kernel,stride,dilation", [((3, 2), (2, 1), (1, 2)), ((2,), (3,), (2,)),
                                                    ((2, 2), (2, 2), (1, 1))])
def test_column_and_pooling_defaults_match_the_windows(kernel, stride, dilation):
    """im2col, col2im, max_pool and its gradient, as Backend writes them, agree with the
    windows they are laid out from."""
    numpy_backend = get_backend("numpy")
    x = _random(2, 3, 9, 8)
    k = len(kernel)
    lead = x.ndim - k
    windows = numpy_backend.sliding_windows(x, kernel, stride, dilation)
    order = (*range(lead), *range(lead + k, lead + 2 * k), *range(lead, lead + k))
    cols = numpy_backend.im2col(x, kernel, stride, dilation)
    np.testing.assert_array_equal(cols, windows.transpose(order))
    grad = _random(*cols.shape, seed=5)
    np.testing.assert_array_equal(
        numpy_backend.col2im(grad, x.shape, stride, dilation),
        numpy_backend.fold_windows(grad.transpose(np.argsort(order)), x.shape, stride,
                                   dilation))
    values, best = numpy_backend.max_pool(x, kernel, stride, dilation)
    flat = windows.reshape(*windows.shape[:-k], -1)
    np.testing.assert_array_equal(values, flat.max(-1))
    np.testing.assert_array_equal(best, flat.argmax(-1))
    grad = _random(*values.shape, seed=6)
    expected = np.zeros_like(x)  # each gradient added at its window's first maximum
    positions = np.stack(np.unravel_index(best, kernel), axis=-1)
    for index in np.ndindex(*values.shape):
        start = [i * s for i, s in zip(index[lead:], stride)]
        at = tuple(a + p * d for a, p, d in zip(start, positions[index], dilation))
        expected[(*index[:lead], *at)] += grad[index]
    np.testing.assert_allclose(
        numpy_backend.max_pool_backward(grad, best, x.shape, kernel, stride, dilation),
        expected, rtol=1e-12)


@pytest.mark.parametrize("conv,pool", [
    ({"padding": 2}, (2, {})),  # LeNet-5's blocks
    ({}, (2, {})),
    ({"dilation": (2, 1), "padding": 1}, (3, {"stride": 2, "padding": 1})),
    ({"stride": 2, "groups": 3}, (2, {"stride": 1, "dilation": 2})),
], ids=["lenet1", "lenet2", "dilated", "strided"])
def test_float32_conv_block_matches_torch(device, conv, pool):
    """conv2d, bias, relu and max-pooling in float32, as LeNet-5 runs them (and around):
    value and gradients within float32 rounding of PyTorch's."""
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for shape in [(4, 3, 12, 12), (6, 3 // conv.get("groups", 1), 5, 5), (6,)]]
    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.max_pool2d(F.conv2d(*ours, **conv).relu(), pool[0], **pool[1])
    expected = TF.max_pool2d(TF.relu(TF.conv2d(*theirs, **conv)), pool[0], **pool[1])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    direction = rng.standard_normal(expected.shape).astype(np.float32)
    (y * mg.tensor(direction, device=device)).sum().backward()
    (expected * torch.tensor(direction)).sum().backward()
    for a, b in zip(ours, theirs):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fn", [
    lambda x, w: F.conv2d(x, w, padding=1),
    lambda x, w: F.conv_transpose2d(x, w.swapaxes(0, 1), stride=2),
    lambda x, w: F.max_pool2d(F.avg_pool2d(x, 2, 1), 2),
    lambda x, w: F.batch_norm(x, None, None, training=True),
    lambda x, w: F.interpolate(x, scale_factor=2, mode="bilinear"),
])
def test_float32_stays_float32(device, fn):
    x = mg.randn(2, 3, 6, 6, device=device, requires_grad=True)
    w = mg.randn(4, 3, 3, 3, device=device, requires_grad=True)
    y = fn(x, w)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("call,message", [
    (lambda x: F.conv2d(x, mg.randn(4, 2, 3, 3)), "groups"),
    (lambda x: F.conv2d(x, mg.randn(4, 3, 3, 3), stride=2, padding="same"), "strided"),
    (lambda x: F.conv2d(x, mg.randn(4, 3, 3, 3), padding="full"), "padding"),
    (lambda x: F.conv2d(x, mg.randn(4, 3, 9, 3)), "larger"),
    (lambda x: F.conv2d(x, mg.randn(4, 3, 3)), "4-D weight"),
    (lambda x: F.max_pool2d(x, 2, padding=2), "half"),
    (lambda x: F.conv_transpose2d(x, mg.randn(3, 2, 3, 3), output_padding=1), "output pad"),
    (lambda x: F.pad(x, (1, 2, 3)), "even"),
    (lambda x: F.pad(x, (5, 0), "reflect"), "invalid"),
    (lambda x: F.batch_norm(x[:1, :, :1, :1], None, None, training=True), "more than 1"),
])
def test_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call(mg.randn(2, 3, 5, 5))


def test_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="float64"):
        F.conv2d(mg.randn(1, 3, 5, 5), mg.randn(2, 3, 3, 3, dtype=np.float64))
