"""Optimizer step time, side by side with torch.optim (default, foreach and fused), in one process.

Adam and SGD with momentum on (i) one 10M-element float32 parameter and (ii) 1000 parameters of
1000 elements; gradients are set once and ``step()`` is timed (median over repeats, after warm-up).
Usage: python bench/bench_optim.py [--quick]
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import median_time, paired_median_times, print_table  # noqa: E402

import descentlab as dl  # noqa: E402
from descentlab import optim  # noqa: E402
from descentlab.optim import _onepass  # noqa: E402
from descentlab.optim.engine import PARALLEL_MIN  # noqa: E402

CASES = {"one 10M param": [10_000_000], "1000 params x 1000": [1000] * 1000}
OPTS = {"Adam": dict(lr=1e-3), "SGD momentum": dict(lr=1e-3, momentum=0.9)}


def _params(sizes: list[int], lib: str) -> list:
    rng = np.random.default_rng(0)
    out = []
    for n in sizes:
        w, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
        if lib == "dl":
            p = dl.tensor(w, requires_grad=True)
            p.grad = dl.tensor(g)
        else:
            import torch

            p = torch.tensor(w, requires_grad=True)
            p.grad = torch.tensor(g)
        out.append(p)
    return out


def run(quick: bool) -> list[dict]:
    """One row per (optimizer, case): descentlab ms, torch default/foreach/fused ms, ratios."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    repeats = 5 if quick else 11
    rows = []
    for oname, kw in OPTS.items():
        for cname, sizes in CASES.items():
            cls = oname.split()[0]
            mine = getattr(optim, cls)(_params(sizes, "dl"), **kw)
            ref = getattr(torch.optim, cls)(_params(sizes, "torch"), **kw)
            # Ours against torch's default in alternating batches (drifts hit both alike).
            t_mine, t_ref = paired_median_times(mine.step, ref.step, repeats=repeats,
                                                target_s=0.1)
            dl_ms, torch_ms = t_mine * 1e3, {"default": t_ref * 1e3}
            for variant in ("foreach", "fused"):
                other = getattr(torch.optim, cls)(_params(sizes, "torch"), **kw, **{variant: True})
                torch_ms[variant] = median_time(other.step, repeats=repeats) * 1e3
            rows.append({
                "name": f"{oname}: {cname}", "descentlab_ms": dl_ms,
                "torch_ms": torch_ms["default"], "ratio": dl_ms / torch_ms["default"],
                "torch_foreach_ms": torch_ms["foreach"], "torch_fused_ms": torch_ms["fused"],
                "ratio_fused": dl_ms / torch_ms["fused"],
                "note": (f"foreach {torch_ms['foreach']:.2f} ms, fused {torch_ms['fused']:.2f} ms"
                         f" (x{dl_ms / torch_ms['fused']:.2f} of fused)"
                         + (", one-pass kernel" if max(sizes) >= PARALLEL_MIN
                            and _onepass.kernel(cls.lower()) else "")),
            })
    return rows


if __name__ == "__main__":
    print_table("optim: step time (ratio = descentlab / torch default)",
                run("--quick" in sys.argv))
