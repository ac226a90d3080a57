"""Compiled formulas: values and gradients against the engine's autograd and finite differences,
and the in-place kernels the batched runs call every step."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.lab.formula import parse_function
from descentlab.lab.functions import Landscape, get_function
from descentlab.lab.trajectories import run_trajectories

FORMULAS = [
    "(1 - x)**2 + 100*(y - x**2)**2",
    "x**2 + 3*sin(y)",
    "sin(x)*exp(y/3) + log(1 + x**2) + abs(y)**1.5",
    "sqrt(abs(x) + 1) + exp(-y)*tanh(x) + sigmoid(y) - log(2 + cos(x))/tan(1) - x/2 + +y",
    "x**3 - 3*x*y**2 + abs(x*y) + 1/(1 + y**2)",
    "2**x + abs(y + 0.5)**y + cos(x*y)**2",
    "tan(x/4) + sigmoid(-3*x*y) + log(1 + exp(x))*cos(y)",
    "x + x + x*x - y",
    "x1**2 + 10*x3**2 - exp(x2)",
    "w**4 - 2*w**2",
    "y",
]


def _engine(f: Landscape) -> Landscape:
    """The same expression with no compiled derivative: the engine's autograd path."""
    return Landscape(f.name, f.dim, f.expr, f.domain, [], [], f.formula, f.latex)


def _points(dim: int, n: int = 40) -> np.ndarray:
    # Away from the kinks of abs and the poles of tan so finite differences are meaningful.
    rng = np.random.default_rng(3)
    return rng.uniform(0.1, 1.4, size=(n, dim)) * rng.choice([-1.0, 1.0], size=(n, dim))


@pytest.mark.parametrize("source", FORMULAS)
def test_compiled_values_and_gradients_match_the_engine(source):
    f = parse_function(source)
    x = _points(f.dim)
    value, grad = f.value_and_grad(x)
    value_e, grad_e = _engine(f).value_and_grad(x)
    np.testing.assert_array_equal(value, value_e)   # the engine's forward, op for op
    np.testing.assert_allclose(grad, grad_e, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("source", FORMULAS)
def test_compiled_gradient_matches_central_differences(source):
    f = parse_function(source)
    x = _points(f.dim)
    _, grad = f.value_and_grad(x)
    h = 1e-6
    for j in range(f.dim):
        step = np.zeros(f.dim)
        step[j] = h
        fd = (f.value(x + step) - f.value(x - step)) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("source", FORMULAS)
@pytest.mark.parametrize("order", ["C", "F"])
def test_kernel_writes_the_same_gradient_in_place(source, order):
    f = parse_function(source)
    x = np.array(_points(f.dim), order=order)
    out = np.full_like(x, np.nan)
    grad_into = f.gradient_kernel(x)
    for _ in range(2):                  # the second call reuses the kernel's work arrays
        grad_into(x, out)
        np.testing.assert_array_equal(out, f.value_and_grad(x)[1])


def test_rosenbrock_kernel_is_the_hand_written_gradient_bit_for_bit():
    for dim in (2, 4):
        f = get_function("rosenbrock", dim=dim)
        for order in ("C", "F"):
            x = np.array(np.random.default_rng(0).normal(size=(30, dim)), order=order)
            out = np.empty_like(x)
            f.gradient_kernel(x)(x, out)
            np.testing.assert_array_equal(out, f.value_and_grad(x)[1])


def test_formula_trajectories_follow_the_engine_path():
    f = parse_function("sin(x)*exp(y/3) + log(1 + x**2) + abs(y)**1.5")
    starts = _points(2, 10)
    ours = run_trajectories(f, starts, "adam", 50, lr=0.05)
    engine = run_trajectories(_engine(f), starts, "adam", 50, lr=0.05)
    np.testing.assert_allclose(ours.positions, engine.positions, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.losses, engine.losses, rtol=1e-12, atol=1e-12)
