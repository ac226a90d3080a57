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


# ------------------------------------------------------------------ issue 11: damaged or edited
def _rewrite(path, name, change):
    """Rewrite one safetensors file of a checkpoint with ``change(arrays)`` applied, and record
    its new SHA-256 in state.json (as an edited but self-consistent checkpoint would be)."""
    import hashlib

    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(path / name))
    change(arrays)
    save_file(arrays, str(path / name), metadata={"format": "pt"})
    doc = json.loads((path / "state.json").read_text())
    doc["files"][name] = hashlib.sha256((path / name).read_bytes()).hexdigest()
    (path / "state.json").write_text(json.dumps(doc))


def _fresh_trainer():
    model = mlp(seed=1)
    return Trainer(model, optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9)),
                   nn.CrossEntropyLoss(), verbose="none")


@pytest.mark.parametrize("name", ["state.json", "model.safetensors", "optimizer.safetensors"])
def test_a_directory_where_a_file_should_be_is_named(tmp_path, name):
    _, path = _trained(tmp_path)
    (path / name).unlink()
    (path / name).mkdir()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert f"{name}: is a directory where a file should be" in str(err.value)


def test_a_file_where_the_checkpoint_directory_should_be(tmp_path):
    (tmp_path / "ckpt").write_text("my notes")
    with pytest.raises(CheckpointError, match="ckpt: is a file, but a checkpoint is a directory"):
        load_checkpoint(tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="ckpt: is a file, but a checkpoint is a directory"):
        save_checkpoint(tmp_path / "ckpt", mlp().state_dict())
    assert (tmp_path / "ckpt").read_text() == "my notes"  # the user's file is untouched
    with pytest.raises(CheckpointError, match="a file is in the way"):
        save_checkpoint(tmp_path / "ckpt" / "inner", mlp().state_dict())


def test_wrong_shape_optimizer_tensor_names_the_file_and_tensor(tmp_path):
    _, path = _trained(tmp_path)

    def shrink(arrays):
        arrays["state.0.exp_avg"] = arrays["state.0.exp_avg"][:3].copy()

    _rewrite(path, "optimizer.safetensors", shrink)
    with pytest.raises(CheckpointError) as err:
        _fresh_trainer().load_checkpoint(path)
    msg = str(err.value)
    assert "optimizer.safetensors: does not fit the optimizer" in msg
    assert "state.0.exp_avg has shape (3, 2) but its parameter has (8, 2)" in msg


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_weights_of_another_dtype_are_refused_on_resume(tmp_path, dtype):
    _, path = _trained(tmp_path)

    def recast(arrays):
        arrays["0.weight"] = arrays["0.weight"].astype(dtype)

    _rewrite(path, "model.safetensors", recast)
    trainer = _fresh_trainer()
    before = weights(trainer.model)
    with pytest.raises(CheckpointError) as err:
        trainer.load_checkpoint(path)
    assert (f"model.safetensors: does not fit the model (dtype mismatch: 0.weight "
            f"{np.dtype(dtype)} vs model float32)") in str(err.value)
    for k, v in weights(trainer.model).items():
        np.testing.assert_array_equal(v, before[k])  # nothing half-loaded


@pytest.mark.parametrize("key, value", [("epoch", -5), ("step", -1), ("epoch", 2.5),
                                        ("epoch", True), ("step", "3")])
def test_impossible_training_counters_are_refused(tmp_path, key, value):
    _, path = _trained(tmp_path)
    doc = json.loads((path / "state.json").read_text())
    doc["trainer"][key] = value
    (path / "state.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert f"state.json: trainer {key} is {value!r}; it must be a whole number >= 0" in str(
        err.value)


_SAVE_FOREVER = """
import sys, numpy as np
from descentlab.train import checkpoint as c
rng = np.random.default_rng(0)
weights = {f"w{i}": rng.normal(size=(256, 256)).astype(np.float32) for i in range(8)}
hang = sys.argv[2] == "hang"
if hang:
    def stop_in_the_middle(path, obj):
        print("inside", flush=True)
        import time
        time.sleep(60)
    c._write_json = stop_in_the_middle
print("ready", flush=True)
while True:
    c.save_checkpoint(sys.argv[1], weights, state={"trainer": {"epoch": 1, "step": 1}})
"""


