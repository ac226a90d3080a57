"""The Python examples of the getting-started and how-to pages run as printed (on small stand-in
files where a page reads the reader's own data, and with fewer epochs)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from docs_helpers import DOCS

PAGES = ["getting-started.md", "howto/train-your-data.md", "howto/resume.md",
         "howto/compare-optimizers.md", "howto/sweeps.md"]


def _blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    np.savetxt("features.csv", X, delimiter=",")
    np.savetxt("labels.csv", y, delimiter=",", fmt="%d")
    np.save("X.npy", X.astype(np.float64))
    np.save("y.npy", y)
    blocks = _blocks(page)
    assert blocks, f"{page} has no Python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block.replace("epochs=100", "epochs=3"), page, "exec"), namespace)
