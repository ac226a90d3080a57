"""The lab's figure style and the helpers every picture shares: each optimizer's fixed colour,
a Figure on its own Agg canvas, atomic saving (PNG, SVG, PDF, GIF), and the contour of a 2-D
landscape with paths cut at the frame."""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.animation import Animation, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ..._fileio import atomic_path

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
FALLBACK_COLORS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
                   "#e6550d", "#31a354", "#756bb1", "#636363")
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf")
NONFINITE_HATCH = "xx"
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
    return FALLBACK_COLORS[zlib.crc32(key.encode()) % len(FALLBACK_COLORS)]


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


# ------------------------------------------------------------ a 2-D landscape and its paths

def as_paths(value: Any) -> np.ndarray:
    """(K, R, 2) positions from a Trajectories, an (R, d) path or a (K, R, d) stack."""
    pos = getattr(value, "positions", value)
    arr = np.asarray(pos, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"a path must have shape (R, d) or (K, R, d), got {arr.shape}")
    return arr


def plot_box(function: Any, domain: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """The box ((x0, x1), (y0, y1)) to draw: ``domain`` when given, else the landscape's own."""
    if domain is not None:
        (x0, x1), (y0, y1) = domain
        return (float(x0), float(x1)), (float(y0), float(y1))
    box = [list(map(float, r)) for r in function.domain[:2]]
    if len(box) != 2:
        raise ValueError(f"{function.name} is {function.dim}-D; a contour needs a 2-D landscape")
    return (box[0][0], box[0][1]), (box[1][0], box[1][1])


def grid_values(function: Any, xr: tuple[float, float], yr: tuple[float, float], n: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f on an n × n grid over the box: (x grid, y grid, values), NaN/inf left as they come."""
    xs, ys = np.linspace(*xr, n), np.linspace(*yr, n)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        z = function.value(np.stack([gx, gy], axis=-1))
    return gx, gy, np.asarray(z, dtype=np.float64)


def contour_levels(z: np.ndarray, levels: int, log: bool | None) -> tuple[np.ndarray, bool]:
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


def draw_contour(ax: Any, function: Any, xr: tuple[float, float], yr: tuple[float, float],
                 n: int, levels: int, log: bool | None, filled: bool = True) -> None:
    """Contour lines (and fill) of f over the box; where f is NaN or ±inf the box is left blank
    and hatched, with a legend entry, instead of being coloured."""
    gx, gy, z = grid_values(function, xr, yr, n)
    lv, _ = contour_levels(z, levels, log)
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


def in_box(point: np.ndarray, xr: tuple[float, float], yr: tuple[float, float]) -> bool:
    """Whether a point is finite and inside the box (edges included)."""
    return bool(np.all(np.isfinite(point)) and xr[0] <= point[0] <= xr[1]
                and yr[0] <= point[1] <= yr[1])


def star_known_minima(ax: Any, function: Any, label: bool = True) -> None:
    """The landscape's known minima as gold stars (2-D landscapes only)."""
    minima = list(getattr(function, "minima", []) or [])
    if not minima or getattr(function, "dim", 2) != 2:
        return
    loc = np.array([m.location for m in minima])
    ax.plot(loc[:, 0], loc[:, 1], linestyle="none", marker="*", markersize=14,
            markerfacecolor="gold", markeredgecolor="k", label="known minimum" if label else None,
            zorder=6)


def function_title(function: Any) -> str:
    """The landscape's name for a title ("f" when it has none)."""
    return getattr(function, "name", "f")
