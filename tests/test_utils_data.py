"""minigrad.utils.data: PyTorch's import path, map-style data sets, Subset and random_split."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.data
from minigrad.utils.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)

torch = pytest.importorskip("torch")


class Squares(Dataset):
    """A map-style data set written as a PyTorch user would write it."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return mg.tensor([float(i), float(i * i)]), i, 0.5 * i


def test_the_loader_is_minigrads():
    assert DataLoader is minigrad.data.DataLoader
    assert TensorDataset is minigrad.data.TensorDataset


def test_loader_collates_a_map_style_dataset_as_pytorch(device):
    ours = list(DataLoader(Squares(7), batch_size=3, device=device))

    class TorchSquares(torch.utils.data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return torch.tensor([float(i), float(i * i)]), i, 0.5 * i

    theirs = list(torch.utils.data.DataLoader(TorchSquares(), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for mine, other in zip(ours, theirs):
        assert len(mine) == len(other)
        for a, b in zip(mine, other):
            assert a.device == mg.get_backend(device).name
            assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).split(".")[1]
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("lengths, sizes", [([3, 7], [3, 7]), ([0.3, 0.7], [3, 7]),
                                            ([0.33, 0.33, 0.34], [4, 3, 3]), ([10], [10])])
def test_random_split_sizes_as_pytorch(lengths, sizes):
    parts = random_split(Squares(10), lengths)
    expected = [len(p) for p in torch.utils.data.random_split(range(10), lengths)]
    assert [len(p) for p in parts] == sizes == expected
    rows = sorted(i for p in parts for i in p.indices)
    assert rows == list(range(10))


def test_random_split_is_seeded():
    def split():
        return [p.indices for p in random_split(Squares(20), [0.5, 0.5])]
    mg.manual_seed(4)
    first = split()
    mg.manual_seed(4)
    assert split() == first
    assert first != [list(range(10)), list(range(10, 20))]
    a = random_split(Squares(20), [5, 15], generator=np.random.default_rng(1))
    b = random_split(Squares(20), [5, 15], generator=np.random.default_rng(1))
    assert a[0].indices == b[0].indices


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 2 is not between 0 and 1"):
        random_split(Squares(10), [0.5, 0.7, -0.2])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(3), [0.9, 0.1])


def test_subset_and_concat(device):
    data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    part = Subset(data, [4, 0, 2])
    assert len(part) == 3
    np.testing.assert_array_equal(part[0][0], [8.0, 9.0])
    x, y = next(iter(DataLoader(part, batch_size=3, device=device)))
    np.testing.assert_array_equal(y.numpy(), [4, 0, 2])
    np.testing.assert_array_equal(x.numpy(), [[8.0, 9.0], [0.0, 1.0], [4.0, 5.0]])
    both = Squares(2) + Squares(3)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert both[3][1] == 1 and both[-1][1] == 2


def test_dataset_base_needs_getitem():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def _flatten(batch):
    if isinstance(batch, dict):
        return [v for k in batch for v in _flatten(batch[k])]
    if isinstance(batch, list | tuple):
        return [v for b in batch for v in _flatten(b)]
    return [batch.numpy()]


def test_nested_rows_collate_field_by_field_as_pytorch():
    def row(lib, i):
        return lib.tensor([float(i)]), (i, lib.tensor(2.0 * i)), {"a": i, "b": [0.5 * i, i]}

    class Ours(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return row(mg, i)

    class Theirs(torch.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return row(torch, i)

    ours = list(DataLoader(Ours(), batch_size=2))
    theirs = list(torch.utils.data.DataLoader(Theirs(), batch_size=2))
    for mine, other in zip(ours, theirs, strict=True):
        got, expected = _flatten(mine), _flatten(other)
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
