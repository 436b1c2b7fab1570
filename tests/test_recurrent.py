"""RNN, LSTM and GRU against PyTorch's: the same parameter names, outputs, final states
and gradients, for layers, directions, batch_first, unbatched input and given states."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

CASES = [
    ("RNN", {}, (5, 3, 4)),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}, (5, 3, 4)),
    ("LSTM", {}, (5, 3, 4)),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, (5, 3, 4)),
    ("LSTM", {"batch_first": True, "num_layers": 2}, (2, 6, 4)),
    ("GRU", {"batch_first": True}, (3, 5, 4)),
    ("GRU", {"bidirectional": True, "bias": False}, (5, 4)),
]


def _flat(states):
    return list(states) if isinstance(states, tuple) else [states]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("name, options, shape", CASES)
def test_matches_pytorch(device, name, options, shape, with_state):
    rng = np.random.default_rng(1)
    theirs = getattr(torch.nn, name)(4, 6, **options).double()
    ours = getattr(mg.nn, name)(4, 6, **options).double().to(device)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    xm = mg.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    args_m, args_t = (), ()
    if with_state:
        layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
        batch = () if len(shape) == 2 else (shape[0] if options.get("batch_first") else shape[1],)
        states = [rng.standard_normal((layers, *batch, 6))
                  for _ in range(2 if name == "LSTM" else 1)]
        pack = tuple if name == "LSTM" else (lambda s: s[0])
        args_m = (pack([mg.tensor(s, device=device) for s in states]),)
        args_t = (pack([torch.tensor(s) for s in states]),)
    out, last = ours(xm, *args_m)
    t_out, t_last = theirs(xt, *args_t)
    direction = rng.standard_normal(tuple(t_out.shape))
    loss = (out * mg.tensor(direction, device=device)).sum() + sum(s.sum() for s in _flat(last))
    t_loss = (t_out * torch.tensor(direction)).sum() + sum(s.sum() for s in _flat(t_last))
    loss.backward()
    t_loss.backward()
    tol = {"rtol": 1e-9, "atol": 1e-12}
    for mine, their in [(out, t_out), *zip(_flat(last), _flat(t_last)), (xm.grad, xt.grad)]:
        assert tuple(mine.shape) == tuple(their.shape)
        np.testing.assert_allclose(mine.numpy(), their.detach().numpy(), **tol)
    for key in theirs.state_dict():
        np.testing.assert_allclose(getattr(ours, key).grad.numpy(),
                                   getattr(theirs, key).grad.numpy(), **tol, err_msg=key)


def test_refusals_and_initialisation():
    lstm = mg.nn.LSTM(3, 5)
    bound = 1 / np.sqrt(5)
    assert lstm.weight_ih_l0.shape == (20, 3) and lstm.weight_hh_l0.shape == (20, 5)
    assert float(lstm.weight_ih_l0.abs().max()) <= bound
    with pytest.raises(ValueError, match="expected input"):
        lstm(mg.ones(2, 3, 4))
    with pytest.raises(ValueError, match="hidden state"):
        lstm(mg.ones(2, 1, 3), (mg.zeros(2, 1, 5), mg.zeros(2, 1, 5)))
    with pytest.raises(ValueError, match="nonlinearity"):
        mg.nn.RNN(3, 5, nonlinearity="sigmoid")
    with pytest.raises(NotImplementedError, match="proj_size"):
        mg.nn.LSTM(3, 5, proj_size=2)
