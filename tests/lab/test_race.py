"""lab.race: the racers against torch.optim step for step, the verdicts against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.lab import get_function
from descentlab.lab.race import RACE_OPTIMIZERS, hyperparameter_defaults, race

torch = pytest.importorskip("torch", reason="torch is the oracle for the optimizer paths")


def _torch_path(make, start, steps, closure_based=False):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    path = [p.detach().numpy().copy()]

    def closure():
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(steps):
        if closure_based:
            opt.step(closure)
        else:
            closure()
            opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def test_lbfgs_racer_is_torch_lbfgs_one_iteration_per_step():
    f = get_function("rosenbrock")
    (run,) = race(f, [-1.2, 1.0], [("lbfgs", {})], 25)
    expected = _torch_path(lambda ps: torch.optim.LBFGS(
        ps, lr=1, max_iter=1, max_eval=25, tolerance_change=1e-15,
        line_search_fn="strong_wolfe"), [-1.2, 1.0], 25, closure_based=True)
    np.testing.assert_allclose(run.positions, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,hyper,make", [
    ("adam", {"lr": 0.05}, lambda ps: torch.optim.Adam(ps, lr=0.05)),
    ("nesterov", {"lr": 1e-4}, lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9,
                                                          nesterov=True)),
    ("rmsprop", {"lr": 0.01}, lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
])
def test_first_order_racers_match_torch(name, hyper, make):
    f = get_function("rosenbrock")
    (run,) = race(f, [-1.2, 1.0], [(name, hyper)], 50)
    np.testing.assert_allclose(run.positions, _torch_path(make, [-1.2, 1.0], 50), rtol=1e-9,
                               atol=1e-12)


def test_verdicts_and_divergence_cut():
    f = get_function("quadratic_bowl")
    newton, gd_div, nr = race(f, [1.0, 2.0], [("newton", {}), ("gd", {"lr": 1.5}),
                                              ("newton_cg", {})], 100, divergence_radius=1e3)
    assert newton.verdict == "converged" and newton.steps_to_converge == 1
    # |1 − 2·1.5| = 2 per step: ‖x‖ = 2^k·√5 passes 1e3 at k = 9, and the path stops there.
    assert gd_div.verdict == "diverged" and len(gd_div.positions) == 10
    assert nr.verdict == "converged"
    assert set(hyperparameter_defaults("adamw")) >= {"lr", "beta1", "beta2", "eps",
                                                     "weight_decay"}
    assert len(RACE_OPTIMIZERS) == 17


def test_bad_racers_are_named():
    f = get_function("booth")
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'"):
        race(f, [0, 0], [("adamz", {})])
    with pytest.raises(ValueError, match="lbfgs takes lr"):
        race(f, [0, 0], [("lbfgs", {"momentum": 0.9})])
    with pytest.raises(ValueError, match="start must have 2"):
        race(f, [0, 0, 0], [("gd", {})])


@pytest.mark.parametrize("schedule,make_sched", [
    ("step", lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5)),
    ("exponential", lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.01 ** (1 / 40))),
    ("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40)),
])
def test_scheduled_racers_match_torch_with_its_scheduler(schedule, make_sched):
    f = get_function("rosenbrock")
    (run,) = race(f, [-1.2, 1.0], [("adamw", {"lr": 0.05, "beta2": 0.99,
                                              "schedule": schedule})], 40)
    p = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.AdamW([p], lr=0.05, betas=(0.9, 0.99))
    sched = make_sched(opt)
    path = [p.detach().numpy().copy()]
    for _ in range(40):
        opt.zero_grad()
        ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
        opt.step()
        sched.step()
        path.append(p.detach().numpy().copy())
    np.testing.assert_allclose(run.positions, np.array(path), rtol=1e-9, atol=1e-12)
    assert run.hyperparameters["schedule"] == schedule


def test_schedules_are_for_first_order_racers_only():
    f = get_function("booth")
    with pytest.raises(ValueError, match="first-order"):
        race(f, [0, 0], [("newton", {"schedule": "cosine"})])
    with pytest.raises(ValueError, match="unknown schedule"):
        race(f, [0, 0], [("gd", {"schedule": "linear"})])


@pytest.mark.parametrize("name,start,hyper", [
    ("rosenbrock", [-1.5, 2.0], {}), ("himmelblau", [0.1, -0.2], {}),
    ("himmelblau", [-0.27, -0.92], {"damping": 0.5}), ("saddle", [1.0, 1e-3], {}),
    ("quadratic_bowl", [1.0, 1.0], {"lr": 2.5})])
def test_newton_racer_equals_the_full_batched_run(name, start, hyper):
    """The chunked Newton race (which stops recomputing once the path repeats) gives exactly the
    lab runner's path, step for step."""
    from descentlab.lab.trajectories import run_trajectories

    f = get_function(name)
    (run,) = race(f, start, [("newton", hyper)], 300, divergence_radius=1e6)
    full = run_trajectories(f, start, "newton", 300, divergence_radius=1e6, **hyper)
    cut = full.steps_to_diverge[0]
    expected = full.positions[0, : cut + 1 if cut >= 0 else None]
    np.testing.assert_array_equal(run.positions, expected)
