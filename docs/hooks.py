"""mkdocs hooks: the tutorials become pages with their outputs, and the API reference is generated.

Tutorials are jupytext percent-format scripts (``docs/tutorials/*.py``, ``docs/ko/tutorials/*.py``).
At build time each is executed with nbclient on a python3 kernel (from the repository root, so the
kernel imports this checkout) and rendered to a Markdown page: prose as written, code in fenced
blocks, printed output as text, figures as PNG files beside the page. The script itself stays in
the site for download. ``DESCENTLAB_DOCS_EXECUTE=0`` renders the code without running it (the test
suite does that: it executes the tutorials in a test of their own).

The reference has one page per module in ``REFERENCE_MODULES`` listing every public name (the
module's ``__all__``, or its non-underscore attributes), one mkdocstrings block each, so a name
added to a module appears without editing any page; every optimizer class gets its own page.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import inspect
import os
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL_DIRS = ("tutorials", "ko/tutorials")
REFERENCE_MODULES = (
    "descentlab",
    "descentlab.autograd",
    "descentlab.autograd.functional",
    "descentlab.autograd.gradcheck",
    "descentlab.nn",
    "descentlab.nn.functional",
    "descentlab.nn.init",
    "descentlab.nn.utils",
    "descentlab.optim",
    "descentlab.optim.lr_scheduler",
    "descentlab.optim.line_search",
    "descentlab.optim.rules",
    "descentlab.optim.second_order_rules",
    "descentlab.data",
    "descentlab.data.playground",
    "descentlab.data.userdata",
    "descentlab.serialization",
    "descentlab.train",
    "descentlab.train.run",
    "descentlab.train.playground",
    "descentlab.lab",
    "descentlab.lab.functions",
    "descentlab.lab.formula",
    "descentlab.lab.trajectories",
    "descentlab.lab.analysis",
    "descentlab.lab.diagnostics",
    "descentlab.lab.landscape",
    "descentlab.lab.batching",
    "descentlab.lab.plots",
    "descentlab.lab.gallery",
    "descentlab.lab.sequence",
    "descentlab.lab.race",
    "descentlab.sweep",
    "descentlab.sweep.spec",
    "descentlab.sweep.trial",
    "descentlab.sweep.runner",
    "descentlab.sweep.store",
    "descentlab.sweep.report",
    "descentlab.sweep.bench",
    "descentlab.sweep.local",
    "descentlab.sweep.ray_backend",
    "descentlab.sweep.optuna_search",
)
REFERENCE_PLACEHOLDER = "reference/index.md"

# Executed notebooks by source hash: `mkdocs serve` rebuilds on every edit, and re-running the
# tutorials whose text did not change would make each rebuild take minutes.
_EXECUTED: dict[str, Any] = {}


# ------------------------------------------------------------------------------- public names

def _module(name: str) -> types.ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


def public_names(module: types.ModuleType) -> list[str]:
    """The module's ``__all__``, or its attributes without a leading underscore that are neither
    modules nor typing/``__future__`` helpers."""
    if "__all__" in vars(module):
        return list(module.__all__)
    names = []
    for name in sorted(vars(module)):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        if getattr(obj, "__module__", None) in ("typing", "__future__") or name == "annotations":
            continue
        home = getattr(obj, "__module__", None) or ""
        if callable(obj) and not home.startswith("descentlab"):
            continue  # imported helpers (dataclass, Path, ...) are not this module's API
        if callable(obj) and not hasattr(module, "__path__") and home != module.__name__:
            continue  # a plain module without __all__ documents what it defines
        names.append(name)
    return names


def _is_optimizer(obj: Any) -> bool:
    from descentlab.optim import Optimizer

    return inspect.isclass(obj) and issubclass(obj, Optimizer) and obj is not Optimizer


def _page_path(module: str) -> str:
    return f"reference/{module}.md"


def _reference_pages() -> dict[str, str]:
    """{page path: markdown} for every reference page."""
    pages: dict[str, str] = {}
    index = ["# API reference", "",
             "Generated from the docstrings: one page per module, one entry per public name. "
             "Each optimizer has a page of its own that starts with its update rule.", ""]
    for modname in REFERENCE_MODULES:
        mod = _module(modname)
        summary = (inspect.getdoc(mod) or "").strip().split("\n\n")[0].replace("\n", " ")
        index.append(f"- [`{modname}`]({modname}.md): {summary}")
        lines = [f"# `{modname}`", "", f"::: {modname}", "    options:",
                 "      members: false", "      show_root_heading: false", ""]
        data_rows: list[str] = []
        forms: list[str] = []
        for name in public_names(mod):
            obj = getattr(mod, name)
            path = f"{modname}.{name}"
            if isinstance(obj, types.ModuleType):
                lines.append(f"- [`{obj.__name__}`]({obj.__name__}.md) (module)")
                continue
            if modname == "descentlab.optim" and _is_optimizer(obj):
                pages[f"reference/optim/{name}.md"] = _optimizer_page(name)
                lines += [f"## `{path}`", "", f"{_first_line(obj)} "
                          f"[Update rule and arguments](optim/{name}.md).", ""]
                continue
            if not (callable(obj) or inspect.isclass(obj)):
                data_rows.append(f'| <a id="{path}"></a>`{name}` | `{obj!r}` |')
                continue
            if _built_at_import(obj):
                # Made at import time (``descentlab.abs(x)`` = ``x.abs()``), so invisible to
                # mkdocstrings' static analysis: listed in a table with its docstring instead.
                forms.append(f'| <a id="{path}"></a>`{path}(...)` | {_first_line(obj)} |')
                continue
            if path in sys.modules:
                # Named like a submodule of its own (optim.minimize the function, in
                # optim/minimize.py): mkdocstrings would document the module, so point it at
                # the object's defining path and keep the public path as the anchor.
                lines += [f'<a id="{path}"></a>', "",
                          f"::: {obj.__module__}.{obj.__qualname__}", ""]
                continue
            lines += [f"::: {path}", ""]
        if forms:
            lines += ["## Function forms of Tensor methods", "",
                      "Built when descentlab is imported; most call the "
                      "[`Tensor`][descentlab.Tensor] method of the same name on their first "
                      "argument.", "",
                      "| function | what |", "|---|---|", *forms, ""]
        if data_rows:
            lines += ["## Constants and data types", "", "| name | value |", "|---|---|",
                      *data_rows, ""]
        pages[_page_path(modname)] = "\n".join(lines) + "\n"
    pages[REFERENCE_PLACEHOLDER] = "\n".join(index) + "\n"
    return pages


def _built_at_import(obj: Any) -> bool:
    """Whether a function cannot be found where its ``__module__``/``__qualname__`` say: made by
    a factory (a closure, or one renamed after its public name), so mkdocstrings cannot load it."""
    if not callable(obj) or inspect.isclass(obj):
        return False
    qualname = getattr(obj, "__qualname__", "")
    if "<locals>" in qualname:
        return True
    found: Any = sys.modules.get(getattr(obj, "__module__", None) or "")
    if found is None:
        return False
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is not obj


def _first_line(obj: Any) -> str:
    return (inspect.getdoc(obj) or "").strip().split("\n")[0]


def _optimizer_page(name: str) -> str:
    return (f"# `descentlab.optim.{name}`\n\n::: descentlab.optim.{name}\n"
            "    options:\n      show_root_heading: false\n      heading_level: 2\n")


def optimizer_names() -> list[str]:
    """Every optimizer class exported by ``descentlab.optim``."""
    mod = _module("descentlab.optim")
    return [n for n in public_names(mod) if _is_optimizer(getattr(mod, n, None))]


# ------------------------------------------------------------------------------ the tutorials

def execute_tutorial(path: Path, timeout: int = 300) -> Any:
    """Run a jupytext percent script as a notebook on a python3 kernel; returns the notebook.

    The kernel starts in the repository root with it first on PYTHONPATH, so it imports this
    checkout's descentlab. Any cell error raises ``nbclient.exceptions.CellExecutionError``.
    """
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(path, fmt="py:percent")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)
    return nb


def _fence(text: str, lang: str) -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def render_notebook(nb: Any, stem: str, executed: bool) -> tuple[str, dict[str, bytes]]:
    """Markdown for a (possibly executed) notebook and the images it refers to by file name."""
    parts: list[str] = []
    images: dict[str, bytes] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        # IPython magics (%matplotlib inline) are kernel settings, not part of the lesson.
        code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        if cell.cell_type != "code" or not code.strip():
            continue
        parts.append(_fence(code.strip("\n"), "python"))
        for out in cell.get("outputs", []) if executed else []:
            if out.output_type == "stream":
                parts.append(_fence(out.text, "text"))
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "image/png" in data:
                    name = f"{stem}_files/figure_{len(images) + 1}.png"
                    images[name] = base64.b64decode(data["image/png"])
                    parts.append(f"![output {len(images)}]({name})")
                elif "text/plain" in data:
                    parts.append(_fence(data["text/plain"], "text"))
    if not executed:
        parts.insert(1, "!!! note\n    This build did not run the tutorials "
                        "(DESCENTLAB_DOCS_EXECUTE=0), so it shows the code without its output.")
    return "\n\n".join(parts) + "\n", images


def _tutorial_markdown(path: Path, src_uri: str) -> tuple[str, dict[str, bytes]]:
    stem = path.stem
    text = path.read_text(encoding="utf-8")
    execute = os.environ.get("DESCENTLAB_DOCS_EXECUTE", "1") != "0"
    if execute:
        key = hashlib.sha256(text.encode()).hexdigest()
        if key not in _EXECUTED:
            _EXECUTED[key] = execute_tutorial(path)
        nb = _EXECUTED[key]
    else:
        import jupytext

        nb = jupytext.reads(text, fmt="py:percent")
    md, images = render_notebook(nb, stem, execute)
    download = "Download" if not src_uri.startswith("ko/") else "내려받기"
    md += (f"\n---\n\n{download}: [`{path.name}`]({path.name}) (jupytext; "
           f"`jupytext --to notebook {path.name}` makes a notebook).\n")
    return md, images


# ------------------------------------------------------------------------------------ hooks

def on_config(config: Any) -> Any:
    """Replace the nav's reference entry by a section with every generated reference page."""
    section = [{"Overview": REFERENCE_PLACEHOLDER}]
    section += [{m: _page_path(m)} for m in REFERENCE_MODULES]
    section.append({"Optimizers": [{n: f"reference/optim/{n}.md"} for n in optimizer_names()]})
    nav = config.get("nav") or []
    for i, entry in enumerate(nav):
        if isinstance(entry, dict) and list(entry.values()) == [REFERENCE_PLACEHOLDER]:
            nav[i] = {next(iter(entry)): section}
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the rendered tutorial pages and their images, and the generated reference pages."""
    from mkdocs.structure.files import File

    docs = Path(config["docs_dir"])
    for folder in TUTORIAL_DIRS:
        for script in sorted((docs / folder).glob("[0-9]*.py")):
            src_uri = f"{folder}/{script.stem}.md"
            md, images = _tutorial_markdown(script, src_uri)
            files.append(File.generated(config, src_uri, content=md))
            for name, data in images.items():
                files.append(File.generated(config, f"{folder}/{name}", content=data))
    for uri, md in _reference_pages().items():
        files.append(File.generated(config, uri, content=md))
    return files
