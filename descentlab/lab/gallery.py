"""The gallery: every lesson of the study notes, run, measured and drawn into one folder.

``run_gallery(out)`` runs each lesson (a small function returning figures and a few sentences
whose numbers are measured at run time), saves one image per figure, and writes ``index.html``
(static, self-contained: relative image links, escaped text) and ``README.md``. A lesson that
fails is reported in both pages with its error; the others still run.

The lessons reuse the library — landscapes, batched trajectories, analyses, diagnostics, nn,
optim, data — and compute nothing of their own beyond bookkeeping.
"""

from __future__ import annotations

import html
import math
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .._fileio import atomic_write_text
from . import plots as P

__all__ = ["Lesson", "LessonResult", "LessonOutcome", "GalleryReport", "LESSONS",
           "lesson_keys", "run_gallery"]


@dataclass
class LessonResult:
    """What a lesson returns: figures by file stem, a paragraph with numbers, the numbers."""

    figures: dict[str, Any]
    text: str
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class Lesson:
    key: str
    title: str
    run: Callable[[], LessonResult]


@dataclass
class LessonOutcome:
    key: str
    title: str
    images: list[str]
    text: str
    numbers: dict[str, Any]
    seconds: float
    error: str | None = None


@dataclass
class GalleryReport:
    out: Path
    outcomes: list[LessonOutcome]
    seconds: float

    @property
    def failed(self) -> list[LessonOutcome]:
        return [o for o in self.outcomes if o.error]


def _g(x: float, digits: int = 3) -> str:
    """A number for prose: 3 significant digits, scientific where small or large."""
    if x is None:
        return "—"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def _steps(n: int | None, budget: int) -> str:
    return f"{n} steps" if n is not None and n >= 0 else f"not within {budget} steps"


# ------------------------------------------------------------------------------------- lessons

def lesson_loss_functions() -> LessonResult:
    """SSE's ½ (∂E/∂ŷ = ŷ − y) and MSE vs cross-entropy on a sigmoid output, by autograd."""
    from .. import nn
    from ..autograd import creation as C

    yhat = C.tensor([0.2, 0.7, 1.5, -0.4], dtype=np.float64, requires_grad=True)
    y = C.tensor([0.0, 1.0, 1.0, 0.0], dtype=np.float64)
    sse = nn.SSELoss()(yhat, y)
    sse.backward()
    sse_err = float(np.abs(yhat.grad.numpy() - (yhat.detach().numpy() - y.numpy())).max())
    yhat2 = C.tensor(yhat.detach().numpy(), requires_grad=True)
    (yhat2 - y).pow(2).sum().backward()
    no_half_ratio = float(np.median(yhat2.grad.numpy() / yhat.grad.numpy()))

    z = C.tensor(np.linspace(-8, 8, 321), dtype=np.float64, requires_grad=True)
    p = z.sigmoid()
    ones = C.ones(321, dtype=np.float64)
    mse = nn.MSELoss(reduction="none")(p, ones)
    ce = nn.BCELoss(reduction="none")(p, ones)
    (g_mse,) = _grad_of(mse.sum(), z)
    (g_ce,) = _grad_of(ce.sum(), z)
    zs = z.detach().numpy()
    i = int(np.argmin(np.abs(zs + 5.0)))
    ratio = abs(g_ce[i]) / abs(g_mse[i])
    mse_v, ce_v = mse.detach().numpy(), ce.detach().numpy()
    fig = P.panel_curves(
        {"loss of a positive example (y = 1)": {"MSE (σ(z) − 1)²": (zs, mse_v),
                                                 "cross-entropy −log σ(z)": (zs, ce_v)},
         "|∂loss/∂z|: the signal backprop starts from": {"MSE": (zs, np.abs(g_mse)),
                                                         "cross-entropy": (zs, np.abs(g_ce))}},
        xlabel="logit z", ylabel="value (log scale)",
        title="MSE vs cross-entropy on a sigmoid output")
    text = (f"SSE E = ½Σ(y − ŷ)²: autograd's ∂E/∂ŷ equals ŷ − y to {_g(sse_err)} (max abs "
            f"difference over 4 outputs); without the ½ the gradient is {_g(no_half_ratio)}× as "
            f"large, which is why the notes put ½ in front. On a sigmoid output that is badly "
            f"wrong (z = {zs[i]:g}, target 1) the MSE gradient is |∂L/∂z| = {_g(abs(g_mse[i]))} "
            f"while cross-entropy's is {_g(abs(g_ce[i]))} — {_g(ratio)}× larger: σ′ ≤ ¼ multiplies "
            f"MSE's gradient and vanishes on a saturated unit, while −log σ cancels it "
            f"(∂CE/∂z = σ(z) − y).")
    return LessonResult({"loss_functions": fig}, text,
                        {"sse_grad_error": sse_err, "no_half_ratio": no_half_ratio,
                         "mse_grad_at_-5": float(abs(g_mse[i])),
                         "ce_grad_at_-5": float(abs(g_ce[i])), "ce_over_mse": float(ratio)})


