"""nn.utils: gradient clipping against torch, parameters ↔ vector."""

import math

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

torch = pytest.importorskip("torch")


def _pair(scale):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(dl.zeros(*g.shape, dtype=dl.float64)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = dl.tensor(g.copy())
        tp.grad = torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 5.0), (100.0, 1.0)])  # clipping and not
def test_clip_grad_norm_matches_torch(norm_type, max_norm, scale):
    ours, theirs = _pair(scale)
    nt = float(norm_type)
    total = clip_grad_norm_(ours, max_norm, norm_type=nt)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=nt)
    assert isinstance(total, dl.Tensor) and total.shape == ()
    assert total.item() == pytest.approx(t_total.item(), rel=1e-12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_and_edge_cases():
    ours, _ = _pair(1.0)
    ours[0].grad._data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_(ours, 1.0).item())
    assert clip_grad_norm_([nn.Parameter(dl.zeros(2))], 1.0).item() == 0.0  # no grads at all
    single, _ = _pair(1.0)
    total = clip_grad_norm_(single[0], 0.5)  # a lone tensor is accepted, as torch
    assert np.linalg.norm(single[0].grad.numpy()) == pytest.approx(0.5, rel=1e-5)
    assert total.item() > 0.5


def test_clip_grad_value_matches_torch():
    ours, theirs = _pair(3.0)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())


def test_parameters_vector_round_trip_matches_torch():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    t_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    model.load_state_dict(t_model.state_dict())
    vec = parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(
        vec.detach().numpy(),
        torch.nn.utils.parameters_to_vector(t_model.parameters()).detach().numpy())
    new = dl.arange(vec.numel(), dtype=dl.float32)
    vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).detach().numpy(),
                                  new.numpy())
    (parameters_to_vector(model.parameters()) ** 2).sum().backward()  # differentiable
    np.testing.assert_allclose(model[1].bias.grad.numpy(), 2 * new.numpy()[-2:])
    with pytest.raises(ValueError, match="length 26"):
        vector_to_parameters(dl.zeros(5), model.parameters())


def test_clip_grad_norm_accepts_a_generator():
    """model.parameters() is a generator: it must be measured and scaled, not used up."""
    model = dl.nn.Linear(4, 3)
    model(dl.randn(5, 4)).pow(2).sum().backward()
    before = float(dl.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.01))
    after = np.sqrt(sum(float((p.grad * p.grad).sum()) for p in model.parameters()))
    assert before > 0.01
    assert after == pytest.approx(0.01, rel=1e-3)
