"""Engine speed side by side with PyTorch CPU: per-op overhead (also as recorded ops per second)
and MLP forward+backward.

Ratios are descentlab time / torch time (below 1 means descentlab is faster).
Run: python bench/bench_engine.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import median_time, paired_median_times, print_table  # noqa: E402

import descentlab as dl  # noqa: E402


def _mlp_case(lib, sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        params += [lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)]
    x = lib.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = lib.tensor(rng.integers(0, sizes[-1], batch))

    linear = lib.nn.functional.linear  # what nn.Linear runs, in both libraries
    cross_entropy = lib.nn.functional.cross_entropy

    def forward():
        h = x
        for i in range(0, len(params), 2):
            h = linear(h, params[i], params[i + 1])
            if i + 2 < len(params):
                h = h.relu()
        return cross_entropy(h, y)

    def step():
        loss = forward()
        for p in params:
            p.grad = None
        loss.backward()

    step.forward = forward
    return step


def _chain_case(lib, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((32, 16)).astype(np.float32))
    w = lib.tensor(rng.standard_normal((32, 16)).astype(np.float32), requires_grad=True)
    c = lib.tensor(rng.standard_normal((32, 16)).astype(np.float32), requires_grad=True)

    def forward():
        return (x * w + c).tanh().sum()

    def step():
        w.grad = None
        c.grad = None
        forward().backward()

    step.forward = forward
    return step


def graph_ops(loss) -> int:
    """The operations recorded for ``loss``: the nodes reachable from its ``grad_fn``, leaves'
    AccumulateGrad nodes not counted (the same walk works on torch and descentlab graphs)."""
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(nxt for nxt, _ in node.next_functions)
    return sum(type(n).__name__ != "AccumulateGrad" for n in seen)


def _numpy_chain():
    rng = np.random.default_rng(0)
    x, w, c = (rng.standard_normal((32, 16)).astype(np.float32) for _ in range(3))

    def step():
        y = np.tanh(x * w + c)
        g = 1.0 - y * y
        return g * x, g

    return step


def matmul_gflops(n: int = 512, repeats: int = 7) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    t = median_time(lambda: a @ b, repeats=repeats)
    return 2 * n**3 / t / 1e9


def mlp_flops(sizes, batch) -> float:
    """Forward + backward matmul FLOPs: 2·B·in·out forward, twice that backward, per layer."""
    return sum(6 * batch * i * o for i, o in zip(sizes[:-1], sizes[1:]))


def run(quick: bool = False) -> list[dict]:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    repeats = 5 if quick else 11
    rows = []
    cases = [
        ("tanh(x*w+c).sum().backward() (32,16)", _chain_case(dl), _chain_case(torch), None),
        ("MLP 2-16-16-2 fwd+bwd, batch 32", _mlp_case(dl, [2, 16, 16, 2], 32),
         _mlp_case(torch, [2, 16, 16, 2], 32), None),
        ("MLP 784-512-512-10 fwd+bwd, batch 128 (f32)", _mlp_case(dl, [784, 512, 512, 10], 128),
         _mlp_case(torch, [784, 512, 512, 10], 128), ([784, 512, 512, 10], 128)),
    ]
    for name, ours, theirs, flops_spec in cases:
        # BLAS-heavy cases run multi-threaded in both libraries, and each library's idle threads
        # spin-wait for a while after its calls: long batches keep that from billing the other.
        target = 0.05 if flops_spec is None else 0.6
        t_ours, t_torch = paired_median_times(ours, theirs, repeats=repeats, target_s=target)
        note = ""
        row = {"name": name, "descentlab_ms": t_ours * 1e3, "torch_ms": t_torch * 1e3,
               "ratio": t_ours / t_torch}
        if flops_spec is None:
            # Per-op overhead as a rate: the ops each library records for this program, forward
            # and backward of each, per second of a step (a step runs every op twice).
            n_ours, n_torch = graph_ops(ours.forward()), graph_ops(theirs.forward())
            row["descentlab_ops_per_s"] = n_ours / t_ours
            row["torch_ops_per_s"] = n_torch / t_torch
            note = (f"{n_ours} ops: {n_ours / t_ours / 1e3:.0f}k ops/s (torch {n_torch} ops: "
                    f"{n_torch / t_torch / 1e3:.0f}k ops/s), each forward and backward")
        else:
            f = mlp_flops(*flops_spec)
            row["descentlab_gflops"] = f / t_ours / 1e9
            row["torch_gflops"] = f / t_torch / 1e9
            note = f"{row['descentlab_gflops']:.0f} vs {row['torch_gflops']:.0f} GFLOP/s"
        row["note"] = note
        rows.append(row)
    t_np = median_time(_numpy_chain(), repeats=repeats)
    rows.append({"name": "same chain in plain NumPy (reference)", "descentlab_ms": t_np * 1e3,
                 "torch_ms": None, "ratio": None, "note": "no autograd"})
    gf = matmul_gflops()
    rows.append({"name": "NumPy float32 matmul 512x512 (peak ref.)", "descentlab_ms": 2 * 512**3
                 / gf / 1e9 * 1e3, "torch_ms": None, "ratio": None, "note": f"{gf:.0f} GFLOP/s",
                 "numpy_gflops": gf})
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print_table("engine", run(args.quick))
