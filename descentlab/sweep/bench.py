"""``bench-optimizers``: a CPU "AlgoPerf-lite" built on the sweep machinery.

A fixed suite of small workloads, each with a validation target and a budget (epochs or steps).
Every optimizer gets the same tuning budget on each workload (the same learning-rate grid × the
same seeds, run as one sweep); its score on a workload is the best config's steps-to-target and
time-to-target (median over seeds; a config that misses the target on any seed does not solve
the workload). Across workloads the performance profile (Dolan & Moré) compares optimizers:

    ρₒ(τ) = |{w : tₒ,w ≤ τ · minₚ tₚ,w}| / |W|

the fraction of workloads optimizer o solves within τ times the fastest optimizer's time.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .spec import Trial, parse_lr_grid

__all__ = ["BenchResult", "Score", "WORKLOADS", "Workload", "bench_markdown", "build_trials",
           "performance_profile", "plot_performance_profile", "run_benchmark", "score",
           "workload_names"]


@dataclass(frozen=True)
class Workload:
    """One benchmark task.

    Attributes:
        name: its name on the command line.
        kind: trial kind (``"train"`` or ``"function"``).
        params: fixed trial parameters (dataset, model, ...).
        metric: the record key compared with ``target``; ``goal``: ``"max"`` (reach at least)
            or ``"min"`` (reach at most).
        budget / quick_budget: epochs (train) or steps (function) of one trial.
        needs: a dataset whose files must be present (downloaded sets), else ``None``.
        description: one line.
    """

    name: str
    kind: str
    params: dict[str, Any]
    metric: str
    target: float
    goal: str
    budget: int
    quick_budget: int
    needs: str | None = None
    description: str = ""

    def reached(self, value: Any) -> bool:
        if value is None or not math.isfinite(value):
            return False
        return value >= self.target if self.goal == "max" else value <= self.target


WORKLOADS: tuple[Workload, ...] = (
    Workload("spiral", "train", {"dataset": "spiral", "hidden": [32, 32]}, "val_accuracy", 0.9,
             "max", 80, 40, description="two interleaved spirals, MLP 32-32"),
    Workload("moons", "train", {"dataset": "moons", "hidden": [16, 16]}, "val_accuracy", 0.97,
             "max", 40, 20, description="two half circles, MLP 16-16"),
    Workload("digits", "train", {"dataset": "digits", "hidden": [64]}, "val_accuracy", 0.95,
             "max", 15, 6, description="8×8 digits (scikit-learn), MLP 64"),
    Workload("polynomial", "train", {"dataset": "polynomial", "hidden": [32, 32]}, "val_loss",
             0.1, "min", 80, 40, description="regression y = x³ − 2x + noise, MLP 32-32"),
    Workload("rosenbrock", "function", {"function": "rosenbrock", "starts": 16}, "median_gap",
             1e-3, "min", 2000, 1000, description="2-D Rosenbrock valley, 16 random starts"),
    Workload("himmelblau", "function", {"function": "himmelblau", "starts": 16}, "median_gap",
             1e-6, "min", 1000, 500, description="2-D Himmelblau (4 minima), 16 random starts"),
    Workload("mnist", "train", {"dataset": "mnist", "model": "cnn", "hidden": [8, 16]},
             "val_accuracy", 0.97, "max", 3, 1, needs="mnist",
             description="MNIST, small CNN 8-16 (only when downloaded)"),
    Workload("fashion_mnist", "train", {"dataset": "fashion_mnist", "model": "cnn",
                                        "hidden": [8, 16]}, "val_accuracy", 0.85, "max", 3, 1,
             needs="fashion_mnist", description="Fashion-MNIST, small CNN 8-16 (only when "
             "downloaded)"),
)


def _files_present(dataset: str) -> bool:
    from ..data import real

    source = {"mnist": real.MNIST, "fashion_mnist": real.FASHION_MNIST}[dataset]
    folder = real.default_cache_dir() / source.name
    return all((folder / filename).is_file() for filename, _ in source.files.values())


def workload_names() -> list[str]:
    """The workloads that can run here (downloaded-data ones only when their files exist)."""
    out = []
    for w in WORKLOADS:
        try:
            ok = w.needs is None or _files_present(w.needs)
        except Exception:  # an unexpected cache layout: leave the optional workload out
            ok = False
        if ok:
            out.append(w.name)
    return out


def _workload(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise ValueError(f"unknown workload {name!r}; choose from {', '.join(workload_names())}")


def lr_grid(quick: bool) -> list[float]:
    """The tuning grid every optimizer gets: 4 points 1e-3 … 1 (quick) or 9 points 1e-4 … 1."""
    return parse_lr_grid("1e-3:1:4" if quick else "1e-4:1:9")


def _trials_of(w: Workload, optimizers: Sequence[str], quick: bool, seeds: int) -> list[Trial]:
    from .spec import SweepSpec

    budget_key = "epochs" if w.kind == "train" else "steps"
    base = {**w.params, budget_key: w.quick_budget if quick else w.budget}
    spec = SweepSpec(w.kind, base, {"optimizer": list(optimizers), "lr": lr_grid(quick),
                                    "seed": list(range(seeds))})
    return spec.trials()


def build_trials(workloads: Sequence[str], optimizers: Sequence[str], quick: bool,
                 seeds: int | None = None) -> list[Trial]:
    """Every tuning trial of the benchmark (same grid and seeds for every optimizer)."""
    n = seeds or (1 if quick else 3)
    return [t for name in workloads for t in _trials_of(_workload(name), optimizers, quick, n)]


@dataclass
class Score:
    """An optimizer's result on one workload.

    Attributes:
        lr: the tuned learning rate (fewest steps to target; ``None`` if no lr reached it).
        steps / seconds: median over seeds of the optimizer steps and training seconds until the
            target was first met (``inf`` when not solved).
        best_value: the best final metric over the grid (median over seeds).
    """

    workload: str
    optimizer: str
    lr: float | None
    steps: float
    seconds: float
    best_value: float | None


def _hit(w: Workload, row: dict[str, Any]) -> tuple[float, float]:
    """(step, elapsed seconds) of the first record meeting the target, or (inf, inf)."""
    if row["status"] != "done":
        return math.inf, math.inf
    for m in row["metrics"]:
        if w.reached(m.get(w.metric)):
            return float(m["step"]), float(m["elapsed"])
    return math.inf, math.inf


def score(w: Workload, rows: Sequence[dict[str, Any]], optimizer: str) -> Score:
    """Tune ``optimizer`` on ``w`` from its trials' store rows."""
    by_lr: dict[float, list[dict[str, Any]]] = {}
    for r in rows:
        if r["config"]["optimizer"] == optimizer:
            by_lr.setdefault(float(r["config"]["lr"]), []).append(r)
    best = Score(w.name, optimizer, None, math.inf, math.inf, None)
    finals = []
    for lr, members in sorted(by_lr.items()):
        hits = [_hit(w, r) for r in members]
        steps = float(np.median([h[0] for h in hits]))
        seconds = float(np.median([h[1] for h in hits]))
        vals = [r["final"].get(w.metric) for r in members if r["status"] == "done"]
        if len(vals) == len(members) and all(v is not None for v in vals):
            finals.append(float(np.median(vals)))
        if any(math.isinf(h[0]) for h in hits):
            continue
        if steps < best.steps or (steps == best.steps and seconds < best.seconds):
            best = Score(w.name, optimizer, lr, steps, seconds, None)
    if finals:
        best.best_value = max(finals) if w.goal == "max" else min(finals)
    return best


