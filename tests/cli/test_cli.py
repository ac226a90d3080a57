"""The command line, run as users run it: ``python -m descentlab ...`` in a subprocess."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import struct
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import descentlab as dl
from descentlab.cli import main
from descentlab.data import FASHION_MNIST, MNIST, list_datasets, load_dataset
from descentlab.train import build_mlp
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
    assert "train   loss" in r.stdout and "lr      0.01\n" in r.stdout
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
    assert table[0].startswith("| optimizer | lr | batch |") and len(table) == 2 + 3
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
    (["train", "--optimizer", "lbfgsx"], "invalid choice: 'lbfgsx' (choose from 'sgd'"),
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


# ------------------------------------------------------------------ every dataset the CLI lists
def idx_gz(arr: np.ndarray) -> bytes:
    """An IDX file (gzipped), written from the format's definition: 0, 0, type 0x08, ndim, dims."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


@pytest.fixture
def idx_cache(tmp_path, monkeypatch):
    """Small MNIST and Fashion-MNIST files in a data folder, their checksums patched in, and the
    network cut: nothing is downloaded. Returns the generated arrays."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    arrays = {}
    for source in (MNIST, FASHION_MNIST):
        (root / source.name).mkdir(parents=True)
        for split, n in (("train", 40), ("test", 10)):
            labels = np.arange(n) % 10
            images = rng.integers(0, 60, (n, 28, 28))
            images[np.arange(n), 2 + 2 * labels, 2:26] = 255  # a learnable bar per class
            for role, arr in (("images", images), ("labels", labels)):
                name, _ = source.files[f"{split}_{role}"]
                data = idx_gz(arr)
                (root / source.name / name).write_bytes(data)
                monkeypatch.setitem(source.files, f"{split}_{role}",
                                    (name, "md5:" + hashlib.md5(data).hexdigest()))
                arrays[source.name, split, role] = arr
    monkeypatch.setenv("DESCENTLAB_DATA", str(root))

    def no_network(url, dest):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr("descentlab.data.real.urlfetch", no_network)
    return arrays


@pytest.mark.parametrize("name", list(list_datasets()))
def test_train_every_listed_dataset(name, idx_cache, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", "--dataset", name, "--epochs", "1", "--hidden", "4", "--quiet",
                 "--out", str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "train   loss" in printed and (out / "history.csv").exists()
    if name in ("mnist", "fashion_mnist"):
        # 28×28 images default to the conv net, trained on the generated files.
        assert f"trained {name} (cnn)" in printed and "test    loss" in printed
        info = load_dataset(name)
        np.testing.assert_array_equal(info.train.tensors[0].numpy().reshape(-1, 28, 28),
                                      (idx_cache[name, "train", "images"] / 255).astype(np.float32))


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_compare_on_mnist_style_sets(name, idx_cache, tmp_path, capsys):
    assert main(["compare", "--dataset", name, "--optimizers", "sgd,lbfgs", "--epochs", "2",
                 "--hidden", "8", "--model", "mlp", "--quiet", "--out", str(tmp_path)]) == 0
    assert "| lbfgs | 1 | 40 |" in capsys.readouterr().out


def test_mnist_without_files_or_network_says_where_to_put_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESCENTLAB_DATA", str(tmp_path / "empty"))

    def no_network(url, dest):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr("descentlab.data.real.urlfetch", no_network)
    assert main(["train", "--dataset", "mnist", "--out", str(tmp_path / "o")]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "could not download train-images-idx3-ubyte.gz" in line
    assert all(name in line for name, _ in MNIST.files.values())
    assert f"into {tmp_path / 'empty' / 'mnist'} by hand" in line and "DESCENTLAB_DATA" in line


def test_digits_cnn_adapts_to_8x8(tmp_path, capsys):
    assert main(["train", "--dataset", "digits", "--model", "cnn", "--epochs", "3", "--lr",
                 "0.01", "--quiet", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "trained digits (cnn)" in printed
    test_acc = float(printed.split("test    loss")[1].split("accuracy")[1].split()[0])
    assert test_acc > 0.8  # ten classes: chance is 0.1


# ------------------------------------------------------------------ summaries and progress
def test_summary_prints_requested_and_scheduled_lr(tmp_path, capsys):
    import torch

    # The oracle: torch's MultiStepLR at the last epoch (milestones at 1/3 and 2/3).
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2, 4], gamma=0.1)
    for _ in range(5):
        opt.step()
        sched.step()
    last = opt.param_groups[0]["lr"]
    assert main(["train", "--optimizer", "sgd", "--lr", "0.1", "--scheduler", "step",
                 "--epochs", "6", "--quiet", "--out", str(tmp_path)]) == 0
    assert f"lr      0.1 requested, {last:g} at the last epoch (step schedule)" in (
        capsys.readouterr().out)


def test_compare_first_and_second_order_one_line_each_then_one_table(tmp_path):
    out = tmp_path / "cmp"
    r = run_cli("compare", "--dataset", "moons", "--optimizers", "sgd,adam,lbfgs", "--epochs",
                "12", "--hidden", "8", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    # Not a terminal: one line per optimizer as it finishes (no epoch lines), then the table.
    assert [ln.split()[0] for ln in lines[:3]] == ["sgd", "adam", "lbfgs"]
    assert not any(ln.startswith("epoch") for ln in lines)
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 2 + 3 and table[4].startswith("| lbfgs | 1 | 500 | 12 |")
    # Same initial weights: L-BFGS's first loss is the loss of the seeded network at the start.
    dl.manual_seed(0)
    model = build_mlp(2, (8,), 2)
    X, y = load_dataset("moons").train.tensors
    start = float(dl.nn.functional.cross_entropy(model(X), y).item())
    first = json.loads((out / "histories.json").read_text())["lbfgs"][0]["loss"]
    assert first == pytest.approx(start, rel=1e-6)


def test_compare_bar_mode_draws_one_bar_per_optimizer(tmp_path, capsys):
    from descentlab.train import RunConfig, compare_optimizers

    compare_optimizers(RunConfig(dataset="gaussians", hidden=(4,), epochs=3, verbose="bar",
                                 out=str(tmp_path)), ["sgd", "adam", "bfgs"])
    err = capsys.readouterr().err
    bars = [ln for ln in err.splitlines() if ln.strip()]
    assert [ln.split()[0] for ln in bars] == ["sgd", "adam", "bfgs"], err
    assert all("3/3" in ln for ln in bars)


def test_batch_size_full_is_the_whole_training_set(tmp_path, capsys):
    assert main(["train", "--dataset", "moons", "--batch-size", "full", "--epochs", "2",
                 "--quiet", "--out", str(tmp_path)]) == 0
    assert "batch 500," in capsys.readouterr().out  # moons: 500 samples, no test split
