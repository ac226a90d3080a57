"""Plots: each returns a Figure that saves as a non-empty image of the expected pixel size."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402
from PIL import Image  # noqa: E402

from descentlab.lab import plots as P  # noqa: E402
from descentlab.lab.analysis import basins_of_attraction, lr_sweep  # noqa: E402
from descentlab.lab.functions import get_function  # noqa: E402
from descentlab.lab.trajectories import run_trajectories  # noqa: E402


@pytest.fixture(scope="module")
def himmelblau_runs():
    f = get_function("himmelblau")
    return f, {name: run_trajectories(f, [[-1.0, 0.5], [0.5, -1.0]], name, 60, lr=lr)
               for name, lr in (("gd", 0.01), ("momentum", 0.005), ("adam", 0.1))}


def _check_png(path, width=640, height=480):
    img = imread(path)
    assert img.shape[:2] == (height, width)
    assert img.std() > 0.01  # not a blank canvas


def test_contour_and_surface(tmp_path, himmelblau_runs):
    f, runs = himmelblau_runs
    fig = P.contour_trajectories(f, runs)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"gd", "momentum", "adam", "known minimum"} <= set(labels)
    _check_png(P.save(fig, tmp_path / "c.png"))
    _check_png(P.save(P.surface_3d(f, paths=runs, log_z=True), tmp_path / "sub" / "s.png"))
    svg = P.save(P.contour_trajectories(f, {"gd": runs["gd"].positions[0]}), tmp_path / "c.svg")
    assert svg.read_text().lstrip().startswith("<?xml") and svg.stat().st_size > 10_000
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary files left behind


def test_loss_curves_sweep_basins(tmp_path):
    fig = P.loss_curves({"gd": np.geomspace(1, 1e-6, 50), "adam": (np.arange(10), np.ones(10))},
                        log=True, vlines=[10, 20])
    assert fig.axes[0].get_yscale() == "log"
    _check_png(P.save(fig, tmp_path / "l.png"))
    sw = lr_sweep("parabola", [0.05, 0.4, 0.6, 1.2], start=[1.0], steps=10)
    fig = P.lr_sweep_panels(sw)
    assert [a.get_title() for a in fig.axes if a.get_visible()][2] == "α = 0.6: oscillating"
    _check_png(P.save(fig, tmp_path / "sw.png"), 1280, 300)
    b = basins_of_attraction("himmelblau", "gd", n=12, steps=100, lr=0.01)
    _check_png(P.save(P.basin_map(b), tmp_path / "b.png"))


def test_nn_plots_with_synthetic_data(tmp_path):
    norms = {"sigmoid": np.geomspace(1e-9, 1e-2, 10), "relu/he": np.full(10, 0.02)}
    fig = P.gradient_norms_per_layer(norms)
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].lines) == 2
    _check_png(P.save(fig, tmp_path / "g.png"))
    t = np.linspace(-0.5, 1.5, 21)
    _check_png(P.save(P.landscape_1d(t, {"train": (t - 1) ** 2}), tmp_path / "l1.png"))
    xs, ys = np.linspace(-1, 1, 9), np.linspace(-1, 1, 7)
    _check_png(P.save(P.landscape_2d(xs, ys, xs[None] ** 2 + 3 * ys[:, None] ** 2),
                      tmp_path / "l2.png"))
    with pytest.raises(ValueError, match="expected"):
        P.landscape_2d(xs, ys, np.zeros((9, 7)))


def test_gif_has_frames(tmp_path, himmelblau_runs):
    f, runs = himmelblau_runs
    path = P.save(P.animate_trajectories(f, runs, frames=6), tmp_path / "a.gif", fps=5)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 6 and im.size == (400, 320)


def test_save_rejects_wrong_suffix(tmp_path, himmelblau_runs):
    f, runs = himmelblau_runs
    with pytest.raises(ValueError, match=".gif"):
        P.save(P.contour_trajectories(f, runs), tmp_path / "x.jpg")
    anim = P.animate_trajectories(f, runs, frames=2)
    with pytest.raises(ValueError, match="animation"):
        P.save(anim, tmp_path / "x.png")
    P.save(anim, tmp_path / "x.gif")


def test_colors_are_fixed_per_optimizer():
    assert P.color_for("adam") == P.color_for("Adam") == P.color_for("adam lr=0.1")
    assert P.color_for("gd") != P.color_for("adam")
    assert P.color_for("something new") == P.color_for("something new")


def _segment_box_exit(a, b, lo, hi):
    """Where the segment a → b (a inside) first crosses the box's edge, by solving each edge's
    line equation for t (the oracle for the plot's clipping)."""
    ts = []
    for axis in range(2):
        for bound in (lo[axis], hi[axis]):
            if b[axis] != a[axis]:
                t = (bound - a[axis]) / (b[axis] - a[axis])
                if 0 <= t <= 1:
                    ts.append(t)
    t = min(ts)
    return a + t * (b - a)


def _drawn_lines(ax):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]


def _exit_markers(ax):
    return [ln for ln in ax.get_lines() if isinstance(ln.get_marker(), tuple)
            and len(ln.get_xdata()) == 1]


