"""Trial specifications: what one trial runs, its stable hash, and grid / random expansion.

A trial is a ``kind`` (``"train"``: an MLP on a built-in dataset through ``descentlab.train``;
``"function"``: optimizer trajectories on a lab landscape through ``descentlab.lab``) and a flat,
JSON-ready dict of parameters (seed included). Its hash is the SHA-256 of that canonical JSON, so
the same trial always lands in the same store row, whichever process or machine asks.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["AXES", "FUNCTION_DEFAULTS", "SweepSpec", "TRAIN_DEFAULTS", "Trial", "applicable",
           "describe", "function_optimizers", "parse_lr_grid", "train_optimizers"]

#: Options a sweep may vary (each a list of values), in the order grids are expanded.
AXES: tuple[str, ...] = ("optimizer", "lr", "momentum", "betas", "weight_decay", "batch_size",
                         "scheduler", "activation", "init", "model", "hidden", "seed")

#: Every parameter of a ``train`` trial and its default.
TRAIN_DEFAULTS: dict[str, Any] = {
    "dataset": "spiral", "model": "mlp", "hidden": [16, 16], "activation": "relu",
    "init": "default", "optimizer": "adam",
    "lr": 1e-3, "momentum": None, "betas": None, "weight_decay": None, "batch_size": 32,
    "epochs": 20, "scheduler": "none", "clip": None, "val_split": 0.2, "seed": 0,
}

#: Every parameter of a ``function`` (trajectory) trial and its default.
FUNCTION_DEFAULTS: dict[str, Any] = {
    "function": "rosenbrock", "optimizer": "adam", "lr": 1e-3, "momentum": None, "betas": None,
    "weight_decay": None, "steps": 500, "starts": 16, "seed": 0,
}


def train_optimizers() -> list[str]:
    """Optimizer names a ``train`` trial accepts (``descentlab.train.OPTIMIZERS``)."""
    from ..train.builders import OPTIMIZERS

    return list(OPTIMIZERS)


def function_optimizers() -> list[str]:
    """Optimizer names a ``function`` trial accepts: the lab's first-order rules, Newton, BFGS."""
    from ..lab.trajectories import OPTIMIZERS, SECOND_ORDER

    return list(OPTIMIZERS) + list(SECOND_ORDER)


def _canonical(value: Any) -> Any:
    """JSON-stable form: tuples → lists, NumPy scalars → Python, floats kept exact."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class Trial:
    """One run of a sweep.

    Attributes:
        kind: ``"train"`` or ``"function"``.
        params: every parameter of the run (see :data:`TRAIN_DEFAULTS`, :data:`FUNCTION_DEFAULTS`).
    """

    kind: str
    params: dict[str, Any] = field(hash=False)

    @property
    def config_json(self) -> str:
        """The canonical JSON of kind + params (sorted keys, no spaces)."""
        return json.dumps({"kind": self.kind, **_canonical(self.params)}, sort_keys=True,
                          separators=(",", ":"), allow_nan=False)

    @property
    def hash(self) -> str:
        """SHA-256 of :attr:`config_json`, 16 hex digits: the trial's identity in a store."""
        return hashlib.sha256(self.config_json.encode()).hexdigest()[:16]

    @property
    def seed(self) -> int:
        return int(self.params["seed"])

    @property
    def group_key(self) -> str:
        """The config without its seed: trials that differ only by seed share it."""
        rest = {k: v for k, v in self.params.items() if k != "seed"}
        return json.dumps({"kind": self.kind, **_canonical(rest)}, sort_keys=True,
                          separators=(",", ":"))