def _kill_mid_save(path, mode, delay):
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", _SAVE_FOREVER, str(path), mode],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert proc.stdout.readline().strip() == "ready"
        if mode == "hang":
            assert proc.stdout.readline().strip() == "inside"
        time.sleep(delay)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()


def test_temporary_folders_of_killed_saves_are_cleaned_on_the_next_save_or_load(tmp_path):
    import random

    path = tmp_path / "ckpt"
    save_checkpoint(path, mlp().state_dict())

    def leftovers():
        return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ckpt.tmp-"))

    # A kill -9 while the save is certainly in progress leaves its folder behind ...
    _kill_mid_save(path, "hang", 0.0)
    assert len(leftovers()) == 1
    load_checkpoint(path)  # ... and the next load removes it.
    assert leftovers() == []
    # Kills at random moments of a save loop: whatever is left, the next save cleans it and the
    # checkpoint on disk is always complete.
    rng = random.Random(0)
    for _ in range(3):
        _kill_mid_save(path, "loop", rng.uniform(0.05, 0.4))
        ckpt = load_checkpoint(path)
        assert leftovers() == []
        assert sorted(ckpt.model) == ["0.bias", "0.weight", "2.bias", "2.weight"] or \
            sorted(ckpt.model) == [f"w{k}" for k in range(8)]
        save_checkpoint(path, mlp().state_dict())
        assert leftovers() == []


def test_a_live_save_of_another_process_is_left_alone(tmp_path):
    import os

    live = tmp_path / f".ckpt.tmp-{os.getppid()}-abc"  # our parent process: certainly alive
    live.mkdir()
    save_checkpoint(tmp_path / "ckpt", mlp().state_dict())
    assert live.is_dir()


_UMASK_SAVE = """
import os, sys
os.umask(int(sys.argv[2], 8))
from descentlab.train import save_checkpoint
from descentlab import nn
p = save_checkpoint(sys.argv[1], nn.Linear(2, 2).state_dict(),
                    state={"trainer": {"epoch": 0, "step": 0}})
open(os.path.join(sys.argv[1] + "-plain.txt"), "w").close()
os.mkdir(sys.argv[1] + "-plain-dir")
"""


@pytest.mark.parametrize("umask", ["022", "027"])
def test_checkpoint_files_follow_the_users_umask(tmp_path, umask):
    import stat
    import subprocess
    import sys

    path = tmp_path / "ckpt"
    subprocess.run([sys.executable, "-c", _UMASK_SAVE, str(path), umask], check=True,
                   timeout=60)
    # The oracle: what a plain open() and mkdir() gave under the same umask in that process.
    file_mode = stat.S_IMODE((tmp_path / "ckpt-plain.txt").stat().st_mode)
    dir_mode = stat.S_IMODE((tmp_path / "ckpt-plain-dir").stat().st_mode)
    assert file_mode == 0o666 & ~int(umask, 8)
    assert stat.S_IMODE(path.stat().st_mode) == dir_mode
    for f in path.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == file_mode, f.name


def test_saving_never_replaces_a_directory_holding_other_files(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "notes.txt").write_text("keep me")
    with pytest.raises(CheckpointError, match=r"results: is a directory holding other files "
                                              r"\(notes\.txt\)"):
        save_checkpoint(tmp_path / "results", mlp().state_dict())
    assert (tmp_path / "results" / "notes.txt").read_text() == "keep me"
    (tmp_path / "empty").mkdir()
    save_checkpoint(tmp_path / "empty", mlp().state_dict())  # an empty folder is fine
    save_checkpoint(tmp_path / "empty", mlp().state_dict())  # and so is a checkpoint
    assert load_checkpoint(tmp_path / "empty").model


def test_this_process_own_running_save_is_not_taken_for_stale(tmp_path, monkeypatch):
    seen = {}

    def peek(path, obj):
        # In the middle of a save: a cleanup now must keep the folder being written.
        seen["removed"] = ckpt_mod.remove_stale_temporaries(tmp_path / "ckpt")
        path.write_text(json.dumps(obj))

    monkeypatch.setattr(ckpt_mod, "_write_json", peek)
    save_checkpoint(tmp_path / "ckpt", mlp().state_dict())
    assert seen["removed"] == []
    assert load_checkpoint(tmp_path / "ckpt").model
