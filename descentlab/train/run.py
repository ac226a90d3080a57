"""Whole runs from a config: what ``descentlab train`` and ``descentlab compare`` do, as library
calls (data → model → optimizer → fit → history files, plot, checkpoint)."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builders import OPTIMIZERS, build_model, make_optimizer, optimizer_key
from .callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from .checkpoint import CheckpointError, load_checkpoint
from .loop import DivergenceError, Trainer, evaluate, format_record
from .metrics import History
from .plots import plot_comparison, plot_history

__all__ = ["CompareResult", "RunConfig", "RunResult", "SCHEDULERS", "compare_optimizers",
           "comparison_markdown", "loss_for", "make_loaders", "make_scheduler", "prepare_data",
           "resolve_batch_size", "seeded_start", "train_run"]

#: ``--scheduler`` choices: none, step (×0.1 at 1/3 and 2/3 of the epochs), cosine (to 0 at the
#: last epoch), plateau (ReduceLROnPlateau ×0.5 after 10 epochs without improvement).
SCHEDULERS = ("none", "step", "cosine", "plateau")

#: Mini-batch size of the first-order optimizers when none is given (the full-batch methods
#: always take the whole training set).
DEFAULT_BATCH_SIZE = 32

# Options that must match for a resume to continue the same run (epochs may grow; output and
# display options do not matter).
_RESUME_KEYS = ("dataset", "data", "target", "task", "test_split", "model", "hidden",
                "activation", "optimizer", "lr", "batch_size", "seed", "momentum",
                "weight_decay", "clip", "val_split", "scheduler", "patience")


@dataclass
class RunConfig:
    """Everything that defines a training run (the ``descentlab train`` options).

    Attributes:
        dataset: a name from ``descentlab.data.list_datasets()`` (ignored when ``data`` is set).
        data: your own data file instead (CSV with a header, ``.npz`` with arrays ``X`` and
            ``y``, or an ``.npy`` of inputs with ``target`` naming the ``.npy`` of targets); see
            ``descentlab.data.load_user_data``.
        target: with ``data``: the CSV column (default the last), ``.npz`` array (default
            ``y``) or ``.npy`` file holding the targets.
        task: ``"classification"`` or ``"regression"`` for ``data`` (``None``: inferred).
        test_split: fraction held out as the test set (``None``: 0.2 for ``data``, the
            dataset's own split otherwise; MNIST-style sets keep their official one).
        model: ``"mlp"`` or ``"cnn"`` (``None``: cnn for 28×28 images, else mlp).
        hidden: hidden layer widths, e.g. ``(16, 16)`` (the dense layers after a cnn's convs).
        activation: hidden activation (see ``builders.ACTIVATIONS``).
        optimizer: optimizer name (see ``builders.OPTIMIZERS``).
        lr: learning rate (``None``: the optimizer's default in ``OPTIMIZERS``).
        batch_size: samples per step (1 = SGD), or ``"full"`` for the whole training set;
            ``None``: :data:`DEFAULT_BATCH_SIZE` for the first-order optimizers. lbfgs, bfgs,
            newton and newton-cg always run full batch.
        epochs: total epochs.
        seed: seeds the data, the split, the initial weights and the shuffle order.
        out: output directory (history, plot, checkpoint).
        momentum: overrides the optimizer's momentum (SGD variants, RMSprop).
        weight_decay: L2 penalty (decoupled for AdamW); ``None`` keeps the class default.
        clip: clip the gradient norm to this value each step (``None``: no clipping).
        val_split: fraction of the training data held out for validation (0: none).
        scheduler: one of :data:`SCHEDULERS`.
        patience: early-stopping patience in epochs on the validation loss (training loss
            without validation data); ``None`` disables early stopping.
        checkpoint_every: save the checkpoint every this many epochs (``None``: about 10 saves
            per run); the final epoch is always saved.
        divergence_factor: loss bound as a multiple of the first loss (``None``: NaN/Inf only).
        verbose: ``"auto"``, ``"bar"``, ``"lines"`` or ``"none"``.
    """

    dataset: str = "spiral"
    data: str | None = None
    target: str | None = None
    task: str | None = None
    test_split: float | None = None
    model: str | None = None
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float | None = None
    batch_size: int | str | None = None
    epochs: int = 100
    seed: int = 0
    out: str = "runs/run"
    momentum: float | None = None
    weight_decay: float | None = None
    clip: float | None = None
    val_split: float = 0.0
    scheduler: str = "none"
    patience: int | None = None
    checkpoint_every: int | None = None
    divergence_factor: float | None = 1e3
    verbose: str = "auto"

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


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


@dataclass
class _Data:
    info: Any
    train: Any
    val: Any
    test: Any


def prepare_data(dataset: str, seed: int, val_split: float, *, test_split: float | None = None,
                 data: str | None = None, target: str | None = None,
                 task: str | None = None) -> _Data:
    """Load ``dataset`` (or your ``data`` file), seeded, and hold out ``val_split`` of its training
    part for validation.

    Args:
        dataset: a built-in dataset name (unused when ``data`` is given).
        seed: seeds the data, the test split and the validation split.
        val_split: fraction of the training part held out for validation.
        test_split: test fraction (``None``: the dataset's default; 0.2 for ``data``).
        data, target, task: your own file (see ``descentlab.data.load_user_data``).
    """
    from .. import data as dl_data
    from ..autograd.dtypes import Generator

    if not 0 <= val_split < 1:
        raise ValueError(f"val_split must be in [0, 1) (got {val_split}); 0.2 holds out 20%")
    if data is not None:
        info = dl_data.load_user_data(data, target=target, task=task, seed=seed,
                                      test_fraction=0.2 if test_split is None else test_split)
    else:
        if target is not None or task is not None:
            raise ValueError("target and task apply to your own data file only (--data FILE); "
                             f"the built-in {dataset!r} has its own")
        options: dict[str, Any] = {"seed": seed}
        if test_split is not None:
            if "test_fraction" not in dl_data.dataset_options(dataset):
                raise ValueError(f"{dataset!r} comes with its official test set, so it takes no "
                                 "test split; leave out --test-split")
            options["test_fraction"] = test_split
        info = dl_data.load_dataset(dataset, **options)
    train, val = info.train, None
    if val_split > 0:
        n_val = int(round(len(train) * val_split))
        if n_val == 0 or n_val == len(train):
            raise ValueError(f"val_split={val_split} leaves {n_val} of {len(train)} samples for "
                             "validation; choose a fraction that keeps both parts non-empty")
        # A generator of its own, so the split does not shift the weights' random stream.
        train, val = dl_data.random_split(train, [len(train) - n_val, n_val],
                                          generator=Generator().manual_seed(seed))
    return _Data(info, train, val, info.test)


def _data_of(config: RunConfig) -> _Data:
    return prepare_data(config.dataset, config.seed, config.val_split,
                        test_split=config.test_split, data=config.data, target=config.target,
                        task=config.task)


def model_kind(config: RunConfig, info: Any) -> str:
    """``config.model``, or the default for the data: a cnn for 28×28 images, else an mlp."""
    if config.model is not None:
        return config.model
    shape = info.image_shape
    return "cnn" if shape is not None and tuple(shape[1:]) == (28, 28) else "mlp"


def batch_size(config: RunConfig, n_train: int) -> int:
    """The batch size a run uses: :func:`resolve_batch_size` of ``config``'s optimizer and
    batch size."""
    return resolve_batch_size(config.optimizer, config.batch_size, n_train)


def resolve_batch_size(optimizer: str, size: int | str | None, n_train: int) -> int:
    """The batch size ``optimizer`` trains with: the whole training set for the full-batch
    methods (an explicit smaller ``size`` is refused for them), else ``size`` (``"full"``: the
    whole set; ``None``: :data:`DEFAULT_BATCH_SIZE`), at most the training set's size."""
    if size == "full":
        size = n_train
    elif size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"batch_size must be a positive integer or 'full' (got {size!r})")
    if OPTIMIZERS[optimizer_key(optimizer)].closure:
        if size is not None and size < n_train:
            raise ValueError(f"{optimizer} is a full-batch method (its line search needs "
                             "the same loss at every trial point), so it trains on all "
                             f"{n_train} samples at once; leave out the batch size")
        return n_train
    return min(DEFAULT_BATCH_SIZE if size is None else size, n_train)


def loss_for(task: str) -> Any:
    """The loss a run trains with: cross-entropy for ``"classification"``, else MSE."""
    from .. import nn

    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()


def make_scheduler(name: str, optimizer: Any, epochs: int) -> Any:
    """The learning-rate schedule a :data:`SCHEDULERS` name stands for, over ``epochs`` epochs.

    Args:
        name: ``"step"`` (×0.1 at 1/3 and 2/3 of the epochs), ``"cosine"`` (to 0 at the last
            epoch) or ``"plateau"`` (×0.5 after 10 epochs without improvement).
        optimizer: the optimizer it schedules.
        epochs: the run's length.
    """
    from ..optim import lr_scheduler

    if name == "step":
        return lr_scheduler.MultiStepLR(optimizer, [epochs // 3, 2 * epochs // 3], gamma=0.1)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=10)
    raise ValueError(f"unknown scheduler {name!r}; choose from {', '.join(SCHEDULERS)}")


def seeded_start(seed: int, build: Callable[[], Any], optimizer: str, lr: float | None, *,
                 epochs: int, momentum: float | None = None,
                 weight_decay: float | None = None, scheduler: str = "none"
                 ) -> tuple[Any, Any, list[Callback]]:
    """The start of a run in its fixed order of random draws: the global seed, then the weights
    (``build()``), then the optimizer (:func:`make_optimizer`) and its schedule.

    Every entry point that claims to run what ``descentlab train`` runs starts here, so the same
    options give the same initial weights.

    Returns:
        (model, optimizer, callbacks): the callbacks hold the schedule (empty for ``"none"``).
    """
    from .. import manual_seed

    manual_seed(seed)
    model = build()
    opt = make_optimizer(optimizer, model.parameters(), lr, momentum=momentum,
                         weight_decay=weight_decay)
    schedule = [] if scheduler == "none" else [
        LRSchedulerCallback(make_scheduler(scheduler, opt, epochs))]
    return model, opt, schedule


def make_loaders(train: Any, val: Any, batch_size: int, seed: int) -> tuple[Any, Any]:
    """A shuffled training loader with its own generator seeded by ``seed`` (saved in
    checkpoints, so a resume reshuffles identically) and a validation loader (``None`` without
    validation data) in batches of at least 1024."""
    from ..autograd.dtypes import Generator
    from ..data import DataLoader

    loader = DataLoader(train, batch_size=batch_size, shuffle=True,
                        generator=Generator().manual_seed(seed))
    return loader, None if val is None else DataLoader(val, batch_size=max(batch_size, 1024))


def _setup(config: RunConfig, d: _Data, callbacks: Sequence[Callback] = ()) -> Trainer:
    """Seeded model, optimizer, schedule and trainer: the same config gives the same start."""
    model, optimizer, schedule = seeded_start(
        config.seed,
        lambda: build_model(model_kind(config, d.info), d.info, config.hidden, config.activation),
        config.optimizer, config.lr, epochs=config.epochs, momentum=config.momentum,
        weight_decay=config.weight_decay, scheduler=config.scheduler)
    cbs = [*callbacks, *schedule]
    if config.patience is not None:
        cbs.append(EarlyStopping("val_loss" if d.val is not None else "loss", config.patience))
    return Trainer(model, optimizer, loss_for(d.info.task), callbacks=cbs,
                   clip_grad_norm=config.clip, divergence_factor=config.divergence_factor,
                   verbose=config.verbose, config=_resolved(config, d).to_json())


def _loaders(config: RunConfig, d: _Data) -> tuple[Any, Any]:
    return make_loaders(d.train, d.val, batch_size(config, len(d.train)), config.seed)


def _resolved(config: RunConfig, d: _Data) -> RunConfig:
    """``config`` with the batch size it trains with (saved in checkpoints, compared on resume)."""
    return dataclasses.replace(config, batch_size=batch_size(config, len(d.train)))


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
    d = _data_of(config)
    if resume:
        _check_resumable(_resolved(config, d), ckpt_dir)
    every = config.checkpoint_every or max(1, config.epochs // 10)
    trainer = _setup(config, d, [ModelCheckpoint(ckpt_dir, every=every)])
    train_loader, val_loader = _loaders(config, d)
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
        from .loop import resolve_verbose

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
    d = _data_of(config)
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
            # _setup reseeds: every optimizer starts from the same weights.
            trainer = _setup(run_cfg, d, [progress])
            train_loader, val_loader = _loaders(run_cfg, d)
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
