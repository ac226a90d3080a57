"""Test landscapes for descent methods, written with Tensor ops so autograd gives ∇f and ∇²f.

Every landscape maps a Tensor of shape (..., d) to (...): a (K, d) batch of points evaluates in
one call, and because f(x₁) + … + f(x_K) separates over k, one backward pass of that sum gives all
K gradients. Each carries its plot box (``domain``), its known global minima and its known
critical points (location, value, kind), and a formula (plain and LaTeX).

A few landscapes also carry a hand-derived NumPy gradient (``has_analytic_grad``): the lab's batched
trajectories use it for speed (100,000 starts × 500 steps), and the tests check it against autograd.

Examples:
    >>> f = get_function("himmelblau")
    >>> [m.location for m in f.minima][0]
    (3.0, 2.0)
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from ..autograd.function import enable_grad, no_grad
from ..autograd.grad import grad as _autograd_grad
from ..autograd.tensor import Tensor

__all__ = [
    "CriticalPoint", "Landscape", "get_function", "function_names", "FUNCTIONS",
    "quadratic_bowl", "elliptic_valley", "saddle", "monkey_saddle", "rosenbrock", "himmelblau",
    "beale", "booth", "matyas", "three_hump_camel", "six_hump_camel", "rastrigin", "ackley",
    "styblinski_tang", "goldstein_price", "parabola",
]

KINDS = ("minimum", "maximum", "saddle", "degenerate")
Expr = Callable[[Tensor], Tensor]
NumpyValueGrad = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]
# grad_into(x, out): writes ∇f(x) into ``out`` (shaped like x) without allocating.
GradInto = Callable[[np.ndarray, np.ndarray], None]
# A factory: given a batch to come (its shape and memory layout), a GradInto that owns the work
# arrays it needs for batches like it (one per run: it is not safe to share across threads).
GradKernel = Callable[[np.ndarray], GradInto]


class Derived(Protocol):
    """A value and gradient derived by the program from the expression (a compiled formula)."""

    def value(self, x: np.ndarray) -> np.ndarray: ...

    def value_and_grad(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def grad_kernel(self, like: np.ndarray) -> GradInto: ...


@dataclass(frozen=True)
class CriticalPoint:
    """A point where ∇f = 0, with f there and its kind (minimum / maximum / saddle / degenerate)."""

    location: tuple[float, ...]
    value: float
    kind: str


@dataclass
class Landscape:
    """A function f: ℝᵈ → ℝ to descend on, evaluated on (..., d) Tensors with autograd.

    Attributes:
        name: registry name (``get_function(name)`` rebuilds it).
        dim: d, the number of coordinates.
        expr: the Tensor expression, (..., d) → (...).
        domain: plot box, one (low, high) per coordinate.
        minima: the known global minima (may be empty: x²−y² has none).
        critical_points: all known critical points (global minima included), with their kinds.
        formula: plain-text formula; ``latex``: the same in LaTeX.
        params: the parameters it was built with (κ, a, b, dim, ...).
        numpy_value_and_grad: a hand-written NumPy (f, ∇f), when there is one.
        numpy_grad_kernel: the same gradient written into preallocated arrays (the lab's
            batched runs call it every step).
        derived: a value and gradient derived from the expression by the program (formula
            landscapes compile theirs); used in place of the engine's autograd.
    """

    name: str
    dim: int
    expr: Expr
    domain: tuple[tuple[float, float], ...]
    minima: list[CriticalPoint]
    critical_points: list[CriticalPoint]
    formula: str
    latex: str
    params: dict = field(default_factory=dict)
    numpy_value_and_grad: NumpyValueGrad | None = None
    numpy_grad_kernel: GradKernel | None = None
    derived: Derived | None = None

    def __call__(self, x: Tensor | np.ndarray) -> Tensor:
        """f(x) for x of shape (..., d); returns shape (...)."""
        if not isinstance(x, Tensor):
            x = Tensor._wrap(np.asarray(x, dtype=np.float64))
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"{self.name}: expected points of shape (..., {self.dim}), got "
                             f"{tuple(x.shape)}; stack the coordinates on the last axis")
        return self.expr(x)

    @property
    def has_analytic_grad(self) -> bool:
        return self.numpy_value_and_grad is not None

    def value(self, x: np.ndarray) -> np.ndarray:
        """f at a NumPy batch (..., d), without building a graph."""
        with no_grad():
            return self(np.asarray(x, dtype=np.float64)).numpy()

    def value_and_grad(self, x: np.ndarray, use_analytic: bool = True
                       ) -> tuple[np.ndarray, np.ndarray]:
        """(f(x), ∇f(x)) for a NumPy batch x of shape (..., d).

        ∇ of Σₖ f(xₖ) w.r.t. the whole batch is the stack of the per-point gradients, so one
        backward pass serves every point. The hand-written NumPy gradient is used when present
        and ``use_analytic`` is true (same numbers up to rounding, much less overhead).
        """
        x = np.asarray(x)
        if use_analytic and self.numpy_value_and_grad is not None:
            return self.numpy_value_and_grad(x)
        if self.derived is not None:
            return self.derived.value_and_grad(x)
        with enable_grad():
            t = Tensor._wrap(np.array(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64),
                             requires_grad=True)
            out = self(t)
            (g,) = _autograd_grad(out.sum(), t)
        return out.detach().numpy(), g.numpy()

    def values(self, x: np.ndarray, use_analytic: bool = True) -> np.ndarray:
        """f at a NumPy batch (..., d), from the same source ``value_and_grad`` would use."""
        if use_analytic and self.numpy_value_and_grad is not None:
            return self.numpy_value_and_grad(np.asarray(x))[0]
        if self.derived is not None:
            return self.derived.value(np.asarray(x))
        return self.value(x)

    def gradient_kernel(self, like: np.ndarray, use_analytic: bool = True) -> GradInto:
        """grad_into(x, out): out ← ∇f(x) for batches shaped and laid out like ``like``.

        The in-place forms (hand-written or derived) reuse work arrays allocated here; the
        others evaluate ``value_and_grad`` and copy its gradient into ``out``.
        """
        if use_analytic and self.numpy_grad_kernel is not None:
            return self.numpy_grad_kernel(like)
        if self.derived is not None and not (use_analytic and self.has_analytic_grad):
            return self.derived.grad_kernel(like)

        def grad_into(x: np.ndarray, out: np.ndarray) -> None:
            out[...] = self.value_and_grad(x, use_analytic)[1]

        return grad_into

    def grad(self, x: np.ndarray, use_analytic: bool = True) -> np.ndarray:
        """∇f at a NumPy batch (..., d)."""
        return self.value_and_grad(x, use_analytic)[1]

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """∇²f at a NumPy batch (..., d), shape (..., d, d), by autograd.

        g = ∇Σₖf(xₖ) is built with ``create_graph``; then ∇(Σₖ gᵢ(xₖ)) is row i of every point's
        Hessian at once, so d extra backward passes give the whole batch (points never interact).
        """
        x = np.asarray(x, dtype=np.float64)
        with enable_grad():
            t = Tensor._wrap(x.copy(), requires_grad=True)
            (g,) = _autograd_grad(self(t).sum(), t, create_graph=True)
            rows = []
            for i in range(self.dim):
                gi = g[..., i].sum()
                # A gradient that does not depend on x (f linear or piecewise linear, e.g. |x| + y)
                # has no graph to differentiate: that row of the Hessian is zero.
                (h,) = ((None,) if not gi.requires_grad else
                        _autograd_grad(gi, t, retain_graph=True, allow_unused=True))
                rows.append(np.zeros_like(x) if h is None else h.numpy())
        return np.stack(rows, axis=-2)

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"Landscape({self.name}{', ' + extra if extra else ''}: {self.formula})"


def _cp(kind: str, value: float, *loc: float) -> CriticalPoint:
    return CriticalPoint(tuple(float(v) for v in loc), float(value), kind)


def _box(lo: float, hi: float, dim: int) -> tuple[tuple[float, float], ...]:
    return tuple((float(lo), float(hi)) for _ in range(dim))


def _check_dim(name: str, dim: int, lowest: int = 1) -> None:
    if not isinstance(dim, int) or dim < lowest:
        raise ValueError(f"{name}: dim={dim!r} must be an integer >= {lowest}")


def _xy(x: Tensor) -> tuple[Tensor, Tensor]:
    return x[..., 0], x[..., 1]


def _stack_last(*cols: np.ndarray) -> np.ndarray:
    return np.stack(cols, axis=-1)


# ---------------------------------------------------------------- convex quadratics and saddles

def quadratic_bowl(dim: int = 2) -> Landscape:
    """f(x) = Σᵢ xᵢ², the round bowl: ∇²f = 2I, condition number 1."""
    _check_dim("quadratic_bowl", dim)

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x * x).sum(-1), 2.0 * x

    zero = _cp("minimum", 0.0, *([0.0] * dim))
    return Landscape("quadratic_bowl", dim, lambda x: (x * x).sum(-1), _box(-2, 2, dim),
                     [zero], [zero], "sum_i x_i**2", r"f(x)=\sum_i x_i^2", {"dim": dim}, np_vg)


def elliptic_valley(kappa: float = 10.0) -> Landscape:
    """f(x, y) = ½(x² + κ·y²): ∇²f = diag(1, κ), so L = κ, μ = 1 and the condition number is κ.

    GD needs α < 2/κ to stay stable along y yet then crawls along x: the zig-zag momentum fixes.
    """
    if not kappa >= 1:
        raise ValueError(f"elliptic_valley: kappa={kappa!r} must be >= 1 (it is λmax/λmin)")
    kappa = float(kappa)

    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return 0.5 * (a * a + kappa * (b * b))

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[..., 0], x[..., 1]
        return 0.5 * (a * a + kappa * b * b), _stack_last(a, kappa * b)

    zero = _cp("minimum", 0.0, 0.0, 0.0)
    span = 2.0
    return Landscape("elliptic_valley", 2, expr, ((-span, span), (-span, span)), [zero], [zero],
                     f"0.5*(x**2 + {kappa:g}*y**2)", rf"f(x,y)=\tfrac12(x^2+{kappa:g}\,y^2)",
                     {"kappa": kappa}, np_vg)


def saddle() -> Landscape:
    """f(x, y) = x² − y²: ∇f = 0 only at the origin, a saddle (eigenvalues 2 and −2); no minimum."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return a * a - b * b

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[..., 0], x[..., 1]
        return a * a - b * b, _stack_last(2 * a, -2 * b)

    return Landscape("saddle", 2, expr, ((-2, 2), (-2, 2)), [], [_cp("saddle", 0.0, 0.0, 0.0)],
                     "x**2 - y**2", r"f(x,y)=x^2-y^2", {}, np_vg)


