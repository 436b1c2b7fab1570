"""Errors say what went wrong in words a user can act on: each message is checked for the
facts it must carry (the op, the shapes, the device, the way out)."""

import numpy as np
import pytest

import minigrad as mg

SHAPE_ERRORS = (ValueError, RuntimeError)

BROADCAST_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: mg.maximum(a, b),
    "minimum": lambda a, b: mg.minimum(a, b),
}


@pytest.mark.parametrize("name", sorted(BROADCAST_OPS))
def test_shapes_that_do_not_broadcast(device, name):
    a = mg.ones(2, 3, device=device)
    b = mg.ones(4, device=device)
    with pytest.raises(SHAPE_ERRORS) as info:
        BROADCAST_OPS[name](a, b)
    message = str(info.value)
    assert name in message.lower()
    assert "(2, 3)" in message and "(4,)" in message


def test_broadcast_error_with_numpy_operand(device):
    a = mg.ones(2, 3, device=device)
    with pytest.raises(SHAPE_ERRORS) as info:
        a * np.ones((5,))
    message = str(info.value)
    assert "mul" in message.lower() and "(2, 3)" in message and "(5,)" in message


def test_where_shapes_that_do_not_broadcast(device):
    cond = mg.tensor([True, False], device=device)
    with pytest.raises(SHAPE_ERRORS) as info:
        mg.where(cond, mg.ones(3, device=device), mg.zeros(3, device=device))
    message = str(info.value)
    assert "where" in message.lower() and "(3,)" in message


def test_broadcast_to_incompatible_shape(device):
    with pytest.raises(SHAPE_ERRORS) as info:
        mg.ones(3, device=device).broadcast_to((2, 4))
    message = str(info.value).replace(" ", "")
    assert "(3,)" in message and "(2,4)" in message


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)),
                                              ((5, 2, 3), (4, 2))])
def test_matmul_shape_mismatch_names_both_shapes(device, shape_a, shape_b):
    a = mg.ones(*shape_a, device=device)
    b = mg.ones(*shape_b, device=device)
    with pytest.raises(SHAPE_ERRORS) as info:
        a @ b
    message = str(info.value)
    assert str(shape_a) in message and str(shape_b) in message
    assert "matmul" in message.lower()


def test_matmul_of_zero_dim_tensor(device):
    with pytest.raises(SHAPE_ERRORS, match="matmul"):
        mg.tensor(2.0, device=device) @ mg.ones(2, device=device)


def test_reshape_to_wrong_size(device):
    with pytest.raises(SHAPE_ERRORS) as info:
        mg.ones(2, 3, device=device).reshape(4, 2)
    message = str(info.value)
    assert "(2, 3)" in message and "reshape" in message.lower()


def test_concatenate_mismatched_shapes(device):
    with pytest.raises(SHAPE_ERRORS) as info:
        mg.concatenate([mg.ones(2, 3, device=device), mg.ones(2, 4, device=device)])
    message = str(info.value)
    assert "concatenate" in message.lower()
    assert "(2, 3)" in message and "(2, 4)" in message


def test_concatenate_and_stack_need_tensors(device):
    with pytest.raises(ValueError, match="at least one"):
        mg.concatenate([])
    with pytest.raises(ValueError, match="at least one"):
        mg.stack([])


@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1.0, 2.0], [3.0, [4.0]]], [1, [2, 3]]])
def test_ragged_nested_lists(device, data):
    with pytest.raises(ValueError, match="ragged"):
        mg.tensor(data, device=device)


@pytest.mark.parametrize("dtype", ["complex64", "float128-ish", "not_a_dtype", object,
                                   np.complex128, "U8"])
def test_unknown_dtype(device, dtype):
    with pytest.raises(TypeError) as info:
        mg.tensor([1.0], dtype=dtype, device=device)
    message = str(info.value)
    assert "dtype" in message
    assert "float32" in message  # lists what is supported


