"""Optimizer paths growing over a landscape's contour, frame by frame (saved as a GIF)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from matplotlib.animation import FuncAnimation

from .style import (
    as_paths,
    clip_path_to_box,
    color_for,
    draw_contour,
    function_title,
    new_figure,
    plot_box,
    star_known_minima,
)


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
    xr, yr = plot_box(function, domain)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    draw_contour(ax, function, xr, yr, 120, levels, log_levels)
    star_known_minima(ax, function, label=False)
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
    ax.set_title(title or f"{function_title(function)}: optimizer paths")
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
