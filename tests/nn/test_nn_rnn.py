"""RNN, LSTM, GRU and their cells against PyTorch: parameter names, shapes and init, forward
values of every output, gradients of inputs, initial states and every weight, double backward."""

import math

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn

torch = pytest.importorskip("torch")

from nn_compare import check, copy_module, randn  # noqa: E402

T, B, I, H = 5, 3, 4, 6


def _flat(lib, out):
    """All outputs of a recurrent layer as one vector, so one random upstream gradient covers
    output, h_n and c_n at once."""
    out, state = out
    parts = [out] + (list(state) if isinstance(state, tuple) else [state])
    return lib.cat([p.reshape(-1) for p in parts])


def _pair(name, **kwargs):
    return getattr(nn, name)(I, H, **kwargs), getattr(torch.nn, name)(I, H, **kwargs)


CONFIGS = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bidirectional=True, batch_first=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(batch_first=True, bias=False)),
    ("LSTM", dict(num_layers=2, batch_first=True, bidirectional=True)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_parameter_names_shapes_and_init_match_torch(name, kwargs):
    mod, t_mod = _pair(name, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in mod.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_mod.state_dict().items()]
    assert repr(mod) == repr(t_mod)
    bound = 1 / math.sqrt(H)
    values = np.concatenate([p.detach().numpy().ravel() for p in mod.parameters()])
    assert np.all(np.abs(values) <= bound) and values.std() > 0.4 * bound  # U(±1/√H)
    assert [[tuple(p.shape) for p in ws] for ws in mod.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in t_mod.all_weights]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_sequence_layers_match_torch_forward_and_backward(name, kwargs, with_state):
    mod, t_mod = _pair(name, **kwargs)
    copy_module(mod, t_mod)
    mod.flatten_parameters()  # torch code calls it; a no-op on the CPU in both libraries
    dirs = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    x = randn(B, T, I) if kwargs.get("batch_first") else randn(T, B, I)
    inputs = [x]
    if with_state:
        inputs += [randn(layers * dirs, B, H, seed=1)]
        if name == "LSTM":
            inputs += [randn(layers * dirs, B, H, seed=2)]

    def run(lib, m):
        def fn(x, *state):
            if not state:
                return _flat(lib, m(x))
            return _flat(lib, m(x, tuple(state) if name == "LSTM" else state[0]))
        return fn

    out, t_out = check(run(dl, mod), run(torch, t_mod), inputs, modules=(mod, t_mod))
    assert out.shape == t_out.shape


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(name):
    mod, t_mod = _pair(name, num_layers=2, bidirectional=True)
    copy_module(mod, t_mod)
    h = randn(4, H, seed=1)
    state = (h, randn(4, H, seed=2)) if name == "LSTM" else (h,)

    def run(lib, m):
        def fn(x, *s):
            out = m(x, tuple(s) if name == "LSTM" else s[0])
            assert out[0].shape == (T, 2 * H)
            return _flat(lib, out)
        return fn

    check(run(dl, mod), run(torch, t_mod), [randn(T, I), *state], modules=(mod, t_mod))


def test_dropout_between_layers_matches_torch_when_deterministic():
    """p = 1 drops every input of layer 2 (deterministic in both libraries); eval mode turns
    dropout off; a one-layer stack with dropout warns as torch."""
    for training in (True, False):
        mod, t_mod = _pair("LSTM", num_layers=2, dropout=1.0)
        copy_module(mod, t_mod)
        mod.train(training)
        t_mod.train(training)
        check(lambda x, m=mod: _flat(dl, m(x)), lambda x, m=t_mod: _flat(torch, m(x)),
              [randn(T, B, I)], modules=(mod, t_mod))
    for lib in (nn, torch.nn):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
            lib.GRU(I, H, dropout=0.5)


@pytest.mark.parametrize("name,kwargs", [
    ("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu", bias=False)),
    ("LSTMCell", dict()), ("LSTMCell", dict(bias=False)), ("GRUCell", dict()),
])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(name, kwargs, batched, with_state):
    cell, t_cell = _pair(name, **kwargs)
    assert list(cell.state_dict()) == list(t_cell.state_dict())
    assert repr(cell) == repr(t_cell)
    copy_module(cell, t_cell)
    lead = (B,) if batched else ()
    inputs = [randn(*lead, I)]
    if with_state:
        inputs += [randn(*lead, H, seed=1)] + ([randn(*lead, H, seed=2)] if name == "LSTMCell"
                                               else [])

    def run(lib, m):
        def fn(x, *s):
            state = None if not s else (tuple(s) if name == "LSTMCell" else s[0])
            out = m(x, state)
            if isinstance(out, tuple):
                return lib.cat([o.reshape(-1) for o in out])
            return out
        return fn

    check(run(dl, cell), run(torch, t_cell), inputs, modules=(cell, t_cell))


