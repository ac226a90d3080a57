"""Arguments are checked before any work: each bad argument list exits 2 with one line that names
the problem, fast (no data loaded beyond a small built-in set, nothing trained, nothing written).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from descentlab.cli import main

ROOT = Path(__file__).resolve().parents[2]

# {file}: an existing regular file; {csv}: a valid CSV; {tmp}: a fresh temporary folder.
CASES = [
    # Output paths, checked before training.
    (["train", "--out", "/"], "is the file-system root"),
    (["train", "--out", "/proc/nope/x"], "cannot write into --out /proc/nope/x"),
    (["train", "--out", "{file}"], "is a file, and the outputs need a folder"),
    (["train", "--out", "{file}/sub"], "cannot write into --out"),
    (["compare", "--out", "{file}"], "is a file, and the outputs need a folder"),
    (["train", "--out", ""], "argument --out: is empty"),
    (["train", "--out", "a" * 20_000], "paths are limited to"),
    (["train", "--out", "{tmp}/" + "b" * 300], "names are limited to"),
    # Numbers with bounds.
    (["train", "--epochs", "99999999999999999999"], "argument --epochs: must be at most 100000"),
    (["train", "--batch-size", str(10**20)], "argument --batch-size: must be at most"),
    (["train", "--patience", "0"], "argument --patience: must be a positive integer"),
    (["train", "--hidden", "0"], "'none' gives a linear model"),
    (["train", "--hidden", ""], "hidden sizes are empty"),
    (["train", "--hidden", "100000"], "hidden width 100000 is too large"),
    # Optimizer lists.
    (["compare", "--optimizers", "adam,adam"], "'adam' listed more than once"),
    (["compare", "--optimizers", "sgd,,adam"], "has an empty name"),
    (["compare", "--optimizers", "sgd,SGD"], "'sgd' listed more than once"),
    # Data options that do not fit together.
    (["train", "--target", "y"], "--target applies to your own data"),
    (["train", "--task", "regression"], "--task applies to your own data"),
    (["train", "--data", "{tmp}/nope.csv"], "no such file"),
    (["train", "--dataset", "spiral", "--data", "{csv}"], "not both"),
    (["train", "--dataset", "mnist", "--test-split", "0.1"], "official test set"),
    (["train", "--dataset", "spiral", "--model", "cnn"], "--model cnn needs image data"),
    # Full-batch optimizers: what does not apply to them.
    (["train", "--optimizer", "lbfgs", "--batch-size", "16"], "lbfgs is a full-batch method"),
    (["train", "--optimizer", "lbfgs", "--clip", "1"], "gradient clipping does not apply"),
    (["compare", "--optimizers", "sgd,bfgs", "--clip", "1"], "--clip does not apply"),
    (["train", "--optimizer", "bfgs", "--weight-decay", "0.1"], "has no weight decay setting"),
    (["train", "--optimizer", "newton", "--dataset", "digits"], "use newton-cg (Hessian-free)"),
    (["compare", "--optimizers", "sgd,newton", "--dataset", "wine"], "too slow above 500"),
]


@pytest.fixture()
def places(tmp_path: Path) -> dict[str, str]:
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n")
    return {"file": str(afile), "csv": str(csv), "tmp": str(tmp_path)}


@pytest.mark.parametrize("args, needle", CASES, ids=[" ".join(a)[:50] for a, _ in CASES])
def test_bad_arguments_exit_2_with_one_line_before_any_work(args, needle, places, tmp_path,
                                                            capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default output folder would land here
    args = [a.format(**places) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    start = time.perf_counter()
    try:
        status = main(args)
    except SystemExit as e:
        status = e.code
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err
    # Nothing was trained or written.
    assert not list(tmp_path.rglob("history.csv")) and not list(tmp_path.rglob("checkpoint"))
    assert seconds < 5, f"{seconds:.1f} s: the check came after real work"


def test_bare_install_names_the_extra_before_training(tmp_path):
    # A sitecustomize that hides safetensors, as on an install without the 'train' extra.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import sys\nsys.modules['safetensors'] = None\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shim), str(ROOT)]))
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "descentlab", "train", "--epochs", "2",
                        "--out", str(out)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "needs safetensors" in line and 'pip install "descentlab[train]"' in line
    assert r.stdout == "" and not (out / "history.csv").exists()