def monkey_saddle() -> Landscape:
    """f(x, y) = x³ − 3xy²: three valleys meet at the origin, where ∇²f = 0 (degenerate)."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return a * a * a - 3.0 * a * (b * b)

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[..., 0], x[..., 1]
        return a ** 3 - 3 * a * b * b, _stack_last(3 * a * a - 3 * b * b, -6 * a * b)

    return Landscape("monkey_saddle", 2, expr, ((-1.5, 1.5), (-1.5, 1.5)), [],
                     [_cp("degenerate", 0.0, 0.0, 0.0)], "x**3 - 3*x*y**2", r"f(x,y)=x^3-3xy^2",
                     {}, np_vg)


def parabola() -> Landscape:
    """f(w) = w², the notes' 1-D example: GD gives w ← (1 − 2α)·w, stable iff α < 1.

    α = 0.4 shrinks w monotonically (factor 0.2), α = 0.6 flips its sign while shrinking
    (factor −0.2), α = 1.2 flips and grows (factor −1.4).
    """
    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[..., 0] ** 2, 2.0 * x

    zero = _cp("minimum", 0.0, 0.0)
    return Landscape("parabola", 1, lambda x: x[..., 0] * x[..., 0], ((-2.0, 2.0),), [zero],
                     [zero], "w**2", r"f(w)=w^2", {}, np_vg)


# ---------------------------------------------------------------- classic benchmark functions

def rosenbrock(a: float = 1.0, b: float = 100.0, dim: int = 2) -> Landscape:
    """f(x) = Σᵢ [(a − xᵢ)² + b·(xᵢ₊₁ − xᵢ²)²]; in 2-D the minimum is (a, a²) with f = 0.

    The curved, flat-bottomed valley y ≈ x² makes first-order methods crawl. For d > 2 the known
    minimum (1, …, 1) needs a = 1.
    """
    _check_dim("rosenbrock", dim, lowest=2)
    a, b = float(a), float(b)

    def expr(x: Tensor) -> Tensor:
        head, tail = x[..., :-1], x[..., 1:]
        r = tail - head * head
        return ((a - head) ** 2 + b * (r * r)).sum(-1)

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        head, tail = x[..., :-1], x[..., 1:]
        r = tail - head * head
        s = a - head
        g = np.empty_like(x)
        g[..., :-1] = -2.0 * s - 4.0 * b * head * r
        g[..., -1] = 0.0
        g[..., 1:] += 2.0 * b * r
        return (s * s + b * r * r).sum(-1), g

    def grad_kernel(like: np.ndarray) -> GradInto:
        r = np.empty_like(like[..., 1:])
        s = np.empty_like(r)

        def grad_into(x: np.ndarray, g: np.ndarray) -> None:
            # np_vg's gradient, operation for operation, written into g.
            head, tail = x[..., :-1], x[..., 1:]
            np.multiply(head, head, out=r)
            np.subtract(tail, r, out=r)
            np.subtract(a, head, out=s)
            np.multiply(s, -2.0, out=s)
            g_head = g[..., :-1]
            np.multiply(head, 4.0 * b, out=g_head)
            g_head *= r
            np.subtract(s, g_head, out=g_head)
            g[..., -1] = 0.0
            np.multiply(r, 2.0 * b, out=r)
            g[..., 1:] += r

        return grad_into

    if dim == 2:
        minima = [_cp("minimum", 0.0, a, a * a)]
    else:
        minima = [_cp("minimum", 0.0, *([1.0] * dim))] if a == 1.0 else []
    box = ((-2.0, 2.0), (-1.0, 3.0)) if dim == 2 else _box(-2, 2, dim)
    return Landscape("rosenbrock", dim, expr, box, minima, list(minima),
                     f"sum_i ({a:g} - x_i)**2 + {b:g}*(x_(i+1) - x_i**2)**2" if dim > 2
                     else f"({a:g} - x)**2 + {b:g}*(y - x**2)**2",
                     rf"f(x,y)=({a:g}-x)^2+{b:g}(y-x^2)^2", {"a": a, "b": b, "dim": dim}, np_vg,
                     grad_kernel)


def himmelblau() -> Landscape:
    """f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four minima (f = 0), one maximum, four saddles."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return (a * a + b - 11.0) ** 2 + (a + b * b - 7.0) ** 2

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[..., 0], x[..., 1]
        u, v = a * a + b - 11.0, a + b * b - 7.0
        return u * u + v * v, _stack_last(4 * a * u + 2 * v, 2 * u + 4 * b * v)

    minima = [
        _cp("minimum", 0.0, 3.0, 2.0),
        _cp("minimum", 0.0, -2.80511808695274, 3.13131251825057),
        _cp("minimum", 0.0, -3.77931025337775, -3.28318599128617),
        _cp("minimum", 0.0, 3.58442834033049, -1.84812652696440),
    ]
    others = [
        _cp("maximum", 181.616521522583, -0.270844590667348, -0.923038556479981),
        _cp("saddle", 13.3119262704056, 3.38515418360702, 0.0738518798377494),
        _cp("saddle", 67.7191500875261, 0.0866775045553964, 2.88425470117478),
        _cp("saddle", 104.015162917558, -3.07302575076439, -0.0813530442879676),
        _cp("saddle", 178.337239201927, -0.12796134673068, -1.95371498024458),
    ]
    return Landscape("himmelblau", 2, expr, ((-5.0, 5.0), (-5.0, 5.0)), minima, minima + others,
                     "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
                     r"f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2", {}, np_vg)


