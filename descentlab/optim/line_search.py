"""Line searches: how far to go along a descent direction d from x.

Both searches work on the one-dimensional slice of the objective

    φ(α) = f(x + α·d),        φ'(α) = ∇f(x + α·d)·d,

so they are usable on their own, on any function of a NumPy vector (``directional`` builds φ from
``fun(x) -> (f, ∇f)``) or on any scalar φ you write by hand. The optimizers in ``second_order`` use
exactly these functions, nothing private.

Conditions, with 0 < c1 < c2 < 1 (defaults c1 = 1e-4, c2 = 0.9):

    sufficient decrease (Armijo):  φ(α) ≤ φ(0) + c1·α·φ'(0)      i.e. f(x+αd) ≤ f(x) + c1·α·∇f(x)·d
    strong curvature (Wolfe):      |φ'(α)| ≤ c2·|φ'(0)|         i.e. |∇f(x+αd)·d| ≤ c2·|∇f(x)·d|

``armijo`` enforces the first by backtracking; ``strong_wolfe`` enforces both by bracketing and zoom
(Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithms 3.5 and 3.6) with cubic
interpolation, step for step as ``torch.optim.LBFGS(line_search_fn="strong_wolfe")`` does it (itself
a port of minFunc / torch7's lswolfe.lua), so that our L-BFGS follows torch's trajectory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["LineSearchResult", "armijo", "armijo_batched", "strong_wolfe", "cubic_interpolate",
           "directional"]

#: φ(α) -> (φ(α), φ'(α)) or (φ(α), φ'(α), payload); the payload (typically ∇f(x+αd)) of the
#: accepted point is handed back in ``LineSearchResult.g`` so that nobody evaluates f twice.
Phi = Callable[[float], Any]


@dataclass(frozen=True)
class LineSearchResult:
    """What a line search found.

    step: the accepted α.  f: φ(α).  slope: φ'(α) (None when the search never needed it).
    g: the payload φ returned at α (the gradient vector with ``directional``), or the ``g0`` given
    for α = 0.  n_evals: calls to φ.  success: True when the conditions the search enforces hold
    at ``step``; False when it ran out of evaluations or the bracket shrank below tolerance
    (``step`` is then the best point seen, which may be 0).
    """

    step: float
    f: float
    slope: float | None
    g: Any
    n_evals: int
    success: bool


def _unpack(out: Any) -> tuple[float, float | None, Any]:
    """Accept φ returning a bare value, (value, slope) or (value, slope, payload)."""
    if not isinstance(out, tuple):
        return float(out), None, None
    if len(out) == 2:
        return float(out[0]), float(out[1]), None
    return float(out[0]), float(out[1]), out[2]


def directional(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
                d: np.ndarray) -> Phi:
    """φ(α) = f(x + α·d) with slope φ'(α) = ∇f(x + α·d)·d, for ``fun(x) -> (f(x), ∇f(x))``.

    The returned callable gives (φ(α), φ'(α), ∇f(x + α·d)), so a search's result carries the
    gradient at the accepted point in ``.g``.
    """
    x = np.asarray(x)
    d = np.asarray(d)

    def phi(alpha: float) -> tuple[float, float, np.ndarray]:
        f, g = fun(x + alpha * d)
        g = np.asarray(g)
        return float(f), float(g @ d), g

    return phi


def armijo(phi: Phi, phi0: float, dphi0: float, step: float = 1.0, *, c1: float = 1e-4,
           shrink: float = 0.5, max_evals: int = 50, g0: Any = None) -> LineSearchResult:
    """Backtracking: the first α of step, shrink·step, shrink²·step, ... with sufficient decrease

        φ(α) ≤ φ(0) + c1·α·φ'(0).

    Only values of φ are needed (φ may return a bare float). Arguments:
        phi: the slice φ, see the module docstring.  phi0, dphi0: φ(0) and φ'(0) < 0.
        step: first trial α.  c1: sufficient-decrease constant in (0, 1).
        shrink: factor in (0, 1) applied after each rejected trial.  max_evals: calls to φ at most.
        g0: payload for α = 0, returned when no trial is accepted.
    """
    if not dphi0 < 0:
        raise ValueError(f"armijo: φ'(0) = {dphi0} is not negative, so d is not a descent "
                         "direction; pass d with ∇f(x)·d < 0 (e.g. d = -∇f(x))")
    if not 0 < shrink < 1 or not 0 < c1 < 1:
        raise ValueError(f"armijo: need 0 < c1 < 1 and 0 < shrink < 1, got c1={c1}, "
                         f"shrink={shrink}")
    alpha = float(step)
    for n in range(1, max_evals + 1):
        f, slope, g = _unpack(phi(alpha))
        if f <= phi0 + c1 * alpha * dphi0:
            return LineSearchResult(alpha, f, slope, g, n, True)
        alpha *= shrink
    return LineSearchResult(0.0, phi0, dphi0, g0, max_evals, False)


def cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                      bounds: tuple[float, float] | None = None) -> float:
    """Minimizer of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clipped to ``bounds``.

        d1 = g1 + g2 − 3·(f1 − f2)/(x1 − x2),   d2 = √(d1² − g1·g2)
        x* = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2)      (x1 ≤ x2; mirrored otherwise)

    ``bounds`` defaults to [min(x1, x2), max(x1, x2)]. When d1² < g1·g2 the cubic has no minimizer
    and the midpoint of the bounds is returned (the same rule as torch's ``_cubic_interpolate``);
    so it is when an end is not finite (f = inf where the function overflowed): bisection then.
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if not all(map(math.isfinite, (f1, g1, f2, g2))):
        return (lo + hi) / 2.0
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if not d2_square >= 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    denominator = (g2 - g1 + 2 * d2) if x1 <= x2 else (g1 - g2 + 2 * d2)
    if denominator == 0:
        return (lo + hi) / 2.0
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / denominator)
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / denominator)
    return min(max(x, lo), hi)


