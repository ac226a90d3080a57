"""What a sweep found: best config per optimizer (mean ± std over seeds), loss-vs-lr curves,
learning curves of the best configs, diverged regions marked; PNG figures and a Markdown summary.

The numbers are computed here from store rows (``Store.rows``); the CLI only prints them.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .spec import describe
from .trial import objective_name

__all__ = ["ConfigSummary", "best_per_optimizer", "group_configs", "lr_curves",
           "plot_learning_curves", "plot_lr_curves", "report_markdown", "write_report"]


@dataclass
class ConfigSummary:
    """One configuration (every option but the seed) over its seeds.

    Attributes:
        kind: trial kind; ``params``: the options (seed removed); ``label``: short description.
        objectives: the finished seeds' objectives; ``seeds``: every seed tried.
        diverged: seeds that diverged (or failed): such a config is never "best".
        mean / std: of ``objectives`` (std with ddof=1; 0 for one seed); ``inf`` when a seed
            diverged.
        rows: the store rows of its trials.
    """

    kind: str
    params: dict[str, Any]
    label: str
    objectives: list[float]
    seeds: list[int]
    diverged: list[int]
    rows: list[dict[str, Any]] = field(repr=False)

    @property
    def ok(self) -> bool:
        return not self.diverged and len(self.objectives) == len(self.seeds)

    @property
    def mean(self) -> float:
        return float(np.mean(self.objectives)) if self.ok else math.inf

    @property
    def std(self) -> float:
        if not self.ok or len(self.objectives) < 2:
            return 0.0
        return float(np.std(self.objectives, ddof=1))


def group_configs(rows: Sequence[dict[str, Any]]) -> list[ConfigSummary]:
    """Group finished trials by their config without the seed (unfinished rows and those an
    Optuna pruner stopped early are left out: their objective is not a final one)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["status"] not in ("done", "diverged", "failed"):
            continue
        rest = {k: v for k, v in row["config"].items() if k != "seed"}
        groups[json.dumps(rest, sort_keys=True)].append(row)
    configs = [json.loads(k) for k in groups]
    varying = [k for k in (configs[0] if configs else {})
               if k != "optimizer" and any(c.get(k) != configs[0][k] for c in configs)]
    out = []
    for members in groups.values():
        cfg = {k: v for k, v in members[0]["config"].items() if k not in ("seed", "kind")}
        objectives = [r["objective"] for r in members
                      if r["status"] == "done" and r["objective"] is not None]
        bad = [r["seed"] for r in members if r["status"] != "done" or r["objective"] is None]
        out.append(ConfigSummary(members[0]["kind"], cfg, describe(cfg, varying), objectives,
                                 [r["seed"] for r in members], bad, members))
    return out


def best_per_optimizer(rows: Sequence[dict[str, Any]]) -> dict[str, ConfigSummary]:
    """Optimizer → its config with the lowest mean objective over seeds (ties: first seen).

    A config with a diverged seed ranks last; an optimizer whose every config diverged keeps
    one of them (so the report can say so).
    """
    best: dict[str, ConfigSummary] = {}
    for g in group_configs(rows):
        name = g.params["optimizer"]
        if name not in best or g.mean < best[name].mean:
            best[name] = g
    return best


