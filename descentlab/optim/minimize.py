"""``minimize``: scipy.optimize.minimize's front door to every optimizer of the family.

    result = minimize(fun, x0, method="bfgs")      # fun: Tensor (n,) -> scalar Tensor

The gradient comes from autograd (or from ``jac``), Newton's Hessian from double backward (or from
``hess``); the run is the optimizer class's own ``step``, so ``minimize(..., method="bfgs")`` and
``BFGS([x]).step(closure)`` take the same path. The result has SciPy's fields and status codes.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from ..autograd import enable_grad, no_grad
from ..autograd.tensor import Tensor
from . import first_order, second_order
from .optimizer import Optimizer

__all__ = ["minimize", "OptimizeResult", "METHODS"]

_FIRST_ORDER: dict[str, type[Optimizer]] = {
    "sgd": first_order.SGD, "adagrad": first_order.Adagrad, "rmsprop": first_order.RMSprop,
    "adadelta": first_order.Adadelta, "adam": first_order.Adam, "adamw": first_order.AdamW,
    "adamax": first_order.Adamax, "nadam": first_order.NAdam, "radam": first_order.RAdam,
    "lion": first_order.Lion,
}
_SECOND_ORDER: dict[str, type[Optimizer]] = {
    "newton": second_order.Newton, "newton-cg": second_order.NewtonCG,
    "bfgs": second_order.BFGS, "l-bfgs": second_order.LBFGS,
}
#: Every method name ``minimize`` accepts (case-insensitive; "_" may stand for "-").
METHODS: tuple[str, ...] = (*_SECOND_ORDER, *_FIRST_ORDER)
_ALIASES = {"lbfgs": "l-bfgs", "newtoncg": "newton-cg"}
# The class arguments that minimize sets itself, from SciPy-named options.
_OWN = {"params", "max_iter", "max_eval", "tolerance_grad", "flat"}
_STOP_ITERATION = "`callback` raised `StopIteration`."


class OptimizeResult(dict):
    """The outcome of ``minimize``, as ``scipy.optimize.OptimizeResult``: a dict with attributes.

    Fields: x (the solution), fun (f there), jac (∇f there), nit (iterations), nfev / njev
    (evaluations of f / ∇f; every evaluation computes both), nhev (Hessians for "newton",
    Hessian-vector products for "newton-cg", else 0), status (0 converged, 1 iteration or
    evaluation limit, 2 line-search failure / precision loss, 3 non-finite value, 99 stopped by
    the callback), success (status == 0), message; "bfgs" adds hess_inv (its final H).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"OptimizeResult has no field {name!r}; it has "
                                 f"{', '.join(self)}") from None

    __setattr__ = dict.__setitem__  # type: ignore[assignment]
    __delattr__ = dict.__delitem__  # type: ignore[assignment]

    def __dir__(self) -> list[str]:
        return list(self)

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        width = max(map(len, self))
        lines = []
        for key, value in self.items():
            if isinstance(value, np.ndarray):
                text = np.array2string(value, precision=6, prefix=" " * (width + 2))
            else:
                text = value if isinstance(value, str) else repr(value)
            lines.append(f"{key:>{width}}: {text}")
        return "\n".join(lines)


