"""Activations, distances and losses of the training toolbox against PyTorch: values and
gradients in float64 on every device, the modules' options and reprs, and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-12}
# the edges of every piecewise activation, and values on either side of them
EDGES = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 10.0, 25.0, -30.0,
                  -1e-9, 1e-9, 0.1, 6.0 + 1e-7])


def _x(rng, *shape):
    return rng.standard_normal(shape) * 2


def _run(fn, arrays, grad_mask, lib, device=None):
    """fn on the arrays (leaves where grad_mask says), backward of a fixed random weighting
    of the output; returns the output and the gradients."""
    if lib is torch:
        leaves = [torch.tensor(a, requires_grad=g and a.dtype.kind == "f")
                  for a, g in zip(arrays, grad_mask)]
    else:
        leaves = [mg.tensor(a, device=device, requires_grad=g and a.dtype.kind == "f")
                  for a, g in zip(arrays, grad_mask)]
    out = fn(*leaves)
    value = out.detach().numpy()
    weight = np.random.default_rng(1).standard_normal(value.shape) + 1
    if lib is torch:
        (out * torch.tensor(weight)).sum().backward()
    else:
        (out * mg.tensor(weight, device=device)).sum().backward()
    grads = [None if t.grad is None else np.asarray(t.grad.numpy()) for t in leaves]
    return value, grads


def _compare(mg_fn, torch_fn, arrays, grad_mask, device, finite_targets=False):
    """Values and gradients agree; with ``finite_targets``, where PyTorch's gradient of a
    target (argument 1 on) is NaN from 0 log 0, minigrad's is finite instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours, our_grads = _run(mg_fn, arrays, grad_mask, mg, device)
        theirs, their_grads = _run(torch_fn, arrays, grad_mask, torch)
    np.testing.assert_allclose(ours, theirs, **TOL)
    assert ours.shape == theirs.shape
    for i, (g, h) in enumerate(zip(our_grads, their_grads)):
        if h is None:
            continue
        assert g is not None, f"no gradient for argument {i}"
        if finite_targets and i > 0:
            assert np.isfinite(g).all()
            h = np.where(np.isnan(h), g, h)
        np.testing.assert_allclose(g, h, **TOL, err_msg=f"gradient of argument {i}")


# --------------------------------------------------------------------------- activations