def _grad_of(out: Any, x: Any) -> tuple[np.ndarray, ...]:
    from ..autograd.grad import grad

    return tuple(g.numpy() for g in grad(out, x, retain_graph=True))


def lesson_learning_rate() -> LessonResult:
    """f(w) = w² with α = 0.05 (too small), 0.4, 0.6 and 1.2: w ← (1 − 2α)·w."""
    from .analysis import gd_stability_bound, lr_sweep

    lrs = [0.05, 0.4, 0.6, 1.2]
    sw = lr_sweep("parabola", lrs, start=[1.0], steps=12)
    factors = [float(r.positions[0, 1, 0] / r.positions[0, 0, 0]) for r in sw.trajectories]
    fine = lr_sweep("parabola", np.round(np.arange(0.05, 1.51, 0.05), 4), start=[1.0], steps=40)
    bound = gd_stability_bound("parabola")
    fig = P.lr_sweep_panels(sw, title="f(w) = w², GD from w₀ = 1: w_k against k for each α")
    parts = [f"α = {a:g}: {c.replace('_', ' ')} (w₁/w₀ = {_g(fct)}, "
             f"f(w₁₂) = {_g(gap)})" for a, c, fct, gap in
             zip(sw.lrs, sw.classes, factors, sw.final_gaps)]
    text = ("GD on f(w) = w² is w ← w − α·2w = (1 − 2α)·w. Measured: " + "; ".join(parts)
            + f". A finer sweep of α from 0.05 to 1.5 finds the largest stable α = "
            f"{_g(fine.largest_stable_lr)} and the smallest diverging α = "
            f"{_g(fine.smallest_diverging_lr)}, bracketing the bound 2/L = {_g(bound)} "
            "(L = f″ = 2). Too small crawls, too large oscillates and then diverges.")
    return LessonResult({"learning_rate": fig}, text,
                        {"classes": dict(zip(map(float, sw.lrs), sw.classes)),
                         "factors": factors, "bound": bound,
                         "largest_stable": fine.largest_stable_lr,
                         "smallest_diverging": fine.smallest_diverging_lr})


def lesson_descent_direction() -> LessonResult:
    """∇f(w)·Δw < 0 on the elliptic valley: half of all directions descend, −∇f most steeply."""
    from .analysis import descent_directions
    from .functions import get_function

    f = get_function("elliptic_valley", kappa=4.0)
    w = np.array([1.2, 0.8])
    theta = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    dirs = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    slopes, is_descent = descent_directions(f, np.repeat(w[None], len(dirs), 0), dirs)
    eps = 1e-4
    change = f.value(w[None] + eps * dirs) - f.value(w[None])
    agree = float(np.mean((change < 0) == is_descent))
    g = f.grad(w[None])[0]
    steep, _ = descent_directions(f, w[None], -g[None])
    fig = P.descent_directions_plot(f, w, dirs, slopes)
    text = (f"At w = ({w[0]:g}, {w[1]:g}) on ½(x² + 4y²), {int(is_descent.sum())} of "
            f"{len(dirs)} unit directions satisfy ∇f·Δw < 0; a step of {eps:g} along each "
            f"lowered f exactly for those ({agree:.0%} agreement). Δw = −∇f gives ∇f·Δw = "
            f"{_g(float(steep[0]))} = −‖∇f‖² = {_g(-float(g @ g))}, the most negative slope "
            f"of all (the best unit direction reached {_g(float(slopes.min()))} = −‖∇f‖ = "
            f"{_g(-float(np.linalg.norm(g)))} per unit length, within the 15° grid).")
    return LessonResult({"descent_direction": fig}, text,
                        {"descent_count": int(is_descent.sum()), "agreement": agree,
                         "steepest_slope": float(steep[0])})


