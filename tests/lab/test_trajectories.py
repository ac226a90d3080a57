"""Batched trajectories: the same numbers as per-start runs of the optim classes and of torch."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl
from descentlab.lab.functions import get_function
from descentlab.lab.trajectories import OPTIMIZERS, run_trajectories

STARTS = np.array([[-1.5, 2.0], [0.3, -0.7], [1.2, 1.1]])

# (lab name, lab hyperparameters, optim class name, class kwargs)
CASES = [
    ("gd", {"lr": 1e-3}, "SGD", {"lr": 1e-3}),
    ("momentum", {"lr": 1e-3, "momentum": 0.9}, "SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("nesterov", {"lr": 1e-3}, "SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.1}, "Adagrad", {"lr": 0.1}),
    ("rmsprop", {"lr": 0.01}, "RMSprop", {"lr": 0.01}),
    ("adam", {"lr": 0.05, "betas": (0.8, 0.99)}, "Adam", {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("adamw", {"lr": 0.05}, "AdamW", {"lr": 0.05}),
]


def _optim_class(name):
    first_order = pytest.importorskip("descentlab.optim.first_order",
                                      reason="descentlab.optim.first_order not importable yet")
    return getattr(first_order, name)


@pytest.mark.parametrize("lab_name, lab_hyper, cls_name, cls_kwargs", CASES)
def test_batched_run_equals_per_start_optimizer_loop(lab_name, lab_hyper, cls_name, cls_kwargs):
    f = get_function("rosenbrock")
    cls = _optim_class(cls_name)
    steps = 40
    run = run_trajectories(f, STARTS, lab_name, steps, use_analytic_grad=False, **lab_hyper)
    for k, start in enumerate(STARTS):
        x = dl.tensor(start, dtype=dl.float64, requires_grad=True)
        opt = cls([x], **cls_kwargs)
        path = [x.detach().numpy().copy()]
        for _ in range(steps):
            opt.zero_grad()
            f(x).backward()
            opt.step()
            path.append(x.detach().numpy().copy())
        np.testing.assert_allclose(run.positions[k], np.array(path), rtol=1e-13, atol=1e-13)


def test_batched_adam_matches_torch_on_a_k_by_2_tensor():
    torch = pytest.importorskip("torch", reason="torch is the reference")
    f = get_function("himmelblau")
    run = run_trajectories(f, STARTS, "adam", 60, lr=0.1)
    x = torch.tensor(STARTS, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.1)
    for _ in range(60):
        opt.zero_grad()
        a, b = x[:, 0], x[:, 1]
        ((a * a + b - 11) ** 2 + (a + b * b - 7) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(run.final_positions, x.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_shapes_status_and_sparse_recording():
    f = get_function("quadratic_bowl")
    starts = np.array([[1.0, 1.0], [0.5, -0.5], [1e6, 0.0]])
    run = run_trajectories(f, starts, "gd", 100, lr=0.1, gtol=1e-6)
    assert run.positions.shape == (3, 101, 2) and run.losses.shape == (3, 101)
    assert run.grad_norms.shape == (3, 101)
    # GD on Σx² multiplies x by 0.8 per step: ‖∇f‖ = 2·0.8ᵗ·‖x₀‖ < 1e-6 from a closed-form step.
    expected = [int(np.ceil(np.log(1e-6 / (2 * np.linalg.norm(s))) / np.log(0.8))) for s in starts]
    assert run.status.tolist() == ["converged", "converged", "max_steps"]
    assert run.steps_to_converge.tolist()[:2] == expected[:2]
    sparse = run_trajectories(f, starts, "gd", 100, lr=0.1, record_every=30)
    assert sparse.recorded_steps.tolist() == [0, 30, 60, 90, 100]
    np.testing.assert_array_equal(sparse.positions, run.positions[:, [0, 30, 60, 90, 100]])
    np.testing.assert_array_equal(sparse.final_positions, run.final_positions)


def test_divergence_is_detected_and_frozen():
    run = run_trajectories(get_function("parabola"), [[1.0], [0.1]], "gd", 100, lr=1.2,
                           divergence_radius=10.0)
    assert run.status.tolist() == ["diverged", "diverged"]
    # |w| = 1.4ᵗ|w₀| passes 10 at t = 7 (from 1) and t = 14 (from 0.1).
    assert run.steps_to_diverge.tolist() == [7, 14]
    assert np.all(np.isfinite(run.positions)) and run.positions[0, -1, 0] == run.positions[0, 7, 0]


def test_newton_and_bfgs_find_the_rosenbrock_minimum():
    f = get_function("rosenbrock")
    starts = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(50, 2))
    newton = run_trajectories(f, starts, "newton", 30)
    assert (newton.status == "converged").all()
    np.testing.assert_allclose(newton.final_positions, 1.0, atol=1e-10)
    bfgs = run_trajectories(f, starts, "bfgs", 200)
    assert (bfgs.status == "converged").all()
    np.testing.assert_allclose(bfgs.final_positions, 1.0, atol=1e-6)
    assert np.median(newton.steps_to_converge) < np.median(bfgs.steps_to_converge)


def test_batched_newton_equals_the_newton_class_without_line_search():
    optim = pytest.importorskip("descentlab.optim.second_order",
                                reason="descentlab.optim.second_order not importable yet")
    f = get_function("booth")
    start = np.array([-3.0, 7.0])
    run = run_trajectories(f, start, "newton", 1)
    x = dl.tensor(start, dtype=dl.float64, requires_grad=True)
    opt = optim.Newton([x], max_iter=1, max_eval=5, line_search_fn=None)

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward(create_graph=True)
        return loss

    opt.step(closure)
    np.testing.assert_allclose(run.final_positions[0], x.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(run.final_positions[0], [1.0, 3.0], atol=1e-12)


def test_argument_errors_name_the_fix():
    f = get_function("himmelblau")
    with pytest.raises(ValueError, match="valid: .*adam"):
        run_trajectories(f, STARTS, "adamm")
    with pytest.raises(ValueError, match="does not take momentum; it takes: lr"):
        run_trajectories(f, STARTS, "adam", momentum=0.9)
    with pytest.raises(ValueError, match="lr=-1"):
        run_trajectories(f, STARTS, "gd", lr=-1)
    with pytest.raises(ValueError, match=r"shape \(K, 2\)"):
        run_trajectories(f, np.zeros((3, 3)), "gd")
    assert {"gd", "momentum", "adam", "rmsprop"} <= set(OPTIMIZERS)


def test_float32_records_and_strides_hold_the_float64_run_rounded():
    f = get_function("rosenbrock")
    full = run_trajectories(f, STARTS, "adam", 50, lr=0.05)
    sparse = run_trajectories(f, STARTS, "adam", 50, lr=0.05, record_every=20,
                              record_dtype=np.float32)
    assert sparse.positions.dtype == sparse.losses.dtype == sparse.grad_norms.dtype == np.float32
    assert sparse.positions.shape == (3, 4, 2) and sparse.recorded_steps.tolist() == [0, 20, 40, 50]
    cols = [0, 20, 40, 50]
    np.testing.assert_array_equal(sparse.positions, full.positions[:, cols].astype(np.float32))
    np.testing.assert_array_equal(sparse.losses, full.losses[:, cols].astype(np.float32))
    np.testing.assert_array_equal(sparse.grad_norms, full.grad_norms[:, cols].astype(np.float32))
    # The run itself stays float64: the final state is the float64 run's.
    assert sparse.final_positions.dtype == np.float64
    np.testing.assert_array_equal(sparse.final_positions, full.final_positions)
    with pytest.raises(ValueError, match="floating"):
        run_trajectories(f, STARTS, "adam", 5, record_dtype=np.int32)


def test_noise_and_divergence_freeze_the_same_way_for_analytic_and_autograd_gradients():
    f = get_function("quadratic_bowl")
    starts = np.array([[1.0, 1.0], [0.5, -0.5], [30.0, 0.0]])
    runs = [run_trajectories(f, starts, "gd", 40, lr=1.05, divergence_radius=100.0,
                             grad_noise=0.01, use_analytic_grad=a, record_every=every)
            for a, every in ((True, 1), (False, 1), (True, 3))]
    for run in runs:
        assert run.status.tolist() == ["max_steps", "max_steps", "diverged"]
    np.testing.assert_array_equal(runs[0].steps_to_diverge, runs[1].steps_to_diverge)
    np.testing.assert_allclose(runs[0].positions, runs[1].positions, rtol=1e-13)
    for run in runs:
        # After freezing, the diverged start's records hold f at the frozen point.
        after = run.recorded_steps >= run.steps_to_diverge[2]
        frozen_value = (run.final_positions[2] ** 2).sum()
        np.testing.assert_array_equal(run.losses[2, after], frozen_value)
        np.testing.assert_array_equal(run.final_losses[2], frozen_value)