ACTIVATIONS = {
    "elu": (lambda x: F.elu(x), lambda x: TF.elu(x)),
    "elu-alpha": (lambda x: F.elu(x, 0.4), lambda x: TF.elu(x, 0.4)),
    # PyTorch's celu gradient rounds 1/alpha to float32: alpha = 2 keeps that exact
    "celu": (lambda x: F.celu(x, 2.0), lambda x: TF.celu(x, 2.0)),
    "selu": (F.selu, TF.selu),
    "softplus": (F.softplus, TF.softplus),
    "softplus-beta": (lambda x: F.softplus(x, 2.5, 4.0), lambda x: TF.softplus(x, 2.5, 4.0)),
    "mish": (F.mish, TF.mish),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh-range": (lambda x: F.hardtanh(x, -3.0, 0.5), lambda x: TF.hardtanh(x, -3.0, 0.5)),
    "relu6": (F.relu6, TF.relu6),
    "hardswish": (F.hardswish, TF.hardswish),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0)),
    "glu": (F.glu, TF.glu),
    "glu-dim0": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
    "normalize": (F.normalize, TF.normalize),
    "normalize-p1": (lambda x: F.normalize(x, 1.0, 0), lambda x: TF.normalize(x, 1.0, 0)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_pytorch(name, device):
    mg_fn, torch_fn = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    x = np.concatenate([EDGES, _x(rng, 16)]).reshape(4, 8)
    if name.startswith("normalize"):
        x[1] = 0.0  # a zero row: the eps floor, and a zero gradient
    _compare(mg_fn, torch_fn, [x], [True], device)


@pytest.mark.parametrize("shape, weight_shape", [((3, 4, 2), (4,)), ((5, 3), (1,)), ((6,), (1,)),
                                                 ((2, 3, 2, 2), (3,))])
def test_prelu_matches_pytorch(shape, weight_shape, device):
    rng = np.random.default_rng(0)
    x = _x(rng, *shape)
    x.reshape(-1)[:3] = 0.0
    w = rng.uniform(-0.5, 0.5, weight_shape)
    _compare(F.prelu, TF.prelu, [x, w], [True, True], device)


@pytest.mark.parametrize("mine, theirs", [
    (lambda: nn.ELU(0.5, inplace=True), lambda: torch.nn.ELU(0.5, inplace=True)),
    (nn.CELU, torch.nn.CELU), (nn.SELU, torch.nn.SELU), (nn.Mish, torch.nn.Mish),
    (lambda: nn.Softplus(2.0, 5.0), lambda: torch.nn.Softplus(2.0, 5.0)),
    (lambda: nn.Hardtanh(-2.0, 2.0), lambda: torch.nn.Hardtanh(-2.0, 2.0)),
    (nn.ReLU6, torch.nn.ReLU6), (nn.Hardswish, torch.nn.Hardswish),
    (lambda: nn.Threshold(0.1, 20.0), lambda: torch.nn.Threshold(0.1, 20.0)),
    (lambda: nn.GLU(1), lambda: torch.nn.GLU(1)), (lambda: nn.PReLU(3), lambda: torch.nn.PReLU(3)),
])
def test_activation_modules_match_pytorch(mine, theirs, device):
    ours, other = mine(), theirs()
    assert ours.extra_repr() == other.extra_repr()
    x = np.random.default_rng(0).standard_normal((2, 6)) * 3
    if isinstance(ours, nn.PReLU):
        x = x.reshape(2, 3, 2)
        ours.to(device).double()
        expected = other.double()(torch.tensor(x))
    else:
        expected = other(torch.tensor(x))
    got = ours(mg.tensor(x, device=device))
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), **TOL)


def test_prelu_weight_is_learnable():
    layer = nn.PReLU(2, init=0.1)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_allclose(layer.weight.numpy(), [0.1, 0.1], rtol=1e-6)
    layer(mg.tensor([[-1.0, -2.0], [1.0, -3.0]])).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), [-1.0, -5.0])


def test_inplace_activation_overwrites_its_input(device):
    x = mg.tensor([-1.0, 0.5, 8.0], device=device)
    out = F.relu6(x, inplace=True)
    assert out is x
    np.testing.assert_allclose(x.numpy(), [0.0, 0.5, 6.0])
    a = mg.tensor([-1.0, 2.0], device=device, requires_grad=True)
    b = a * 1
    F.elu(b, inplace=True).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [np.exp(-1.0), 1.0], rtol=1e-6)


def test_activation_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is"):
        F.glu(mg.zeros(2, 5))
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match="parameter numbers = 4 and channel size = 3"):
        F.prelu(mg.zeros(2, 3), mg.ones(4))


# --------------------------------------------------------------------------- dropout


def test_dropout(device):
    x = mg.ones(2000, dtype=np.float64, device=device)
    out = F.dropout(x, p=0.25).numpy()
    assert set(np.unique(out)) <= {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.05
    assert F.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0.0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        F.dropout(x, 1.5)


def test_dropout_module_draws_as_the_function():
    x = mg.ones(50)
    mg.manual_seed(3)
    expected = F.dropout(x, 0.4).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.4)(x).numpy(), expected)
    np.testing.assert_array_equal(nn.Dropout(0.4).eval()(x).numpy(), x.numpy())


def test_dropout_gradient_is_the_mask():
    x = mg.ones(100, requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())


# --------------------------------------------------------------------------- distances


