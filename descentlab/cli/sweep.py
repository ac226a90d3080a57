"""``descentlab sweep`` and ``descentlab bench-optimizers``: shells over ``descentlab.sweep``.

Every option is checked, and the store opened, before the first trial runs: a bad name or value,
an empty grid, an unwritable store, a store of another version or more workers than trials exit
with status 2 and one line. Options may also come from a TOML or YAML file (``--config``) whose
keys are the long option names (``weight-decay`` or ``weight_decay``); the command line wins.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .args import (
    UsageError,
    betas,
    hidden_sizes,
    lr_grid,
    nonnegative_float,
    nonnegative_int,
    positive_int,
    sweep_names,
    unit_interval,
    value_list,
)

__all__ = ["register"]


def _hidden(text: str) -> list[int]:
    return list(hidden_sizes(text))


# name → (type applied to one command-line value, default, help); lists are swept axes.
_SWEEP_OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "dataset": (str, None, "train on this built-in dataset (default spiral)"),
    "function": (str, None, "sweep optimizer trajectories on this lab function instead"),
    "optimizers": (sweep_names, ["sgd", "adam"], "optimizers, e.g. sgd,momentum,adam"),
    "lr": (lr_grid, [1e-3, 1e-2, 1e-1], "learning rates: a list 1e-3,1e-2 or a log grid "
           "LOW:HIGH:COUNT, e.g. 1e-4:1:13"),
    "momentum": (value_list(unit_interval), None, "momentum values (SGD variants, RMSprop)"),
    "betas": (value_list(betas), None, "Adam-family betas, e.g. 0.9/0.999,0.8/0.99"),
    "weight_decay": (value_list(nonnegative_float), None, "weight decay values"),
    "batch_size": (value_list(positive_int), None, "batch sizes, e.g. 16,64 (train; default 32)"),
    "scheduler": (value_list(str), None, "schedules: none, step, cosine, plateau (train)"),
    "activation": (value_list(str), None, "hidden activations, e.g. relu,tanh (train)"),
    "init": (value_list(str), None, "weight inits: default, xavier_uniform, xavier_normal, "
             "kaiming_uniform, kaiming_normal (train)"),
    "model": (value_list(str), None, "mlp (default) or cnn: 3×3 conv + pool blocks on square "
              "images such as digits (train)"),
    "hidden": (value_list(_hidden, ";"), None, "model shapes separated by ';', e.g. '16,16;32': "
               "layer widths (mlp) or conv channels (cnn) (train; default 16,16)"),
    "seeds": (positive_int, 1, "run every config with seeds 0 .. N-1"),
    "epochs": (positive_int, 20, "epochs per train trial"),
    "steps": (positive_int, 500, "steps per function trial"),
    "starts": (positive_int, 16, "random start points per function trial"),
    "val_split": (unit_interval, 0.2, "validation fraction; the objective is the final "
                  "val_loss (0: the final training loss)"),
    "search": (str, "grid", "grid (every combination), random, or optuna (TPE proposals with "
               "median pruning on the validation curve; needs optuna)"),
    "samples": (nonnegative_int, 0, "random / optuna search: number of configs (lr drawn "
                "log-uniformly between the ends of --lr)"),
    "store": (str, "runs/sweep.db", "SQLite store of the results"),
    "backend": (str, "local", "local (process pool) or ray"),
    "address": (str, None, "Ray cluster to join, e.g. auto or ray://host:10001"),
    "workers": (positive_int, None, "trials at a time (default: one per core)"),
    "out": (str, None, "report folder (default: next to the store, <store>-report)"),
    "export": (str, None, "also export the trials to this .csv or .parquet file"),
    "name": (str, None, "label stored with the trials (default: the dataset or function)"),
}


def _load_config(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"config file {path} not found; give a .toml or .yaml file")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif p.suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise UsageError("YAML config files need pyyaml: pip install pyyaml (or write "
                                 "the config as .toml)") from None
            data = yaml.safe_load(text) or {}
        else:
            raise UsageError(f"config file {path}: unknown format {p.suffix!r}; use .toml or "
                             ".yaml")
    except UsageError:
        raise
    except Exception as e:
        raise UsageError(f"config file {path} is malformed: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"config file {path} must be a table of options, e.g. lr = \"1e-3,1e-2\"")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _as_text(value: Any, key: str) -> str:
    if isinstance(value, bool) or value is None:
        raise UsageError(f"config key {key!r} has no usable value {value!r}")
    if isinstance(value, (list, tuple)):
        sep = ";" if key == "hidden" else ","
        return sep.join(_as_text(v, key) if not isinstance(v, (list, tuple))
                        else ",".join(map(str, v)) for v in value)
    return str(value)


def _resolve(args: argparse.Namespace, options: dict[str, tuple[Any, Any, str]]) -> None:
    """Fill options not given on the command line from ``--config``, then from the defaults."""
    config = _load_config(args.config) if args.config else {}
    unknown = sorted(set(config) - set(options) - {"resume"})
    if unknown:
        raise UsageError(f"config file {args.config}: unknown option(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(options))}")
    if config.get("resume") is True and not args.resume:
        args.resume = True
    for key, (parse, default, _) in options.items():
        if getattr(args, key) is not None:
            continue
        if key in config:
            try:
                value = parse(_as_text(config[key], key))
            except argparse.ArgumentTypeError as e:
                raise UsageError(f"config file {args.config}: {key}: {e}") from None
            setattr(args, key, value)
        else:
            setattr(args, key, default)


def _shown(default: Any) -> str:
    values = default if isinstance(default, list) else [default]
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _add_options(p: argparse.ArgumentParser, options: dict[str, tuple[Any, Any, str]]) -> None:
    for key, (parse, default, text) in options.items():
        if default is not None and "default" not in text:
            text = f"{text} (default {_shown(default)})"
        # '%' would be read as a format code by argparse's help.
        p.add_argument("--" + key.replace("_", "-"), dest=key, type=parse, default=None,
                       help=text.replace("%", "%%"))


# ------------------------------------------------------------------------ the sweep spec
def _spec(args: argparse.Namespace) -> Any:
    from ..sweep.spec import SweepSpec

    if args.dataset is not None and args.function is not None:
        raise UsageError("give either --dataset (train sweeps) or --function (trajectory "
                         "sweeps), not both")
    kind = "function" if args.function is not None else "train"
    axes: dict[str, list[Any]] = {"optimizer": args.optimizers, "lr": args.lr,
                                  "seed": list(range(args.seeds))}
    train_only = ("batch_size", "scheduler", "activation", "init", "model", "hidden")
    for key in ("momentum", "betas", "weight_decay", *train_only):
        value = getattr(args, key)
        if value is None:
            continue
        if kind == "function" and key in train_only:
            raise UsageError(f"--{key.replace('_', '-')} applies to train sweeps (--dataset), "
                             "not to --function")
        axes[key] = value
    if kind == "train":
        base = {"dataset": args.dataset or "spiral", "epochs": args.epochs,
                "val_split": args.val_split}
        from ..sweep.trial import INITS, MODELS
        from ..train import ACTIVATIONS, SCHEDULERS

        for key, valid in (("scheduler", SCHEDULERS), ("activation", ACTIVATIONS),
                           ("init", INITS), ("model", MODELS)):
            bad = [v for v in axes.get(key, []) if v not in valid]
            if bad:
                raise UsageError(f"unknown {key} {', '.join(map(repr, bad))}; choose from "
                                 f"{', '.join(valid)}")
    else:
        base = {"function": args.function, "steps": args.steps, "starts": args.starts}
    if args.search not in ("grid", "random", "optuna"):
        raise UsageError(f"unknown --search {args.search!r}; choose grid, random or optuna")
    spec = SweepSpec(kind, base, axes, search=args.search, samples=args.samples,
                     lr_range=args.search == "random")
    try:
        if args.search == "optuna":
            spec.validate()
            return spec, args.samples
        return spec, len(spec.trials())
    except ValueError as e:
        raise UsageError(str(e)) from None


# ------------------------------------------------------------------------ live progress
class _Progress:
    """Trials done / running / failed, best so far and ETA: a rich bar on a terminal, plain
    lines otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.bar = None
        self.quiet = quiet
        self.done = self.failed = self.diverged = self.running = 0
        self.best: float | None = None
        self.best_label = ""
        self.t0 = time.perf_counter()

    def start(self, total: int, to_run: int) -> None:
        self.total, self.to_run = total, to_run
        print(f"{total} trials, {total - to_run} already in the store, running {to_run}")
        if not self.quiet and sys.stdout.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[status]}"), TimeRemainingColumn())
            self.bar.start()
            self.task = self.bar.add_task("sweep", total=to_run, status="")

    def _status(self) -> str:
        best = f"best {self.best:.4g} ({self.best_label})" if self.best is not None else ""
        return (f"running {self.running}  failed {self.failed}  diverged {self.diverged}  "
                f"{best}")

    def submitted(self, trial: Any) -> None:
        self.running += 1
        if self.bar is not None:
            self.bar.update(self.task, status=self._status())

    def finished(self, trial: Any, result: dict[str, Any]) -> None:
        from ..sweep.spec import describe

        self.running -= 1
        self.done += 1
        self.failed += result["status"] == "failed"
        self.diverged += result["status"] == "diverged"
        obj = result.get("objective")
        task = trial.params.get("dataset") or trial.params.get("function")
        label = f"{task}: {describe(trial.params, ('lr',))} seed {trial.seed}"
        if obj is not None and (self.best is None or obj < self.best):
            self.best, self.best_label = obj, label
        if self.bar is not None:
            self.bar.update(self.task, advance=1, status=self._status())
            if self.done == self.to_run:
                self.bar.stop()
        elif not self.quiet:
            value = "–" if obj is None else f"{obj:.4g}"
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.done * (self.to_run - self.done)
            print(f"[{self.done}/{self.to_run}] {label}: {result['status']} {value} "
                  f"({result['seconds']:.2f} s)  {self._status()}  ETA {eta:.0f} s", flush=True)

    def close(self) -> None:
        if self.bar is not None and self.done != self.to_run:
            self.bar.stop()


