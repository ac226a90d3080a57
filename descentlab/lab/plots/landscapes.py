"""Pictures of loss landscapes: a 2-D test function's contour with optimizer paths, its surface,
basins of attraction, descent directions and critical points; a network's loss along a line and
on a plane."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.figure import Figure

from .style import (
    DEFAULT_DPI,
    DEFAULT_SIZE,
    TAB10,
    as_paths,
    clip_path_to_box,
    color_for,
    contour_levels,
    draw_contour,
    function_title,
    grid_values,
    in_box,
    new_figure,
    plot_box,
    star_known_minima,
)


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
    xr, yr = plot_box(function, domain)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    draw_contour(ax, function, xr, yr, resolution, levels, log_levels)
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
            if in_box(p[0], xr, yr):
                ax.plot(p[0, 0], p[0, 1], "o", color=c, markeredgecolor="white", ms=7, zorder=5)
            if in_box(p[-1], xr, yr):
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
        star_known_minima(ax, function)
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"{function_title(function)}: optimizer paths (○ start, ✕ end)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return fig


def surface_3d(function: Any, *, domain: Any = None, resolution: int = 80,
               paths: Mapping[str, Any] | None = None, log_z: bool = False,
               title: str | None = None, elev: float = 35.0, azim: float = -60.0,
               figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """3-D surface of a 2-D landscape (optionally with paths drawn on it; log₁₀(1 + f − min f)
    with ``log_z`` for landscapes like Rosenbrock whose walls dwarf the valley)."""
    xr, yr = plot_box(function, domain)
    gx, gy, z = grid_values(function, xr, yr, resolution)
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
    ax.set_title(title or f"{function_title(function)}: surface")
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
        draw_contour(ax, function, (xs[0], xs[-1]), (ys[0], ys[-1]), 150, 20, None,
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


def descent_directions_plot(function: Any, point: Sequence[float], directions: Any,
                            slopes: Any, *, domain: Any = None, title: str | None = None,
                            figsize: tuple[float, float] = DEFAULT_SIZE,
                            dpi: int = DEFAULT_DPI) -> Figure:
    """Unit directions Δw drawn from w over the contour: green where ∇f(w)·Δw < 0 (a descent
    direction), red where it is ≥ 0, and −∇f(w) (steepest descent) in black."""
    xr, yr = plot_box(function, domain)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    draw_contour(ax, function, xr, yr, 150, 25, None)
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
    ax.set_title(title or f"{function_title(function)}: which directions descend at w = "
                 f"({w[0]:g}, {w[1]:g})")
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
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
                               title=title or f"{function_title(function)}: critical points")
    ax = fig.axes[0]
    for kind, (marker, color) in CRITICAL_POINT_STYLES.items():
        locations = [c.location for c in points if c.kind == kind]
        if locations:
            xy = np.array(locations)
            ax.plot(xy[:, 0], xy[:, 1], marker, ms=12, markerfacecolor=color,
                    markeredgecolor="k", linestyle="none", label=f"{kind} ({len(locations)})")
    ax.legend(fontsize=8)
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
                color=TAB10[i % 10])
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
    lv, _ = contour_levels(z, levels, log)
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
