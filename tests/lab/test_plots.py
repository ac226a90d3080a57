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
