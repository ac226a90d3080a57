"""Full training steps side by side with PyTorch CPU: forward, cross-entropy, backward, Adam step.

Both sides use their nn modules and optim.Adam with the same initial weights.
Run: python bench/bench_train.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_engine import matmul_gflops, mlp_flops  # noqa: E402
from common import paired_median_times, print_table  # noqa: E402

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


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print_table("training step", run(args.quick))
