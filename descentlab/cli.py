"""The ``descentlab`` command line (also ``python -m descentlab``): a thin shell over the library.

It parses arguments, calls library functions (``descentlab.train.train_run``, ...) and renders
their results. Invalid arguments exit with status 2 and one line naming the problem and the valid
choices (also when only the library can tell, e.g. ``--momentum`` with adam: its ``ValueError``);
runtime failures (a diverged run, a damaged checkpoint, a failed download) exit with status 1 and
one line.

Adding a command group: write a module with ``register(subparsers)`` that adds its parsers via
``subparsers.add_parser(...)`` and sets ``handler=<function(args) -> int | None>`` with
``set_defaults``, then list the module in :data:`COMMAND_MODULES`. Handlers raise
:class:`UsageError` for bad arguments (exit 2); the argument types below (``positive_float``,
``int_range``, ``output_dir``, ...) and the checks run before any work (``prepare_output_dir``,
``require_extra``) are meant to be reused.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["COMMAND_MODULES", "EXTRAS", "MAX_BATCH_SIZE", "MAX_EPOCHS", "UsageError",
           "batch_size", "build_parser", "finite_float", "hidden_sizes", "int_range", "main",
           "nonnegative_float", "nonnegative_int", "output_dir", "positive_float", "positive_int",
           "prepare_output_dir", "require_extra", "unit_interval"]

#: Modules whose ``register(subparsers)`` adds subcommands, after this module's own (train,
#: compare). The lab adds its ``lab`` and ``gallery`` commands by listing its module here.
COMMAND_MODULES: tuple[str, ...] = ("descentlab.lab.cli", "descentlab.sweep.cli", "descentlab.web.cli")


class UsageError(Exception):
    """A bad command-line argument: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``descentlab train: error: <problem>`` and no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- argument types
def finite_float(text: str) -> float:
    """A finite number (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates, clip norms)."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text}); e.g. 0.01")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0 (weight decay)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
    return value


def unit_interval(text: str) -> float:
    """A number in [0, 1) (momentum, validation fraction)."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (got {text}); e.g. 0.9 for "
                                         "momentum, 0.2 for a validation split")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (see :func:`int_range` for one with an upper bound)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (seeds, patience)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
    return value


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``lo..hi`` (bounds keep a typo from starting a run that
    never ends or allocating without limit)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < lo:
            word = "a positive integer" if lo == 1 else f">= {lo}"
            raise argparse.ArgumentTypeError(f"must be {word} (got {text})")
        if value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi} (got {text})")
        return value

    return parse


#: Upper bounds of ``--epochs`` / ``--patience`` and ``--batch-size``.
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 10_000_000


def batch_size(text: str) -> int | str:
    """An integer in 1..MAX_BATCH_SIZE, or ``full`` (the whole training set)."""
    if text.strip().lower() == "full":
        return "full"
    return int_range(1, MAX_BATCH_SIZE)(text)


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``16,16`` → ``(16, 16)``; ``none`` for no hidden layer (``''`` and ``0`` are refused)."""
    from .train.builders import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _path_limits() -> tuple[int, int]:
    try:
        return os.pathconf("/", "PC_PATH_MAX"), os.pathconf("/", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 4096, 255


def output_dir(text: str) -> str:
    """An output folder path that can exist (argparse type): not empty, not the file-system
    root, within the system's path and name lengths. :func:`prepare_output_dir` then checks
    it on disk before any work."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a folder, e.g. runs/spiral")
    if "\0" in text:
        raise argparse.ArgumentTypeError("contains a NUL character; give a plain folder path")
    path_max, name_max = _path_limits()
    if len(os.fsencode(text)) >= path_max:
        raise argparse.ArgumentTypeError(f"is {len(text)} characters long; paths are limited to "
                                         f"{path_max - 1}")
    long_part = next((part for part in Path(text).parts if len(os.fsencode(part)) > name_max), None)
    if long_part is not None:
        raise argparse.ArgumentTypeError(f"has a {len(long_part)}-character folder name; names "
                                         f"are limited to {name_max}")
    resolved = Path(text).expanduser().resolve()
    if resolved == Path(resolved.anchor):
        raise argparse.ArgumentTypeError(f"{text!r} is the file-system root; give a folder of its "
                                         "own, e.g. runs/spiral")
    return text


