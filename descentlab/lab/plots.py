"""Pictures of the lab's results: each function returns a matplotlib ``Figure``; ``save`` writes it.

Figures are built with the object API (``matplotlib.figure.Figure`` on an Agg canvas), never
through ``pyplot``: library code must not open windows, touch a global figure registry or leak
figures in long-running processes. Each optimizer name has a fixed colour (``color_for``) so the
same method looks the same in every picture.

Data shapes (what each plot expects):

- paths: ``{label: positions}`` with positions (R, 2), (K, R, 2), or a ``Trajectories``.
- curves: ``{label: y}`` or ``{label: (x, y)}``.
- lr sweep: an ``LrSweep`` (lrs, classes, trajectories[i].positions (1, R, d)).
- basins: a ``Basins`` (labels (ny, nx) with −1 for "none", xs, ys, minima).
- per-layer gradient norms: ``{config: [‖∇W₁‖, …, ‖∇W_L‖]}`` (layer 1 = nearest the input).
- NN loss landscape: 1-D ``alphas`` (T,) and ``{label: losses (T,)}``; 2-D ``xs`` (nx,),
  ``ys`` (ny,), ``Z`` (ny, nx).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.animation import Animation, FuncAnimation, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .._fileio import atomic_path

__all__ = [
    "OPTIMIZER_COLORS", "LR_CLASS_COLORS", "color_for", "new_figure", "save",
    "contour_trajectories", "surface_3d", "loss_curves", "lr_sweep_panels", "basin_map",
    "gradient_norms_per_layer", "landscape_1d", "landscape_2d", "animate_trajectories",
    "as_paths", "panel_curves", "descent_directions_plot", "chord_slices", "clip_path_to_box",
    "CRITICAL_POINT_STYLES", "critical_points_plot",
]

OPTIMIZER_COLORS: dict[str, str] = {
    "gd": "#1f77b4", "sgd": "#1f77b4", "momentum": "#ff7f0e", "nesterov": "#d62728",
    "adagrad": "#8c564b", "rmsprop": "#9467bd", "adadelta": "#7f7f7f", "adam": "#2ca02c",
    "adamw": "#17becf", "adamax": "#bcbd22", "nadam": "#e377c2", "radam": "#aec7e8",
    "lion": "#ff9896", "newton": "#000000", "bfgs": "#c49c94", "lbfgs": "#9edae5",
    "noisy_gd": "#98df8a",
}
LR_CLASS_COLORS: dict[str, str] = {
    "monotone": "#2ca02c", "oscillating": "#ff7f0e", "diverging": "#d62728",
    "too_slow": "#7f7f7f",
}
_FALLBACK = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
             "#31a354", "#756bb1", "#636363")
_TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
NONFINITE_HATCH = "xx"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "*")
_ON_TOP_STYLES = ("--", ":", "-.")
_SAME_CURVE_LOG10 = 0.05  # curves closer than this everywhere (a factor 1.12) overlap on a log plot
DEFAULT_SIZE = (6.4, 4.8)
DEFAULT_DPI = 100


def color_for(name: str) -> str:
    """The fixed colour of an optimizer (``"adam"``, ``"Adam lr=0.01"`` → adam's colour).

    Unknown names get a colour from a stable hash of the name, so reruns never reshuffle them.
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[key]
    head = key.split("_")[0].split("(")[0]
    for cand in (head, key.split("(")[0]):
        if cand in OPTIMIZER_COLORS:
            return OPTIMIZER_COLORS[cand]
    return _FALLBACK[zlib.crc32(key.encode()) % len(_FALLBACK)]


def new_figure(figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """A Figure on its own Agg canvas with constrained layout (no pyplot, no global state).

    Saved images are exactly figsize·dpi pixels (``save`` never crops).
    """
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure | Animation, path: str | os.PathLike, *, fps: int = 10,
         dpi: float | None = None) -> Path:
    """Write a Figure (PNG, SVG or PDF by suffix) or an Animation (GIF) atomically.

    The image goes to a temporary file in the target folder first and is renamed over ``path``,
    so a reader never sees half an image. The parent folder is created if needed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    is_anim = isinstance(fig, Animation)
    if is_anim and suffix != ".gif":
        raise ValueError(f"an animation is saved as .gif, not {suffix or 'no suffix'!r} ({path})")
    if not is_anim and suffix not in (".png", ".svg", ".pdf"):
        raise ValueError(f"cannot save a figure as {suffix or 'no suffix'!r} ({path}); use .png, "
                         ".svg or .pdf (.gif is for animate_trajectories)")
    with atomic_path(path, suffix=suffix) as tmp:
        if is_anim:
            anim_fig = fig._fig  # the public Animation API has no getter for its figure
            fig.save(tmp, writer=_DrawnFrameWriter(fps=fps), dpi=dpi or anim_fig.dpi)
        else:
            fig.savefig(tmp, format=suffix[1:], dpi=dpi or "figure")
    return path


class _DrawnFrameWriter(PillowWriter):
    """PillowWriter that takes each frame from the canvas the animation has just drawn.

    ``Animation.save`` draws every frame once itself; the stock writer then re-renders it through
    ``savefig``, doubling the cost of a GIF. The pixels are identical, since both are Agg renders
    of the same figure at its own dpi.
    """

    def grab_frame(self, **savefig_kwargs: Any) -> None:
        canvas = self.fig.canvas
        if savefig_kwargs or self.dpi != self.fig.dpi:
            super().grab_frame(**savefig_kwargs)
            return
        # Animation.save has just drawn the frame (draw_idle draws at once on an Agg canvas).
        self._frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB"))


# ------------------------------------------------------------------------------------ helpers

def as_paths(value: Any) -> np.ndarray:
    """(K, R, 2) positions from a Trajectories, an (R, d) path or a (K, R, d) stack."""
    pos = getattr(value, "positions", value)
    arr = np.asarray(pos, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"a path must have shape (R, d) or (K, R, d), got {arr.shape}")
    return arr


def _domain(function: Any, domain: Any, paths: Mapping[str, Any] | None = None
            ) -> tuple[tuple[float, float], tuple[float, float]]:
    if domain is not None:
        (x0, x1), (y0, y1) = domain
        return (float(x0), float(x1)), (float(y0), float(y1))
    box = [list(map(float, r)) for r in function.domain[:2]]
    if len(box) != 2:
        raise ValueError(f"{function.name} is {function.dim}-D; a contour needs a 2-D landscape")
    return (box[0][0], box[0][1]), (box[1][0], box[1][1])


def _grid(function: Any, xr: tuple[float, float], yr: tuple[float, float], n: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys = np.linspace(*xr, n), np.linspace(*yr, n)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        z = function.value(np.stack([gx, gy], axis=-1))
    return gx, gy, np.asarray(z, dtype=np.float64)


def _contour_levels(z: np.ndarray, levels: int, log: bool | None) -> tuple[np.ndarray, bool]:
    """Level values for f on a grid: log-spaced above min f when f spans many decades."""
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return np.linspace(0, 1, levels), False
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        hi = lo + 1.0
    if log is None:
        med = float(np.median(finite))
        log = (hi - lo) > 8 * max(med - lo, 1e-12)
    if log:
        span = hi - lo
        return lo + np.geomspace(span * 1e-4, span, levels), True
    return np.linspace(lo, hi, levels), False


def _draw_contour(ax: Any, function: Any, xr: tuple[float, float], yr: tuple[float, float],
                  n: int, levels: int, log: bool | None, filled: bool = True) -> None:
    """Contour lines (and fill) of f over the box; where f is NaN or ±inf the box is left blank
    and hatched, with a legend entry, instead of being coloured."""
    gx, gy, z = _grid(function, xr, yr, n)
    lv, _ = _contour_levels(z, levels, log)
    bad = ~np.isfinite(z)
    z = np.where(bad, np.nan, z)
    if filled:
        ax.contourf(gx, gy, z, levels=lv, cmap="viridis", alpha=0.85, extend="both")
    ax.contour(gx, gy, z, levels=lv, colors="k", linewidths=0.3, alpha=0.5)
    if bad.any():
        ax.contourf(gx, gy, bad.astype(np.float64), levels=[0.5, 1.5], colors="none",
                    hatches=[NONFINITE_HATCH])
        ax.fill([], [], facecolor="none", edgecolor="0.2", hatch=NONFINITE_HATCH,
                label=f"f not finite ({bad.mean():.1%} of the box)")
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)


def clip_path_to_box(path: np.ndarray, xr: tuple[float, float], yr: tuple[float, float]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The part of a 2-D path inside the box, and where it left the box.

    Each segment p_k → p_{k+1} is cut to the box (Liang–Barsky: p_k + t·(p_{k+1} − p_k) stays
    inside for t in [t_in, t_out]); pieces that do not join are separated by a NaN row, so one
    ``plot`` call draws them. A segment that ends outside (or at a NaN/inf point) leaves the box:
    its last inside point is an exit.

    Returns:
        (inside (M, 2) with NaN breaks, exits (E, 2) on the box's edge, exit directions (E, 2)).
    """
    p = np.asarray(path, dtype=np.float64)[:, :2]
    a, b = p[:-1], p[1:]
    finite_a = np.all(np.isfinite(a), axis=1)
    finite_b = np.all(np.isfinite(b), axis=1)
    lo = np.array([xr[0], yr[0]])
    hi = np.array([xr[1], yr[1]])
    with np.errstate(all="ignore"):
        d = np.where(finite_b[:, None], b - a, 0.0)
        t_in = np.zeros(len(a))
        t_out = np.where(finite_b, 1.0, 0.0)
        visible = finite_a & np.all((a >= lo) | (d > 0), axis=1) & np.all((a <= hi) | (d < 0),
                                                                            axis=1)
        for axis in range(2):
            for bound, sign in ((lo[axis], -1.0), (hi[axis], 1.0)):
                # Crossing t of the line x = bound; entering when moving inward, leaving outward.
                step = d[:, axis]
                t = (bound - a[:, axis]) / step
                moving_out = sign * step > 0
                moving_in = sign * step < 0
                t_out = np.where(moving_out, np.minimum(t_out, t), t_out)
                t_in = np.where(moving_in, np.maximum(t_in, t), t_in)
        visible &= t_in <= t_out
    start = a + t_in[:, None] * d
    end = a + t_out[:, None] * d
    leaves = visible & ((t_out < 1.0) | ~finite_b)
    joins_next = np.zeros(len(a), dtype=bool)
    joins_next[:-1] = visible[:-1] & ~leaves[:-1] & visible[1:] & (t_in[1:] == 0.0)
    joined_prev = np.zeros(len(a), dtype=bool)
    joined_prev[1:] = joins_next[:-1]
    rows = np.stack([start, end, np.full_like(start, np.nan)], axis=1)
    keep = np.stack([visible & ~joined_prev, visible, visible & ~joins_next], axis=1)
    inside = rows[keep]
    if len(p) == 1 and np.all(np.isfinite(p[0])) and np.all((p[0] >= lo) & (p[0] <= hi)):
        inside = p.copy()
    # A step to NaN/inf has no direction of its own: show the one of the step before it.
    direction = d.copy()
    stalled = np.flatnonzero(~finite_b & visible)
    direction[stalled] = np.where(stalled[:, None] > 0, d[np.maximum(stalled - 1, 0)], 0.0)
    return inside, end[leaves], direction[leaves]


def _in_box(point: np.ndarray, xr: tuple[float, float], yr: tuple[float, float]) -> bool:
    return bool(np.all(np.isfinite(point)) and xr[0] <= point[0] <= xr[1]
                and yr[0] <= point[1] <= yr[1])


def _mark_minima(ax: Any, function: Any, label: bool = True) -> None:
    minima = list(getattr(function, "minima", []) or [])
    if not minima or getattr(function, "dim", 2) != 2:
        return
    loc = np.array([m.location for m in minima])
    ax.plot(loc[:, 0], loc[:, 1], linestyle="none", marker="*", markersize=14,
            markerfacecolor="gold", markeredgecolor="k", label="known minimum" if label else None,
            zorder=6)


def _title(function: Any) -> str:
    return getattr(function, "name", "f")


# --------------------------------------------------------------------------------- the plots

def contour_trajectories(function: Any, paths: Mapping[str, Any], *,
                         domain: Any = None, levels: int = 30, log_levels: bool | None = None,
                         resolution: int = 200, title: str | None = None,
                         mark_minima: bool = True, figsize: tuple[float, float] = DEFAULT_SIZE,
                         dpi: int = DEFAULT_DPI) -> Figure:
    """Contour of a 2-D landscape with one coloured path per optimizer, start (○) and end (✕)
    markers, and the known minima as gold stars.

    Paths are cut at the frame: where one leaves it, a triangle in its colour on the edge points
    the way it went (and a path whose end lies outside gets no ✕).

    Args:
        function: a 2-D ``Landscape``.
        paths: ``{label: Trajectories | (R, 2) | (K, R, 2)}``; a label's colour is its
            optimizer's (``color_for``).
        domain: ((x0, x1), (y0, y1)); default the landscape's plot box.
        log_levels: space the contour levels logarithmically (default: when f spans decades).
    """
    xr, yr = _domain(function, domain)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    _draw_contour(ax, function, xr, yr, resolution, levels, log_levels)
    left = False
    for label, value in paths.items():
        arr = as_paths(value)
        c = color_for(label)
        for k, path in enumerate(arr):
            inside, exits, directions = clip_path_to_box(path[:, :2], xr, yr)
            p = path[:, :2]
            if inside.size:
                ax.plot(inside[:, 0], inside[:, 1], "-", color=c, lw=1.6, alpha=0.95,
                        label=label if k == 0 else None, zorder=4)
            if _in_box(p[0], xr, yr):
                ax.plot(p[0, 0], p[0, 1], "o", color=c, markeredgecolor="white", ms=7, zorder=5)
            if _in_box(p[-1], xr, yr):
                ax.plot(p[-1, 0], p[-1, 1], "X", color=c, markeredgecolor="white", ms=9,
                        zorder=5)
            for (ex, ey), (dx, dy) in zip(exits, directions):
                left = True
                # A triangle marker (3 sides) rotated so its tip points along the step taken.
                angle = np.degrees(np.arctan2(dy, dx)) - 90.0 if dx or dy else 0.0
                ax.plot(ex, ey, marker=(3, 0, angle), color=c, markeredgecolor="k", ms=11,
                        linestyle="none", zorder=6, clip_on=False)
    if left:
        ax.plot([], [], marker=(3, 0, -90.0), color="0.6", markeredgecolor="k", ms=9,
                linestyle="none", label="left the frame here")
    if mark_minima:
        _mark_minima(ax, function)
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"{_title(function)}: optimizer paths (○ start, ✕ end)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return fig


def surface_3d(function: Any, *, domain: Any = None, resolution: int = 80,
               paths: Mapping[str, Any] | None = None, log_z: bool = False,
               title: str | None = None, elev: float = 35.0, azim: float = -60.0,
               figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """3-D surface of a 2-D landscape (optionally with paths drawn on it; log₁₀(1 + f − min f)
    with ``log_z`` for landscapes like Rosenbrock whose walls dwarf the valley)."""
    xr, yr = _domain(function, domain)
    gx, gy, z = _grid(function, xr, yr, resolution)
    zmin = float(np.nanmin(np.where(np.isfinite(z), z, np.nan)))

    def tr(v: np.ndarray) -> np.ndarray:
        return np.log10(1.0 + np.maximum(v - zmin, 0.0)) if log_z else v

    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(gx, gy, tr(z), cmap="viridis", linewidth=0, antialiased=True, alpha=0.8)
    for label, value in (paths or {}).items():
        for k, path in enumerate(as_paths(value)):
            p = path[np.all(np.isfinite(path[:, :2]), axis=1), :2]
            if p.size:
                ax.plot(p[:, 0], p[:, 1], tr(function.value(p)), color=color_for(label), lw=2,
                        label=label if k == 0 else None)
    if paths:
        ax.legend(fontsize=8)
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("log₁₀(1 + f − min f)" if log_z else "f(x, y)")
    ax.set_title(title or f"{_title(function)}: surface")
    return fig


def _curve_xy(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """A curve given as ``y`` (x = 0, 1, …) or as an ``(x, y)`` pair, as float arrays."""
    if isinstance(value, tuple) and len(value) == 2:
        x, y = (np.asarray(v, dtype=np.float64).ravel() for v in value)
        return x, y
    y = np.asarray(value, dtype=np.float64).ravel()
    return np.arange(y.size, dtype=np.float64), y


def loss_curves(curves: Mapping[str, Any], *, log: bool = True, xlabel: str = "step",
                ylabel: str = "loss", title: str = "Loss curves",
                vlines: Sequence[float] | None = None, vline_label: str | None = None,
                figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """One line per run: ``{label: y}`` (x = 0, 1, …) or ``{label: (x, y)}``; log-scale y by
    default (non-positive values are dropped from a log plot); optional vertical markers (e.g.
    epoch boundaries)."""
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    for label, value in curves.items():
        x, y = _curve_xy(value)
        ok = np.isfinite(y) & np.isfinite(x)
        if log:
            ok &= y > 0
        ax.plot(x[ok], y[ok], color=color_for(label), lw=1.5, label=str(label))
    for i, v in enumerate(vlines or ()):
        ax.axvline(v, color="0.6", lw=0.6, ls=":", label=vline_label if i == 0 else None)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if curves:
        ax.legend(fontsize=8)
    return fig


def lr_sweep_panels(sweep: Any, *, coordinate: int = 0, title: str | None = None,
                    max_panels: int = 12, dpi: int = DEFAULT_DPI) -> Figure:
    """One panel per step size α: w_k (one coordinate) against k, coloured by the sweep's verdict
    (monotone / oscillating / diverging / too slow), with the optimum w* = 0 line.

    ``sweep`` is an ``LrSweep`` or any object with ``lrs``, ``classes`` and ``trajectories``
    (each with ``positions`` (1, R, d) and ``recorded_steps``).
    """
    lrs = list(np.asarray(sweep.lrs, dtype=np.float64))[:max_panels]
    n = len(lrs)
    if n == 0:
        raise ValueError("lr_sweep_panels: the sweep has no step sizes")
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig = new_figure((3.2 * cols, 2.6 * rows + 0.4), dpi)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    target = 0.0
    fn = getattr(sweep.trajectories[0], "function", None) if sweep.trajectories else None
    if fn is not None and getattr(fn, "minima", None):
        target = float(fn.minima[0].location[coordinate])
    for ax, a, cls, run in zip(axes, lrs, sweep.classes, sweep.trajectories):
        w = np.asarray(run.positions, dtype=np.float64)[0, :, coordinate]
        k = np.asarray(getattr(run, "recorded_steps", np.arange(w.size)))
        c = LR_CLASS_COLORS.get(cls, "#1f77b4")
        ok = np.isfinite(w)
        ax.axhline(target, color="0.5", lw=0.8, ls="--")
        ax.plot(k[ok], w[ok], "-o", color=c, ms=3, lw=1.2)
        ax.set_title(f"α = {a:g}: {cls.replace('_', ' ')}", color=c, fontsize=10)
        ax.set_xlabel("step k")
        ax.set_ylabel(f"w_k[{coordinate}]" if w.ndim else "w_k")
        big = np.abs(w[ok]).max() if ok.any() else 1.0
        if big > 1e3:
            ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(True, alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title or "Learning-rate sweep: w_k against k per α")
    return fig


def basin_map(basins: Any, *, function: Any = None, title: str | None = None,
              contour: bool = True, figsize: tuple[float, float] = DEFAULT_SIZE,
              dpi: int = DEFAULT_DPI) -> Figure:
    """The grid of starts coloured by the minimum each reached (grey: none), minima as stars.

    ``basins`` is a ``Basins`` (labels (ny, nx), xs, ys, minima); the landscape (for contour
    lines) is taken from ``basins.trajectories.function`` unless given.
    """
    labels = np.asarray(basins.labels)
    xs, ys = np.asarray(basins.xs), np.asarray(basins.ys)
    minima = list(basins.minima)
    n = len(minima)
    palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
               "#ff9da7", "#9c755f", "#bab0ac"]
    cmap = mcolors.ListedColormap(["#d0d0d0"] + [palette[i % len(palette)] for i in range(n)])
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1) / 2
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1) / 2
    ax.imshow(labels + 1, origin="lower", cmap=cmap, vmin=-0.5, vmax=n + 0.5,
              extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy), aspect="auto",
              interpolation="nearest")
    function = function or getattr(getattr(basins, "trajectories", None), "function", None)
    if contour and function is not None:
        _draw_contour(ax, function, (xs[0], xs[-1]), (ys[0], ys[-1]), 150, 20, None,
                      filled=False)
    counts = np.bincount(np.where(labels < 0, n, labels).ravel(), minlength=n + 1)
    for i, m in enumerate(minima):
        share = counts[i] / labels.size
        ax.plot(m.location[0], m.location[1], "*", ms=16, markerfacecolor=cmap(i + 1),
                markeredgecolor="k",
                label=f"({m.location[0]:.2f}, {m.location[1]:.2f}): {share:.0%}")
    if counts[n]:
        ax.plot([], [], "s", color="#d0d0d0", label=f"no minimum: {counts[n] / labels.size:.0%}")
    ax.set_xlim(xs[0] - dx, xs[-1] + dx)
    ax.set_ylim(ys[0] - dy, ys[-1] + dy)
    ax.set_xlabel("start x")
    ax.set_ylabel("start y")
    opt = getattr(getattr(basins, "trajectories", None), "optimizer", "")
    ax.set_title(title or f"Basins of attraction{' (' + opt + ')' if opt else ''}")
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    return fig


