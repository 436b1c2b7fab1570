"""ModuleList, ModuleDict, ParameterList and ParameterDict register what they hold as
PyTorch's do: parameters(), state_dict keys, to(), train()/eval()."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 3)])
        self.layers.append(nn.Dropout(0.5))
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2)})
        self.scales = nn.ParameterList([nn.Parameter(mg.zeros(3)), mg.zeros(2)])
        self.extra = nn.ParameterDict({"bias": nn.Parameter(mg.zeros(1))})


class TorchStack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 3)])
        self.layers.append(torch.nn.Dropout(0.5))
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(3, 1), "b": torch.nn.Linear(3, 2)})
        self.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(3)), torch.zeros(2)])
        self.extra = torch.nn.ParameterDict({"bias": torch.nn.Parameter(torch.zeros(1))})


def test_state_dict_keys_and_parameters_match_pytorch():
    ours, theirs = Stack(), TorchStack()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(p.requires_grad for p in ours.parameters())
    theirs.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-6, err_msg=name)


def test_train_eval_and_to_reach_the_entries(device):
    model = Stack()
    model.eval()
    assert not model.layers[2].training and not model.heads["a"].training
    model.train()
    assert model.layers[2].training
    model.to(device).double()
    assert all(p.device == mg.get_backend(device).name and p.dtype == np.float64
               for p in model.parameters())
    assert model.scales[1].dtype == np.float64 and model.extra["bias"].dtype == np.float64


def test_module_list_operations():
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    assert len(layers) == 3 and isinstance(layers[-1], nn.Sigmoid)
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1"] and isinstance(layers[0], nn.Tanh)
    layers.insert(0, nn.GELU())
    layers += [nn.SiLU()]
    assert [type(m).__name__ for m in layers] == ["GELU", "Tanh", "Sigmoid", "SiLU"]
    assert isinstance(layers.pop(1), nn.Tanh) and list(layers._modules) == ["0", "1", "2"]
    layers[0] = nn.Linear(1, 1)
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias"]
    with pytest.raises(IndexError):
        layers[5]
    with pytest.raises(TypeError, match="should be called with an iterable"):
        layers.extend(nn.ReLU())
    x = mg.tensor([[-1.0]])
    for layer in layers:
        x = layer(x)
    assert x.shape == (1, 1)


def test_module_dict_operations():
    heads = nn.ModuleDict([("a", nn.Linear(2, 2)), ("b", nn.ReLU())])
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    heads.update({"c": nn.Linear(2, 1)})
    assert list(heads.keys()) == ["a", "b", "c"]
    assert isinstance(heads.pop("b"), nn.ReLU)
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "c.weight", "c.bias"]
    del heads["a"]
    assert list(heads.state_dict()) == ["c.weight", "c.bias"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        nn.ModuleDict([("a", nn.ReLU(), 1)])


def test_parameter_list_and_dict():
    params = nn.ParameterList([mg.ones(2)])
    assert isinstance(params[0], nn.Parameter) and params[0].requires_grad
    params.append(nn.Parameter(mg.zeros(3)))
    params.extend([mg.zeros(1)])
    assert len(params) == 3 and [p.shape for p in params] == [(2,), (3,), (1,)]
    assert list(params.state_dict()) == ["0", "1", "2"]
    params[1] = mg.full((3,), 4.0)
    np.testing.assert_array_equal(params[1].numpy(), 4.0)

    table = nn.ParameterDict({"w": mg.ones(2)})
    table["b"] = nn.Parameter(mg.zeros(1))
    assert list(table) == ["w", "b"] and "w" in table and table.get("x") is None
    assert isinstance(table["w"], nn.Parameter)
    assert [n for n, _ in table.named_parameters()] == ["w", "b"]
    assert table.pop("w").shape == (2,) and list(table.keys()) == ["b"]
    table.setdefault("c", mg.zeros(4))
    assert list(table.state_dict()) == ["b", "c"]
    with pytest.raises(KeyError):
        table["missing"]


def test_optimizer_over_container_parameters():
    model = nn.ModuleList([nn.Linear(2, 1)])
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    model[0](mg.ones(1, 2)).sum().backward()
    before = model[0].bias.numpy().copy()
    opt.step()
    np.testing.assert_allclose(model[0].bias.numpy(), before - 0.1)
