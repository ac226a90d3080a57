"""Sweep throughput: trials per minute on the local backend and on Ray, 1 and 2 workers.

Usage: python bench/sweep_throughput.py [--repeats 3] [--trials 32] [--epochs 20] [--no-ray]

Each run is a fresh sweep of ``--trials`` short spiral trials into a new store. Reported per
backend and worker count, as min–max over the repeats:

- trials/min: trials ÷ the sweep's wall time (pool start-up included for local; the Ray cluster
  is started once beforehand and its start-up is reported on its own line);
- overhead/trial: (wall time × workers − Σ the trials' own seconds) ÷ trials, i.e. the time a
  worker slot spends on anything but running a trial (dispatch, serialization, the store).

The machine's load changes the numbers; run it on a quiet machine, or read them as ranges.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _spec(trials: int, epochs: int, salt: int):
    from descentlab.sweep.spec import SweepSpec

    # A distinct seed range per run, so no run can reuse an earlier one's results.
    return SweepSpec("train", {"dataset": "spiral", "epochs": epochs, "hidden": [16, 16]},
                     {"optimizer": ["sgd", "adam"], "lr": [1e-2, 1e-1],
                      "seed": list(range(salt * 1000, salt * 1000 + trials // 4))})


def _measure(backend: str, workers: int, trials: int, epochs: int, salt: int) -> dict:
    from descentlab.sweep.runner import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_sweep(_spec(trials, epochs, salt), Path(tmp) / "s.db", backend=backend,
                           workers=workers)
        wall = time.perf_counter() - start
    busy = sum(r["wall_time"] for r in result.rows)
    n = len(result.rows)
    return {"per_min": n / wall * 60, "overhead": (wall * workers - busy) / n,
            "trial": busy / n}


def _range(measures: list[dict], key: str, fmt: str) -> str:
    values = [m[key] for m in measures]
    return f"{min(values):{fmt}}–{max(values):{fmt}}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trials", type=int, default=32, help="trials per sweep (multiple of 4)")
    ap.add_argument("--epochs", type=int, default=20, help="epochs per trial")
    ap.add_argument("--no-ray", action="store_true", help="local backend only")
    args = ap.parse_args(argv)
    print(f"{args.trials} spiral trials of {args.epochs} epochs per sweep, {args.repeats} "
          f"repeats, {os.cpu_count()} cores (ranges are min–max)")
    configs = [("local", 1), ("local", 2)]
    ray_start = None
    if not args.no_ray:
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        ray_start = time.perf_counter() - t0
        configs += [("ray", 1), ("ray", 2)]
    rows = {c: [] for c in configs}
    salt = 0
    for _ in range(args.repeats):
        for backend, workers in configs:
            salt += 1
            rows[(backend, workers)].append(_measure(backend, workers, args.trials,
                                                     args.epochs, salt))
    print(f"{'backend':<8}{'workers':>8}{'trials/min':>18}{'overhead/trial (s)':>22}"
          f"{'trial itself (s)':>20}")
    for (backend, workers), ms in rows.items():
        print(f"{backend:<8}{workers:>8}{_range(ms, 'per_min', '.0f'):>18}"
              f"{_range(ms, 'overhead', '.3f'):>22}{_range(ms, 'trial', '.3f'):>20}")
    if ray_start is not None:
        print(f"Ray local cluster start-up (ray.init, 2 CPUs): {ray_start:.1f} s, once")
        import ray

        ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