def _run(spec: Any, args: argparse.Namespace, name: str) -> Any:
    from ..sweep.runner import run_sweep
    from ..sweep.store import StoreError

    progress = _Progress(args.quiet)
    try:
        return run_sweep(spec, args.store, backend=args.backend, workers=args.workers,
                         resume=args.resume, address=args.address, name=name,
                         progress=progress)
    except (ValueError, StoreError) as e:
        raise UsageError(str(e)) from None
    finally:
        if hasattr(progress, "total"):
            progress.close()


def _check_common(args: argparse.Namespace, n_trials: int) -> None:
    from ..sweep.runner import BACKENDS, check_workers

    if args.backend not in BACKENDS:
        raise UsageError(f"unknown --backend {args.backend!r}; choose from {', '.join(BACKENDS)}")
    if args.address is not None and args.backend != "ray":
        raise UsageError("--address joins a Ray cluster; add --backend ray")
    try:
        check_workers(args.workers, n_trials)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.export is not None and Path(args.export).suffix not in (".csv", ".parquet"):
        raise UsageError(f"--export {args.export}: use a .csv or .parquet file name")
    if args.backend == "ray":
        from ..sweep.ray_backend import ray_available

        if not ray_available():
            raise UsageError('--backend ray needs ray: pip install "descentlab[scale]" (or use '
                             "--backend local)")


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweep.report import best_per_optimizer, write_report
    from ..sweep.store import Store

    _resolve(args, _SWEEP_OPTIONS)
    spec, n_trials = _spec(args)
    _check_common(args, n_trials)
    if args.search == "optuna" and args.backend != "local":
        raise UsageError("--search optuna runs on the local backend; drop --backend ray")
    name = args.name or (args.function or args.dataset or "spiral")
    result = _run(spec, args, name)
    out = Path(args.out) if args.out else Path(args.store).with_name(
        Path(args.store).stem + "-report")
    files = write_report(result.rows, out, title=f"sweep on {name}")
    minutes = result.seconds / 60
    print(f"ran {result.ran} trial(s) in {result.seconds:.1f} s"
          + (f" ({result.ran / minutes:.0f} trials/min)" if result.ran and minutes > 0 else "")
          + (f"; {result.skipped} already finished" if result.skipped else ""))
    for opt, g in sorted(best_per_optimizer(result.rows).items(), key=lambda kv: kv[1].mean):
        if g.ok:
            spread = f" ± {g.std:.3g}" if len(g.seeds) > 1 else ""
            print(f"best {opt:<9} {g.label:<40} {g.mean:.4g}{spread} over {len(g.seeds)} seed(s)")
        else:
            print(f"best {opt:<9} every config diverged or failed (e.g. {g.label})")
    if args.export:
        with Store(args.store) as db:
            print(f"exported {db.export(args.export, [r['hash'] for r in result.rows])}")
    print("wrote " + ", ".join(str(p) for p in files.values()))
    return 0


