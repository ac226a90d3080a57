"""Request bodies of the playground's API, with the bounds every request must respect.

The bounds keep any one request small enough that a shared laptop stays responsive: steps ≤
10,000, grids ≤ 400², ≤ 8 optimizers per race, ≤ 6 hidden layers of ≤ 8 units, formulas of ≤ 500
characters. Anything outside them is rejected before the library is called.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..data.playground import FEATURES
from ..lab.formula import MAX_LENGTH
from ..lab.race import RACE_OPTIMIZERS
from ..lab.race import SCHEDULES as RACE_SCHEDULES
from ..train.playground import (
    HIDDEN_ACTIVATIONS,
    INITS,
    NETWORK_OPTIMIZERS,
    PLAYGROUND_DATASETS,
    REGULARIZATIONS,
    SCHEDULES,
)

MAX_STEPS = 10_000
MAX_GRID = 400
MAX_OPTIMIZERS = 8
MAX_LAYERS = 6
MAX_UNITS = 8
MAX_EPOCHS = 10_000
#: Starts × steps of one basins map (a 100² grid for 2,000 steps).
MAX_BASIN_WORK = 20_000_000

_RaceName = Literal[tuple(RACE_OPTIMIZERS)]  # type: ignore[valid-type]
_NetName = Literal[tuple(NETWORK_OPTIMIZERS)]  # type: ignore[valid-type]
_Feature = Literal[tuple(FEATURES)]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Landscape(_Strict):
    """A lab function by name, or a formula in x and y (exactly one of the two)."""

    function: str | None = Field(None, max_length=40)
    formula: str | None = Field(None, max_length=MAX_LENGTH)

    @model_validator(mode="after")
    def _one_source(self) -> "Landscape":
        if (self.function is None) == (self.formula is None):
            raise ValueError("function: give exactly one of 'function' (a lab function name) "
                             "or 'formula'")
        return self


class LandscapeRequest(Landscape):
    grid: int = Field(120, ge=10, le=MAX_GRID)


class OptimizerSpec(_Strict):
    """One racer: its name and the hyperparameters it is given (the rest keep their defaults)."""

    name: _RaceName
    lr: float | None = Field(None, gt=0, le=1e3)
    momentum: float | None = Field(None, ge=0, lt=1)
    nesterov: bool | None = None
    beta1: float | None = Field(None, ge=0, lt=1)
    beta2: float | None = Field(None, ge=0, lt=1)
    eps: float | None = Field(None, gt=0, le=1)
    weight_decay: float | None = Field(None, ge=0, le=10)
    damping: float | None = Field(None, ge=0, le=1e6)
    schedule: Literal[RACE_SCHEDULES] | None = None  # type: ignore[valid-type]

    def hyperparameters(self, schedule: bool = True) -> dict[str, float | bool | str]:
        """The given hyperparameters; ``schedule=False`` leaves the schedule out (basins and
        sweeps run at a constant α)."""
        drop = {"name"} if schedule else {"name", "schedule"}
        return {k: v for k, v in self.model_dump(exclude=drop).items()
                if v is not None and not (k == "schedule" and v == "none")}


class RaceRequest(Landscape):
    start: list[float] = Field(min_length=2, max_length=2)
    optimizers: list[OptimizerSpec] = Field(min_length=1, max_length=MAX_OPTIMIZERS)
    steps: int = Field(200, ge=1, le=MAX_STEPS)
    gtol: float = Field(1e-6, gt=0, le=1)


class BasinsRequest(Landscape):
    optimizer: OptimizerSpec
    n: int = Field(60, ge=2, le=MAX_GRID)
    steps: int = Field(300, ge=1, le=MAX_STEPS)

    @model_validator(mode="after")
    def _bounded(self) -> "BasinsRequest":
        if self.n * self.n * self.steps > MAX_BASIN_WORK:
            raise ValueError(f"n: n²·steps = {self.n * self.n * self.steps:,} exceeds "
                             f"{MAX_BASIN_WORK:,}; lower n or steps")
        return self


class SweepRequest(Landscape):
    optimizer: OptimizerSpec
    start: list[float] | None = Field(None, min_length=2, max_length=2)
    lr_min: float = Field(1e-4, gt=0, le=1e3)
    lr_max: float = Field(1.0, gt=0, le=1e3)
    count: int = Field(24, ge=2, le=60)
    steps: int = Field(200, ge=1, le=2_000)

    @model_validator(mode="after")
    def _ordered(self) -> "SweepRequest":
        if not self.lr_min < self.lr_max:
            raise ValueError(f"lr_min: lr_min ({self.lr_min}) must be below lr_max ({self.lr_max})")
        return self


class TrainConfig(_Strict):
    """A network-playground run (see ``descentlab.train.playground.PlaygroundConfig``)."""

    dataset: Literal[tuple(PLAYGROUND_DATASETS)] = "circle"  # type: ignore[valid-type]
    noise: float = Field(0.0, ge=0, le=0.5)
    n_samples: int = Field(500, ge=20, le=2_000)
    test_fraction: float = Field(0.5, ge=0.1, le=0.9)
    batch_size: int = Field(10, ge=1, le=2_000)
    features: list[_Feature] = Field(default_factory=lambda: ["x", "y"], min_length=1,
                                     max_length=len(FEATURES))
    hidden: list[int] = Field(default_factory=lambda: [4, 2], max_length=MAX_LAYERS)
    activation: Literal[HIDDEN_ACTIVATIONS] = "tanh"  # type: ignore[valid-type]
    init: Literal[INITS] = "xavier"  # type: ignore[valid-type]
    batchnorm: bool = False
    regularization: Literal[REGULARIZATIONS] = "none"  # type: ignore[valid-type]
    reg_rate: float = Field(0.0, ge=0, le=10)
    optimizer: _NetName = "sgd"
    lr: float = Field(0.03, gt=0, le=100)
    momentum: float | None = Field(None, ge=0, lt=1)
    weight_decay: float | None = Field(None, ge=0, le=10)
    schedule: Literal[SCHEDULES] = "none"  # type: ignore[valid-type]
    seed: int = Field(0, ge=0, le=2**31 - 1)
    grid: int = Field(50, ge=10, le=100)
    neuron_grid: int = Field(24, ge=8, le=48)

    @model_validator(mode="after")
    def _shape(self) -> "TrainConfig":
        bad = [h for h in self.hidden if not 1 <= h <= MAX_UNITS]
        if bad:
            raise ValueError(f"hidden: every layer needs 1..{MAX_UNITS} units (got {self.hidden})")
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features: {self.features} lists a feature twice")
        return self


class StepRequest(_Strict):
    epochs: int = Field(1, ge=1, le=100)