def parse_lr_grid(text: str) -> list[float]:
    """Learning rates from ``"1e-3,1e-2"`` (a list) or ``"1e-4:1:13"`` (13 log-spaced points from
    1e-4 to 1, ends included: lrᵢ = lo·(hi/lo)^(i/(n−1))).

    Raises:
        ValueError: an empty grid, a value ≤ 0 or non-finite, or a malformed range.
    """
    text = text.strip()
    if not text:
        raise ValueError("the learning-rate grid is empty; give e.g. 1e-3,1e-2 or 1e-4:1:13")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"malformed lr range {text!r}; write LOW:HIGH:COUNT, e.g. 1e-4:1:13")
        lo, hi = (_positive_lr(p) for p in parts[:2])
        try:
            n = int(parts[2])
        except ValueError:
            raise ValueError(f"lr range {text!r}: COUNT {parts[2]!r} is not an integer") from None
        if n < 1:
            raise ValueError(f"lr range {text!r} has {n} points: the grid is empty; use a COUNT "
                             ">= 1, e.g. 1e-4:1:13")
        if n == 1:
            return [lo]
        if hi <= lo:
            raise ValueError(f"lr range {text!r}: HIGH must exceed LOW")
        return [float(v) for v in np.geomspace(lo, hi, n)]
    values = [_positive_lr(p) for p in text.split(",") if p.strip()]
    if not values:
        raise ValueError("the learning-rate grid is empty; give e.g. 1e-3,1e-2 or 1e-4:1:13")
    return values


