"""Quasi-Newton methods: L-BFGS (torch's loop) and BFGS (SciPy's loop), closure-driven.

The inverse-Hessian update of BFGS is ``second_order_rules.bfgs_update``; the line search is
``line_search.strong_wolfe``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import enable_grad, no_grad
from . import second_order_rules as rules
from .closure import (
    CONVERGED,
    MAXFEV,
    MAXITER,
    NONFINITE,
    PRECISION_LOSS,
    Closure,
    _ClosureOptimizer,
    _Line,
    _norm,
)
from .line_search import LineSearchResult, strong_wolfe

__all__ = ["LBFGS", "BFGS"]


class _QuasiNewton(_ClosureOptimizer):
    """The outer loop of torch.optim.LBFGS (BFGS follows SciPy's loop instead, see BFGS).

        d = −H·∇f        (H: the method's inverse-Hessian approximation; d = −∇f at the start)
        x ← x + t·d      t from strong Wolfe, first trial lr (min(1, 1/‖∇f‖₁)·lr at the start)
        memory ← (s, y) = (t·d, ∇f_new − ∇f) when yᵀs > 1e-10, else the pair is skipped
    """

    _line_searches = ("strong_wolfe", None)

    def _reset_memory(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update_memory(self, state: dict[str, Any], s: np.ndarray, y: np.ndarray,
                       ys: float) -> None:
        raise NotImplementedError

    def _direction(self, state: dict[str, Any], g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations; returns the loss at the starting point, as torch."""
        closure = self._check_closure(closure)
        self._check_edits()
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        state = self._state
        orig_loss, loss, flat_grad = self._start(closure)
        current_evals = 1
        if np.abs(flat_grad).max() <= tolerance_grad:
            self._stop(0, CONVERGED)
            return orig_loss
        self._stop(1, MAXITER)

        d, t = state.get("d"), state.get("t")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        with no_grad():
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                message = None
                if state["n_iter"] == 1:
                    self._reset_memory(state)
                    d = -flat_grad
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = float(y @ s)
                    if ys > 1e-10:
                        self._update_memory(state, s, y, ys)
                    else:
                        message = f"skipped the update: curvature yᵀs = {ys:.3g} <= 1e-10"
                    d = self._direction(state, flat_grad)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                # torch's first trial step: a unit step along −∇f could be huge, so cap |t·d|₁ by 1.
                if state["n_iter"] == 1:
                    t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
                else:
                    t = lr
                gtd = float(flat_grad @ d)
                if gtd > -tolerance_change:
                    self._stop(0, f"{CONVERGED} (∇f·d > −tolerance_change)")
                    break

                if line_search_fn == "strong_wolfe":
                    x = self._get_x()
                    phi = _Line(self._fun(closure), x, d)
                    res = strong_wolfe(phi, loss, gtd, t, tolerance_change=tolerance_change,
                                       max_evals=max_eval - current_evals,
                                       scale=float(np.abs(d).max()), g0=flat_grad)
                    loss, flat_grad, t, ls_func_evals = res.f, res.g, res.step, res.n_evals
                    self._set_x(x + t * d)
                    grad_norm: float | None = _norm(flat_grad)
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                else:
                    self._set_x(self._get_x() + t * d)
                    ls_func_evals = 0
                    grad_norm = None
                    opt_cond = False
                    # As torch: the last iteration does not evaluate the point it moved to.
                    if n_iter != max_iter:
                        with enable_grad():
                            loss = float(closure())
                        flat_grad = self._flat_grad()
                        grad_norm = _norm(flat_grad)
                        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                        ls_func_evals = 1
                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals
                self._record(iter=state["n_iter"], loss=loss if grad_norm is not None else None,
                             grad_norm=grad_norm, step=float(t), func_evals=ls_func_evals,
                             message=message)

                if opt_cond:
                    self._stop(0, CONVERGED)
                    break
                if n_iter == max_iter:
                    break
                if current_evals >= max_eval:
                    self._stop(1, MAXFEV)
                    break
                if np.abs(d * t).max() <= tolerance_change:
                    self._stop(0, f"{CONVERGED} (max|t·d| <= tolerance_change)")
                    break
                if abs(loss - prev_loss) < tolerance_change:
                    self._stop(0, f"{CONVERGED} (loss change < tolerance_change)")
                    break

        if not math.isfinite(loss):
            self._stop(3, NONFINITE)
        state.update(d=d, t=t, prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss


class LBFGS(_QuasiNewton):
    """L-BFGS (as torch.optim.LBFGS, same arguments, same trajectory).

    Keeps the last ``history_size`` pairs sᵢ = x_{i+1} − xᵢ, yᵢ = ∇f_{i+1} − ∇fᵢ (ρᵢ = 1/(yᵢᵀsᵢ),
    pairs with yᵀs ≤ 1e-10 skipped) and applies the inverse-Hessian estimate by the two-loop
    recursion:

        q ← −∇f;  for i newest→oldest: aᵢ = ρᵢ·sᵢᵀq;  q ← q − aᵢ·yᵢ
        r ← γ·q,  γ = sᵀy / yᵀy of the newest pair
        for i oldest→newest: bᵢ = ρᵢ·yᵢᵀr;  r ← r + (aᵢ − bᵢ)·sᵢ;      d = r
        x ← x + t·d,  t from strong Wolfe (line_search_fn="strong_wolfe") or t = lr (None)

    Args:
        params: the parameters (one group only).  lr: first trial step (default 1).
        max_iter: iterations per ``step`` (20).  max_eval: closure calls per ``step``
            (max_iter·5/4).  tolerance_grad: stop when max|∇f| ≤ it (1e-7).
        tolerance_change: stop when the loss or max|t·d| changes by less (1e-9).
        history_size: m, the pairs kept (100).  line_search_fn: "strong_wolfe" or None.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        super().__init__(params, dict(
            lr=lr, max_iter=max_iter, max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
            history_size=history_size, line_search_fn=line_search_fn))

    def _reset_memory(self, state: dict[str, Any]) -> None:
        state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)

    def _update_memory(self, state: dict[str, Any], s: np.ndarray, y: np.ndarray,
                       ys: float) -> None:
        if len(state["old_dirs"]) == self.param_groups[0]["history_size"]:
            for key in ("old_dirs", "old_stps", "ro"):
                state[key].pop(0)
        state["old_dirs"].append(y)
        state["old_stps"].append(s)
        state["ro"].append(1.0 / ys)
        state["H_diag"] = ys / float(y @ y)

    def _direction(self, state: dict[str, Any], g: np.ndarray) -> np.ndarray:
        ys_, ss_, ro = state["old_dirs"], state["old_stps"], state["ro"]
        al = [0.0] * len(ys_)
        q = -g
        for i in range(len(ys_) - 1, -1, -1):
            al[i] = float(ss_[i] @ q) * ro[i]
            q -= al[i] * ys_[i]
        r = q * state["H_diag"]
        for i in range(len(ys_)):
            be_i = float(ys_[i] @ r) * ro[i]
            r += (al[i] - be_i) * ss_[i]
        return r


class BFGS(_ClosureOptimizer):
    """BFGS with a dense inverse-Hessian estimate H, as scipy.optimize.minimize(method="BFGS").

        d = −H·∇f;  x ← x + t·d     t: strong Wolfe (c1, c2), first trial
                                         t₀ = min(lr, 1.01·2·(f_k − f_{k−1}) / ∇f·d)
        s = t·d,  y = ∇f_new − ∇f,  ρ = 1/(yᵀs)
        H ← (I − ρ·s·yᵀ)·H·(I − ρ·y·sᵀ) + ρ·s·sᵀ
        stop when max|∇f| ≤ tolerance_grad (SciPy's gtol), or ‖t·d‖ ≤ r·(r + ‖x‖) with
        r = tolerance_change (SciPy's xrtol, 0 by default)

    BFGS has no torch counterpart, so SciPy's semantics govern: H starts as I, unscaled, and the
    first trial step is 1.01/‖∇f‖₂ (capped by lr: f_{k−1} is taken as f + ‖∇f‖₂/2, so the first
    move has length about 1), then the step suggested by the last decrease. When the line search
    finds no strong-Wolfe step (or −H·∇f does not descend, H having lost positive definiteness to
    rounding), H is reset to I and the search retried once from the same point; if that fails
    too the step ends with ``status`` 2 (precision loss), the parameters at the last accepted
    point. A pair with yᵀs ≤ ε·‖y‖·‖s‖ (possible only without the Wolfe search) would make H
    indefinite, so it is skipped and noted in the history. ``status`` and ``message`` say why
    each ``step`` ended. State (H, the previous loss) carries over from one ``step`` to the next,
    so stepping repeatedly continues one run; once converged a ``step`` costs one closure call.

    Args:
        params: the parameters (one group).  lr: the largest first trial step (1).
        max_iter: iterations per ``step`` (20).  max_eval: closure calls per ``step``, checked
            between iterations so that a line search is never cut short (max_iter·5/4).
        tolerance_grad: gtol (1e-5).  tolerance_change: xrtol (0).
        c1, c2: the strong Wolfe constants (1e-4, 0.9).
        line_search_fn: "strong_wolfe" (default) or None (fixed step t = lr, no Wolfe guarantee).
    """

    _line_searches = ("strong_wolfe", None)
    #: Calls to the closure one line search may spend (SciPy's first search allows 100).
    line_search_max_evals = 50

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-5,
                 tolerance_change: float = 0.0, c1: float = 1e-4, c2: float = 0.9,
                 line_search_fn: str | None = "strong_wolfe") -> None:
        super().__init__(params, dict(
            lr=lr, max_iter=max_iter, max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change, c1=c1, c2=c2,
            line_search_fn=line_search_fn))

    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations; returns the loss at the starting point, as torch."""
        closure = self._check_closure(closure)
        self._check_edits()
        group = self.param_groups[0]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        gtol, xrtol = group["tolerance_grad"], group["tolerance_change"]
        state = self._state
        orig_loss, loss, g = self._start(closure)
        evals = 1
        if "H" not in state:
            self._reset_H()
            # SciPy's guess of the previous loss: makes the first trial step 1.01/‖∇f‖.
            state["prev_loss"] = loss + _norm(g) / 2
        n_iter = 0
        with no_grad():
            while True:
                if not (math.isfinite(loss) and np.isfinite(g).all()):
                    self._stop(3, NONFINITE)
                    break
                if np.abs(g).max() <= gtol:
                    self._stop(0, CONVERGED)
                    break
                if n_iter >= max_iter:
                    self._stop(1, MAXITER)
                    break
                # As torch's LBFGS: the budget is checked after an iteration, so each step moves.
                if n_iter and evals >= max_eval:
                    self._stop(1, MAXFEV)
                    break
                x = self._get_x()
                attempt = self._iterate(closure, x, loss, g)
                evals += attempt["func_evals"]
                state["func_evals"] += attempt["func_evals"]
                if attempt["step"] is None:
                    self._set_x(x)
                    self._record(iter=state["n_iter"] + 1, loss=loss,
                                 grad_norm=_norm(g), step=0.0, func_evals=attempt["func_evals"],
                                 message=attempt["message"])
                    self._stop(2, f"{PRECISION_LOSS} ({attempt['message']})")
                    break
                n_iter += 1
                state["n_iter"] += 1
                t, d, new_loss, new_g = attempt["step"], attempt["d"], attempt["loss"], attempt["g"]
                s = t * d
                self._set_x(x + s)
                message = attempt["message"]
                if math.isfinite(new_loss) and np.isfinite(new_g).all():
                    skipped = self._update_H(s, new_g - g)
                    if skipped:
                        message = ((message + "; ") if message else "") + skipped
                state["prev_loss"] = loss
                loss, g = new_loss, new_g
                self._record(iter=state["n_iter"], loss=loss, grad_norm=_norm(g), step=t,
                             func_evals=attempt["func_evals"], message=message)
                if np.abs(g).max() > gtol and _norm(s) <= xrtol * (xrtol + _norm(x + s)):
                    self._stop(0, f"{CONVERGED} (‖t·d‖ <= tolerance_change·(tolerance_change "
                                  "+ ‖x‖))")
                    break
        return orig_loss

    def _reset_H(self) -> None:
        self._state["H"] = np.eye(self._flat.size, dtype=np.float64)
        self._state["H_is_identity"] = True

    def _update_H(self, s: np.ndarray, y: np.ndarray) -> str | None:
        """The BFGS update of H from the pair (s, y); a message when the pair is skipped."""
        if not rules.bfgs_update(self._state["H"], s, y):
            ys = float(y.astype(np.float64) @ s.astype(np.float64))
            return f"skipped the update: curvature yᵀs = {ys:.3g} <= 0 (to rounding)"
        self._state["H_is_identity"] = False
        return None

    def _iterate(self, closure: Closure, x: np.ndarray, loss: float,
                 g: np.ndarray) -> dict[str, Any]:
        """One line search along −H·∇f (retried once with H = I when it fails): the accepted step
        t, direction d, loss and gradient there, the closure calls spent and a message. ``step``
        is None when no acceptable step was found."""
        group, state = self.param_groups[0], self._state
        fun = self._fun(closure)
        spent = 0
        notes: list[str] = []
        while True:
            d = rules.bfgs_direction(state["H"], g.astype(np.float64)).astype(self._dtype)
            gtd = float(g @ d)
            if group["line_search_fn"] is None:
                new_loss, new_g = fun(x + group["lr"] * d)
                return dict(step=float(group["lr"]), d=d, loss=new_loss, g=new_g,
                            func_evals=spent + 1, message=None)
            if gtd < 0:
                res = self._search(fun, x, d, loss, gtd, g)
                spent += res.n_evals
                if res.success and res.step > 0:
                    notes_text = "; ".join(notes) or None
                    return dict(step=res.step, d=d, loss=res.f, g=res.g, func_evals=spent,
                                message=notes_text)
                why = (f"the line search found no strong-Wolfe step in {res.n_evals} "
                       "evaluations")
            else:
                why = f"−H·∇f does not descend (∇f·d = {gtd:.3g})"
            if state["H_is_identity"]:
                notes.append(why)
                return dict(step=None, func_evals=spent, message="; ".join(notes))
            notes.append(f"{why}; reset the inverse Hessian to I and retried")
            self._reset_H()

    def _search(self, fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
                d: np.ndarray, loss: float, gtd: float, g: np.ndarray) -> LineSearchResult:
        group, state = self.param_groups[0], self._state
        lr = group["lr"]
        t0 = lr
        guess = 1.01 * 2 * (loss - state["prev_loss"]) / gtd
        if math.isfinite(guess) and guess > 0:
            t0 = min(lr, guess)

        def finite_fun(z: np.ndarray) -> tuple[float, np.ndarray]:
            # An overflow reads as +inf, so the search backs off instead of comparing NaNs.
            f, grad = fun(z)
            return (f, grad) if math.isfinite(f) else (math.inf, grad)

        scale = float(np.abs(d).max())
        # Stop shrinking the bracket once it moves x by less than rounding.
        tol = float(np.finfo(np.float64).eps) * (1.0 + float(np.abs(x).max()))
        return strong_wolfe(_Line(finite_fun, x, d), loss, gtd, t0, c1=group["c1"],
                            c2=group["c2"], tolerance_change=tol,
                            max_evals=self.line_search_max_evals, scale=scale, g0=g)