def beale() -> Landscape:
    """f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; minimum (3, 0.5)."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * (b * b)) ** 2
                + (2.625 - a + a * (b * b * b)) ** 2)

    minimum = _cp("minimum", 0.0, 3.0, 0.5)
    return Landscape("beale", 2, expr, ((-4.5, 4.5), (-4.5, 4.5)), [minimum],
                     [minimum,
                      _cp("saddle", 9.86451228475556, 0.100537937324158, -2.64451358502312),
                      _cp("saddle", 14.203125, 0.0, 1.0)],
                     "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
                     r"f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2")


def booth() -> Landscape:
    """f(x, y) = (x + 2y − 7)² + (2x + y − 5)²: a convex quadratic, minimum (1, 3), κ = 9."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return (a + 2.0 * b - 7.0) ** 2 + (2.0 * a + b - 5.0) ** 2

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[..., 0], x[..., 1]
        u, v = a + 2 * b - 7.0, 2 * a + b - 5.0
        return u * u + v * v, _stack_last(2 * u + 4 * v, 4 * u + 2 * v)

    minimum = _cp("minimum", 0.0, 1.0, 3.0)
    return Landscape("booth", 2, expr, ((-10.0, 10.0), (-10.0, 10.0)), [minimum], [minimum],
                     "(x + 2*y - 7)**2 + (2*x + y - 5)**2", r"f(x,y)=(x+2y-7)^2+(2x+y-5)^2",
                     {}, np_vg)


