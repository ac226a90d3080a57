"""A trial computes what the library's own entry points compute for the same options."""

import numpy as np
import pytest

from descentlab.lab.functions import get_function
from descentlab.lab.trajectories import run_trajectories
from descentlab.sweep.trial import run_trial
from descentlab.train import RunConfig, train_run


@pytest.mark.parametrize("extra", [
    {"optimizer": "momentum", "lr": 0.05, "scheduler": "cosine", "val_split": 0.2},
    {"optimizer": "adam", "lr": 0.01, "val_split": 0.0, "weight_decay": 1e-3},
])
def test_train_trial_equals_descentlab_train(tmp_path, extra):
    params = {"dataset": "moons", "hidden": [8], "activation": "tanh", "batch_size": 50,
              "epochs": 4, "seed": 3, "momentum": None, "betas": None, "weight_decay": None,
              "clip": None, "scheduler": "none", **extra}
    result = run_trial("train", params)
    cfg = {k: v for k, v in params.items() if k != "betas"}
    cfg["hidden"] = tuple(cfg["hidden"])
    oracle = train_run(RunConfig(**cfg, out=str(tmp_path), verbose="none"))
    assert result["status"] == "done"
    for key in ("loss", "accuracy", "lr") + (("val_loss",) if extra["val_split"] else ()):
        assert [m[key] for m in result["metrics"]] == oracle.history[key], key
    want = oracle.final["val_loss" if extra["val_split"] else "loss"]
    assert result["objective"] == want
    steps_per_epoch = int(np.ceil(500 * (1 - extra["val_split"]) / 50))
    assert [m["step"] for m in result["metrics"]] == [steps_per_epoch * e for e in range(1, 5)]


def test_betas_reach_the_optimizer():
    base = {"dataset": "spiral", "hidden": [4], "activation": "relu", "batch_size": 100,
            "epochs": 2, "seed": 0, "momentum": None, "weight_decay": None, "clip": None,
            "scheduler": "none", "val_split": 0.0, "optimizer": "adam", "lr": 0.01}
    default = run_trial("train", {**base, "betas": None})
    explicit = run_trial("train", {**base, "betas": [0.9, 0.999]})
    other = run_trial("train", {**base, "betas": [0.5, 0.9]})
    assert default["metrics"][-1]["loss"] == explicit["metrics"][-1]["loss"]
    assert other["metrics"][-1]["loss"] != default["metrics"][-1]["loss"]


def test_diverging_trial_is_recorded_not_raised():
    params = {"dataset": "polynomial", "hidden": [16], "activation": "relu", "batch_size": 16,
              "epochs": 5, "seed": 0, "momentum": None, "betas": None, "weight_decay": None,
              "clip": None, "scheduler": "none", "val_split": 0.0, "optimizer": "sgd",
              "lr": 50.0}
    result = run_trial("train", params)
    assert result["status"] == "diverged" and result["objective"] is None
    assert "step" in result["reason"]


def test_function_trial_matches_run_trajectories():
    params = {"function": "rosenbrock", "optimizer": "adam", "lr": 0.05, "momentum": None,
              "betas": None, "weight_decay": None, "steps": 200, "starts": 8, "seed": 4}
    result = run_trial("function", params)
    f = get_function("rosenbrock")
    lo, hi = np.array(f.domain).T
    starts = lo + (hi - lo) * np.random.default_rng(4).random((8, 2))
    tr = run_trajectories(f, starts, "adam", 200, lr=0.05)
    assert result["objective"] == pytest.approx(float(np.median(tr.final_losses)), rel=1e-12)
    assert result["final"]["converged"] + result["final"]["max_steps"] == 8


def test_broken_trial_is_failed_with_its_reason():
    result = run_trial("train", {"dataset": "spiral", "optimizer": "adam"})
    assert result["status"] == "failed" and "KeyError" in result["reason"]
