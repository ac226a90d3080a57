"""Line searches: the conditions they promise, SciPy's answers where comparable, torch's steps."""

import numpy as np
import pytest

from descentlab.optim.line_search import armijo, cubic_interpolate, directional, strong_wolfe

C1, C2 = 1e-4, 0.9


def rosenbrock(x):
    f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    return f, g


def _quadratic(seed=0, n=5):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    a, b = m @ m.T + np.eye(n), rng.standard_normal(n)
    return lambda x: (0.5 * x @ a @ x - b @ x, a @ x - b), a


def log_sum_exp(x):
    e = np.exp(x - x.max())
    return x.max() + np.log(e.sum()) + 0.5 * x @ x, e / e.sum() + x


def _cases():
    """(fun, x, d) with d the steepest-descent direction, on several functions and points."""
    quad, _ = _quadratic()
    rng = np.random.default_rng(1)
    starts = ([-1.2, 1.0], [2.0, 2.0], [0.0, 0.0], [1.5, -0.5])
    cases = [(rosenbrock, np.array(x0)) for x0 in starts]
    cases += [(quad, rng.standard_normal(5)) for _ in range(3)]
    cases += [(log_sum_exp, 3 * rng.standard_normal(4)) for _ in range(3)]
    return [(fun, x, -fun(x)[1]) for fun, x in cases]


@pytest.mark.parametrize("fun,x,d", _cases())
def test_strong_wolfe_satisfies_both_conditions(fun, x, d):
    f0, g0 = fun(x)
    res = strong_wolfe(directional(fun, x, d), f0, g0 @ d, 1.0, c1=C1, c2=C2, g0=g0)
    assert res.success and res.step > 0
    f, g = fun(x + res.step * d)
    assert f <= f0 + C1 * res.step * (g0 @ d)
    assert abs(g @ d) <= C2 * abs(g0 @ d)
    assert res.f == pytest.approx(f, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(res.g, g, rtol=1e-12, atol=1e-12)
    assert res.slope == pytest.approx(g @ d, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("fun,x,d", _cases())
def test_armijo_takes_the_first_sufficient_decrease(fun, x, d):
    f0, g0 = fun(x)
    res = armijo(directional(fun, x, d), f0, g0 @ d, 1.0, c1=C1, shrink=0.5)
    assert res.success
    assert fun(x + res.step * d)[0] <= f0 + C1 * res.step * (g0 @ d)
    # Backtracking: the step one doubling larger was rejected (unless it was the first trial).
    if res.step < 1.0:
        assert fun(x + 2 * res.step * d)[0] > f0 + C1 * 2 * res.step * (g0 @ d)
    assert res.n_evals == round(np.log2(1.0 / res.step)) + 1


def test_armijo_accepts_a_value_only_phi():
    res = armijo(lambda a: (a - 3.0) ** 2, 9.0, -6.0, step=8.0)
    assert res.step == 4.0 and res.f == 1.0 and res.slope is None and res.n_evals == 2


@pytest.mark.parametrize("c2", [0.9, 0.1])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strong_wolfe_agrees_with_scipy_on_quadratics(seed, c2):
    """On a quadratic both searches land on the exact minimizer α* = gᵀg / dᵀAd along d = −g."""
    so = pytest.importorskip("scipy.optimize")
    fun, a = _quadratic(seed)
    x = np.random.default_rng(seed + 10).standard_normal(a.shape[0])
    f0, g0 = fun(x)
    d = -g0
    exact = (g0 @ g0) / (d @ a @ d)
    ours = strong_wolfe(directional(fun, x, d), f0, g0 @ d, 1.0, c2=c2).step
    theirs = so.line_search(lambda z: fun(z)[0], lambda z: fun(z)[1], x, d, c2=c2)[0]
    assert ours == pytest.approx(exact, rel=1e-12)
    assert ours == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("fun,x,d", _cases())
def test_strong_wolfe_accepts_the_unit_step_when_scipy_does(fun, x, d):
    """When α = 1 already satisfies strong Wolfe, neither search moves off it."""
    so = pytest.importorskip("scipy.optimize")
    f0, g0 = fun(x)
    unit_ok = (fun(x + d)[0] <= f0 + C1 * (g0 @ d)) and abs(fun(x + d)[1] @ d) <= C2 * abs(g0 @ d)
    ours = strong_wolfe(directional(fun, x, d), f0, g0 @ d, 1.0)
    theirs = so.line_search(lambda z: fun(z)[0], lambda z: fun(z)[1], x, d)[0]
    if unit_ok:
        assert ours.step == 1.0 and theirs == 1.0 and ours.n_evals == 1
    else:
        assert ours.step != 1.0


@pytest.mark.parametrize("fun,x,d", _cases()[:4])
def test_strong_wolfe_takes_the_same_steps_as_torch(fun, x, d):
    torch = pytest.importorskip("torch")
    lbfgs = pytest.importorskip("torch.optim.lbfgs")
    if not hasattr(lbfgs, "_strong_wolfe"):
        pytest.skip("torch.optim.lbfgs._strong_wolfe is not available in this torch")
    f0, g0 = fun(x)

    def obj(xt, t, dt):
        f, g = fun(xt.numpy() + float(t) * dt.numpy())
        return f, torch.from_numpy(g)

    tg = torch.from_numpy(g0)
    tf, _, tt, tn = lbfgs._strong_wolfe(obj, torch.from_numpy(x), 1.0, torch.from_numpy(d), f0,
                                        tg, tg.dot(torch.from_numpy(d)))
    ours = strong_wolfe(directional(fun, x, d), f0, g0 @ d, 1.0, scale=float(np.abs(d).max()))
    assert ours.n_evals == tn
    assert ours.step == pytest.approx(float(tt), rel=1e-12)
    assert ours.f == pytest.approx(float(tf), rel=1e-12)


def test_cubic_interpolate_finds_a_cubics_minimizer():
    p = np.polynomial.Polynomial([1.0, -3.0, 0.5, 0.4])  # local min at the positive root of p'
    dp = p.deriv()
    x_min = max(r.real for r in dp.roots() if dp.deriv()(r.real) > 0)
    for x1, x2 in [(0.0, 3.0), (3.0, 0.5), (-1.0, 4.0)]:
        assert cubic_interpolate(x1, p(x1), dp(x1), x2, p(x2), dp(x2)) == pytest.approx(x_min)
    # Clipped to the bounds, and the midpoint when the cubic has no minimizer.
    assert cubic_interpolate(0.0, p(0.0), dp(0.0), 3.0, p(3.0), dp(3.0), bounds=(0, 1)) == 1
    assert cubic_interpolate(0.0, 0.0, 2.0, 1.0, 1.0, 2.0, bounds=(0.0, 2.0)) == 1.0


def test_searches_reject_an_ascent_direction():
    fun, x = rosenbrock, np.array([-1.2, 1.0])
    f0, g0 = fun(x)
    for search in (armijo, strong_wolfe):
        with pytest.raises(ValueError, match="not a descent direction"):
            search(directional(fun, x, g0), f0, g0 @ g0)


def test_strong_wolfe_needs_the_slope():
    with pytest.raises(ValueError, match="slope"):
        strong_wolfe(lambda a: (a - 1.0) ** 2, 1.0, -2.0, step=3.0)
