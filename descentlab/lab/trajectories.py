"""Optimizer trajectories from K start points at once, vectorized over K.

The K points are one (K, d) array X. Because Σₖ f(xₖ) separates over k, one backward pass of that
sum gives all K gradients (a (K, d) array G), and the first-order update rules of
``descentlab.optim.rules`` (pure functions on arrays of any shape) then move every start in one
call: the lab runs exactly the math of ``descentlab.optim``'s classes, never a copy of it.

Second-order methods run ``descentlab.optim.second_order_rules`` (the math of optim's Newton and
BFGS classes) on (K, d, d) stacks:

    Newton:  x ← x − lr·(H + μI)⁻¹∇f        H from d Hessian-row passes (one per coordinate);
                                           pure Newton: no shift where H + μI is indefinite
    BFGS:    x ← x + t·p, p = −Hinv·∇f,      t by batched Armijo backtracking (halving from lr)
             Hinv ← (I − ρsyᵀ)·Hinv·(I − ρysᵀ) + ρssᵀ,  ρ = 1/yᵀs   (skipped when yᵀs ≤ 0)

Every start ends with a status: "converged" (‖∇f‖ < gtol from some step to the end), "diverged"
(non-finite, or ‖x‖ beyond ``divergence_radius``; the point is frozen there) or "max_steps".
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..optim import second_order_rules
from ..optim.line_search import armijo_batched
from .functions import Landscape

__all__ = ["Trajectories", "run_trajectories", "OPTIMIZERS", "batched_hessian",
           "newton_direction", "grid_starts"]

SECOND_ORDER = ("newton", "bfgs")


@dataclass
class Trajectories:
    """The paths of K starts under one optimizer.

    Attributes:
        positions: (K, R, d) points at the recorded steps (R = steps + 1 with record_every=1).
        losses: (K, R) f at those points.  grad_norms: (K, R) ‖∇f‖₂ there.
        recorded_steps: (R,) the step index of each record (0 = the start; the last step is
            always recorded).
        status: (K,) "converged" / "diverged" / "max_steps".
        steps_to_converge: (K,) first step from which ‖∇f‖ < gtol held to the end (−1: never).
        steps_to_diverge: (K,) step at which the start was declared diverged (−1: never).
        final_positions / final_losses / final_grad_norms: the state after the last step.
    """

    function: Landscape
    optimizer: str
    hyperparameters: dict[str, Any]
    positions: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    recorded_steps: np.ndarray
    status: np.ndarray
    steps_to_converge: np.ndarray
    steps_to_diverge: np.ndarray
    final_positions: np.ndarray
    final_losses: np.ndarray
    final_grad_norms: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_starts(self) -> int:
        return self.final_positions.shape[0]

    def counts(self) -> dict[str, int]:
        """How many starts ended in each status."""
        return {s: int((self.status == s).sum()) for s in ("converged", "diverged", "max_steps")}


def grid_starts(domain: tuple[tuple[float, float], ...], n: int | tuple[int, int]) -> np.ndarray:
    """An n×n grid over a 2-D box, as (n·n, 2) starts in row-major (y, x) order (meshgrid 'xy')."""
    nx, ny = (n, n) if isinstance(n, int) else n
    xs = np.linspace(*domain[0], nx)
    ys = np.linspace(*domain[1], ny)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=-1)


def batched_hessian(function: Landscape, x: np.ndarray) -> np.ndarray:
    """(K, d, d) Hessians of f at the K rows of x, from d passes over the batch (see Landscape)."""
    return function.hessian(x)


def newton_direction(hessian: np.ndarray, grad: np.ndarray, damping: float = 0.0) -> np.ndarray:
    """(H + μI)⁻¹∇f for a (K, d, d) stack: minus optim's ``second_order_rules.newton_direction``.

    Singular directions are dropped (the pseudo-inverse), which keeps Newton defined at
    degenerate points (the monkey saddle's H = 0).
    """
    return -second_order_rules.newton_direction(hessian, grad, damping)


# ------------------------------------------------------------------ first-order rule bindings

# Lab name -> (rule in descentlab.optim.rules, defaults). The defaults are torch.optim's class
# defaults, so a lab run and an Optimizer built with the same arguments take the same steps.
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "gd": ("sgd", {"lr": 1e-3}),
    "sgd": ("sgd", {"lr": 1e-3}),
    "momentum": ("sgd", {"lr": 1e-3, "momentum": 0.9}),
    "nesterov": ("sgd", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    "adagrad": ("adagrad", {"lr": 1e-2}),
    "rmsprop": ("rmsprop", {"lr": 1e-2}),
    "adadelta": ("adadelta", {"lr": 1.0}),
    "adam": ("adam", {"lr": 1e-3}),
    "adamw": ("adam", {"lr": 1e-3, "weight_decay": 1e-2, "decoupled_weight_decay": True}),
    "adamax": ("adamax", {"lr": 2e-3}),
    "nadam": ("nadam", {"lr": 2e-3}),
    "radam": ("radam", {"lr": 1e-3}),
    "lion": ("lion", {"lr": 1e-4}),
}

# step(x, g_step, g, f, want_value): move x in place along the gradient g_step (g plus any
# noise) taken at x, where f holds f(x) or None; write ∇f at the new x into g; return f there
# when asked (the step is recorded) or when the method computed it anyway (second-order
# methods), else None.
Step = Callable[[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None", bool],
                "np.ndarray | None"]


def _bind_first_order(name: str, hyperparameters: dict[str, Any], function: Landscape,
                      like: np.ndarray, use_analytic: bool) -> tuple[Step, dict[str, Any]]:
    """A (K, d)-batch step around ``rules.<rule>``: the rule's own code moves all K starts.

    Hyperparameters take torch's spelling too (``betas=(β1, β2)``); the ones the rule's
    ``<rule>_init`` takes (momentum, amsgrad, centered, ...) also shape its state. The rule's
    state and work arrays are allocated once, laid out like ``like``, and reused every step.
    """
    from ..optim import rules

    rule_name, defaults = OPTIMIZERS[name]
    rule, init = getattr(rules, rule_name), getattr(rules, rule_name + "_init")
    hyper = {**defaults, **hyperparameters}
    if "betas" in hyper:
        hyper["beta1"], hyper["beta2"] = hyper.pop("betas")
    accepted = [p for p in inspect.signature(rule).parameters
                if p not in ("param", "grad", "state", "scratch")]
    unknown = sorted(set(hyper) - set(accepted))
    if unknown:
        raise ValueError(f"{name} (rules.{rule_name}) does not take {', '.join(unknown)}; it "
                         f"takes: {', '.join(accepted)}")
    if not hyper["lr"] > 0:
        raise ValueError(f"{name}: lr={hyper['lr']!r} must be > 0")
    init_keys = [p for p in inspect.signature(init).parameters if p != "param"]
    state = init(like, **{k: hyper[k] for k in init_keys if k in hyper})
    scratch = [np.empty_like(like) for _ in range(rules.SCRATCH[rule_name])]
    grad_into = function.gradient_kernel(like, use_analytic)

    def step(x: np.ndarray, g_step: np.ndarray, g: np.ndarray, f: np.ndarray | None,
             want_value: bool) -> np.ndarray | None:
        rule(x, g_step, state, scratch=scratch, **hyper)
        if want_value:  # one evaluation gives both (the same numbers as the kernel's gradient)
            f, g[...] = function.value_and_grad(x, use_analytic)
            return f
        grad_into(x, g)
        return None

    return step, hyper


# ------------------------------------------------------------------------------- the runner

def _as_starts(starts: Any, dim: int) -> np.ndarray:
    x = np.array(starts, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"starts must have shape (K, {dim}) (or ({dim},) for one start), got "
                         f"{np.shape(starts)}")
    return x


def _below_root_bound(bound: float) -> float:
    """The largest s with √s < bound in floating point, so ``s <= it`` tests ‖v‖ < bound on ‖v‖²
    without a square root per point (√ is correctly rounded, hence monotone)."""
    if not bound > 0:
        return -np.inf
    s = bound * bound
    while s > 0 and np.sqrt(s) >= bound:
        s = np.nextafter(s, 0.0)
    while np.sqrt(np.nextafter(s, np.inf)) < bound:
        s = np.nextafter(s, np.inf)
    return s


def _squared_row_norms(v: np.ndarray, out: np.ndarray, work: np.ndarray) -> np.ndarray:
    """out ← Σⱼ v[:, j]² for a (K, d) batch, one coordinate column at a time (each contiguous
    in the coordinate-major layout the runner keeps)."""
    np.multiply(v[:, 0], v[:, 0], out=out)
    for j in range(1, v.shape[1]):
        np.multiply(v[:, j], v[:, j], out=work)
        out += work
    return out


def run_trajectories(function: Landscape, starts: Any, optimizer: str = "adam", steps: int = 100,
                     *, gtol: float = 1e-6, divergence_radius: float = 1e6,
                     record_every: int = 1, record_dtype: Any = np.float64,
                     use_analytic_grad: bool = True, grad_noise: float = 0.0,
                     seed: int | None = 0, **hyperparameters: Any) -> Trajectories:
    """Run ``optimizer`` for ``steps`` steps from every row of ``starts`` at once.

    The K points live in one (K, d) array stored coordinate-major (each coordinate's K values
    contiguous); the rule, the gradient and the checks write into arrays allocated once, so a
    run's memory is O(K) plus what it records.

    Args:
        function: the landscape (``get_function(...)`` or ``parse_function(...)``).
        starts: (K, d) start points (or one (d,) point).
        optimizer: a first-order rule name (see ``OPTIMIZERS``), "newton" or "bfgs".
        steps: number of updates.
        gtol: a start has converged once ‖∇f‖₂ < gtol for good.
        divergence_radius: a start whose ‖x‖₂ exceeds this (or turns non-finite) is diverged and
            frozen where it was declared so.
        record_every: keep every n-th step (plus the last); 100,000 starts × 500 steps of
            (K, R, d) float64 history would be 800 MB, so big runs record sparsely
            (``record_every=steps`` keeps only the start and the end: O(K) memory).
        record_dtype: dtype of the recorded positions, losses and gradient norms (np.float32
            halves the history; the run itself is float64 either way, and the final_* fields
            stay float64).
        use_analytic_grad: use the landscape's hand-written NumPy gradient when it has one.
        grad_noise: σ of Gaussian noise added to every gradient (perturbed GD, saddle escape).
        seed: seed of that noise.
        **hyperparameters: the rule's hyperparameters (lr, momentum, betas, ...); Newton takes
            lr (default 1) and damping; BFGS takes lr (first trial step, default 1) and c1.
    """
    name = optimizer.lower()
    if steps < 0 or int(steps) != steps:
        raise ValueError(f"steps={steps!r} must be a non-negative integer")
    if record_every < 1:
        raise ValueError(f"record_every={record_every!r} must be >= 1")
    record_dtype = np.dtype(record_dtype)
    if record_dtype.kind != "f":
        raise ValueError(f"record_dtype={record_dtype} must be a floating dtype")
    # Coordinate-major: column j of x is contiguous, so the gradient's per-coordinate
    # expressions and the element-wise rules stream through memory.
    x = np.asfortranarray(_as_starts(starts, function.dim))
    g = np.empty_like(x)
    if name in SECOND_ORDER:
        step_fn = _second_order(name, function, hyperparameters, use_analytic_grad)
        hyper = dict(hyperparameters)
    elif name in OPTIMIZERS:
        step_fn, hyper = _bind_first_order(name, hyperparameters, function, x,
                                           use_analytic_grad)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid: "
                         f"{', '.join(sorted(OPTIMIZERS) + list(SECOND_ORDER))}")
    rng = np.random.default_rng(seed)

    def values(p: np.ndarray) -> np.ndarray:
        return function.values(p, use_analytic_grad)

    k = x.shape[0]
    recorded = list(range(0, steps + 1, record_every))
    if recorded[-1] != steps:
        recorded.append(steps)
    r = len(recorded)
    positions = np.empty((k, r, function.dim), dtype=record_dtype)
    losses = np.empty((k, r), dtype=record_dtype)
    gnorms = np.empty((k, r), dtype=record_dtype)
    last_above = np.full(k, -1)            # last step with ‖∇f‖ ≥ gtol
    all_above = -1                         # last step at which that held for every start
    diverged_at = np.full(k, -1)
    frozen = np.zeros(k, dtype=bool)
    frozen_x = frozen_g = np.empty((0, function.dim))
    frozen_f = np.empty(0)
    sq, work = np.empty(k), np.empty(k)
    above = np.empty(k, dtype=bool)
    gtol_sq = _below_root_bound(gtol)
    radius_sq = divergence_radius ** 2
    inner_sq = radius_sq * (1 - 1e-9)
    dim = function.dim
    g_noisy = np.empty_like(x) if grad_noise else g

    with np.errstate(over="ignore", invalid="ignore"):
        f, g[...] = function.value_and_grad(x, use_analytic_grad)
        slot = 0
        for t in range(steps + 1):
            _squared_row_norms(g, sq, work)
            if sq.min(initial=np.inf) > gtol_sq:
                all_above = t       # every start is above gtol: one number says so
            else:
                # Written as not(≤) so that a NaN norm counts as not converged.
                np.less_equal(sq, gtol_sq, out=above)
                np.logical_not(above, out=above)
                np.copyto(last_above, t, where=above)
            if slot < r and recorded[slot] == t:
                if f is None:
                    f = values(x)
                positions[:, slot], losses[:, slot] = x, f
                gnorms[:, slot] = np.sqrt(sq)
                slot += 1
            if t == steps:
                break
            if grad_noise:
                np.multiply(rng.standard_normal(g.shape), grad_noise, out=g_noisy)
                g_noisy += g
            f = step_fn(x, g_noisy, g, f, slot < r and recorded[slot] == t + 1)
            if frozen_x.shape[0]:
                x[frozen], g[frozen] = frozen_x, frozen_g
                if f is not None:
                    f[frozen] = frozen_f
            # d·(largest |coordinate|)² bounds every start's ‖x‖² (with room for rounding), so
            # two reductions usually show that none left the ball; NaN fails the test.
            hi, lo = x.max(initial=0.0), x.min(initial=0.0)
            if (not (dim * hi * hi <= inner_sq and dim * lo * lo <= inner_sq)
                    and not _squared_row_norms(x, sq, work).max(initial=-np.inf) <= radius_sq):
                bad = ~frozen & ~(sq <= radius_sq)
                if bad.any():
                    diverged_at[bad] = t + 1
                    frozen |= bad
                    frozen_x, frozen_g = x[frozen].copy(), g[frozen].copy()
                    frozen_f = (values(x) if f is None else f)[frozen].copy()

    final_grad_norms = np.sqrt(sq)
    np.maximum(last_above, all_above, out=last_above)
    if f is None:
        f = values(x)
    converged = (last_above < steps) & ~frozen
    status = np.where(frozen, "diverged", np.where(converged, "converged", "max_steps"))
    return Trajectories(
        function, name, hyper, positions, losses, gnorms, np.array(recorded), status,
        np.where(converged, last_above + 1, -1), diverged_at, np.ascontiguousarray(x), f,
        final_grad_norms)


def _second_order(name: str, function: Landscape, hyper: dict[str, Any],
                  use_analytic: bool) -> Step:
    """Newton's or BFGS's (K, d) step, moving the runner's arrays in place."""
    inner = _newton(function, hyper) if name == "newton" else _bfgs(function, hyper)

    def value_and_grad(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return function.value_and_grad(p, use_analytic)

    def step(x: np.ndarray, g_step: np.ndarray, g: np.ndarray, f: np.ndarray | None,
             want_value: bool) -> np.ndarray:
        x_new, f_new, g_new = inner(x, f, g_step, value_and_grad)
        np.copyto(x, x_new)
        np.copyto(g, g_new)
        return f_new

    return step


def _newton(function: Landscape, hyper: dict[str, Any]) -> Callable[..., Any]:
    lr = float(hyper.get("lr", 1.0))
    damping = float(hyper.get("damping", 0.0))
    unknown = set(hyper) - {"lr", "damping"}
    if unknown:
        raise ValueError(f"newton takes lr and damping, not {', '.join(sorted(unknown))}")

    def step(x: np.ndarray, f: np.ndarray, g: np.ndarray, vg: Callable) -> tuple:
        x = x + lr * second_order_rules.newton_direction(batched_hessian(function, x), g, damping)
        return (x, *vg(x))

    return step


def _bfgs(function: Landscape, hyper: dict[str, Any]) -> Callable[..., Any]:
    lr = float(hyper.get("lr", 1.0))
    c1 = float(hyper.get("c1", 1e-4))
    max_halvings = int(hyper.get("max_halvings", 30))
    unknown = set(hyper) - {"lr", "c1", "max_halvings"}
    if unknown:
        raise ValueError(f"bfgs takes lr, c1 and max_halvings, not {', '.join(sorted(unknown))}")
    state: dict[str, np.ndarray] = {}

    def step(x: np.ndarray, f: np.ndarray, g: np.ndarray, vg: Callable) -> tuple:
        k, d = x.shape
        if "hinv" not in state:
            state["hinv"] = np.broadcast_to(np.eye(d), (k, d, d)).copy()
        hinv = state["hinv"]
        p = second_order_rules.bfgs_direction(hinv, g)
        slope = (g * p).sum(-1)
        # Not a descent direction (Hinv lost positive-definiteness to rounding): restart from −∇f.
        reset = ~(slope < 0)
        if reset.any():
            hinv[reset] = np.eye(d)
            p[reset] = -g[reset]
            slope[reset] = -(g[reset] ** 2).sum(-1)
        _, x_new, f_new, g_new = armijo_batched(vg, x, f, slope, p, lr, c1=c1,
                                                max_halvings=max_halvings)
        second_order_rules.bfgs_update(hinv, x_new - x, g_new - g)
        return x_new, f_new, g_new

    return step
