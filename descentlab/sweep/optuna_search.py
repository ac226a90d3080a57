"""``--search optuna``: Optuna's TPE sampler with median pruning on the validation curve.

Where a grid is wasteful (many options, a wide lr range), TPE proposes each next config from the
results so far, and the median pruner stops a train trial whose objective after some epoch is
worse than the median of earlier trials at that epoch. Workers are processes of the local
backend, each running ``study.optimize`` on one shared study kept in an Optuna journal file next
to the store (``<store>.optuna.log``), so the study survives a kill and ``--resume`` continues
it until ``samples`` trials have completed or been pruned. Every trial also lands in the sweep
store like a grid trial (pruned ones with status ``pruned``), so reports and exports work alike.

The search space comes from the sweep's axes: ``lr`` log-uniform between its smallest and
largest value, every other axis a categorical choice. With several workers the proposals depend
on the order trials finish in, so unlike a grid, the same seeds need not give the same trials.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .spec import SweepSpec, Trial, applicable

__all__ = ["journal_path", "optuna_worker", "sample_params"]


def journal_path(store: str | os.PathLike) -> Path:
    """The Optuna journal kept next to ``store``."""
    return Path(str(store) + ".optuna.log")


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError('--search optuna needs optuna: pip install "descentlab[scale]"'
                          ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def sample_params(trial: Any, spec: SweepSpec) -> dict[str, Any]:
    """Ask an Optuna trial for one config of ``spec``'s space (seed: the first of its seeds)."""
    params = {**spec.defaults(), **spec.base}
    for name, values in spec.axes.items():
        if name == "seed":
            continue
        if name == "lr":
            lo, hi = float(min(values)), float(max(values))
            params["lr"] = lo if lo == hi else trial.suggest_float("lr", lo, hi, log=True)
        else:
            # Optuna's categorical choices must be scalars: lists (hidden, betas) go by index.
            scalar = all(isinstance(v, (str, int, float, bool)) or v is None for v in values)
            if scalar:
                params[name] = trial.suggest_categorical(name, list(values))
            else:
                params[name] = values[trial.suggest_categorical(name, list(range(len(values))))]
    params["seed"] = int(spec.axes.get("seed", [params["seed"]])[0])
    return applicable(spec.kind, params)


def _study(optuna: Any, store: str | os.PathLike, name: str, seed: int | None) -> Any:
    return optuna.create_study(
        study_name=name, storage=_study_storage(journal_path(store)), direction="minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2))


def optuna_worker(spec: SweepSpec, store: str, name: str, n_trials: int, worker: int) -> int:
    """Run ``n_trials`` trials of the shared study (a process of the local pool); returns how
    many this worker ran."""
    from .local import limit_threads
    from .store import Store
    from .trial import run_trial

    limit_threads()
    optuna = _import_optuna()
    study = _study(optuna, store, name, spec.search_seed + worker)
    ran = 0
    with Store(store) as db:

        def objective(ot: Any) -> float:
            nonlocal ran
            trial = Trial(spec.kind, sample_params(ot, spec))
            ot.set_user_attr("hash", trial.hash)
            db.add([trial], name)
            db.mark_running([trial.hash])
            prune: Callable[[int, float], bool] | None = None
            if spec.kind == "train":
                def prune(epoch: int, value: float) -> bool:
                    ot.report(value, epoch)
                    return ot.should_prune()
            result = run_trial(spec.kind, trial.params, prune)
            db.record(trial.hash, result)
            ran += 1
            if result["status"] == "pruned":
                raise optuna.TrialPruned()
            if result["objective"] is None:      # diverged or failed: the worst possible value
                return float("inf")
            return float(result["objective"])

        study.optimize(objective, n_trials=n_trials)
    return ran


def run_optuna(spec: SweepSpec, store: str | os.PathLike, workers: int, resume: bool,
               name: str, progress: Any = None, poll: float = 0.5) -> tuple[list[str], int]:
    """Run the study on ``workers`` local processes; returns (the hashes of its trials, ran).

    Raises:
        ValueError: a study of that name already in the journal without ``resume``.
    """
    from concurrent.futures import ProcessPoolExecutor, wait

    from .local import one_blas_thread
    from .store import Store

    optuna = _import_optuna()
    journal = journal_path(store)
    if journal.exists() and not resume:
        names = optuna.study.get_all_study_names(_study_storage(journal))
        if name in names:
            raise ValueError(f"{journal} already holds the Optuna study {name!r}; pass --resume "
                             "to continue it, or choose a new --store")
    study = _study(optuna, store, name, spec.search_seed)
    to_run = max(spec.samples - _finished(optuna, study), 0)
    # Trials finished before this call are not news to the progress display.
    seen = {t.number for t in study.get_trials(deepcopy=False)
            if t.state not in (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.WAITING)}
    if progress is not None:
        progress.start(spec.samples, to_run)
    import multiprocessing

    # Each worker runs its share, so exactly ``samples`` trials finish (a trial cut off by a
    # kill does not count, and a resume runs a new one in its place).
    shares = [to_run // workers + (i < to_run % workers) for i in range(workers)]
    ctx = multiprocessing.get_context("spawn")
    with one_blas_thread(), ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(optuna_worker, spec, str(store), name, n, i)
                   for i, n in enumerate(shares) if n > 0]
        while True:
            finished, _ = wait(futures, timeout=poll)
            if progress is not None:
                _report(optuna, study, spec, seen, progress)
            if len(finished) == len(futures):
                break
        ran = sum(f.result() for f in futures)
    hashes = [t.user_attrs["hash"] for t in study.get_trials(deepcopy=False)
              if "hash" in t.user_attrs]
    with Store(store) as db:
        known = db.statuses(hashes)
    return [h for h in dict.fromkeys(hashes) if h in known], ran


def _study_storage(journal: Path) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(journal)))


def _finished(optuna: Any, study: Any) -> int:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def _report(optuna: Any, study: Any, spec: SweepSpec, seen: set[int], progress: Any) -> None:
    """Tell the progress display about trials that finished since the last poll."""
    state = optuna.trial.TrialState
    for t in study.get_trials(deepcopy=False):
        if t.number in seen or t.state == state.RUNNING or t.state == state.WAITING:
            continue
        seen.add(t.number)
        status = {state.COMPLETE: "done", state.PRUNED: "pruned"}.get(t.state, "failed")
        value = t.value if t.state == state.COMPLETE else None
        if value is not None and value == float("inf"):
            status, value = "diverged", None
        trial = Trial(spec.kind, {**spec.base, **t.params, "seed": 0})
        progress.submitted(trial)
        seconds = t.duration.total_seconds() if t.duration is not None else 0.0
        progress.finished(trial, {"status": status, "objective": value, "seconds": seconds})
