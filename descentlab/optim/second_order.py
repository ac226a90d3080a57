"""Second-order and quasi-Newton methods: Newton, NewtonCG, BFGS, LBFGS.

All four are closure-driven, as ``torch.optim.LBFGS``: ``step(closure)`` runs up to ``max_iter``
iterations, calling the closure (zero the gradients, recompute the loss, call ``backward``, return
the loss) whenever it needs f and ∇f at a new point. The parameters are seen as one flat vector x
(in their common dtype), so each method is plain vector algebra on NumPy arrays; the line searches
are the public ones in ``descentlab.optim.line_search``.

Newton and NewtonCG need second derivatives, which come from double backward: they run the
closure inside ``backward_creates_graph()``, so its plain ``loss.backward()`` leaves ``p.grad``
differentiable. The same closure works for all four methods.

Every iteration appends a record to ``optimizer.history`` (kept in ``state``, so it survives
``state_dict``): ``iter``, ``loss`` and ``grad_norm`` (‖∇f‖₂) at the point reached, ``step`` (the
accepted α), ``func_evals`` and ``grad_evals`` spent (each closure call computes both), and
``message`` when something noteworthy happened (an indefinite Hessian, a skipped update, ...).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import enable_grad, no_grad
from ..autograd.function import backward_creates_graph
from ..autograd.functional import gradient_hvp
from ..autograd.tensor import Tensor
from . import second_order_rules as rules
from .flat import FlatParameters
from .line_search import LineSearchResult, armijo, strong_wolfe
from .optimizer import Optimizer, Range

__all__ = ["Newton", "NewtonCG", "BFGS", "LBFGS"]

Closure = Callable[[], Any]

# SciPy's stop messages, for the codes of ``status`` (see _ClosureOptimizer.status).
CONVERGED = "Optimization terminated successfully."
MAXITER = "Maximum number of iterations has been exceeded."
MAXFEV = "Maximum number of function evaluations has been exceeded."
PRECISION_LOSS = "Desired error not necessarily achieved due to precision loss."
NONFINITE = "NaN result encountered."


class _ClosureOptimizer(Optimizer):
    """Plumbing shared by the closure-driven methods: one flat vector for all parameters.

    Like torch's LBFGS they accept a single parameter group and keep their whole state under the
    first parameter (``state[params[0]]``), which ``state_dict`` then saves and restores.
    """

    _line_searches: tuple = ("armijo", "strong_wolfe", None)
    _ranges = {"lr": Range(), "tolerance_grad": Range(), "tolerance_change": Range(),
               "max_iter": Range(1, integer=True), "max_eval": Range(1, integer=True),
               "history_size": Range(1, integer=True), "damping": Range(),
               "cg_max_iter": Range(1, integer=True, none_ok=True),
               "c1": Range(0.0, 1.0, open_low=True, open_high=True),
               "c2": Range(0.0, 1.0, open_low=True, open_high=True)}

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if defaults["line_search_fn"] not in self._line_searches:
            raise ValueError(f"{type(self).__name__}: line_search_fn="
                             f"{defaults['line_search_fn']!r} is not one of "
                             f"{self._line_searches}")
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__} doesn't support per-parameter options "
                             "(parameter groups); pass a single iterable of parameters")
        self._params = self.param_groups[0]["params"]
        self._flat = FlatParameters(self._params)
        self._dtype = self._flat.dtype

    @property
    def status(self) -> int | None:
        """Why the last ``step`` ended, with SciPy's codes: 0 converged, 1 iteration or
        evaluation limit, 2 line-search failure (precision loss), 3 non-finite value; None before
        the first step."""
        return self._state.get("status")

    @property
    def message(self) -> str | None:
        """The last ``step``'s stop reason in words (SciPy's wording where it has one)."""
        return self._state.get("message")

    def _stop(self, status: int, message: str) -> None:
        self._state.update(status=status, message=message)

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per-iteration records (see the module docstring), oldest first, across all steps."""
        return self._state.setdefault("history", [])

    @property
    def _state(self) -> dict[str, Any]:
        return self.state[self._params[0]]

    def _check_values(self, values: dict[str, Any], where: str) -> None:
        super()._check_values(values, where)
        if "c1" in values and not values["c1"] < values["c2"]:
            raise ValueError(f"{type(self).__name__}{where}: the strong Wolfe conditions need "
                             f"c1 < c2, got c1={values['c1']}, c2={values['c2']}; pass e.g. "
                             "c1=1e-4, c2=0.9")

    def _check_closure(self, closure: Closure | None) -> Closure:
        if closure is None:
            raise ValueError(
                f"{type(self).__name__}.step() needs a closure: pass a function that zeroes the "
                "gradients, recomputes the loss, calls loss.backward() and returns the loss, e.g. "
                "def closure(): opt.zero_grad(); loss = model_loss(); loss.backward(); return loss")
        return closure

    def _get_x(self) -> np.ndarray:
        return self._flat.get()

    def _set_x(self, x: np.ndarray) -> None:
        self._flat.set(x)

    def _flat_grad(self) -> np.ndarray:
        return self._flat.grad()

    def _start(self, closure: Closure) -> tuple[Any, float, np.ndarray]:
        """Begin a ``step``: the closure's loss (returned by ``step``, as torch), f and ∇f at the
        current parameters; counts that closure call."""
        state = self._state
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        state["func_evals"] += 1
        return orig_loss, float(orig_loss), self._flat_grad()

    def _evaluate(self, closure: Closure) -> tuple[float, np.ndarray]:
        """f and ∇f at the parameters' current values (one closure call)."""
        with enable_grad():
            loss = closure()
        return float(loss), self._flat_grad()

    def _fun(self, closure: Closure) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """x -> (f(x), ∇f(x)) through the closure; leaves the parameters at x."""

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            self._set_x(x)
            return self._evaluate(closure)

        return fun

    def _record(self, **entry: Any) -> None:
        entry["grad_evals"] = entry["func_evals"]
        self.history.append(entry)
        # optim.minimize's per-iteration callback, for the iterations that moved x; it may raise
        # StopIteration to end the run.
        hook = getattr(self, "_on_iteration", None)
        if hook is not None and entry["step"] > 0:
            hook(entry)