def test_unknown_dtype_in_creation_functions(device):
    with pytest.raises(TypeError, match="dtype"):
        mg.zeros(2, dtype="complex64", device=device)
    with pytest.raises(TypeError, match="dtype"):
        mg.ones(2, device=device).astype("complex64")


def test_objects_that_are_not_numbers(device):
    with pytest.raises(TypeError):
        mg.tensor(["a", "b"], device=device)
    with pytest.raises(TypeError):
        mg.tensor({"a": 1}, device=device)


def test_unknown_device():
    with pytest.raises(ValueError) as info:
        mg.ones(2, device="gpu7")
    message = str(info.value)
    assert "gpu7" in message and "numpy" in message
    with pytest.raises(TypeError, match="device"):
        mg.ones(2, device=3)


def test_backward_without_gradient_on_non_scalar(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x * x).reshape(2, 1)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "gradient" in message and "(2, 1)" in message


def test_backward_with_gradient_of_wrong_shape(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (x * 2).backward(mg.ones(3, device=device))
    message = str(info.value)
    assert "(3,)" in message and "(2,)" in message


def test_backward_on_tensor_without_grad(device):
    with pytest.raises(RuntimeError, match="requires_grad|require grad"):
        (mg.ones(2, device=device) * 2).sum().backward()


def test_second_backward_through_freed_graph(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    loss = (x.tanh() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    assert "second time" in message and "retain_graph=True" in message
    with pytest.raises(RuntimeError, match="retain_graph"):
        mg.grad(loss, x)


@pytest.mark.parametrize("dtype", [mg.int64, mg.int32, mg.bool_])
def test_grad_on_integer_tensors(device, dtype):
    with pytest.raises(RuntimeError) as info:
        mg.tensor([1, 2], dtype=dtype, device=device, requires_grad=True)
    message = str(info.value)
    assert "floating" in message and str(np.dtype(dtype)) in message
    t = mg.tensor([1, 2], dtype=dtype, device=device)
    with pytest.raises(RuntimeError, match="floating"):
        t.requires_grad_()
    with pytest.raises(RuntimeError, match="floating"):
        mg.arange(3, device=device, requires_grad=True)


def test_mg_grad_with_input_not_requiring_grad(device):
    x = mg.tensor([1.0], device=device, requires_grad=True)
    c = mg.tensor([2.0], device=device)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((x * c).sum(), [x, c])


def test_item_on_multi_element_tensor(device):
    t = mg.tensor([1.0, 2.0, 3.0], device=device)
    with pytest.raises((ValueError, RuntimeError)) as info:
        t.item()
    message = str(info.value)
    assert "one-element" in message and "(3,)" in message
    with pytest.raises((ValueError, RuntimeError, TypeError)):
        float(t)
    with pytest.raises((ValueError, RuntimeError, TypeError)):
        int(t)


def test_bool_of_multi_element_tensor(device):
    t = mg.tensor([1.0, 2.0], device=device)
    with pytest.raises((ValueError, RuntimeError)) as info:
        bool(t)
    message = str(info.value)
    assert "ambiguous" in message and "(2,)" in message
    with pytest.raises((ValueError, RuntimeError), match="ambiguous"):
        if t > 0:
            pass


def test_len_of_zero_dim_tensor(device):
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0, device=device))


def test_clip_without_bounds(device):
    with pytest.raises(ValueError, match="min"):
        mg.ones(2, device=device).clip()


def test_unsqueeze_axis_out_of_range(device):
    with pytest.raises(IndexError, match="unsqueeze"):
        mg.ones(2, 3, device=device).unsqueeze(4)


def test_index_out_of_range(device):
    with pytest.raises(IndexError):
        mg.ones(2, 3, device=device)[5]


def test_in_place_on_leaf_requiring_grad_explains_the_fix(device):
    w = mg.ones(2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        w += 1.0
    message = str(info.value)
    assert "leaf" in message and "no_grad" in message


def test_version_error_names_op_and_fix(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    a = mg.tensor([3.0, 4.0], device=device)
    y = (x * a).sum()
    a.mul_(2.0)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "Mul" in message and "in-place" in message and "modified" in message


def test_mixing_devices_in_one_op_names_both_devices(device):
    others = [d for d in mg.devices() if d != device]
    if not others:
        pytest.skip("one usable device")
    a = mg.ones(2, device=device)
    b = mg.ones(2, device=others[0])
    with pytest.raises(RuntimeError) as info:
        a + b
    message = str(info.value)
    assert device in message and others[0] in message


def test_gradcheck_without_inputs_requiring_grad(device):
    with pytest.raises(ValueError, match="requires grad"):
        mg.gradcheck(lambda t: t * 2, [mg.ones(2, dtype=mg.float64, device=device)])


def test_user_function_returning_wrong_number_of_gradients(device):
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = mg.ones(2, device=device, requires_grad=True)
    b = mg.ones(2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        Bad.apply(a, b).sum().backward()
    message = str(info.value)
    assert "Bad" in message and "1" in message and "2" in message


# creation: what PyTorch refuses is refused, nothing is truncated or allocated in vain
ARANGE_REFUSED = [(0, 5, 0), (0, 5, 0.0), (5, 0, 1), (0, 5, -1), (0, float("inf"), 1),
                  (0, float("nan"), 1), (0, 3, 0.9, "int64")]


@pytest.mark.parametrize("args", ARANGE_REFUSED, ids=str)
def test_arange_refuses_what_pytorch_refuses(device, args):
    torch = pytest.importorskip("torch")
    *bounds, dtype = args if isinstance(args[-1], str) else (*args, None)
    with pytest.raises((RuntimeError, ValueError)) as expected:  # ValueError: truncated step
        torch.arange(*bounds, dtype=dtype and getattr(torch, dtype))
    with pytest.raises(RuntimeError) as info:
        mg.arange(*bounds, dtype=dtype, device=device)
    assert isinstance(info.value, ValueError)
    assert str(expected.value).split(":")[0] in str(info.value)


@pytest.mark.parametrize("args, dtype", [
    ((2**33,), "int32"), ((250, 260), "uint8"), ((-1, 3), "uint8"), ((0, 70000), "float16"),
    ((2**31 - 1, 2**31 + 2), "int32"), ((0, 1e40, 1e39), "float32"), ((2**63,), "int64"),
    ((-300, 0, 100), "int8"),
])
def test_arange_values_that_do_not_fit_the_dtype_raise_before_allocating(
        device, monkeypatch, args, dtype):
    backend = mg.get_backend(device)
    monkeypatch.setattr(backend, "arange", lambda *a: pytest.fail("allocated"))
    with pytest.raises(RuntimeError, match=f"overflow|{dtype} cannot hold"):
        mg.arange(*args, dtype=dtype, device=device)


@pytest.mark.parametrize("args, dtype", [
    ((-2**31, -2**31 + 2), "int32"), ((250, 256), "uint8"), ((0, 65504, 4096), "float16"),
    ((0.5, 3), "int64"), ((-2.5, 2, 1.5), "int64"), ((0, 5.5, 2), "int64"), ((1.9, 5), "int32"),
    ((0, 1, 0.1), "float32"), ((10, 0, -3), "int64"), ((3, 3), "int64"),
])
def test_arange_at_the_edges_matches_pytorch(device, args, dtype):
    torch = pytest.importorskip("torch")
    out = mg.arange(*args, dtype=dtype, device=device)
    expected = torch.arange(*args, dtype=getattr(torch, dtype)).numpy()
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.numpy(), expected)


CREATORS = ["zeros", "ones", "rand", "randn"]


@pytest.mark.parametrize("name", CREATORS)
@pytest.mark.parametrize("shape", [(2.5,), (3, 2.0), ((2, 2.5),), (True,), (np.float64(3),),
                                   ("3",), ((2, None),)], ids=str)
def test_sizes_that_are_not_ints_raise_type_error_as_pytorch(device, name, shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        getattr(torch, name)(*shape)
    with pytest.raises(TypeError, match="tuple of ints") as info:
        getattr(mg, name)(*shape, device=device)
    assert "pos" in str(info.value)


@pytest.mark.parametrize("name", CREATORS + ["full"])
def test_integer_sizes_of_every_kind_are_taken(device, name):
    torch = pytest.importorskip("torch")
    for shape in [(np.int64(3), 2), (mg.tensor(3), np.uint8(2)), ([3, 2],), ((3, 2),)]:
        if name == "full":
            out = mg.full(shape if len(shape) > 1 else shape[0], 1.5, device=device)
        else:
            out = getattr(mg, name)(*shape, device=device)
        assert out.shape == tuple(torch.zeros(3, 2).shape)
    with pytest.raises(TypeError):
        mg.full(2.5, 1.0, device=device)


@pytest.mark.parametrize("name", CREATORS + ["full"])
def test_negative_sizes_raise_pytorch_message(device, name):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        torch.randn(2, -3)
    make = (lambda s: mg.full(s, 1.0, device=device)) if name == "full" else (
        lambda s: getattr(mg, name)(*s, device=device))
    with pytest.raises(RuntimeError) as info:
        make((2, -3))
    assert str(info.value) == str(expected.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("sizes", [(2.5, 3), (3, 2.5), ("3", 2)], ids=str)
def test_linear_refuses_sizes_that_are_not_ints_as_pytorch(device, sizes):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        torch.nn.Linear(*sizes)
    with pytest.raises(TypeError, match="features must be an int"):
        mg.nn.Linear(*sizes, device=device)


@pytest.mark.parametrize("sizes", [(-1, 3), (2, -3)], ids=str)
def test_linear_negative_sizes_raise_pytorch_message(device, sizes):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        torch.nn.Linear(*sizes)
    with pytest.raises(RuntimeError) as info:
        mg.nn.Linear(*sizes, device=device)
    assert str(info.value) == str(expected.value)


def test_linear_takes_integer_scalars_of_every_kind(device):
    layer = mg.nn.Linear(np.int64(4), mg.tensor(3), device=device)
    assert layer.weight.shape == (3, 4) and type(layer.in_features) is int


@pytest.mark.parametrize("seed", [-1, -2**63, 2**64 - 1])
def test_manual_seed_takes_pytorch_range(device, seed):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    mg.manual_seed(seed)
    first = mg.randn(3, device=device).numpy()
    mg.manual_seed(seed % 2**64)  # a negative seed wraps, as PyTorch's
    np.testing.assert_array_equal(mg.randn(3, device=device).numpy(), first)


@pytest.mark.parametrize("seed", [2**64, -2**63 - 1])
def test_manual_seed_out_of_range_raises_as_pytorch(seed):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.manual_seed(seed)
    with pytest.raises(ValueError, match="out of range"):
        mg.manual_seed(seed)


def test_nan_and_inf_are_results_not_warnings(device):
    """As in PyTorch, minigrad's ops do not warn when they make NaN or inf; NumPy called by
    the user still does. Run in a fresh interpreter: pytest resets the warning filters
    around each test."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    program = (
        "import numpy as np, minigrad as mg\n"
        f"x = mg.tensor([0.0, -1.0, 2.0], device={device!r}, requires_grad=True)\n"
        "y = x.log() + x.sqrt() + x.asin() + 1 / x + x.log1p() + x.atanh()\n"
        "y.sum().backward()\n"
        "print('user numpy:'); np.log(np.zeros(1))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-W", "default", "-c", program], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    assert "minigrad" not in done.stderr, done.stderr
    assert "divide by zero encountered in log" in done.stderr  # the user's own call
