"""The Ray backend: each trial a Ray task with its CPU request.

``ray.init()`` starts a local cluster with ``workers`` CPUs, or joins the cluster at ``address``
(``"auto"`` or ``"ray://host:10001"``); when Ray is already initialized (a notebook, a test
fixture) that session is used and left running. Ray schedules the tasks on the CPUs it knows
of; this module keeps at most ``workers`` in flight so progress shows what is really running and
a resumed sweep wastes little. Ray runs a task requesting ``num_cpus=1`` with
``OMP_NUM_THREADS=1``, so each trial gets one BLAS thread, as on the local backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .spec import Trial

__all__ = ["run_ray", "ray_available"]


def ray_available() -> bool:
    """Whether the ``ray`` package can be imported."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError('the Ray backend needs ray: pip install "descentlab[scale]" (or use '
                          "--backend local)") from None
    return ray


def _work(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    from .local import limit_threads
    from .trial import run_trial

    limit_threads()
    return run_trial(kind, params)


def run_ray(trials: Sequence[Trial], workers: int, address: str | None = None,
            cpus_per_trial: float = 1.0, on_submit: Callable[[Trial], None] | None = None
            ) -> Iterator[tuple[Trial, dict[str, Any]]]:
    """Run ``trials`` as Ray tasks; yields ``(trial, result)`` as each finishes.

    Args:
        trials: what to run.
        workers: trials in flight (and the CPUs of a cluster started here).
        address: join this cluster instead of starting one.
        cpus_per_trial: each task's ``num_cpus`` request.
        on_submit: called with each trial just before it is submitted.
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        # Workers import this very descentlab (a source checkout too, not only an installed
        # one): its folder goes on their import path.
        from pathlib import Path

        from .. import __file__ as package_file

        job = ray.job_config.JobConfig(code_search_path=[str(Path(package_file).parents[1])])
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, job_config=job)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False,
                     job_config=job)
    try:
        task = ray.remote(num_cpus=cpus_per_trial, max_retries=0)(_work)
        pending = list(reversed(trials))
        running: dict[Any, Trial] = {}
        while pending or running:
            while pending and len(running) < workers:
                trial = pending.pop()
                if on_submit is not None:
                    on_submit(trial)
                running[task.remote(trial.kind, trial.params)] = trial
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                yield running.pop(ref), ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()
