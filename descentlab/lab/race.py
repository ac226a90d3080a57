"""Optimizer races on a 2-D landscape: several optimizers from one start, each with a verdict.

A race is what the playground's left panel shows: one start point, any number of optimizers from
the whole family (each with its own hyperparameters), their paths, losses and a verdict each. The
first-order rules, Newton and BFGS run through :func:`~descentlab.lab.trajectories.run_trajectories`
(the optim update rules on a batch of one start); Newton-CG and L-BFGS, which the batched runner
does not carry, run through ``descentlab.optim.NewtonCG`` / ``LBFGS`` with ``max_iter=1``, so one
``step(closure)`` is one iteration, exactly as with ``torch.optim.LBFGS`` (L-BFGS with its strong
Wolfe line search).

A first-order racer may also carry a learning-rate ``schedule`` ("step", "exponential" or
"cosine"); the batched runner keeps α fixed, so a scheduled racer runs through its
``descentlab.optim`` class (same rule, same defaults) with a ``descentlab.optim.lr_scheduler``
stepped after every update.

Verdict of a run: "converged" (‖∇f‖ < gtol to the end), "diverged" (left the divergence radius or
turned non-finite), else the lab's path classes (``analysis`` lr sweep): "oscillating",
"monotone" (still descending when the steps ran out), "too_slow" or "diverging".
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .analysis import _classify_path
from .functions import Landscape
from .trajectories import OPTIMIZERS as FIRST_ORDER
from .trajectories import run_trajectories

__all__ = ["RACE_OPTIMIZERS", "SCHEDULES", "RaceRun", "hyperparameter_defaults", "race"]

#: Optimizers that run through descentlab.optim's closure-driven classes, one iteration per step.
CLOSURE_OPTIMIZERS: dict[str, str] = {"newton_cg": "NewtonCG", "lbfgs": "LBFGS"}
#: Learning-rate schedules a first-order racer accepts (over a run of T steps): "step" halves α
#: every T/4 steps, "exponential" multiplies it by 0.01^(1/T) per step (α/100 at the end),
#: "cosine" anneals it to 0 over T.
SCHEDULES: tuple[str, ...] = ("none", "step", "exponential", "cosine")
#: The descentlab.optim class of each first-order lab name (its defaults are the lab's).
_CLASSES: dict[str, str] = {
    "gd": "SGD", "sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad",
    "rmsprop": "RMSprop", "adadelta": "Adadelta", "adam": "Adam", "adamw": "AdamW",
    "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam", "lion": "Lion"}
#: Steps per call of the lab runner in a Newton race (see ``_newton_run``).
NEWTON_CHUNK = 16
#: Closure racers' ``tolerance_change``: far below torch's 1e-9, so they are not stopped early.
TOLERANCE_CHANGE = 1e-15
#: Every optimizer a race accepts: the batched lab ones, then the closure-driven ones.
RACE_OPTIMIZERS: tuple[str, ...] = (*FIRST_ORDER, "newton", "bfgs", *CLOSURE_OPTIMIZERS)


@dataclass
class RaceRun:
    """One optimizer's run in a race.

    Attributes:
        optimizer: its name.  hyperparameters: what it ran with (defaults filled in).
        positions: (steps+1, 2) the path (shorter when it diverged: it stops there).
        losses / grad_norms: f and ‖∇f‖ along the path.
        verdict: see the module docstring.  steps_to_converge: first step from which ‖∇f‖ < gtol
            held to the end (−1: never).
    """

    optimizer: str
    hyperparameters: dict[str, Any]
    positions: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    verdict: str
    steps_to_converge: int


def hyperparameter_defaults(optimizer: str) -> dict[str, Any]:
    """The hyperparameters ``optimizer`` takes in a race, with their default values.

    First-order ones come from the signature of their rule in ``descentlab.optim.rules`` plus the
    lab's defaults (torch's); Newton/BFGS from the lab runner; Newton-CG/L-BFGS from optim.
    """
    from .. import optim
    from ..optim import rules

    name = optimizer.lower()
    if name in FIRST_ORDER:
        rule_name, defaults = FIRST_ORDER[name]
        params = inspect.signature(getattr(rules, rule_name)).parameters
        out = {k: p.default for k, p in params.items()
               if k not in ("param", "grad", "state", "scratch", "maximize")
               and p.default is not inspect.Parameter.empty}
        out.update(defaults)
        return out
    if name == "newton":
        return {"lr": 1.0, "damping": 0.0}
    if name == "bfgs":
        return {"lr": 1.0, "c1": 1e-4}
    if name in CLOSURE_OPTIMIZERS:
        params = inspect.signature(getattr(optim, CLOSURE_OPTIMIZERS[name])).parameters
        return {"lr": params["lr"].default}
    raise ValueError(f"unknown optimizer {optimizer!r}; valid: {', '.join(RACE_OPTIMIZERS)}")


def _closure_run(function: Landscape, start: np.ndarray, name: str, steps: int,
                 divergence_radius: float, hyper: dict[str, Any]) -> np.ndarray:
    """The path of an optim closure optimizer, one iteration per step (stops once diverged)."""
    from .. import optim
    from ..autograd.creation import tensor
    from ..nn.parameter import Parameter

    unknown = set(hyper) - {"lr"}
    if unknown:
        raise ValueError(f"{name} takes lr, not {', '.join(sorted(unknown))}")
    p = Parameter(tensor(start, dtype=np.float64))
    # max_iter=1 makes a step one iteration; the line search still gets torch's default budget
    # of evaluations (max_iter·5/4 would leave it a single one); a tolerance on the change near
    # rounding keeps it going until ‖∇f‖ reaches its own tolerance, as the batched runs do (0
    # would let the line search shrink its bracket to nothing and divide by zero).
    # L-BFGS's raw step (lr·d) overshoots far from a minimum; the race gives it strong Wolfe.
    search = {"line_search_fn": "strong_wolfe"} if name == "lbfgs" else {}
    opt = getattr(optim, CLOSURE_OPTIMIZERS[name])(
        [p], max_iter=1, max_eval=25, tolerance_change=TOLERANCE_CHANGE, **search, **hyper)

    def closure() -> Any:
        opt.zero_grad()
        loss = function(p)
        loss.backward()
        return loss

    path = [start.copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            opt.step(closure)
            x = p.detach().numpy().copy()
            path.append(x)
            if not (np.all(np.isfinite(x)) and float(x @ x) <= divergence_radius ** 2):
                break
    return np.array(path)


def _scheduler(schedule: str, optimizer: Any, steps: int) -> Any:
    from ..optim import lr_scheduler

    t = max(steps, 1)
    if schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, t // 4), gamma=0.5)
    if schedule == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=0.01 ** (1.0 / t))
    if schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=t)
    raise ValueError(f"unknown schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")


def _scheduled_run(function: Landscape, start: np.ndarray, name: str, steps: int,
                   divergence_radius: float, hyper: dict[str, Any], schedule: str) -> np.ndarray:
    """A first-order racer through its optim class, with ``schedule`` stepped every update."""
    from .. import optim
    from ..autograd.creation import tensor
    from ..nn.parameter import Parameter

    defaults = hyperparameter_defaults(name)
    unknown = sorted(set(hyper) - set(defaults))
    if unknown:
        raise ValueError(f"{name} does not take {', '.join(unknown)}; it takes: "
                         f"{', '.join(defaults)}")
    kwargs = {**defaults, **hyper}
    if "beta1" in kwargs:
        kwargs["betas"] = (kwargs.pop("beta1"), kwargs.pop("beta2"))
    if name == "adamw":
        kwargs.pop("decoupled_weight_decay")  # AdamW is Adam with it switched on
    p = Parameter(tensor(start, dtype=np.float64))
    opt = getattr(optim, _CLASSES[name])([p], **kwargs)
    sched = _scheduler(schedule, opt, steps)
    path = [start.copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            opt.zero_grad()
            function(p).backward()
            opt.step()
            sched.step()
            x = p.detach().numpy().copy()
            path.append(x)
            if not (np.all(np.isfinite(x)) and float(x @ x) <= divergence_radius ** 2):
                break
    return np.array(path)


def _newton_run(function: Landscape, start: np.ndarray, steps: int, gtol: float,
                divergence_radius: float, hyper: dict[str, Any]) -> np.ndarray:
    """Newton's path through the lab runner, in chunks, ending early once it repeats.

    A Newton step depends on the current point only (no state), so once the path returns to a
    point it visited p steps earlier (p = 1: a fixed point, as after convergence; p = 2: a
    rounding 2-cycle) it repeats with period p for ever: the rest of the path is copied instead of
    recomputed — the same numbers, without a Hessian per remaining step.
    """
    path = [start.copy()]
    while len(path) <= steps:
        n = min(NEWTON_CHUNK, steps + 1 - len(path))
        run = run_trajectories(function, path[-1], "newton", n, gtol=gtol,
                               divergence_radius=divergence_radius, **hyper)
        cut = run.steps_to_diverge[0]
        path.extend(run.positions[0, 1: cut + 1 if cut >= 0 else None])
        if cut >= 0:
            break
        period = next((p for p in (1, 2) if len(path) > p
                       and np.array_equal(path[-1], path[-1 - p])), None)
        if period is not None:
            while len(path) <= steps:
                path.append(path[-period])
    return np.array(path)


def race(function: Landscape, start: Sequence[float],
         optimizers: Sequence[tuple[str, dict[str, Any]]], steps: int = 200, *,
         gtol: float = 1e-6, divergence_radius: float = 1e6) -> list[RaceRun]:
    """Run each ``(name, hyperparameters)`` of ``optimizers`` from ``start`` for ``steps`` steps.

    Args:
        function: a 2-D (or any-d) landscape.
        start: the common start point.
        optimizers: e.g. ``[("adam", {"lr": 0.1}), ("newton", {"damping": 1.0})]``; names from
            :data:`RACE_OPTIMIZERS`, hyperparameters as :func:`hyperparameter_defaults` lists,
            plus ``schedule`` (one of :data:`SCHEDULES`) for first-order ones.
        steps: iterations per optimizer.
        gtol: ‖∇f‖ below which a run counts as converged.
        divergence_radius: ‖x‖ beyond which a run counts as diverged (and stops).

    Raises:
        ValueError: naming the optimizer and the bad or unknown hyperparameter.
    """
    x0 = np.asarray(start, dtype=np.float64)
    if x0.shape != (function.dim,):
        raise ValueError(f"start must have {function.dim} coordinates, got {list(np.shape(x0))}")
    runs = []
    for name, hyper in optimizers:
        key = name.lower()
        if key not in RACE_OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(RACE_OPTIMIZERS)}")
        hyper = dict(hyper)
        schedule = hyper.pop("schedule", "none")
        if schedule != "none":
            if key not in _CLASSES:
                raise ValueError(f"{key}: a learning-rate schedule applies to first-order "
                                 f"methods ({', '.join(_CLASSES)}), not to {key}")
            path = _scheduled_run(function, x0, key, steps, divergence_radius, hyper, schedule)
        elif key in CLOSURE_OPTIMIZERS:
            path = _closure_run(function, x0, key, steps, divergence_radius, hyper)
        elif key == "newton":
            path = _newton_run(function, x0, steps, gtol, divergence_radius, hyper)
        else:
            run = run_trajectories(function, x0, key, steps, gtol=gtol,
                                   divergence_radius=divergence_radius, **hyper)
            cut = run.steps_to_diverge[0]
            path = run.positions[0, : (cut + 1 if cut >= 0 else None)]
        with np.errstate(all="ignore"):
            losses, grads = function.value_and_grad(path)
            gn = np.sqrt((grads * grads).sum(-1))
        diverged = not (np.all(np.isfinite(path[-1])) and np.all(np.isfinite(losses))
                        and float(path[-1] @ path[-1]) <= divergence_radius ** 2)
        above = np.nonzero(~(gn < gtol))[0]
        last_above = int(above[-1]) if above.size else -1
        converged = not diverged and last_above < len(path) - 1
        if diverged:
            verdict = "diverged"
        elif converged:
            verdict = "converged"
        else:
            # The gap to the best point seen keeps the lab's classes meaningful on any landscape.
            best = min(m.value for m in function.minima) if function.minima else losses.min()
            verdict = _classify_path(path, losses - best, 1e-6)
        defaults = hyperparameter_defaults(key)
        if schedule != "none":
            hyper["schedule"] = schedule
        runs.append(RaceRun(key, {**defaults, **hyper}, path, losses, gn, verdict,
                            last_above + 1 if converged else -1))
    return runs