# ------------------------------------------------------------------------ bench-optimizers
_BENCH_OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "workloads": (sweep_names, None, "workloads to run (default: all available)"),
    "optimizers": (sweep_names, None, "optimizers to compare (default sgd,momentum,adam; "
                   "with --quick sgd,adam)"),
    "seeds": (positive_int, None, "seeds per config (default 1 with --quick, else 3)"),
    "store": (str, "runs/bench.db", "SQLite store of the tuning trials"),
    "backend": (str, "local", "local (process pool) or ray"),
    "address": (str, None, "Ray cluster to join"),
    "workers": (positive_int, None, "trials at a time (default: one per core)"),
    "out": (str, "runs/bench", "report folder"),
    "export": (str, None, "also export the trials to this .csv or .parquet file"),
}


def _cmd_bench(args: argparse.Namespace) -> int:
    from ..sweep.bench import bench_markdown, run_benchmark, workload_names

    _resolve(args, _BENCH_OPTIONS)
    available = workload_names()
    bad = [w for w in args.workloads or [] if w not in available]
    if bad:
        raise UsageError(f"unknown workload {', '.join(map(repr, bad))}; choose from "
                         f"{', '.join(available)}")
    from ..sweep.spec import train_optimizers

    opts = args.optimizers or (["sgd", "adam"] if args.quick else ["sgd", "momentum", "adam"])
    bad = [o for o in opts if o not in train_optimizers()]
    if bad:
        raise UsageError(f"unknown optimizer {', '.join(map(repr, bad))}; choose from "
                         f"{', '.join(train_optimizers())}")
    from ..sweep.bench import build_trials

    trials = build_trials(args.workloads or available, opts, args.quick, args.seeds)
    _check_common(args, len(trials))
    progress = _Progress(args.quiet)
    try:
        result = run_benchmark(args.workloads or available, opts, quick=args.quick,
                               seeds=args.seeds, store=args.store, backend=args.backend,
                               workers=args.workers, resume=args.resume, address=args.address,
                               out=args.out, progress=progress)
    except ValueError as e:
        raise UsageError(str(e)) from None
    finally:
        if hasattr(progress, "total"):
            progress.close()
    print()
    print(bench_markdown(result), end="")
    if args.export:
        from ..sweep.store import Store

        with Store(args.store) as db:
            print(f"exported {db.export(args.export, [t.hash for t in trials])}")
    print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return 0