def lesson_gd_sgd_minibatch() -> LessonResult:
    """The same network from the same init trained with batch = N (GD), 1 (SGD) and 32."""
    from .batching import compare_batch_sizes, gradient_noise

    epochs = 8
    runs = compare_batch_sizes(batch_sizes={"GD (batch = N)": None, "SGD (batch = 1)": 1,
                                            "mini-batch (batch = 32)": 32},
                               epochs=epochs, lr={"GD (batch = N)": 0.5, "SGD (batch = 1)": 0.05,
                                                  "mini-batch (batch = 32)": 0.2})
    noise = gradient_noise(batch_sizes=(1, 4, 16, 64), draws=500)
    n = runs["GD (batch = N)"].batch_size
    fig1 = P.panel_curves(
        {"loss vs epoch": {k: (r.epochs, r.epoch_loss) for k, r in runs.items()},
         "loss vs training time (s)": {k: (r.epoch_time, r.epoch_loss) for k, r in runs.items()}},
        xlabel="epoch / seconds", ylabel="full-data loss (log scale)",
        title=f"GD vs SGD vs mini-batch ({n} points, {epochs} epochs)")
    std = np.sqrt(noise.variance)
    fig2 = P.loss_curves({"measured √E‖g_B − ḡ‖²": (noise.batch_sizes, std),
                          "predicted √(tr Σ / B)": (noise.batch_sizes, np.sqrt(noise.predicted))},
                         xlabel="batch size B", ylabel="gradient error",
                         title="Noise of the mini-batch gradient vs batch size")
    fig2.axes[0].set_xscale("log")
    summ = "; ".join(f"{k}: {r.iterations_per_epoch} updates/epoch (α = {r.lr:g}), loss "
                     f"{_g(r.epoch_loss[0])} → {_g(r.epoch_loss[-1])} in "
                     f"{_g(r.epoch_time[-1])} s" for k, r in runs.items())
    text = (f"One tanh MLP, one init, {epochs} epochs on {n} two-moons points. {summ}. GD "
            "takes one exact step per epoch; SGD one noisy step per example; the mini-batch "
            "sits between. Gradient error ‖g_B − ḡ‖ (rms over 500 draws) at B = "
            + ", ".join(f"{b}: {_g(v)}" for b, v in zip(noise.batch_sizes, std))
            + ", against the prediction √(tr Σ / B) = "
            + ", ".join(_g(v) for v in np.sqrt(noise.predicted))
            + f" (‖ḡ‖ = {_g(noise.full_grad_norm)}): quadrupling B halves the noise.")
    return LessonResult({"gd_sgd_minibatch": fig1, "gradient_noise": fig2}, text,
                        {"final_loss": {k: float(r.epoch_loss[-1]) for k, r in runs.items()},
                         "gradient_noise_std": std.tolist()})


def lesson_momentum() -> LessonResult:
    """Elliptic valley κ = 50: GD zig-zags and crawls, momentum gets there in fewer steps."""
    from .functions import get_function
    from .trajectories import run_trajectories

    kappa, lr, steps = 50.0, 0.01, 3000
    f = get_function("elliptic_valley", kappa=kappa)
    start = [-1.8, 0.9]
    runs = {"gd": run_trajectories(f, start, "gd", steps, lr=lr, gtol=1e-6),
            "momentum": run_trajectories(f, start, "momentum", steps, lr=lr, momentum=0.9,
                                         gtol=1e-6),
            "nesterov": run_trajectories(f, start, "nesterov", steps, lr=lr, momentum=0.9,
                                         gtol=1e-6)}
    n = {k: int(v.steps_to_converge[0]) for k, v in runs.items()}
    short = {k: v.positions[:, :80] for k, v in runs.items()}
    fig1 = P.contour_trajectories(f, short, title=f"½(x² + {kappa:g}y²): first 80 steps, "
                                  f"α = {lr:g}")
    fig2 = P.loss_curves({k: v.losses[0] for k, v in runs.items()},
                         title="Elliptic valley: f(w_k)", xlabel="step k", ylabel="f")
    text = (f"On ½(x² + {kappa:g}·y²) (condition number {kappa:g}) with α = {lr:g} for all: the "
            f"steep y-direction caps α below 2/κ = {_g(2 / kappa)}, and then GD multiplies x by "
            f"only 1 − α = {_g(1 - lr)} per step — the crawl along the valley floor — reaching "
            f"‖∇f‖ < 1e-6 in {_steps(n['gd'], steps)}. Momentum (β = 0.9) keeps adding the "
            f"consistent x-gradient (effective step up to α/(1 − β) = {_g(lr / 0.1)}) while the "
            f"alternating y-components cancel: {_steps(n['momentum'], steps)} "
            f"({_g(n['gd'] / n['momentum']) if n['momentum'] > 0 and n['gd'] > 0 else '—'}× "
            f"fewer); Nesterov's look-ahead: {_steps(n['nesterov'], steps)}.")
    return LessonResult({"momentum_paths": fig1, "momentum_loss": fig2}, text,
                        {"steps_to_converge": n})


