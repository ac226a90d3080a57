"""Lab speed: K Adam trajectories on Rosenbrock at once, against torch.optim.Adam on a (K, 2)
tensor, against a hand-written NumPy loop (the floor for NumPy) and against a per-start Python
loop of descentlab.optim.Adam.

The gradient comes three ways: the landscape's hand-written NumPy gradient, a typed formula
(compiled to NumPy with its derivative), and the built-in Tensor expression through the engine's
autograd. Ratios are descentlab time / torch time (below 1 means descentlab is faster).
Run: python bench/bench_lab.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import print_table  # noqa: E402

import descentlab as dl  # noqa: E402
from descentlab.lab.formula import parse_function  # noqa: E402
from descentlab.lab.functions import get_function  # noqa: E402
from descentlab.lab.trajectories import run_trajectories  # noqa: E402

LR = 1e-2
ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def _starts(k: int) -> np.ndarray:
    return np.random.default_rng(0).uniform([-2.0, -1.0], [2.0, 3.0], size=(k, 2))


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def torch_adam_loop(starts: np.ndarray, steps: int):
    """A callable running torch.optim.Adam for ``steps`` steps on Rosenbrock over a (K, 2) tensor
    of ``starts`` (the reference for the lab's batched runs)."""
    import torch

    x = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=LR)

    def loop() -> None:
        for _ in range(steps):
            opt.zero_grad()
            a, b = x[:, 0], x[:, 1]
            ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum().backward()
            opt.step()

    return loop


def _torch_adam(starts: np.ndarray, steps: int) -> float:
    import torch

    # NumPy's element-wise ops run on one core; torch's OpenMP pool on a busy 2-core machine can
    # spin-wait itself 40x slower, so compare against one thread (its best case here).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _seconds(torch_adam_loop(starts, steps))
    finally:
        torch.set_num_threads(threads)


def numpy_adam_floor(starts: np.ndarray, steps: int) -> np.ndarray:
    """Adam on Rosenbrock written by hand in NumPy: the (2, K) state, every update in place
    into preallocated arrays, the gradient in one pass (what the lab's runner should approach)."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    x = np.ascontiguousarray(starts.T)
    g, m, v, tmp = (np.zeros_like(x) for _ in range(4))
    r, s = np.empty(x.shape[1]), np.empty(x.shape[1])
    a, b = x[0], x[1]
    for t in range(1, steps + 1):
        np.multiply(a, a, out=r)
        np.subtract(b, r, out=r)                    # r = y − x²
        np.multiply(r, 200.0, out=g[1])             # ∂f/∂y = 200·r
        np.multiply(a, r, out=s)
        s *= -400.0
        np.subtract(a, 1.0, out=g[0])
        g[0] *= 2.0
        g[0] += s                                   # ∂f/∂x = 2(x − 1) − 400·x·r
        m *= beta1
        np.multiply(g, 1 - beta1, out=tmp)
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= (1 - beta2 ** t) ** 0.5
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= -LR / (1 - beta1 ** t)
        x += tmp
    return x.T


def _per_start_loop(starts: np.ndarray, steps: int) -> float:
    f = get_function("rosenbrock")

    def loop() -> None:
        for s in starts:
            x = dl.tensor(s, dtype=dl.float64, requires_grad=True)
            opt = dl.optim.Adam([x], lr=LR)
            for _ in range(steps):
                opt.zero_grad()
                f(x).backward()
                opt.step()

    return _seconds(loop)


def run(quick: bool) -> list[dict]:
    """Rows (name, descentlab_ms, torch_ms, ratio, note) for bench/run.py."""
    k, steps = (10_000, 100) if quick else (100_000, 500)
    loop_k, loop_steps = (5, 100) if quick else (20, 500)
    f = get_function("rosenbrock")
    starts = _starts(k)
    rows = []
    torch_s = _torch_adam(starts, steps)
    floor_s = _seconds(lambda: numpy_adam_floor(starts, steps))
    for label, landscape, analytic in (("analytic grad", f, True),
                                       ("typed formula (compiled grad)",
                                        parse_function(ROSENBROCK), False),
                                       ("engine autograd", f, False)):
        ours = _seconds(lambda fn=landscape, a=analytic: run_trajectories(
            fn, starts, "adam", steps, lr=LR, record_every=steps, use_analytic_grad=a))
        rows.append({"name": f"{k} starts x {steps} Adam steps, {label}",
                     "descentlab_ms": ours * 1e3, "torch_ms": torch_s * 1e3,
                     "ratio": ours / torch_s,
                     "note": f"vs torch.optim.Adam on a (K,2) tensor, 1 thread; "
                             f"{ours / floor_s:.2f}x the NumPy floor"})
    rows.append({"name": f"hand-written NumPy Adam, {k} x {steps}",
                 "descentlab_ms": floor_s * 1e3, "torch_ms": torch_s * 1e3,
                 "ratio": floor_s / torch_s,
                 "note": "the floor: (2, K) state, updates in place, no runner"})
    per_start = _per_start_loop(_starts(loop_k), loop_steps) / (loop_k * loop_steps) * k * steps
    batched = rows[0]["descentlab_ms"] / 1e3
    rows.append({"name": f"per-start loop of optim.Adam, {k} x {steps}",
                 "descentlab_ms": per_start * 1e3, "torch_ms": None, "ratio": None,
                 "note": f"extrapolated from {loop_k} starts; batched is "
                         f"{per_start / batched:.0f}x faster"})
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print_table("lab", run(ap.parse_args().quick))
