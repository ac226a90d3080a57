"""Optimizer step time, side by side with torch.optim (default, foreach and fused), in one process.

Adam and SGD with momentum on (i) one 10M-element float32 parameter and (ii) 1000 parameters of
1000 elements; gradients are set once and ``step()`` is timed (median over repeats, after warm-up),
ours alternating with torch's default and, separately, with torch's fused step, so that a busy
machine slows both sides of each ratio alike. The note gives each step's memory throughput: the
bytes a step must move at least (every array read once, the updated ones written once), over its
time.
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
from descentlab.optim.engine import ONEPASS_MIN  # noqa: E402

CASES = {"one 10M param": [10_000_000], "1000 params x 1000": [1000] * 1000}
OPTS = {"Adam": dict(lr=1e-3), "SGD momentum": dict(lr=1e-3, momentum=0.9)}
# Arrays a step reads or writes once at least: Adam reads w, g, m, v and writes w, m, v; SGD with
# momentum reads w, g, b and writes w, b. (The non-finite check's read of g is not counted.)
TRAFFIC = {"Adam": 7, "SGD momentum": 5}


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
            # Ours against torch's default, then against torch's fused step, each in alternating
            # batches (drifts hit both alike).
            fused = getattr(torch.optim, cls)(_params(sizes, "torch"), **kw, fused=True)
            t_mine, t_ref = paired_median_times(mine.step, ref.step, repeats=repeats,
                                                target_s=0.1)
            t_mine_f, t_fused = paired_median_times(mine.step, fused.step, repeats=repeats,
                                                    target_s=0.1)
            foreach = getattr(torch.optim, cls)(_params(sizes, "torch"), **kw, foreach=True)
            t_foreach = median_time(foreach.step, repeats=repeats)
            dl_ms, fused_ms = t_mine * 1e3, t_fused * 1e3
            gb = TRAFFIC[oname] * sum(sizes) * 4 / 1e9  # float32
            rows.append({
                "name": f"{oname}: {cname}", "descentlab_ms": dl_ms,
                "torch_ms": t_ref * 1e3, "ratio": t_mine / t_ref,
                "torch_foreach_ms": t_foreach * 1e3, "torch_fused_ms": fused_ms,
                "ratio_fused": t_mine_f / t_fused,
                "descentlab_gbps": gb / t_mine, "torch_gbps": gb / t_ref,
                "torch_fused_gbps": gb / t_fused,
                "note": (f"foreach {t_foreach * 1e3:.2f} ms, fused {fused_ms:.2f} ms"
                         f" (x{t_mine_f / t_fused:.2f} of fused, paired); GB/s ours "
                         f"{gb / t_mine:.1f}/{gb / t_mine_f:.1f}, default {gb / t_ref:.1f}, "
                         f"fused {gb / t_fused:.1f}"
                         + (", one-pass kernel" if max(sizes) >= ONEPASS_MIN
                            and _onepass.kernel(cls.lower()) else "")),
            })
    return rows


if __name__ == "__main__":
    print_table("optim: step time (ratio = descentlab / torch default)",
                run("--quick" in sys.argv))