def lesson_adaptive_steps() -> LessonResult:
    """RMSProp/Adam scale each coordinate's step by its own gradient history."""
    from .functions import get_function
    from .trajectories import run_trajectories

    kappa, steps = 100.0, 60
    f = get_function("elliptic_valley", kappa=kappa)
    start = [1.8, 1.5]
    runs = {"gd": run_trajectories(f, start, "gd", steps, lr=0.015),
            "rmsprop": run_trajectories(f, start, "rmsprop", steps, lr=0.02),
            "adam": run_trajectories(f, start, "adam", steps, lr=0.05)}
    moves = {k: np.abs(np.diff(v.positions[0], axis=0)) for k, v in runs.items()}
    first = {k: (float(m[0, 0]), float(m[0, 1])) for k, m in moves.items()}
    g0 = f.grad(np.array([start]))[0]
    eff = {k: (first[k][0] / abs(g0[0]), first[k][1] / abs(g0[1])) for k in runs}
    fig1 = P.panel_curves(
        {"|Δx| (flat direction, ∂f/∂x = x)": {k: m[:, 0] for k, m in moves.items()},
         f"|Δy| (steep direction, ∂f/∂y = {kappa:g}y)": {k: m[:, 1] for k, m in moves.items()}},
        xlabel="step k", ylabel="step size per coordinate (log)",
        title="Per-parameter step sizes")
    fig2 = P.contour_trajectories(f, runs, title=f"½(x² + {kappa:g}y²): {steps} steps")
    text = (f"On ½(x² + {kappa:g}y²) from ({start[0]:g}, {start[1]:g}) the gradient is "
            f"({_g(g0[0])}, {_g(g0[1])}). GD's first step is α·∇f, so |Δy|/|Δx| = "
            f"{_g(first['gd'][1] / first['gd'][0])}: one learning rate for both, too big for y "
            f"or too small for x. RMSProp divides by √v per coordinate: its first step "
            f"(|Δx|, |Δy|) = ({_g(first['rmsprop'][0])}, {_g(first['rmsprop'][1])}), an "
            f"effective per-parameter rate |Δ|/|g| of ({_g(eff['rmsprop'][0])}, "
            f"{_g(eff['rmsprop'][1])}) — large on the gentle slope, small on the steep one. "
            f"Adam adds momentum on top: first step ({_g(first['adam'][0])}, "
            f"{_g(first['adam'][1])}) = α in both coordinates. After {steps} steps f = "
            + ", ".join(f"{_g(float(v.final_losses[0]))} ({k})" for k, v in runs.items()) + ".")
    return LessonResult({"adaptive_step_sizes": fig1, "adaptive_paths": fig2}, text,
                        {"first_steps": first, "effective_lr": eff})


def lesson_adamw() -> LessonResult:
    """Adam's L2 term is rescaled by 1/√v; AdamW's decoupled decay is not."""
    from .formula import parse_function
    from .trajectories import run_trajectories

    f = parse_function("50*(x - 1)**2 + 0.005*(y - 1)**2", domain=((-0.5, 1.5), (-0.5, 1.5)))
    wd, lr, steps = 0.1, 0.01, 3000
    start = [0.0, 0.0]
    runs = {"adam": run_trajectories(f, start, "adam", steps, lr=lr, weight_decay=wd,
                                     record_every=10),
            "adamw": run_trajectories(f, start, "adamw", steps, lr=lr, weight_decay=wd,
                                      record_every=10)}
    end = {k: v.final_positions[0].tolist() for k, v in runs.items()}
    l2 = (100 / (100 + wd), 0.01 / (0.01 + wd))
    fig = P.contour_trajectories(f, runs, title="Adam + L2 vs AdamW (weight decay 0.1)")
    fig.axes[0].plot(l2[0], l2[1], "P", color="k", ms=10, label="L2-regularised optimum")
    fig.axes[0].legend(fontsize=8)
    text = (f"f = 50(x − 1)² + 0.005(y − 1)²: x is 10⁴× stiffer than y; weight decay λ = {wd:g}, "
            f"α = {lr:g}, {steps} steps from (0, 0). Adam with L2 (g + λw) ends at "
            f"({_g(end['adam'][0])}, {_g(end['adam'][1])}), the optimum of f + λ/2‖w‖² "
            f"({_g(l2[0])}, {_g(l2[1])}): on the flat y the decay term dominates the tiny "
            f"gradient, on the stiff x it is negligible, so the shrinkage is anything but "
            f"uniform. AdamW decays every weight by the same factor 1 − αλ = {_g(1 - lr * wd)} "
            f"per step outside the adaptive step and ends at ({_g(end['adamw'][0])}, "
            f"{_g(end['adamw'][1])}).")
    return LessonResult({"adam_vs_adamw": fig}, text, {"end": end, "l2_optimum": l2})


