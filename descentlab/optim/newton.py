"""Newton's method and truncated Newton (Newton-CG), closure-driven, with double backward.

Both need second derivatives: they run the closure inside ``backward_creates_graph()``, so its
plain ``loss.backward()`` leaves ``p.grad`` differentiable, and take Hessian-vector products with
``autograd.functional.gradient_hvp``. Their directions are ``second_order_rules``' functions.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import enable_grad
from ..autograd.function import backward_creates_graph
from ..autograd.functional import gradient_hvp
from ..autograd.tensor import Tensor
from . import closure as stops
from . import second_order_rules as rules
from .closure import Closure, _ClosureOptimizer, _Line, _norm
from .line_search import LineSearchResult, armijo, strong_wolfe

__all__ = ["Newton", "NewtonCG"]


class _NewtonBase(_ClosureOptimizer):
    """The loop of Newton and NewtonCG: a direction from second derivatives, then a line search.

        d = the method's Newton-like direction at x;  x ← x + α·d
        α from Armijo backtracking (first trial lr), strong Wolfe, or α = lr (line_search_fn=None)
    Stops like LBFGS: max|∇f| ≤ tolerance_grad (Newton: and no negative curvature), or a change
    of loss or max|α·d| below tolerance_change, or max_iter iterations / max_eval closure calls
    in this ``step``.
    """

    def _direction(self, g: np.ndarray) -> tuple[np.ndarray | None, float | None, str | None]:
        """(d, model slope for Armijo if not ∇f·d, message); d is None at a minimizer."""
        raise NotImplementedError

    #: x -> ∇²f(x) as an (n, n) array, used instead of double backward when set (optim.minimize's
    #: ``hess=``); the flat parameter vector is passed.
    _hess_fn: Callable[[np.ndarray], np.ndarray] | None = None

    def _count_hessian(self) -> None:
        """One more Hessian (Newton) or Hessian-vector product (NewtonCG): minimize's nhev."""
        self._state["hess_evals"] = self._state.get("hess_evals", 0) + 1

    def _hvp(self, v: np.ndarray) -> np.ndarray:
        """H·v by a second backward pass through the differentiable gradient left by the closure."""
        if self._hess_fn is not None:
            return (self._hess_fn(self._get_x()) @ v).astype(self._dtype, copy=False)
        grads = [p.grad for p in self._params]
        if all(g is None or not g.requires_grad for g in grads):
            raise ValueError(
                f"{type(self).__name__} needs second derivatives, but the gradients carry no "
                "graph: the closure must call loss.backward() on a loss computed from the "
                "parameters (not detached, not under no_grad)")
        vectors = [Tensor._wrap(np.ascontiguousarray(piece.astype(p.dtype, copy=False)))
                   for piece, p in zip(self._flat.split(v), self._params, strict=True)]
        hv = gradient_hvp(grads, self._params, vectors)
        return self._flat.join([None if h is None else h._data for h in hv])

    def _warn_once(self, message: str) -> None:
        if not self._state.get("warned"):
            self._state["warned"] = True
            warnings.warn(f"{type(self).__name__}: {message} (further cases are only recorded in "
                          "optimizer.history)", RuntimeWarning, stacklevel=3)

    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations; returns the loss at the starting point, as torch."""
        user_closure = self._check_closure(closure)
        self._check_edits()

        def closure() -> Any:
            # Record the closure's backward so p.grad can be differentiated again (H·v).
            with backward_creates_graph():
                return user_closure()

        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        state = self._state
        orig_loss, loss, g = self._start(closure)
        current_evals = 1
        fun = self._fun(closure)
        self._stop(1, stops.MAXITER)
        for _ in range(max_iter):
            if not (math.isfinite(loss) and np.isfinite(g).all()):
                self._stop(3, stops.NONFINITE)
                break
            d, model_slope, message = self._direction(g)
            if d is None:
                self._stop(0, stops.CONVERGED)
                break
            state["n_iter"] += 1
            x = self._get_x()
            phi = _Line(fun, x, d)
            gtd = float(g @ d)
            # As torch's LBFGS (max_ls = 25): a search is not cut short by the step's budget,
            # which is checked between iterations, so every step can move.
            budget = max(max_eval - current_evals, 25)
            if line_search_fn is None:
                res = LineSearchResult(lr, *phi(lr), n_evals=1, success=True)
            elif line_search_fn == "strong_wolfe" and model_slope is None:
                res = strong_wolfe(phi, loss, gtd, lr, tolerance_change=tolerance_change,
                                   max_evals=budget, scale=float(np.abs(d).max()), g0=g)
            else:
                res = armijo(phi, loss, gtd if model_slope is None else model_slope, lr,
                             max_evals=budget, g0=g)
            current_evals += res.n_evals
            state["func_evals"] += res.n_evals
            if not res.success:
                message = ((message + "; ") if message else "") + (
                    f"line search found no acceptable step in {res.n_evals} evaluations; stopped")
            prev_loss = loss
            loss, g = res.f, res.g
            # The next direction needs the gradient graph at the accepted point, which only a
            # closure call there holds; writing the parameters again after that call would also
            # invalidate the graph, so move and re-evaluate only when the search ended elsewhere.
            if res.step != phi.last:
                self._set_x(x + res.step * d)
                loss, g = self._evaluate(closure)
                current_evals += 1
                state["func_evals"] += 1
            self._record(iter=state["n_iter"], loss=loss, grad_norm=_norm(g), step=res.step,
                         func_evals=res.n_evals, message=message)
            if not res.success:
                self._stop(2, f"{stops.PRECISION_LOSS} ({message})")
                break
            if np.abs(res.step * d).max() <= tolerance_change:
                self._stop(0, f"{stops.CONVERGED} (max|α·d| <= tolerance_change)")
                break
            if abs(loss - prev_loss) < tolerance_change:
                self._stop(0, f"{stops.CONVERGED} (loss change < tolerance_change)")
                break
            # As torch's LBFGS: the budget is checked after an iteration, so max_iter=1 moves.
            if current_evals >= max_eval:
                self._stop(1, stops.MAXFEV)
                break
        else:
            # The last iteration may have reached the minimizer: say so rather than "max iter".
            if math.isfinite(loss) and np.abs(g).max() <= group["tolerance_grad"]:
                self._stop(0, stops.CONVERGED)
        if not math.isfinite(loss):
            self._stop(3, stops.NONFINITE)
        return orig_loss


class Newton(_NewtonBase):
    """Newton's method with the exact Hessian, Levenberg–Marquardt damping and a line search.

        H = ∇²f(x) (double backward, one Hessian-vector product per coordinate: small problems)
        H = Q·diag(λ)·Qᵀ,  λ_min = min λ,  δ = √ε·max(1, max|λ|)
        μ = damping                                  if λ_min + damping > δ
        μ = −λ_min + max(|λ_min|, δ)                 otherwise: H is indefinite (or singular)
        d = −(H + μ·I)⁻¹·∇f = −Q·diag(1/(λ + μ))·Qᵀ·∇f;   x ← x + α·d,  α by Armijo (first trial lr)

    With the shift, H + μI has smallest eigenvalue max(|λ_min|, δ) > 0, so d is a descent
    direction that also moves away from a saddle along the negative-curvature eigenvectors. At
    a saddle itself (∇f·d ≈ 0 while λ_min < 0) d is the eigenvector q of λ_min, signed downhill,
    and Armijo uses the model slope ½·λ_min (f(x+αq) ≈ f(x) + ½α²·λ_min there). Each indefinite
    Hessian is recorded in ``history[i]["message"]`` with λ_min and μ; the first one also warns.

    The closure is the usual one (zero_grad, loss, ``loss.backward()``, return loss).

    Args:
        params: the parameters (one group).  lr: first trial step (1: the full Newton step).
        max_iter, max_eval, tolerance_grad, tolerance_change: as LBFGS.
        damping: μ ≥ 0 always added to H (0: pure Newton where H is positive definite).
        line_search_fn: "armijo" (default), "strong_wolfe" or None (fixed step lr).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, damping: float = 0.0,
                 line_search_fn: str | None = "armijo") -> None:
        super().__init__(params, dict(
            lr=lr, max_iter=max_iter, max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change, damping=damping,
            line_search_fn=line_search_fn))

    def hessian(self, closure: Closure | None = None) -> np.ndarray:
        """∇²f as an (n, n) array (symmetrized): at the current parameters when ``closure`` is
        given (it is evaluated), else at the point of the last closure call made inside step()."""
        if closure is not None:
            with enable_grad(), backward_creates_graph():
                closure()
        if self._hess_fn is not None:
            H = np.asarray(self._hess_fn(self._get_x()), dtype=self._dtype)
        else:
            n = self._flat.size
            eye = np.eye(n, dtype=self._dtype)
            H = np.stack([self._hvp(eye[i]) for i in range(n)])
        return (H + H.T) / 2

    def _direction(self, g: np.ndarray) -> tuple[np.ndarray | None, float | None, str | None]:
        group = self.param_groups[0]
        self._count_hessian()
        lam, Q = rules.hessian_eigen(self.hessian())
        lam_min = float(lam[0])
        damping = group["damping"]
        shift, delta_array = rules.levenberg_marquardt_shift(lam, damping)
        mu, delta = float(shift), float(delta_array)
        # A zero gradient is a minimizer only without negative curvature; at a saddle, go on.
        if np.abs(g).max() <= group["tolerance_grad"] and lam_min >= -delta:
            return None, None, None
        message = None
        if lam_min + damping <= delta:
            kind = "indefinite" if lam_min < -delta else "singular (or nearly)"
            message = (f"Hessian {kind}: λ_min = {lam_min:.4g}; shifted it by μ·I with "
                       f"μ = {mu:.4g} (Levenberg–Marquardt) so the step descends")
            self._warn_once(message)
        g64 = g.astype(np.float64)
        d = rules.newton_direction_from_eigen(lam, Q, g64, mu)
        if lam_min < -delta and float(g64 @ d) > -group["tolerance_change"]:
            q = Q[:, 0]
            d = -q if float(g64 @ q) > 0 else q
            message = ((message + "; ") if message else "") + (
                f"∇f·d ≈ 0 at a saddle point (λ_min = {lam_min:.4g}): stepped along the "
                "negative-curvature eigenvector instead")
            return d.astype(self._dtype), 0.5 * lam_min, message
        return d.astype(self._dtype), None, message


