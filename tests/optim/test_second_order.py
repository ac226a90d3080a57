"""Newton, NewtonCG, BFGS, LBFGS: Rosenbrock, SciPy's iteration counts, torch's L-BFGS trajectory,
saddles, per-step reports and errors."""

import warnings

import numpy as np
import pytest

import descentlab as dl
from descentlab.optim.second_order import BFGS, LBFGS, Newton, NewtonCG

START = (-1.2, 1.0)


def rosenbrock(x):
    """Works on descentlab and torch tensors alike."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def make(cls, f=rosenbrock, start=START, create_graph=False, **kw):
    """(x, optimizer, closure) for minimizing f from start in float64 (a plain SGD-style closure;
    Newton and NewtonCG record its backward themselves)."""
    x = dl.tensor(list(start), dtype=dl.float64, requires_grad=True)
    opt = cls([x], **kw)

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward(create_graph=create_graph)
        return loss

    return x, opt, closure


TIGHT = dict(max_iter=500, max_eval=2000, tolerance_grad=1e-10, tolerance_change=0.0)


@pytest.mark.parametrize("cls", [BFGS, LBFGS, Newton, NewtonCG])
def test_rosenbrock_reaches_the_minimum(cls):
    kw = dict(TIGHT, line_search_fn="strong_wolfe") if cls is LBFGS else TIGHT
    x, opt, closure = make(cls, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NewtonCG meets negative curvature
        opt.step(closure)
    assert np.linalg.norm(x.detach().numpy() - 1.0) < 1e-6
    assert opt.history[-1]["loss"] < 1e-12


def test_bfgs_iterations_match_scipy():
    so = pytest.importorskip("scipy.optimize")
    ref = so.minimize(so.rosen, START, jac=so.rosen_der, method="BFGS", options=dict(gtol=1e-5))
    # SciPy stops at max|∇f| ≤ gtol; so does tolerance_grad.
    x, opt, closure = make(BFGS, max_iter=500, max_eval=2000, tolerance_grad=1e-5,
                           tolerance_change=0.0)
    opt.step(closure)
    ours = len(opt.history)
    assert abs(ours - ref.nit) <= 0.25 * ref.nit, (ours, ref.nit)
    assert np.linalg.norm(x.detach().numpy() - ref.x) < 1e-5


def _torch_lbfgs_trajectory(torch, f, start, steps, **kw):
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([x], **kw)

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append(x.detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("kw", [
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=3, max_iter=7),
    dict(line_search_fn="strong_wolfe", lr=0.5, max_eval=9),
])
def test_lbfgs_follows_torch_on_rosenbrock(kw):
    torch = pytest.importorskip("torch")
    steps = 8
    ref = _torch_lbfgs_trajectory(torch, rosenbrock, list(START), steps, **kw)
    x, opt, closure = make(LBFGS, **kw)
    ours = []
    for _ in range(steps):
        opt.step(closure)
        ours.append(x.detach().numpy().copy())
    assert np.abs(np.array(ours) - ref).max() < 1e-8


def _logistic_data(seed=0, n=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y, rng.standard_normal((d, 1)) * 0.1, np.array([0.05])


@pytest.mark.parametrize("line_search_fn,lr", [("strong_wolfe", 1.0), (None, 0.5)])
def test_lbfgs_follows_torch_on_a_two_parameter_model(line_search_fn, lr):
    """A weight matrix and a bias, flattened into one vector: logistic loss + a small L2 term."""
    torch = pytest.importorskip("torch")
    X, y, w0, b0 = _logistic_data()

    def loss_fn(lib, w, b):
        z = (lib.tensor(X) @ w).reshape(-1) + b
        return (lib.log(1 + lib.exp(-lib.tensor(y) * z))).mean() + 0.01 * (w * w).sum()

    kw = dict(line_search_fn=line_search_fn, lr=lr, history_size=5, max_iter=6)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    topt = torch.optim.LBFGS([tw, tb], **kw)
    w = dl.tensor(w0, requires_grad=True)
    b = dl.tensor(b0, requires_grad=True)
    opt = LBFGS([w, b], **kw)

    def tclosure():
        topt.zero_grad()
        loss = loss_fn(torch, tw, tb)
        loss.backward()
        return loss

    def closure():
        opt.zero_grad()
        loss = loss_fn(dl, w, b)
        loss.backward()
        return loss

    for _ in range(5):
        expected = float(topt.step(tclosure).detach())
        assert float(opt.step(closure)) == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=0, atol=1e-8)
        np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=0, atol=1e-8)


def saddle(x):
    """x² − y² + y⁴/4: a saddle at the origin (H = diag(2, −2)), minima at (0, ±√2), f = −1."""
    return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4


@pytest.mark.parametrize("start", [(0.5, 0.1), (1.0, -0.3), (0.0, 0.0)])
def test_newton_reports_an_indefinite_hessian_and_still_descends(start):
    x, opt, closure = make(Newton, f=saddle, start=start)
    f0 = float(closure())
    with pytest.warns(RuntimeWarning, match="indefinite"):
        opt.step(closure)
    first = opt.history[0]
    assert "indefinite" in first["message"] and "μ" in first["message"]
    assert first["loss"] < f0
    losses = [f0] + [h["loss"] for h in opt.history]
    assert all(b <= a for a, b in zip(losses[:-1], losses[1:], strict=True))
    assert float(closure()) == pytest.approx(-1.0, abs=1e-12)
    assert abs(x.detach().numpy()[1]) == pytest.approx(np.sqrt(2), abs=1e-8)
    if start == (0.0, 0.0):
        assert "negative-curvature eigenvector" in first["message"]


def test_newtoncg_reports_negative_curvature():
    x, opt, closure = make(NewtonCG, f=saddle, start=(0.5, 0.1))
    with pytest.warns(RuntimeWarning, match="negative curvature"):
        opt.step(closure)
    assert any("negative curvature" in (h["message"] or "") for h in opt.history)
    assert float(closure()) == pytest.approx(-1.0, abs=1e-12)


def test_newton_hessian_is_exact():
    x, opt, closure = make(Newton)
    x0, x1 = START
    expected = [[1200 * x0 ** 2 - 400 * x1 + 2, -400 * x0], [-400 * x0, 200]]
    np.testing.assert_allclose(opt.hessian(closure), expected, rtol=1e-14)


@pytest.mark.filterwarnings("ignore:NewtonCG. negative curvature:RuntimeWarning")
@pytest.mark.parametrize("cls", [BFGS, LBFGS, Newton, NewtonCG])
def test_every_step_is_reported(cls):
    kw = dict(line_search_fn="strong_wolfe") if cls is LBFGS else {}
    x, opt, closure = make(cls, max_iter=5, max_eval=100, **kw)
    opt.step(closure)
    assert len(opt.history) == 5
    for h in opt.history:
        assert set(h) >= {"iter", "loss", "grad_norm", "step", "func_evals", "grad_evals",
                          "message"}
        assert h["func_evals"] >= 1 and h["step"] > 0 and h["grad_norm"] >= 0
    closure()
    grad = x.grad.detach().numpy()
    assert opt.history[-1]["loss"] == pytest.approx(float(rosenbrock(x)), rel=1e-12)
    assert opt.history[-1]["grad_norm"] == pytest.approx(np.linalg.norm(grad), rel=1e-12)


@pytest.mark.parametrize("cls", [BFGS, LBFGS, Newton, NewtonCG])
def test_missing_closure_is_a_clear_error(cls):
    x, opt, _ = make(cls)
    with pytest.raises(ValueError, match=rf"{cls.__name__}.step\(\) needs a closure.*backward"):
        opt.step()


@pytest.mark.parametrize("cls", [Newton, NewtonCG])
@pytest.mark.parametrize("create_graph", [False, True])
def test_second_order_takes_either_closure(cls, create_graph):
    """A plain loss.backward() closure and one with create_graph=True give the same steps."""
    x, opt, closure = make(cls, create_graph=create_graph, max_iter=3)
    opt.step(closure)
    ref_x, ref_opt, ref_closure = make(cls, create_graph=not create_graph, max_iter=3)
    ref_opt.step(ref_closure)
    np.testing.assert_array_equal(x.detach().numpy(), ref_x.detach().numpy())


def test_bfgs_skips_updates_that_break_curvature():
    """With fixed steps (no Wolfe search) across negative curvature yᵀs < 0: the update is
    skipped, said so, and H stays positive definite."""
    x, opt, closure = make(BFGS, f=saddle, start=(0.05, 0.3), line_search_fn=None, lr=0.1,
                           max_iter=5)
    opt.step(closure)
    skipped = [h for h in opt.history if "skipped the update" in (h["message"] or "")]
    assert skipped and "yᵀs" in skipped[0]["message"]
    assert np.linalg.eigvalsh(opt._state["H"]).min() > 0


def test_bad_arguments_are_rejected():
    x = dl.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="damping"):
        Newton([x], damping=-1.0)
    with pytest.raises(ValueError, match="lr"):
        BFGS([x], lr=-1.0)