def test_cell_loop_equals_layer():
    """Unrolling an LSTMCell over time with the layer's weights gives the layer's output."""
    layer, cell = nn.LSTM(I, H).double(), nn.LSTMCell(I, H).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = dl.tensor(randn(T, B, I))
    out, (h_n, c_n) = layer(x)
    state = None
    for t in range(T):
        state = cell(x[t], state)
    np.testing.assert_allclose(state[0].detach().numpy(), out[-1].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(state[1].detach().numpy(), c_n[0].detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_double_backward_gradgradcheck(name):
    """Second derivatives of a small recurrence (input and one weight) by finite differences."""
    mod = getattr(nn, name)(2, 3, num_layers=1, bidirectional=name == "GRU").double()
    x = dl.tensor(randn(3, 2, 2), requires_grad=True)
    w = mod.weight_hh_l0

    def fn(x, w_hh):
        mod._parameters["weight_hh_l0"] = w_hh
        try:
            out = mod(x)
        finally:
            mod._parameters["weight_hh_l0"] = w
        return out[0]

    assert dl.autograd.gradgradcheck(fn, (x, w.detach().clone().requires_grad_()))


def test_lstm_hessian_vector_product_matches_torch():
    mod, t_mod = _pair("LSTM", num_layers=2)
    copy_module(mod, t_mod)
    x, v = randn(T, B, I), randn(4 * H, H, seed=3)

    def hvp(lib, m):
        w = m.weight_hh_l0
        out, (h, c) = m(lib.tensor(x))
        loss = (out ** 2).sum() + (c ** 3).sum()
        (g,) = lib.autograd.grad(loss, [w], create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v)).sum(), [w])
        return hv.detach().numpy()

    np.testing.assert_allclose(hvp(dl, mod), hvp(torch, t_mod), rtol=1e-7, atol=1e-9)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="input.size\\(-1\\) must be equal to input_size. "
                                         "Expected 4, got 5"):
        nn.LSTM(4, 3)(dl.randn(2, 1, 5))
    with pytest.raises(ValueError, match=r"Expected hidden size \(2, 1, 3\), got \[1, 1, 3\]"):
        nn.GRU(4, 3, bidirectional=True)(dl.randn(2, 1, 4), dl.zeros(1, 1, 3))
    with pytest.raises(ValueError, match="pair \\(h0, c0\\)"):
        nn.LSTM(4, 3)(dl.randn(2, 1, 4), dl.zeros(1, 1, 3))
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(4, 3, proj_size=2)
    with pytest.raises(ValueError, match="hidden state has shape"):
        nn.GRUCell(4, 3)(dl.randn(2, 4), dl.zeros(3, 3))


def test_float32_default_and_training_step_reduces_loss():
    """The default dtype works end to end: an LSTM + Linear learns to output the sequence mean."""
    dl.manual_seed(0)
    lstm, head = nn.LSTM(1, 8, batch_first=True), nn.Linear(8, 1)
    assert lstm.weight_ih_l0.dtype == dl.float32
    params = list(lstm.parameters()) + list(head.parameters())
    opt = dl.optim.Adam(params, lr=0.02)
    x = dl.rand(32, 6, 1)
    y = x.mean(1)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        out, _ = lstm(x)
        loss = nn.functional.mse_loss(head(out[:, -1]), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert out.dtype == dl.float32
    assert losses[-1] < 0.1 * losses[0]
