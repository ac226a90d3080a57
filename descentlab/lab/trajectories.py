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


def _bind_first_order(name: str, hyperparameters: dict[str, Any]
                      ) -> tuple[Callable[..., Any], dict[str, Any]]:
    """A (K, d)-batch step around ``rules.<rule>``: the rule's own code moves all K starts.

    Hyperparameters take torch's spelling too (``betas=(β1, β2)``); the ones the rule's
    ``<rule>_init`` takes (momentum, amsgrad, centered, ...) also shape its state.
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
    state: dict[str, Any] = {}
    scratch: list[np.ndarray] = []

    def step(x: np.ndarray, f: np.ndarray, g: np.ndarray, vg: Callable) -> tuple:
        if not state:
            state.update(init(x, **{k: hyper[k] for k in init_keys if k in hyper}))
            # Work arrays allocated once and reused every step (the rules' ``scratch``).
            scratch.extend(np.empty_like(x) for _ in range(rules.SCRATCH[rule_name]))
        rule(x, g, state, scratch=scratch, **hyper)
        return (x, *vg(x))

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


def run_trajectories(function: Landscape, starts: Any, optimizer: str = "adam", steps: int = 100,
                     *, gtol: float = 1e-6, divergence_radius: float = 1e6,
                     record_every: int = 1, use_analytic_grad: bool = True,
                     grad_noise: float = 0.0, seed: int | None = 0,
                     **hyperparameters: Any) -> Trajectories:
    """Run ``optimizer`` for ``steps`` steps from every row of ``starts`` at once.

    Args:
        function: the landscape (``get_function(...)`` or ``parse_function(...)``).
        starts: (K, d) start points (or one (d,) point).
        optimizer: a first-order rule name (see ``OPTIMIZERS``), "newton" or "bfgs".
        steps: number of updates.
        gtol: a start has converged once ‖∇f‖₂ < gtol for good.
        divergence_radius: a start whose ‖x‖₂ exceeds this (or turns non-finite) is diverged and
            frozen where it was declared so.
        record_every: keep every n-th step (plus the last); 100,000 starts × 500 steps of
            (K, R, d) float64 history would be 800 MB, so big runs record sparsely.
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
    x = _as_starts(starts, function.dim)
    if name in SECOND_ORDER:
        step_fn = _newton(function, hyperparameters) if name == "newton" else _bfgs(
            function, hyperparameters)
        hyper = dict(hyperparameters)
    elif name in OPTIMIZERS:
        step_fn, hyper = _bind_first_order(name, hyperparameters)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid: "
                         f"{', '.join(sorted(OPTIMIZERS) + list(SECOND_ORDER))}")
    rng = np.random.default_rng(seed)

    def value_and_grad(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return function.value_and_grad(p, use_analytic_grad)

    k = x.shape[0]
    recorded = list(range(0, steps + 1, record_every))
    if recorded[-1] != steps:
        recorded.append(steps)
    r = len(recorded)
    positions = np.empty((k, r, function.dim))
    losses = np.empty((k, r))
    gnorms = np.empty((k, r))
    last_above = np.full(k, -1)            # last step with ‖∇f‖ ≥ gtol
    diverged_at = np.full(k, -1)
    frozen = np.zeros(k, dtype=bool)
    frozen_x = np.empty((0, function.dim))

    with np.errstate(over="ignore", invalid="ignore"):
        f, g = value_and_grad(x)
        slot = 0
        for t in range(steps + 1):
            gn = np.sqrt(np.einsum("kd,kd->k", g, g))
            last_above[~(gn < gtol)] = t
            if slot < r and recorded[slot] == t:
                positions[:, slot], losses[:, slot], gnorms[:, slot] = x, f, gn
                slot += 1
            if t == steps:
                break
            if grad_noise:
                g = g + grad_noise * rng.standard_normal(g.shape)
            x, f, g = step_fn(x, f, g, value_and_grad)
            if frozen.any():
                x[frozen] = frozen_x
                f[frozen], g[frozen] = value_and_grad(frozen_x)
            bad = ~frozen & ~(np.einsum("kd,kd->k", x, x) <= divergence_radius ** 2)
            if bad.any():
                diverged_at[bad] = t + 1
                frozen |= bad
                frozen_x = x[frozen].copy()

    converged = (last_above < steps) & ~frozen
    status = np.where(frozen, "diverged", np.where(converged, "converged", "max_steps"))
    return Trajectories(
        function, name, hyper, positions, losses, gnorms, np.array(recorded), status,
        np.where(converged, last_above + 1, -1), diverged_at, x, f, gnorms[:, -1].copy())


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