@pytest.mark.parametrize("shapes, kwargs", [
    (((4, 5), (4, 5)), {}), (((4, 5), (1, 5)), {"dim": 1}), (((3, 4, 2), (3, 4, 2)), {"dim": -1}),
    (((4, 5), (4, 5)), {"eps": 0.5}),
])
def test_cosine_similarity_matches_pytorch(shapes, kwargs, device):
    rng = np.random.default_rng(0)
    a, b = (_x(rng, *s) for s in shapes)
    a[0] = 0.0  # a zero vector: the eps floor
    _compare(lambda x, y: F.cosine_similarity(x, y, **kwargs),
             lambda x, y: TF.cosine_similarity(x, y, **kwargs), [a, b], [True, True], device)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3.0, "keepdim": True}, {"eps": 0.0}])
def test_pairwise_distance_matches_pytorch(kwargs, device):
    rng = np.random.default_rng(0)
    a, b = _x(rng, 4, 5), _x(rng, 4, 5)
    _compare(lambda x, y: F.pairwise_distance(x, y, **kwargs),
             lambda x, y: TF.pairwise_distance(x, y, **kwargs), [a, b], [True, True], device)


# --------------------------------------------------------------------------- losses


def _signs(rng, *shape):
    return rng.choice([-1.0, 1.0], shape)


def _loss_cases():
    rng = np.random.default_rng(0)
    x, y = _x(rng, 6, 4), _x(rng, 6, 4)
    logp = np.log(rng.dirichlet(np.ones(4), 6))
    probs = rng.dirichlet(np.ones(4), 6)
    probs[0, 0] = 0.0  # 0 log 0
    rate = rng.uniform(0.1, 3.0, (6, 4))
    counts = rng.integers(0, 5, (6, 4)).astype(np.float64)
    return {
        "kl_div": (F.kl_div, TF.kl_div, [logp, probs], {}),
        "kl_div-log_target": (F.kl_div, TF.kl_div, [logp, np.log(rng.dirichlet(np.ones(4), 6))],
                              {"log_target": True}),
        "margin_ranking": (F.margin_ranking_loss, TF.margin_ranking_loss,
                           [x[:, 0], y[:, 0], _signs(rng, 6)], {"margin": 0.3}),
        "soft_margin": (F.soft_margin_loss, TF.soft_margin_loss, [x, _signs(rng, 6, 4)], {}),
        "cosine_embedding": (F.cosine_embedding_loss, TF.cosine_embedding_loss,
                             [x, y, _signs(rng, 6)], {"margin": 0.2}),
        "cosine_embedding-1d": (F.cosine_embedding_loss, TF.cosine_embedding_loss,
                                [x[0], y[0], np.array(-1.0)], {}),
        "triplet": (F.triplet_margin_loss, TF.triplet_margin_loss, [x, y, _x(rng, 6, 4)],
                    {"margin": 2.0}),
        "triplet-swap-p1": (F.triplet_margin_loss, TF.triplet_margin_loss,
                            [x, y, _x(rng, 6, 4)], {"p": 1, "swap": True, "margin": 3.0}),
        "gaussian_nll": (F.gaussian_nll_loss, TF.gaussian_nll_loss,
                         [x, y, rate], {}),
        "gaussian_nll-full-homoscedastic": (F.gaussian_nll_loss, TF.gaussian_nll_loss,
                                            [x, y, np.r_[rate[:5, 0], 1e-9]], {"full": True}),
        "gaussian_nll-one-dim": (F.gaussian_nll_loss, TF.gaussian_nll_loss,
                                 [x, y, rate[:, :1]], {"eps": 0.5}),
        "poisson_nll": (F.poisson_nll_loss, TF.poisson_nll_loss, [x, counts], {}),
        "poisson_nll-rates-full": (F.poisson_nll_loss, TF.poisson_nll_loss, [rate, counts],
                                   {"log_input": False, "full": True}),
        "hinge_embedding": (F.hinge_embedding_loss, TF.hinge_embedding_loss,
                            [x, _signs(rng, 6, 4)], {"margin": 1.5}),
        "multilabel_soft_margin": (F.multilabel_soft_margin_loss,
                                   TF.multilabel_soft_margin_loss,
                                   [x, rng.integers(0, 2, (6, 4)).astype(np.float64)], {}),
        "multilabel_soft_margin-weighted": (F.multilabel_soft_margin_loss,
                                            TF.multilabel_soft_margin_loss,
                                            [x, rng.integers(0, 2, (6, 4)).astype(np.float64),
                                             rng.uniform(0.5, 2, 4)], {}),
    }