def lesson_second_order() -> LessonResult:
    """Newton and BFGS vs GD on Rosenbrock from (−1.2, 1): iterations to ‖∇f‖ < 1e-6."""
    from .functions import get_function
    from .trajectories import run_trajectories

    f = get_function("rosenbrock")
    start = [-1.2, 1.0]
    budgets = {"gd": 20000, "momentum": 20000, "newton": 100, "bfgs": 200}
    runs = {"gd": run_trajectories(f, start, "gd", budgets["gd"], lr=1e-3, gtol=1e-6,
                                   record_every=20),
            "momentum": run_trajectories(f, start, "momentum", budgets["momentum"], lr=1e-3,
                                         momentum=0.9, gtol=1e-6, record_every=20),
            "newton": run_trajectories(f, start, "newton", budgets["newton"], gtol=1e-6),
            "bfgs": run_trajectories(f, start, "bfgs", budgets["bfgs"], gtol=1e-6)}
    n = {k: int(v.steps_to_converge[0]) for k, v in runs.items()}
    fig1 = P.loss_curves({k: (v.recorded_steps, np.maximum(v.losses[0], 1e-30))
                          for k, v in runs.items()},
                         xlabel="iteration", ylabel="f", title="Rosenbrock from (−1.2, 1)")
    fig1.axes[0].set_xscale("symlog", linthresh=10)
    fig2 = P.contour_trajectories(f, runs, title="Rosenbrock: GD, momentum, Newton, BFGS")
    text = ("Rosenbrock (a curved valley, κ ≈ 2500 at the minimum) from (−1.2, 1), iterations "
            "until ‖∇f‖ < 1e-6: " + ", ".join(
                f"{k} {_steps(n[k], budgets[k])} (final f = {_g(float(runs[k].final_losses[0]))})"
                for k in runs)
            + ". Newton rescales the step by the inverse Hessian, so the valley's curvature no "
            "longer limits it; BFGS builds that inverse from gradients alone and needs a few "
            "more iterations, each far cheaper than a Hessian.")
    return LessonResult({"second_order_loss": fig1, "second_order_paths": fig2}, text,
                        {"steps_to_converge": n})


def lesson_saddle() -> LessonResult:
    """x² − y² from (1, 1e-10): GD stalls at the saddle, momentum/Adam/noise escape."""
    from .analysis import saddle_escape
    from .functions import get_function

    res = saddle_escape(steps=1500)
    f = get_function("saddle")
    paths = {k: np.clip(v.positions, -10, 10) for k, v in res.trajectories.items()}
    fig1 = P.contour_trajectories(f, paths, title="x² − y² from (1, 1e-10): escaping the saddle")
    fig2 = P.loss_curves({k: v.losses[0] for k, v in res.trajectories.items()}, log=False,
                         title="f(w_k) near the saddle", xlabel="step k", ylabel="f")
    fig2.axes[0].set_ylim(-3, 1.5)
    stuck = [k for k, s in res.steps_to_escape.items() if s is None]
    text = ("Starting at (1, 1e-10), next to the saddle of x² − y² on its attracting axis, "
            f"steps until f < −{res.depth:g}: " + ", ".join(
                f"{k} {s if s is not None else 'never (within 1500)'}"
                for k, s in res.steps_to_escape.items())
            + ". GD walks straight into (0, 0) where ∇f ≈ 0 and looks converged; the y-component "
            "grows by (1 + 2α) per step but from 1e-10 that takes long. Momentum compounds the "
            "growth, Adam's normalised step moves y by ≈α whatever ∂f/∂y is, and gradient noise "
            "knocks the point off the axis."
            + (f" Still stuck: {', '.join(stuck)}." if stuck else ""))
    return LessonResult({"saddle_paths": fig1, "saddle_loss": fig2}, text,
                        {"steps_to_escape": res.steps_to_escape})