def gradient_norms_per_layer(norms: Mapping[str, Sequence[float]], *, title: str | None = None,
                             xlabel: str = "layer (1 = input side)",
                             ylabel: str = "‖∂L/∂W‖ (log scale)",
                             figsize: tuple[float, float] = DEFAULT_SIZE,
                             dpi: int = DEFAULT_DPI) -> Figure:
    """Per-layer gradient norms, one line per configuration (activation / init / remedy), log y.

    A line falling towards layer 1 is the vanishing gradient; one rising is the exploding one.
    Every curve has its own colour and marker. A curve that lies on an earlier one (within 12 %
    at every layer, e.g. clipping that leaves the norms unchanged) is drawn dashed with hollow
    markers on top of it and says so in the legend, so no curve hides another.
    """
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    drawn: list[tuple[str, np.ndarray]] = []
    palette = _TAB10 + _FALLBACK
    for i, (label, values) in enumerate(norms.items()):
        v = np.asarray(values, dtype=np.float64).ravel()
        layers = np.arange(1, v.size + 1)
        ok = np.isfinite(v) & (v > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logv = np.where(ok, np.log10(np.where(ok, v, 1.0)), np.nan)
        under = [name for name, other in drawn
                 if other.shape == logv.shape and np.any(ok)
                 and np.all(np.isnan(other) == np.isnan(logv))
                 and np.nanmax(np.abs(other - logv)) < _SAME_CURVE_LOG10]
        style: dict[str, Any] = dict(color=palette[i % len(palette)],
                                     marker=_MARKERS[i % len(_MARKERS)], ms=4, lw=1.4)
        text = str(label)
        if under:
            style.update(ls=_ON_TOP_STYLES[(len(under) - 1) % len(_ON_TOP_STYLES)], lw=1.8,
                         ms=8, markerfacecolor="none", markeredgewidth=1.4, zorder=3)
            text += f" (on {under[0]})"
        ax.plot(layers[ok], v[ok], label=text, **style)
        drawn.append((str(label), logv))
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Gradient norm per layer")
    ax.grid(True, which="both", alpha=0.3)
    if len(norms) > 6:
        # Below the axes: inside, a long legend would cover the lowest curves.
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  borderaxespad=0.0)
    elif norms:
        ax.legend(fontsize=7)
    return fig


