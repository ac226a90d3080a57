"""`descentlab lab ...` and `descentlab gallery` run as subprocesses; bad arguments exit 2."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytest.importorskip("matplotlib")

from PIL import Image  # noqa: E402

# Runs descentlab.cli.main with the lab registered, whether or not cli.COMMAND_MODULES lists it.
_MAIN = ("import sys, descentlab.cli as c; m = 'descentlab.cli.lab'; "
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


LONG = "a" * 20_000

# (argument list, a fragment the one-line message must contain). Every case is refused before
# any computation, so the whole table runs in-process in well under a second per case.
BAD_ARGUMENTS = [
    (["lab", "trajectories", "--function", "nope"], "unknown function 'nope'"),
    (["lab", "trajectories", "--function", ""], "--function is empty"),
    (["lab", "trajectories", "--function", "  "], "--function is empty"),
    (["lab", "trajectories", "--optimizers", "sgd,foo"], "unknown optimizer 'foo'"),
    (["lab", "trajectories", "--optimizers", "adam,adam"], "adam listed more than once"),
    (["lab", "trajectories", "--optimizers", "sgd,,adam"], "empty entry"),
    (["lab", "trajectories", "--optimizers", ""], "no optimizer given"),
    (["lab", "trajectories", "--lr", "-1"], "must be > 0"),
    (["lab", "trajectories", "--lr", "abc"], "'abc' is not a number"),
    (["lab", "trajectories", "--lr", "nan"], "not a finite number"),
    (["lab", "trajectories", "--lr", "0.1,0.2", "--optimizers", "sgd,adam,momentum"],
     "--lr has 2 values for 3 optimizers"),
    (["lab", "trajectories", "--start", "1,x"], "'x' is not a number"),
    (["lab", "trajectories", "--start", "1,2,3"], "--start has 3 coordinate(s)"),
    (["lab", "trajectories", "--formula", "__import__('os')"], "__import__"),
    (["lab", "trajectories", "--formula", ""], "formula is empty"),
    (["lab", "trajectories", "--formula", "sin(1)"], "has no variable"),
    (["lab", "trajectories", "--formula", "1/0"], "division by zero"),
    (["lab", "trajectories", "--formula", "x + 0**-1"], "division by zero"),
    (["lab", "trajectories", "--formula", "(1e12)**100*x"], "overflows"),
    (["lab", "trajectories", "--formula", "x/0"], "not finite anywhere"),
    (["lab", "trajectories", "--formula", "log(0*x)"], "not finite anywhere"),
    (["lab", "trajectories", "--formula", "x**2 +"], "column 7, the end of the formula"),
    (["lab", "trajectories", "--steps", "0"], "--steps must be in 1..100000"),
    (["lab", "trajectories", "--steps", "99999999999999999999"], "--steps must be in"),
    (["lab", "trajectories", "--out", "x.jpg"], "must end in .png"),
    (["lab", "trajectories", "--out", ""], "must end in .png"),
    (["lab", "trajectories", "--out", "/"], "must end in .png"),
    (["lab", "trajectories", "--out", f"{LONG}.png"], "too long"),
    (["lab", "trajectories", "--out", "afile/x.png"], "which is a file, not a folder"),
    (["lab", "trajectories", "--out", "adir.png"], "is an existing folder"),
    (["lab", "trajectories", "--out", "/proc/nope/x.png"], "cannot write in '/proc'"),
    (["lab", "trajectories", "--gif", "x.png"], "--gif 'x.png' must end in .gif"),
    (["lab", "trajectories", "--formula", "x**2", "--gif", "t.gif"], "--gif needs a 2-D"),
    (["lab", "basins", "--grid", "100000"], "--grid must be in 2..400"),
    (["lab", "basins", "--lr", "0.1,0.2"], "give one number here"),
    (["lab", "basins", "--grid", "400", "--steps", "20000"], "is 3.2e+09 point-steps"),
    (["lab", "basins", "--optimizer", "gd,adam"], "give one optimizer here"),
    (["lab", "sweep", "--lrs", "0"], "must be > 0"),
    (["lab", "sweep", "--lrs", "0.1,0.1"], "0.1 more than once"),
    (["lab", "sweep", "--lrs", ""], "is empty"),
    (["lab", "critical", "--function", "parabola"], "needs a 2-D landscape"),
    (["lab", "gradients", "--activations", "swish"], "unknown activation 'swish'"),
    (["lab", "gradients", "--activations", "relu,relu"], "relu listed more than once"),
    (["lab", "gradients", "--inits", "he,"], "empty entry"),
    (["lab", "gradients", "--clip", "1,2"], "give one number here"),
    (["lab", "gradients", "--depth", "0"], "--depth must be in 1..200"),
    (["lab", "landscape", "--out", "/"], "must end in .png"),
    (["gallery", "--lessons", "nope"], "unknown lesson(s) 'nope'"),
    (["gallery", "--out", "/"], "is the file-system root"),
    (["gallery", "--out", "afile"], "is an existing file"),
    (["gallery", "--out", ""], "--out is empty"),
    (["gallery", "--out", LONG], "too long"),
]


@pytest.mark.parametrize("argv, fragment", BAD_ARGUMENTS,
                         ids=[" ".join(a)[:60] for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_exit_2_with_one_line_before_any_work(argv, fragment, tmp_path,
                                                            monkeypatch, capsys):
    import descentlab.cli as cli

    if "descentlab.cli.lab" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "descentlab.cli.lab"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "adir.png").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    t0 = time.perf_counter()
    try:
        status = cli.main(argv)
    except SystemExit as e:  # argparse's own errors
        status = e.code
    err = capsys.readouterr().err
    assert status == 2, (argv, err)
    assert "Traceback" not in err and err.count("\n") == 1 and "error:" in err, err
    assert fragment in err, (fragment, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    assert time.perf_counter() - t0 < 5.0  # refused before the computation


def test_bad_argument_in_a_real_process_exits_2_without_traceback(tmp_path):
    r = run("lab", "trajectories", "--formula", "1/0", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert "division by zero" in r.stderr


def test_gallery_subset(tmp_path):
    r = run("gallery", "--out", str(tmp_path / "g"), "--lessons", "learning_rate,saddle")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g" / "index.html").is_file()
    assert "2/2 lessons" in r.stdout


def test_sweep_prints_a_largest_stable_lr_that_agrees_with_two_over_l(tmp_path):
    import re

    r = run("lab", "sweep", "--out", str(tmp_path / "s.png"))
    assert r.returncode == 0, r.stderr
    m = re.search(r"largest stable lr: (\S+)\s+smallest diverging lr: (\S+)", r.stdout)
    stable, diverging = float(m.group(1)), float(m.group(2))
    # f(w) = w²: L = f'' = 2, so GD is stable exactly for α < 2/L = 1 (w ← (1 − 2α)·w).
    assert stable == pytest.approx(1.0, abs=1e-5) and stable <= 1.0
    assert diverging == pytest.approx(1.0, abs=1e-5) and diverging >= 1.0
    assert "2/L = 1 " in r.stdout


def test_gradients_default_run_shows_vanishing_next_to_healthy(tmp_path):
    r = run("lab", "gradients", "--depth", "6", "--width", "32", "--batch-size", "64",
            "--out", str(tmp_path / "g.png"))
    assert r.returncode == 0, r.stderr
    verdicts = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and "/" in parts[0]:
            verdicts[parts[0]] = (float(parts[3]), parts[4])
    assert verdicts["sigmoid/default"][1] == "vanishing"
    assert verdicts["relu/he"][1] == "healthy"
    assert len({v for _, v in verdicts.values()}) >= 2  # not every row says the same
    # Closed-form bound: σ' ≤ 1/4, and a 32×32 matrix of U(±1/√32) entries (std 1/√96) has
    # spectral norm ≈ 2·√32/√96 = 2/√3, so each of the 5 layers between the first and the last
    # hidden one scales the backward signal by at most ≈ 0.29: ratio ≲ 0.29^5 ≈ 2e-3.
    assert verdicts["sigmoid/default"][0] < (0.25 * 2 / 3 ** 0.5) ** 5
    assert 0.1 <= verdicts["relu/he"][0] <= 10


def test_a_formula_non_finite_somewhere_is_run_and_its_region_reported(tmp_path):
    r = run("lab", "trajectories", "--formula", "log(x) + y**2", "--optimizers", "adam",
            "--steps", "20", "--start", "1,1", "--out", str(tmp_path / "t.png"))
    assert r.returncode == 0, r.stderr
    # log is -inf at x = 0 and NaN for x < 0: 101 of the 201 grid columns over [-3, 3].
    assert f"is not finite on {101 / 201:.1%} of its box (e.g. -inf at (0, 0))" in r.stdout
    assert "hatched in the contour picture" in r.stdout
    assert (tmp_path / "t.png").stat().st_size > 1000
