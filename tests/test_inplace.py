"""In-place ops as PyTorch's: every ``name_`` variant, its casting rule, and in-place changes
of views written through to their base (values and gradients against PyTorch)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

VALUES = np.array([[0.25, -0.5, 0.75], [1.5, -2.0, 0.3]])
# (name, arguments) of in-place methods both libraries have, on VALUES
VARIANTS = [
    ("relu_", ()), ("sigmoid_", ()), ("tanh_", ()), ("exp_", ()), ("neg_", ()),
    ("abs_", ()), ("square_", ()), ("sign_", ()), ("floor_", ()), ("ceil_", ()),
    ("round_", ()), ("trunc_", ()), ("sin_", ()), ("cos_", ()), ("atan_", ()),
    ("sinh_", ()), ("erf_", ()), ("pow_", (2,)), ("clamp_", (-0.4, 0.6)),
    ("clip_", (-0.4, None)), ("remainder_", (0.7,)), ("fmod_", (0.7,)),
    ("copysign_", (-1.0,)),
    ("tril_", ()), ("triu_", (1,)), ("cumsum_", (1,)), ("logical_not_", ()),
]


def both(device, values=VALUES, requires_grad=False):
    return (mg.tensor(values, dtype=mg.float64, device=device, requires_grad=requires_grad),
            torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad))


@pytest.mark.parametrize("name, args", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_in_place_variants_match_pytorch(name, args, device):
    x, t = both(device)
    assert getattr(x, name)(*args) is x
    getattr(t, name)(*args)
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, args", [v for v in VARIANTS if v[0] not in (
    "floor_", "ceil_", "round_", "trunc_", "sign_", "logical_not_")], ids=lambda v: str(v))
def test_in_place_variants_are_recorded(name, args, device):
    (x, t) = both(device, requires_grad=True)
    y, u = x * 1.5, t * 1.5
    getattr(y, name)(*args)
    getattr(u, name)(*args)
    (y * y).sum().backward()
    (u * u).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_in_place_casting_follows_pytorch(device):
    ints = mg.tensor([1, 4, 9], device=device)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints.sqrt_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.tensor([1, 4, 9]).sqrt_()
    floats = mg.tensor([1.0, 0.0], device=device)
    floats.logical_not_()  # a bool result is written as floats
    assert floats.dtype == mg.float32 and floats.tolist() == [0.0, 1.0]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        mg.tensor([1.0, 2.0], device=device).lerp_(mg.ones(3, 2, device=device), 0.5)
    for view in (ints, ints[1:]):
        with pytest.raises(RuntimeError, match="result type float32 can't be cast"):
            view.mul_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.tensor([1, 2, 3])[1:].mul_(1.5)
    ints[1:].mul_(2)
    assert ints.tolist() == [1, 8, 18]


def test_an_expanded_tensor_cannot_change_in_place(device):
    x = mg.tensor([1.0, 2.0], device=device)
    for expanded in (x.expand(3, 2), (x * 1).expand(3, 2)):
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            expanded.mul_(2)
    with pytest.raises(RuntimeError, match="more than one element of the written-to"):
        torch.tensor([1.0, 2.0]).expand(3, 2).mul_(2)


# views written through to their base: each program runs on both libraries
PROGRAMS = {
    "mul_ on a slice": "y = x * 2; y[1:].mul_(3); out = (y * y).sum()",
    "add_ on a transpose": "y = x * 1; y.t().add_(x.t()); out = (y * y).sum()",
    "relu_ on a row": "y = x * 1; y[0].relu_(); out = (y * x).sum()",
    "a view of a view": "y = x * 1; y[:, 1:][0].exp_(); out = (y * y).sum()",
    "setitem on a view": "y = x * 1; y[1][0] = x[0, 0] * 5; out = (y * y).sum()",
    "the other views follow": "y = x * 1; a = y[0]; b = y[:, 1]; a.mul_(3); "
                             "out = (b * b).sum() + (a * a).sum()",
    "the base changes, its view follows": "y = x * 1; v = y[1]; y.mul_(x); out = (v * v).sum()",
    "a value with history into a constant": "y = x.detach() * 0; y[0].add_(x[1] * 2); "
                                            "out = (y * y).sum()",
    "reshape view": "y = x * 1; y.reshape(3, 2)[1:].sigmoid_(); out = (y * y).sum()",
}


@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_in_place_changes_of_views_match_pytorch(program, device):
    results = []
    for lib, dev in ((mg, device), (torch, None)):
        x = lib.tensor(VALUES, dtype=lib.float64, requires_grad=True)
        if dev is not None:
            x = mg.tensor(VALUES, dtype=mg.float64, device=dev, requires_grad=True)
        scope = {"x": x, "L": lib}
        exec(program, scope)
        scope["out"].backward()
        results.append((scope["y"].detach().numpy() if "y" in scope else None,
                        x.grad.numpy()))
    (mg_y, mg_grad), (torch_y, torch_grad) = results
    np.testing.assert_allclose(mg_y, torch_y, rtol=1e-12)
    np.testing.assert_allclose(mg_grad, torch_grad, rtol=1e-10)


def test_a_view_of_a_leaf_that_requires_grad_cannot_change_in_place(device):
    x = mg.tensor(VALUES, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf tensor that requires grad"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch.tensor(VALUES, requires_grad=True)[0].mul_(2)
    with mg.no_grad():
        x[0].mul_(2)
    np.testing.assert_allclose(x.numpy()[0], 2 * VALUES[0], rtol=1e-6)


def test_random_fills(device):
    mg.manual_seed(0)
    t = mg.empty(4000, device=device)
    assert t.uniform_(-1, 3) is t
    assert t.min().item() >= -1 and t.max().item() < 3 and abs(t.mean().item() - 1) < 0.1
    t.normal_(2, 0.5)
    assert abs(t.mean().item() - 2) < 0.05 and abs(t.std().item() - 0.5) < 0.05
    t.bernoulli_(0.25)
    assert set(np.unique(t.numpy())) <= {0.0, 1.0} and abs(t.mean().item() - 0.25) < 0.05
    t.exponential_(2.0)
    assert t.min().item() >= 0 and abs(t.mean().item() - 0.5) < 0.05
    w = mg.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.normal_()
    with mg.no_grad():
        w.uniform_()
    assert w.requires_grad and w.is_leaf and (w.numpy() > 0).any()