def lesson_basins() -> LessonResult:
    """Himmelblau: the start point decides which of the four minima GD reaches."""
    from collections import Counter

    from .analysis import basins_of_attraction, find_critical_points
    from .functions import get_function
    from .trajectories import run_trajectories

    f = get_function("himmelblau")
    n = 50
    b = basins_of_attraction(f, "gd", n=n, steps=300, lr=0.01)
    frac = b.fractions()
    crit = Counter(c.kind for c in find_critical_points(f, n=20))
    # Two neighbouring starts that end in different minima.
    lab = b.labels
    pair = None
    for i in range(n):
        for j in range(n - 1):
            if lab[i, j] >= 0 and lab[i, j + 1] >= 0 and lab[i, j] != lab[i, j + 1]:
                pair = ((b.xs[j], b.ys[i]), (b.xs[j + 1], b.ys[i]), lab[i, j], lab[i, j + 1])
                break
        if pair:
            break
    fig1 = P.basin_map(b, title=f"Himmelblau: basins of GD (α = 0.01, {n}×{n} starts)")
    figs = {"basins": fig1}
    pair_text = ""
    if pair:
        a, c, la, lc = pair
        runs = {f"start ({a[0]:.2f}, {a[1]:.2f})": run_trajectories(f, a, "gd", 300, lr=0.01),
                f"start ({c[0]:.2f}, {c[1]:.2f})": run_trajectories(f, c, "gd", 300, lr=0.01)}
        figs["basins_two_starts"] = P.contour_trajectories(
            f, runs, title="Two neighbouring starts, two different minima")
        ma, mc = b.minima[la].location, b.minima[lc].location
        pair_text = (f" Two starts only {abs(c[0] - a[0]):.2f} apart, ({a[0]:.2f}, {a[1]:.2f}) "
                     f"and ({c[0]:.2f}, {c[1]:.2f}), end at ({ma[0]:.2f}, {ma[1]:.2f}) and "
                     f"({mc[0]:.2f}, {mc[1]:.2f}).")
    text = (f"Himmelblau has {crit.get('minimum', 0)} minima, {crit.get('maximum', 0)} maximum "
            f"and {crit.get('saddle', 0)} saddles (found by Newton on ∇f = 0 from a grid and "
            f"classified by Hessian eigenvalues). GD from each of {n * n} grid starts reaches the "
            "minima in shares " + ", ".join(
                f"({m.location[0]:.2f}, {m.location[1]:.2f}) {fr:.1%}"
                for m, fr in zip(b.minima, frac)) + f" (none: {frac[-1]:.1%})." + pair_text
            + " All four are global (f = 0) here; on a landscape with worse local minima the "
            "start would decide the quality of the answer too.")
    return LessonResult(figs, text, {"fractions": frac.tolist(), "critical": dict(crit)})


def lesson_convexity() -> LessonResult:
    """Sampled chord test and Hessian eigenvalues: convex bowls vs non-convex landscapes."""
    from .analysis import check_convexity, condition_number
    from .functions import get_function

    names = ["quadratic_bowl", "booth", "himmelblau", "rastrigin"]
    verdicts = {k: check_convexity(k, samples=400) for k in names}
    slices = {}
    for k in ("booth", "himmelblau"):
        f = get_function(k)
        v = verdicts[k]
        if v.counterexample and v.counterexample["kind"] == "chord":
            a, c = np.array(v.counterexample["x"]), np.array(v.counterexample["y"])
        else:
            (x0, x1), (y0, y1) = f.domain
            a, c = np.array([x0, y0]) * 0.8, np.array([x1, y1]) * 0.8
        t = np.linspace(0, 1, 101)
        pts = (1 - t)[:, None] * a + t[:, None] * c
        fa, fc = f.value(a[None])[0], f.value(c[None])[0]
        slices[f"{k}: {'convex' if v.convex else 'not convex'}"] = (
            t, f.value(pts), (1 - t) * fa + t * fc)
    fig = P.chord_slices(slices, title="Convexity: f on a segment vs its chord")
    kappa = condition_number("booth")
    text = ("Sampled test of f(t·a + (1−t)·b) ≤ t·f(a) + (1−t)·f(b) (400 random pairs) and "
            "λmin(∇²f) ≥ 0: " + "; ".join(
                f"{k}: {'convex' if v.convex else 'NOT convex'} (min Hessian eigenvalue "
                f"{_g(v.min_hessian_eigenvalue)})" for k, v in verdicts.items())
            + f". Booth is a convex quadratic with condition number {_g(kappa)}: any start "
            "reaches its single minimum. Himmelblau's counterexample segment rises above its "
            "chord, and with it come several minima and saddles — the non-convex situation of "
            "a neural network's loss.")
    return LessonResult({"convexity": fig}, text,
                        {k: {"convex": v.convex, "min_eig": v.min_hessian_eigenvalue}
                         for k, v in verdicts.items()})


def lesson_vanishing_gradients() -> LessonResult:
    """Per-layer gradient norms of a 10-layer MLP: sigmoid vanishes; ReLU/He, BN, residuals fix."""
    from .diagnostics import gradient_report

    depth, width = 10, 32
    configs = [
        dict(activation="sigmoid", init="default"),
        dict(activation="tanh", init="default"),
        dict(activation="relu", init="default"),
        dict(activation="leaky_relu", init="default"),
        dict(activation="elu", init="default"),
        dict(activation="relu", init="he"),
        dict(activation="sigmoid", init="xavier"),
        dict(activation="sigmoid", init="default", batchnorm=True),
        dict(activation="sigmoid", init="default", residual=True),
        dict(activation="sigmoid", init="default", clip_norm=1.0),
    ]
    reports = [gradient_report(depth, width, batch_size=128, **c) for c in configs]
    fig = P.gradient_norms_per_layer(
        {r.label: r.grad_rms[:depth] for r in reports},
        ylabel="RMS of ∂L/∂W per weight (log scale)",
        title=f"Gradient per layer at initialization ({depth}-layer MLP, width {width})")
    text = (f"A {depth}-layer MLP (width {width}) on a 3-class spiral, one backward pass at "
            "initialization; ρ = RMS gradient of layer 1 / of layer 10: " + "; ".join(
                f"{r.label} ρ = {_g(r.ratio)} ({r.verdict})" for r in reports)
            + ". Sigmoid's derivative is at most ¼, so the gradient shrinks layer by layer on "
            "the way back (ρ ≪ 1). Compare each remedy's ρ with sigmoid/default's: a ReLU-family "
            "activation with its matching init, BatchNorm (rescales every layer) and a residual "
            "connection (adds the identity to every Jacobian) move ρ by orders of magnitude; "
            "clipping caps the total norm but rescales all layers alike, so ρ stays.")
    return LessonResult({"vanishing_gradients": fig}, text,
                        {r.label: {"ratio": r.ratio, "verdict": r.verdict} for r in reports})


