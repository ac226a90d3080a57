"""The command line, run as users run it: ``python -m descentlab ...`` in a subprocess."""

from __future__ import annotations

import csv
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from descentlab.cli import main
from descentlab.train.plots import DPI, FIGSIZE

PNG_SIZE = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "descentlab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (checks the signature too)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_train_writes_history_plot_checkpoint_and_summary(tmp_path):
    out = tmp_path / "runs" / "x"
    r = run_cli("train", "--dataset", "spiral", "--hidden", "16,16", "--activation", "relu",
                "--optimizer", "adam", "--lr", "0.01", "--batch-size", "32", "--epochs", "3",
                "--seed", "0", "--out", str(out), "--val-split", "0.2", "--clip", "5",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    # Not a terminal: plain progress lines, then the summary.
    assert "epoch 3/3" in r.stdout and "final   loss" in r.stdout and str(out) in r.stdout
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    assert len(json.loads((out / "history.json").read_text())) == 3
    assert (out / "plot.png").stat().st_size > 5000
    assert png_size(out / "plot.png") == PNG_SIZE
    assert {p.name for p in (out / "checkpoint").iterdir()} == {
        "model.safetensors", "optimizer.safetensors", "state.json"}

    r = run_cli("train", "--dataset", "spiral", "--hidden", "16,16", "--lr", "0.01",
                "--epochs", "5", "--out", str(out), "--val-split", "0.2", "--clip", "5",
                "--resume", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "resumed at epoch 3" in r.stdout
    assert len(json.loads((out / "history.json").read_text())) == 5


def test_compare_writes_table_and_one_plot(tmp_path):
    out = tmp_path / "cmp"
    r = run_cli("compare", "--dataset", "gaussians", "--optimizers", "sgd,momentum,adam",
                "--epochs", "2", "--hidden", "8", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    table = (out / "compare.md").read_text().splitlines()
    assert table[0].startswith("| optimizer | lr |") and len(table) == 2 + 3
    assert [row["optimizer"] for row in csv.DictReader(open(out / "compare.csv"))] == [
        "sgd", "momentum", "adam"]
    assert png_size(out / "compare.png") == PNG_SIZE
    assert "| adam |" in r.stdout


def test_divergence_is_one_line_with_advice_and_exit_1(tmp_path):
    r = run_cli("train", "--dataset", "spiral", "--optimizer", "sgd", "--lr", "1000",
                "--epochs", "5", "--out", str(tmp_path / "d"), cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("descentlab train: error: training diverged at step")
    assert "epoch 1" in line and "lr=1000" in line and "try --lr 100" in line


@pytest.mark.parametrize("args, needle", [
    (["train", "--optimizer", "adamx"], "invalid choice: 'adamx' (choose from 'sgd'"),
    (["train", "--dataset", "nope"], "invalid choice: 'nope' (choose from 'circle'"),
    (["train", "--activation", "swish"], "invalid choice: 'swish' (choose from 'relu'"),
    (["train", "--lr", "-0.1"], "argument --lr: must be > 0 (got -0.1)"),
    (["train", "--lr", "0"], "argument --lr: must be > 0"),
    (["train", "--lr", "fast"], "argument --lr: 'fast' is not a number"),
    (["train", "--hidden", "16,,a"], "argument --hidden: malformed hidden sizes '16,,a'"),
    (["train", "--hidden", "16,-2"], "argument --hidden: malformed hidden sizes"),
    (["train", "--epochs", "0"], "argument --epochs: must be a positive integer (got 0)"),
    (["train", "--epochs", "-3"], "argument --epochs: must be a positive integer"),
    (["train", "--batch-size", "0"], "argument --batch-size: must be a positive integer"),
    (["train", "--val-split", "1.5"], "argument --val-split: must be in [0, 1)"),
    (["train", "--momentum", "1"], "argument --momentum: must be in [0, 1)"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["compare", "--optimizers", "sgd,foo"], "unknown optimizer 'foo'; choose from sgd,"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_library_rejections_are_one_line_too(tmp_path, capsys):
    # Valid syntax the library refuses: momentum on an optimizer without one.
    assert main(["train", "--optimizer", "adam", "--momentum", "0.9", "--epochs", "1",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "optimizer 'adam' has no momentum setting" in err
    assert main(["train", "--resume", "--out", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such checkpoint directory" in err


def test_bad_arguments_in_a_real_process_show_no_traceback(tmp_path):
    r = run_cli("train", "--hidden", "16,,a", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and r.stdout == ""
