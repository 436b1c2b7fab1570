"""The numba backend's window kernels (window max, fold, col2im, max-pooling and its
gradient) give what the NumPy backend's primitives give, on views, on gradients strided as
a matmul leaves them, and with NaNs; shapes the kernels do not take fall back to NumPy's."""

import numpy as np
import pytest

import minigrad as mg

pytest.importorskip("numba")

GEOMETRIES = [  # kernel, stride, dilation
    ((2, 2), (2, 2), (1, 1)),
    ((3, 3), (1, 1), (1, 1)),
    ((3, 2), (2, 1), (2, 1)),
    ((5, 5), (1, 1), (1, 1)),
]
SHAPES = [(3, 4, 11, 12), (5, 11, 12), (11, 12)]  # leading axes: two, one, none


@pytest.fixture
def backends(monkeypatch):
    """(numba, numpy), with the names of the kernels numba ran collected in ``ran``."""
    nb, ref = mg.get_backend("numba"), mg.get_backend("numpy")
    ran = []
    call = nb.kernels.call

    def spy(name, *args):
        ran.append(name)
        return call(name, *args)

    monkeypatch.setattr(nb.kernels, "call", spy)
    return nb, ref, ran


def _images(shape, dtype, seed=0, nans=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[..., ::3, 1::4] = 0.0  # ties, as after a ReLU
    if nans:
        x[..., 1, 1] = np.nan
        x[..., 2, 1:3] = np.nan
    return x


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nans", [False, True])
def test_window_max_equals_numpy(backends, shape, geometry, dtype, nans):
    nb, ref, ran = backends
    kernel, stride, dilation = geometry
    windows = ref.sliding_windows(_images(shape, dtype, nans=nans), kernel, stride, dilation)
    got, want = nb.window_max(windows, 2), ref.window_max(windows, 2)
    assert ran == ["window_max"]
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "permuted"])
def test_fold_windows_equals_numpy(backends, shape, geometry, dtype, layout):
    nb, ref, ran = backends
    kernel, stride, dilation = geometry
    windows_shape = ref.sliding_windows(np.empty(shape, dtype), kernel, stride, dilation).shape
    grad = _images(windows_shape, dtype, seed=1)
    if layout == "permuted":  # the same values, strided as the columns' matmul leaves them
        order = np.random.default_rng(2).permutation(grad.ndim)
        grad = np.ascontiguousarray(grad.transpose(order)).transpose(np.argsort(order))
    got, want = nb.fold_windows(grad, shape, stride, dilation), ref.fold_windows(
        grad, shape, stride, dilation)
    assert ran == ["fold_windows"]
    assert got.shape == want.shape == shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # the same sums in the same order


def test_other_windows_fall_back_to_numpy(backends):
    nb, ref, ran = backends
    x = _images((2, 3, 9), np.float32)
    windows = ref.sliding_windows(x, (3,), (2,), (1,))  # 1-D windows
    for g, w in zip(nb.window_max(windows, 1), ref.window_max(windows, 1)):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(nb.fold_windows(windows, x.shape, (2,), (1,)),
                                  ref.fold_windows(windows, x.shape, (2,), (1,)))
    half = ref.sliding_windows(_images((2, 9, 9), np.float16), (2, 2), (2, 2), (1, 1))
    for g, w in zip(nb.window_max(half, 2), ref.window_max(half, 2)):
        np.testing.assert_array_equal(g, w)
    assert ran == []


POOLS = GEOMETRIES + [((2, 2), (1, 1), (1, 1)), ((3, 3), (2, 2), (2, 2))]  # + overlapping
POOL_SHAPES = [(3, 4, 11, 12), (5, 10, 12), (12, 11)]  # odd and even sides


def _kernel_name(kernel, stride, dilation):
    return "max_pool_2x2" if kernel == stride == (2, 2) and dilation == (1, 1) else "max_pool"


