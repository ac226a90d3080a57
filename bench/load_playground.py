"""Load test of the playground server: concurrent clients racing optimizers and training.

Starts ``descentlab serve`` on a free loopback port in a subprocess, then runs ``--clients``
asyncio clients (httpx) for ``--seconds``: each client alternates a 4-optimizer × 500-step race
on Rosenbrock and a training frame (one epoch of its own spiral session, ``POST .../step``).
Prints the number of requests, errors, and p50/p95 latency of each kind.

    python bench/load_playground.py               # 20 clients, 30 s
    python bench/load_playground.py --clients 5 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

RACE = {"function": "rosenbrock", "start": [-1.5, 2.0], "steps": 500, "optimizers": [
    {"name": "gd", "lr": 1e-3}, {"name": "momentum", "lr": 1e-3}, {"name": "adam", "lr": 0.05},
    {"name": "newton"}]}
NET = {"dataset": "spiral", "features": ["x", "y", "sinx", "siny"], "hidden": [8, 8],
       "optimizer": "adam", "lr": 0.03}


async def client(base: str, until: float, stats: dict[str, list[float]],
                 errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        r = await http.post("/api/train", json=NET)
        if r.status_code != 200:
            errors.append(f"train start {r.status_code}")
            return
        key = r.json()["id"]
        while time.perf_counter() < until:
            for kind, call in (("race", lambda: http.post("/api/race", json=RACE)),
                               ("frame", lambda: http.post(f"/api/train/{key}/step",
                                                           json={"epochs": 1}))):
                t = time.perf_counter()
                try:
                    r = await call()
                    ok = r.status_code == 200
                except httpx.HTTPError as e:
                    ok, r = False, e
                if ok:
                    stats[kind].append(time.perf_counter() - t)
                else:
                    errors.append(f"{kind}: {r}")
        await http.delete(f"/api/train/{key}")


async def main_async(base: str, clients: int, seconds: float) -> tuple[dict, list, float]:
    stats: dict[str, list[float]] = {"race": [], "frame": []}
    errors: list[str] = []
    start = time.perf_counter()
    await asyncio.gather(*(client(base, start + seconds, stats, errors) for _ in range(clients)))
    return stats, errors, time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=20, choices=range(1, 101), metavar="1..100")
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args()
    if not 0 < args.seconds <= 300:
        p.error("--seconds must be in (0, 300]")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    server = subprocess.Popen([sys.executable, "-m", "descentlab", "serve", "--port", "0"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        base = server.stdout.readline().split()[3].rstrip("/")
        assert base.startswith("http://127.0.0.1:"), base
        for _ in range(200):
            try:
                httpx.get(base + "/api/meta", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        stats, errors, wall = asyncio.run(main_async(base, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"{args.clients} clients for {wall:.1f} s against {base} "
          f"({os.cpu_count()} CPUs): {sum(map(len, stats.values()))} requests, "
          f"{len(errors)} errors")
    for kind, label in (("race", "race 4 optimizers x 500 steps"),
                        ("frame", "training frame (1 epoch)")):
        v = np.array(stats[kind]) * 1e3
        if v.size:
            print(f"  {label:32s} n={v.size:5d}  p50 {np.percentile(v, 50):7.0f} ms  "
                  f"p95 {np.percentile(v, 95):7.0f} ms")
    for e in errors[:5]:
        print("  error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