def _norm(g: np.ndarray) -> float:
    return float(np.linalg.norm(g))


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


class _Line:
    """φ(α) = f(x + α·d) -> (φ(α), φ'(α), ∇f(x + α·d)) through ``fun``; remembers the last α.

    The point is formed as x + α·d, the same arithmetic as torch's ``p.add_(d, alpha=α)``.
    """

    def __init__(self, fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
                 d: np.ndarray) -> None:
        self.fun, self.x, self.d = fun, x, d
        self.last: float | None = None

    def __call__(self, alpha: float) -> tuple[float, float, np.ndarray]:
        self.last = alpha
        f, g = self.fun(self.x + alpha * self.d)
        return f, float(g @ self.d), g


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
        self._stop(1, MAXITER)
        for _ in range(max_iter):
            if not (math.isfinite(loss) and np.isfinite(g).all()):
                self._stop(3, NONFINITE)
                break
            d, model_slope, message = self._direction(g)
            if d is None:
                self._stop(0, CONVERGED)
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
                self._stop(2, f"{PRECISION_LOSS} ({message})")
                break
            if np.abs(res.step * d).max() <= tolerance_change:
                self._stop(0, f"{CONVERGED} (max|α·d| <= tolerance_change)")
                break
            if abs(loss - prev_loss) < tolerance_change:
                self._stop(0, f"{CONVERGED} (loss change < tolerance_change)")
                break
            # As torch's LBFGS: the budget is checked after an iteration, so max_iter=1 moves.
            if current_evals >= max_eval:
                self._stop(1, MAXFEV)
                break
        else:
            # The last iteration may have reached the minimizer: say so rather than "max iter".
            if math.isfinite(loss) and np.abs(g).max() <= group["tolerance_grad"]:
                self._stop(0, CONVERGED)
        if not math.isfinite(loss):
            self._stop(3, NONFINITE)
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
