"""Recurrent layers: RNN (tanh / ReLU), LSTM and GRU over whole sequences, and their cells.

Parameter names, shapes, gate order and init are torch's, so state dicts load either way:
``weight_ih_l{k}{_reverse}`` (G·H, input features), ``weight_hh_l{k}{_reverse}`` (G·H, H),
``bias_ih_l{k}…``, ``bias_hh_l{k}…`` with G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n),
all drawn from U(−1/√H, 1/√H).

Everything is composed of differentiable ops, so gradients of any order come from the engine.
As in torch's kernels, the input projection of every time step is one matrix product before the
loop, and each step is one more product for all gates at once (h·W_hhᵀ, fused over the gates).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

from ..autograd import creation as _c
from ..autograd.ops.nn import LSTMPointwise, Unbind
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _options_repr
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _steps(x: Tensor) -> tuple:
    out = Unbind.apply(x)
    return out if isinstance(out, tuple) else (out,)


# --------------------------------------------------------------------------- one time step each
# gi = x·W_ihᵀ + b_ih (precomputed for all steps), h the previous hidden state.


def _rnn_tanh_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' = tanh(gi + h·W_hhᵀ + b_hh)."""
    return (gi + F.linear(h, w_hh, b_hh)).tanh()


def _rnn_relu_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' = relu(gi + h·W_hhᵀ + b_hh)."""
    return (gi + F.linear(h, w_hh, b_hh)).relu()


