"""Recurrent layers: RNN, LSTM and GRU, as PyTorch's (its parameter names, gate order,
initialisation and result shapes), each time step written with the ops of the tape."""

from __future__ import annotations

import math
from typing import Any

from .. import functional as F
from ..creation import zeros
from ..tensor import Tensor
from ..tensor_functions import cat, stack
from .module import Module, Parameter

__all__ = ["GRU", "LSTM", "RNN"]


class _RNNBase(Module):
    """Layers of one recurrent cell (per direction), run over a sequence: ``forward(input,
    hx)`` returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``)."""

    gates = 1  # blocks of hidden_size rows in each weight

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        if proj_size:
            raise NotImplementedError("proj_size is not supported")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout}")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError("hidden_size and num_layers must be positive")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        directions = 2 if bidirectional else 1
        bound = 1 / math.sqrt(hidden_size)
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (rows, width), "weight_hh": (rows, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                for name, shape in shapes.items():
                    p = zeros(*shape, device=device, dtype=dtype).uniform_(-bound, bound)
                    setattr(self, f"{name}_l{layer}{suffix}", Parameter(p))

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        x = input
        unbatched = x.ndim == 2
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input of shape (L, N, "
                             f"{self.input_size}) or (L, {self.input_size}), got {x.shape}")
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        directions = 2 if self.bidirectional else 1
        states = self._initial_states(hx, x, directions, unbatched)
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                index = layer * directions + d
                start = tuple(s[index] for s in states)
                seq, last = self._run(x, start, layer, suffix, reverse=d == 1)
                outputs.append(seq)
                for store, value in zip(finals, last):
                    store.append(value)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output = x.squeeze(1) if unbatched else x.swapaxes(0, 1) if self.batch_first else x
        last = tuple(stack(store) for store in finals)
        if unbatched:
            last = tuple(s.squeeze(1) for s in last)
        return output, self._pack(last)

    def _initial_states(self, hx: Any, x: Tensor, directions: int,
                        unbatched: bool) -> tuple[Tensor, ...]:
        shape = (self.num_layers * directions, x.shape[1], self.hidden_size)
        given = self._unpack(hx)
        if given is None:
            blank = zeros(*shape, dtype=x.dtype, device=x.device)
            return (blank,) * self.state_count
        states = tuple(h.unsqueeze(1) if unbatched else h for h in given)
        for h in states:
            if tuple(h.shape) != shape:
                raise ValueError(f"{type(self).__name__}: expected hidden state of shape "
                                 f"{shape}, got {tuple(h.shape)}")
        return states

    state_count = 1

    def _unpack(self, hx: Any) -> tuple[Tensor, ...] | None:
        return None if hx is None else (hx,)

    def _pack(self, last: tuple[Tensor, ...]) -> Any:
        return last[0]

    def _run(self, x: Tensor, start: tuple[Tensor, ...], layer: int, suffix: str,
             reverse: bool) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One layer and direction over the sequence (L, N, *): every step's hidden state,
        stacked, and the last step's states."""
        w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
        b_ih = getattr(self, f"bias_ih_l{layer}{suffix}", None)
        b_hh = getattr(self, f"bias_hh_l{layer}{suffix}", None)
        inputs = F.linear(x, w_ih, b_ih)  # every step's input projection at once
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        state, out = start, [None] * x.shape[0]
        for t in steps:
            state = self._cell(inputs[t], state, w_hh, b_hh)
            out[t] = state[0]
        return stack(out), state


class RNN(_RNNBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or ReLU, ``nonlinearity="relu"``)."""

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(*args, **kwargs)
        self.nonlinearity = nonlinearity

    def _cell(self, projected: Tensor, state: tuple, w_hh: Tensor, b_hh: Any) -> tuple:
        pre = projected + F.linear(state[0], w_hh, b_hh)
        return (pre.tanh() if self.nonlinearity == "tanh" else pre.relu(),)


class LSTM(_RNNBase):
    """Gates i, f, g, o (in PyTorch's order): c' = f c + i g, h' = o tanh(c'); the state is
    ``(h, c)``."""

    gates = 4
    state_count = 2

    def _unpack(self, hx: Any) -> tuple[Tensor, ...] | None:
        return None if hx is None else tuple(hx)

    def _pack(self, last: tuple[Tensor, ...]) -> Any:
        return last

    def _cell(self, projected: Tensor, state: tuple, w_hh: Tensor, b_hh: Any) -> tuple:
        h, c = state
        i, f, g, o = (projected + F.linear(h, w_hh, b_hh)).chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c


class GRU(_RNNBase):
    """Gates r, z and the candidate n (PyTorch's order): n = tanh(W_in x + b_in + r (W_hn h
    + b_hn)), h' = (1 - z) n + z h."""

    gates = 3

    def _cell(self, projected: Tensor, state: tuple, w_hh: Tensor, b_hh: Any) -> tuple:
        h = state[0]
        x_r, x_z, x_n = projected.chunk(3, -1)
        h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return ((1 - z) * n + z * h,)