LOSSES = _loss_cases()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_matches_pytorch(name, reduction, device):
    mg_fn, torch_fn, arrays, kwargs = LOSSES[name]
    kwargs = {**kwargs, "reduction": reduction}
    if name.startswith("multilabel") and len(arrays) == 3:  # the weight as a keyword
        arrays, weight = arrays[:2], arrays[2]
        _compare(lambda x, t: mg_fn(x, t, weight=mg.tensor(weight, device=device), **kwargs),
                 lambda x, t: torch_fn(x, t, weight=torch.tensor(weight), **kwargs),
                 arrays, [True, False], device)
        return
    # gradients reach every float argument but a target of signs
    grad_mask = [not (a.dtype.kind == "f" and set(np.unique(a)) <= {-1.0, 1.0})
                 for a in arrays]
    _compare(lambda *a: mg_fn(*a, **kwargs), lambda *a: torch_fn(*a, **kwargs), arrays,
             grad_mask, device, finite_targets=name in ("kl_div", "poisson_nll-rates-full"))


def test_kl_div_batchmean_and_its_mean_warning(device):
    _, _, (logp, probs), _ = LOSSES["kl_div"]
    _compare(lambda a, b: F.kl_div(a, b, reduction="batchmean"),
             lambda a, b: TF.kl_div(a, b, reduction="batchmean"), [logp, probs], [True, True],
             device, finite_targets=True)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(mg.tensor(logp), mg.tensor(probs))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.kl_div(mg.tensor(logp), mg.tensor(probs), reduction="bad")


def test_legacy_reduction_flags():
    x, t = np.array([0.5, -1.0]), np.array([1.0, -1.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        got = F.soft_margin_loss(mg.tensor(x), mg.tensor(t), size_average=False)
    np.testing.assert_allclose(got.item(), TF.soft_margin_loss(
        torch.tensor(x), torch.tensor(t), reduction="sum").item(), rtol=1e-12)
    with pytest.warns(UserWarning):
        assert nn.HingeEmbeddingLoss(reduce=False).reduction == "none"


LOSS_MODULES = [
    ("KLDivLoss", {"reduction": "batchmean", "log_target": False}, "kl_div"),
    ("MarginRankingLoss", {"margin": 0.3}, "margin_ranking"),
    ("SoftMarginLoss", {"reduction": "sum"}, "soft_margin"),
    ("CosineEmbeddingLoss", {"margin": 0.2}, "cosine_embedding"),
    ("TripletMarginLoss", {"margin": 2.0, "swap": True}, "triplet"),
    ("GaussianNLLLoss", {"full": True}, "gaussian_nll"),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, "poisson_nll-rates-full"),
    ("HingeEmbeddingLoss", {"margin": 1.5, "reduction": "none"}, "hinge_embedding"),
    ("MultiLabelSoftMarginLoss", {}, "multilabel_soft_margin"),
]


@pytest.mark.parametrize("name, kwargs, case", LOSS_MODULES)
def test_loss_modules_match_pytorch(name, kwargs, case, device):
    arrays = LOSSES[case][2]
    ours = getattr(nn, name)(**kwargs)
    theirs = getattr(torch.nn, name)(**kwargs)
    got = ours(*(mg.tensor(a, device=device) for a in arrays))
    expected = theirs(*(torch.tensor(a) for a in arrays))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), **TOL)