def landscape_1d(alphas: Sequence[float], losses: Mapping[str, Sequence[float]] | Sequence[float],
                 *, log: bool = False, title: str = "Loss along the line θ(α) = (1−α)θ₀ + αθ₁",
                 xlabel: str = "α", ylabel: str = "loss",
                 figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """1-D slice of a network's loss: loss(α) for one or several curves (e.g. train / test),
    with the end points α = 0 and 1 marked."""
    a = np.asarray(alphas, dtype=np.float64)
    curves = losses if isinstance(losses, Mapping) else {"loss": losses}
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    for i, (label, y) in enumerate(curves.items()):
        ax.plot(a, np.asarray(y, dtype=np.float64), lw=1.6, label=str(label),
                color=_TAB10[i % 10])
    for end in (0.0, 1.0):
        if a.min() <= end <= a.max():
            ax.axvline(end, color="0.5", lw=0.8, ls="--")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def landscape_2d(xs: Sequence[float], ys: Sequence[float], Z: Any, *, log: bool = True,
                 levels: int = 30, title: str = "Loss around θ* along two normalized directions",
                 xlabel: str = "direction δ", ylabel: str = "direction η",
                 figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """2-D contour of a network's loss on the plane θ* + a·δ + b·η (Li et al. 2018); Z (ny, nx),
    θ* (the origin) marked; log-spaced levels by default."""
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    z = np.asarray(Z, dtype=np.float64)
    if z.shape != (y.size, x.size):
        raise ValueError(f"landscape_2d: Z has shape {z.shape}, expected (len(ys), len(xs)) = "
                         f"({y.size}, {x.size})")
    lv, _ = _contour_levels(z, levels, log)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    cs = ax.contourf(x, y, np.where(np.isfinite(z), z, np.nan), levels=lv, cmap="viridis",
                     extend="both")
    ax.contour(x, y, z, levels=lv, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(cs, ax=ax, label="loss")
    if x.min() <= 0 <= x.max() and y.min() <= 0 <= y.max():
        ax.plot(0, 0, "*", ms=14, markerfacecolor="gold", markeredgecolor="k", label="θ*")
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def animate_trajectories(function: Any, paths: Mapping[str, Any], *, frames: int = 40,
                         interval: int = 100, domain: Any = None, levels: int = 30,
                         log_levels: bool | None = None, title: str | None = None,
                         figsize: tuple[float, float] = (5.0, 4.0), dpi: int = 80
                         ) -> FuncAnimation:
    """An animation of the paths growing over the contour; ``save(anim, "x.gif")`` writes a GIF.

    ``frames`` frames sample the recorded steps evenly (the last frame is the end of the run).
    """
    if frames < 2:
        raise ValueError(f"frames={frames} must be >= 2")
    xr, yr = _domain(function, domain)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    _draw_contour(ax, function, xr, yr, 120, levels, log_levels)
    _mark_minima(ax, function, label=False)
    data = {label: as_paths(v)[..., :2] for label, v in paths.items()}
    length = max(a.shape[1] for a in data.values()) if data else 1
    idx = np.unique(np.linspace(1, length, frames).round().astype(int))
    lines: list[tuple[Any, Any, np.ndarray]] = []
    for label, arr in data.items():
        c = color_for(label)
        for k, path in enumerate(arr):
            (line,) = ax.plot([], [], "-", color=c, lw=1.6, label=label if k == 0 else None)
            (head,) = ax.plot([], [], "o", color=c, markeredgecolor="white", ms=7)
            lines.append((line, head, path))
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"{_title(function)}: optimizer paths")
    if data:
        ax.legend(fontsize=8, loc="upper right")

    def update(n: int) -> list[Any]:
        out = []
        for line, head, path in lines:
            # Cut at the frame as in contour_trajectories; the head shows the last point inside.
            inside, _, _ = clip_path_to_box(path[:n], xr, yr)
            line.set_data(inside[:, 0], inside[:, 1])
            last = inside[np.all(np.isfinite(inside), axis=1)][-1:]
            head.set_data(last[:, 0], last[:, 1])
            out += [line, head]
        return out

    # Lay the figure out once: re-running constrained layout on every frame triples the cost.
    fig.canvas.draw()
    fig.set_layout_engine("none")
    return FuncAnimation(fig, update, frames=list(idx), interval=interval, blit=False)


def panel_curves(panels: Mapping[str, Mapping[str, Any]], *, log: bool = True,
                 xlabel: str = "step", ylabel: str = "value", title: str | None = None,
                 dpi: int = DEFAULT_DPI) -> Figure:
    """Side-by-side line panels, ``{panel title: {label: y or (x, y)}}``, shared y scale.

    Used for per-coordinate comparisons (|Δx| in one panel, |Δy| in the next), where a single
    axes would need two styles per optimizer.
    """
    n = len(panels)
    if n == 0:
        raise ValueError("panel_curves: no panels")
    fig = new_figure((3.6 * n + 0.4, 3.6), dpi)
    axes = np.atleast_1d(fig.subplots(1, n, sharey=True, squeeze=False)).ravel()
    for ax, (name, curves) in zip(axes, panels.items()):
        for label, value in curves.items():
            x, y = _curve_xy(value)
            ok = np.isfinite(y) & ((y > 0) if log else True)
            ax.plot(x[ok], y[ok], color=color_for(label), lw=1.5, label=str(label))
        if log:
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    return fig


def descent_directions_plot(function: Any, point: Sequence[float], directions: Any,
                            slopes: Any, *, domain: Any = None, title: str | None = None,
                            figsize: tuple[float, float] = DEFAULT_SIZE,
                            dpi: int = DEFAULT_DPI) -> Figure:
    """Unit directions Δw drawn from w over the contour: green where ∇f(w)·Δw < 0 (a descent
    direction), red where it is ≥ 0, and −∇f(w) (steepest descent) in black."""
    xr, yr = _domain(function, domain)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    _draw_contour(ax, function, xr, yr, 150, 25, None)
    w = np.asarray(point, dtype=np.float64)
    d = np.asarray(directions, dtype=np.float64)
    s = np.asarray(slopes, dtype=np.float64)
    scale = 0.12 * min(xr[1] - xr[0], yr[1] - yr[0])
    for di, si in zip(d, s):
        ax.annotate("", xy=(w[0] + scale * di[0], w[1] + scale * di[1]), xytext=(w[0], w[1]),
                    arrowprops=dict(arrowstyle="->", color="#2ca02c" if si < 0 else "#d62728",
                                    lw=1.2))
    g = function.grad(w[None])[0]
    gn = g / (np.linalg.norm(g) or 1.0)
    ax.annotate("", xy=(w[0] - 1.8 * scale * gn[0], w[1] - 1.8 * scale * gn[1]),
                xytext=(w[0], w[1]), arrowprops=dict(arrowstyle="-|>", color="k", lw=2.2))
    ax.plot([], [], color="#2ca02c", label="∇f·Δw < 0 (descent)")
    ax.plot([], [], color="#d62728", label="∇f·Δw ≥ 0 (not descent)")
    ax.plot([], [], color="k", lw=2.2, label="−∇f (steepest descent)")
    ax.plot(*w, "o", color="white", markeredgecolor="k", ms=7, zorder=6)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"{_title(function)}: which directions descend at w = "
                 f"({w[0]:g}, {w[1]:g})")
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    return fig


def chord_slices(slices: Mapping[str, tuple[Any, Any, Any]], *, title: str | None = None,
                 dpi: int = DEFAULT_DPI) -> Figure:
    """Convexity picture: per panel, f along a segment t ↦ f((1−t)·a + t·b) against the chord
    (1−t)·f(a) + t·f(b). ``slices`` is ``{panel title: (t, f_on_segment, chord)}``; where f rises
    above the chord, the function is not convex (shaded red)."""
    n = len(slices)
    if n == 0:
        raise ValueError("chord_slices: no slices")
    fig = new_figure((3.4 * n + 0.4, 3.4), dpi)
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)).ravel()
    for ax, (name, (t, fv, chord)) in zip(axes, slices.items()):
        t, fv, chord = (np.asarray(v, dtype=np.float64) for v in (t, fv, chord))
        ax.plot(t, fv, color="#1f77b4", lw=1.8, label="f on the segment")
        ax.plot(t, chord, color="k", ls="--", lw=1.2, label="chord")
        ax.fill_between(t, chord, fv, where=fv > chord, color="#d62728", alpha=0.3,
                        label="f above chord")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("t  (point (1−t)·a + t·b)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("f")
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


#: Marker and face colour of each kind of critical point.
CRITICAL_POINT_STYLES: dict[str, tuple[str, str]] = {
    "minimum": ("*", "gold"), "maximum": ("^", "red"), "saddle": ("X", "white"),
    "degenerate": ("s", "grey"),
}


def critical_points_plot(function: Any, points: Sequence[Any], *, title: str | None = None,
                         figsize: tuple[float, float] = DEFAULT_SIZE,
                         dpi: int = DEFAULT_DPI) -> Figure:
    """Contour of a 2-D landscape with its critical points marked by kind (minimum ★, maximum
    ▲, saddle ✕, degenerate ■) and counted in the legend.

    Args:
        function: a 2-D ``Landscape``.
        points: critical points (``location``, ``kind``), e.g. from ``find_critical_points``.
    """
    fig = contour_trajectories(function, {}, mark_minima=False, figsize=figsize, dpi=dpi,
                               title=title or f"{_title(function)}: critical points")
    ax = fig.axes[0]
    for kind, (marker, color) in CRITICAL_POINT_STYLES.items():
        locations = [c.location for c in points if c.kind == kind]
        if locations:
            xy = np.array(locations)
            ax.plot(xy[:, 0], xy[:, 1], marker, ms=12, markerfacecolor=color,
                    markeredgecolor="k", linestyle="none", label=f"{kind} ({len(locations)})")
    ax.legend(fontsize=8)
    return fig