def performance_profile(costs: dict[str, list[float]], taus: np.ndarray) -> dict[str, np.ndarray]:
    """ρₒ(τ) for each optimizer from its cost per workload (``inf`` = not solved).

    Args:
        costs: optimizer → costs, one per workload, in the same workload order.
        taus: the ratios τ ≥ 1 at which to evaluate.
    """
    names = list(costs)
    table = np.array([costs[n] for n in names], dtype=float)      # (optimizers, workloads)
    best = table.min(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.isfinite(best), table / best, np.inf)
    ratio[~np.isfinite(table)] = np.inf
    n_work = table.shape[1]
    return {n: (ratio[i][None, :] <= taus[:, None]).sum(axis=1) / n_work
            for i, n in enumerate(names)}


def plot_performance_profile(scores: Sequence[Score], path: str | os.PathLike) -> Path:
    """Two panels: ρ(τ) by time-to-target and by steps-to-target."""
    from .report import pyplot, save_figure

    plt = pyplot()
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    workloads = list(dict.fromkeys(s.workload for s in scores))
    optimizers = list(dict.fromkeys(s.optimizer for s in scores))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100, sharey=True)
    for ax, attr, what in ((axes[0], "seconds", "time"), (axes[1], "steps", "steps")):
        costs = {o: [next(getattr(s, attr) for s in scores if s.optimizer == o
                          and s.workload == w) for w in workloads] for o in optimizers}
        best = {w: min((costs[o][i] for o in optimizers), default=math.inf)
                for i, w in enumerate(workloads)}
        ratios = [c / best[w] for o in optimizers for w, c in zip(workloads, costs[o])
                  if math.isfinite(c) and best[w] > 0]
        tau_max = max(2.0, 1.2 * max(ratios, default=1.0))
        taus = np.geomspace(1, tau_max, 200)
        profile = performance_profile(costs, taus)
        for o in optimizers:
            ax.step(taus, profile[o], where="post", label=o)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"τ (within τ × the best {what} to target)")
        ax.set_title(f"performance profile: {what}-to-target")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"fraction of the {len(workloads)} workloads solved")
    axes[0].legend()
    return save_figure(fig, path)