def prepare_output_dir(path: str, create: bool = True) -> Path:
    """Make sure ``path`` is (or can become) a writable folder, before any work is done.

    Args:
        path: the folder (already checked by :func:`output_dir`).
        create: create it (with its parents) if missing; ``False`` only checks an existing one.

    Raises:
        UsageError: it is a file, cannot be created, or cannot be written to.
    """
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {path} is a file, and the outputs need a folder; choose another "
                         "name or remove the file")
    if not create and not folder.exists():
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".descentlab-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"cannot write into --out {path}: {e.strerror or e}; choose a folder you "
                         "can write to") from None
    return folder


#: Optional dependencies per extra, checked before a command does any work.
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": ("safetensors", "matplotlib"),
    "plot": ("matplotlib",),
    "data": ("sklearn",),
}


def require_extra(extra: str, modules: Sequence[str] | None = None, why: str = "") -> None:
    """Raise :class:`UsageError` naming ``pip install "descentlab[extra]"`` if any of
    ``modules`` (default: all of the extra's) cannot be imported. Nothing is imported."""
    missing = []
    for name in modules if modules is not None else EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise UsageError(f"{why or 'this command'} needs {', '.join(missing)}, from the "
                         f"'{extra}' extra: pip install \"descentlab[{extra}]\"")


def _names(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",")]
    if any(not n for n in names):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty name; separate names with "
                                         "single commas, e.g. sgd,adam")
    return names


def _choice_list(valid: Sequence[str], what: str,
                 normalize: Callable[[str], str] = lambda n: n) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [normalize(n) for n in _names(text)]
        bad = [n for n in names if n not in valid]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(map(repr, bad))}; "
                                             f"choose from {', '.join(valid)}")
        twice = sorted({n for n in names if names.count(n) > 1}, key=names.index)
        if twice:
            raise argparse.ArgumentTypeError(f"{', '.join(map(repr, twice))} listed more than "
                                             f"once; name each {what} once")
        return names

    return parse


def _optimizer_name(text: str) -> str:
    from .train.builders import OPTIMIZERS

    key = text.strip().lower().replace("_", "-")
    if key not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                         f"{', '.join(map(repr, OPTIMIZERS))})")
    return key


