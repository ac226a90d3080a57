"""The ``descentlab`` command line (also ``python -m descentlab``): the shells' top floor.

Each command is a thin shell: it parses arguments (types and checks from :mod:`.args`), calls
library functions (``descentlab.train.train_run``, ``descentlab.lab.analysis.lr_sweep``, ...) and
renders their results. Invalid arguments exit with status 2 and one line naming the problem and
the valid choices (also when only the library can tell, e.g. ``--momentum`` with adam: its
``ValueError``); runtime failures (a diverged run, a damaged checkpoint, a failed download) exit
with status 1 and one line. No library module imports this package.

Adding a command group: write a module with ``register(subparsers)`` that adds its parsers via
``subparsers.add_parser(...)`` and sets ``handler=<function(args) -> int | None>`` with
``set_defaults``, then list the module in :data:`COMMAND_MODULES`. Handlers raise
:class:`UsageError` for bad arguments (exit 2); the argument types of :mod:`.args`
(``positive_float``, ``int_range``, ``output_dir``, ...) and its checks run before any work
(``prepare_output_dir``, ``require_extra``) are meant to be reused.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import args
from .args import *  # noqa: F403  (the argument types stay importable from descentlab.cli)
from .args import UsageError

__all__ = ["COMMAND_MODULES", "build_parser", "main", *args.__all__]

#: Modules whose ``register(subparsers)`` adds subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = ("descentlab.cli.train", "descentlab.cli.lab",
                                    "descentlab.cli.sweep", "descentlab.cli.serve")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``descentlab train: error: <problem>`` and no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser: the commands of every module in :data:`COMMAND_MODULES`."""
    from .. import __version__

    parser = _Parser(prog="descentlab",
                     description="Deep-learning optimization end to end, made visible.")
    parser.add_argument("--version", action="version", version=f"descentlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
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
    from ..train import CheckpointError, DivergenceError

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
