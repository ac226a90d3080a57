"""The course: every tutorial runs on a Jupyter kernel, draws figures, and exists in both languages
with the same code."""

from __future__ import annotations

import re
import time

import pytest
from docs_helpers import DOCS, load_hooks

jupytext = pytest.importorskip("jupytext", reason="the docs extra (jupytext) is not installed")
pytest.importorskip("nbclient", reason="the docs extra (nbclient) is not installed")

EN = sorted((DOCS / "tutorials").glob("[0-9]*.py"))
KO = sorted((DOCS / "ko" / "tutorials").glob("[0-9]*.py"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SECONDS_PER_TUTORIAL = 60


def _cells(path, kind):
    nb = jupytext.read(path, fmt="py:percent")
    return [c.source for c in nb.cells if c.cell_type == kind]


def test_nine_lessons_in_both_languages():
    assert len(EN) == 9, [p.name for p in EN]
    assert [p.name for p in KO] == [p.name for p in EN]


@pytest.mark.parametrize("path", EN, ids=lambda p: p.stem)
def test_korean_code_cells_are_the_english_ones(path):
    ko = DOCS / "ko" / "tutorials" / path.name
    assert _cells(ko, "code") == _cells(path, "code"), (
        f"{ko.relative_to(DOCS)} must have exactly the code cells of {path.relative_to(DOCS)}")


@pytest.mark.parametrize("path", EN + KO, ids=lambda p: str(p.relative_to(DOCS)))
def test_tutorial_text(path):
    md = _cells(path, "markdown")
    text = "\n".join(md)
    korean = "ko" in path.parts
    assert text.startswith("# "), "a tutorial starts with its title"
    assert ("노트:" if korean else "Covers the notes:") in text, "cite the seed notes it covers"
    assert ("## 연습 문제" if korean else "## Exercises") in text
    answers = "정답" if korean else "Answers"
    assert "<details" in text and answers in text, "exercises need answers"
    if korean:
        no_hangul = [m[:60] for m in md if not HANGUL.search(m)]
        assert not no_hangul, f"markdown cells not translated: {no_hangul}"
    code = "\n".join(_cells(path, "code"))
    assert "descentlab.lab import" in code and "plots" in code, "figures come from the library"


@pytest.mark.parametrize("path", EN + KO, ids=lambda p: str(p.relative_to(DOCS)))
def test_tutorial_executes(path):
    """Runs the notebook top to bottom on a python3 kernel (importing this checkout); any cell
    error fails. It must draw at least one figure and stay well under a minute."""
    hooks = load_hooks()
    t0 = time.perf_counter()
    nb = hooks.execute_tutorial(path, timeout=SECONDS_PER_TUTORIAL * 2)
    seconds = time.perf_counter() - t0
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the tutorial shows no figure"
    assert seconds < SECONDS_PER_TUTORIAL, f"{path.name} took {seconds:.1f} s"