def lr_curves(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """Per optimizer, the U-curve: for each lr the best config at that lr (over the other swept
    options), its mean and std over seeds, and whether every config at that lr diverged.

    Returns:
        optimizer → {"lr", "mean", "std", "diverged"} arrays sorted by lr (``mean`` is NaN where
        ``diverged``).
    """
    by_opt: dict[str, dict[float, list[ConfigSummary]]] = defaultdict(lambda: defaultdict(list))
    for g in group_configs(rows):
        by_opt[g.params["optimizer"]][float(g.params["lr"])].append(g)
    out = {}
    for name, per_lr in by_opt.items():
        lrs = sorted(per_lr)
        picks = [min(per_lr[lr], key=lambda g: g.mean) for lr in lrs]
        diverged = np.array([not g.ok for g in picks])
        out[name] = {"lr": np.array(lrs),
                     "mean": np.array([math.nan if not g.ok else g.mean for g in picks]),
                     "std": np.array([g.std for g in picks]), "diverged": diverged}
    return out


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (reports are files, never windows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Lay out ``fig``, write it to ``path`` (making its folder) and close it; returns the path."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    pyplot().close(fig)
    return path


def plot_lr_curves(rows: Sequence[dict[str, Any]], path: str | os.PathLike,
                   title: str = "") -> Path:
    """Final objective vs learning rate per optimizer (log x), ± std over seeds as a band;
    learning rates where every config diverged are marked ✕ along the top edge."""
    plt = pyplot()
    curves = lr_curves(rows)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    finite = np.concatenate([c["mean"][~c["diverged"]] for c in curves.values()] or [[]])
    positive = finite.size > 0 and bool(np.all(finite > 0))
    top = float(np.max(finite)) if finite.size else 1.0
    marker_y = top * 2 if positive else top + 0.1 * (abs(top) + 1)
    any_diverged = False
    for i, (name, c) in enumerate(curves.items()):
        ok = ~c["diverged"]
        (line,) = ax.plot(c["lr"][ok], c["mean"][ok], "o-", label=name)
        if ok.any():
            ax.fill_between(c["lr"][ok], c["mean"][ok] - c["std"][ok],
                            c["mean"][ok] + c["std"][ok], color=line.get_color(), alpha=0.2)
        if c["diverged"].any():
            any_diverged = True
            # Stacked a little apart, so optimizers that diverge at the same lr stay visible.
            y = marker_y * 1.15 ** i if positive else marker_y + 0.05 * i * (abs(top) + 1)
            ax.plot(c["lr"][~ok], np.full((~ok).sum(), y), "x", ms=9, mew=2,
                    color=line.get_color())
    if any_diverged:
        ax.axhline(marker_y, color="0.6", lw=0.8, ls=":")
        ax.annotate("✕ diverged", (0.99, marker_y), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xscale("log")
    if positive:
        ax.set_yscale("log")
    kind = rows[0]["kind"] if rows else "train"
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"final {objective_name(kind, rows[0]['config'] if rows else {})} "
                  "(mean ± std over seeds)")
    ax.set_title(title or "loss vs learning rate: too small / right / too large")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _curve(rows: Sequence[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds of ``key`` per record index (over the seeds that reached it)."""
    series = [[m.get(key) for m in r["metrics"]] for r in rows]
    n = max((len(s) for s in series), default=0)
    xs, ys = [], []
    x_key = "epoch" if rows and rows[0]["kind"] == "train" else "step"
    for i in range(n):
        vals = [s[i] for s in series if i < len(s) and s[i] is not None]
        if vals:
            ref = next(r["metrics"][i] for r in rows if i < len(r["metrics"]))
            xs.append(ref[x_key])
            ys.append(float(np.mean(vals)))
    return np.array(xs), np.array(ys)


def plot_learning_curves(best: dict[str, ConfigSummary], path: str | os.PathLike,
                         title: str = "") -> Path:
    """Objective per epoch (train) or step (function) of each optimizer's best config, mean
    over its seeds."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    positive = True
    for g in best.values():
        key = objective_name(g.kind, g.params)
        x, y = _curve(g.rows, key)
        if y.size:
            positive &= bool(np.all(y > 0))
            ax.plot(x, y, label=f"{g.label}" + ("" if g.ok else " (diverged)"))
    if positive:
        ax.set_yscale("log")
    kind = next(iter(best.values())).kind if best else "train"
    ax.set_xlabel("epoch" if kind == "train" else "step")
    key = objective_name(kind, next(iter(best.values())).params) if best else "loss"
    ax.set_ylabel(f"{key} (mean over seeds)")
    ax.set_title(title or "learning curves of the best configs")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _fmt(x: float) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.4g}"


def report_markdown(rows: Sequence[dict[str, Any]], title: str = "Sweep report",
                    images: Sequence[str] = ()) -> str:
    """The summary: counts, best config per optimizer (mean ± std over seeds), diverged lrs."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["status"]] += 1
    best = best_per_optimizer(rows)
    kind = rows[0]["kind"] if rows else "train"
    key = objective_name(kind, rows[0]["config"]) if rows else "loss"
    lines = [f"# {title}", "",
             f"{len(rows)} trials: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
             "", f"Best config per optimizer by final {key} (lower is better), mean ± std over "
             "seeds:", "", "| optimizer | config | mean | std | seeds | time/trial (s) |",
             "|---|---|---|---|---|---|"]
    ranked = sorted(best.values(), key=lambda g: g.mean)
    for g in ranked:
        wall = [r["wall_time"] for r in g.rows if r["wall_time"] is not None]
        note = "" if g.ok else f" (diverged: seeds {', '.join(map(str, g.diverged))})"
        per_trial = _fmt(float(np.mean(wall))) if wall else "–"
        lines.append(f"| {g.params['optimizer']} | {g.label}{note} | {_fmt(g.mean)} | "
                     f"{_fmt(g.std)} | {len(g.seeds)} | {per_trial} |")
    curves = lr_curves(rows)
    diverged = {n: c["lr"][c["diverged"]] for n, c in curves.items() if c["diverged"].any()}
    if diverged:
        lines += ["", "Diverged (every config at that learning rate):", ""]
        lines += [f"- {n}: lr = {', '.join(f'{v:.3g}' for v in lrs)}"
                  for n, lrs in diverged.items()]
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        lines += ["", "Failed trials:", ""]
        lines += [f"- {describe(r['config'])} seed {r['seed']}: {r['reason']}" for r in failed[:10]]
    if images:
        lines += [""] + [f"![{Path(p).stem}]({Path(p).name})" for p in images]
    return "\n".join(lines) + "\n"


def write_report(rows: Sequence[dict[str, Any]], out: str | os.PathLike,
                 title: str = "Sweep report") -> dict[str, Path]:
    """Write ``lr_curves.png``, ``learning_curves.png`` and ``report.md`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"lr_curves": plot_lr_curves(rows, out / "lr_curves.png", title=f"{title}: "
                                         "final loss vs learning rate"),
             "learning_curves": plot_learning_curves(best_per_optimizer(rows),
                                                     out / "learning_curves.png",
                                                     title=f"{title}: best configs")}
    md = out / "report.md"
    md.write_text(report_markdown(rows, title, [str(p) for p in files.values()]),
                  encoding="utf-8")
    files["markdown"] = md
    return files
