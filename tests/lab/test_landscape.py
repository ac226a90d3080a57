"""Loss landscapes: interpolation, filter-normalized directions, Hessian eigenvalue and trace."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.lab import landscape as L


def _tiny(seed=0):
    """A 2-4-3 tanh net (27 parameters) on 40 random points, and its loss as a function of θ."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((40, 2)), rng.integers(0, 3, 40)
    model = nn.Sequential(nn.Linear(2, 4, dtype=dl.float64), nn.Tanh(),
                          nn.Linear(4, 3, dtype=dl.float64))
    L.set_flat_parameters(model, rng.standard_normal(27))  # seeded here, not by the global RNG

    def f(w):
        W1, b1 = w[0:8].reshape(4, 2), w[8:12]
        W2, b2 = w[12:24].reshape(3, 4), w[24:27]
        h = (dl.tensor(X) @ W1.T + b1).tanh()
        return nn.functional.cross_entropy(h @ W2.T + b2, dl.tensor(y))

    return model, L.batch_closure(model, nn.CrossEntropyLoss(), X, y), f


@pytest.fixture(scope="module")
def tiny():
    model, closure, f = _tiny()
    theta = L.get_flat_parameters(model)
    H = dl.autograd.functional.hessian(f, dl.tensor(theta)).numpy()
    return model, closure, theta, H


def test_flat_parameters_round_trip_and_match_the_functional_loss(tiny):
    model, closure, theta, _ = tiny
    _, _, f = _tiny()
    assert theta.shape == (27,)
    assert closure().item() == pytest.approx(f(dl.tensor(theta)).item(), rel=1e-14)
    L.set_flat_parameters(model, theta + 1.0)
    np.testing.assert_array_equal(L.get_flat_parameters(model), theta + 1.0)
    L.set_flat_parameters(model, theta)
    with pytest.raises(ValueError, match="27"):
        L.set_flat_parameters(model, theta[:5])


def test_hvp_operator_equals_the_full_hessian(tiny):
    model, closure, theta, H = tiny
    hvp = L.hvp_operator(model, closure)
    v = np.random.default_rng(3).standard_normal(27)
    np.testing.assert_allclose(hvp(v), H @ v, rtol=1e-10, atol=1e-12)


def test_power_iteration_matches_eigvalsh(tiny):
    model, closure, theta, H = tiny
    eig = np.linalg.eigvalsh(H)
    top = eig[np.argmax(np.abs(eig))]
    res = L.top_hessian_eigenvalue(model, closure, max_iter=1000, tol=1e-10, seed=1)
    assert res.converged
    assert res.eigenvalue == pytest.approx(top, rel=1e-3)
    np.testing.assert_allclose(np.abs(res.eigenvector @ (H @ res.eigenvector)), abs(top),
                               rtol=1e-3)
    np.testing.assert_array_equal(L.get_flat_parameters(model), theta)


def test_hutchinson_trace_within_its_sampling_error(tiny):
    model, closure, theta, H = tiny
    m = 1000
    res = L.hessian_trace(model, closure, n_samples=m, seed=7)
    off = H - np.diag(np.diag(H))
    sigma = np.sqrt(2 * np.sum(off ** 2) / m)  # exact std of the Rademacher estimator
    assert abs(res.trace - np.trace(H)) < 4 * sigma
    assert res.std_error == pytest.approx(sigma, rel=0.2)
    np.testing.assert_array_equal(L.get_flat_parameters(model), theta)


def test_hutchinson_is_exact_for_a_diagonal_hessian():
    lin = nn.Linear(3, 1, bias=False, dtype=dl.float64)
    x = dl.tensor(np.diag([1.0, 2.0, 3.0]))
    closure = lambda: (lin(x) ** 2).sum()  # noqa: E731  L = Σ wᵢ²·i², H = diag(2i²)
    res = L.hessian_trace(lin, closure, n_samples=5)
    assert res.trace == pytest.approx(2 * (1 + 4 + 9)) and res.std_error == pytest.approx(0)


def test_interpolation_endpoints_are_the_losses_at_theta0_and_theta1(tiny):
    model, closure, theta0, _ = tiny
    theta1 = theta0 + np.random.default_rng(5).standard_normal(27)
    loss0 = closure().item()
    L.set_flat_parameters(model, theta1)
    loss1 = closure().item()
    L.set_flat_parameters(model, theta0)
    res = L.linear_interpolation(model, closure, theta0, theta1, ts=[0.0, 0.5, 1.0])
    assert res.losses[0] == pytest.approx(loss0, rel=1e-14)
    assert res.losses[2] == pytest.approx(loss1, rel=1e-14)
    np.testing.assert_array_equal(L.get_flat_parameters(model), theta0)
    default = L.linear_interpolation(model, closure, theta0, theta1)
    assert len(default.ts) == 41 and default.losses[10] == pytest.approx(loss0, rel=1e-12)


