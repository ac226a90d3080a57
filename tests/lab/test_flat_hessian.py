"""Landscape.hessian where the gradient does not depend on x: a zero matrix, not a crash."""

from __future__ import annotations

import numpy as np

from descentlab.lab import analysis
from descentlab.lab.formula import parse_function


def test_linear_and_piecewise_linear_landscapes_have_zero_hessians():
    f = parse_function("2*x - y")
    np.testing.assert_array_equal(f.hessian(np.array([[0.3, 0.1], [1.0, 2.0]])),
                                  np.zeros((2, 2, 2)))
    g = parse_function("abs(x) + 3*y")
    np.testing.assert_array_equal(g.hessian(np.array([0.5, 0.5])), np.zeros((2, 2)))
    # Mixed: only the curved coordinate has a Hessian entry (∂²/∂y² of y² is 2).
    h = parse_function("x + y**2")
    np.testing.assert_array_equal(h.hessian(np.array([0.5, 0.5])), [[0.0, 0.0], [0.0, 2.0]])


def test_a_plane_has_no_critical_points():
    assert analysis.find_critical_points(parse_function("2*x - y")) == []