def lesson_sequence_gradients() -> LessonResult:
    """Gradients through time: tanh RNN vanishing/exploding, LSTM gating, clipping."""
    from .sequence import lesson

    return LessonResult(*lesson())


def lesson_epoch_iteration() -> LessonResult:
    """1 epoch = one pass over the data = ⌈N / B⌉ iterations (updates)."""
    from .batching import compare_batch_sizes, iterations_per_epoch

    bs, epochs = 25, 4
    run = compare_batch_sizes(batch_sizes={"mini-batch": bs}, epochs=epochs, lr=0.2,
                              seed=1)["mini-batch"]
    total = len(run.iteration_loss)
    per_epoch = run.iterations_per_epoch
    bounds = run.epoch_iterations[1:-1] - 0.5
    fig = P.loss_curves({"mini-batch loss per iteration": run.iteration_loss}, log=True,
                        vlines=list(bounds), vline_label="epoch boundary",
                        xlabel="iteration (one optimizer step)", ylabel="mini-batch loss",
                        title=f"{epochs} epochs × {per_epoch} iterations (batch {bs})")
    notes_n, notes_bs, notes_ep = 1000, 25, 100
    notes_iters = notes_ep * iterations_per_epoch(notes_n, notes_bs)
    text = (f"Batch size {bs}: one epoch (a pass over all the data) took {per_epoch} iterations "
            f"(optimizer updates, one per mini-batch), and {epochs} epochs took {total} — "
            f"counted while training, equal to {epochs} × ⌈N/B⌉. The notes' example: 1000 "
            f"images, batch 25, 100 epochs = {notes_n * notes_ep} images seen in {notes_iters} "
            f"iterations. Full-data loss {_g(run.epoch_loss[0])} before, "
            f"{_g(run.epoch_loss[-1])} after; the per-iteration loss is noisy because each is "
            "measured on its own mini-batch.")
    return LessonResult({"epoch_vs_iteration": fig}, text,
                        {"iterations_per_epoch": per_epoch, "total_iterations": total,
                         "notes_iterations": notes_iters})


def lesson_animation() -> LessonResult:
    """An animated GIF of SGD, momentum and Adam on Rosenbrock."""
    from .functions import get_function
    from .trajectories import run_trajectories

    f = get_function("rosenbrock")
    start = [-1.5, 2.0]
    runs = {"sgd": run_trajectories(f, start, "sgd", 400, lr=1e-3),
            "momentum": run_trajectories(f, start, "momentum", 400, lr=1e-3),
            "adam": run_trajectories(f, start, "adam", 400, lr=0.05)}
    anim = P.animate_trajectories(f, runs, frames=25)
    text = ("The first 400 steps on Rosenbrock from (−1.5, 2), animated; final f: "
            + ", ".join(f"{k} {_g(float(v.final_losses[0]))}" for k, v in runs.items()) + ".")
    return LessonResult({"rosenbrock_animation": anim}, text,
                        {k: float(v.final_losses[0]) for k, v in runs.items()})


LESSONS: list[Lesson] = [
    Lesson("loss_functions", "Loss functions: MSE vs cross-entropy, SSE's ½",
           lesson_loss_functions),
    Lesson("learning_rate", "Learning rate: too small, right, too large", lesson_learning_rate),
    Lesson("descent_direction", "The descent condition ∇f·Δw < 0", lesson_descent_direction),
    Lesson("gd_sgd_minibatch", "GD vs SGD vs mini-batch", lesson_gd_sgd_minibatch),
    Lesson("momentum", "Elliptic valley with and without momentum", lesson_momentum),
    Lesson("adaptive", "RMSProp / Adam: per-parameter step sizes", lesson_adaptive_steps),
    Lesson("adamw", "Adam vs AdamW weight decay", lesson_adamw),
    Lesson("second_order", "Newton / BFGS vs GD iteration counts", lesson_second_order),
    Lesson("saddle", "Saddle point escape", lesson_saddle),
    Lesson("basins", "Local minima and basins: the start decides the end", lesson_basins),
    Lesson("convexity", "Convex vs non-convex", lesson_convexity),
    Lesson("vanishing_gradients", "Vanishing gradients and their remedies",
           lesson_vanishing_gradients),
    Lesson("sequence_gradients", "Vanishing and exploding gradients through time: LSTM, clipping",
           lesson_sequence_gradients),
    Lesson("epoch_iteration", "Epoch vs iteration", lesson_epoch_iteration),
    Lesson("animation", "Optimizers in motion (GIF)", lesson_animation),
]


