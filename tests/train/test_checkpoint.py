"""Checkpoints: round trip, PyTorch readability, atomic writes, and clear errors on bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from train_helpers import blobs, loader, mlp, weights

from descentlab import nn, optim
from descentlab.optim import lr_scheduler
from descentlab.train import (
    CheckpointError,
    LRSchedulerCallback,
    Trainer,
    build_mlp,
    load_checkpoint,
    save_checkpoint,
)
from descentlab.train import checkpoint as ckpt_mod


def _trained(tmp_path, epochs=2):
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    sched = lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), callbacks=[LRSchedulerCallback(sched)],
                      verbose="none", config={"note": "test"})
    trainer.fit(loader(blobs()), epochs=epochs)
    return trainer, trainer.save_checkpoint(tmp_path / "ckpt")


def test_round_trip_restores_model_optimizer_scheduler_and_state(tmp_path):
    trainer, path = _trained(tmp_path)
    assert sorted(p.name for p in path.iterdir()) == ["model.safetensors",
                                                      "optimizer.safetensors", "state.json"]
    model = mlp(seed=1)
    opt = optim.Adam(model.parameters(), lr=0.5)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[7], gamma=0.1)
    fresh = Trainer(model, opt, nn.CrossEntropyLoss(), callbacks=[LRSchedulerCallback(sched)],
                    verbose="none")
    loaded = fresh.load_checkpoint(path)
    for k, v in weights(trainer.model).items():
        np.testing.assert_array_equal(weights(model)[k], v)
    a, b = trainer.optimizer.state_dict(), opt.state_dict()
    assert a["param_groups"] == b["param_groups"]  # betas come back as a tuple
    assert isinstance(b["param_groups"][0]["betas"], tuple)
    for i in a["state"]:
        for name, value in a["state"][i].items():
            restored = np.asarray(b["state"][i][name])
            assert restored.shape == np.shape(value)  # Adam's 0-d step stays 0-d
            np.testing.assert_array_equal(restored, np.asarray(value))
    assert sched.milestones == trainer.callbacks[0].scheduler.milestones  # integer keys kept
    assert sched.state_dict() == trainer.callbacks[0].scheduler.state_dict()
    assert fresh.epoch == 2 and fresh.step == trainer.step
    assert fresh.history.records == trainer.history.records
    assert loaded.state["config"] == {"note": "test"}


def test_weights_readable_by_pytorch_with_the_same_keys(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    trainer, path = _trained(tmp_path)
    loaded = st_torch.load_file(str(path / "model.safetensors"))
    own = trainer.model.state_dict()
    assert list(loaded) == list(own) or sorted(loaded) == sorted(own)
    ref = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    assert sorted(ref.state_dict()) == sorted(loaded)
    ref.load_state_dict(loaded)  # strict: same keys and shapes as the PyTorch model
    for k, v in own.items():
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    trainer, path = _trained(tmp_path)
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    trainer.fit(loader(blobs()), epochs=3)  # the weights move on

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ckpt_mod, "_write_json", crash)
    with pytest.raises(OSError, match="simulated"):
        trainer.save_checkpoint(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert load_checkpoint(path).state["trainer"]["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no temp dirs left behind

    monkeypatch.setattr(ckpt_mod, "_write_json", lambda *a: None)
    monkeypatch.setattr(ckpt_mod, "_write_safetensors", crash)
    with pytest.raises(OSError):
        trainer.save_checkpoint(path)
    assert load_checkpoint(path).state["trainer"]["epoch"] == 2


def test_crash_between_the_two_renames_falls_back_to_prev(tmp_path):
    _, path = _trained(tmp_path)
    path.rename(path.with_name("ckpt.prev"))  # what a crash right after the first rename leaves
    assert load_checkpoint(path).state["trainer"]["epoch"] == 2
    save_checkpoint(path, mlp().state_dict())  # the next save completes the swap and cleans up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_truncated_weights_are_named(tmp_path):
    _, path = _trained(tmp_path)
    f = path / "model.safetensors"
    f.write_bytes(f.read_bytes()[:40])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: .*corrupt or truncated"):
        load_checkpoint(path)


def test_unreadable_safetensors_is_named(tmp_path):
    _, path = _trained(tmp_path)
    doc = json.loads((path / "state.json").read_text())
    del doc["files"]  # no checksums: the safetensors parser itself must catch the damage
    (path / "state.json").write_text(json.dumps(doc))
    (path / "optimizer.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(CheckpointError, match=r"optimizer\.safetensors: not a readable "
                                              r"safetensors file"):
        load_checkpoint(path)


def test_corrupt_state_json_is_named(tmp_path):
    _, path = _trained(tmp_path)
    (path / "state.json").write_text('{"format": "descentlab-checkpoint", "vers')
    with pytest.raises(CheckpointError, match=r"state\.json: not valid JSON"):
        load_checkpoint(path)
    (path / "state.json").write_text('{"hello": 1}')
    with pytest.raises(CheckpointError, match=r"state\.json: not a descentlab-checkpoint file"):
        load_checkpoint(path)


def test_missing_checkpoint_and_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint directory"):
        load_checkpoint(tmp_path / "nope")
    _, path = _trained(tmp_path)
    (path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors: missing"):
        load_checkpoint(path)


def test_mismatched_architecture_is_a_clear_error(tmp_path):
    _, path = _trained(tmp_path)
    model = build_mlp(2, (4, 4), 2)
    trainer = Trainer(model, optim.Adam(model.parameters()), nn.CrossEntropyLoss(),
                      verbose="none")
    with pytest.raises(CheckpointError, match=r"model\.safetensors: does not fit the model "
                                              r"\(missing keys.*shape mismatch"):
        trainer.load_checkpoint(path)


def test_non_json_state_is_refused_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="cannot be saved without pickle"):
        save_checkpoint(tmp_path / "c", mlp().state_dict(), state={"f": object()})
    assert not any(tmp_path.iterdir())
