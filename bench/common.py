"""Shared timing helpers for the side-by-side benchmarks."""

from __future__ import annotations

import time
from typing import Callable


def median_time(fn: Callable[[], object], repeats: int = 7, number: int | None = None,
                warmup: int = 3, target_s: float = 0.05) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` timed batches, after ``warmup`` calls.

    ``number`` calls per batch is chosen so a batch lasts about ``target_s`` unless given.
    """
    for _ in range(warmup):
        fn()
    if number is None:
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        number = max(1, int(target_s / one))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    times.sort()
    return times[len(times) // 2]


def paired_median_times(fa: Callable[[], object], fb: Callable[[], object], repeats: int = 11,
                        warmup: int = 3, target_s: float = 0.05) -> tuple[float, float]:
    """Median seconds per call of ``fa`` and ``fb``, timed in alternating batches.

    Interleaving makes slow drifts of a shared machine hit both sides alike, so their ratio is
    steadier than two separate medians.
    """
    batches = []
    for fn in (fa, fb):
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        batches.append(max(1, int(target_s / max(time.perf_counter() - t0, 1e-7))))
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for k, fn in enumerate((fa, fb)):
            t0 = time.perf_counter()
            for _ in range(batches[k]):
                fn()
            times[k].append((time.perf_counter() - t0) / batches[k])
    return tuple(sorted(t)[len(t) // 2] for t in times)  # type: ignore[return-value]


def print_table(title: str, rows: list[dict]) -> None:
    """Print rows (name, descentlab_ms, torch_ms, ratio, note) as an aligned table."""
    print(f"\n## {title}\n")
    print(f"| {'benchmark':<44} | {'descentlab':>11} | {'torch':>11} | {'ratio':>6} | note")
    print(f"|{'-' * 46}|{'-' * 13}|{'-' * 13}|{'-' * 8}|------")
    for r in rows:
        ours_ms, torch_ms = r.get("descentlab_ms"), r.get("torch_ms")
        ratio = r.get("ratio")
        print(
            f"| {r['name']:<44} | "
            f"{(f'{ours_ms:8.4f} ms' if ours_ms is not None else 'n/a'):>11} | "
            f"{(f'{torch_ms:8.4f} ms' if torch_ms is not None else 'n/a'):>11} | "
            f"{(f'{ratio:6.2f}' if ratio is not None else 'n/a'):>6} | {r.get('note', '')}"
        )