class NewtonCG(_NewtonBase):
    """Truncated Newton (Hessian-free): CG on H·d = −∇f with Hessian-vector products.

    H·v comes from a second backward pass through ∇f (never forming H). Conjugate gradient, from
    z = 0 with residual r = ∇f and direction p = −r (Nocedal & Wright Alg. 7.1):

        if pᵀHp ≤ 0: negative curvature — stop; d = z (or −∇f on the first CG iteration)
        a = rᵀr / pᵀHp;  z ← z + a·p;  r' = r + a·Hp
        stop when ‖r'‖ ≤ η·‖∇f‖,  η = min(0.5, √‖∇f‖)   (superlinear convergence)
        p ← −r' + (r'ᵀr' / rᵀr)·p
        x ← x + α·d,  α by Armijo (first trial lr) or strong Wolfe

    Negative curvature is recorded in the history message (the first time also warned). Started
    exactly at a saddle (∇f = 0) CG has nothing to solve and the method stays; use Newton there.
    The closure is the usual one (zero_grad, loss, ``loss.backward()``, return loss).

    Args:
        params, lr, max_iter, max_eval, tolerance_grad, tolerance_change: as Newton.
        cg_max_iter: CG iterations per Newton iteration (default: the number of parameters).
        line_search_fn: "armijo" (default), "strong_wolfe" or None.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, cg_max_iter: int | None = None,
                 line_search_fn: str | None = "armijo") -> None:
        super().__init__(params, dict(
            lr=lr, max_iter=max_iter, max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
            cg_max_iter=cg_max_iter, line_search_fn=line_search_fn))

    def _direction(self, g: np.ndarray) -> tuple[np.ndarray | None, float | None, str | None]:
        group = self.param_groups[0]
        if np.abs(g).max() <= group["tolerance_grad"]:
            return None, None, None

        def hvp(v: np.ndarray) -> np.ndarray:
            self._count_hessian()
            return self._hvp(v)

        d, negative_at, p_hp = rules.newton_cg_direction(hvp, g, group["cg_max_iter"])
        if negative_at is None:
            return d, None, None
        message = (f"negative curvature pᵀHp = {p_hp:.4g} at CG iteration {negative_at}: "
                   + ("used the steepest-descent direction −∇f" if negative_at == 0 else
                      "used the CG iterate before it"))
        self._warn_once(message)
        return d, None, message
