"""`descentlab lab ...` and `descentlab gallery` run as subprocesses; bad arguments exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

from PIL import Image  # noqa: E402

# Runs descentlab.cli.main with the lab registered, whether or not cli.COMMAND_MODULES lists it.
_MAIN = ("import sys, descentlab.cli as c; m = 'descentlab.lab.cli'; "
         "c.COMMAND_MODULES = tuple(c.COMMAND_MODULES) + ((m,) if m not in c.COMMAND_MODULES "
         "else ()); sys.exit(c.main(sys.argv[1:]))")


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_trajectories_writes_png_and_gif(tmp_path):
    out, gif = tmp_path / "t.png", tmp_path / "t.gif"
    r = run("lab", "trajectories", "--function", "rosenbrock", "--optimizers",
            "sgd,momentum,adam", "--lr", "0.001,0.001,0.05", "--steps", "100", "--start",
            "-1.5,2", "--out", str(out), "--gif", str(gif), "--frames", "4")
    assert r.returncode == 0, r.stderr
    assert "adam" in r.stdout and "f=" in r.stdout
    assert Image.open(out).size == (640, 480)
    assert Image.open(gif).n_frames == 4


def test_formula_and_analyses(tmp_path):
    cmds = {
        "f.png": ["lab", "trajectories", "--formula", "x**2+3*sin(y)", "--optimizers",
                  "adam,newton", "--lr", "0.1", "--steps", "50", "--start", "1,1"],
        "s.png": ["lab", "sweep", "--steps", "10"],
        "b.png": ["lab", "basins", "--grid", "10", "--steps", "100"],
        "c.png": ["lab", "critical", "--grid", "15"],
        "g.png": ["lab", "gradients", "--activations", "sigmoid,relu", "--depth", "4",
                  "--width", "8", "--batch-size", "32"],
        "l.png": ["lab", "landscape", "--epochs", "5", "--grid", "5", "--samples", "40"],
    }
    for name, argv in cmds.items():
        r = run(*argv, "--out", str(tmp_path / name))
        assert r.returncode == 0, (argv, r.stderr)
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "l_1d.png").is_file()
    r = run("lab", "critical", "--grid", "15", "--out", str(tmp_path / "c2.png"))
    assert "4 minimum, 1 maximum, 4 saddle" in r.stdout


@pytest.mark.parametrize("argv", [
    ["lab", "trajectories", "--function", "nope"],
    ["lab", "trajectories", "--optimizers", "sgd,foo"],
    ["lab", "trajectories", "--lr", "-1"],
    ["lab", "trajectories", "--lr", "abc"],
    ["lab", "trajectories", "--start", "1,x"],
    ["lab", "trajectories", "--start", "1,2,3"],
    ["lab", "trajectories", "--formula", "__import__('os')"],
    ["lab", "trajectories", "--steps", "0"],
    ["lab", "trajectories", "--out", "x.jpg"],
    ["lab", "basins", "--grid", "100000"],
    ["lab", "sweep", "--lrs", "0"],
    ["lab", "critical", "--function", "parabola"],
    ["lab", "gradients", "--activations", "swish"],
    ["gallery", "--lessons", "nope"],
])
def test_bad_arguments_exit_2_with_one_line(argv, tmp_path):
    r = run(*argv, cwd=tmp_path)
    assert r.returncode == 2, (argv, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "error:" in r.stderr


def test_gallery_subset(tmp_path):
    r = run("gallery", "--out", str(tmp_path / "g"), "--lessons", "learning_rate,saddle")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g" / "index.html").is_file()
    assert "2/2 lessons" in r.stdout