def register(subparsers: Any) -> None:
    """Add ``sweep`` and ``bench-optimizers``."""
    p = subparsers.add_parser(
        "sweep", help="grid or random search over optimizers, lr, ... (local or on Ray)",
        description="Run every combination of the given options (x seeds) as independent "
        "trials on a process pool or a Ray cluster, store each result in SQLite (resumable with "
        "--resume), and write a report: best config per optimizer, loss vs lr, learning curves.")
    p.add_argument("--config", default=None, help="TOML or YAML file of these options")
    _add_options(p, _SWEEP_OPTIONS)
    p.add_argument("--resume", action="store_true",
                   help="finish a sweep already in --store (re-runs only unfinished trials)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler=_cmd_sweep)
    p = subparsers.add_parser(
        "bench-optimizers", help="AlgoPerf-lite: tune each optimizer on a fixed workload suite",
        description="Tune every optimizer's learning rate over the same budget on each "
        "workload, then report steps- and time-to-target and a performance profile.")
    p.add_argument("--config", default=None, help="TOML or YAML file of these options")
    p.add_argument("--quick", action="store_true",
                   help="small grids, short budgets, one seed: a few minutes on a laptop")
    _add_options(p, _BENCH_OPTIONS)
    p.add_argument("--resume", action="store_true", help="finish a benchmark already in --store")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler=_cmd_bench)
