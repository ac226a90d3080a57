"""The gallery: images per lesson, an index with measured numbers, failures reported."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402

from descentlab.lab import gallery as G  # noqa: E402


def _check_index(out, report):
    page = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<img src="([^"]+)"', page)
    assert links and all((out / link).is_file() and (out / link).stat().st_size > 0
                         for link in links)
    for o in report.outcomes:
        assert all(img in links for img in o.images)
    for link in links:
        if link.endswith(".png"):
            assert imread(out / link).shape[0] > 100
    assert (out / "README.md").read_text(encoding="utf-8").startswith("# descentlab gallery")
    return page


def test_subset_of_lessons_with_numbers(tmp_path):
    report = G.run_gallery(tmp_path, ["learning_rate", "descent_direction", "convexity"])
    assert not report.failed, [o.error for o in report.failed]
    page = _check_index(tmp_path, report)
    lr = report.outcomes[0]
    assert lr.numbers["classes"] == {0.05: "too_slow", 0.4: "monotone", 0.6: "oscillating",
                                     1.2: "diverging"}
    assert lr.numbers["largest_stable"] < 1.0 + 1e-9 < lr.numbers["smallest_diverging"]
    assert "w₁/w₀ = -0.2" in page and "2/L = 1" in page
    assert report.outcomes[1].numbers["descent_count"] == 12


def test_failing_lesson_is_reported_not_fatal(tmp_path, monkeypatch):
    def broken():
        raise RuntimeError("boom <b>")

    monkeypatch.setattr(G, "LESSONS", [G.Lesson("broken", "Broken", broken),
                                       *[x for x in G.LESSONS if x.key == "learning_rate"]])
    report = G.run_gallery(tmp_path)
    assert [o.key for o in report.failed] == ["broken"]
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "RuntimeError: boom &lt;b&gt;" in page and "<b>" not in page.split("<body>")[1].split(
        "This lesson failed")[1][:200]
    assert (tmp_path / "learning_rate.png").is_file()


def test_unknown_lesson_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown lesson"):
        G.run_gallery(tmp_path, ["nope"])


@pytest.mark.slow
def test_full_gallery_under_three_minutes(tmp_path):
    t0 = time.perf_counter()
    report = G.run_gallery(tmp_path)
    seconds = time.perf_counter() - t0
    assert not report.failed, [(o.key, o.error) for o in report.failed]
    assert len(report.outcomes) == len(G.LESSONS)
    _check_index(tmp_path, report)
    assert seconds < 180, seconds


def _visible_pixels(fig, color, tol=12):
    """Pixels of the axes drawn in ``color`` (legend removed, so only the curves count)."""
    from matplotlib import colors as mcolors

    for ax in fig.axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    rgb = np.array(mcolors.to_rgb(color)) * 255
    return int((np.abs(img - rgb).max(axis=-1) <= tol).sum())


def test_every_curve_of_the_vanishing_gradient_picture_is_visible():
    from descentlab.lab.gallery import lesson_vanishing_gradients

    res = lesson_vanishing_gradients()
    fig = res.figures["vanishing_gradients"]
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 1]
    assert len(lines) == 10
    styles = [(ln.get_color(), ln.get_marker(), ln.get_linestyle()) for ln in lines]
    assert len(set(styles)) == len(styles)
    colors = [ln.get_color() for ln in lines]
    assert len(set(colors)) == len(colors)  # so pixels can be told apart below
    counts = {ln.get_label(): _visible_pixels(fig, ln.get_color()) for ln in lines}
    hidden = {k: v for k, v in counts.items() if v < 60}
    assert not hidden, counts
