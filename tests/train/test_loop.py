"""The fit loop: learning, history, callbacks, clipping and the divergence guard."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from train_helpers import blobs, loader, mlp, weights

from descentlab import nn, optim
from descentlab.optim import lr_scheduler
from descentlab.train import (
    Callback,
    DivergenceError,
    EarlyStopping,
    History,
    LRSchedulerCallback,
    ModelCheckpoint,
    Trainer,
    accuracy,
    evaluate,
    fit,
    load_checkpoint,
)


def test_fit_decreases_loss_and_returns_history():
    model = mlp()
    history = fit(model, optim.Adam(model.parameters(), lr=0.05), nn.CrossEntropyLoss(),
                  loader(blobs()), epochs=8, val_loader=loader(blobs(seed=1)), verbose="none")
    assert len(history) == 8
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9 and history["val_accuracy"][-1] > 0.9
    assert history.columns == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
                               "time"]


def test_history_saved_as_csv_and_json(tmp_path):
    model = mlp()
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                  loader(blobs()), epochs=3, verbose="none")
    csv_path, json_path = history.save(tmp_path)
    rows = list(csv.DictReader(open(csv_path)))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["loss"]) for r in rows] == history["loss"]
    assert json.loads(json_path.read_text()) == history.records
    assert History.load(json_path).records == history.records


def test_regression_targets_get_no_accuracy():
    import descentlab as dl
    from descentlab.data import DataLoader, TensorDataset

    x = dl.randn(64, 3)
    y = x.sum(dim=1, keepdim=True)
    model = nn.Linear(3, 1)
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
                  DataLoader(TensorDataset(x, y), batch_size=16), epochs=5, verbose="none")
    assert "accuracy" not in history
    assert history["loss"][-1] < history["loss"][0]


def test_accuracy_shapes():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy(np.array([0.3, -2.0]), np.array([1, 0])) == 1.0
    assert accuracy(logits, np.eye(2)[[0, 1, 0]]) == 1.0


def test_custom_callback_hooks_and_stop_training():
    calls = []

    class Spy(Callback):
        def on_train_begin(self, trainer):
            calls.append("begin")

        def on_epoch_end(self, trainer, epoch, logs):
            calls.append(epoch)
            if epoch == 2:
                trainer.stop_training = True

        def on_train_end(self, trainer):
            calls.append("end")

    model = mlp()
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                  loader(blobs()), epochs=10, callbacks=[Spy()], verbose="none")
    assert calls == ["begin", 1, 2, "end"] and len(history) == 2


def test_early_stopping_stops_when_monitored_value_stalls():
    model = mlp()
    stop = EarlyStopping(monitor="loss", patience=1, min_delta=10.0)  # nothing improves by 10
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                  loader(blobs()), epochs=20, callbacks=[stop], verbose="none")
    assert len(history) == 3 and stop.stopped_epoch == 3


def test_early_stopping_names_missing_metric():
    model = mlp()
    with pytest.raises(KeyError, match="val_loss.*pass validation data"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
            loader(blobs()), epochs=2, callbacks=[EarlyStopping()], verbose="none")


def test_scheduler_callback_steps_per_epoch_and_plateau_on_val_loss():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, opt, nn.CrossEntropyLoss(), loader(blobs()), epochs=4,
                  callbacks=[LRSchedulerCallback(lr_scheduler.StepLR(opt, 1, gamma=0.5))],
                  verbose="none")
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])

    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=10.0,
                                             threshold_mode="abs")
    history = fit(model, opt, nn.CrossEntropyLoss(), loader(blobs()), epochs=3,
                  val_loader=loader(blobs(seed=1)), callbacks=[LRSchedulerCallback(plateau)],
                  verbose="none")
    # threshold=10 (absolute): no epoch after the first counts as better, so each one halves lr.
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 2)
    assert plateau.best == history["val_loss"][0]  # it watched the validation loss


def test_gradient_clipping_bounds_the_update():
    model = mlp()
    before = weights(model)
    opt = optim.SGD(model.parameters(), lr=1.0)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), clip_grad_norm=1e-3, verbose="none")
    ds = blobs(16)
    trainer.fit(loader(ds, batch_size=16), epochs=1)
    after = weights(model)
    step = math.sqrt(sum(float(((after[k] - before[k]) ** 2).sum()) for k in before))
    assert step <= 1e-3 * 1.0001


def test_divergence_guard_names_step_epoch_lr_and_keeps_last_good_checkpoint(tmp_path):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    ckpt = tmp_path / "ckpt"
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), callbacks=[ModelCheckpoint(ckpt)],
                      verbose="none")
    data = blobs(separation=0.5)  # overlapping classes: a huge step cannot be lossless
    trainer.fit(loader(data), epochs=2)
    good = weights(model)
    files = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    opt.param_groups[0]["lr"] = 1e3
    with pytest.raises(DivergenceError) as info:
        trainer.fit(loader(data), epochs=50)
    e = info.value
    assert e.epoch >= 3 and e.step > 16 and e.lr == 1e3 and e.suggested_lr == 100
    msg = str(e)
    assert f"step {e.step}" in msg and f"epoch {e.epoch}" in msg and "lr=1000" in msg
    assert "lower the learning rate" in msg and str(ckpt) in msg
    # The checkpoint on disk is the one from before the divergence, untouched and loadable.
    assert {p.name: p.read_bytes() for p in ckpt.iterdir()} == files
    loaded = load_checkpoint(ckpt)
    assert loaded.state["trainer"]["epoch"] == 2
    for k, v in good.items():
        np.testing.assert_array_equal(loaded.model[k], v)


def test_divergence_guard_catches_nan_and_growth():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=1e3)
    with pytest.raises(DivergenceError, match=r"step \d+ \(epoch 1\).*lr=1000"):
        fit(model, opt, nn.CrossEntropyLoss(), loader(blobs()), epochs=5, verbose="none")

    model = mlp()
    next(iter(model.parameters())).data[0, 0] = float("nan")
    with pytest.raises(DivergenceError, match=r"step 1 \(epoch 1\): loss = nan"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
            loader(blobs()), epochs=1, verbose="none")


def test_evaluate_restores_training_mode():
    model = mlp()
    model.train()
    result = evaluate(model, loader(blobs()), nn.CrossEntropyLoss())
    assert model.training and set(result) == {"loss", "accuracy"}


def test_plain_lines_progress(capsys):
    model = mlp()
    fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader(blobs()),
        epochs=3, verbose="lines")
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "loss" in lines[0] and "accuracy" in lines[0]