def test_multilabel_weight_is_a_buffer():
    loss = nn.MultiLabelSoftMarginLoss(weight=mg.ones(3))
    assert [n for n, _ in loss.named_buffers()] == ["weight"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.margin_ranking_loss(mg.zeros(2), mg.zeros(2), mg.ones(2, 1)), RuntimeError,
     "All input tensors should have same dimension"),
    (lambda: F.cosine_embedding_loss(mg.zeros(2, 5), mg.zeros(2, 5), mg.ones(2, 1)),
     RuntimeError, "0D or 1D target tensor expected"),
    (lambda: F.cosine_embedding_loss(mg.zeros(2, 5), mg.zeros(5), mg.ones(2)), RuntimeError,
     r"1D target tensor expects 2D input tensors, but found inputs with sizes \[2, 5\] and \[5\]"),
    (lambda: F.triplet_margin_loss(mg.zeros(2, 3), mg.zeros(2, 3), mg.zeros(3)), RuntimeError,
     "anchor 2D, positive 2D, and negative 1D inputs"),
    (lambda: F.gaussian_nll_loss(mg.zeros(2, 3), mg.zeros(2, 3), mg.ones(3, 2)), ValueError,
     "var is of incorrect size"),
    (lambda: F.gaussian_nll_loss(mg.zeros(2, 3), mg.zeros(2, 3), -1.0), ValueError,
     "var has negative entry"),
    (lambda: F.poisson_nll_loss(mg.zeros(2), mg.zeros(2), reduction="x"), ValueError,
     "x is not a valid value for reduction"),
    (lambda: nn.TripletMarginLoss(margin=0.0), ValueError, "greater than 0"),
])
def test_loss_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name", [*ACTIVATIONS, *LOSSES])
def test_float32_in_float32_out(name, device):
    if name in ACTIVATIONS:
        fn, arrays, kwargs = ACTIVATIONS[name][0], [np.ones((2, 4))], {}
    else:
        fn, _, arrays, kwargs = LOSSES[name]
    inputs = [mg.tensor(a, dtype=np.float32, device=device) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = fn(*inputs, **kwargs)
    assert out.dtype == np.float32 and out.device == mg.get_backend(device).name


def test_compiled_step_records_the_new_functions():
    """A training step made of the new activations and losses compiles (no eager fallback)
    and gives the eager losses; a negative variance still raises on replay."""
    x, y = mg.randn(8, 3), mg.randn(8, 4)
    var = mg.rand(8, 4) + 0.1
    models = [nn.Sequential(nn.Linear(3, 4), nn.PReLU(4), nn.Mish(), nn.Linear(4, 4))
              for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    opts = [mg.optim.SGD(m.parameters(), lr=0.01) for m in models]

    def step(model, opt):
        opt.zero_grad()
        out = model(x)
        loss = (F.gaussian_nll_loss(out, y, var) + F.poisson_nll_loss(out, y.abs(), full=True)
                + F.multilabel_soft_margin_loss(out, (y > 0).astype(y.dtype))
                + F.soft_margin_loss(out, y.sign()) + F.hinge_embedding_loss(out, y.sign())
                + F.cosine_embedding_loss(out, y, mg.ones(8))
                + F.kl_div(F.log_softmax(out, dim=1), F.softmax(y, dim=1), reduction="batchmean")
                + F.elu(out).mean() + F.softplus(out, 2.0).mean() + F.glu(out).mean()
                + F.hardswish(out).mean() + F.hardtanh(out).mean())
        loss.backward()
        opt.step()
        return loss

    compiled = mg.compile(lambda: step(models[0], opts[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            np.testing.assert_allclose(compiled().item(), step(models[1], opts[1]).item(),
                                       rtol=1e-5)
    var[0, 0] = -1.0
    with pytest.raises(ValueError, match="var has negative entry"):
        compiled()
