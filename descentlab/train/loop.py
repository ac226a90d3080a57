"""The training loop: epochs of forward → loss → backward → (clip) → step, with validation,
callbacks, a divergence guard, progress output and exact resume from checkpoints."""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from .callbacks import Callback
from .checkpoint import (
    OPTIMIZER_FILE,
    Checkpoint,
    load_checkpoint,
    load_model_weights,
    load_optimizer_state,
    save_checkpoint,
)
from .closure_state import needs_closure, pack_closure_state, unpack_closure_state
from .metrics import History, correct_count
from .progress import VERBOSE_MODES, ProgressReporter

# Still importable from the loop, where they used to live (the train shell imports format_record).
from .progress import format_record as format_record
from .progress import resolve_verbose as resolve_verbose

__all__ = ["DivergenceError", "Trainer", "evaluate", "fit", "needs_closure"]


class DivergenceError(RuntimeError):
    """Training stopped because the loss became NaN/Inf or grew past the divergence bound.

    Attributes:
        step: the global optimizer step (1-based) whose loss diverged.
        epoch: the epoch (1-based) it happened in.
        lr: the learning rate in use.
        loss: the offending loss value.
        suggested_lr: a learning rate ten times lower, the first thing to try.
        checkpoint: the last good checkpoint directory (kept untouched), or ``None``.
        checkpoint_epoch: the epoch that checkpoint holds.
    """

    def __init__(self, reason: str, *, step: int, epoch: int, lr: float, loss: float,
                 checkpoint: Path | None, checkpoint_epoch: int | None) -> None:
        self.reason, self.step, self.epoch, self.lr, self.loss = reason, step, epoch, lr, loss
        self.suggested_lr = lr / 10
        self.checkpoint, self.checkpoint_epoch = checkpoint, checkpoint_epoch
        kept = (f"the last good checkpoint (epoch {checkpoint_epoch}) is kept at {checkpoint}"
                if checkpoint is not None else "no checkpoint had been saved yet")
        super().__init__(
            f"training diverged at step {step} (epoch {epoch}): {reason} with lr={lr:g}; "
            f"lower the learning rate, e.g. lr={self.suggested_lr:g}, or clip gradients; {kept}")



