"""``descentlab train`` and ``descentlab compare``: thin shells over ``descentlab.train``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .args import (
    MAX_EPOCHS,
    UsageError,
    batch_size,
    choice_list,
    hidden_sizes,
    int_range,
    nonnegative_float,
    nonnegative_int,
    output_dir,
    positive_float,
    prepare_output_dir,
    require_extra,
    unit_interval,
)

__all__ = ["register"]


def _optimizer_name(text: str) -> str:
    from ..train.builders import OPTIMIZERS

    key = text.strip().lower().replace("_", "-")
    if key not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                         f"{', '.join(map(repr, OPTIMIZERS))})")
    return key



def _add_run_options(p: argparse.ArgumentParser, compare: bool) -> None:
    from ..data import list_datasets
    from ..train import ACTIVATIONS, MODELS, OPTIMIZERS, SCHEDULERS

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
        p.add_argument("--optimizers", type=choice_list(
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
    from ..data.real import SKLEARN_DATASETS

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
    from ..train import RunConfig

    return RunConfig(
        dataset=args.dataset or "spiral", data=args.data, target=args.target, task=args.task,
        test_split=args.test_split, model=args.model, hidden=args.hidden,
        activation=args.activation, optimizer=getattr(args, "optimizer", "adam"), lr=args.lr,
        batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
        out=args.out or default_out, momentum=args.momentum, weight_decay=args.weight_decay,
        clip=args.clip, val_split=args.val_split, scheduler=args.scheduler,
        patience=args.patience, verbose="lines" if args.quiet else "auto")


def _metrics_line(record: dict[str, Any]) -> str:
    from ..train.loop import format_record

    return format_record({k: v for k, v in record.items() if k != "lr"})


def _lr_line(result: Any, scheduler: str) -> str:
    if scheduler == "none" and result.final_lr == result.requested_lr:
        return f"lr      {result.requested_lr:g}"
    return (f"lr      {result.requested_lr:g} requested, {result.final_lr:g} at the last epoch "
            f"({scheduler} schedule)")


def _cmd_train(args: argparse.Namespace) -> int:
    from ..train import train_run

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
    from ..train import compare_optimizers, comparison_markdown

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
