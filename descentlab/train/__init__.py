"""Training: the ``fit`` loop, callbacks, metrics, checkpoints, and whole runs by name.

``fit`` / ``Trainer`` run epochs of forward → loss → backward → step with validation, callbacks
(``EarlyStopping``, ``LRSchedulerCallback``, ``ModelCheckpoint`` or your own ``Callback``),
gradient clipping, a divergence guard (``DivergenceError``) and progress output. Checkpoints keep
weights in safetensors (readable by PyTorch), the rest in JSON, written atomically, and resume a
run bit for bit. ``train_run`` / ``compare_optimizers`` are what ``descentlab train`` and
``descentlab compare`` call.
"""

from .builders import (
    ACTIVATIONS,
    MODELS,
    OPTIMIZERS,
    OptimizerSpec,
    build_cnn,
    build_mlp,
    build_model,
    make_optimizer,
    parse_hidden,
)
from .callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .loop import DivergenceError, Trainer, evaluate, fit
from .metrics import History, accuracy, correct_count
from .plots import plot_comparison, plot_history
from .run import (
    SCHEDULERS,
    CompareResult,
    RunConfig,
    RunResult,
    compare_optimizers,
    comparison_markdown,
    prepare_data,
    train_run,
)

__all__ = [
    "ACTIVATIONS", "MODELS", "OPTIMIZERS", "SCHEDULERS", "Callback", "Checkpoint",
    "CheckpointError", "CompareResult", "DivergenceError", "EarlyStopping", "History",
    "LRSchedulerCallback", "ModelCheckpoint", "OptimizerSpec", "RunConfig", "RunResult",
    "Trainer", "accuracy", "build_cnn", "build_mlp", "build_model", "compare_optimizers",
    "comparison_markdown", "correct_count", "evaluate", "fit", "load_checkpoint",
    "make_optimizer", "parse_hidden", "plot_comparison", "plot_history", "prepare_data",
    "save_checkpoint", "train_run",
]
