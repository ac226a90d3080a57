"""Analyses: critical points, convexity, descent directions, lr sweeps, basins, saddle escape."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from descentlab.lab import analysis as A
from descentlab.lab.functions import get_function


def _match(found, known, tol=1e-6):
    """Each known point is found once with the same kind."""
    for k in known:
        hits = [c for c in found if np.linalg.norm(np.subtract(c.location, k.location)) < tol]
        assert len(hits) == 1, (k, hits)
        assert hits[0].kind == k.kind and hits[0].value == pytest.approx(k.value, abs=1e-8)


def test_himmelblau_critical_points_4_minima_1_maximum_4_saddles():
    f = get_function("himmelblau")
    found = A.find_critical_points(f)
    assert Counter(c.kind for c in found) == {"minimum": 4, "maximum": 1, "saddle": 4}
    _match(found, f.critical_points)


@pytest.mark.parametrize("name", ["six_hump_camel", "three_hump_camel", "goldstein_price"])
def test_critical_points_of_other_landscapes_match_the_catalogue(name):
    f = get_function(name)
    found = A.find_critical_points(f)
    assert len(found) == len(f.critical_points)
    _match(found, f.critical_points)


def test_degenerate_and_saddle_classification():
    assert [c.kind for c in A.find_critical_points("monkey_saddle", n=8)] == ["degenerate"]
    assert [c.kind for c in A.find_critical_points("saddle", n=8)] == ["saddle"]
    kinds = A.classify_hessian(np.array([np.diag([1.0, 2.0]), np.diag([-1.0, -3.0]),
                                         np.diag([1.0, -1.0]), np.diag([1.0, 0.0])]))
    assert kinds.tolist() == ["minimum", "maximum", "saddle", "degenerate"]


@pytest.mark.parametrize("name", ["quadratic_bowl", "booth", "matyas", "elliptic_valley"])
def test_convex_quadratics_pass_the_sampled_test(name):
    result = A.check_convexity(name, samples=500)
    assert result.convex and result.counterexample is None
    assert result.min_hessian_eigenvalue > 0


def test_rosenbrock_is_not_convex_and_the_counterexample_checks_out():
    f = get_function("rosenbrock")
    result = A.check_convexity(f, samples=500)
    assert not result.convex and result.verdict == "not convex"
    c = result.counterexample
    assert c["kind"] == "chord"
    x, y, t = np.array(c["x"]), np.array(c["y"]), c["t"]
    between = f.value(t * x + (1 - t) * y)
    assert between == pytest.approx(c["f_between"])
    assert between > t * f.value(x) + (1 - t) * f.value(y)


def test_hessian_counterexample_when_chords_are_not_violated_in_the_samples():
    # A saddle sampled on a thin strip along y: chords along y are concave, the Hessian says so.
    result = A.check_convexity("saddle", samples=50, domain=((-1e-3, 1e-3), (-1, 1)))
    assert not result.convex
    assert result.min_hessian_eigenvalue == pytest.approx(-2.0)


def test_condition_numbers_of_quadratics():
    assert A.condition_number("elliptic_valley") == pytest.approx(10.0)
    assert A.condition_number(get_function("elliptic_valley", kappa=250)) == pytest.approx(250.0)
    assert A.condition_number("booth") == pytest.approx(9.0)
    assert A.condition_number("matyas") == pytest.approx(25.0)
    assert A.condition_number("saddle", point=(0.0, 0.0)) == float("inf")


def test_descent_direction_sign():
    f = get_function("himmelblau")
    w = np.random.default_rng(0).uniform(-4, 4, size=(20, 2))
    slope, ok = A.descent_directions(f, w, -f.grad(w))
    assert ok.all() and np.allclose(slope, -(f.grad(w) ** 2).sum(-1))
    slope, ok = A.descent_directions(f, w, f.grad(w))
    assert not ok.any()


def test_lr_sweep_reproduces_the_notes_picture_on_w_squared():
    # GD on f(w) = w²: w ← (1 − 2α)·w. 0.4 → factor 0.2, 0.6 → −0.2, 1.2 → −1.4.
    sweep = A.lr_sweep("parabola", [0.4, 0.6, 1.2], start=[1.0], steps=50)
    assert sweep.classes == ["monotone", "oscillating", "diverging"]
    run = sweep.trajectories[1]
    np.testing.assert_allclose(run.positions[0, :6, 0], (-0.2) ** np.arange(6), rtol=1e-12)
    fine = A.lr_sweep("parabola", np.linspace(0.05, 1.5, 30), start=[1.0])
    # α = 1 (in the grid) is the edge: w flips between ±1 forever, neither shrinking nor growing.
    assert fine.largest_stable_lr == pytest.approx(1.0)
    assert fine.smallest_diverging_lr > 1.0
    assert A.gd_stability_bound("parabola") == pytest.approx(1.0)


@pytest.mark.parametrize("kappa", [4.0, 10.0, 50.0])
def test_lr_sweep_on_quadratics_obeys_the_2_over_L_bound(kappa):
    f = get_function("elliptic_valley", kappa=kappa)
    bound = A.gd_stability_bound(f)
    assert bound == pytest.approx(2.0 / kappa)
    lrs = bound * np.array([0.3, 0.45, 0.7, 0.95, 1.05, 1.5])
    sweep = A.lr_sweep(f, lrs, start=[1.0, 1.0], steps=3000)
    # α ≤ 1/L: both factors 1 − αλ ≥ 0; 1/L < α < 2/L: the y-factor is negative; α > 2/L: |·| > 1.
    assert sweep.classes == ["monotone", "monotone", "oscillating", "oscillating", "diverging",
                             "diverging"]
    assert sweep.largest_stable_lr < bound < sweep.smallest_diverging_lr


def test_lr_sweep_too_slow_and_bad_input():
    assert A.lr_sweep("parabola", [1e-4], start=[1.0], steps=20).classes == ["too_slow"]
    with pytest.raises(ValueError, match="positive"):
        A.lr_sweep("parabola", [0.1, -1.0])


def test_himmelblau_has_four_basins():
    basins = A.basins_of_attraction("himmelblau", "gd", n=40, steps=300, lr=0.01)
    assert basins.labels.shape == (40, 40)
    assert set(np.unique(basins.labels)) == {0, 1, 2, 3}
    fractions = basins.fractions()
    assert fractions[-1] == 0 and np.all(fractions[:4] > 0.15)
    # The start decides the end: each corner of the box falls to the minimum in its quadrant.
    corner = {(0, 0): (-3.78, -3.28), (0, -1): (3.58, -1.85), (-1, 0): (-2.81, 3.13),
              (-1, -1): (3.0, 2.0)}
    for (i, j), loc in corner.items():
        assert np.allclose(basins.minima[basins.labels[i, j]].location, loc, atol=0.01)


def test_saddle_escape_gd_stalls_while_momentum_adam_and_noise_escape():
    result = A.saddle_escape(steps=1000)
    steps = result.steps_to_escape
    assert steps["gd"] is None
    assert steps["adam"] < steps["momentum"] < steps["noisy_gd"] < 1000
    # Closed form for GD from (1, ε): y_t = (1 + 2α)ᵗ·ε and x_t → 0, so f < −1 needs
    # t > ln(1/ε)/ln(1 + 2α) ≈ 1163 steps at α = 0.01, ε = 1e-10.
    gd = A.saddle_escape(steps=1300, runs={"gd": {"optimizer": "gd", "lr": 0.01}})
    assert gd.steps_to_escape["gd"] == int(np.ceil(np.log(1e10) / np.log(1.02)))


@pytest.mark.parametrize("formula, lam_max, start", [
    ("x**2", 2.0, [1.0]), ("3*x**2 + y**2", 6.0, [2.0, 0.0]),
    ("0.5*x1**2 + 2*x2**2 + 4*x3**2", 8.0, [0.0, 0.0, 1.5])])
def test_refined_sweep_closes_on_two_over_l_for_quadratics(formula, lam_max, start):
    from descentlab.lab.formula import parse_function

    # GD on a quadratic multiplies each eigen-component by 1 − αλ: from a start on the stiffest
    # axis the gap grows at every step iff α > 2/λmax (a finite run decides it exactly).
    f = parse_function(formula)
    sw = A.lr_sweep(f, [0.01, 0.6 * 2 / lam_max, 1.9 * 2 / lam_max], start=start, steps=60,
                    refine=25)
    bound = 2.0 / lam_max
    assert sw.largest_stable_lr <= bound * (1 + 1e-9)
    assert sw.smallest_diverging_lr >= bound * (1 - 1e-9)
    assert sw.smallest_diverging_lr - sw.largest_stable_lr < 1e-6 * bound
    assert sw.refine_steps == 25 and len(sw.trajectories) == 3  # the grid's runs only


def test_default_start_is_near_the_upper_left_corner_of_the_domain():
    f = get_function("himmelblau")
    (x0, x1), (y0, y1) = f.domain
    np.testing.assert_allclose(A.default_start(f), [x0 + (x1 - x0) / 8, y0 + 7 * (y1 - y0) / 8])
    assert all(np.linalg.norm(A.default_start("himmelblau") - m.location) > 1 for m in f.minima)
    (lo, hi), = get_function("parabola").domain
    np.testing.assert_allclose(A.default_start("parabola"), [lo + (hi - lo) / 8])
