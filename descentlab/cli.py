"""The ``descentlab`` command line (also ``python -m descentlab``): a thin shell over the library.

It parses arguments, calls library functions (``descentlab.train.train_run``, ...) and renders
their results. Invalid arguments exit with status 2 and one line naming the problem and the valid
choices (also when only the library can tell, e.g. ``--momentum`` with adam: its ``ValueError``);
runtime failures (a diverged run, a damaged checkpoint, a failed download) exit with status 1 and
one line.

Adding a command group: write a module with ``register(subparsers)`` that adds its parsers via
``subparsers.add_parser(...)`` and sets ``handler=<function(args) -> int | None>`` with
``set_defaults``, then list the module in :data:`COMMAND_MODULES`. Handlers raise
:class:`UsageError` for bad arguments (exit 2); the argument types below (``positive_float``, ...)
are meant to be reused.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

__all__ = ["COMMAND_MODULES", "UsageError", "build_parser", "main"]

#: Modules whose ``register(subparsers)`` adds subcommands, after this module's own (train,
#: compare). The lab adds its ``lab`` and ``gallery`` commands by listing its module here.
COMMAND_MODULES: tuple[str, ...] = ("descentlab.lab.cli", "descentlab.web.cli")


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
    """An integer >= 1 (epochs, batch size, widths)."""
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


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``16,16`` → ``(16, 16)``; ``none`` for no hidden layer."""
    from .train.builders import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _choice_list(valid: Sequence[str], what: str) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [n.strip().lower() for n in text.split(",")]
        bad = [n for n in names if n not in valid]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(map(repr, bad))}; "
                                             f"choose from {', '.join(valid)}")
        return names

    return parse


# ---------------------------------------------------------------------------- train / compare
def _add_run_options(p: argparse.ArgumentParser, compare: bool) -> None:
    from .data import list_datasets
    from .train import ACTIVATIONS, OPTIMIZERS, SCHEDULERS

    p.add_argument("--dataset", default="spiral", choices=list(list_datasets()),
                   metavar="NAME", help="built-in dataset: %(choices)s (default %(default)s)")
    p.add_argument("--hidden", type=hidden_sizes, default=(16, 16), metavar="W,W,...",
                   help="hidden layer widths, e.g. 16,16 (default 16,16; 'none' = linear)")
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS, metavar="NAME",
                   help="hidden activation: %(choices)s (default %(default)s)")
    if compare:
        p.add_argument("--optimizers", type=_choice_list(list(OPTIMIZERS), "optimizer"),
                       default=["sgd", "momentum", "rmsprop", "adam", "adamw"],
                       metavar="A,B,...", help="optimizers to compare: "
                       f"{', '.join(OPTIMIZERS)} (default sgd,momentum,rmsprop,adam,adamw)")
        p.add_argument("--lr", type=positive_float, default=None,
                       help="one learning rate for all (default: each optimizer's own)")
    else:
        p.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), metavar="NAME",
                       help="optimizer: %(choices)s (default %(default)s)")
        p.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default: the optimizer's usual one, e.g. 0.001 "
                       "for adam)")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="samples per step (default %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=100,
                   help="epochs (default %(default)s)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed for data, split, weights and shuffling (default %(default)s)")
    p.add_argument("--out", default=None, help="output directory (default runs/<dataset>)")
    p.add_argument("--momentum", type=unit_interval, default=None,
                   help="momentum for sgd/momentum/nesterov/rmsprop")
    p.add_argument("--weight-decay", type=nonnegative_float, default=None,
                   help="L2 penalty (decoupled for adamw)")
    p.add_argument("--clip", type=positive_float, default=None,
                   help="clip the gradient norm to this value each step")
    p.add_argument("--val-split", type=unit_interval, default=0.0,
                   help="fraction of the training data held out for validation (default 0)")
    p.add_argument("--scheduler", default="none", choices=SCHEDULERS,
                   help="learning-rate schedule: %(choices)s (default %(default)s)")
    p.add_argument("--patience", type=nonnegative_int, default=None,
                   help="stop early after this many epochs without improvement")
    p.add_argument("--quiet", action="store_true",
                   help="plain progress lines instead of a progress bar")


def _config(args: argparse.Namespace, default_out: str) -> Any:
    from .train import RunConfig

    return RunConfig(
        dataset=args.dataset, hidden=args.hidden, activation=args.activation,
        optimizer=getattr(args, "optimizer", "adam"), lr=args.lr, batch_size=args.batch_size,
        epochs=args.epochs, seed=args.seed, out=args.out or default_out,
        momentum=args.momentum, weight_decay=args.weight_decay, clip=args.clip,
        val_split=args.val_split, scheduler=args.scheduler, patience=args.patience,
        verbose="lines" if args.quiet else "auto")


def _metrics_line(record: dict[str, Any]) -> str:
    from .train.loop import format_record

    return format_record({k: v for k, v in record.items() if k != "lr"})


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import train_run

    config = _config(args, f"runs/{args.dataset}")
    result = train_run(config, resume=args.resume)
    steps_note = (f"resumed at epoch {result.resumed_from_epoch}, "
                  if result.resumed_from_epoch else "")
    final = result.final
    print(f"\ntrained {config.dataset} with {config.optimizer} (lr {final['lr']:g}) to epoch "
          f"{final['epoch']} ({steps_note}{result.seconds:.2f} s)"
          + (" — stopped early" if result.stopped_early else ""))
    print(f"final   {_metrics_line(final)}")
    if result.test is not None:
        print(f"test    {_metrics_line(result.test)}")
    print("wrote   " + ", ".join(str(p) for p in result.files.values()))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .train import compare_optimizers, comparison_markdown

    config = _config(args, f"runs/compare-{args.dataset}")
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
        "train", help="train an MLP on a built-in dataset",
        description="Train an MLP; writes history.csv/json, plot.png and a resumable checkpoint/ "
        "into --out, and prints a summary.")
    _add_run_options(p, compare=False)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint up to --epochs")
    p.set_defaults(handler=_cmd_train)
    p = subparsers.add_parser(
        "compare", help="train the same network with several optimizers",
        description="Train the same network from the same initial weights on the same batches "
        "with each optimizer; writes compare.md, compare.csv and compare.png into --out.")
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
