"""Run every side-by-side benchmark and print one table per area (ratios = descentlab / torch).

Usage: python bench/run.py [--quick] [--json FILE] [--only engine,train,optim,lab,rnn,scaling]
                           [--plot FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import print_table  # noqa: E402

AREAS = {"engine": "bench_engine", "train": "bench_train", "optim": "bench_optim",
         "lab": "bench_lab", "rnn": "bench_rnn", "scaling": "bench_scaling"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a rough look)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers to FILE as JSON")
    ap.add_argument("--only", default=",".join(AREAS), help="comma-separated areas to run")
    ap.add_argument("--plot", metavar="FILE",
                    help="with the scaling area: write its curves (time vs batch, width, starts) "
                         "as one PNG")
    args = ap.parse_args(argv)
    wanted = [a.strip() for a in args.only.split(",") if a.strip()]
    unknown = [a for a in wanted if a not in AREAS]
    if unknown:
        ap.error(f"unknown area(s) {unknown}; choose from {sorted(AREAS)}")
    try:
        import torch
    except ImportError:
        print("bench: PyTorch is needed as the reference; pip install torch==2.13.0",
              file=sys.stderr)
        return 2
    import numpy as np

    results = {
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "torch": torch.__version__, "cpus": os.cpu_count()},
        "areas": {},
    }
    for area in wanted:
        mod = importlib.import_module(AREAS[area])
        rows = mod.run(args.quick)
        results["areas"][area] = rows
        print_table(area, rows)
        if area == "scaling" and args.plot:
            mod.plot(rows, args.plot)
            print(f"\nwrote {args.plot}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
