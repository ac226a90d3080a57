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

The pictures live by kind: ``style`` (colours, figures, ``save``, the contour helpers),
``landscapes`` (2-D test functions and a network's loss surface), ``curves`` (line charts) and
``animation``; this module hands them all on.
"""

from __future__ import annotations

from .animation import animate_trajectories
from .curves import (
    chord_slices,
    gradient_norms_per_layer,
    loss_curves,
    lr_sweep_panels,
    panel_curves,
)
from .landscapes import (
    CRITICAL_POINT_STYLES,
    basin_map,
    contour_trajectories,
    critical_points_plot,
    descent_directions_plot,
    landscape_1d,
    landscape_2d,
    surface_3d,
)
from .style import (
    DEFAULT_DPI,
    DEFAULT_SIZE,
    LR_CLASS_COLORS,
    NONFINITE_HATCH,
    OPTIMIZER_COLORS,
    as_paths,
    clip_path_to_box,
    color_for,
    new_figure,
    save,
)

__all__ = [
    "OPTIMIZER_COLORS", "LR_CLASS_COLORS", "color_for", "new_figure", "save",
    "contour_trajectories", "surface_3d", "loss_curves", "lr_sweep_panels", "basin_map",
    "gradient_norms_per_layer", "landscape_1d", "landscape_2d", "animate_trajectories",
    "as_paths", "panel_curves", "descent_directions_plot", "chord_slices", "clip_path_to_box",
    "CRITICAL_POINT_STYLES", "critical_points_plot",
]