def _lstm_step(gi: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None) -> tuple:
    """[i, f, g, o] = gi + h·W_hhᵀ + b_hh (one product for the four gates);
    c' = σ(f)⊙c + σ(i)⊙tanh(g);  h' = σ(o)⊙tanh(c')."""
    h, c = state
    hc = LSTMPointwise.apply(gi + F.linear(h, w_hh, b_hh), c)
    n = c.shape[-1]
    return hc[..., :n], hc[..., n:]


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r⊙gh_n) with gh = h·W_hhᵀ + b_hh;
    h' = (1 − z)⊙n + z⊙h  (torch's form: the reset gate multiplies gh_n, bias included)."""
    gh = F.linear(h, w_hh, b_hh)
    k = h.shape[-1]
    r = (gi[..., :k] + gh[..., :k]).sigmoid()
    z = (gi[..., k:2 * k] + gh[..., k:2 * k]).sigmoid()
    n = (gi[..., 2 * k:] + r * gh[..., 2 * k:]).tanh()
    return n + z * (h - n)


_STEPS: dict[str, tuple[int, Callable]] = {
    "RNN_TANH": (1, _rnn_tanh_step), "RNN_RELU": (1, _rnn_relu_step), "LSTM": (4, _lstm_step),
    "GRU": (3, _gru_step),
}


def _reset_uniform(module: Module, hidden_size: int) -> None:
    """torch's init for every recurrent weight and bias: U(−1/√H, 1/√H)."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -stdv, stdv)


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, LSTM and GRU.

    For each layer and direction the sequence is run step by step; the backward direction reads
    the sequence from the end and its outputs are put back in time order; the layer's output is
    the two directions concatenated on the feature dim, fed (after ``dropout``, in training, on
    all but the last layer) to the next layer.
    """

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
        bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
        bidirectional: bool = False, proj_size: int = 0, device: Any = None, dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _STEPS:
            raise ValueError(f"unknown RNN mode {mode!r}; use one of {', '.join(_STEPS)}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", UserWarning, stacklevel=3)
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"hidden_size and num_layers must be positive, got hidden_size="
                             f"{hidden_size} and num_layers={num_layers}")
        if proj_size != 0:
            raise NotImplementedError("proj_size (LSTM projections) is not supported; use "
                                      "proj_size=0 and a Linear layer after the LSTM")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        gates = _STEPS[mode][0] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gates, layer_in)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for name, shape in shapes:
                    setattr(self, name + sfx,
                            Parameter(_c.empty(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Does nothing: torch packs the weights into one cuDNN buffer here; the CPU path has
        nothing to pack. Kept so torch code that calls it runs unchanged."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction, [w_ih, w_hh(, b_ih, b_hh)] as torch."""
        k = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + k]] for i in range(0, len(names), k)]

    def _layer_params(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx))

    def _check_input(self, input: Tensor, hx: Any) -> tuple[Tensor, Any, bool]:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input (packed sequences "
                            f"are not supported), got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input.size(-1) must be equal to "
                             f"input_size. Expected {self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        return x, hx, batched

    def _initial(self, hx: Tensor | None, x: Tensor, batched: bool, what: str) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        want = (self.num_layers * dirs, x.shape[1], self.hidden_size)
        if hx is None:
            return _c.zeros(*want, dtype=x.dtype)
        if not batched:
            if hx.ndim != 2:
                raise ValueError(f"{type(self).__name__}: for unbatched 2-D input, {what} should "
                                 f"also be 2-D but got {hx.ndim}-D tensor")
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != want:
            raise ValueError(f"{type(self).__name__}: Expected hidden size {want}, got "
                             f"{list(hx.shape)} for {what}")
        return hx

    def _run(self, x: Tensor, state0: list) -> tuple[Tensor, list]:
        """The recurrence over (T, B, F) ``x`` from per-(layer, direction) states; returns the
        last layer's output (T, B, D·H) and the final states in the same order."""
        step = _STEPS[self.mode][1]
        dirs = 2 if self.bidirectional else 1
        finals = []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, d)
                state = state0[layer * dirs + d]
                projected = _steps(F.linear(layer_in, w_ih, b_ih))
                order = range(len(projected) - 1, -1, -1) if d else range(len(projected))
                hs: list = [None] * len(projected)
                for t in order:
                    state = step(projected[t], state, w_hh, b_hh)
                    hs[t] = state[0] if isinstance(state, tuple) else state
                outs.append(_c.stack(hs, 0))
                finals.append(state)
            layer_in = outs[0] if dirs == 1 else _c.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        return layer_in, finals

    def _output(self, out: Tensor, batched: bool) -> Tensor:
        if not batched:
            return out.squeeze(1)
        return out.transpose(0, 1) if self.batch_first else out

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, hx, batched = self._check_input(input, hx)
        h0 = self._initial(hx, x, batched, "hx")
        out, finals = self._run(x, list(h0.unbind(0)))
        h_n = _c.stack(finals, 0)
        return self._output(out, batched), (h_n if batched else h_n.squeeze(1))

    def extra_repr(self) -> str:
        return _options_repr(f"{self.input_size}, {self.hidden_size}",
                             ("num_layers", self.num_layers, self.num_layers != 1),
                             ("bias", self.bias, self.bias is not True),
                             ("batch_first", self.batch_first, self.batch_first is not False),
                             ("dropout", self.dropout, self.dropout != 0),
                             ("bidirectional", self.bidirectional,
                              self.bidirectional is not False))


