"""What the vocabulary tests share: one case written once, run on minigrad and on torch."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def arr(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


class Lib:
    """``lib`` in a case: the module, with index, float and mask tensors made on its
    device."""

    def __init__(self, module, device=None):
        self.module, self.device = module, device

    def __getattr__(self, name):
        return getattr(self.module, name)

    def _make(self, data, dtype):
        if self.module is torch:
            return torch.tensor(data, dtype=getattr(torch, np.dtype(dtype).name))
        return mg.tensor(np.asarray(data, dtype=dtype), device=self.device)

    def index(self, data):
        return self._make(data, np.int64)

    ints = index

    def floats(self, data):
        return self._make(data, np.float64)

    def mask(self, data):
        return self._make(data, np.bool_)


def outputs(out):
    """The tensors of a result: one, a tuple, or a (values, indices) pair."""
    return list(out) if isinstance(out, (tuple, list)) else [out]
