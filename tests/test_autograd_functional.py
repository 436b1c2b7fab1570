"""``mg.autograd.functional``: Jacobians, Hessians and their vector products against
``torch.autograd.functional``, one input or several, one output or several."""

import functools

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

RNG = np.random.default_rng(3)
A, B, V2, V3 = (RNG.standard_normal(s) for s in ((2, 3), (3,), (2, 3), (3,)))


def one(lib, a):  # one input, one output
    return (a.tanh() * a).sum(1) ** 2


def two_in(lib, a, b):  # two inputs, one output
    return (a * b).exp().sum(0) + b ** 3


def two_out(lib, a, b):  # two inputs, two outputs
    return (a @ b).sin(), (a * a).sum() * b


def scalar(lib, a, b):  # two inputs, one element
    return ((a * b).tanh() ** 2).sum() + (b ** 4).sum()


def _on(lib, arrays, device="numpy"):
    kw = {"device": device} if lib is mg else {}
    return tuple(lib.tensor(x, dtype=lib.float64, **kw) for x in arrays)


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [y for v in value for y in _flat(v)]
    return [value]


def _compare(mine, theirs):
    mine, theirs = _flat(mine), _flat(theirs)
    assert len(mine) == len(theirs)
    for m, t in zip(mine, theirs):
        assert tuple(m.shape) == tuple(t.shape)
        np.testing.assert_allclose(m.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


CASES = {
    "jacobian one": ("jacobian", one, (A,), None),
    "jacobian two inputs": ("jacobian", two_in, (A, B), None),
    "jacobian two outputs": ("jacobian", two_out, (A, B), None),
    "hessian one input": ("hessian", lambda lib, a: (a.sin() * a).sum(), (A,), None),
    "hessian two inputs": ("hessian", scalar, (A, B), None),
    "vjp": ("vjp", two_in, (A, B), (V3,)),
    "vjp two outputs": ("vjp", two_out, (A, B), ((RNG.standard_normal(2), V3))),
    "vjp of one element": ("vjp", scalar, (A, B), None),
    "jvp": ("jvp", two_out, (A, B), (V2, V3)),
    "hvp": ("hvp", scalar, (A, B), (V2, V3)),
    "vhp": ("vhp", scalar, (A, B), (V2, V3)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_matches_pytorch(device, name, create_graph):
    fn_name, fn, inputs, v = CASES[name]
    results = []
    for lib, space in ((mg, mg.autograd.functional), (torch, TF)):
        ins = _on(lib, inputs, device if lib is mg else "numpy")
        ins = ins[0] if len(ins) == 1 and fn_name in ("jacobian", "hessian") else ins
        extra = () if v is None else (_on(lib, v, device if lib is mg else "numpy"),)
        extra = (extra[0][0],) if extra and len(extra[0]) == 1 else extra
        results.append(getattr(space, fn_name)(functools.partial(fn, lib), ins, *extra,
                                               create_graph=create_graph))
    _compare(*results)


def test_create_graph_keeps_the_history():
    x = mg.tensor([0.5, -1.0], dtype=mg.float64, requires_grad=True)
    jac = mg.autograd.functional.jacobian(lambda a: a ** 3, x, create_graph=True)
    jac.sum().backward()  # d/dx sum(3 x^2 on the diagonal) = 6 x
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy())


def test_unused_inputs_give_zeros_or_raise_when_strict():
    x, y = mg.ones(2, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    jac = mg.autograd.functional.jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_array_equal(jac[1].numpy(), np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="strict"):
        mg.autograd.functional.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    constant = mg.autograd.functional.jacobian(lambda a: mg.ones(3), x)
    assert constant.shape == (3, 2) and not constant.numpy().any()
    with pytest.raises(RuntimeError, match="single-element"):
        mg.autograd.functional.hessian(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v can be omitted"):
        mg.autograd.functional.vjp(lambda a: a * 2, x)
    with pytest.raises(TypeError, match="Tensor or a tuple"):
        mg.autograd.functional.jacobian(lambda a: a, [1.0])
