"""``descentlab lab ...`` and ``descentlab gallery``: thin shells over the lab.

Each command parses and validates its arguments (bad ones exit 2 with one line, no traceback),
calls the library, prints a short numeric summary and writes its image.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .args import (
    UsageError,
    accept_negative_points,
    check_writable,
    image_path,
    int_range,
    lab_name,
    lab_names,
    point,
    positive_float,
    positive_floats,
)

__all__ = ["register"]

MAX_STEPS = 100_000
MAX_GRID = 400
MAX_BASIN_WORK = 200_000_000  # grid² × steps: about half a minute of GD on one core


def _optimizer_names() -> list[str]:
    from ..lab.trajectories import OPTIMIZERS, SECOND_ORDER

    return sorted(OPTIMIZERS) + list(SECOND_ORDER)


def _add_landscape_args(p: argparse.ArgumentParser, default: str) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--function", default=None, metavar="NAME",
                       help=f"test function (default {default}); see `descentlab lab "
                       "functions`")
    group.add_argument("--formula", default=None, metavar="EXPR",
                       help='your own landscape, e.g. "x**2 + 3*sin(y)" (safe parser: numbers, '
                       "x y z w, + - * / **, sin cos tan exp log sqrt abs tanh sigmoid)")
    p.set_defaults(default_function=default)


def _landscape(args: argparse.Namespace, dim: int | None = None) -> Any:
    from ..lab.formula import parse_function
    from ..lab.functions import get_function

    if args.function is not None and not args.function.strip():
        raise UsageError("--function is empty; give a name from `descentlab lab functions`, e.g. "
                         f"{args.default_function}")
    try:
        f = (parse_function(args.formula) if args.formula is not None
             else get_function(args.function or args.default_function))
    except ValueError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    if dim is not None and f.dim != dim:
        raise UsageError(f"{f.name} has {f.dim} variable(s); this command needs a {dim}-D "
                         "landscape")
    region = f.params.get("nonfinite")
    if region is not None and region.fraction > 0:
        at = ", ".join(f"{v:g}" for v in region.example)
        shown = "; that region is hatched in the contour picture" if f.dim == 2 else ""
        print(f"note: {f.name} is not finite on {region.fraction:.1%} of its box (e.g. "
              f"{region.value} at ({at})){shown}")
    return f


def _start(args: argparse.Namespace, f: Any) -> np.ndarray:
    from ..lab.analysis import default_start

    if args.start is None:
        return default_start(f)
    if len(args.start) != f.dim:
        raise UsageError(f"--start has {len(args.start)} coordinate(s) but {f.name} takes {f.dim}")
    return np.array(args.start, dtype=np.float64)


# ----------------------------------------------------------------------------------- commands

def _cmd_functions(args: argparse.Namespace) -> int:
    from ..lab.functions import FUNCTIONS

    for name in sorted(FUNCTIONS):
        f = FUNCTIONS[name]()
        mins = ", ".join("(" + ", ".join(f"{v:.4g}" for v in m.location) + f") f={m.value:.4g}"
                         for m in f.minima) or "none"
        print(f"{name:<18} {f.formula}\n{'':<18} minima: {mins}")
    return 0


def _cmd_trajectories(args: argparse.Namespace) -> int:
    from ..lab import plots
    from ..lab.trajectories import run_trajectories

    f = _landscape(args)
    out = image_path(args.out)
    if args.gif is not None:
        image_path(args.gif, (".gif",), "--gif")
        if f.dim != 2:
            raise UsageError(f"--gif needs a 2-D landscape; {f.name} has {f.dim} variable(s)")
    lrs = args.lr or []
    if len(lrs) not in (0, 1, len(args.optimizers)):
        raise UsageError(f"--lr has {len(lrs)} values for {len(args.optimizers)} optimizers; give "
                         "one for all or one per optimizer")
    x0 = _start(args, f)
    runs = {}
    print(f"{f.name}: {f.formula}; start {tuple(float(v) for v in x0)}; {args.steps} steps")
    for i, name in enumerate(args.optimizers):
        hyper = {}
        if lrs:
            hyper["lr"] = lrs[i if len(lrs) > 1 else 0]
        try:
            run = run_trajectories(f, x0, name, args.steps, **hyper)
        except ValueError as e:
            raise UsageError(str(e).splitlines()[0]) from None
        runs[name] = run
        conv = int(run.steps_to_converge[0])
        pos = ", ".join(f"{v:.6g}" for v in run.final_positions[0])
        lr = run.hyperparameters.get("lr")
        print(f"  {name:<10} lr={'-' if lr is None else format(lr, 'g'):<8} end ({pos})  "
              f"f={float(run.final_losses[0]):.6g}  |grad|={float(run.final_grad_norms[0]):.3g}"
              f"  {run.status[0]}" + (f" at step {conv}" if conv >= 0 else ""))
    if f.dim == 2:
        fig = plots.contour_trajectories(f, runs)
    else:
        fig = plots.loss_curves({k: v.losses[0] for k, v in runs.items()},
                            title=f"{f.name}: f(w_k)", ylabel="f")
    print(f"wrote {plots.save(fig, out)}")
    if args.gif is not None:
        animation = plots.animate_trajectories(f, runs, frames=args.frames)
        print(f"wrote {plots.save(animation, args.gif)}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..lab import plots
    from ..lab.analysis import gd_stability_bound, lr_sweep

    f = _landscape(args)
    out = image_path(args.out)
    x0 = _start(args, f) if args.start is not None else None
    try:
        sweep = lr_sweep(f, args.lrs, start=x0, optimizer=args.optimizer, steps=args.steps,
                      refine=args.refine)
    except ValueError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    print(f"{f.name}: {args.optimizer}, {args.steps} steps per step size")
    for row in sweep.table():
        print(f"  lr={row['lr']:<10g} {row['class']:<12} f - f* = {row['final_gap']:.4g}")

    def show(v: float | None) -> str:
        return "none" if v is None else f"{v:.7g}"

    how = (f" (bisected {sweep.refine_steps} times between the step sizes above)"
           if sweep.refine_steps and sweep.smallest_diverging_lr is not None else "")
    print(f"  largest stable lr: {show(sweep.largest_stable_lr)}  smallest diverging lr: "
          f"{show(sweep.smallest_diverging_lr)}{how}")
    if args.optimizer == "gd" and f.minima:
        try:
            bound = gd_stability_bound(f)
        except ValueError:
            bound = None
        if bound is not None:
            print(f"  theory for GD: 2/L = {bound:.6g} (L = largest eigenvalue of the Hessian at "
                  "the minimum; exact for a quadratic)")
    print(f"wrote {plots.save(plots.lr_sweep_panels(sweep), out)}")
    return 0


def _cmd_basins(args: argparse.Namespace) -> int:
    from ..lab import plots
    from ..lab.analysis import basins_of_attraction

    f = _landscape(args, dim=2)
    out = image_path(args.out)
    work = args.grid ** 2 * args.steps
    if work > MAX_BASIN_WORK:
        raise UsageError(f"--grid {args.grid} with --steps {args.steps} is {work:.2g} point-steps "
                         f"(minutes to hours); keep grid² × steps <= {MAX_BASIN_WORK:.0e}, e.g. "
                         f"--grid {args.grid} --steps {MAX_BASIN_WORK // args.grid ** 2}")
    hyper = {"lr": args.lr} if args.lr is not None else {}
    try:
        basins = basins_of_attraction(f, args.optimizer, n=args.grid, steps=args.steps, **hyper)
    except ValueError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    print(f"{f.name}: {args.optimizer} from a {args.grid}x{args.grid} grid, {args.steps} steps")
    for m, share in zip(basins.minima, basins.fractions()):
        loc = ", ".join(f"{v:.4g}" for v in m.location)
        print(f"  minimum ({loc}) f={m.value:.4g}: {share:.1%} of starts")
    print(f"  no minimum reached: {basins.fractions()[-1]:.1%}")
    print(f"wrote {plots.save(plots.basin_map(basins), out)}")
    return 0


def _cmd_critical(args: argparse.Namespace) -> int:
    from collections import Counter

    from ..lab import plots
    from ..lab.analysis import find_critical_points

    f = _landscape(args, dim=2)
    out = image_path(args.out)
    try:
        points = find_critical_points(f, n=args.grid)
    except ValueError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    counts = Counter(c.kind for c in points)
    print(f"{f.name}: {len(points)} critical points ("
          + ", ".join(f"{counts[k]} {k}" for k in ("minimum", "maximum", "saddle", "degenerate")
                      if counts[k]) + ")")
    for c in points:
        loc = ", ".join(f"{v:.6g}" for v in c.location)
        print(f"  {c.kind:<10} ({loc})  f={c.value:.6g}")
    fig = plots.critical_points_plot(f, points)
    print(f"wrote {plots.save(fig, out)}")
    return 0


def _cmd_gradients(args: argparse.Namespace) -> int:
    from ..lab import plots
    from ..lab.diagnostics import (
        ACTIVATIONS,
        EXPLODING_ABOVE,
        LESSON_CONFIGS,
        VANISHING_BELOW,
        format_gradient_table,
        gradient_report,
    )

    out = image_path(args.out)
    if args.activations is None and args.inits is None:
        pairs = list(LESSON_CONFIGS)
        print("activation/init pairs of the lesson (choose others with --activations/--inits):")
    else:
        pairs = [(act, init) for act in (args.activations or list(ACTIVATIONS))
                 for init in (args.inits or ["default"])]
    reports = [gradient_report(args.depth, args.width, act, init, args.batchnorm, args.residual,
                               args.clip, batch_size=args.batch_size, seed=args.seed)
               for act, init in pairs]
    print(format_gradient_table(reports))
    print(f"  ratio = RMS gradient of layer 1 / of layer {args.depth}: below "
          f"{VANISHING_BELOW:g} vanishing, above {EXPLODING_ABOVE:g} exploding")
    fig = plots.gradient_norms_per_layer(
        {r.label: r.grad_rms[:args.depth] for r in reports},
        ylabel="RMS of ∂L/∂W per weight (log scale)",
        title=f"Gradient per layer at initialization (depth {args.depth}, width {args.width})")
    print(f"wrote {plots.save(fig, out)}")
    return 0


def _cmd_landscape(args: argparse.Namespace) -> int:
    from ..lab import plots
    from ..lab.landscape import moons_mlp_landscape

    out = image_path(args.out)
    result = moons_mlp_landscape(args.width, args.samples, args.epochs, args.grid, args.seed)
    eig, tr, surf = result.eigen, result.trace, result.surface
    print(f"2-{args.width}-2 tanh MLP on {args.samples} two-moons points, {args.epochs} full-batch "
          f"Adam steps ({result.seconds:.2f} s)")
    print(f"  loss at init {result.init_loss:.4g}, trained {surf.center_loss:.4g}")
    print(f"  top Hessian eigenvalue {eig.eigenvalue:.4g} ({eig.iterations} power iterations"
          f"{'' if eig.converged else ', not converged'}); Hessian trace {tr.trace:.4g} "
          f"± {tr.std_error:.2g}")
    print(f"wrote {plots.save(plots.landscape_2d(surf.alphas, surf.betas, surf.losses), out)}")
    line_path = out.with_name(out.stem + "_1d" + out.suffix)
    fig = plots.landscape_1d(result.line.ts, {"training loss": result.line.losses},
                             title="Loss from init (α = 0) to trained (α = 1)")
    print(f"wrote {plots.save(fig, line_path)}")
    return 0


def _cmd_gallery(args: argparse.Namespace) -> int:
    from ..lab.gallery import lesson_keys, run_gallery

    chosen = None
    if args.lessons is not None:
        chosen = [k.strip() for k in args.lessons.split(",") if k.strip()]
        bad = [k for k in chosen if k not in lesson_keys()]
        if bad or not chosen:
            named = ", ".join(map(repr, bad)) or repr(args.lessons)
            raise UsageError(f"unknown lesson(s) {named}; choose from {', '.join(lesson_keys())}")

    def progress(o: Any) -> None:
        status = "FAILED: " + o.error.splitlines()[0] if o.error else ", ".join(o.images)
        print(f"  {o.key:<20} {o.seconds:5.1f} s  {status}", flush=True)

    check_writable(args.out, "--out", folder=True)
    report = run_gallery(args.out, chosen, progress=progress)
    print(f"wrote {report.out / 'index.html'} and README.md: "
          f"{len(report.outcomes) - len(report.failed)}/{len(report.outcomes)} lessons in "
          f"{report.seconds:.1f} s")
    return 1 if report.failed else 0


# ------------------------------------------------------------------------------- registration

def register(subparsers: Any) -> None:
    """Add ``lab`` (trajectories, sweep, basins, critical, gradients, landscape, functions) and
    ``gallery`` to the main parser's subparsers."""
    from ..lab.diagnostics import ACTIVATIONS, INITS, LESSON_CONFIGS

    opts = _optimizer_names()
    lab = subparsers.add_parser("lab", help="the optimization lab: paths, sweeps, basins, ...",
                                description="Run one lab analysis, print its numbers and write "
                                "its picture.")
    sub = lab.add_subparsers(dest="lab_command", metavar="ANALYSIS", required=True)

    p = sub.add_parser("functions", help="list the test functions and their minima")
    p.set_defaults(handler=_cmd_functions)

    p = sub.add_parser("trajectories", help="optimizer paths on a landscape (contour + legend)")
    _add_landscape_args(p, "rosenbrock")
    p.add_argument("--optimizers", type=lab_names(opts, "optimizer"),
                   default=["sgd", "momentum", "adam"], metavar="A,B,...",
                   help=f"comma list from {', '.join(opts)} (default sgd,momentum,adam)")
    p.add_argument("--lr", type=positive_floats, default=None, metavar="LR[,LR...]",
                   help="one learning rate for all, or one per optimizer (default: each "
                   "optimizer's torch default)")
    p.add_argument("--steps", type=int_range(1, MAX_STEPS, "--steps"), default=500)
    accept_negative_points(p)
    p.add_argument("--start", type=point, default=None, metavar="X,Y",
                   help="start point, e.g. -1.2,1 (default: near the domain's upper-left corner)")
    p.add_argument("--out", default="trajectories.png", help="image path (.png/.svg/.pdf)")
    p.add_argument("--gif", default=None, help="also write an animated GIF here")
    p.add_argument("--frames", type=int_range(2, 300, "--frames"), default=40)
    p.set_defaults(handler=_cmd_trajectories)

    p = sub.add_parser("sweep", help="learning-rate sweep: monotone / oscillating / diverging")
    _add_landscape_args(p, "parabola")
    p.add_argument("--lrs", type=lambda t: positive_floats(t, unique=True),
                   default=[0.05, 0.4, 0.6, 1.2],
                   metavar="A,B,...", help="step sizes (default 0.05,0.4,0.6,1.2)")
    p.add_argument("--optimizer", type=lab_name(opts, "optimizer"), default="gd",
                   help="optimizer (default gd)")
    p.add_argument("--steps", type=int_range(1, MAX_STEPS, "--steps"), default=30)
    p.add_argument("--refine", type=int_range(0, 60, "--refine"), default=20,
                   help="bisection steps on the edge of stability between the largest stable "
                   "and smallest diverging step size (0..60, default 20)")
    accept_negative_points(p)
    p.add_argument("--start", type=point, default=None, metavar="X[,Y]")
    p.add_argument("--out", default="sweep.png")
    p.set_defaults(handler=_cmd_sweep)

    p = sub.add_parser("basins", help="basins of attraction on a grid of starts")
    _add_landscape_args(p, "himmelblau")
    p.add_argument("--optimizer", type=lab_name(opts, "optimizer"), default="gd")
    p.add_argument("--lr", type=positive_float, default=0.01)
    p.add_argument("--grid", type=int_range(2, MAX_GRID, "--grid"), default=100,
                   help=f"starts per side (2..{MAX_GRID}, default 100)")
    p.add_argument("--steps", type=int_range(1, 20_000, "--steps"), default=500)
    p.add_argument("--out", default="basins.png")
    p.set_defaults(handler=_cmd_basins)

    p = sub.add_parser("critical", help="find and classify critical points (Newton on ∇f = 0)")
    _add_landscape_args(p, "himmelblau")
    p.add_argument("--grid", type=int_range(2, 200, "--grid"), default=30)
    p.add_argument("--out", default="critical.png")
    p.set_defaults(handler=_cmd_critical)

    p = sub.add_parser("gradients", help="per-layer gradient norms of a deep MLP")
    lesson = ", ".join(f"{a}/{i}" for a, i in LESSON_CONFIGS)
    p.add_argument("--activations", type=lab_names(list(ACTIVATIONS), "activation"),
                   default=None, metavar="A,B,...",
                   help=f"from {', '.join(ACTIVATIONS)} (default: the lesson's pairs {lesson}; "
                   "with --inits alone, all activations)")
    p.add_argument("--inits", type=lab_names(list(INITS), "init"), default=None,
                   metavar="I,J,...", help=f"from {', '.join(INITS)}, tried with each activation "
                   "(default: the lesson's pairs; with --activations alone, default)")
    p.add_argument("--depth", type=int_range(1, 200, "--depth"), default=10)
    p.add_argument("--width", type=int_range(1, 4096, "--width"), default=64)
    p.add_argument("--batch-size", type=int_range(2, 100_000, "--batch-size"), default=256)
    p.add_argument("--batchnorm", action="store_true")
    p.add_argument("--residual", action="store_true")
    p.add_argument("--clip", type=positive_float, default=None)
    p.add_argument("--seed", type=int_range(0, 2**31 - 1, "--seed"), default=0)
    p.add_argument("--out", default="gradients.png")
    p.set_defaults(handler=_cmd_gradients)

    p = sub.add_parser("landscape", help="a small network's loss landscape and Hessian")
    p.add_argument("--width", type=int_range(1, 512, "--width"), default=16)
    p.add_argument("--samples", type=int_range(4, 100_000, "--samples"), default=200)
    p.add_argument("--epochs", type=int_range(1, 100_000, "--epochs"), default=200)
    p.add_argument("--grid", type=int_range(2, 101, "--grid"), default=21)
    p.add_argument("--seed", type=int_range(0, 2**31 - 1, "--seed"), default=0)
    p.add_argument("--out", default="landscape.png",
                   help="2-D contour path; the 1-D interpolation goes next to it (<stem>_1d)")
    p.set_defaults(handler=_cmd_landscape)

    p = subparsers.add_parser("gallery", help="run every lesson of the notes into a folder",
                              description="Run every lesson, write one image per lesson, "
                              "index.html and README.md with the measured numbers.")
    p.add_argument("--out", default="gallery", help="output folder (default gallery)")
    p.add_argument("--lessons", default=None, metavar="K,K,...",
                   help="only these lessons (default all)")
    p.set_defaults(handler=_cmd_gallery)
