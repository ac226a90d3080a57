"""The SQLite store: versions, bad files, concurrent writers, export."""

import csv
import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from descentlab.sweep.spec import Trial
from descentlab.sweep.store import SCHEMA_VERSION, Store, StoreError

WRITER = textwrap.dedent("""
    import sys
    from descentlab.sweep.spec import Trial
    from descentlab.sweep.store import Store
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = Store(path)
    for i in range(n):
        # every trial its own transactions: the two processes interleave row by row
        shared = Trial("train", {"lr": i, "seed": 0})
        own = Trial("train", {"lr": i, "seed": 0, "writer": tag})
        db.add([shared, own], tag)
        db.mark_running([own.hash])
        db.record(own.hash, {"status": "done", "objective": float(i), "metrics": [{"i": i}],
                             "final": {"writer": tag}, "seconds": 0.0})
    db.close()
""")


def test_two_writers_do_not_corrupt_the_store(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, "150"], env=env)
             for tag in ("a", "b")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with Store(path) as db:
        rows = db.rows()
        assert db.integrity() == "ok"
    own = [r for r in rows if "writer" in r["config"]]
    assert len(own) == 300 and all(r["status"] == "done" for r in own)
    assert {(r["config"]["writer"], r["objective"]) for r in own} == {
        (t, float(i)) for t in "ab" for i in range(150)}
    shared = [r for r in rows if "writer" not in r["config"]]
    assert len(shared) == 150 and len({r["hash"] for r in shared}) == 150


def test_store_of_another_version_is_refused(tmp_path):
    path = tmp_path / "old.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}.*new --store"):
        Store(path)


@pytest.mark.parametrize("content, words", [
    (b"hello, not a database at all" * 100, "not a sweep store"),
])
def test_non_store_files_are_refused(tmp_path, content, words):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=words):
        Store(path)


def test_other_sqlite_files_and_folders_are_refused(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="something else"):
        Store(other)
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_store_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="choose"):
            Store(ro / "s.db")
    finally:
        ro.chmod(0o700)


def test_export_csv_and_parquet_round_trip(tmp_path):
    trials = [Trial("train", {"optimizer": "sgd", "lr": 0.1 * (i + 1), "hidden": [4, 4],
                              "seed": i}) for i in range(3)]
    with Store(tmp_path / "s.db") as db:
        db.add(trials, "t")
        for i, t in enumerate(trials):
            db.record(t.hash, {"status": "done", "objective": i / 2, "seconds": 1.0,
                               "metrics": [{"epoch": 1, "loss": i}], "final": {"loss": i}})
        csv_path = db.export(tmp_path / "out.csv")
        with open(csv_path, newline="") as f:
            got = list(csv.DictReader(f))
        assert [float(r["objective"]) for r in got] == [0.0, 0.5, 1.0]
        assert [json.loads(r["config.hidden"]) for r in got] == [[4, 4]] * 3
        assert json.loads(got[2]["metrics"]) == [{"epoch": 1, "loss": 2}]
        pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow not installed")
        table = pq.read_table(db.export(tmp_path / "out.parquet")).to_pydict()
        assert table["objective"] == [0.0, 0.5, 1.0]
        assert table["config.lr"] == pytest.approx([0.1, 0.2, 0.3])
        with pytest.raises(ValueError, match="csv or .parquet"):
            db.export(tmp_path / "out.xlsx")