def matyas() -> Landscape:
    """f(x, y) = 0.26(x² + y²) − 0.48xy: a flat convex quadratic, min (0, 0), κ = 1/0.04 = 25."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        return 0.26 * (a * a + b * b) - 0.48 * (a * b)

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[..., 0], x[..., 1]
        return (0.26 * (a * a + b * b) - 0.48 * a * b,
                _stack_last(0.52 * a - 0.48 * b, 0.52 * b - 0.48 * a))

    minimum = _cp("minimum", 0.0, 0.0, 0.0)
    return Landscape("matyas", 2, expr, ((-10.0, 10.0), (-10.0, 10.0)), [minimum], [minimum],
                     "0.26*(x**2 + y**2) - 0.48*x*y", r"f(x,y)=0.26(x^2+y^2)-0.48xy", {}, np_vg)


def three_hump_camel() -> Landscape:
    """f(x, y) = 2x² − 1.05x⁴ + x⁶/6 + xy + y²: global minimum (0, 0), two local minima."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        a2 = a * a
        return 2.0 * a2 - 1.05 * (a2 * a2) + (a2 * a2 * a2) / 6.0 + a * b + b * b

    return Landscape(
        "three_hump_camel", 2, expr, ((-3.0, 3.0), (-3.0, 3.0)), [_cp("minimum", 0.0, 0.0, 0.0)],
        [_cp("minimum", 0.0, 0.0, 0.0),
         _cp("minimum", 0.298638442236859, 1.74755234583029, -0.873776172915145),
         _cp("minimum", 0.298638442236859, -1.74755234583029, 0.873776172915145),
         _cp("saddle", 0.87736155776314, 1.07054229182366, -0.53527114591183),
         _cp("saddle", 0.87736155776314, -1.07054229182366, 0.53527114591183)],
        "2*x**2 - 1.05*x**4 + x**6/6 + x*y + y**2", r"f(x,y)=2x^2-1.05x^4+\frac{x^6}{6}+xy+y^2")


