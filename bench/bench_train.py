"""Full training steps side by side with PyTorch CPU: forward, cross-entropy, backward, Adam step.

Both sides use their nn modules and optim.Adam with the same initial weights.
Run: python bench/bench_train.py [--quick] [--profile]

``--profile`` prints where one step's time goes instead: each op's forward and backward (the
fastest of many steps) and the rate of every matrix product the MLP step makes, against the
machine's 512² sgemm rate.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_engine import matmul_gflops, mlp_flops  # noqa: E402
from common import median_time, paired_median_times, print_table  # noqa: E402

import descentlab as dl  # noqa: E402


def _mlp(lib, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(lib.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def _convnet(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10),
    )


def _bn_convnet(lib):
    """A padded conv net with BatchNorm, closer to what people train than ``_convnet``."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def _pair_of_steps(make, x_shape, n_classes, seed=0):
    """A training-step closure for each library, from the same initial weights and batch."""
    import torch

    torch.manual_seed(seed)
    t_model = make(torch)
    d_model = make(dl)
    d_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    y = rng.integers(0, n_classes, x_shape[0])
    steps = []
    for lib, model in ((dl, d_model), (torch, t_model)):
        xb, yb = lib.tensor(x), lib.tensor(y)
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = lib.nn.CrossEntropyLoss()

        def step(model=model, xb=xb, yb=yb, opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

        steps.append(step)
    return steps


def run(quick: bool = False) -> list[dict]:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    repeats = 5 if quick else 11
    cases = [
        ("train step MLP 784-512-512-10, batch 128", lambda lib: _mlp(lib, [784, 512, 512, 10]),
         (128, 784), 10, ([784, 512, 512, 10], 128)),
        ("train step MLP 2-16-16-2, batch 32", lambda lib: _mlp(lib, [2, 16, 16, 2]),
         (32, 2), 2, None),
        ("train step conv net 1x28x28, batch 64", _convnet, (64, 1, 28, 28), 10, None),
        ("train step BN conv net 16/32 ch, batch 64", _bn_convnet,
         (64, 1, 28, 28), 10, None),
    ]
    rows = []
    for name, make, x_shape, n_classes, flops_spec in cases:
        ours, theirs = _pair_of_steps(make, x_shape, n_classes)
        # BLAS-heavy steps: long batches so neither library's spinning threads bill the other.
        target = 0.05 if flops_spec is None and x_shape[0] <= 32 else 0.6
        t_ours, t_torch = paired_median_times(ours, theirs, repeats=repeats, target_s=target)
        row = {"name": name, "descentlab_ms": t_ours * 1e3, "torch_ms": t_torch * 1e3,
               "ratio": t_ours / t_torch, "note": ""}
        if flops_spec is not None:
            f = mlp_flops(*flops_spec)
            row["descentlab_gflops"] = f / t_ours / 1e9
            row["torch_gflops"] = f / t_torch / 1e9
            row["note"] = (f"{row['descentlab_gflops']:.0f} vs {row['torch_gflops']:.0f} GFLOP/s "
                           f"(matmuls only)")
        rows.append(row)
    gf = matmul_gflops()
    rows.append({"name": "NumPy float32 matmul 512x512 (peak ref.)",
                 "descentlab_ms": 2 * 512**3 / gf / 1e9 * 1e3, "torch_ms": None, "ratio": None,
                 "note": f"{gf:.0f} GFLOP/s", "numpy_gflops": gf})
    return rows


@contextlib.contextmanager
def _op_timers(totals: dict):
    """Time every op's forward and backward while inside; adds each step's seconds per
    (op, phase) to ``totals[(op, phase)]`` as a list (one entry per call)."""
    from descentlab.autograd import ops
    from descentlab.autograd.graph import Op
    from descentlab.autograd.ops import conv, nn, pool, windows

    classes = {v for m in (ops, conv, nn, pool, windows) for v in vars(m).values()
               if isinstance(v, type) and issubclass(v, Op) and v is not Op}
    originals = []
    for cls in classes:
        for phase in ("forward", "backward"):
            if phase not in vars(cls):
                continue
            raw = vars(cls)[phase]
            fn = getattr(cls, phase)

            def timed(*args, _fn=fn, _key=(cls.__name__, phase), **kwargs):
                t0 = time.perf_counter()
                try:
                    return _fn(*args, **kwargs)
                finally:
                    totals.setdefault(_key, []).append(time.perf_counter() - t0)

            originals.append((cls, phase, raw))
            setattr(cls, phase, staticmethod(timed))
    try:
        yield
    finally:
        for cls, phase, raw in originals:
            setattr(cls, phase, raw)


def profile(steps: int = 30) -> None:
    """Print, for the conv and MLP-784 steps, each op's time per step (minimum over ``steps``;
    a backward includes the ops it calls), then the MLP step's matrix products and their rates."""
    cases = [("conv net 1x28x28, batch 64", _convnet, (64, 1, 28, 28)),
             ("MLP 784-512-512-10, batch 128", lambda lib: _mlp(lib, [784, 512, 512, 10]),
              (128, 784))]
    for name, make, x_shape in cases:
        ours, _ = _pair_of_steps(make, x_shape, 10)
        for _ in range(3):
            ours()
        per_step: dict = {}
        best = float("inf")
        for _ in range(steps):
            calls: dict = {}
            t0 = time.perf_counter()
            with _op_timers(calls):
                ours()
            best = min(best, time.perf_counter() - t0)
            for key, times in calls.items():
                per_step.setdefault(key, []).append(sum(times))
        print(f"\n{name}: fastest step {best * 1e3:.2f} ms (timers on)")
        for (op, phase), times in sorted(per_step.items(), key=lambda kv: -min(kv[1])):
            print(f"  {op + '.' + phase:28s} {min(times) * 1e3:8.3f} ms")
    peak = matmul_gflops()
    rng = np.random.default_rng(0)
    f32 = np.float32
    x, h = rng.standard_normal((128, 784), f32), rng.standard_normal((128, 512), f32)
    w1, w2 = rng.standard_normal((512, 784), f32), rng.standard_normal((512, 512), f32)
    w3, g3 = rng.standard_normal((10, 512), f32), rng.standard_normal((128, 10), f32)
    # The products the Linear op makes in one step: y = x·Wᵀ, ∂x = g·W, ∂W = gᵀ·x.
    products = [("x·W1ᵀ (128,784)(784,512)", lambda: x.dot(w1.T), 128 * 784 * 512),
                ("h·W2ᵀ (128,512)(512,512)", lambda: h.dot(w2.T), 128 * 512 * 512),
                ("h·W3ᵀ (128,512)(512,10)", lambda: h.dot(w3.T), 128 * 512 * 10),
                ("g·W3 (128,10)(10,512)", lambda: g3.dot(w3), 128 * 512 * 10),
                ("gᵀ·h (10,128)(128,512)", lambda: g3.T.dot(h), 128 * 512 * 10),
                ("g·W2 (128,512)(512,512)", lambda: h.dot(w2), 128 * 512 * 512),
                ("gᵀ·h (512,128)(128,512)", lambda: h.T.dot(h), 128 * 512 * 512),
                ("gᵀ·x (512,128)(128,784)", lambda: h.T.dot(x), 128 * 512 * 784)]
    print(f"\nMLP step's matrix products (float32; 512² sgemm here: {peak:.0f} GFLOP/s)")
    for label, fn, macs in products:
        t = median_time(fn, repeats=9)
        rate = 2 * macs / t / 1e9
        print(f"  {label:28s} {t * 1e3:7.3f} ms {rate:6.0f} GFLOP/s {rate / peak:5.0%}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--profile", action="store_true", help="where one step's time goes")
    args = ap.parse_args()
    if args.profile:
        profile()
    else:
        print_table("training step", run(args.quick))