def minimize(fun: Callable[[Tensor], Tensor], x0: Any, method: str = "bfgs",
             jac: Callable[[np.ndarray], Any] | None = None,
             hess: Callable[[np.ndarray], Any] | None = None, tol: float | None = None,
             callback: Callable[..., Any] | None = None,
             options: dict[str, Any] | None = None) -> OptimizeResult:
    """Minimize f(x) over a vector x from x0 with any optimizer of the family (SciPy's signature).

    Args:
        fun: maps a 1-D Tensor x to a scalar Tensor f(x), built from Tensor ops (autograd then
            gives ∇f, and for "newton" / "newton-cg" ∇²f). With ``jac`` it may return a number.
        x0: the start, array-like of shape (n,) (a scalar counts as n = 1), finite.
        method: "bfgs" (default, SciPy's BFGS), "l-bfgs" (torch's LBFGS with strong Wolfe),
            "newton", "newton-cg", or a first-order method: "sgd", "adagrad", "rmsprop",
            "adadelta", "adam", "adamw", "adamax", "nadam", "radam", "lion".
        jac: x (a NumPy array) -> ∇f(x), instead of autograd.
        hess: x (a NumPy array) -> ∇²f(x) as an (n, n) array, for "newton" / "newton-cg"
            instead of double backward.
        tol: the gradient tolerance gtol (stop when max|∇f| ≤ gtol), unless options set gtol.
        callback: called after each iteration, as SciPy: ``callback(intermediate_result)`` (an
            OptimizeResult with x and fun) if its one parameter is named so, else
            ``callback(xk)``; raising StopIteration ends the run (status 99).
        options: ``maxiter`` (default 200·n; 15000 for "l-bfgs"; 10000 for first order),
            ``maxfev`` (closure calls; unlimited for "bfgs", else 5/4·maxiter as torch),
            ``gtol`` (1e-5), and any argument of the method's class (``lr``, ``momentum``,
            ``betas``, ``history_size``, ``line_search_fn``, ``tolerance_change``, ``damping``,
            ``cg_max_iter``, ``c1``, ``c2``, ...).

    Returns:
        an OptimizeResult (see its docstring). The parameters are float64 (float32 when x0 is).
    """
    name = _method_name(method)
    cls = _SECOND_ORDER.get(name) or _FIRST_ORDER[name]
    start = _start_point(x0)
    n = start.size
    settings = _settings(name, cls, n, tol, options)
    if jac is not None and not callable(jac):
        raise TypeError(f"minimize: jac must be a callable x -> ∇f(x) or None (autograd), got "
                        f"{type(jac).__name__}")
    if hess is not None:
        if not callable(hess):
            raise TypeError(f"minimize: hess must be a callable x -> ∇²f(x) or None, got "
                            f"{type(hess).__name__}")
        if name not in ("newton", "newton-cg"):
            warnings.warn(f"minimize: method {name!r} does not use Hessian information (hess)",
                          RuntimeWarning, stacklevel=2)
    elif jac is not None and name in ("newton", "newton-cg"):
        raise ValueError(f"minimize: method {name!r} needs second derivatives, which autograd "
                         "cannot take through a jac callable; pass hess=callable returning the "
                         "(n, n) Hessian, or leave jac=None so autograd gives both")

    x = Tensor(start.copy(), requires_grad=True, dtype=start.dtype)
    problem = _Problem(fun, jac, x)
    opt = cls([x], **settings["init"])
    if hess is not None and name in ("newton", "newton-cg"):
        opt._hess_fn = problem.hessian(hess)

    def closure() -> Any:
        opt.zero_grad()
        return problem.evaluate()

    report = _callback(callback, x)
    stopped = False
    try:
        if name in _SECOND_ORDER:
            if report is not None:
                opt._on_iteration = lambda entry: report(entry["loss"])
            opt.step(closure)
            status, message = opt.status, opt.message
            nit = opt._state.get("n_iter", 0)
        else:
            status, message, nit = _first_order(opt, closure, problem, settings, report)
    except StopIteration:
        stopped = True
    if stopped:
        status, message = 99, _STOP_ITERATION
        nit = opt._state.get("n_iter", 0) if name in _SECOND_ORDER else problem.iterations
    f, g = problem.final()
    result = OptimizeResult(message=message, success=status == 0, status=status, fun=f,
                            x=x.detach().numpy().copy(), nit=int(nit), jac=g)
    if name == "bfgs":
        result["hess_inv"] = opt._state["H"].copy()
    hess_evals = opt._state.get("hess_evals", 0) if name in _SECOND_ORDER else 0
    result.update(nfev=problem.nfev, njev=problem.nfev, nhev=int(hess_evals))
    return result


def _method_name(method: Any) -> str:
    if not isinstance(method, str):
        raise TypeError(f"minimize: method must be a string, one of {', '.join(METHODS)}; got "
                        f"{type(method).__name__}")
    name = method.strip().lower().replace("_", "-")
    name = _ALIASES.get(name, name)
    if name not in METHODS:
        raise ValueError(f"minimize: unknown method {method!r}; choose one of "
                         f"{', '.join(METHODS)}")
    return name


