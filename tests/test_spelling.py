"""An op written in one place: ``@spelled`` gives it its Tensor method and ``mg.`` function,
and its gradient formula runs recorded (create_graph) with no other entry."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops, tensor_functions
from minigrad.function import Op
from minigrad.spelling import FUNCTIONS, spelled

torch = pytest.importorskip("torch")


@pytest.fixture
def sin_squared():
    """An op defined as a contributor would, in one place; unregistered afterwards."""

    @spelled("sin_squared_for_test")
    class SinSquared(Op):
        saves_inputs = True

        @staticmethod
        def forward(ctx, x):
            s = ctx.backend.sin(x)
            return ctx.backend.mul(s, s)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * ctx.xp.sin(x) * ctx.xp.cos(x)  # d/dx sin^2 x = 2 sin x cos x

    yield SinSquared
    delattr(mg.Tensor, "sin_squared_for_test")
    del FUNCTIONS["sin_squared_for_test"]


def test_a_new_op_gets_every_spelling_and_higher_order_gradients(sin_squared, device):
    values = np.array([0.5, -1.5, 2.0])
    x = mg.tensor(values, dtype=mg.float64, device=device, requires_grad=True)
    y = x.sin_squared_for_test()
    assert type(y.grad_fn).__name__ == "Context" and y.grad_fn.op is sin_squared
    np.testing.assert_allclose(y.numpy(), np.sin(values) ** 2)
    np.testing.assert_allclose(FUNCTIONS["sin_squared_for_test"](x).numpy(), y.numpy())
    (g,) = mg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), np.sin(2 * values))
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(2 * values))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_spelling_is_pytorchs_and_the_three_agree(name, device):
    assert hasattr(torch, name) and hasattr(torch.Tensor, name), name
    assert getattr(mg, name) is FUNCTIONS[name] is getattr(tensor_functions, name)
    assert name in mg.__all__
    values = np.array([[0.25, -0.5, 0.75], [1.5, -2.0, 0.0]])
    x = mg.tensor(values, dtype=mg.float64, device=device)
    t = torch.tensor(values)
    try:
        method = getattr(x, name)
        binary = method.__code__.co_argcount == 2
        args = (x.flip(0),) if binary else ()
        expected = getattr(torch, name)(t, *((t.flip(0),) if binary else ()))
    except TypeError:
        pytest.fail(f"{name}: the spellings take different arguments")
    got = method(*args)
    np.testing.assert_array_equal(getattr(mg, name)(x, *args).numpy(), got.numpy())
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, equal_nan=True)


def test_a_registered_function_takes_python_values_and_pytorchs_keyword():
    np.testing.assert_allclose(mg.sin(0.5).item(), np.sin(np.float32(0.5)), rtol=1e-6)
    np.testing.assert_allclose(mg.sin(input=mg.tensor([0.5])).numpy(), np.sin([0.5]),
                               rtol=1e-6)


def test_help_shows_the_public_names():
    assert mg.Tensor.sin.__qualname__ == "Tensor.sin"
    assert mg.sin.__name__ == "sin" and mg.arcsin.__name__ == "arcsin"
    assert mg.atan2.__doc__ == ops.Atan2.__doc__
