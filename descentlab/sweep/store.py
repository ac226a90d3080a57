"""The sweep store: one SQLite file, one row per trial.

Each row keeps the trial's config JSON and its hash (the primary key), seed, status
(``pending`` → ``running`` → ``done`` / ``diverged`` / ``pruned`` / ``failed``), per-epoch
metrics (JSON), the final record, the objective, wall time and the divergence or failure reason.

Safety: the file runs in WAL mode and every change is one short transaction, so a process killed
with ``kill -9`` leaves the file consistent (at worst a trial stays ``running`` and a resume runs
it again), and several processes may write the same store at once (SQLite serializes the writers;
each waits up to ``timeout`` seconds for the lock). The schema version is stored in the file
(``PRAGMA user_version``) and a store written by another version is refused, not misread.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .spec import Trial

__all__ = ["SCHEMA_VERSION", "FINISHED", "Store", "StoreError"]

#: Bumped whenever the table layout or the meaning of a column changes.
SCHEMA_VERSION = 1

#: Statuses a resume keeps; every other row (pending, running, failed) is run again.
FINISHED = ("done", "diverged", "pruned")

_COLUMNS = ("hash", "sweep", "kind", "config", "seed", "status", "objective", "metrics", "final",
            "wall_time", "reason", "attempts", "updated")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    hash TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    objective REAL,
    metrics TEXT,
    final TEXT,
    wall_time REAL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_sweep ON trials (sweep, status);
"""


class StoreError(Exception):
    """The store cannot be used (unwritable, not a store, another schema version)."""


class Store:
    """A sweep store on ``path`` (created with its folder if missing).

    Args:
        path: the SQLite file.
        timeout: seconds a writer waits for another process's transaction before giving up.

    Raises:
        StoreError: naming the file, the problem and the fix.
    """

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the folder of store {self.path}: {e.strerror}; "
                             "choose a writable --store path") from None
        if self.path.is_dir():
            raise StoreError(f"store {self.path} is a folder; give a file path such as "
                             "runs/sweep.db")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StoreError(f"store {self.path} is not writable; fix its permissions or choose "
                             "another --store")
        try:
            self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._init()
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
                raise StoreError(f"store {self.path} stayed locked for {timeout:g} s by another "
                                 "process; try again when it is less busy") from None
            problem = ("is not a sweep store (not an SQLite file)" if "not a database" in str(e)
                       else f"cannot be opened for writing ({e})")
            raise StoreError(f"store {self.path} {problem}; choose another --store") from None

    def _init(self) -> None:
        c = self.conn
        version = c.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "trials" not in tables:
            raise StoreError(f"store {self.path} is an SQLite file of something else (tables: "
                             f"{', '.join(sorted(tables))}); choose another --store")
        if tables and version != SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} was written with sweep-store schema version {version}; this "
                f"descentlab reads version {SCHEMA_VERSION}; use a new --store (or export the old "
                "one with the descentlab version that wrote it)")
        c.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives a killed process; only a power loss may lose the last.
        c.execute("PRAGMA synchronous=NORMAL")
        c.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    c.execute(statement)
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ writes
    def _write(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(sql, rows)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def add(self, trials: Sequence[Trial], sweep: str) -> None:
        """Insert ``trials`` as ``pending`` (rows already present are left as they are)."""
        now = time.time()
        self._write("INSERT OR IGNORE INTO trials (hash, sweep, kind, config, seed, status, "
                    "updated) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                    [(t.hash, sweep, t.kind, t.config_json, t.seed, now) for t in trials])

    def mark_running(self, hashes: Sequence[str]) -> None:
        """Mark trials as started (a resume re-runs a trial left ``running`` by a killed sweep)."""
        now = time.time()
        self._write("UPDATE trials SET status='running', attempts=attempts+1, updated=? "
                    "WHERE hash=?", [(now, h) for h in hashes])

    def record(self, trial_hash: str, result: dict[str, Any]) -> None:
        """Store a finished trial's result (see ``trial.run_trial``) in one transaction."""
        self._write(
            "UPDATE trials SET status=?, objective=?, metrics=?, final=?, wall_time=?, reason=?, "
            "updated=? WHERE hash=?",
            [(result["status"], result.get("objective"),
              json.dumps(result.get("metrics", []), allow_nan=True),
              json.dumps(result.get("final", {}), allow_nan=True), result.get("seconds"),
              result.get("reason"), time.time(), trial_hash)])

    # ------------------------------------------------------------------ reads
    def statuses(self, hashes: Sequence[str] | None = None) -> dict[str, str]:
        """Trial hash → status, for ``hashes`` (or every row)."""
        rows = self.conn.execute("SELECT hash, status FROM trials").fetchall()
        if hashes is None:
            return dict(rows)
        wanted = set(hashes)
        return {h: s for h, s in rows if h in wanted}

    def rows(self, hashes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Trials as dicts (``config``, ``metrics``, ``final`` decoded), in insertion order."""
        cur = self.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM trials ORDER BY rowid")
        wanted = None if hashes is None else set(hashes)
        out = []
        for values in cur.fetchall():
            row = dict(zip(_COLUMNS, values))
            if wanted is not None and row["hash"] not in wanted:
                continue
            row["config"] = json.loads(row["config"])
            row["metrics"] = json.loads(row["metrics"]) if row["metrics"] else []
            row["final"] = json.loads(row["final"]) if row["final"] else {}
            out.append(row)
        return out

    def integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer (``"ok"`` for a sound file)."""
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    # ------------------------------------------------------------------ export
    def export(self, path: str | os.PathLike, hashes: Sequence[str] | None = None) -> Path:
        """Write the trials as a flat table: ``.csv`` (always) or ``.parquet`` (needs pyarrow).

        Columns: hash, sweep, kind, seed, status, objective, wall_time, reason, attempts, every
        config key (``config.<key>``) and every final-record key (``final.<key>``); the per-epoch
        metrics stay a JSON string column.
        """
        path = Path(path)
        flat = []
        for row in self.rows(hashes):
            rec = {k: row[k] for k in ("hash", "sweep", "kind", "seed", "status", "objective",
                                       "wall_time", "reason", "attempts")}
            rec.update({f"config.{k}": _cell(v) for k, v in row["config"].items()})
            rec.update({f"final.{k}": _cell(v) for k, v in row["final"].items()})
            rec["metrics"] = json.dumps(row["metrics"])
            flat.append(rec)
        columns: list[str] = []
        for rec in flat:
            columns += [k for k in rec if k not in columns]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise ImportError("Parquet export needs pyarrow: pip install pyarrow (or export "
                                  "to .csv)") from None
            table = pa.table({c: [rec.get(c) for rec in flat] for c in columns})
            pq.write_table(table, path)
        elif path.suffix == ".csv":
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(flat)
        else:
            raise ValueError(f"cannot export to {path.name}: use a .csv or .parquet file name")
        return path

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _cell(value: Any) -> Any:
    """Lists (hidden sizes, betas) as text, so every column has one scalar type."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return value