def lesson_keys() -> list[str]:
    return [lesson.key for lesson in LESSONS]


# ------------------------------------------------------------------------------------- writing

def _run_one(lesson: Lesson, out: Path) -> LessonOutcome:
    t0 = time.perf_counter()
    images: list[str] = []
    try:
        res = lesson.run()
        for stem, fig in res.figures.items():
            from matplotlib.animation import Animation

            name = f"{lesson.key}__{stem}" if not stem.startswith(lesson.key) else stem
            name += ".gif" if isinstance(fig, Animation) else ".png"
            P.save(fig, out / name)
            images.append(name)
        return LessonOutcome(lesson.key, lesson.title, images, res.text, res.numbers,
                             time.perf_counter() - t0)
    except Exception as err:  # noqa: BLE001 - one lesson's failure must not stop the gallery
        tb = traceback.format_exc(limit=-3)
        return LessonOutcome(lesson.key, lesson.title, images, "", {},
                             time.perf_counter() - t0, f"{type(err).__name__}: {err}\n{tb}")


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.5}h1{margin-bottom:.2em}
section{border-top:1px solid #ddd;padding:1em 0}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.3em 0}
.err{background:#fee;border:1px solid #e99;padding:.6em;white-space:pre-wrap;font-family:monospace;
font-size:.85em}.meta{color:#777;font-size:.85em}nav li{margin:.1em 0}"""


def _index_html(report: GalleryReport) -> str:
    e = html.escape
    ok = len(report.outcomes) - len(report.failed)
    toc = "\n".join(f'<li><a href="#{e(o.key)}">{e(o.title)}</a>'
                    f'{" — <b>failed</b>" if o.error else ""}</li>' for o in report.outcomes)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>descentlab gallery</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>descentlab gallery</h1>",
        f'<p class="meta">{ok} of {len(report.outcomes)} lessons ran in '
        f"{report.seconds:.1f} s; every number below was measured in this run.</p>",
        f"<nav><ol>{toc}</ol></nav>",
    ]
    for o in report.outcomes:
        parts.append(f'<section id="{e(o.key)}"><h2>{e(o.title)}</h2>')
        if o.error:
            parts.append(f'<p>This lesson failed:</p><div class="err">{e(o.error)}</div>')
        else:
            parts.append(f"<p>{e(o.text)}</p>")
        for img in o.images:
            parts.append(f'<p><img src="{e(img)}" alt="{e(o.title)}"></p>')
        parts.append(f'<p class="meta">{o.seconds:.1f} s</p></section>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _readme(report: GalleryReport) -> str:
    lines = ["# descentlab gallery", "",
             f"{len(report.outcomes) - len(report.failed)} of {len(report.outcomes)} lessons ran "
             f"in {report.seconds:.1f} s; the numbers were measured in this run. "
             "Open `index.html` for the page.", ""]
    for o in report.outcomes:
        lines += [f"## {o.title}", ""]
        if o.error:
            lines += ["**Failed:**", "", "```", o.error.rstrip(), "```", ""]
        else:
            lines += [o.text, ""]
        lines += [f"![{o.title}]({img})" for img in o.images] + [""]
    return "\n".join(lines)


def run_gallery(out: str | os.PathLike, lessons: Sequence[str] | None = None,
                progress: Callable[[LessonOutcome], None] | None = None) -> GalleryReport:
    """Run the lessons (all, or those keys in ``lessons``) and write images, index.html and
    README.md into ``out`` (created if needed). ``progress`` is called after each lesson."""
    chosen = LESSONS
    if lessons is not None:
        known = {lesson.key: lesson for lesson in LESSONS}
        unknown = [k for k in lessons if k not in known]
        if unknown:
            raise ValueError(f"unknown lesson(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(known)}")
        chosen = [known[k] for k in lessons]
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    outcomes = []
    for lesson in chosen:
        outcome = _run_one(lesson, path)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    report = GalleryReport(path, outcomes, time.perf_counter() - t0)
    atomic_write_text(path / "index.html", _index_html(report))
    atomic_write_text(path / "README.md", _readme(report))
    return report
