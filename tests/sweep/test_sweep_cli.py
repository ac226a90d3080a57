"""``descentlab sweep`` / ``bench-optimizers``: bad input, kill -9 and resume, config files."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import numbers

from descentlab.cli import main
from descentlab.sweep.store import SCHEMA_VERSION, Store

SMALL = ["--dataset", "spiral", "--optimizers", "sgd,adam", "--lr", "1e-2,1e-1", "--seeds", "2",
         "--epochs", "2", "--hidden", "8", "--quiet"]


def run_cli(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as e:          # argparse's own errors
        code = e.code
    err = capsys.readouterr().err.strip()
    return code, err


def _other_version(path):
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    con.commit()
    con.close()


def _not_a_dir(tmp_path):
    (tmp_path / "afile").write_text("x")


def _opt(argv, name, value):
    argv = list(argv)
    i = argv.index(name)
    argv[i + 1] = value
    return argv


BAD = [
    ("unknown optimizer", _opt(SMALL, "--optimizers", "sgd,adamm"), None,
     "unknown optimizer 'adamm'"),
    ("empty optimizer list", _opt(SMALL, "--optimizers", ","), None, "empty grid"),
    ("empty lr grid", _opt(SMALL, "--lr", ""), None, "empty"),
    ("empty lr range", _opt(SMALL, "--lr", "1e-3:1:0"), None, "the grid is empty"),
    ("lr zero", _opt(SMALL, "--lr", "0,1e-2"), None, "must be a finite number > 0"),
    ("lr negative", SMALL + ["--lr=-1e-3"], None, "must be a finite number > 0"),
    ("lr nan", _opt(SMALL, "--lr", "nan"), None, "must be a finite number > 0"),
    ("lr inf", _opt(SMALL, "--lr", "1e-3,inf"), None, "must be a finite number > 0"),
    ("unwritable store", SMALL + ["--store", "{tmp}/afile/sub/s.db"], _not_a_dir,
     "choose a writable --store"),
    ("store of another version", SMALL + ["--store", "{tmp}/old.db"],
     lambda tmp: _other_version(tmp / "old.db"), "schema version"),
    ("more workers than trials", SMALL + ["--workers", "9"], None,
     "--workers 9 is more than the 8 trial(s)"),
    ("unknown dataset", _opt(SMALL, "--dataset", "spirals"), None, "unknown dataset 'spirals'"),
    ("unknown init", SMALL + ["--init", "default,lecun"], None, "unknown init 'lecun'"),
    ("dataset and function", SMALL + ["--function", "rosenbrock"], None, "not both"),
    ("unknown backend", SMALL + ["--backend", "slurm"], None, "unknown --backend 'slurm'"),
    ("address without ray", SMALL + ["--address", "auto"], None, "add --backend ray"),
    ("bad export", SMALL + ["--export", "{tmp}/x.xlsx"], None, "csv or .parquet"),
    ("unknown config key", SMALL + ["--config", "{tmp}/c.toml"],
     lambda tmp: (tmp / "c.toml").write_text("lrs = [0.1]\n"), "unknown option(s) lrs"),
    ("bad config value", SMALL + ["--config", "{tmp}/c.toml"],
     lambda tmp: (tmp / "c.toml").write_text("momentum = [1.5]\n"), "momentum: must be in [0, 1)"),
]


@pytest.mark.parametrize("case, argv, setup, words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_line_before_any_trial(tmp_path, capsys, case, argv, setup,
                                                          words):
    if setup is not None:
        setup(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--store" not in argv:
        argv += ["--store", str(tmp_path / "s.db")]
    store = argv[argv.index("--store") + 1]
    code, err = run_cli(["sweep", *argv], capsys)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("descentlab sweep: error: "), err
    assert words in err
    if os.path.isfile(store):        # nothing ran: no trial has left "pending"
        con = sqlite3.connect(store)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        if "trials" in tables:
            assert con.execute("SELECT count(*) FROM trials WHERE status != 'pending'"
                               ).fetchone()[0] == 0
        con.close()


def test_rerun_without_resume_is_refused(tmp_path, capsys):
    from descentlab.sweep.spec import SweepSpec

    store = str(tmp_path / "s.db")
    spec = SweepSpec("train", {"dataset": "spiral", "epochs": 2, "hidden": [8]},
                     {"optimizer": ["adam"], "lr": [0.01], "seed": [0]})
    with Store(store) as db:
        db.add(spec.trials(), "earlier")
    argv = ["sweep", *_opt(SMALL, "--optimizers", "adam"), "--seeds", "1", "--lr", "0.01",
            "--store", store]
    code, err = run_cli(argv, capsys)
    assert code == 2 and "already holds 1 of these 1 trials" in err and "--resume" in err


KILL_ARGS = ["--dataset", "spiral", "--optimizers", "sgd,adam", "--lr", "1e-2,1e-1,1",
             "--seeds", "2", "--epochs", "8", "--hidden", "16", "--workers", "1", "--quiet"]


def _done(store):
    try:
        con = sqlite3.connect(store, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM trials WHERE status IN ('done', "
                               "'diverged')").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_kill_minus_9_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    from descentlab.sweep.spec import SweepSpec
    from descentlab.sweep.trial import run_trial

    killed = str(tmp_path / "killed.db")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "descentlab", "sweep", *KILL_ARGS,
                             "--store", killed], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while _done(killed) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)      # the sweep and its worker processes
    proc.wait()
    at_kill = _done(killed)
    assert 3 <= at_kill < 12, "the sweep must be killed mid-way"

    code, _ = run_cli(["sweep", *KILL_ARGS, "--store", killed, "--resume"], capsys)
    assert code == 0
    with Store(killed) as a:
        resumed = a.rows()
    # the uninterrupted reference: every trial run straight through in this process
    spec = SweepSpec("train", {"dataset": "spiral", "epochs": 8, "val_split": 0.2},
                     {"optimizer": ["sgd", "adam"], "lr": [1e-2, 1e-1, 1.0], "seed": [0, 1],
                      "hidden": [[16]]})
    reference = []
    for t in spec.trials():
        result = run_trial(t.kind, t.params)
        reference.append({"hash": t.hash, **result})
    assert len(resumed) == 12 and len({r["hash"] for r in resumed}) == 12
    assert sorted(map(numbers, resumed)) == sorted(map(numbers, reference))
    # finished trials were not run again; at most the in-flight one ran twice
    assert sum(r["attempts"] > 1 for r in resumed) <= 1


def test_config_file_and_function_sweep_report(tmp_path, capsys):
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text("function: himmelblau\noptimizers: [gd, adam, newton]\nlr: 1e-3:1:4\n"
                   "steps: 60\nstarts: 4\nworkers: 1\n")
    out = tmp_path / "rep"
    code, err = run_cli(["sweep", "--config", str(cfg), "--store", str(tmp_path / "f.db"),
                         "--out", str(out), "--quiet", "--export", str(tmp_path / "f.csv")],
                        capsys)
    assert code == 0, err
    with Store(tmp_path / "f.db") as db:
        rows = db.rows()
    assert len(rows) == 12 and {r["config"]["function"] for r in rows} == {"himmelblau"}
    assert {r["config"]["optimizer"] for r in rows} == {"gd", "adam", "newton"}
    assert (out / "report.md").read_text().count("| newton |") == 1
    assert (tmp_path / "f.csv").read_text().count("\n") == 13


def test_optuna_search_runs_exactly_its_samples_and_prunes(tmp_path, capsys):
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: pip install "
                                 "'descentlab[scale]' to test --search optuna")
    store = tmp_path / "o.db"
    argv = ["sweep", "--dataset", "spiral", "--hidden", "8", "--optimizers", "sgd,adam",
            "--lr", "1e-5:1:2", "--search", "optuna", "--samples", "6", "--epochs", "6",
            "--workers", "1", "--store", str(store), "--quiet"]
    assert run_cli(argv, capsys)[0] == 0
    with Store(store) as db:
        rows = db.rows()
    assert len(rows) == 6 and all(r["status"] in ("done", "pruned", "diverged") for r in rows)
    assert all(1e-5 <= r["config"]["lr"] <= 1 for r in rows)
    # one worker and a seeded sampler: the same proposals every time, some of them pruned
    assert any(r["status"] == "pruned" for r in rows)
    for r in rows:                      # a pruned run stopped before its budget
        assert (len(r["metrics"]) < 6) == (r["status"] == "pruned")
    from descentlab.sweep.optuna_search import journal_path

    study = optuna.load_study(study_name="spiral", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal_path(store)))))
    done = [r["objective"] for r in rows if r["status"] == "done"]
    assert study.best_value == min(done)
    # resuming with a larger budget runs only the difference
    code, _ = run_cli([*argv[:argv.index("--samples") + 1], "8",
                       *argv[argv.index("--samples") + 2:], "--resume"], capsys)
    assert code == 0
    with Store(store) as db:
        assert len(db.rows()) == 8
    assert run_cli(argv, capsys)[1].count("--resume") == 1      # a rerun must say --resume
