"""Run a sweep: validate, register every trial in the store, run the unfinished ones, record.

Nothing runs until the whole sweep has been checked (names, values, store, worker count), so bad
input costs no compute. Each result is written to the store the moment it arrives, in its own
transaction; ``resume=True`` then re-runs only the trials that are not ``done`` or ``diverged``
(pending, left ``running`` by a killed sweep, or ``failed``). The same seeds give the same numbers
on every backend: a trial depends on its parameters only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .spec import SweepSpec, Trial
from .store import FINISHED, Store

__all__ = ["BACKENDS", "SweepProgress", "SweepResult", "default_workers", "run_sweep",
           "check_workers"]

BACKENDS = ("local", "ray")


class SweepProgress(Protocol):
    """What a live display is told: the sweep's size, each trial handed to a worker, each
    result as it arrives."""

    def start(self, total: int, to_run: int) -> None: ...

    def submitted(self, trial: Trial) -> None: ...

    def finished(self, trial: Trial, result: dict[str, Any]) -> None: ...


@dataclass
class SweepResult:
    """A finished sweep.

    Attributes:
        trials: every trial of the sweep, in grid order.
        rows: their store rows (config, status, metrics, ...), same order.
        ran: trials run by this call; ``skipped``: already finished in the store.
        seconds: wall time of this call.
        store: the store's path.
    """

    trials: list[Trial]
    rows: list[dict[str, Any]]
    ran: int
    skipped: int
    seconds: float
    store: Path


def default_workers(n_trials: int) -> int:
    """One worker per core (what this process may use), never more than there are trials."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, n_trials))


def check_workers(workers: int | None, n_trials: int) -> int:
    """The worker count to use; raises ``ValueError`` for < 1 or more workers than trials."""
    if workers is None:
        return default_workers(n_trials)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1 (got {workers})")
    if workers > n_trials:
        raise ValueError(f"--workers {workers} is more than the {n_trials} trial(s) of this "
                         f"sweep; use --workers {n_trials} or fewer")
    return workers


def _check_backend(backend: str, address: str | None) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if address is not None and backend != "ray":
        raise ValueError("--address joins a Ray cluster; add --backend ray")


def _run_optuna(spec: SweepSpec, store: str | os.PathLike, backend: str, workers: int | None,
                resume: bool, name: str, progress: SweepProgress | None,
                start: float) -> SweepResult:
    spec.validate()
    if backend != "local":
        raise ValueError("--search optuna runs on the local backend; drop --backend ray")
    workers = check_workers(workers, spec.samples)
    from .optuna_search import _import_optuna, run_optuna

    _import_optuna()
    with Store(store):      # refuse a bad store before any worker starts
        pass
    hashes, ran = run_optuna(spec, store, workers, resume, name, progress)
    with Store(store) as db:
        rows = db.rows(hashes)
    trials = [Trial(r["kind"], {k: v for k, v in r["config"].items() if k != "kind"})
              for r in rows]
    return SweepResult(trials, rows, ran, len(rows) - ran, time.perf_counter() - start,
                       Path(store))


def run_sweep(spec: SweepSpec | Sequence[Trial], store: str | os.PathLike,
              backend: str = "local", workers: int | None = None, resume: bool = False,
              address: str | None = None, name: str = "sweep",
              progress: SweepProgress | None = None) -> SweepResult:
    """Run every trial of ``spec`` not yet finished in ``store``.

    Args:
        spec: a :class:`SweepSpec` or an explicit list of trials.
        store: the SQLite file (created if missing).
        backend: ``"local"`` (process pool) or ``"ray"``.
        workers: trials at a time (default: one per core, at most the number of trials).
        resume: continue a sweep whose trials are already in the store; without it, finding
            any of them there is an error (so two different runs are never mixed by accident).
        address: Ray cluster to join (``backend="ray"`` only).
        name: a label stored with each trial.
        progress: a live display (see :class:`SweepProgress`).

    Raises:
        ValueError: bad names or values, an empty sweep, too many workers, trials already in the
            store without ``resume``.
        StoreError: the store cannot be used.
    """
    start = time.perf_counter()
    if isinstance(spec, SweepSpec) and spec.search == "optuna":
        return _run_optuna(spec, store, backend, workers, resume, name, progress, start)
    trials = spec.trials() if isinstance(spec, SweepSpec) else list(spec)
    if not trials:
        raise ValueError("the sweep has no trials (an empty grid); give at least one value per "
                         "option")
    _check_backend(backend, address)
    workers = check_workers(workers, len(trials))
    if backend == "ray":
        from .ray_backend import _import_ray

        _import_ray()
    hashes = [t.hash for t in trials]
    with Store(store) as db:
        known = db.statuses(hashes)
        if known and not resume:
            done = sum(s in FINISHED for s in known.values())
            raise ValueError(f"store {db.path} already holds {len(known)} of these "
                             f"{len(trials)} trials ({done} finished); pass --resume to finish "
                             "them, or choose a new --store")
        db.add(trials, name)
        status = db.statuses(hashes)
        todo = [t for t in trials if status[t.hash] not in FINISHED]
        if progress is not None:
            progress.start(len(trials), len(todo))

        def submitted(trial: Trial) -> None:
            db.mark_running([trial.hash])
            if progress is not None:
                progress.submitted(trial)

        if backend == "local":
            from .local import run_local

            results = run_local(todo, workers, on_submit=submitted)
        else:
            from .ray_backend import run_ray

            results = run_ray(todo, workers, address=address, on_submit=submitted)
        for trial, result in results:
            db.record(trial.hash, result)
            if progress is not None:
                progress.finished(trial, result)
        rows = db.rows(hashes)
    by_hash = {r["hash"]: r for r in rows}
    return SweepResult(trials, [by_hash[h] for h in hashes], len(todo), len(trials) - len(todo),
                       time.perf_counter() - start, Path(store))
