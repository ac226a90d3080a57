"""Analyses of landscapes and optimizers: the notes' lessons as numbers.

- ``lr_sweep``: which step sizes converge monotonically, oscillate, diverge or crawl; on f(w) = w²
  GD is w ← (1 − 2α)w, so α = 0.4 is monotone, 0.6 oscillates yet converges, 1.2 diverges, and
  the threshold is α = 1 = 2/L (L = f'' = 2).
- ``basins_of_attraction``: which minimum each start of a grid ends in.
- ``find_critical_points``: Newton on ∇f = 0 from a grid, deduplicated, classified by the
  eigenvalues of ∇²f.
- ``check_convexity`` / ``condition_number``: sampled chord inequality and Hessian PSD test.
- ``descent_directions``: the sign of ∇f·Δw (a descent direction needs ∇f·Δw < 0).
- ``saddle_escape``: steps each optimizer needs to leave x² − y²'s saddle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .functions import CriticalPoint, Landscape, get_function
from .trajectories import (
    Trajectories,
    batched_hessian,
    grid_starts,
    newton_direction,
    run_trajectories,
)

__all__ = [
    "LR_CLASSES", "LrSweep", "lr_sweep", "gd_stability_bound", "Basins", "basins_of_attraction",
    "classify_hessian", "find_critical_points", "Convexity", "check_convexity",
    "condition_number", "descent_directions", "SaddleEscape", "saddle_escape", "default_start",
]

LR_CLASSES = ("monotone", "oscillating", "diverging", "too_slow")


# ------------------------------------------------------------------------- learning-rate sweep

@dataclass
class LrSweep:
    """Per-α verdicts of a sweep.

    Attributes:
        lrs: the step sizes tried (sorted).  classes: one of LR_CLASSES per α.
        final_gaps: f(x_T) − f* per α (f*: the landscape's known minimum, else the best seen).
        largest_stable_lr: the largest α that did not diverge (None if all diverged); with
            ``refine``, the stable end of the bisected bracket.
        smallest_diverging_lr: the smallest α that diverged (None if none did); with ``refine``,
            the diverging end of the bracket.
        trajectories: the runs, one per α of ``lrs``.
        refine_steps: bisection steps taken between the two (0 without ``refine``).
    """

    lrs: np.ndarray
    classes: list[str]
    final_gaps: np.ndarray
    largest_stable_lr: float | None
    smallest_diverging_lr: float | None
    trajectories: list[Trajectories]
    refine_steps: int = 0

    def table(self) -> list[dict[str, Any]]:
        return [{"lr": float(a), "class": c, "final_gap": float(g)}
                for a, c, g in zip(self.lrs, self.classes, self.final_gaps, strict=True)]


def _classify_path(path: np.ndarray, gaps: np.ndarray, tol: float) -> str:
    """monotone / oscillating / diverging / too_slow for one path (T+1, d) and its f − f* gaps.

    Diverging: the gap grew (or blew up). Too slow: it shrank by less than the factor ``tol``.
    Otherwise oscillating if some coordinate's step reverses sign in most consecutive steps
    (GD's factor 1 − αλ < 0 along that eigen-direction), else monotone.
    """
    g0, gt = gaps[0], gaps[-1]
    if not np.all(np.isfinite(path)) or not np.isfinite(gt) or gt > g0 * (1 + 1e-12):
        return "diverging"
    if gt > tol * g0:
        return "too_slow"
    steps = np.diff(path, axis=0)
    # Ignore steps lost in rounding once the path has arrived.
    scale = np.abs(steps).max(axis=0, keepdims=True)
    live = np.abs(steps) > 1e-12 * np.maximum(scale, 1e-300)
    pairs = live[1:] & live[:-1]
    flips = (steps[1:] * steps[:-1] < 0) & pairs
    counted = pairs.sum(axis=0)
    oscillating = np.any((counted > 0) & (flips.sum(axis=0) > 0.5 * counted))
    return "oscillating" if oscillating else "monotone"


def lr_sweep(function: Landscape | str, lrs: Sequence[float], start: Sequence[float] | None = None,
             optimizer: str = "gd", steps: int = 100, tol: float = 1e-6, refine: int = 0,
             **hyperparameters: Any) -> LrSweep:
    """Run ``optimizer`` once per α in ``lrs`` from ``start`` and classify each run.

    With ``refine`` > 0 the edge of stability is then bisected: between the smallest diverging
    α and the largest stable α below it, ``refine`` more runs halve the bracket, so on f(w) = w²
    the bracket closes on 2/L = 1 whatever the grid (0.6 and 1.2 bracket it only to a factor 2).
    Each verdict is over ``steps`` steps, so off a quadratic's stiffest axis the edge found is
    that of a run of this length (slightly above 2/L when the stiff component starts small).

    Args:
        function: landscape or registry name.
        lrs: step sizes to try (> 0).
        start: start point (default: the domain's upper corner, i.e. away from the minimum).
        optimizer, **hyperparameters: as ``run_trajectories``.
        steps: steps per run.  tol: "converged" means the gap f − f* shrank by this factor.
        refine: bisection steps on the edge of stability (0: report the grid's own α).
    """
    f = get_function(function) if isinstance(function, str) else function
    alphas = np.sort(np.asarray(lrs, dtype=np.float64))
    if alphas.size == 0 or not np.all(alphas > 0):
        raise ValueError(f"lrs must be a non-empty list of positive step sizes, got {list(lrs)}")
    x0 = np.array([hi for _, hi in f.domain] if start is None else start, dtype=np.float64)
    runs = [run_trajectories(f, x0, optimizer, steps, lr=float(a), divergence_radius=np.inf,
                             **hyperparameters) for a in alphas]
    f_star = (min(m.value for m in f.minima) if f.minima
              else min(float(np.nanmin(r.losses)) for r in runs))
    classes, gaps = [], []
    for r in runs:
        gap = r.losses[0] - f_star
        classes.append(_classify_path(r.positions[0], gap, tol))
        gaps.append(gap[-1])
    stable = [a for a, c in zip(alphas, classes, strict=True) if c != "diverging"]
    diverging = [a for a, c in zip(alphas, classes, strict=True) if c == "diverging"]
    low = float(max(stable)) if stable else None
    high = float(min(diverging)) if diverging else None
    if refine > 0 and high is not None:
        # Bisect between the smallest diverging α and the largest stable one below it (0 if none).
        below = [a for a in stable if a < high]
        lo, hi = (float(max(below)) if below else 0.0), high
        for _ in range(refine):
            mid = 0.5 * (lo + hi)
            run = run_trajectories(f, x0, optimizer, steps, lr=mid, divergence_radius=np.inf,
                                   **hyperparameters)
            verdict = _classify_path(run.positions[0], run.losses[0] - f_star, tol)
            lo, hi = (lo, mid) if verdict == "diverging" else (mid, hi)
        low, high = (lo if lo > 0 else None), hi
    return LrSweep(alphas, classes, np.array(gaps), low, high, runs, max(refine, 0))


def gd_stability_bound(function: Landscape | str, point: Sequence[float] | None = None) -> float:
    """2/L with L = λmax(∇²f) at ``point`` (default: the first known minimum).

    For a quadratic, GD multiplies each eigen-component by 1 − αλ, so it converges iff α < 2/L
    (and without oscillation iff α ≤ 1/L).
    """
    f = get_function(function) if isinstance(function, str) else function
    x = np.array(point if point is not None else f.minima[0].location, dtype=np.float64)
    lam_max = float(np.linalg.eigvalsh(f.hessian(x)).max())
    if lam_max <= 0:
        raise ValueError(f"{f.name}: ∇²f has no positive eigenvalue at {x.tolist()}; 2/L is "
                         "defined only where the landscape curves upwards")
    return 2.0 / lam_max


# ------------------------------------------------------------------------- basins of attraction

@dataclass
class Basins:
    """Which minimum each grid start reached.

    Attributes:
        labels: (ny, nx) index into ``minima`` (−1: none within ``radius`` at the end).
        minima: the candidate minima.  xs, ys: grid coordinates (labels[i, j] ↔ (xs[j], ys[i])).
        trajectories: the run (K = nx·ny starts, row-major over (y, x)).
    """

    labels: np.ndarray
    minima: list[CriticalPoint]
    xs: np.ndarray
    ys: np.ndarray
    trajectories: Trajectories

    def fractions(self) -> np.ndarray:
        """Share of the grid per minimum (and, last, the share that reached none)."""
        n = len(self.minima)
        return np.bincount(np.where(self.labels < 0, n, self.labels).ravel(),
                           minlength=n + 1) / self.labels.size


def basins_of_attraction(function: Landscape | str, optimizer: str = "gd", n: int = 100,
                         steps: int = 500, radius: float = 1e-2,
                         domain: tuple[tuple[float, float], ...] | None = None,
                         minima: Sequence[CriticalPoint] | None = None,
                         **hyperparameters: Any) -> Basins:
    """Label an n×n grid of starts by the minimum ``optimizer`` reaches (nearest within radius).

    ``minima`` defaults to every known minimum of the landscape, local ones included (for
    Himmelblau: its four minima).
    """
    f = get_function(function) if isinstance(function, str) else function
    if f.dim != 2:
        raise ValueError(f"basins need a 2-D landscape; {f.name} has dim={f.dim}")
    if not 2 <= n <= 2000:
        raise ValueError(f"n={n} grid points per side is outside 2..2000")
    box = domain or f.domain
    targets = list(minima) if minima is not None else [c for c in f.critical_points
                                                       if c.kind == "minimum"]
    if not targets:
        raise ValueError(f"{f.name} has no known minima; pass minima=[...] "
                         "(e.g. from find_critical_points)")
    run = run_trajectories(f, grid_starts(box, n), optimizer, steps, record_every=max(steps, 1),
                           **hyperparameters)
    locs = np.array([m.location for m in targets])
    dist = np.linalg.norm(run.final_positions[:, None, :] - locs[None], axis=-1)
    nearest = np.nanargmin(np.where(np.isfinite(dist), dist, np.inf), axis=1)
    labels = np.where(dist[np.arange(len(dist)), nearest] < radius, nearest, -1)
    return Basins(labels.reshape(n, n), targets, np.linspace(*box[0], n),
                  np.linspace(*box[1], n), run)


# ------------------------------------------------------------------------------ critical points

def classify_hessian(hessian: np.ndarray, rel_tol: float = 1e-6) -> np.ndarray:
    """Kind of each (…, d, d) Hessian: minimum (all λ > 0), maximum (all λ < 0), saddle (both
    signs), degenerate (some |λ| ≤ rel_tol·max(1, max|λ|) and no opposite signs)."""
    eig = np.linalg.eigvalsh(hessian)
    tol = rel_tol * np.maximum(1.0, np.abs(eig).max(-1, keepdims=True))
    pos, neg = (eig > tol).any(-1), (eig < -tol).any(-1)
    flat = (np.abs(eig) <= tol).any(-1)
    return np.where(pos & neg, "saddle",
                    np.where(flat, "degenerate", np.where(pos, "minimum", "maximum")))


def find_critical_points(function: Landscape | str, n: int = 30, max_iter: int = 50,
                         gtol: float = 1e-9, merge_tol: float = 1e-5,
                         domain: tuple[tuple[float, float], ...] | None = None
                         ) -> list[CriticalPoint]:
    """Solve ∇f = 0 by Newton from an n×n grid, keep the solutions inside the domain, merge
    duplicates, and classify each by the eigenvalues of ∇²f (``classify_hessian``).

    Newton on ∇f = 0 is x ← x − (∇²f)⁻¹∇f: it converges to whatever critical point is nearby,
    saddles and maxima included, which is what we want here (and why Newton needs care as an
    optimizer). Returns the points sorted by value.
    """
    f = get_function(function) if isinstance(function, str) else function
    if f.dim != 2:
        raise ValueError(f"find_critical_points searches a 2-D grid; {f.name} has dim={f.dim}")
    box = np.array(domain or f.domain, dtype=np.float64)
    x = grid_starts(tuple(map(tuple, box)), n)
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            g = f.grad(x)
            x = x - newton_direction(batched_hessian(f, x), g)
            x = x[np.all(np.isfinite(x), axis=1)]
        value, g = f.value_and_grad(x)
    span = box[:, 1] - box[:, 0]
    inside = np.all((x >= box[:, 0] - 1e-9 * span) & (x <= box[:, 1] + 1e-9 * span), axis=1)
    scale = max(1.0, float(np.nanmax(np.abs(value[inside]))) if inside.any() else 1.0)
    keep = inside & (np.linalg.norm(g, axis=1) < gtol * scale)
    x, value = x[keep], value[keep]
    unique: list[np.ndarray] = []
    for p in x[np.argsort(value)]:
        if all(np.linalg.norm(p - q) > merge_tol * max(1.0, np.linalg.norm(q)) for q in unique):
            unique.append(p)
    if not unique:
        return []
    pts = np.array(unique)
    kinds = classify_hessian(batched_hessian(f, pts))
    values = f.value(pts)
    return [CriticalPoint(tuple(float(v) for v in p), float(v), str(k))
            for p, v, k in zip(pts, values, kinds, strict=True)]


# ---------------------------------------------------------------------------------- convexity

@dataclass
class Convexity:
    """Verdict of the sampled convexity test.

    Attributes:
        convex: True when no counterexample was found among the samples (evidence, not proof).
        counterexample: None, or a dict: kind "chord" (x, y, t, f(tx+(1−t)y), chord value) or
            kind "hessian" (point, min_eigenvalue).
        min_hessian_eigenvalue: the smallest λ(∇²f) over the sampled points.
        samples: pairs (and points) tested.
    """

    convex: bool
    counterexample: dict[str, Any] | None
    min_hessian_eigenvalue: float
    samples: int

    @property
    def verdict(self) -> str:
        return "convex (no counterexample in the samples)" if self.convex else "not convex"


def check_convexity(function: Landscape | str, samples: int = 2000, seed: int = 0,
                    domain: tuple[tuple[float, float], ...] | None = None,
                    rel_tol: float = 1e-9) -> Convexity:
    """Test f(t·x + (1−t)·y) ≤ t·f(x) + (1−t)·f(y) on random pairs and λmin(∇²f) ≥ 0 on random
    points of the domain; report the worst violation as the counterexample.
    """
    f = get_function(function) if isinstance(function, str) else function
    if samples < 1:
        raise ValueError(f"samples={samples} must be >= 1")
    box = np.array(domain or f.domain, dtype=np.float64)
    rng = np.random.default_rng(seed)
    a = rng.uniform(box[:, 0], box[:, 1], size=(samples, f.dim))
    b = rng.uniform(box[:, 0], box[:, 1], size=(samples, f.dim))
    t = rng.uniform(0.0, 1.0, size=samples)
    mid = t[:, None] * a + (1 - t[:, None]) * b
    fa, fb, fm = f.value(a), f.value(b), f.value(mid)
    chord = t * fa + (1 - t) * fb
    scale = np.maximum(1.0, np.abs(chord))
    excess = (fm - chord) / scale
    lam = np.linalg.eigvalsh(batched_hessian(f, a)).min(-1)
    lam_scale = np.maximum(1.0, np.abs(np.linalg.eigvalsh(batched_hessian(f, a))).max(-1))
    counter: dict[str, Any] | None = None
    i = int(np.argmax(excess))
    j = int(np.argmin(lam / lam_scale))
    if excess[i] > rel_tol:
        counter = {"kind": "chord", "x": a[i].tolist(), "y": b[i].tolist(), "t": float(t[i]),
                   "f_between": float(fm[i]), "chord": float(chord[i])}
    elif lam[j] / lam_scale[j] < -rel_tol:
        counter = {"kind": "hessian", "point": a[j].tolist(), "min_eigenvalue": float(lam[j])}
    return Convexity(counter is None, counter, float(lam.min()), samples)


def condition_number(function: Landscape | str, point: Sequence[float] | None = None) -> float:
    """κ = λmax/λmin of ∇²f at ``point`` (default: the first known minimum); inf if λmin ≤ 0.

    For a quadratic the Hessian is constant, so this is its condition number everywhere.
    """
    f = get_function(function) if isinstance(function, str) else function
    x = np.array(point if point is not None else f.minima[0].location, dtype=np.float64)
    eig = np.linalg.eigvalsh(f.hessian(x))
    return float(eig.max() / eig.min()) if eig.min() > 0 else float("inf")


# ------------------------------------------------------------------------ descent directions

def descent_directions(function: Landscape | str, points: Any, directions: Any
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(∇f(w)·Δw, is_descent) for matching batches of points and directions, shape (K,).

    Δw is a descent direction iff ∇f(w)ᵀΔw < 0; Δw = −∇f always is, since −‖∇f‖² < 0 wherever
    ∇f ≠ 0.
    """
    f = get_function(function) if isinstance(function, str) else function
    w = np.atleast_2d(np.asarray(points, dtype=np.float64))
    dw = np.broadcast_to(np.asarray(directions, dtype=np.float64), w.shape)
    slope = (f.grad(w) * dw).sum(-1)
    return slope, slope < 0


# ------------------------------------------------------------------------------ saddle escape

@dataclass
class SaddleEscape:
    """Steps each optimizer took to leave the saddle (None: still stuck after ``steps``).

    Escape means f dropped below f(saddle) − depth, i.e. the run found the descending valley.
    """

    steps_to_escape: dict[str, int | None]
    trajectories: dict[str, Trajectories]
    start: np.ndarray
    depth: float


SADDLE_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "gd": {"optimizer": "gd", "lr": 0.01},
    "momentum": {"optimizer": "momentum", "lr": 0.01, "momentum": 0.9},
    "adam": {"optimizer": "adam", "lr": 0.01},
    "noisy_gd": {"optimizer": "gd", "lr": 0.01, "grad_noise": 0.01},
}


def saddle_escape(start: Sequence[float] = (1.0, 1e-10), steps: int = 1000, depth: float = 1.0,
                  runs: dict[str, dict[str, Any]] | None = None, seed: int = 0) -> SaddleEscape:
    """Start next to x² − y²'s saddle on its attracting axis and count steps to escape.

    From (1, ε) GD multiplies y by (1 + 2α) per step, so it needs ~ln(1/ε)/(2α) steps (≈1150 for
    ε = 1e-10, α = 0.01): it stalls. Momentum compounds that growth, Adam's normalised step moves
    y by ~α per step whatever the gradient's size, and gradient noise kicks y off the axis.
    """
    f = get_function("saddle")
    runs = SADDLE_OPTIMIZERS if runs is None else runs
    x0 = np.array(start, dtype=np.float64)
    out: dict[str, int | None] = {}
    paths: dict[str, Trajectories] = {}
    for label, spec in runs.items():
        spec = dict(spec)
        opt = spec.pop("optimizer")
        run = run_trajectories(f, x0, opt, steps, seed=seed, divergence_radius=np.inf, **spec)
        below = np.nonzero(run.losses[0] < -depth)[0]
        out[label] = int(run.recorded_steps[below[0]]) if below.size else None
        paths[label] = run
    return SaddleEscape(out, paths, x0, depth)


def default_start(function: Landscape | str) -> np.ndarray:
    """A start point away from the minima: 1/8 of the way across the domain in every coordinate
    but the second, 7/8 in the second (near the upper-left corner of a 2-D plot).

        x₀ᵢ = lowᵢ + 0.125·(highᵢ − lowᵢ),  x₀₁ = low₁ + 0.875·(high₁ − low₁)
    """
    f = get_function(function) if isinstance(function, str) else function
    lows = np.array([lo for lo, _ in f.domain], dtype=np.float64)
    highs = np.array([hi for _, hi in f.domain], dtype=np.float64)
    start = lows + 0.125 * (highs - lows)
    if f.dim >= 2:
        start[1] = lows[1] + 0.875 * (highs[1] - lows[1])
    return start
