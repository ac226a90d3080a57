"""The local backend: a pool of worker processes on this machine, one BLAS thread each.

Workers are started with ``spawn`` and with ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` /
``MKL_NUM_THREADS`` = 1 in their environment (read by the BLAS libraries when NumPy loads), and
threadpoolctl caps any pool that loaded anyway: N workers on N cores then use N threads, not N²
fighting over the cores. At most ``workers`` trials are in flight, so "running" means running.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from .spec import Trial

__all__ = ["BLAS_VARIABLES", "run_local", "one_blas_thread"]

BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Set the BLAS thread variables to 1 for processes started inside the block."""
    saved = {k: os.environ.get(k) for k in BLAS_VARIABLES}
    os.environ.update({k: "1" for k in BLAS_VARIABLES})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def limit_threads() -> None:
    """Cap the BLAS/OpenMP pools of this process at one thread (worker initializer)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables already did it before NumPy loaded
        return
    threadpool_limits(1)


def _work(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    from .trial import run_trial

    return run_trial(kind, params)


def run_local(trials: Sequence[Trial], workers: int,
              on_submit: Callable[[Trial], None] | None = None
              ) -> Iterator[tuple[Trial, dict[str, Any]]]:
    """Run ``trials`` on ``workers`` processes; yields ``(trial, result)`` as each finishes.

    Args:
        trials: what to run.
        workers: processes (and trials in flight).
        on_submit: called with each trial just before it is handed to a worker.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    pending = list(reversed(trials))
    if not pending:
        return
    ctx = multiprocessing.get_context("spawn")
    with one_blas_thread(), ProcessPoolExecutor(workers, mp_context=ctx,
                                                initializer=limit_threads) as pool:
        running: dict[Future, Trial] = {}
        try:
            while pending or running:
                while pending and len(running) < workers:
                    trial = pending.pop()
                    if on_submit is not None:
                        on_submit(trial)
                    running[pool.submit(_work, trial.kind, trial.params)] = trial
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield running.pop(future), future.result()
        finally:
            for future in running:
                future.cancel()