@pytest.mark.parametrize("case", ["newton_rosenbrock", "rmsprop_formula"])
def test_paths_leaving_the_frame_are_clipped_and_marked_where_they_left(case):
    from descentlab.lab.formula import parse_function

    if case == "newton_rosenbrock":
        f = get_function("rosenbrock")
        run = run_trajectories(f, [-1.2, 1.0], "newton", 20)
    else:
        f = parse_function("1/x + y**2")
        run = run_trajectories(f, [-2.25, 2.25], "rmsprop", 100, lr=0.5)
    (x0, x1), (y0, y1) = f.domain
    lo, hi = np.array([x0, y0]), np.array([x1, y1])
    path = run.positions[0]
    outside = np.any((path < lo) | (path > hi), axis=1)
    assert outside.any(), "the case must leave the frame to test anything"
    k = int(np.argmax(outside))  # first point outside; path[k - 1] is inside
    expected_exit = _segment_box_exit(path[k - 1], path[k], lo, hi)
    fig = P.contour_trajectories(f, {case: run})
    ax = fig.axes[0]
    for ln in _drawn_lines(ax):
        xy = np.column_stack([ln.get_xdata(), ln.get_ydata()]).astype(float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        assert np.all((xy >= lo - 1e-9) & (xy <= hi + 1e-9)), "a drawn path leaves the frame"
    marks = np.array([[m.get_xdata()[0], m.get_ydata()[0]] for m in _exit_markers(ax)])
    assert len(marks) >= 1
    assert np.min(np.linalg.norm(marks - expected_exit, axis=1)) < 1e-9
    assert "left the frame here" in ax.get_legend_handles_labels()[1]


def test_clip_path_to_box_against_hand_computed_crossings():
    path = np.array([[0.0, 0.0], [3.0, 1.0], [3.0, -3.0], [0.5, 0.5], [0.25, 0.0],
                     [np.nan, np.nan]])
    inside, exits, directions = P.clip_path_to_box(path, (-1.0, 1.0), (-1.0, 1.0))
    # (0,0)→(3,1) leaves at x = 1, y = 1/3; (3,-3)→(0.5,0.5) enters where x = 1: t = 0.8,
    # y = -3 + 0.8·3.5 = -0.2; the step to NaN leaves at (0.25, 0) going the last way.
    np.testing.assert_allclose(exits, [[1.0, 1 / 3], [0.25, 0.0]])
    np.testing.assert_allclose(directions[0], [3.0, 1.0])
    np.testing.assert_allclose(directions[1], [-0.25, -0.5])
    pieces = np.split(inside, np.flatnonzero(np.isnan(inside[:, 0])))
    pieces = [p[~np.isnan(p[:, 0])] for p in pieces if np.any(~np.isnan(p[:, 0]))]
    np.testing.assert_allclose(pieces[0], [[0.0, 0.0], [1.0, 1 / 3]])
    np.testing.assert_allclose(pieces[1][0], [1.0, -0.2])
    np.testing.assert_allclose(pieces[1][1:3], [[0.5, 0.5], [0.25, 0.0]])


def test_nonfinite_region_is_hatched_and_named_in_the_legend():
    from descentlab.lab.formula import parse_function

    f = parse_function("log(x) + y**2")
    fig = P.contour_trajectories(f, {})
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    entry = [lab for lab in labels if lab.startswith("f not finite")]
    # 200 columns from -3 to 3: the 100 with x < 0 are NaN (no column sits at 0).
    assert entry == ["f not finite (50.0% of the box)"]
    hatched = [c for c in ax.collections if list(getattr(c, "hatches", [])) == [P.NONFINITE_HATCH]]
    assert hatched
    assert "f not finite" not in " ".join(
        P.contour_trajectories(get_function("himmelblau"), {}).axes[0]
        .get_legend_handles_labels()[1])


def test_animated_paths_are_cut_at_the_frame_too(tmp_path):
    f = get_function("rosenbrock")
    run = run_trajectories(f, [-1.2, 1.0], "newton", 20)
    (x0, x1), (y0, y1) = f.domain
    assert np.any(run.positions[0, :, 1] < y0)  # Newton's second iterate is below the frame
    anim = P.animate_trajectories(f, {"newton": run}, frames=4)
    P.save(anim, tmp_path / "a.gif")  # draws every frame; the lines keep the last one
    lines = [ln for ln in anim._fig.axes[0].get_lines() if len(ln.get_xdata()) > 1]
    assert lines
    for ln in lines:
        xy = np.column_stack([ln.get_xdata(), ln.get_ydata()]).astype(float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        assert xy[:, 0].min() >= x0 - 1e-9 and xy[:, 0].max() <= x1 + 1e-9
        assert xy[:, 1].min() >= y0 - 1e-9 and xy[:, 1].max() <= y1 + 1e-9


def test_critical_points_are_marked_by_kind_and_counted(tmp_path):
    from descentlab.lab.analysis import find_critical_points

    f = get_function("himmelblau")
    fig = P.critical_points_plot(f, find_critical_points(f, n=15))
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"minimum (4)", "maximum (1)", "saddle (4)"} <= set(labels)
    assert "known minimum" not in labels
    _check_png(P.save(fig, tmp_path / "critical.png"))
