"""Activation modules and their functional forms against PyTorch."""

import pytest

import descentlab as dl
from descentlab import nn
from descentlab.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

from nn_compare import check, randn  # noqa: E402

MODULES = [
    ("Sigmoid", {}), ("Tanh", {}), ("ReLU", {}), ("LeakyReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {}), ("ELU", {"alpha": 0.5}), ("GELU", {}),
    ("GELU", {"approximate": "tanh"}), ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 3.0}),
    ("Softmax", {"dim": 1}), ("Softmax", {"dim": -1}), ("LogSoftmax", {"dim": 1}),
    ("LogSoftmax", {"dim": 0}),
]


@pytest.mark.parametrize("name,kwargs", MODULES)
def test_activation_module_matches_torch(name, kwargs):
    x = randn(4, 5, 3) * 3  # wide enough to cross Softplus' threshold and ELU's knee
    check(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), [x])


FUNCTIONS = [
    ("relu", {}), ("sigmoid", {}), ("tanh", {}), ("leaky_relu", {"negative_slope": 0.1}),
    ("elu", {"alpha": 1.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("softplus", {"beta": 0.5}), ("softmax", {"dim": 2}), ("log_softmax", {"dim": 1}),
]


@pytest.mark.parametrize("name,kwargs", FUNCTIONS)
def test_functional_activation_matches_torch(name, kwargs):
    fn, tfn = getattr(F, name), getattr(TF if name not in ("sigmoid", "tanh") else torch, name)
    check(lambda x: fn(x, **kwargs), lambda x: tfn(x, **kwargs), [randn(3, 4, 5) * 4])


def test_softmax_without_dim_asks_for_it():
    import descentlab as dl

    with pytest.raises(ValueError, match="dim is required"):
        nn.Softmax()(dl.randn(2, 3))


def test_repr_matches_torch():
    for name, kwargs in MODULES + [("PReLU", {})]:
        assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))


def test_relu_gradient_at_nan_zero_and_negative_inputs_matches_torch():
    # torch passes the gradient where the input is NaN (its mask is "not x <= 0") and gives 0 at
    # 0 and -0; first and second order, on Tensors too (create_graph).
    values, upstream = [float("nan"), -1.0, 0.0, -0.0, 2.0, 1e-30], [1.0, 1.0, 1.0, 2.0, -3.0, 4.0]
    out = {}
    for lib in (torch, dl):
        x = lib.tensor(values, requires_grad=True)
        x.relu().backward(lib.tensor(upstream))
        y = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad((y.relu() ** 2).sum(), y, create_graph=True)
        g.sum().backward()
        out[lib.__name__] = (x.grad.tolist(), g.tolist(), y.grad.tolist())
    assert out["descentlab"] == out["torch"]


def test_large_relu_reuses_buffers_without_touching_values_still_held():
    # From 16k elements relu writes its output, mask and gradient into reused buffers: results
    # still referenced (an output, a .grad, an array taken from them) must keep their values,
    # and NaN / 0 / -0 / negatives behave as torch's at that size too.
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.standard_normal((64, 8, 6, 6)).astype(np.float32)  # 18,432 elements
    base.reshape(-1)[:4] = [np.nan, 0.0, -0.0, -1.0]
    upstream = rng.standard_normal(base.shape).astype(np.float32)
    x = dl.tensor(base, requires_grad=True)
    first = x.relu()
    kept = first.detach().numpy()
    first.backward(dl.tensor(upstream))
    grad = x.grad
    snapshot, grad_snapshot = kept.copy(), grad.numpy().copy()
    x.grad = None
    second = (x - 1).relu()  # same shape: asks for the same buffers while the first are held
    second.backward(dl.tensor(-upstream))
    np.testing.assert_array_equal(kept, snapshot)
    np.testing.assert_array_equal(grad.numpy(), grad_snapshot)
    t = torch.tensor(base, requires_grad=True)
    ref = t.relu()
    ref.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(snapshot, ref.detach().numpy())
    np.testing.assert_array_equal(grad_snapshot, t.grad.numpy())
    t.grad = None
    (t - 1).relu().backward(torch.tensor(-upstream))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
