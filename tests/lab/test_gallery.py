"""The gallery: images per lesson, an index with measured numbers, failures reported."""

from __future__ import annotations

import re
import time

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
