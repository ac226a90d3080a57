"""Sweeps and the optimizer benchmark: many independent trials of the training loop or the lab,
on a local process pool or a Ray cluster, stored in SQLite, resumable, and reported.

``SweepSpec`` expands a grid (or random search) into ``Trial``\\ s; ``run_sweep`` runs the
unfinished ones on a backend and records each result in a ``Store``; ``report`` turns the rows
into best-config tables, loss-vs-lr curves and learning curves; ``bench`` is
``descentlab bench-optimizers``. Ray is optional (``pip install "descentlab[scale]"``).
"""

from .runner import SweepResult, run_sweep
from .spec import SweepSpec, Trial, parse_lr_grid
from .store import SCHEMA_VERSION, Store, StoreError
from .trial import run_trial

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "SweepResult", "SweepSpec", "Trial",
           "parse_lr_grid", "run_sweep", "run_trial"]
