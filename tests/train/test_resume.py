"""Resuming continues a run exactly: same losses, bit for bit, as never stopping."""

from __future__ import annotations

import numpy as np
import pytest
from train_helpers import blobs, dropout_mlp, loader, weights

from descentlab import nn, optim
from descentlab.data import DataLoader
from descentlab.optim import lr_scheduler
from descentlab.train import (
    CheckpointError,
    EarlyStopping,
    LRSchedulerCallback,
    ModelCheckpoint,
    RunConfig,
    Trainer,
    train_run,
)


def _trainer(ckpt_dir, seed=0):
    model = dropout_mlp(seed)  # dropout draws from the global generator: its state must resume
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return Trainer(model, opt, nn.CrossEntropyLoss(),
                   callbacks=[LRSchedulerCallback(sched), ModelCheckpoint(ckpt_dir),
                              EarlyStopping("val_loss", patience=100)], verbose="none")


def test_resume_matches_an_uninterrupted_run_bit_for_bit(tmp_path):
    data, val = blobs(96, separation=0.7), DataLoader(blobs(64, seed=1), batch_size=16)
    full = _trainer(tmp_path / "full")
    full.fit(loader(data, seed=3), epochs=6, val_loader=val)

    first = _trainer(tmp_path / "part")
    first.fit(loader(data, seed=3), epochs=3, val_loader=val)
    # A new process in effect: fresh objects, different seed for the fresh weights and loader.
    second = _trainer(tmp_path / "part", seed=99)
    second.fit(loader(data, seed=99), epochs=6, val_loader=val,
               resume_from=tmp_path / "part")

    strip = lambda h: [{k: v for k, v in r.items() if k != "time"} for r in h.records]
    assert strip(second.history) == strip(full.history)  # exact float equality, every epoch
    for k, v in weights(full.model).items():
        np.testing.assert_array_equal(weights(second.model)[k], v)
    assert second.step == full.step


def test_train_run_resume_after_interrupt_matches_uninterrupted(tmp_path, monkeypatch):
    base = dict(dataset="gaussians", hidden=(8,), epochs=4, batch_size=50, verbose="none",
                val_split=0.2, scheduler="cosine")
    full = train_run(RunConfig(out=str(tmp_path / "full"), **base))

    run_epoch = Trainer._run_epoch

    def interrupted(self, *args):
        if self.epoch == 2:
            raise KeyboardInterrupt  # Ctrl-C after the second epoch's checkpoint
        run_epoch(self, *args)

    monkeypatch.setattr(Trainer, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_run(RunConfig(out=str(tmp_path / "part"), **base))
    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    resumed = train_run(RunConfig(out=str(tmp_path / "part"), **base), resume=True)
    assert resumed.resumed_from_epoch == 2
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert resumed.history[key] == full.history[key]


def test_resume_with_other_options_is_refused(tmp_path):
    base = dict(dataset="gaussians", hidden=(8,), epochs=1, verbose="none")
    train_run(RunConfig(out=str(tmp_path), **base))
    with pytest.raises(CheckpointError, match=r"state\.json: was saved by a run with different "
                                              r"options: hidden=\[8\] \(now \[4\]\)"):
        train_run(RunConfig(out=str(tmp_path), **{**base, "hidden": (4,), "epochs": 2}),
                  resume=True)
    with pytest.raises(ValueError, match="already trained 1 epochs"):
        train_run(RunConfig(out=str(tmp_path), **base), resume=True)
