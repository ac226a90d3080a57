"""PyTorch-style example scripts (tests/compat/examples/) run twice: with torch, and with
descentlab standing in for ``torch`` in ``sys.modules``. Their printed output must agree: the
text exactly (``descentlab.`` read as ``torch.``), the numbers to rtol 1e-6 / atol 1e-9 (float64
sums in a different order differ in the last digits)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="the examples are compared against torch")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = sorted(f for f in os.listdir(os.path.join(HERE, "examples")) if f.endswith(".py"))

# Make `import torch` (and `from torch import nn`, `torch.optim.lr_scheduler`, ...) give descentlab.
AS_DESCENTLAB = """
import runpy, sys
import descentlab
sys.modules["torch"] = descentlab
for sub in ("nn", "nn.functional", "nn.init", "optim", "optim.lr_scheduler", "autograd",
            "utils", "utils.data", "cuda", "backends", "accelerator"):
    mod = descentlab
    for part in sub.split("."):
        mod = getattr(mod, part)
    sys.modules["torch." + sub] = mod
runpy.run_path(sys.argv[1], run_name="__main__")
"""

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _run(args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _same_output(theirs: str, ours: str) -> None:
    theirs = theirs.replace("torch.", "descentlab.")
    t_lines, o_lines = theirs.splitlines(), ours.splitlines()
    assert len(t_lines) == len(o_lines), f"torch:\n{theirs}\ndescentlab:\n{ours}"
    for t, o in zip(t_lines, o_lines):
        assert NUMBER.sub("#", t) == NUMBER.sub("#", o), f"\ntorch:      {t}\ndescentlab: {o}"
        for a, b in zip(NUMBER.findall(t), NUMBER.findall(o)):
            x, y = float(a), float(b)
            assert abs(x - y) <= 1e-9 + 1e-6 * abs(x), f"\ntorch:      {t}\ndescentlab: {o}"


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_prints_what_torch_prints(script):
    path = os.path.join(HERE, "examples", script)
    theirs = _run([path])
    ours = _run(["-c", AS_DESCENTLAB, path])
    assert theirs.strip(), "the example printed nothing"
    _same_output(theirs, ours)
