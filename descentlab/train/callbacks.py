"""Callbacks: code that runs at fixed points of :class:`~descentlab.train.Trainer`'s loop.

Subclass :class:`Callback` and override the hooks you need. Every hook receives the trainer, so a
callback can read ``trainer.model``, ``trainer.optimizer``, ``trainer.epoch``, ``trainer.history``
and stop the run with ``trainer.stop_training = True``. Callbacks with state that must survive a
resume (counters, best values) return it from ``state_dict`` (JSON-ready values only).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

__all__ = ["Callback", "EarlyStopping", "LRSchedulerCallback", "ModelCheckpoint"]


class Callback:
    """Base class: every hook is a no-op.

    Attributes:
        order: callbacks run in ascending ``order`` (stable); checkpoints use 100 so that they
            save the state after schedulers and early stopping have updated theirs.
    """

    order: int = 0

    def on_train_begin(self, trainer: Any) -> None:
        """Before the first epoch of this ``fit`` call (also after a resume)."""

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Before epoch ``epoch`` (1-based) runs its first batch."""

    def on_batch_end(self, trainer: Any, step: int, loss: float) -> None:
        """After optimizer step ``step`` (1-based, counted over the whole run)."""

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        """After epoch ``epoch`` and its validation; ``logs`` is the epoch's history record."""

    def on_train_end(self, trainer: Any) -> None:
        """After the last epoch, or after a stop requested by a callback."""

    def state_dict(self) -> dict[str, Any]:
        """State to save in checkpoints (JSON-ready); default none."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


def _improved(mode: str, value: float, best: float, min_delta: float) -> bool:
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max' (got {mode!r}); use 'min' for losses, "
                         "'max' for accuracies")


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float:
    if logs.get(monitor) is None:
        have = ", ".join(k for k, v in logs.items() if isinstance(v, (int, float)))
        raise KeyError(f"{who} monitors {monitor!r}, which this run does not log (it logs: "
                       f"{have}); pass validation data for val_* metrics or monitor one of these")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: history column to watch (default ``"val_loss"``).
        patience: epochs without improvement to tolerate before stopping.
        min_delta: smallest change that counts as an improvement.
        mode: ``"min"`` (losses) or ``"max"`` (accuracies).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "min") -> None:
        _check_mode(mode)
        if patience < 0:
            raise ValueError(f"patience must be >= 0 (got {patience})")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.wait = 0
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _improved(self.mode, value, self.best, self.min_delta):
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.log(f"early stopping at epoch {epoch}: {self.monitor} has not improved on "
                        f"{self.best:.6g} for {self.wait} epochs")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait = state["best"], state["wait"]
        self.stopped_epoch = state["stopped_epoch"]


class LRSchedulerCallback(Callback):
    """Step a ``descentlab.optim.lr_scheduler`` scheduler once per epoch.

    ``ReduceLROnPlateau`` is stepped with the monitored value (``val_loss`` when validation data
    is given, else ``loss``, unless ``monitor`` says otherwise); every other scheduler with no
    argument, as in a PyTorch loop. Its state is saved with checkpoints.
    """

    def __init__(self, scheduler: Any, monitor: str | None = None) -> None:
        self.scheduler = scheduler
        self.monitor = monitor

    def _wants_metric(self) -> bool:
        from ..optim.lr_scheduler import ReduceLROnPlateau

        return isinstance(self.scheduler, ReduceLROnPlateau)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if self._wants_metric():
            monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            self.scheduler.step(_monitored(logs, monitor, "ReduceLROnPlateau"))
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return dict(self.scheduler.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint every ``every`` epochs (and after the last one).

    With ``monitor`` it also keeps ``<directory>-best`` holding the best epoch seen. Saving is
    atomic (see :mod:`descentlab.train.checkpoint`), and the trainer refuses to save a state with
    non-finite weights, so the last checkpoint on disk is always a good one.

    Args:
        directory: checkpoint directory (``model.safetensors``, ``optimizer.safetensors``,
            ``state.json``).
        every: save every this many epochs (the final epoch is always saved).
        monitor: optional history column for the ``-best`` copy.
        mode: ``"min"`` or ``"max"`` for ``monitor``.
    """

    order = 100

    def __init__(self, directory: str | os.PathLike, every: int = 1, monitor: str | None = None,
                 mode: str = "min") -> None:
        _check_mode(mode)
        if every < 1:
            raise ValueError(f"every must be >= 1 (got {every})")
        self.directory = Path(directory)
        self.every, self.monitor, self.mode = every, monitor, mode
        self.best = math.inf if mode == "min" else -math.inf

    @property
    def best_directory(self) -> Path:
        return self.directory.with_name(self.directory.name + "-best")

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if self.monitor is not None:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if _improved(self.mode, value, self.best, 0.0):
                self.best = value
                trainer.save_checkpoint(self.best_directory)
        last = epoch == trainer.target_epochs or trainer.stop_training
        if epoch % self.every == 0 or last:
            trainer.save_checkpoint(self.directory)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
