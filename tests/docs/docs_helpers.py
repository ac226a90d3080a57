"""Shared helpers of the documentation tests: paths, the site's build hook, the public API."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_hooks() -> ModuleType:
    """docs/hooks.py, the mkdocs hook that executes and renders the tutorials."""
    spec = importlib.util.spec_from_file_location("descentlab_docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module



PUBLIC_MODULES = ("descentlab", "descentlab.nn", "descentlab.optim", "descentlab.lab")


def public_api(module_name: str) -> dict[str, object]:
    """{name: object} of a module's public API: ``__all__`` where the module defines it, else
    every attribute without a leading underscore except submodules and typing helpers."""
    import importlib
    import types

    module = importlib.import_module(module_name)
    if "__all__" in vars(module):
        names = list(module.__all__)
    else:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and not isinstance(obj, types.ModuleType)
                 and n != "annotations" and getattr(obj, "__module__", "") != "typing"]
    return {n: getattr(module, n) for n in names}
