"""Landscapes: known minima and critical points verified by autograd, Hessians by closed form."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl
from descentlab.lab.functions import function_names, get_function

NAMES = function_names()


@pytest.mark.parametrize("name", NAMES)
def test_critical_points_have_zero_gradient_and_listed_value(name):
    f = get_function(name)
    pts = np.array([c.location for c in f.critical_points])
    values, grads = f.value_and_grad(pts, use_analytic=False)
    np.testing.assert_allclose(values, [c.value for c in f.critical_points], atol=1e-9, rtol=1e-9)
    assert np.abs(grads).max() < 1e-8


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_minima_by_hessian_and_kinds_match_eigenvalues(name):
    f = get_function(name)
    for c in f.critical_points:
        eig = np.linalg.eigvalsh(f.hessian(np.array(c.location)))
        kind = {"minimum": eig.min() > 1e-9, "maximum": eig.max() < -1e-9,
                "saddle": eig.min() < -1e-9 < 1e-9 < eig.max(),
                "degenerate": np.abs(eig).min() <= 1e-9}[c.kind]
        assert kind, (name, c, eig)
    assert all(m.kind == "minimum" for m in f.minima)


@pytest.mark.parametrize("name", NAMES)
def test_batched_evaluation_matches_pointwise(name):
    f = get_function(name)
    rng = np.random.default_rng(0)
    lo, hi = np.array(f.domain).T
    x = rng.uniform(lo, hi, size=(3, 4, f.dim))
    batched = f(dl.tensor(x, dtype=dl.float64)).numpy()
    assert batched.shape == (3, 4)
    single = np.array([[f(dl.tensor(p, dtype=dl.float64)).item() for p in row] for row in x])
    np.testing.assert_allclose(batched, single, rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if get_function(n).has_analytic_grad])
def test_analytic_gradient_matches_autograd(name):
    f = get_function(name)
    x = np.random.default_rng(1).normal(size=(50, f.dim)) * 2
    v1, g1 = f.value_and_grad(x)
    v2, g2 = f.value_and_grad(x, use_analytic=False)
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["himmelblau", "beale", "goldstein_price", "ackley", "rastrigin",
                                  "six_hump_camel"])
def test_hessian_matches_finite_differences_of_gradient(name):
    f = get_function(name)
    x = np.random.default_rng(2).uniform(-1.5, 1.5, size=(5, f.dim))
    h = 1e-6
    fd = np.stack([(f.grad(x + h * e, False) - f.grad(x - h * e, False)) / (2 * h)
                   for e in np.eye(f.dim)], axis=-2)
    np.testing.assert_allclose(f.hessian(x), fd, rtol=1e-5, atol=1e-4 * np.abs(fd).max())


def test_closed_form_hessians():
    np.testing.assert_allclose(get_function("elliptic_valley", kappa=25).hessian(np.ones(2)),
                               np.diag([1.0, 25.0]))
    np.testing.assert_allclose(get_function("saddle").hessian(np.zeros((2, 2))),
                               np.broadcast_to(np.diag([2.0, -2.0]), (2, 2, 2)))
    x, y = 0.3, -1.2
    np.testing.assert_allclose(get_function("rosenbrock").hessian(np.array([x, y])),
                               [[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200]])
    np.testing.assert_allclose(get_function("parabola").hessian(np.array([0.7])), [[2.0]])


def test_n_dimensional_versions():
    for name in ("quadratic_bowl", "rosenbrock", "rastrigin", "ackley", "styblinski_tang"):
        f = get_function(name, dim=5)
        assert f.dim == 5 and len(f.minima[0].location) == 5
        v, g = f.value_and_grad(np.array(f.minima[0].location), use_analytic=False)
        assert abs(v - f.minima[0].value) < 1e-9 and np.abs(g).max() < 1e-8


def test_registry_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match="valid names: .*himmelblau"):
        get_function("himmelbla")
    with pytest.raises(ValueError, match="accepts: kappa"):
        get_function("elliptic_valley", condition=3)
    with pytest.raises(ValueError, match="kappa"):
        get_function("elliptic_valley", kappa=0.5)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        get_function("himmelblau")(np.zeros((4, 3)))
    assert get_function("Six-Hump camel").name == "six_hump_camel"