# ---------------------------------------------------------------------------- train / compare
def _add_run_options(p: argparse.ArgumentParser, compare: bool) -> None:
    from .data import list_datasets
    from .train import ACTIVATIONS, MODELS, OPTIMIZERS, SCHEDULERS

    second = ", ".join(k for k, s in OPTIMIZERS.items() if s.closure)
    source = p.add_argument_group("data")
    source.add_argument("--dataset", default=None, choices=list(list_datasets()),
                        metavar="NAME", help="built-in dataset: %(choices)s (default spiral)")
    source.add_argument("--data", default=None, metavar="FILE",
                        help="your own data instead: a .csv with a header, an .npz with arrays "
                        "X and y, or an .npy of inputs (targets: --target y.npy)")
    source.add_argument("--target", default=None, metavar="COLUMN",
                        help="with --data: the target column (default: the last), .npz array "
                        "(default y) or .npy file")
    source.add_argument("--task", default=None, choices=("classification", "regression"),
                        help="with --data: the task (default: inferred from the targets)")
    source.add_argument("--test-split", type=unit_interval, default=None,
                        help="fraction held out as the test set (default 0.2 for --data, the "
                        "dataset's own otherwise)")
    p.add_argument("--model", default=None, choices=MODELS,
                   help="network: mlp, or cnn (a small conv net for image data; the default "
                   "for 28×28 images)")
    p.add_argument("--hidden", type=hidden_sizes, default=(16, 16), metavar="W,W,...",
                   help="hidden layer widths, e.g. 16,16 (default 16,16; 'none' = linear); "
                   "for a cnn, the dense layers after the convolutions")
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS, metavar="NAME",
                   help="hidden activation: %(choices)s (default %(default)s)")
    if compare:
        p.add_argument("--optimizers", type=_choice_list(
                           list(OPTIMIZERS), "optimizer", lambda n: n.replace("_", "-")),
                       default=["sgd", "momentum", "rmsprop", "adam", "adamw"],
                       metavar="A,B,...", help="optimizers to compare: "
                       f"{', '.join(OPTIMIZERS)} (default sgd,momentum,rmsprop,adam,adamw); "
                       f"{second} run full batch")
        p.add_argument("--lr", type=positive_float, default=None,
                       help="one learning rate for all (default: each optimizer's own)")
    else:
        p.add_argument("--optimizer", default="adam", type=_optimizer_name, metavar="NAME",
                       help=f"optimizer: {', '.join(OPTIMIZERS)} (default adam); {second} run "
                       "full batch, one iteration per epoch")
        p.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default: the optimizer's usual one, e.g. 0.001 "
                       "for adam, 1 for lbfgs)")
    p.add_argument("--batch-size", type=batch_size, default=None,
                   help="samples per step, or 'full' (default 32; the whole training set for "
                   f"{second})")
    p.add_argument("--epochs", type=int_range(1, MAX_EPOCHS), default=100,
                   help=f"epochs, at most {MAX_EPOCHS} (default %(default)s)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed for data, split, weights and shuffling (default %(default)s)")
    p.add_argument("--out", type=output_dir, default=None,
                   help="output directory (default runs/<dataset>)")
    p.add_argument("--momentum", type=unit_interval, default=None,
                   help="momentum for sgd/momentum/nesterov/rmsprop")
    p.add_argument("--weight-decay", type=nonnegative_float, default=None,
                   help="L2 penalty (decoupled for adamw)")
    p.add_argument("--clip", type=positive_float, default=None,
                   help="clip the gradient norm to this value each step (first-order only)")
    p.add_argument("--val-split", type=unit_interval, default=0.0,
                   help="fraction of the training data held out for validation (default 0)")
    p.add_argument("--scheduler", default="none", choices=SCHEDULERS,
                   help="learning-rate schedule: %(choices)s (default %(default)s)")
    p.add_argument("--patience", type=int_range(1, MAX_EPOCHS), default=None,
                   help="stop early after this many epochs without improvement (>= 1)")
    p.add_argument("--quiet", action="store_true",
                   help="plain progress lines instead of a progress bar")


def _source_name(args: argparse.Namespace) -> str:
    return Path(args.data).stem if args.data else args.dataset


def _check_run_args(args: argparse.Namespace, command: str) -> None:
    """Everything that can be judged before loading data or training (exit 2 otherwise)."""
    from .data.real import SKLEARN_DATASETS

    if args.data is not None:
        if args.dataset is not None:
            raise UsageError("give either --dataset NAME or --data FILE, not both")
        if not Path(args.data).is_file():
            raise UsageError(f"--data {args.data}: no such file; give a .csv, .npz or .npy file")
    else:
        for flag, value in (("--target", args.target), ("--task", args.task)):
            if value is not None:
                raise UsageError(f"{flag} applies to your own data (--data FILE); the built-in "
                                 "datasets have their own targets")
        args.dataset = args.dataset or "spiral"
    needs = f"descentlab {command}"
    require_extra("train", ("safetensors", "matplotlib") if command == "train"
                  else ("matplotlib",), needs)
    if args.dataset in SKLEARN_DATASETS:
        require_extra("data", ("sklearn",), f"the {args.dataset!r} dataset")
    prepare_output_dir(args.out or f"runs/{'compare-' if command == 'compare' else ''}"
                       f"{_source_name(args)}", create=not getattr(args, "resume", False))


def _config(args: argparse.Namespace, default_out: str) -> Any:
    from .train import RunConfig

    return RunConfig(
        dataset=args.dataset or "spiral", data=args.data, target=args.target, task=args.task,
        test_split=args.test_split, model=args.model, hidden=args.hidden,
        activation=args.activation, optimizer=getattr(args, "optimizer", "adam"), lr=args.lr,
        batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
        out=args.out or default_out, momentum=args.momentum, weight_decay=args.weight_decay,
        clip=args.clip, val_split=args.val_split, scheduler=args.scheduler,
        patience=args.patience, verbose="lines" if args.quiet else "auto")


def _metrics_line(record: dict[str, Any]) -> str:
    from .train.loop import format_record

    return format_record({k: v for k, v in record.items() if k != "lr"})