def _batch_xy(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    size = len(batch) if hasattr(batch, "__len__") else "?"
    raise TypeError(f"the training loop expects (input, target) batches; got "
                    f"{type(batch).__name__} of length {size} — use a TensorDataset(X, y) or a "
                    "dataset whose samples are (x, y) pairs")



def _n(y: Any) -> int:
    return len(y._data) if isinstance(y, Tensor) else len(y)



def _is_class_target(y: Any) -> bool:
    arr = y._data if isinstance(y, Tensor) else np.asarray(y)
    return arr.dtype.kind in "iu"



def evaluate(model: Any, loader: Iterable[Any], loss_fn: Callable[[Any, Any], Tensor],
             accuracy: bool | None = None) -> dict[str, float]:
    """Mean loss (and accuracy) of ``model`` over ``loader``, in eval mode without gradients.

    The loss is the sample-weighted mean of the batch losses (exact for ``reduction='mean'``).
    ``accuracy=None`` computes it when the targets are integer class indices.

    Returns:
        ``{"loss": ..., "accuracy": ...}`` (``accuracy`` only when computed).
    """
    was_training = model.training
    model.eval()
    total, count, correct = 0.0, 0, 0
    try:
        with no_grad():
            for batch in loader:
                x, y = _batch_xy(batch)
                out = model(x)
                n = _n(y)
                total += float(loss_fn(out, y).item()) * n
                count += n
                if accuracy is None:
                    accuracy = _is_class_target(y)
                if accuracy:
                    correct += correct_count(out, y)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate got an empty loader; give it at least one batch")
    result = {"loss": total / count}
    if accuracy:
        result["accuracy"] = correct / count
    return result



class Trainer:
    """Runs training epochs over a DataLoader, PyTorch-style, and keeps what a resume needs.

    Each step: ``optimizer.zero_grad()``, ``loss_fn(model(x), y)``, divergence check,
    ``loss.backward()``, optional ``clip_grad_norm_``, ``optimizer.step()``. Each epoch ends with
    validation (if given), a history record, and the callbacks (in ``order``).

    Closure-driven optimizers (LBFGS, BFGS, Newton, NewtonCG) get ``optimizer.step(closure)``
    once per batch instead, the closure doing zero_grad → loss → backward on that batch; give
    them one batch holding the whole training set (their line searches compare losses of the
    same function). The epoch's metrics are those of the closure's first call, at the weights
    the step started from, as for mini-batch steps.

    Args:
        model: an ``nn.Module``.
        optimizer: a ``descentlab.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(output, target)`` returning a scalar Tensor (``reduction='mean'``).
        callbacks: :class:`Callback` instances (early stopping, schedulers, checkpoints, ...).
        clip_grad_norm: if set, clip the joint gradient norm to this value every step.
        divergence_factor: stop when a batch loss exceeds this multiple of the run's first loss
            (``None`` disables the bound; NaN/Inf always stop the run).
        accuracy: track accuracy (``None``: when the targets are integer class indices).
        verbose: ``"auto"`` (bar on a terminal, else lines), ``"bar"``, ``"lines"`` or ``"none"``.
        config: JSON-ready description of the run, saved in checkpoints (checked on resume by the
            caller, e.g. the CLI).
    """

    def __init__(self, model: Any, optimizer: Any, loss_fn: Callable[[Any, Any], Tensor], *,
                 callbacks: Sequence[Callback] = (), clip_grad_norm: float | None = None,
                 divergence_factor: float | None = 1e3, accuracy: bool | None = None,
                 verbose: str = "auto", config: dict[str, Any] | None = None) -> None:
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be > 0 (got {clip_grad_norm}); "
                             "use None for no clipping")
        if divergence_factor is not None and not divergence_factor > 1:
            raise ValueError(f"divergence_factor must be > 1 (got {divergence_factor}); "
                             "use None to disable the bound")
        if verbose not in VERBOSE_MODES:
            raise ValueError(f"verbose must be one of {', '.join(VERBOSE_MODES)} (got {verbose!r})")
        self.uses_closure = needs_closure(optimizer)
        if self.uses_closure and clip_grad_norm is not None:
            raise ValueError(f"{type(optimizer).__name__} searches along its own direction with "
                             "the true gradient, so gradient clipping does not apply; drop "
                             "clip_grad_norm (--clip)")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self.clip_grad_norm = clip_grad_norm
        self.divergence_factor = divergence_factor
        self.accuracy = accuracy
        self.verbose = verbose
        self.config = dict(config or {})
        self.params = list(model.parameters())
        self.epoch = 0
        self.step = 0
        self.first_loss: float | None = None
        self.history = History()
        self.stop_training = False
        self.target_epochs = 0
        self.train_loader: Any = None
        self.last_checkpoint: Path | None = None
        self.last_checkpoint_epoch: int | None = None
        self._pending_loader_rng: dict[str, Any] | None = None
        self._reporter: ProgressReporter | None = None
        self._noted = False

    # ------------------------------------------------------------------ the loop
    def fit(self, train_loader: Any, epochs: int, val_loader: Any = None,
            resume_from: str | os.PathLike | None = None) -> History:
        """Train until epoch ``epochs`` (a total: a resumed run continues from where it stopped).

        Args:
            train_loader: a ``DataLoader`` of ``(x, y)`` batches; give it a ``generator`` so its
                shuffle order is saved in checkpoints and a resume continues it exactly.
            epochs: total number of epochs.
            val_loader: optional validation batches (adds ``val_loss``/``val_accuracy``).
            resume_from: a checkpoint directory to continue from.

        Returns:
            the :class:`History` (all epochs, including those before a resume).

        Raises:
            DivergenceError: the loss became non-finite or exceeded the divergence bound.
        """
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer (got {epochs!r})")
        if epochs <= self.epoch:
            raise ValueError(f"the run has already trained {self.epoch} epochs; ask for more than "
                             f"{self.epoch} epochs to continue it")
        self.train_loader, self.target_epochs, self.stop_training = train_loader, epochs, False
        self._restore_loader_rng(train_loader)
        self._reporter = ProgressReporter(self.verbose, self.epoch + 1, epochs)
        try:
            for cb in self.callbacks:
                cb.on_train_begin(self)
            while self.epoch < epochs and not self.stop_training:
                self._run_epoch(train_loader, val_loader)
            for cb in self.callbacks:
                cb.on_train_end(self)
        finally:
            self._reporter.close()
            self._reporter = None
        return self.history

    def _run_epoch(self, train_loader: Any, val_loader: Any) -> None:
        epoch = self.epoch + 1
        for cb in self.callbacks:
            cb.on_epoch_begin(self, epoch)
        lr = float(self.optimizer.param_groups[0]["lr"])
        start = time.perf_counter()
        self.model.train()
        total, count, correct = 0.0, 0, 0
        for batch in train_loader:
            x, y = _batch_xy(batch)
            self.step += 1
            if self.uses_closure:
                out, value = self._closure_step(x, y, epoch, lr)
            else:
                self.optimizer.zero_grad()
                out = self.model(x)
                loss = self.loss_fn(out, y)
                value = float(loss.item())
                # Checked before backward/step, so a diverged loss never reaches the weights.
                self._guard(value, epoch, lr)
                loss.backward()
                if self.clip_grad_norm is not None:
                    from ..nn.utils import clip_grad_norm_

                    clip_grad_norm_(self.params, self.clip_grad_norm)
                self.optimizer.step()
            n = _n(y)
            total += value * n
            count += n
            if self.accuracy is None:
                self.accuracy = _is_class_target(y)
            if self.accuracy:
                correct += correct_count(out, y)
            for cb in self.callbacks:
                cb.on_batch_end(self, self.step, value)
        if count == 0:
            raise ValueError("the training loader yielded no batches; check the dataset size, "
                             "batch_size and drop_last")
        self._check_weights(epoch, lr)
        record: dict[str, Any] = {"epoch": epoch, "loss": total / count}
        if self.accuracy:
            record["accuracy"] = correct / count
        if val_loader is not None:
            val = evaluate(self.model, val_loader, self.loss_fn, self.accuracy)
            if not math.isfinite(val["loss"]):
                raise self._diverged(f"validation loss = {val['loss']}", epoch, lr, val["loss"])
            record.update({f"val_{k}": v for k, v in val.items()})
        record["lr"] = lr
        record["time"] = round(time.perf_counter() - start, 6)
        self.epoch = epoch
        self.history.append(record)
        if self._reporter is not None:
            self._reporter.epoch(record)
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, record)

    def _closure_step(self, x: Any, y: Any, epoch: int, lr: float) -> tuple[Any, float]:
        """One ``optimizer.step(closure)`` on (x, y); returns the first call's output and loss."""
        first: list[Any] = []

        def closure() -> Tensor:
            self.optimizer.zero_grad()
            out = self.model(x)
            loss = self.loss_fn(out, y)
            if not first:
                first.extend((out, float(loss.item())))
                # Only the starting point is guarded: a line search may try (and reject) points
                # with a far larger loss.
                self._guard(first[1], epoch, lr)
            loss.backward()
            return loss

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            self.optimizer.step(closure)
        # Newton's "indefinite Hessian" and the like are routine on a network (each case is in
        # optimizer.history): shown once, through the progress display, not as a warning dump.
        for w in caught:
            if issubclass(w.category, RuntimeWarning) and not self._noted:
                self._noted = True
                self.log(f"note: {w.message}")
            elif not issubclass(w.category, RuntimeWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return first[0], first[1]

    def _guard(self, value: float, epoch: int, lr: float) -> None:
        if not math.isfinite(value):
            raise self._diverged(f"loss = {value}", epoch, lr, value)
        if self.first_loss is None:
            self.first_loss = value
        elif (self.divergence_factor is not None and self.first_loss > 0
              and value > self.divergence_factor * self.first_loss):
            raise self._diverged(
                f"loss = {value:.4g} exceeds {self.divergence_factor:g} × the first loss "
                f"({self.first_loss:.4g})", epoch, lr, value)

    def _check_weights(self, epoch: int, lr: float) -> None:
        # The last step's update is not covered by any loss yet; never let it reach a checkpoint.
        for p in self.params:
            if not np.all(np.isfinite(p._data)):
                raise self._diverged("the weights became NaN/Inf", epoch, lr, math.nan)

    def _diverged(self, reason: str, epoch: int, lr: float, loss: float) -> DivergenceError:
        return DivergenceError(reason, step=self.step, epoch=epoch, lr=lr, loss=loss,
                               checkpoint=self.last_checkpoint,
                               checkpoint_epoch=self.last_checkpoint_epoch)

    def log(self, text: str) -> None:
        """Print a message through the progress display (above the bar on a terminal)."""
        if self._reporter is not None:
            self._reporter.message(text)
        elif self.verbose != "none":
            print(text, flush=True)

    # ------------------------------------------------------------------ state and checkpoints
    def _callback_key(self, i: int, cb: Callback) -> str:
        return f"{i}.{type(cb).__name__}"

    def state_dict(self) -> dict[str, Any]:
        """Training state for a checkpoint: counters, history, RNG states, callback states."""
        loader_gen = getattr(self.train_loader, "generator", None)
        return {
            "epoch": self.epoch,
            "step": self.step,
            "first_loss": self.first_loss,
            "history": self.history.to_list(),
            "rng": {"global": _dt.default_generator.get_state(),
                    "loader": None if loader_gen is None else loader_gen.get_state()},
            "callbacks": {self._callback_key(i, cb): cb.state_dict()
                          for i, cb in enumerate(self.callbacks)},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the loader's RNG state is applied when ``fit`` starts."""
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.first_loss = state["first_loss"]
        self.history = History(state["history"])
        _dt.default_generator.set_state(state["rng"]["global"])
        self._pending_loader_rng = state["rng"]["loader"]
        saved = state.get("callbacks", {})
        for i, cb in enumerate(self.callbacks):
            key = self._callback_key(i, cb)
            if key in saved:
                cb.load_state_dict(saved[key])

    def _restore_loader_rng(self, loader: Any) -> None:
        if self._pending_loader_rng is None:
            return
        gen = getattr(loader, "generator", None)
        if gen is None:
            raise ValueError("the checkpoint saved the shuffle generator of its DataLoader but "
                             "this loader has none; build it with the same "
                             "generator=dl.Generator().manual_seed(...) to resume exactly")
        gen.set_state(self._pending_loader_rng)
        self._pending_loader_rng = None

    def save_checkpoint(self, directory: str | os.PathLike) -> Path:
        """Write model, optimizer and training state to ``directory`` atomically.

        Raises:
            DivergenceError: if the weights are not finite (a bad state never overwrites a good
                checkpoint).
        """
        lr = float(self.optimizer.param_groups[0]["lr"])
        self._check_weights(self.epoch, lr)
        optimizer_state = self.optimizer.state_dict()
        if self.uses_closure:
            optimizer_state = pack_closure_state(optimizer_state)
        path = save_checkpoint(directory, self.model.state_dict(), optimizer_state,
                               {"trainer": self.state_dict(), "config": self.config})
        self.last_checkpoint, self.last_checkpoint_epoch = path, self.epoch
        return path

    def load_checkpoint(self, directory: str | os.PathLike) -> Checkpoint:
        """Restore model weights, optimizer state and training state from ``directory``.

        Raises:
            CheckpointError: the checkpoint is missing, damaged, or from another architecture.
        """
        ckpt = load_checkpoint(directory)
        load_model_weights(self.model, ckpt.model, ckpt.path / "model.safetensors")
        if ckpt.optimizer is not None:
            state = (unpack_closure_state(ckpt.optimizer) if self.uses_closure
                     else ckpt.optimizer)
            load_optimizer_state(self.optimizer, state, ckpt.path / OPTIMIZER_FILE,
                                 per_parameter=not self.uses_closure)
        self.load_state_dict(ckpt.state["trainer"])
        self.last_checkpoint, self.last_checkpoint_epoch = ckpt.path, self.epoch
        return ckpt



def fit(model: Any, optimizer: Any, loss_fn: Callable[[Any, Any], Tensor], train_loader: Any,
        epochs: int, *, val_loader: Any = None, callbacks: Sequence[Callback] = (),
        clip_grad_norm: float | None = None, divergence_factor: float | None = 1e3,
        verbose: str = "auto", resume_from: str | os.PathLike | None = None,
        config: dict[str, Any] | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs; returns the :class:`History`.

    A one-call form of :class:`Trainer` (see it for the arguments)::

        history = fit(model, optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(),
                      DataLoader(train, batch_size=32, shuffle=True), epochs=100,
                      val_loader=DataLoader(val, batch_size=256),
                      callbacks=[EarlyStopping(patience=10), ModelCheckpoint("runs/x/ckpt")])
    """
    trainer = Trainer(model, optimizer, loss_fn, callbacks=callbacks,
                      clip_grad_norm=clip_grad_norm, divergence_factor=divergence_factor,
                      verbose=verbose, config=config)
    return trainer.fit(train_loader, epochs, val_loader, resume_from=resume_from)