def strong_wolfe(phi: Phi, phi0: float, dphi0: float, step: float = 1.0, *, c1: float = 1e-4,
                 c2: float = 0.9, tolerance_change: float = 1e-9, max_evals: int = 25,
                 scale: float = 1.0, g0: Any = None) -> LineSearchResult:
    """An α with φ(α) ≤ φ(0) + c1·α·φ'(0) and |φ'(α)| ≤ c2·|φ'(0)|, by bracketing then zoom.

    Bracketing (N&W Alg. 3.5) tries α₀ = step, then extrapolates by cubic interpolation clipped to
    [α + 0.01·(α − α_prev), 10·α], until the trial
      - breaks sufficient decrease, or (from the third trial on, as torch) is no lower than the
        previous one: the minimizer lies in [α_prev, α];
      - satisfies strong curvature: done;
      - has φ'(α) ≥ 0: the minimizer lies in [α_prev, α].
    Zoom (N&W Alg. 3.6) shrinks that bracket [α_lo, α_hi] (φ(α_lo) lowest,
    φ'(α_lo)·(α_hi − α_lo) < 0) with cubic interpolation; a trial within 10% of the bracket's
    length from an end, twice in a row or outside it, is moved to 10% inside so the bracket keeps
    shrinking.

    Arguments:
        phi: φ(α) -> (φ(α), φ'(α)[, payload]).  phi0, dphi0: φ(0) and φ'(0) < 0.
        step: first trial α.  c1, c2: the constants above, 0 < c1 < c2 < 1.
        tolerance_change: stop when |α_hi − α_lo|·scale falls below it.
        max_evals: calls to φ at most.  scale: size of one unit of α in x (torch uses max|d|).
        g0: payload for α = 0, returned if α = 0 stays the best point.
    """
    if not dphi0 < 0:
        raise ValueError(f"strong_wolfe: φ'(0) = {dphi0} is not negative, so d is not a descent "
                         "direction; pass d with ∇f(x)·d < 0 (e.g. d = -∇f(x))")
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"strong_wolfe: need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")

    def evaluate(alpha: float) -> tuple[float, float, Any]:
        f, slope, g = _unpack(phi(alpha))
        if slope is None:
            raise ValueError("strong_wolfe: phi must return (value, slope) or (value, slope, "
                             "payload); the curvature condition needs φ'(α)")
        return f, slope, g

    t = float(step)
    f_new, gtd_new, g_new = evaluate(t)
    n_evals = 1
    # Each bracket entry is [α, φ(α), φ'(α), payload].
    prev = [0.0, phi0, dphi0, g0]
    bracket: list[list[Any]] = []
    done = False
    ls_iter = 0
    while ls_iter < max_evals:
        if f_new > phi0 + c1 * t * dphi0 or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, [t, f_new, gtd_new, g_new]]
            break
        if abs(gtd_new) <= -c2 * dphi0:
            bracket = [[t, f_new, gtd_new, g_new]]
            done = True
            break
        if gtd_new >= 0:
            bracket = [prev, [t, f_new, gtd_new, g_new]]
            break
        # Still descending with a steep slope: extrapolate, at least 1% beyond t, at most 10·t.
        t_next = cubic_interpolate(prev[0], prev[1], prev[2], t, f_new, gtd_new,
                                   bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = [t, f_new, gtd_new, g_new]
        t = t_next
        f_new, gtd_new, g_new = evaluate(t)
        n_evals += 1
        ls_iter += 1
    if ls_iter >= max_evals:
        bracket = [[0.0, phi0, dphi0, g0], [t, f_new, gtd_new, g_new]]

    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_evals:
        a, b = bracket[0][0], bracket[1][0]
        if abs(b - a) * scale < tolerance_change:
            break
        t = cubic_interpolate(a, bracket[0][1], bracket[0][2], b, bracket[1][1], bracket[1][2])
        lo_end, hi_end = min(a, b), max(a, b)
        eps = 0.1 * (hi_end - lo_end)
        if min(hi_end - t, t - lo_end) < eps:
            if insufficient_progress or t >= hi_end or t <= lo_end:
                t = hi_end - eps if abs(t - hi_end) < abs(t - lo_end) else lo_end + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, gtd_new, g_new = evaluate(t)
        n_evals += 1
        ls_iter += 1
        if f_new > phi0 + c1 * t * dphi0 or f_new >= bracket[low][1]:
            bracket[high] = [t, f_new, gtd_new, g_new]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * dphi0:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                # The slope at the new low points away from α_hi: the old low becomes the high end.
                bracket[high] = bracket[low]
            bracket[low] = [t, f_new, gtd_new, g_new]

    t, f, slope, g = bracket[low]
    return LineSearchResult(t, f, slope, g, n_evals, done)


def armijo_batched(fun: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                   f: np.ndarray, slope: np.ndarray, direction: np.ndarray, step: float = 1.0,
                   *, c1: float = 1e-4, max_halvings: int = 30
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Armijo backtracking for K points at once, each row halving its own step.

        tₖ ← step;  while f(xₖ + tₖ·dₖ) > f(xₖ) + c1·tₖ·∇f(xₖ)·dₖ:  tₖ ← tₖ/2   (at most
        ``max_halvings`` times; a row still failing then keeps its last trial step)

    Only the rows still failing are evaluated again, so a batch costs what its slowest row costs.

    Args:
        fun: (K', n) points -> (f (K',), ∇f (K', n)), on any subset of rows.
        x: (K, n) points.  f: (K,) f(x).  slope: (K,) ∇f(x)·d, negative.
        direction: (K, n) descent directions d.  step: the first trial step.

    Returns:
        (t, x + t·d, f there, ∇f there), each row at its accepted t.
    """
    t = np.full(x.shape[0], float(step))
    x_new = x + t[:, None] * direction
    f_new, g_new = fun(x_new)
    for _ in range(max_halvings):
        fail = ~(f_new <= f + c1 * t * slope)
        if not fail.any():
            break
        t[fail] *= 0.5
        x_new[fail] = x[fail] + t[fail, None] * direction[fail]
        f_new[fail], g_new[fail] = fun(x_new[fail])
    return t, x_new, f_new, g_new