class RNN(RNNBase):
    """Elman RNN, as ``torch.nn.RNN``:  h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)
    (``nonlinearity='relu'`` for ReLU).

    Input (T, N, input_size) — (N, T, …) with ``batch_first`` — or unbatched (T, input_size);
    h0 (num_layers·D, N, H), zeros when omitted. Returns (output, h_n): output (T, N, D·H) holds
    the last layer's h_t for every t (both directions concatenated), h_n the final h of every
    layer and direction.

    Args:
        input_size, hidden_size: feature counts of x_t and h_t.
        num_layers: stacked recurrent layers (default 1).
        nonlinearity: 'tanh' (default) or 'relu'.
        bias: learn b_ih and b_hh (default True).
        batch_first: input and output are (N, T, …) (h0 / h_n are not).
        dropout: dropout probability on the outputs of every layer but the last (training only).
        bidirectional: add a layer that reads the sequence backwards (D = 2).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory, as ``torch.nn.LSTM``: with gates from one product
    [i, f, g, o] = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh,
    c_t = σ(f)⊙c_{t−1} + σ(i)⊙tanh(g),  h_t = σ(o)⊙tanh(c_t).

    The cell state's gradient flows back through c_{t−1} = … multiplied only by the forget gate,
    not by a weight matrix, which is why it vanishes far more slowly than a plain RNN's.
    Arguments and shapes as ``RNN``; the state is a pair (h0, c0) and the result
    (output, (h_n, c_n)). ``proj_size`` is not supported.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, tuple]:
        x, hx, batched = self._check_input(input, hx)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError("LSTM: hx must be a pair (h0, c0) of tensors")
        h0 = self._initial(None if hx is None else hx[0], x, batched, "h0")
        c0 = self._initial(None if hx is None else hx[1], x, batched, "c0")
        out, finals = self._run(x, list(zip(h0.unbind(0), c0.unbind(0))))
        h_n = _c.stack([h for h, _ in finals], 0)
        c_n = _c.stack([c for _, c in finals], 0)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._output(out, batched), (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, as ``torch.nn.GRU``:
    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),  h' = (1 − z)⊙n + z⊙h.
    Arguments, shapes and results as ``RNN``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


# ------------------------------------------------------------------------------------ cells


class RNNCellBase(Module):
    """One time step of a recurrence, with torch's parameter names weight_ih, weight_hh,
    bias_ih, bias_hh (G·H rows) and init U(−1/√H, 1/√H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        g = gates * hidden_size
        self.weight_ih = Parameter(_c.empty(g, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(_c.empty(g, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(_c.empty(g, dtype=dtype, device=device))
            self.bias_hh = Parameter(_c.empty(g, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def _prepare(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor | None, bool]:
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, expected "
                             f"input_size={self.input_size}")
        batched = input.ndim == 2
        return (input if batched else input.unsqueeze(0)), hx, batched

    def _state(self, h: Tensor | None, x: Tensor, batched: bool) -> Tensor:
        if h is None:
            return _c.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
        h = h if batched else h.unsqueeze(0)
        if tuple(h.shape) != (x.shape[0], self.hidden_size):
            raise ValueError(f"{type(self).__name__}: hidden state has shape "
                             f"{tuple(h.shape)}, expected {(x.shape[0], self.hidden_size)}")
        return h

    def _gi(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    def extra_repr(self) -> str:
        return _options_repr(f"{self.input_size}, {self.hidden_size}",
                             ("bias", self.bias, self.bias is not True))


class RNNCell(RNNCellBase):
    """h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or ReLU), as ``torch.nn.RNNCell``.
    Input (N, input_size) or (input_size,); h zeros when omitted; returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Invalid nonlinearity selected for RNN. Can be either ``tanh`` or "
                             f"``relu``, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, hx, batched = self._prepare(input, hx)
        step = _rnn_tanh_step if self.nonlinearity == "tanh" else _rnn_relu_step
        h = step(self._gi(x), self._state(hx, x, batched), self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class LSTMCell(RNNCellBase):
    """One LSTM step, as ``torch.nn.LSTMCell``: (h', c') from input and (h, c) (zeros when
    omitted), gates [i, f, g, o] as in ``LSTM``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, Tensor]:
        x, hx, batched = self._prepare(input, hx)
        h0, c0 = (None, None) if hx is None else hx
        state = (self._state(h0, x, batched), self._state(c0, x, batched))
        h, c = _lstm_step(self._gi(x), state, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step, as ``torch.nn.GRUCell``: h' from input and h (zeros when omitted), gates
    [r, z, n] as in ``GRU``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, hx, batched = self._prepare(input, hx)
        h = _gru_step(self._gi(x), self._state(hx, x, batched), self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