@dataclass
class BenchResult:
    """Scores per workload and optimizer, and the files written."""

    workloads: list[Workload]
    optimizers: list[str]
    scores: list[Score]
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)


def bench_markdown(result: BenchResult) -> str:
    """Steps- and time-to-target per workload (the tuned lr in brackets); ``–``: not solved."""
    head = "| workload | target | " + " | ".join(result.optimizers) + " |"
    lines = ["Steps to target (time to target, tuned lr); – = target not reached within the "
             "budget at any lr", "", head, "|---|---|" + "---|" * len(result.optimizers)]
    for w in result.workloads:
        cells = []
        for o in result.optimizers:
            s = next(s for s in result.scores if s.workload == w.name and s.optimizer == o)
            cells.append("–" if s.lr is None else
                         f"{s.steps:.0f} ({s.seconds:.2f} s, lr {s.lr:.2g})")
        sign = "≥" if w.goal == "max" else "≤"
        lines.append(f"| {w.name} | {w.metric} {sign} {w.target:g} | " + " | ".join(cells) + " |")
    solved = {o: sum(s.lr is not None for s in result.scores if s.optimizer == o)
              for o in result.optimizers}
    lines += ["", "Workloads solved: " + ", ".join(f"{o} {n}/{len(result.workloads)}"
                                                   for o, n in solved.items())]
    return "\n".join(lines) + "\n"


def run_benchmark(workloads: Sequence[str], optimizers: Sequence[str], quick: bool = False,
                  seeds: int | None = None, store: str | os.PathLike = "runs/bench.db",
                  backend: str = "local", workers: int | None = None, resume: bool = False,
                  address: str | None = None, out: str | os.PathLike = "runs/bench",
                  progress: Any = None) -> BenchResult:
    """Tune every optimizer on every workload (one sweep), score them, write the report.

    Writes ``bench.md``, ``bench.csv`` and ``profile.png`` into ``out``.
    """
    from .runner import run_sweep

    work = [_workload(n) for n in workloads]
    trials = build_trials(workloads, optimizers, quick, seeds)
    result = run_sweep(trials, store, backend=backend, workers=workers, resume=resume,
                       address=address, name="bench-quick" if quick else "bench",
                       progress=progress)
    rows_by_hash = {r["hash"]: r for r in result.rows}
    scores = []
    for w in work:
        own = {t.hash for t in _trials_of(w, optimizers, quick, seeds or (1 if quick else 3))}
        rows = [rows_by_hash[h] for h in own]
        scores += [score(w, rows, o) for o in optimizers]
    bench = BenchResult(work, list(optimizers), scores, result.seconds)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(bench_markdown(bench), encoding="utf-8")
    with open(out / "bench.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["workload", "optimizer", "lr", "steps_to_target", "seconds_to_target",
                         "best_final_value"])
        for s in scores:
            writer.writerow([s.workload, s.optimizer, s.lr, s.steps, s.seconds, s.best_value])
    bench.files = {"markdown": out / "bench.md", "csv": out / "bench.csv",
                   "profile": plot_performance_profile(scores, out / "profile.png")}
    return bench
