"""``mg.Generator``: random numbers from a generator of one's own, as ``torch.Generator``."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.utils.data import DataLoader, TensorDataset, random_split


def _draws(g, device):
    """One of every draw that takes a generator, as host arrays."""
    probs = mg.full((4,), 0.5, device=device)
    weights = mg.tensor([1.0, 2.0, 3.0, 4.0], device=device)
    return [
        mg.rand(3, generator=g, device=device).numpy(),
        mg.randn(2, 3, generator=g, device=device).numpy(),
        mg.randint(0, 10, (5,), generator=g, device=device).numpy(),
        mg.randperm(6, generator=g, device=device).numpy(),
        mg.normal(0.0, 2.0, (3,), generator=g, device=device).numpy(),
        mg.bernoulli(probs, generator=g).numpy(),
        mg.multinomial(weights, 2, generator=g).numpy(),
        mg.zeros(3, device=device).uniform_(-1, 1, generator=g).numpy(),
        mg.zeros(3, device=device).normal_(1, 2, generator=g).numpy(),
        mg.zeros(3, device=device).bernoulli_(0.5, generator=g).numpy(),
        mg.zeros(3, device=device).exponential_(2.0, generator=g).numpy(),
    ]


def test_a_seed_repeats_every_draw(device):
    first = _draws(mg.Generator().manual_seed(7), device)
    again = _draws(mg.Generator().manual_seed(7), device)
    other = _draws(mg.Generator().manual_seed(8), device)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_the_same_numbers_on_every_device():
    draws = [_draws(mg.Generator().manual_seed(3), d) for d in mg.devices()]
    for other in draws[1:]:
        for a, b in zip(draws[0], other):
            np.testing.assert_array_equal(a, b)


def test_a_generator_leaves_the_device_generator_alone(device):
    mg.manual_seed(0)
    expected = mg.rand(4, device=device).numpy()
    mg.manual_seed(0)
    mg.randn(100, generator=mg.Generator(), device=device)
    np.testing.assert_array_equal(mg.rand(4, device=device).numpy(), expected)


def test_seeds_and_state():
    g = mg.Generator()
    assert g.initial_seed() == 67280421310721  # PyTorch's default
    assert g.manual_seed(-1) is g and g.initial_seed() == 2**64 - 1
    with pytest.raises(ValueError, match="out of range"):
        g.manual_seed(2**64)
    seed = g.seed()
    assert isinstance(seed, int) and g.initial_seed() == seed
    g.manual_seed(5)
    mg.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype == mg.uint8 and state.ndim == 1
    after = mg.rand(4, generator=g).numpy()
    restored = mg.Generator().set_state(state)
    np.testing.assert_array_equal(mg.rand(4, generator=restored).numpy(), after)
    assert restored.initial_seed() == 5
    with pytest.raises(RuntimeError, match="get_state"):
        g.set_state(mg.tensor([1, 2, 3], dtype=mg.uint8))
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(mg.zeros(3))
    assert "initial_seed=5" in repr(g)


def test_a_generator_of_another_kind_is_refused():
    with pytest.raises(TypeError, match="minigrad.Generator"):
        mg.rand(3, generator=42)
    with pytest.raises(TypeError, match="minigrad.Generator"):
        DataLoader(TensorDataset(mg.zeros(4, 2)), shuffle=True, generator="seed")


def test_random_split_and_the_loader_repeat_with_a_generator():
    data = TensorDataset(mg.arange(20).float())

    def split(seed):
        parts = random_split(data, [0.75, 0.25], generator=mg.Generator().manual_seed(seed))
        return [p.indices for p in parts]

    assert split(1) == split(1) and split(1) != split(2)
    assert sorted(sum(split(1), [])) == list(range(20))

    def epochs(g):
        loader = DataLoader(data, batch_size=5, shuffle=True, generator=g)
        return [[b[0].tolist() for b in loader] for _ in range(2)]

    g = mg.Generator().manual_seed(4)
    first = epochs(g)
    assert first[0] != first[1]  # each epoch draws a new order
    assert epochs(g.manual_seed(4)) == first  # reseeding the same generator repeats them
    with pytest.raises(ValueError, match="exclude"):
        DataLoader(data, shuffle=True, seed=1, generator=mg.Generator())


def test_init_with_a_generator():
    def weights(seed):
        layer = nn.Linear(4, 3)
        g = mg.Generator().manual_seed(seed)
        nn.init.kaiming_uniform_(layer.weight, generator=g)
        nn.init.normal_(layer.bias, generator=g)
        nn.init.trunc_normal_(layer.bias, generator=g)
        return layer.weight.numpy(), layer.bias.numpy()

    for a, b in zip(weights(0), weights(0)):
        np.testing.assert_array_equal(a, b)
    w = mg.zeros(4, 4)
    q = nn.init.orthogonal_(w, generator=mg.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-5)


def test_a_compiled_step_draws_from_its_generator_on_every_replay():
    def noisy(g):
        return lambda x: x * mg.rand(3, generator=g)

    x = mg.ones(3)
    eager = noisy(mg.Generator().manual_seed(11))
    compiled = mg.compile(noisy(mg.Generator().manual_seed(11)))
    for _ in range(5):
        np.testing.assert_array_equal(compiled(x).numpy(), eager(x).numpy())
    assert compiled.stats["replays"] == 3


def test_nn_functional_is_pytorchs_spelling():
    import minigrad.functional
    import minigrad.nn.functional as F

    assert F is minigrad.functional and nn.functional is minigrad.functional