@pytest.mark.parametrize("shape", POOL_SHAPES)
@pytest.mark.parametrize("geometry", POOLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nans", [False, True])
def test_max_pool_equals_numpy(backends, shape, geometry, dtype, nans):
    nb, ref, ran = backends
    x = _images(shape, dtype, nans=nans)
    name = _kernel_name(*geometry)
    got, want = nb.max_pool(x, *geometry), ref.max_pool(x, *geometry)
    assert ran == [name]
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    grad = _images(want[0].shape, dtype, seed=1)
    ran.clear()
    got = nb.max_pool_backward(grad, want[1], shape, *geometry)
    expected = ref.max_pool_backward(grad, want[1], shape, *geometry)
    assert ran == [f"{name}_backward"]
    assert got.shape == shape and got.dtype == dtype
    # windows that overlap add up in another order than NumPy's offset by offset
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_equals_numpy(backends, shape, geometry, dtype):
    nb, ref, ran = backends
    x = _images(shape, dtype)
    got, want = nb.im2col(x, *geometry), ref.im2col(x, *geometry)
    unit = geometry[1] == geometry[2] == (1, 1)
    assert ran == (["im2col_unit"] if unit else [])  # elsewhere NumPy's strided view
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    transposed = _images(shape[::-1], dtype).T  # not contiguous: copied first
    np.testing.assert_array_equal(nb.im2col(transposed, *geometry),
                                  ref.im2col(transposed, *geometry))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_equals_numpy(backends, shape, geometry, dtype):
    nb, ref, ran = backends
    kernel, stride, dilation = geometry
    cols_shape = np.ascontiguousarray(ref.im2col(np.empty(shape, dtype), *geometry)).shape
    cols = _images(cols_shape, dtype, seed=1)
    got, want = nb.col2im(cols, shape, stride, dilation), ref.col2im(cols, shape, stride,
                                                                     dilation)
    assert ran == ["col2im_unit" if stride == dilation == (1, 1) else "col2im"]
    assert got.shape == want.shape == shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # the same sums in the same order


def test_other_columns_and_pools_fall_back_to_numpy(backends):
    nb, ref, ran = backends
    x = _images((2, 3, 9), np.float32)
    for geometry in [((3,), (2,), (1,))]:  # 1-D
        for g, w in zip(nb.max_pool(x, *geometry), ref.max_pool(x, *geometry)):
            np.testing.assert_array_equal(g, w)
        cols = ref.im2col(x, *geometry)
        np.testing.assert_array_equal(nb.col2im(cols, x.shape, *geometry[1:]),
                                      ref.col2im(cols, x.shape, *geometry[1:]))
    half = _images((2, 9, 9), np.float16)
    for g, w in zip(nb.max_pool(half, (2, 2), (2, 2), (1, 1)),
                    ref.max_pool(half, (2, 2), (2, 2), (1, 1))):
        np.testing.assert_array_equal(g, w)
    strided = ref.im2col(_images((2, 9, 9), np.float32), (2, 2), (1, 1), (1, 1))  # a view
    np.testing.assert_array_equal(nb.col2im(strided, (2, 9, 9), (1, 1), (1, 1)),
                                  ref.col2im(strided, (2, 9, 9), (1, 1), (1, 1)))
    assert not set(ran) & {"col2im", "col2im_unit", "max_pool", "max_pool_2x2"}


DIRECT = [  # x shape, weight shape, dilation: all within the direct kernels' taps
    ((3, 1, 12, 11), (6, 1, 5, 5), (1, 1)),
    ((2, 3, 9, 10), (4, 3, 3, 3), (1, 1)),
    ((2, 2, 11, 9), (3, 2, 3, 2), (2, 3)),
    ((1, 1, 5, 5), (2, 1, 5, 5), (1, 1)),  # one output pixel
]


@pytest.mark.parametrize("shapes", DIRECT)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_conv_equals_numpy(backends, shapes, dtype):
    nb, ref, ran = backends
    x_shape, w_shape, dilation = shapes
    assert nb.conv2d_direct_pays(x_shape, w_shape, dtype)
    assert not ref.conv2d_direct_pays(x_shape, w_shape, dtype)
    x, w = _images(x_shape, dtype), _images(w_shape, dtype, seed=1)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    for bias in [None, np.random.default_rng(3).standard_normal(w_shape[0]).astype(dtype)]:
        got, want = nb.conv2d_direct(x, w, bias, dilation), ref.conv2d_direct(x, w, bias,
                                                                             dilation)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **tol)
    grad = _images(want.shape, dtype, seed=2)
    for needs in [(True, True), (False, True), (True, False)]:
        got = nb.conv2d_direct_backward(x, w, grad, dilation, *needs)
        want = ref.conv2d_direct_backward(x, w, grad, dilation, *needs)
        for g, wanted, needed in zip(got, want, needs):
            assert (g is None) == (wanted is None) == (not needed)
            if needed:
                assert g.shape == wanted.shape and g.dtype == wanted.dtype
                np.testing.assert_allclose(g, wanted, **tol)
    assert ran == ["conv_direct", "conv_direct", "conv_direct_weight", "conv_direct_input",
                   "conv_direct_weight", "conv_direct_input"]


def test_direct_conv_only_for_few_channels(backends):
    nb, _, _ = backends
    assert nb.conv2d_direct_pays((64, 1, 32, 32), (6, 1, 5, 5), np.float32)  # LeNet-5's first
    assert not nb.conv2d_direct_pays((64, 6, 14, 14), (16, 6, 5, 5), np.float32)  # second
    assert not nb.conv2d_direct_pays((2, 1, 9, 9), (2, 1, 3, 3), np.float16)


@pytest.mark.parametrize("w_shape", [(4, 3, 3, 3), (4, 6, 3, 3)])  # direct, im2col
def test_max_pool_and_conv_gradients_equal_numpy(w_shape):
    x0 = _images((2, w_shape[1], 10, 10), np.float32)
    w0 = np.random.default_rng(3).standard_normal(w_shape).astype(np.float32)
    results = []
    for device in ("numba", "numpy"):
        x = mg.tensor(x0, device=device, requires_grad=True)
        w = mg.tensor(w0, device=device, requires_grad=True)
        y = mg.functional.max_pool2d(mg.functional.conv2d(x, w).relu(), 2)
        (y * y).sum().backward()
        results.append([y.numpy(), x.grad.numpy(), w.grad.numpy()])
    for got, want in zip(*results):  # float32 sums, in another order on the direct route
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("w_shape", [(3, 1, 3, 3), (3, 2, 7, 3)])  # channels, too large
def test_direct_conv_refuses_what_does_not_fit(backends, w_shape):
    nb, _, ran = backends
    x, w = _images((2, 2, 5, 5), np.float32), _images(w_shape, np.float32, seed=1)
    with pytest.raises(ValueError):
        nb.conv2d_direct(x, w, None, (1, 1))
    assert not [name for name in ran if name.startswith("conv_direct")]  # the default ran