def _start_point(x0: Any) -> np.ndarray:
    if isinstance(x0, Tensor):
        x0 = x0.detach().numpy()
    try:
        arr = np.atleast_1d(np.asarray(x0))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"minimize: x0 must be a 1-D array of numbers; {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"minimize: x0 must be a 1-D array of real numbers, got dtype "
                         f"{arr.dtype}; pass e.g. x0=[-1.2, 1.0]")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"minimize: x0 must have one dimension of size n >= 1, got shape "
                         f"{arr.shape}; flatten it (fun can reshape x inside)")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"minimize: x0 must be finite, but x0[{bad[0]}] = {arr[bad[0]]}; start "
                         "from a finite point")
    return arr.astype(np.float32 if arr.dtype == np.float32 else np.float64)


def _settings(name: str, cls: type[Optimizer], n: int, tol: float | None,
              options: dict[str, Any] | None) -> dict[str, Any]:
    """The class arguments ("init") and loop limits from SciPy-style tol / options."""
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise TypeError(f"minimize: options must be a dict, got {type(options).__name__}")
    class_args = [p for p in inspect.signature(cls.__init__).parameters
                  if p not in _OWN and p != "self"]
    valid = ["maxiter", "maxfev", "gtol", *class_args]
    unknown = [k for k in options if k not in valid]
    if unknown:
        raise ValueError(f"minimize: unknown option(s) {', '.join(map(repr, unknown))} for "
                         f"method {name!r}; valid options: {', '.join(valid)}")
    default_maxiter = 15000 if name == "l-bfgs" else 200 * n if name in _SECOND_ORDER else 10000
    maxiter = options.get("maxiter", default_maxiter)
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"minimize: options['maxiter'] must be an integer >= 1, got {maxiter!r}")
    gtol = options.get("gtol", 1e-5 if tol is None else tol)
    for key, value in (("tol", tol), ("options['gtol']", gtol)):
        if value is not None and not (isinstance(value, (int, float, np.number))
                                      and math.isfinite(value) and value >= 0):
            raise ValueError(f"minimize: {key} must be a finite number >= 0, got {value!r}")
    default_maxfev = (2**62 if name == "bfgs" else max(1, maxiter * 5 // 4))
    maxfev = options.get("maxfev", default_maxfev)
    if isinstance(maxfev, bool) or not isinstance(maxfev, (int, np.integer)) or maxfev < 1:
        raise ValueError(f"minimize: options['maxfev'] must be an integer >= 1, got {maxfev!r}")
    init = {k: v for k, v in options.items() if k in class_args}
    if name in _SECOND_ORDER:
        init.update(max_iter=int(maxiter), max_eval=int(maxfev), tolerance_grad=float(gtol))
        if name == "l-bfgs":
            init.setdefault("line_search_fn", "strong_wolfe")
    return {"init": init, "maxiter": int(maxiter), "maxfev": int(maxfev), "gtol": float(gtol)}


class _Problem:
    """f and ∇f at the parameter x through ``fun`` (and ``jac``), counted, with the last few
    evaluations remembered so the result reuses them instead of evaluating again."""

    _remembered = 64

    def __init__(self, fun: Callable[[Tensor], Any], jac: Callable[[np.ndarray], Any] | None,
                 x: Tensor) -> None:
        if not callable(fun):
            raise TypeError(f"minimize: fun must be a callable Tensor -> scalar Tensor, got "
                            f"{type(fun).__name__}")
        self.fun, self.jac, self.x = fun, jac, x
        self.nfev = 0
        self.iterations = 0
        self._seen: OrderedDict[bytes, tuple[float, np.ndarray]] = OrderedDict()
        self._hessians: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def evaluate(self) -> Any:
        """The closure's work: f(x) with x.grad = ∇f(x); returns f as fun returned it."""
        x = self.x
        self.nfev += 1
        if self.jac is None:
            with enable_grad():
                f = self.fun(x)
            self._check_value(f, needs_graph=True)
            f.backward()
            g = x.grad.detach().numpy() if x.grad is not None else np.zeros(x.shape, x.dtype)
        else:
            with no_grad():
                f = self.fun(x.detach())
            self._check_value(f, needs_graph=False)
            g = np.asarray(self.jac(x.detach().numpy().copy()), dtype=x.dtype)
            if g.shape != tuple(x.shape):
                g = self._reshape(g, "jac", "∇f(x)", tuple(x.shape))
            x.grad = Tensor(g.copy())
        self._remember(float(f), g.copy())
        return f

    def _check_value(self, f: Any, needs_graph: bool) -> None:
        if isinstance(f, Tensor):
            if f.numel() != 1:
                raise ValueError(f"minimize: fun must return a scalar, but it returned a Tensor "
                                 f"of shape {tuple(f.shape)}; reduce it, e.g. with .sum()")
            if needs_graph and not f.requires_grad:
                raise ValueError("minimize: fun's result does not depend on x through Tensor "
                                 "ops (it carries no gradient graph), so autograd cannot give "
                                 "∇f; build it from x's Tensor ops (no .numpy(), no float()) or "
                                 "pass jac=")
            return
        if needs_graph:
            raise ValueError(f"minimize: fun returned a {type(f).__name__}, not a Tensor, so "
                             "autograd cannot give ∇f; build f from Tensor ops on its argument "
                             "(e.g. (x ** 2).sum()), or pass jac= with the gradient")
        if np.ndim(f) != 0 and np.size(f) != 1:
            raise ValueError(f"minimize: fun must return a scalar, got shape {np.shape(f)}")
        try:
            float(f)
        except (TypeError, ValueError):
            raise ValueError(f"minimize: fun must return a number or a scalar Tensor, got "
                             f"{type(f).__name__}") from None

    @staticmethod
    def _reshape(a: np.ndarray, who: str, what: str, shape: tuple[int, ...]) -> np.ndarray:
        if a.size != math.prod(shape):
            raise ValueError(f"minimize: {who} returned shape {a.shape}, but {what} must have "
                             f"shape {shape}")
        return a.reshape(shape)

    def _remember(self, f: float, g: np.ndarray) -> None:
        self._seen[self.x.detach().numpy().tobytes()] = (f, g)
        while len(self._seen) > self._remembered:
            self._seen.popitem(last=False)

    def final(self) -> tuple[float, np.ndarray]:
        """f and ∇f at the final x: remembered, or evaluated (and counted) once more."""
        key = self.x.detach().numpy().tobytes()
        if key not in self._seen:
            self.x.grad = None
            self.evaluate()
        return self._seen[key]

    def hessian(self, hess: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], np.ndarray]:
        """hess as Newton's ``_hess_fn``, checked and remembered per point (Newton-CG asks at
        the same x once per CG iteration)."""
        n = self.x.numel()

        def hessian_at(x: np.ndarray) -> np.ndarray:
            key = x.tobytes()
            if key not in self._hessians:
                H = np.asarray(hess(x.copy()), dtype=np.float64)
                if H.shape != (n, n):
                    H = self._reshape(H, "hess", "∇²f(x)", (n, n))
                self._hessians[key] = H
                while len(self._hessians) > 2:
                    self._hessians.popitem(last=False)
            return self._hessians[key]

        return hessian_at


def _callback(callback: Callable[..., Any] | None, x: Tensor) -> Callable[[Any], None] | None:
    """SciPy's two callback styles as one function of the current loss."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"minimize: callback must be callable, got {type(callback).__name__}")
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = []
    new_style = params == ["intermediate_result"]

    def report(loss: Any) -> None:
        xk = x.detach().numpy().copy()
        if new_style:
            callback(intermediate_result=OptimizeResult(
                x=xk, fun=None if loss is None else float(loss)))
        else:
            callback(xk)

    return report


def _first_order(opt: Optimizer, closure: Callable[[], Any], problem: _Problem,
                 settings: dict[str, Any], report: Callable[[Any], None] | None
                 ) -> tuple[int, str, int]:
    """Steps of a first-order method until max|∇f| ≤ gtol, maxiter steps or maxfev calls."""
    x = opt.param_groups[0]["params"][0]
    while True:
        loss = float(closure())
        g = x.grad.detach().numpy()
        if report is not None and problem.iterations:
            report(loss)  # the step's result, now that f is known there
        if not (math.isfinite(loss) and np.isfinite(g).all()):
            return 3, second_order.NONFINITE, problem.iterations
        if np.abs(g).max() <= settings["gtol"]:
            return 0, second_order.CONVERGED, problem.iterations
        if problem.iterations >= settings["maxiter"]:
            return 1, second_order.MAXITER, problem.iterations
        if problem.nfev >= settings["maxfev"]:
            return 1, second_order.MAXFEV, problem.iterations
        opt.step()
        problem.iterations += 1
