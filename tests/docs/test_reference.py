"""The API reference: every public name has a docstring and a place in the built reference, and
every optimizer's page shows its update rule. One strict mkdocs build serves all the checks."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import types
import zlib

import pytest
from docs_helpers import PUBLIC_MODULES, ROOT, load_hooks, public_api


def _own_doc(obj: object) -> str:
    """The object's own docstring (a class does not inherit one from its base here)."""
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return (doc or "").strip()


def _documentable(obj: object) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj) or (
        callable(obj) and not isinstance(obj, types.ModuleType))


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_names_have_docstrings(module):
    api = public_api(module)
    assert api, f"{module} exports nothing"
    missing = sorted(n for n, obj in api.items()
                     if (_documentable(obj) or isinstance(obj, types.ModuleType))
                     and not _own_doc(obj))
    assert not missing, f"public names of {module} without a docstring: {missing}"


def _inventory(site) -> set[str]:
    raw = (site / "objects.inv").read_bytes()
    header_end = raw.index(b"zlib.\n") + len(b"zlib.\n")
    lines = zlib.decompress(raw[header_end:]).decode().splitlines()
    return {line.split(" ", 1)[0] for line in lines if line.strip()}


def _html_ids(site) -> set[str]:
    ids: set[str] = set()
    for page in (site / "reference").rglob("*.html"):
        ids |= set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """``mkdocs build --strict`` of the whole site (tutorials rendered without executing them:
    test_tutorials runs them) into a temporary folder; any warning fails it."""
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs-material) is not installed")
    pytest.importorskip("mkdocstrings", reason="the docs extra (mkdocstrings) is not installed")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, DESCENTLAB_DOCS_EXECUTE="0", NO_MKDOCS_2_WARNING="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING")]
    assert not warnings, warnings
    return out


@pytest.mark.slow
@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_in_the_reference(site, module):
    known = _inventory(site) | _html_ids(site)
    missing = sorted(n for n in public_api(module) if f"{module}.{n}" not in known)
    assert not missing, f"public names of {module} missing from the API reference: {missing}"


@pytest.mark.slow
def test_each_optimizer_page_shows_its_update_rule(site):
    from descentlab import optim

    names = [n for n, obj in public_api("descentlab.optim").items()
             if inspect.isclass(obj) and issubclass(obj, optim.Optimizer)
             and obj is not optim.Optimizer]
    assert {"SGD", "Adam", "AdamW", "Newton", "BFGS", "LBFGS"} <= set(names)
    for name in names:
        page = site / "reference" / "optim" / name / "index.html"
        assert page.exists(), f"no reference page for optim.{name}"
        rules = [line.strip() for line in inspect.getdoc(getattr(optim, name)).splitlines()
                 if "←" in line]
        assert rules, f"optim.{name}'s docstring has no update rule (a line with ←)"
        html = page.read_text(encoding="utf-8")
        text = re.sub(r"<[^>]+>", "", html).replace("&amp;", "&")
        assert rules[0].split("←")[0].strip() in text and "←" in text, (
            f"the page of optim.{name} does not show its update rule {rules[0]!r}")


@pytest.mark.slow
def test_site_pages_tutorials_and_readme_images(site):
    for page in ("index.html", "getting-started/index.html", "pytorch/index.html",
                 "howto/train-your-data/index.html", "howto/resume/index.html",
                 "howto/compare-optimizers/index.html", "howto/sweeps/index.html",
                 "howto/playground/index.html", "ko/index.html"):
        assert (site / page).exists(), page
    for folder in ("tutorials", "ko/tutorials"):
        rendered = sorted(p.parent.name for p in (site / folder).glob("0*/index.html"))
        assert len(rendered) == 9, (folder, rendered)
        assert len(list((site / folder).glob("0*.py"))) == 9, "the scripts are downloadable"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'hreflang="ko"' in home or "한국어" in home, "no language switch"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for image in re.findall(r"\(docs/(images/[^)]+\.png)\)", readme):
        assert (ROOT / "docs" / image).exists() and (site / image).exists(), image


def test_render_notebook_puts_outputs_and_figures_in_the_page():
    nbformat = pytest.importorskip("nbformat")
    hooks = load_hooks()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\nSome prose."),
        nbformat.v4.new_code_cell("%matplotlib inline\nx = 1"),
        nbformat.v4.new_code_cell("print('hi')\nfig", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="hi\n"),
            nbformat.v4.new_output("execute_result", data={"image/png": "iVBORw0KGgo=",
                                                           "text/plain": "<Figure>"},
                                   execution_count=1)]),
    ])
    md, images = hooks.render_notebook(nb, "01_x", executed=True)
    assert md.index("# Title") < md.index("```python\nprint('hi')") < md.index("```text\nhi")
    assert "```python\nx = 1\n```" in md and "%matplotlib" not in md
    assert "![output 1](01_x_files/figure_1.png)" in md and "<Figure>" not in md
    assert images == {"01_x_files/figure_1.png": b"\x89PNG\r\n\x1a\n"}
    md_plain, images_plain = hooks.render_notebook(nb, "01_x", executed=False)
    assert "hi\n```" not in md_plain and not images_plain and "DESCENTLAB_DOCS_EXECUTE" in md_plain
