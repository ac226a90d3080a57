"""Recurrent layers side by side with PyTorch CPU: forward + backward of a small RNN, LSTM, GRU.

Ratios are descentlab time / torch time. The products here are small (batch 32, hidden 64), so
both libraries run single-threaded: torch via set_num_threads(1), NumPy's BLAS via the
environment (threads only add synchronisation at this size, and on a shared machine they make the
timings meaningless).
Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python bench/bench_rnn.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import paired_median_times, print_table  # noqa: E402

import descentlab as dl  # noqa: E402

SEQ, BATCH, IN, HIDDEN = 50, 32, 32, 64


def _case(lib, name, **kwargs):
    """One training step's worth of work: forward over the sequence, a scalar loss, backward."""
    lib.manual_seed(0)
    layer = getattr(lib.nn, name)(IN, HIDDEN, **kwargs)
    x = lib.tensor(np.random.default_rng(0).standard_normal((SEQ, BATCH, IN)).astype(np.float32))

    def step():
        for p in layer.parameters():
            p.grad = None
        out, _ = layer(x)
        out.sum().backward()

    return step


def run(quick: bool = False) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    repeats = 5 if quick else 11
    rows = []
    for name, kwargs in (("RNN", {}), ("LSTM", {}), ("GRU", {}),
                         ("LSTM", {"num_layers": 2, "bidirectional": True})):
        label = f"{name}({IN}, {HIDDEN}{''.join(f', {k}={v}' for k, v in kwargs.items())})"
        t_ours, t_torch = paired_median_times(_case(dl, name, **kwargs),
                                              _case(torch, name, **kwargs), repeats=repeats,
                                              target_s=0.2)
        rows.append({"name": f"{label} seq {SEQ} batch {BATCH}", "descentlab_ms": t_ours * 1e3,
                     "torch_ms": t_torch * 1e3, "ratio": t_ours / t_torch, "note": "fwd+bwd"})
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print_table("recurrent layers", run(args.quick))
