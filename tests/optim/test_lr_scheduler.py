"""Schedules: the lr sequence of every scheduler equals torch's for 120 steps (two groups)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import descentlab as dl
from descentlab import optim
from descentlab.optim import lr_scheduler as ours

torch = pytest.importorskip("torch")
theirs = torch.optim.lr_scheduler

STEPS = 120


def lam(t: int) -> float:
    return 0.97 ** t / (1 + 0.01 * t)


CASES = {
    "StepLR": lambda S, o: S.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=25, eta_min=1e-3),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2,
                                                                              eta_min=1e-4),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=40),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=STEPS + 1),
    "OneCycleLR-3phase-linear": lambda S, o: S.OneCycleLR(
        o, max_lr=0.5, epochs=11, steps_per_epoch=11, three_phase=True, anneal_strategy="linear"),
    "LambdaLR": lambda S, o: S.LambdaLR(o, lr_lambda=lam),
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.2, total_iters=10), S.ExponentialLR(o, gamma=0.95),
            S.CosineAnnealingLR(o, T_max=30)], milestones=[10, 50]),
}


def optimizers(kind: str = "SGD") -> tuple:
    a, b = dl.zeros(2, requires_grad=True), dl.zeros(3, requires_grad=True)
    ta, tb = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    kw = dict(lr=0.1, momentum=0.9) if kind == "SGD" else dict(lr=0.1)
    mine = getattr(optim, kind)([{"params": [a]}, {"params": [b], "lr": 0.03}], **kw)
    ref = getattr(torch.optim, kind)([{"params": [ta]}, {"params": [tb], "lr": 0.03}], **kw)
    return mine, ref


def lr_sequence(sched: object, opt: object, steps: int = STEPS) -> list:
    seq = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append([g["lr"] for g in opt.param_groups] + list(sched.get_last_lr()))
    return seq


@pytest.mark.parametrize("name", list(CASES))
def test_lr_sequence_equals_torch(name: str) -> None:
    mine, ref = optimizers("Adam" if name.startswith("OneCycle") else "SGD")
    a = lr_sequence(CASES[name](ours, mine), mine)
    b = lr_sequence(CASES[name](theirs, ref), ref)
    assert a == b
    if name.startswith("OneCycle"):
        assert [g["betas"] for g in mine.param_groups] == [g["betas"] for g in ref.param_groups]


def test_onecycle_cycles_sgd_momentum_like_torch() -> None:
    mine, ref = optimizers("SGD")
    a = CASES["OneCycleLR"](ours, mine)
    b = CASES["OneCycleLR"](theirs, ref)
    for _ in range(50):
        mine.step(), ref.step(), a.step(), b.step()
        assert [g["momentum"] for g in mine.param_groups] == \
            [g["momentum"] for g in ref.param_groups]


LOSSES = ([1.0, 0.9, 0.85, 0.84999, 0.86, 0.87, 0.85, 0.9, 0.95, 0.7] * 4
          + [0.5 + 0.01 * math.sin(k) for k in range(80)])


@pytest.mark.parametrize("kw", [
    dict(),
    dict(patience=2, factor=0.5, cooldown=3),
    dict(mode="max", patience=1, threshold=0.05, threshold_mode="abs"),
    dict(patience=0, factor=0.3, min_lr=[0.01, 0.001]),
    dict(patience=1, threshold_mode="abs", threshold=1e-3, eps=1e-3, factor=0.9),
])
def test_reduce_on_plateau_equals_torch(kw: dict) -> None:
    mine, ref = optimizers()
    a, b = ours.ReduceLROnPlateau(mine, **kw), theirs.ReduceLROnPlateau(ref, **kw)
    for loss in LOSSES:
        a.step(loss)
        b.step(loss)
        assert a.get_last_lr() == b.get_last_lr()
        assert a.num_bad_epochs == b.num_bad_epochs and a.best == b.best


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "SequentialLR", "OneCycleLR"])
def test_state_dict_round_trip(name: str) -> None:
    kind = "Adam" if name == "OneCycleLR" else "SGD"
    mine, _ = optimizers(kind)
    sched = CASES[name](ours, mine)
    lr_sequence(sched, mine, 20)
    saved_opt, saved = mine.state_dict(), sched.state_dict()
    rest = lr_sequence(sched, mine, 30)
    mine2, _ = optimizers(kind)
    mine2.load_state_dict(saved_opt)
    sched2 = CASES[name](ours, mine2)
    sched2.load_state_dict(saved)
    for g, s in zip(mine2.param_groups, saved_opt["param_groups"]):
        g["lr"] = s["lr"]
    assert lr_sequence(sched2, mine2, 30)[1:] == rest[1:]


def test_bad_input() -> None:
    opt, _ = optimizers()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ours.StepLR(object(), step_size=3)
    with pytest.raises(ValueError, match="factor=1.5 should be < 1.0"):
        ours.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="total_steps OR"):
        ours.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s = ours.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(4):
            s.step()
    with pytest.raises(ValueError, match="one milestone fewer"):
        ours.SequentialLR(opt, [ours.StepLR(opt, 3)], milestones=[3])
    assert np.isfinite(opt.param_groups[0]["lr"])
