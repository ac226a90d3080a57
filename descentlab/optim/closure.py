"""The closure-driven optimizers' common ground: parameters as one flat vector, stop codes, history.

Newton, NewtonCG, BFGS and LBFGS (see ``second_order``) all run as ``torch.optim.LBFGS``:
``step(closure)`` runs up to ``max_iter`` iterations, calling the closure whenever it needs f and
∇f at a new point. ``_ClosureOptimizer`` holds what they share: the flat view of the parameters
(``optim.flat``), SciPy's stop codes and messages, the per-iteration ``history``, and ``_Line``,
the slice φ(α) = f(x + α·d) the line searches walk along.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import enable_grad
from .flat import FlatParameters
from .optimizer import Optimizer, Range

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