def _lr_line(result: Any, scheduler: str) -> str:
    if scheduler == "none" and result.final_lr == result.requested_lr:
        return f"lr      {result.requested_lr:g}"
    return (f"lr      {result.requested_lr:g} requested, {result.final_lr:g} at the last epoch "
            f"({scheduler} schedule)")


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import train_run

    _check_run_args(args, "train")
    config = _config(args, f"runs/{_source_name(args)}")
    result = train_run(config, resume=args.resume)
    steps_note = (f"resumed at epoch {result.resumed_from_epoch}, "
                  if result.resumed_from_epoch else "")
    final = result.final
    print(f"\ntrained {_source_name(args)} ({result.model}) with {config.optimizer} to epoch "
          f"{final['epoch']} ({steps_note}batch {result.batch_size}, {result.seconds:.2f} s)"
          + (" — stopped early" if result.stopped_early else ""))
    print(_lr_line(result, config.scheduler))
    print(f"final   {_metrics_line(final)}  (last epoch)")
    if result.train is not None:
        print(f"train   {_metrics_line(result.train)}")
    if result.test is not None:
        print(f"test    {_metrics_line(result.test)}")
    print("wrote   " + ", ".join(str(p) for p in result.files.values()))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .train import compare_optimizers, comparison_markdown

    _check_run_args(args, "compare")
    config = _config(args, f"runs/compare-{_source_name(args)}")
    results = compare_optimizers(config, args.optimizers)
    print()
    print(comparison_markdown(results), end="")
    for r in results:
        if r.error is not None:
            print(f"{r.optimizer}: {r.error}")
    print(f"wrote   {config.out}/compare.md, compare.csv, compare.png, histories.json")
    return 0


def register(subparsers: Any) -> None:
    """Add ``train`` and ``compare``."""
    p = subparsers.add_parser(
        "train", help="train a network on a built-in dataset or your own data",
        description="Train an MLP (or a small CNN on images); writes history.csv/json, plot.png "
        "and a resumable checkpoint/ into --out, and prints train and test metrics.")
    _add_run_options(p, compare=False)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint up to --epochs")
    p.set_defaults(handler=_cmd_train)
    p = subparsers.add_parser(
        "compare", help="train the same network with several optimizers",
        description="Train the same network from the same initial weights with each optimizer "
        "(first-order ones on the same mini-batches, lbfgs/bfgs/newton/newton-cg full batch); "
        "writes compare.md, compare.csv and compare.png into --out.")
    _add_run_options(p, compare=True)
    p.set_defaults(handler=_cmd_compare)


# ---------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """The full parser: this module's commands plus those of :data:`COMMAND_MODULES`."""
    from . import __version__

    parser = _Parser(prog="descentlab",
                     description="Deep-learning optimization end to end, made visible.")
    parser.add_argument("--version", action="version", version=f"descentlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(subparsers)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def _fail(prog: str, message: str, status: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed run, 2 bad arguments).

    Argument errors found by the parser exit through ``SystemExit(2)``, as argparse does.
    """
    from .train import CheckpointError, DivergenceError

    args = build_parser().parse_args(argv)
    prog = f"descentlab {args.command}"
    try:
        return int(args.handler(args) or 0)
    except UsageError as e:
        return _fail(prog, str(e), 2)
    except DivergenceError as e:
        kept = (f"the last good checkpoint (epoch {e.checkpoint_epoch}) is kept at {e.checkpoint}"
                if e.checkpoint is not None else "no checkpoint was saved")
        return _fail(prog, f"training diverged at step {e.step} (epoch {e.epoch}): {e.reason} "
                     f"with lr={e.lr:g}; lower it, e.g. try --lr {e.suggested_lr:g} (or add "
                     f"--clip 1.0); {kept}", 1)
    except CheckpointError as e:
        return _fail(prog, str(e), 1)
    except ValueError as e:
        # Options the parser cannot judge alone (momentum for adam, --epochs below a resumed
        # run's): the library's message names the problem and the fix.
        return _fail(prog, str(e).splitlines()[0], 2)
    except (ImportError, OSError) as e:
        return _fail(prog, str(e).splitlines()[0], 1)
    except KeyboardInterrupt:
        return _fail(prog, "interrupted", 130)
