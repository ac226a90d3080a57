"""How cost grows: time against batch size, layer width and number of lab starts, for descentlab
and PyTorch CPU side by side, and the peak memory of a training run in each library.

Each point times one training step (forward, cross-entropy, backward, Adam) of an MLP, or one
batched Adam run on Rosenbrock, with the two libraries in alternating batches. Peak memory is
measured in a fresh subprocess per library: the growth of the resident set (RSS) from after the
model is built to the peak over the steps, so the libraries' own code is not counted.
Run: python bench/bench_scaling.py [--quick] [--plot FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_lab import LR, _starts, torch_adam_loop  # noqa: E402
from bench_train import _mlp, _pair_of_steps  # noqa: E402
from common import paired_median_times, print_table  # noqa: E402

from descentlab.lab.functions import get_function  # noqa: E402
from descentlab.lab.trajectories import run_trajectories  # noqa: E402

BATCHES = (1, 4, 16, 64, 256, 1024)
WIDTHS = (16, 64, 256, 1024, 2048)
STARTS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)


def _step_times(make, x_shape, repeats: int) -> tuple[float, float]:
    ours, theirs = _pair_of_steps(make, x_shape, 10)
    return paired_median_times(ours, theirs, repeats=repeats, warmup=2, target_s=0.1)


def _lab_times(k: int, steps: int) -> tuple[float, float]:
    import torch

    f, starts = get_function("rosenbrock"), _starts(k)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as bench_lab: NumPy's element-wise ops use one core
    try:
        theirs = torch_adam_loop(starts, steps)

        def ours() -> None:
            run_trajectories(f, starts, "adam", steps, lr=LR, record_every=steps)

        best = [np.inf, np.inf]
        for _ in range(3):  # alternate, keep each side's best (single long calls)
            for i, fn in enumerate((ours, theirs)):
                t0 = time.perf_counter()
                fn()
                best[i] = min(best[i], time.perf_counter() - t0)
        return best[0], best[1]
    finally:
        torch.set_num_threads(threads)


_MEMORY_CHILD = r"""
import json, os, resource, sys
sys.path.insert(0, {bench!r})
import numpy as np
lib_name, case, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if lib_name == "torch":
    import torch as lib
else:
    import descentlab as lib
from bench_train import _convnet, _mlp

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

if case == "mlp":
    model, shape = _mlp(lib, [784, 512, 512, 10]), (128, 784)
else:
    model, shape = _convnet(lib), (64, 1, 28, 28)
rng = np.random.default_rng(0)
x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
y = lib.tensor(rng.integers(0, 10, shape[0]))
opt = lib.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = lib.nn.CrossEntropyLoss()
before = rss_mb()
peak = before
for _ in range(steps):
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()
    peak = max(peak, rss_mb())
print(json.dumps({{"before": before, "peak": peak}}))
"""


def _peak_memory(case: str, steps: int) -> dict:
    """RSS growth (MiB) over ``steps`` training steps, in a fresh process per library."""
    code = _MEMORY_CHILD.format(bench=os.path.dirname(os.path.abspath(__file__)))
    out = {}
    for lib in ("descentlab", "torch"):
        proc = subprocess.run([sys.executable, "-c", code, lib, case, str(steps)],
                              capture_output=True, text=True, check=True)
        numbers = json.loads(proc.stdout.strip().splitlines()[-1])
        out[lib] = numbers["peak"] - numbers["before"]
    return out


def run(quick: bool = False) -> list[dict]:
    """Rows for bench/run.py; each row also carries its axis and x value for the plot."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    repeats = 3 if quick else 5
    rows = []
    for b in BATCHES[:4] if quick else BATCHES:
        ours, theirs = _step_times(lambda lib: _mlp(lib, [784, 512, 512, 10]), (b, 784), repeats)
        rows.append({"name": f"MLP 784-512-512-10 train step, batch {b}", "axis": "batch",
                     "x": b, "descentlab_ms": ours * 1e3, "torch_ms": theirs * 1e3,
                     "ratio": ours / theirs, "note": ""})
    for w in WIDTHS[:3] if quick else WIDTHS:
        ours, theirs = _step_times(lambda lib, w=w: _mlp(lib, [784, w, w, 10]), (128, 784),
                                   repeats)
        rows.append({"name": f"MLP 784-{w}-{w}-10 train step, batch 128", "axis": "width",
                     "x": w, "descentlab_ms": ours * 1e3, "torch_ms": theirs * 1e3,
                     "ratio": ours / theirs, "note": ""})
    steps = 100
    for k in STARTS[:5] if quick else STARTS:
        ours, theirs = _lab_times(k, steps)
        rows.append({"name": f"lab: {k} starts x {steps} Adam steps", "axis": "starts", "x": k,
                     "descentlab_ms": ours * 1e3, "torch_ms": theirs * 1e3,
                     "ratio": ours / theirs, "note": "torch on 1 thread"})
    for case, label in (("mlp", "MLP 784-512-512-10, batch 128"), ("conv", "conv net, batch 64")):
        mem = _peak_memory(case, 3 if quick else 10)
        rows.append({"name": f"peak memory growth, {label}", "axis": "memory", "x": case,
                     "descentlab_ms": None, "torch_ms": None, "ratio": None,
                     "descentlab_mib": mem["descentlab"], "torch_mib": mem["torch"],
                     "note": f"RSS +{mem['descentlab']:.1f} MiB vs +{mem['torch']:.1f} MiB"})
    return rows


def plot(rows: list[dict], path: str) -> None:
    """One figure, three panels: milliseconds against batch size, width and number of starts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("batch", "batch size (MLP 784-512-512-10 train step)"),
              ("width", "hidden width (MLP 784-w-w-10, batch 128)"),
              ("starts", "lab starts (Adam on Rosenbrock, 100 steps)"))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    for ax, (axis, label) in zip(axes, panels):
        pts = [r for r in rows if r.get("axis") == axis]
        xs = [r["x"] for r in pts]
        ax.loglog(xs, [r["descentlab_ms"] for r in pts], "o-", label="descentlab")
        ax.loglog(xs, [r["torch_ms"] for r in pts], "s--", label="PyTorch CPU")
        ax.set_xlabel(label)
        ax.set_ylabel("ms")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle("How cost grows (lower is faster)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--plot", metavar="FILE", help="write the curves as one PNG")
    args = ap.parse_args()
    result = run(args.quick)
    print_table("how cost grows", result)
    if args.plot:
        plot(result, args.plot)
        print(f"\nwrote {args.plot}")
