"""What a train run and a compare run share: the run's config, its data, the batch size, and the
seeded start (weights, optimizer, schedule) of its trainer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .builders import OPTIMIZERS, build_model, make_optimizer, optimizer_key
from .callbacks import Callback, EarlyStopping, LRSchedulerCallback
from .loop import Trainer

#: ``--scheduler`` choices: none, step (×0.1 at 1/3 and 2/3 of the epochs), cosine (to 0 at the
#: last epoch), plateau (ReduceLROnPlateau ×0.5 after 10 epochs without improvement).
SCHEDULERS = ("none", "step", "cosine", "plateau")

#: Mini-batch size of the first-order optimizers when none is given (the full-batch methods
#: always take the whole training set).
DEFAULT_BATCH_SIZE = 32


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
class RunData:
    """A run's data: the loaded set's info and its train, validation (or None) and test parts."""

    info: Any
    train: Any
    val: Any
    test: Any



def prepare_data(dataset: str, seed: int, val_split: float, *, test_split: float | None = None,
                 data: str | None = None, target: str | None = None,
                 task: str | None = None) -> RunData:
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
    return RunData(info, train, val, info.test)



def load_run_data(config: RunConfig) -> RunData:
    """:func:`prepare_data` with the options of ``config``."""
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



def setup_trainer(config: RunConfig, d: RunData, callbacks: Sequence[Callback] = ()) -> Trainer:
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
                   verbose=config.verbose, config=with_batch_size(config, d).to_json())



def run_loaders(config: RunConfig, d: RunData) -> tuple[Any, Any]:
    """The training and validation loaders of a run (:func:`make_loaders` with its options)."""
    return make_loaders(d.train, d.val, batch_size(config, len(d.train)), config.seed)



def with_batch_size(config: RunConfig, d: RunData) -> RunConfig:
    """``config`` with the batch size it trains with (saved in checkpoints, compared on resume)."""
    return dataclasses.replace(config, batch_size=batch_size(config, len(d.train)))