def _positive_lr(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"learning rate {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"learning rate {text.strip()} must be a finite number > 0, e.g. 1e-3")
    return value


@dataclass
class SweepSpec:
    """A sweep: a task, fixed options, and the axes to vary.

    Attributes:
        kind: ``"train"`` or ``"function"``.
        base: fixed parameters (dataset or function, epochs or steps, ...); missing ones take
            :data:`TRAIN_DEFAULTS` / :data:`FUNCTION_DEFAULTS`.
        axes: option name (from :data:`AXES`) → the values to try.
        search: ``"grid"`` (every combination), ``"random"`` (``samples`` random combinations;
            a ``lr`` axis given as ``(low, high)`` with ``lr_range=True`` is then drawn
            log-uniformly) or ``"optuna"`` (TPE proposals, see ``optuna_search``; it has no
            fixed trial list, so :meth:`trials` refuses it).
        samples: number of random configurations (each run once per seed).
        lr_range: with random search, treat ``axes["lr"]`` as a (low, high) range.
        search_seed: seeds the random search.
    """

    kind: str
    base: dict[str, Any]
    axes: dict[str, list[Any]]
    search: str = "grid"
    samples: int = 0
    lr_range: bool = False
    search_seed: int = 0

    def defaults(self) -> dict[str, Any]:
        return dict(TRAIN_DEFAULTS if self.kind == "train" else FUNCTION_DEFAULTS)

    def validate(self) -> None:
        """Check names and values before anything runs.

        Raises:
            ValueError: unknown kind, axis, optimizer or task; an empty axis; a bad lr.
        """
        if self.kind not in ("train", "function"):
            raise ValueError(f"unknown trial kind {self.kind!r}; use 'train' or 'function'")
        unknown = sorted(set(self.axes) - set(AXES))
        if unknown:
            raise ValueError(f"cannot sweep over {', '.join(unknown)}; sweepable: "
                             f"{', '.join(AXES)}")
        for name, values in self.axes.items():
            if len(values) == 0:
                raise ValueError(f"the {name} grid is empty; give at least one value")
        valid = train_optimizers() if self.kind == "train" else function_optimizers()
        bad = [o for o in self.axes.get("optimizer", []) if o not in valid]
        if bad:
            raise ValueError(f"unknown optimizer {', '.join(map(repr, bad))} for a {self.kind} "
                             f"sweep; choose from {', '.join(valid)}")
        for lr in self.axes.get("lr", []):
            if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
                raise ValueError(f"learning rate {lr!r} must be a finite number > 0, e.g. 1e-3")
        if self.search not in ("grid", "random", "optuna"):
            raise ValueError(f"unknown search {self.search!r}; use grid, random or optuna")
        if self.search != "grid" and self.samples < 1:
            raise ValueError(f"a {self.search} search needs --samples >= 1 (the sweep would be "
                             "empty)")
        if self.search == "optuna" and len(self.axes.get("seed", [0])) > 1:
            raise ValueError("an Optuna search runs one seed per proposed config; use --seeds 1 "
                             "(re-run the best configs with more seeds as a grid)")
        if self.kind == "train":
            from ..data import list_datasets
            from .trial import INITS, MODELS

            for key, valid in (("init", INITS), ("model", MODELS)):
                values = self.axes.get(key, [self.base.get(key, TRAIN_DEFAULTS[key])])
                bad = [v for v in values if v not in valid]
                if bad:
                    raise ValueError(f"unknown {key} {', '.join(map(repr, bad))}; choose from "
                                     f"{', '.join(valid)}")

            dataset = self.base.get("dataset", TRAIN_DEFAULTS["dataset"])
            if dataset not in list_datasets():
                raise ValueError(f"unknown dataset {dataset!r}; choose from "
                                 f"{', '.join(list_datasets())}")
        else:
            from ..lab.functions import function_names

            name = self.base.get("function", FUNCTION_DEFAULTS["function"])
            if name not in function_names():
                raise ValueError(f"unknown function {name!r}; choose from "
                                 f"{', '.join(function_names())}")

    def trials(self) -> list[Trial]:
        """Every trial of the sweep, deduplicated, in a fixed order (grid order, then seed).

        Options that do not apply to an optimizer are dropped for it (momentum for Adam, betas
        for SGD), so the grid holds no duplicate runs under different names.
        """
        self.validate()
        if self.search == "optuna":
            raise ValueError("an Optuna search proposes its trials as it runs; use run_sweep")
        base = {**self.defaults(), **self.base}
        axes = {k: list(self.axes[k]) for k in AXES if k in self.axes}
        seeds = axes.pop("seed", [base["seed"]])
        combos: list[dict[str, Any]]
        if self.search == "grid":
            names = list(axes)
            combos = [dict(zip(names, values)) for values in itertools.product(*axes.values())]
        else:
            rng = np.random.default_rng(self.search_seed)
            combos = []
            for _ in range(self.samples):
                combo = {}
                for name, values in axes.items():
                    if name == "lr" and self.lr_range:
                        lo, hi = float(min(values)), float(max(values))
                        combo[name] = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
                    else:
                        combo[name] = values[int(rng.integers(len(values)))]
                combos.append(combo)
        seen: set[str] = set()
        out = []
        for combo in combos:
            for seed in seeds:
                params = applicable(self.kind, {**base, **combo, "seed": int(seed)})
                trial = Trial(self.kind, params)
                if trial.hash not in seen:
                    seen.add(trial.hash)
                    out.append(trial)
        return out


def applicable(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` with the hyperparameters its optimizer has no use for set to
    ``None`` (momentum for Adam, betas for SGD, the batch size of a full-batch method such as
    lbfgs), so one run never hides under two hashes."""
    params = dict(params)
    name = params["optimizer"]
    if kind == "train":
        from ..train.builders import OPTIMIZERS

        spec = OPTIMIZERS[name]
        if not spec.momentum:
            params["momentum"] = None
        if not spec.weight_decay:
            params["weight_decay"] = None
        if spec.closure:  # full batch, as ``descentlab train`` runs it
            params["batch_size"] = None
        takes_betas = OPTIMIZERS[name].cls in ("Adam", "AdamW", "Adamax", "NAdam", "RAdam",
                                               "Lion")
        if "hidden" in params and params["hidden"] is not None:
            params["hidden"] = [int(h) for h in params["hidden"]]
    else:
        from ..lab.trajectories import OPTIMIZERS

        rule = OPTIMIZERS[name][0] if name in OPTIMIZERS else None
        if rule not in ("sgd", "rmsprop"):
            params["momentum"] = None
        takes_betas = rule in ("adam", "adamax", "nadam", "radam", "lion")
        if rule is None:
            params["weight_decay"] = None
    if not takes_betas:
        params["betas"] = None
    elif params.get("betas") is not None:
        params["betas"] = [float(b) for b in params["betas"]]
    return params


def describe(params: Mapping[str, Any], keys: Sequence[str] = AXES) -> str:
    """A short ``optimizer lr=0.01 momentum=0.9`` label of a trial's swept options."""
    parts = [str(params.get("optimizer", ""))]
    for k in keys:
        if k in ("optimizer", "seed"):
            continue
        v = params.get(k)
        if v is None:
            continue
        if isinstance(v, float):
            v = f"{v:.3g}"
        elif isinstance(v, list):
            v = ",".join(str(x) for x in v)
        parts.append(f"{k}={v}")
    return " ".join(parts)
