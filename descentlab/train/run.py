"""Whole runs from a config: what ``descentlab train`` and ``descentlab compare`` do, as library
calls (data → model → optimizer → fit → history files, plot, checkpoint)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builders import OPTIMIZERS, optimizer_key
from .callbacks import ModelCheckpoint
from .checkpoint import CheckpointError, load_checkpoint
from .compare import CompareResult, compare_optimizers, comparison_markdown
from .loop import DivergenceError, evaluate
from .metrics import History
from .plots import plot_history
from .run_setup import (
    DEFAULT_BATCH_SIZE,
    SCHEDULERS,
    RunConfig,
    load_run_data,
    loss_for,
    make_loaders,
    make_scheduler,
    model_kind,
    prepare_data,
    resolve_batch_size,
    run_loaders,
    seeded_start,
    setup_trainer,
    with_batch_size,
)

__all__ = ["CompareResult", "RunConfig", "RunResult", "SCHEDULERS", "compare_optimizers",
           "comparison_markdown", "loss_for", "make_loaders", "make_scheduler", "prepare_data",
           "resolve_batch_size", "seeded_start", "train_run"]

# Options that must match for a resume to continue the same run (epochs may grow; output and
# display options do not matter).
_RESUME_KEYS = ("dataset", "data", "target", "task", "test_split", "model", "hidden",
                "activation", "optimizer", "lr", "batch_size", "seed", "momentum",
                "weight_decay", "clip", "val_split", "scheduler", "patience")


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        history: every epoch's record.
        final: the last epoch's record.
        test: test-set metrics (``loss``, ``accuracy``) when the dataset has a test split.
        train: the same metrics on the whole training set with the final weights.
        seconds: wall time of this call's training.
        files: name → path of everything written (history CSV/JSON, plot, checkpoint).
        resumed_from_epoch: the epoch a resume started from (0 for a fresh run).
        stopped_early: early stopping ended the run before ``epochs``.
    """

    history: History
    final: dict[str, Any]
    test: dict[str, float] | None
    seconds: float
    files: dict[str, Path]
    resumed_from_epoch: int = 0
    stopped_early: bool = False
    diverged: DivergenceError | None = field(default=None, repr=False)
    train: dict[str, float] | None = None
    model: str = "mlp"
    batch_size: int = DEFAULT_BATCH_SIZE
    requested_lr: float = 0.0

    @property
    def final_lr(self) -> float:
        """The learning rate of the last epoch (after any schedule)."""
        return float(self.final["lr"])



def _check_resumable(config: RunConfig, checkpoint_dir: Path) -> None:
    saved = load_checkpoint(checkpoint_dir).state.get("config", {})
    current = config.to_json()
    diffs = [f"{k}={saved.get(k)!r} (now {current[k]!r})" for k in _RESUME_KEYS
             if saved.get(k) != current[k]]
    if diffs:
        raise CheckpointError(checkpoint_dir / "state.json",
                              "was saved by a run with different options: " + ", ".join(diffs),
                              "pass the same options to resume, or use a new --out directory")



def train_run(config: RunConfig, resume: bool = False) -> RunResult:
    """Train one network as ``config`` says and write its outputs into ``config.out``.

    Writes ``history.csv``, ``history.json``, ``plot.png`` (loss and accuracy curves) and the
    resumable ``checkpoint/`` directory. On divergence the history so far is still written, the
    last good checkpoint is kept, and :class:`DivergenceError` is raised. After training, the
    final weights are evaluated on the whole training set and on the test set (if any).

    Args:
        config: the run's options.
        resume: continue from ``config.out/checkpoint`` up to ``config.epochs`` epochs, exactly
            as if the run had never stopped.

    Raises:
        ValueError: invalid options (unknown dataset, optimizer, ...).
        CheckpointError: ``resume`` with a missing, damaged or mismatched checkpoint.
        DivergenceError: the loss diverged.
    """
    out = Path(config.out)
    ckpt_dir = out / "checkpoint"
    d = load_run_data(config)
    if resume:
        _check_resumable(with_batch_size(config, d), ckpt_dir)
    every = config.checkpoint_every or max(1, config.epochs // 10)
    trainer = setup_trainer(config, d, [ModelCheckpoint(ckpt_dir, every=every)])
    train_loader, val_loader = run_loaders(config, d)
    if resume:
        trainer.load_checkpoint(ckpt_dir)
    start_epoch = trainer.epoch
    files: dict[str, Path] = {}
    start = time.perf_counter()
    diverged = None
    try:
        trainer.fit(train_loader, config.epochs, val_loader)
    except DivergenceError as e:
        diverged = e
    seconds = time.perf_counter() - start
    history = trainer.history
    if len(history):
        files["history_csv"], files["history_json"] = history.save(out)
        files["plot"] = plot_history(history, out / "plot.png",
                                     title=f"{d.info.name}: {config.optimizer}")
    if trainer.last_checkpoint is not None:
        files["checkpoint"] = trainer.last_checkpoint
    if diverged is not None:
        raise diverged
    from ..data import DataLoader

    train_eval = evaluate(trainer.model, DataLoader(d.train, batch_size=1024), trainer.loss_fn)
    test = None
    if d.test is not None:
        test = evaluate(trainer.model, DataLoader(d.test, batch_size=1024), trainer.loss_fn)
    requested = config.lr if config.lr is not None else OPTIMIZERS[
        optimizer_key(config.optimizer)].lr
    return RunResult(history=history, final=history.records[-1], test=test, seconds=seconds,
                     files=files, resumed_from_epoch=start_epoch,
                     stopped_early=trainer.epoch < config.epochs, train=train_eval,
                     model=model_kind(config, d.info), batch_size=train_loader.batch_size,
                     requested_lr=float(requested))
