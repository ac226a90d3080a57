"""nn.init against torch's formulas: gains, fans, bounds and sample statistics; layer defaults."""

import math

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("args", [
    ("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
    ("leaky_relu", 0.2), ("selu",),
])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(7, 3), (8, 4, 3, 3), (5, 2, 4)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(dl.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(dl.empty(5))


SHAPE = (400, 300, 2, 2)  # fan_in 1200, fan_out 1600; 480k samples: tight statistics
FAN_IN, FAN_OUT = 300 * 4, 400 * 4


def _uniform_std(bound):
    return bound / math.sqrt(3)


@pytest.mark.parametrize("fn,kwargs,bound,std", [
    (init.uniform_, dict(a=-2.0, b=3.0), None, 5 / math.sqrt(12)),
    (init.normal_, dict(mean=0.0, std=0.3), None, 0.3),
    (init.xavier_uniform_, dict(gain=2.0), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT)),
     2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.xavier_normal_, dict(), None, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.kaiming_uniform_, dict(nonlinearity="relu"), math.sqrt(6 / FAN_IN),
     math.sqrt(2 / FAN_IN)),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)), 1 / math.sqrt(FAN_IN), 1 / math.sqrt(3 * FAN_IN)),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), None, math.sqrt(2 / FAN_OUT)),
    (init.kaiming_normal_, dict(a=0.1, nonlinearity="leaky_relu"), None,
     math.sqrt(2 / (1 + 0.01)) / math.sqrt(FAN_IN)),
])
def test_init_statistics_follow_torch_formulas(fn, kwargs, bound, std):
    t = dl.empty(*SHAPE, dtype=dl.float64)
    out = fn(t, generator=dl.Generator().manual_seed(0), **kwargs)
    assert out is t
    x = t.numpy()
    assert x.std() == pytest.approx(std, rel=0.01)
    if fn is init.uniform_:
        assert x.min() >= -2 and x.max() < 3
    else:
        assert abs(x.mean()) < 4 * std / math.sqrt(x.size)
    if bound is not None:
        assert -bound <= x.min() and x.max() <= bound and x.max() > 0.99 * bound
    # torch's std for the same call, as a cross-check of the formula (not of the samples)
    tt = getattr(torch.nn.init, fn.__name__)(torch.empty(SHAPE, dtype=torch.float64), **kwargs)
    assert tt.std().item() == pytest.approx(std, rel=0.01)


def test_constant_zeros_ones_eye_and_leaf_params():
    p = nn.Parameter(dl.empty(3, 4))
    assert init.constant_(p, 0.5) is p and np.all(p.detach().numpy() == 0.5)
    assert np.all(init.zeros_(p).detach().numpy() == 0)
    assert np.all(init.ones_(p).detach().numpy() == 1)
    np.testing.assert_array_equal(init.eye_(p).detach().numpy(), np.eye(3, 4))
    assert p.requires_grad and p.is_leaf


def test_init_is_reproducible_with_seed_and_generator():
    dl.manual_seed(5)
    a = nn.Linear(10, 4).weight.detach().numpy().copy()
    dl.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(10, 4).weight.detach().numpy(), a)
    g1, g2 = dl.Generator().manual_seed(1), dl.Generator().manual_seed(1)
    np.testing.assert_array_equal(init.normal_(dl.empty(5), generator=g1).numpy(),
                                  init.normal_(dl.empty(5), generator=g2).numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(250, 300), lambda lib: lib.nn.Conv2d(30, 200, 3),
])
def test_layer_default_init_matches_torch(make):
    """weight ~ U(±1/√fan_in) (kaiming_uniform_ with a=√5), bias ~ U(±1/√fan_in), as torch."""
    dl.manual_seed(0)
    torch.manual_seed(0)
    m, tm = make(dl), make(torch)
    bound = 1 / math.sqrt(tm.weight[0].numel())
    for name in ("weight", "bias"):
        ours = getattr(m, name).detach().numpy()
        theirs = getattr(tm, name).detach().numpy()
        assert ours.dtype == np.float32 and ours.shape == theirs.shape
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
    w, tw = m.weight.detach().numpy(), tm.weight.detach().numpy()  # ≥ 54k samples each
    assert np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert w.std() == pytest.approx(tw.std(), rel=0.03)