def six_hump_camel() -> Landscape:
    """f(x, y) = (4 − 2.1x² + x⁴/3)x² + xy + (4y² − 4)y²: two global minima, f ≈ −1.0316."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        a2, b2 = a * a, b * b
        return (4.0 - 2.1 * a2 + (a2 * a2) / 3.0) * a2 + a * b + (4.0 * b2 - 4.0) * b2

    g_min = -1.03162845348988
    minima = [_cp("minimum", g_min, 0.0898420131003181, -0.71265640302074),
              _cp("minimum", g_min, -0.0898420131003181, 0.71265640302074)]
    others = [
        _cp("minimum", -0.215463824383719, -1.70360671496998, 0.796083568672626),
        _cp("minimum", -0.215463824383719, 1.70360671496998, -0.796083568672626),
        _cp("minimum", 2.10425031031126, -1.6071047529202, -0.568651454884131),
        _cp("minimum", 2.10425031031126, 1.6071047529202, 0.568651454884131),
        _cp("saddle", 0.0, 0.0, 0.0),
        _cp("saddle", 0.543718600978185, 1.10920533680479, -0.76826809250954),
        _cp("saddle", 0.543718600978185, -1.10920533680479, 0.76826809250954),
        _cp("saddle", 2.22935719753071, -1.63806798418978, -0.228674069044394),
        _cp("saddle", 2.22935719753071, 1.63806798418978, 0.228674069044394),
        _cp("saddle", 2.22947081802986, -1.29607026716711, -0.605084388038658),
        _cp("saddle", 2.22947081802986, 1.29607026716711, 0.605084388038658),
        _cp("maximum", 2.49629535102358, -1.23022987651665, -0.162334584458995),
        _cp("maximum", 2.49629535102358, 1.23022987651665, 0.162334584458995),
    ]
    return Landscape("six_hump_camel", 2, expr, ((-3.0, 3.0), (-2.0, 2.0)), minima,
                     minima + others, "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (4*y**2 - 4)*y**2",
                     r"f(x,y)=(4-2.1x^2+\frac{x^4}{3})x^2+xy+(4y^2-4)y^2")


def rastrigin(dim: int = 2, A: float = 10.0) -> Landscape:
    """f(x) = A·d + Σᵢ (xᵢ² − A·cos 2πxᵢ): a bowl under a grid of local minima; min f(0) = 0."""
    _check_dim("rastrigin", dim)
    A = float(A)
    zero = _cp("minimum", 0.0, *([0.0] * dim))
    return Landscape(
        "rastrigin", dim,
        lambda x: A * dim + (x * x - A * (2.0 * math.pi * x).cos()).sum(-1), _box(-5.12, 5.12, dim),
        [zero], [zero], f"{A:g}*d + sum_i (x_i**2 - {A:g}*cos(2*pi*x_i))",
        rf"f(x)={A:g}d+\sum_i\left(x_i^2-{A:g}\cos 2\pi x_i\right)", {"dim": dim, "A": A})


def ackley(dim: int = 2, a: float = 20.0, b: float = 0.2, c: float = 2 * math.pi) -> Landscape:
    """f(x) = −a·exp(−b·√(mean xᵢ²)) − exp(mean cos(c·xᵢ)) + a + e; min f(0) = 0.

    √ has an infinite slope at 0, so the root is taken of mean xᵢ² + 10⁻³⁰: f changes by ~10⁻¹⁵
    but the gradient at the minimum is 0 instead of NaN (0·∞).
    """
    _check_dim("ackley", dim)
    a, b, c = float(a), float(b), float(c)

    def expr(x: Tensor) -> Tensor:
        r = ((x * x).mean(-1) + 1e-30).sqrt()
        return -a * (-b * r).exp() - (c * x).cos().mean(-1).exp() + (a + math.e)

    zero = _cp("minimum", 0.0, *([0.0] * dim))
    return Landscape("ackley", dim, expr, _box(-5, 5, dim), [zero], [zero],
                     f"-{a:g}*exp(-{b:g}*sqrt(mean(x_i**2))) - exp(mean(cos({c:.4g}*x_i))) "
                     f"+ {a:g} + e",
                     rf"f(x)=-{a:g}e^{{-{b:g}\sqrt{{\frac1d\sum x_i^2}}}}"
                     rf"-e^{{\frac1d\sum\cos(cx_i)}}+{a:g}+e", {"dim": dim, "a": a, "b": b, "c": c})


_ST_X = -2.903534027771178  # the root of 4x³ − 32x + 5 = 0 that minimises x⁴ − 16x² + 5x


def styblinski_tang(dim: int = 2) -> Landscape:
    """f(x) = ½ Σᵢ (xᵢ⁴ − 16xᵢ² + 5xᵢ); min at xᵢ ≈ −2.9035 with f ≈ −39.166·d (2ᵈ local minima)."""
    _check_dim("styblinski_tang", dim)

    def np_vg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x2 = x * x
        return 0.5 * (x2 * x2 - 16 * x2 + 5 * x).sum(-1), 2 * x2 * x - 16 * x + 2.5

    one = 0.5 * (_ST_X ** 4 - 16 * _ST_X ** 2 + 5 * _ST_X)
    minimum = _cp("minimum", one * dim, *([_ST_X] * dim))
    return Landscape(
        "styblinski_tang", dim,
        lambda x: 0.5 * ((x * x) * (x * x) - 16.0 * (x * x) + 5.0 * x).sum(-1), _box(-5, 5, dim),
        [minimum], [minimum], "0.5*sum_i (x_i**4 - 16*x_i**2 + 5*x_i)",
        r"f(x)=\tfrac12\sum_i(x_i^4-16x_i^2+5x_i)", {"dim": dim}, np_vg)


def goldstein_price() -> Landscape:
    """Goldstein–Price: a degree-8 polynomial with global minimum f(0, −1) = 3 and steep walls."""
    def expr(x: Tensor) -> Tensor:
        a, b = _xy(x)
        p = 1.0 + (a + b + 1.0) ** 2 * (19.0 - 14.0 * a + 3.0 * a * a - 14.0 * b + 6.0 * a * b
                                       + 3.0 * b * b)
        q = 30.0 + (2.0 * a - 3.0 * b) ** 2 * (18.0 - 32.0 * a + 12.0 * a * a + 48.0 * b
                                              - 36.0 * a * b + 27.0 * b * b)
        return p * q

    minimum = _cp("minimum", 3.0, 0.0, -1.0)
    return Landscape(
        "goldstein_price", 2, expr, ((-2.0, 2.0), (-2.0, 2.0)), [minimum],
        [minimum, _cp("minimum", 30.0, -0.6, -0.4), _cp("minimum", 84.0, 1.8, 0.2),
         _cp("minimum", 840.0, 1.2, 0.8), _cp("saddle", 35.0, -0.4, -0.6),
         _cp("saddle", 99.0, 1.2, -0.2), _cp("saddle", 980.0, 1.4, 0.6),
         _cp("saddle", 990.0, 0.6, 0.4), _cp("maximum", 1155.0, 0.8, 0.2)],
        "(1 + (x+y+1)**2*(19 - 14x + 3x**2 - 14y + 6xy + 3y**2))"
        " * (30 + (2x-3y)**2*(18 - 32x + 12x**2 + 48y - 36xy + 27y**2))",
        r"f=[1+(x+y+1)^2(19-14x+3x^2-14y+6xy+3y^2)]"
        r"[30+(2x-3y)^2(18-32x+12x^2+48y-36xy+27y^2)]")


FUNCTIONS: dict[str, Callable[..., Landscape]] = {
    "quadratic_bowl": quadratic_bowl,
    "elliptic_valley": elliptic_valley,
    "saddle": saddle,
    "monkey_saddle": monkey_saddle,
    "parabola": parabola,
    "rosenbrock": rosenbrock,
    "himmelblau": himmelblau,
    "beale": beale,
    "booth": booth,
    "matyas": matyas,
    "three_hump_camel": three_hump_camel,
    "six_hump_camel": six_hump_camel,
    "rastrigin": rastrigin,
    "ackley": ackley,
    "styblinski_tang": styblinski_tang,
    "goldstein_price": goldstein_price,
}


def function_names() -> list[str]:
    """The registry's names, sorted."""
    return sorted(FUNCTIONS)


def get_function(name: str, **params: float) -> Landscape:
    """Build the landscape registered as ``name`` (case and '-'/' ' insensitive) with ``params``.

    >>> get_function("elliptic-valley", kappa=50).params
    {'kappa': 50.0}
    """
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; valid names: {', '.join(function_names())} "
                         "(or pass a formula string to descentlab.lab.formula.parse_function)")
    factory = FUNCTIONS[key]
    accepted = list(inspect.signature(factory).parameters)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"{key} does not take parameter(s) {', '.join(unknown)}; it accepts: "
                         f"{', '.join(accepted) if accepted else 'no parameters'}")
    return factory(**params)
