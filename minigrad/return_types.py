"""The named tuples that ops return, as PyTorch's ``torch.return_types``."""

from __future__ import annotations

from typing import Any, NamedTuple


class ValuesIndices(NamedTuple):
    """``(values, indices)``: what ``max(dim)``, ``min(dim)``, ``sort``, ``topk`` and the
    other selecting ops return."""

    values: Any
    indices: Any