def test_filter_normalization_gives_each_row_its_weight_rows_norm():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((5, 3)), rng.standard_normal(5),
               rng.standard_normal((4, 2, 3, 3))]
    d = L.filter_normalize([rng.standard_normal(w.shape) for w in weights], weights)
    np.testing.assert_allclose(np.linalg.norm(d[0], axis=1), np.linalg.norm(weights[0], axis=1))
    np.testing.assert_array_equal(d[1], 0.0)  # biases ignored, as in Li et al.
    np.testing.assert_allclose(np.linalg.norm(d[2].reshape(4, -1), axis=1),
                               np.linalg.norm(weights[2].reshape(4, -1), axis=1))
    kept = L.filter_normalize(d, weights, ignore_bias_bn=False)
    np.testing.assert_array_equal(kept[1], weights[1])


def test_surface_grid_center_and_restoration():
    model = nn.Sequential(nn.Linear(2, 8, dtype=dl.float64), nn.BatchNorm1d(8, dtype=dl.float64),
                          nn.ReLU(), nn.Linear(8, 2, dtype=dl.float64))
    rng = np.random.default_rng(1)
    closure = L.batch_closure(model, nn.CrossEntropyLoss(), rng.standard_normal((32, 2)),
                              rng.integers(0, 2, 32))
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    surf = L.loss_surface_2d(model, closure, steps=5, span=(-1, 1), seed=0)
    assert surf.losses.shape == (5, 5) and np.all(np.isfinite(surf.losses))
    assert surf.losses[2, 2] == pytest.approx(surf.center_loss, rel=1e-12)  # α = β = 0
    # BN γ/β and biases are not moved by the directions.
    assert all(not d.any() for d in surf.directions[0] if d.ndim == 1)
    for k, v in model.state_dict().items():  # parameters AND running stats restored
        np.testing.assert_array_equal(v.detach().numpy(), before[k], err_msg=k)
    again = L.loss_surface_2d(model, closure, steps=5, directions=surf.directions)
    np.testing.assert_array_equal(again.losses, surf.losses)


def test_parameters_restored_even_when_the_closure_fails(tiny):
    model, _, theta, _ = tiny

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        L.linear_interpolation(model, broken, theta, theta + 1, ts=[1.0])
    np.testing.assert_array_equal(L.get_flat_parameters(model), theta)


def test_surface_rows_follow_beta():
    lin = nn.Linear(2, 1, bias=False, dtype=dl.float64)
    L.set_flat_parameters(lin, np.array([1.0, 1.0]))
    closure = lambda: lin.weight[0, 0] * 10 + lin.weight[0, 1]  # noqa: E731  linear probe
    delta, eta = [np.array([[1.0, 0.0]])], [np.array([[0.0, 1.0]])]
    surf = L.loss_surface_2d(lin, closure, steps=3, directions=(delta, eta))
    # L = 11 + 10·α + β: moving along a row (α) changes it by 10, down a column (β) by 1.
    np.testing.assert_allclose(surf.losses, 11 + 10 * surf.alphas[None, :] + surf.betas[:, None])


def test_moons_mlp_landscape_trains_then_measures_around_the_trained_weights():
    result = L.moons_mlp_landscape(width=4, samples=40, epochs=30, grid=3, seed=0)
    line, surf = result.line, result.surface
    at = {float(t): float(v) for t, v in zip(line.ts, line.losses)}
    # t = 0 is the init, t = 1 the trained weights, which are the centre of the 2-D slice.
    assert result.init_loss == at[0.0]
    assert surf.center_loss == pytest.approx(at[1.0], rel=1e-12)
    assert surf.center_loss < result.init_loss
    assert surf.losses.shape == (3, 3) and np.all(np.isfinite(surf.losses))
    assert result.eigen.iterations <= 50 and result.trace.samples.shape == (20,)
    assert result.seconds > 0
    again = L.moons_mlp_landscape(width=4, samples=40, epochs=30, grid=3, seed=0)
    np.testing.assert_array_equal(again.line.losses, line.losses)  # seeded: data and weights
