"""Comparing optimizers: the same network from the same start, once per optimizer, and the table,
curves and histories of the outcome (what ``descentlab compare`` does)."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builders import OPTIMIZERS, build_model, make_optimizer, optimizer_key
from .callbacks import Callback
from .loop import DivergenceError, Trainer, evaluate
from .metrics import History
from .plots import plot_comparison
from .progress import format_record, resolve_verbose
from .run_setup import RunConfig, batch_size, load_run_data, model_kind, run_loaders, setup_trainer


@dataclass
class CompareResult:
    """One optimizer's outcome in :func:`compare_optimizers`.

    Attributes:
        optimizer: its name; ``lr``: the learning rate used; ``history``: its epochs;
        ``eval``: held-out metrics (test split, else validation), or ``None``;
        ``seconds``: training time; ``error``: why it stopped early (divergence), or ``None``;
        ``batch_size``: samples per step (the whole training set for full-batch methods).
    """

    optimizer: str
    lr: float
    history: History
    eval: dict[str, float] | None
    seconds: float
    error: str | None = None
    batch_size: int | None = None

    def row(self) -> dict[str, Any]:
        last = self.history.records[-1] if len(self.history) else {}
        return {
            "optimizer": self.optimizer, "lr": self.lr, "batch": self.batch_size,
            "epochs": last.get("epoch", 0),
            "final_loss": last.get("loss"), "train_accuracy": last.get("accuracy"),
            "eval_loss": (self.eval or {}).get("loss"),
            "eval_accuracy": (self.eval or {}).get("accuracy"),
            "seconds": round(self.seconds, 3),
            "status": "ok" if self.error is None else "diverged",
        }



class _CompareProgress(Callback):
    """Progress of a comparison: one rich bar per optimizer on a terminal, else one line per
    optimizer when it finishes (never a line per epoch of every optimizer)."""

    def __init__(self, mode: str, names: Sequence[str], epochs: int) -> None:
        self.mode = resolve_verbose(mode)
        self.width = max(len(n) for n in names)
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._current = ""
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn(f"{{task.description:<{self.width}}}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[metrics]}"),
                console=Console(stderr=True))
            for name in names:
                self._tasks[name] = self._progress.add_task(name, total=epochs, metrics="")
            self._progress.start()

    def begin(self, name: str) -> None:
        self._current = name

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self._progress is not None:
            self._progress.update(self._tasks[self._current], completed=epoch,
                                  metrics=format_record(logs))

    def end(self, result: CompareResult) -> None:
        last = result.history.records[-1] if len(result.history) else {}
        status = "diverged" if result.error is not None else format_record(last)
        if self._progress is not None:
            self._progress.update(self._tasks[result.optimizer], metrics=status)
        elif self.mode == "lines":
            print(f"{result.optimizer:<{self.width}}  lr {result.lr:<8g} epochs "
                  f"{last.get('epoch', 0):<5} {result.seconds:7.2f} s  {status}", flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None



def compare_optimizers(config: RunConfig, optimizers: Sequence[str],
                       lrs: dict[str, float] | None = None) -> list[CompareResult]:
    """Train the same network from the same initial weights, on the same data, once per
    optimizer, and write ``compare.md``, ``compare.csv``, ``compare.png`` and ``histories.json``
    into ``config.out``.

    First- and second-order methods race side by side: the first-order ones take mini-batches of
    ``config.batch_size`` (shuffled identically for each), the full-batch ones (lbfgs, bfgs,
    newton, newton-cg) one iteration on the whole training set per epoch. Progress shows one
    bar (or one line) per optimizer.

    Args:
        config: the shared options (its ``optimizer`` and ``lr`` are replaced per run).
        optimizers: distinct names from ``builders.OPTIMIZERS``.
        lrs: learning rate per optimizer; missing ones use ``config.lr`` if set, else the
            optimizer's default.

    Returns:
        one :class:`CompareResult` per optimizer, in order; a diverged run is reported in its
        row rather than stopping the comparison.
    """
    from ..data import DataLoader

    unknown = [o for o in optimizers if o.strip().lower().replace("_", "-") not in OPTIMIZERS]
    if unknown or not optimizers:
        raise ValueError(f"unknown optimizer(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"choose from {', '.join(OPTIMIZERS)}")
    names = [optimizer_key(o) for o in optimizers]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"optimizer(s) {', '.join(twice)} listed more than once; name each once")
    d = load_run_data(config)
    eval_set = d.test if d.test is not None else d.val
    # Every option is checked for every optimizer before the first one trains (the model is
    # built for that: newton's size limit depends on it).
    model = build_model(model_kind(config, d.info), d.info, config.hidden, config.activation)
    for name in names:
        batch_size(dataclasses.replace(config, optimizer=name,
                                       batch_size=None if OPTIMIZERS[name].closure
                                       else config.batch_size), len(d.train))
        make_optimizer(name, model.parameters(), config.lr, momentum=config.momentum,
                       weight_decay=config.weight_decay)
        if OPTIMIZERS[name].closure and config.clip is not None:
            raise ValueError(f"{name} searches along its own direction with the true gradient, "
                             "so --clip does not apply to it; leave out --clip to compare it")
    progress = _CompareProgress(config.verbose, names, config.epochs)
    results = []
    try:
        for name in names:
            lr = (lrs or {}).get(name, config.lr if config.lr is not None else OPTIMIZERS[name].lr)
            run_cfg = dataclasses.replace(
                config, optimizer=name, lr=lr, verbose="none",
                batch_size=None if OPTIMIZERS[name].closure else config.batch_size)
            # setup_trainer reseeds: every optimizer starts from the same weights.
            trainer = setup_trainer(run_cfg, d, [progress])
            train_loader, val_loader = run_loaders(run_cfg, d)
            progress.begin(name)
            start = time.perf_counter()
            error = None
            try:
                trainer.fit(train_loader, config.epochs, val_loader)
            except DivergenceError as e:
                error = str(e)
            seconds = time.perf_counter() - start
            ev = None
            if eval_set is not None and error is None:
                ev = evaluate(trainer.model, DataLoader(eval_set, batch_size=1024),
                              trainer.loss_fn)
            results.append(CompareResult(name, lr, trainer.history, ev, seconds, error,
                                         train_loader.batch_size))
            progress.end(results[-1])
    finally:
        progress.close()
    _write_comparison(results, Path(config.out), d.info.name)
    return results



def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if not math.isnan(value) else "nan"
    return str(value)



def comparison_markdown(results: Sequence[CompareResult]) -> str:
    """The comparison as a markdown table (one row per optimizer)."""
    rows = [r.row() for r in results]
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(row[c]) for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"



def _write_comparison(results: Sequence[CompareResult], out: Path, dataset: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text(comparison_markdown(results), encoding="utf-8")
    rows = [r.row() for r in results]
    with open(out / "compare.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "histories.json").write_text(
        json.dumps({r.optimizer: r.history.to_list() for r in results}, indent=1) + "\n",
        encoding="utf-8")
    plot_comparison({f"{r.optimizer} (lr={r.lr:g})": r.history for r in results},
                    out / "compare.png", title=f"{dataset}: optimizers from the same start")
