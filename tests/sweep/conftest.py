"""Shared pieces of the sweep tests: small sweeps and a timing-free view of results."""

from __future__ import annotations

from typing import Any

import pytest

from descentlab.sweep.spec import SweepSpec

TIME_KEYS = ("time", "elapsed")


def numbers(row: dict[str, Any]) -> tuple:
    """A trial's result without wall-clock values: equal runs give equal tuples."""
    metrics = [{k: v for k, v in m.items() if k not in TIME_KEYS} for m in row["metrics"]]
    final = {k: v for k, v in row["final"].items() if k not in TIME_KEYS}
    return row["hash"], row["status"], row["objective"], repr(metrics), repr(final)


@pytest.fixture
def small_spec() -> SweepSpec:
    """8 short trials on spiral: 2 optimizers × 2 learning rates × 2 seeds."""
    return SweepSpec("train", {"dataset": "spiral", "epochs": 3, "hidden": [8]},
                     {"optimizer": ["sgd", "adam"], "lr": [1e-2, 1e-1], "seed": [0, 1]})
