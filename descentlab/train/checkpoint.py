"""Checkpoints: weights PyTorch can read, everything else beside them, never pickle.

A checkpoint is one directory::

    model.safetensors      the model's state_dict under its own keys
                           (``safetensors.torch.load_file`` gives the same keys and shapes)
    optimizer.safetensors  the optimizer's tensor state, keys ``state.<param index>.<name>``
    state.json             optimizer hyperparameters and scalar state, scheduler/callback state,
                           training state (epoch, step, RNG states, history), the run's config,
                           and a SHA-256 of each ``.safetensors`` file

Saving is atomic: the files go to a fresh sibling directory, are fsynced, and the directory is then
swapped in by rename; the previous checkpoint is moved aside to ``<dir>.prev`` first and deleted
only once the new one is in place. A crash at any point leaves a complete checkpoint at ``<dir>``
or (in the instant between the two renames) at ``<dir>.prev``, which ``load_checkpoint`` falls back
to. A save killed before its swap leaves its ``.<dir>.tmp-<pid>-*`` folder behind; the next save or
load of that checkpoint deletes such folders whose process is gone. Files and folders get the
permissions the user's umask gives any other output. Loading checks every file, and resuming checks
that the weights' dtypes and the optimizer tensors' shapes fit, raising :class:`CheckpointError`
naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._fileio import default_mode
from ..autograd.tensor import Tensor

__all__ = ["Checkpoint", "CheckpointError", "load_checkpoint", "save_checkpoint",
           "load_model_weights", "load_optimizer_state", "optimizer_from_saved",
           "optimizer_to_saved", "remove_stale_temporaries"]

FORMAT = "descentlab-checkpoint"
VERSION = 1
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
_CHECKPOINT_FILES = (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE)
_SAVING: set[Path] = set()  # temporary folders of saves running in this process


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, truncated, or does not fit the model it is loaded into."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str) -> None:
        self.path = str(path)
        super().__init__(f"checkpoint file {self.path}: {problem}; {fix}")


@dataclass
class Checkpoint:
    """A loaded checkpoint: arrays and JSON, not yet applied to any model or optimizer.

    Attributes:
        path: the directory it was read from (``<dir>.prev`` after a crash mid-swap).
        model: the model's state_dict as NumPy arrays.
        optimizer: the optimizer's state_dict (torch format, NumPy arrays), or ``None``.
        state: everything else from ``state.json`` (``trainer``, ``config``, ``scheduler``, ...).
    """

    path: Path
    model: dict[str, np.ndarray]
    optimizer: dict[str, Any] | None
    state: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- JSON with tuples
def _encode(value: Any, where: str) -> Any:
    """JSON-ready copy of ``value``; tuples and dicts with non-string keys are tagged so they come
    back as they were (``betas`` stays a tuple, integer keys stay integers)."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value.item()
        raise TypeError(f"{where}: array of shape {value.shape} cannot go into {STATE_FILE}; "
                        "store arrays in a .safetensors file")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            # e.g. MultiStepLR's milestones {epoch: count}: JSON would turn the keys into strings.
            return {"__items__": [[_encode(k, where), _encode(v, f"{where}.{k}")]
                                  for k, v in value.items()]}
        if {"__tuple__", "__items__"} & set(value):
            raise ValueError(f"{where}: the keys '__tuple__' and '__items__' are reserved in "
                             f"{STATE_FILE}")
        return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{where}: a {type(value).__name__} cannot be saved without pickle; keep "
                    "checkpoint state to numbers, strings, lists, dicts and arrays")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        if set(value) == {"__items__"}:
            return {_decode(k): _decode(v) for k, v in value["__items__"]}
        return {k: _decode(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------- optimizer packing
def _array(value: Any) -> np.ndarray | None:
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    return None


def optimizer_to_saved(state_dict: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict]:
    """Split an optimizer ``state_dict()`` into tensors (for safetensors) and JSON-ready rest."""
    tensors: dict[str, np.ndarray] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, pstate in state_dict["state"].items():
        for name, value in pstate.items():
            arr = _array(value)
            if arr is not None:
                tensors[f"state.{index}.{name}"] = arr
            else:
                scalars.setdefault(str(index), {})[name] = value
    meta = {"param_groups": state_dict["param_groups"], "scalars": scalars}
    return tensors, _encode(meta, "optimizer")


def optimizer_from_saved(tensors: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> dict:
    """Inverse of :func:`optimizer_to_saved`: the torch-format ``state_dict`` again."""
    meta = _decode(dict(meta))
    state: dict[int, dict[str, Any]] = {}
    for key, arr in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = Tensor._wrap(np.array(arr))
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": dict(sorted(state.items())), "param_groups": meta["param_groups"]}


# ---------------------------------------------------------------------------- writing
def _fsync_dir(path: Path) -> None:
    # Makes the renames themselves durable; directories cannot be opened this way on Windows.
    if os.name == "posix":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_safetensors(path: Path, tensors: Mapping[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    # np.ascontiguousarray would turn 0-d arrays (Adam's step) into shape (1,), so copy instead.
    arrays = {k: v if v.flags.c_contiguous else v.copy(order="C") for k, v in tensors.items()}
    # "format": "pt" is what PyTorch-side tooling (transformers, safe_open) expects to find.
    save_file(arrays, str(path), metadata={"format": "pt"})
    os.chmod(path, default_mode())


def _write_json(path: Path, obj: Any) -> None:
    # allow_nan: a best loss of inf (nothing seen yet) is a legitimate value to save.
    path.write_text(json.dumps(obj, indent=1, allow_nan=True) + "\n", encoding="utf-8")
    os.chmod(path, default_mode())


def _temp_prefix(final: Path) -> str:
    return f".{final.name}.tmp-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return False
    return True


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporary folders that killed saves of this checkpoint left beside it.

    A save writes into ``.<name>.tmp-<pid>-<random>`` and renames it into place; a process killed
    before the rename leaves the folder. One is stale when its process no longer runs, or when it
    is this process's own but no save of ours is writing it. A folder in the older
    ``.<name>.tmp-<random>`` form, with no process id, is stale after an hour.

    Returns:
        the folders deleted.
    """
    final = Path(directory)
    prefix = _temp_prefix(final)
    pattern = re.compile(re.escape(prefix) + r"(?:(\d+)-)?[^/]*$")
    removed = []
    try:
        candidates = [p for p in final.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for p in candidates:
        m = pattern.match(p.name)
        if not m or not p.is_dir() or p.is_symlink():
            continue
        if m.group(1) is not None:
            pid = int(m.group(1))
            stale = p not in _SAVING if pid == os.getpid() else not _pid_alive(pid)
        else:
            try:
                stale = time.time() - p.stat().st_mtime > 3600
            except OSError:
                continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def save_checkpoint(directory: str | os.PathLike, model_state: Mapping[str, Any],
                    optimizer_state: Mapping[str, Any] | None = None,
                    state: Mapping[str, Any] | None = None) -> Path:
    """Write a checkpoint directory atomically (see the module docstring for the layout).

    Args:
        directory: where the checkpoint lives (created; an existing one is replaced only once the
            new one is completely on disk).
        model_state: ``model.state_dict()`` (Tensors or arrays).
        optimizer_state: ``optimizer.state_dict()``, or ``None``.
        state: JSON-ready extras (numbers, strings, lists, dicts, tuples): training state, config.

    Returns:
        the checkpoint directory as a ``Path``.
    """
    final = Path(directory)
    if final.exists() and not final.is_dir():
        raise CheckpointError(final, "is a file, but a checkpoint is a directory",
                              "choose another checkpoint path (or move the file away)")
    if final.is_dir():
        # The save replaces the whole directory: never one that holds anything else.
        others = sorted(p.name for p in final.iterdir() if p.name not in _CHECKPOINT_FILES)
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise CheckpointError(final, f"is a directory holding other files ({shown}); saving "
                                  "replaces the whole directory",
                                  "choose a path of its own for the checkpoint, e.g. "
                                  f"{final / 'checkpoint'}")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise CheckpointError(final, f"cannot be created: a file is in the way on "
                              f"{str(final.parent)!r}", "choose another checkpoint path") from None
    remove_stale_temporaries(final)
    model_arrays = {k: np.asarray(v._data if isinstance(v, Tensor) else v)
                    for k, v in model_state.items()}
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    tmp = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(final)}{os.getpid()}-", dir=final.parent))
    _SAVING.add(tmp)
    try:
        # mkdtemp makes a 0700 folder; a checkpoint is an output like any other.
        os.chmod(tmp, default_mode(directory=True))
        files = {MODEL_FILE: model_arrays}
        if optimizer_state is not None:
            files[OPTIMIZER_FILE], doc["optimizer"] = optimizer_to_saved(optimizer_state)
        for name, tensors in files.items():
            _write_safetensors(tmp / name, tensors)
            _fsync_file(tmp / name)
        doc["files"] = {name: _sha256(tmp / name) for name in files}
        doc.update(_encode(dict(state or {}), "state"))
        # state.json last: its checksums vouch for the tensor files written before it.
        _write_json(tmp / STATE_FILE, doc)
        _fsync_file(tmp / STATE_FILE)
        _fsync_dir(tmp)
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _SAVING.discard(tmp)
    return final


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp`` so that a complete checkpoint exists at every instant."""
    prev = final.with_name(final.name + ".prev")
    if final.exists():
        if prev.exists():
            shutil.rmtree(prev)
        os.replace(final, prev)
    # If final was missing, a leftover prev is the only good copy until the next line is done.
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    shutil.rmtree(prev, ignore_errors=True)


# ---------------------------------------------------------------------------- reading
def _not_a_file(path: Path) -> CheckpointError:
    return CheckpointError(path, "is a directory where a file should be",
                           "the checkpoint is damaged; remove that directory and use another "
                           "checkpoint")


def _resolve(directory: Path) -> Path:
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(directory, "is a file, but a checkpoint is a directory",
                              "point to the directory the run saved (e.g. runs/<name>/checkpoint)")
    if (directory / STATE_FILE).exists():
        if not (directory / STATE_FILE).is_file():
            raise _not_a_file(directory / STATE_FILE)
        return directory
    prev = directory.with_name(directory.name + ".prev")
    if not directory.exists() and (prev / STATE_FILE).exists():
        return prev  # a save was interrupted between its two renames
    if not directory.exists():
        raise CheckpointError(directory, "no such checkpoint directory",
                              "train without --resume first, or point to an existing checkpoint")
    raise CheckpointError(directory / STATE_FILE, "missing",
                          "this directory is not a descentlab checkpoint (or was damaged); "
                          "use another checkpoint or start a fresh run")


def _read_safetensors(path: Path, expected_sha: str | None) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if not path.exists():
        raise CheckpointError(path, "missing", "the checkpoint is incomplete; use another one")
    if not path.is_file():
        raise _not_a_file(path)
    if expected_sha is not None and _sha256(path) != expected_sha:
        raise CheckpointError(path, "contents do not match the SHA-256 recorded in "
                              f"{STATE_FILE} (corrupt or truncated)",
                              "restore it from a copy or start a fresh run")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(path, f"not a readable safetensors file ({e})",
                              "restore it from a copy or start a fresh run") from None


def load_checkpoint(directory: str | os.PathLike) -> Checkpoint:
    """Read and verify a checkpoint directory written by :func:`save_checkpoint`.

    Raises:
        CheckpointError: naming the file and what is wrong with it (missing, not JSON, wrong
            format, checksum mismatch, unreadable safetensors).
    """
    remove_stale_temporaries(directory)
    path = _resolve(Path(directory))
    state_path = path / STATE_FILE
    try:
        doc = json.loads(state_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(state_path, f"not valid JSON ({e})",
                              "the file is corrupt or truncated; use another checkpoint") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(state_path, f"not a {FORMAT} file",
                              "point to a directory written by descentlab's save_checkpoint")
    if doc.get("version") != VERSION:
        raise CheckpointError(state_path, f"format version {doc.get('version')!r} is not "
                              f"supported (this descentlab reads version {VERSION})",
                              "load it with the descentlab version that wrote it")
    sums = doc.pop("files", {})
    model = _read_safetensors(path / MODEL_FILE, sums.get(MODEL_FILE))
    optimizer = None
    if "optimizer" in doc:
        tensors = _read_safetensors(path / OPTIMIZER_FILE, sums.get(OPTIMIZER_FILE))
        optimizer = optimizer_from_saved(tensors, doc.pop("optimizer"))
    for key in ("format", "version"):
        doc.pop(key)
    state = _decode(doc)
    _check_trainer_state(state.get("trainer"), state_path)
    return Checkpoint(path=path, model=model, optimizer=optimizer, state=state)


def _check_trainer_state(trainer: Any, source: Path) -> None:
    """Refuse training counters no run can have written (an edited or damaged state.json)."""
    if trainer is None:
        return
    if not isinstance(trainer, dict):
        raise CheckpointError(source, f"'trainer' is a {type(trainer).__name__}, not a mapping",
                              "the file was edited or damaged; use another checkpoint")
    for key in ("epoch", "step"):
        value = trainer.get(key)
        if type(value) is not int or value < 0:
            raise CheckpointError(source, f"trainer {key} is {value!r}; it must be a whole number "
                                  ">= 0", "the file was edited or damaged; use another checkpoint")
    if not isinstance(trainer.get("history", []), list):
        raise CheckpointError(source, "trainer history is not a list",
                              "the file was edited or damaged; use another checkpoint")


def load_model_weights(model: Any, weights: Mapping[str, np.ndarray],
                       source: str | os.PathLike) -> None:
    """Copy checkpoint weights into ``model``, or raise :class:`CheckpointError` saying which keys
    or shapes differ (the checkpoint was saved from another architecture)."""
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    shapes = [f"{k} {tuple(weights[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in weights and tuple(weights[k].shape) != tuple(own[k].shape)]
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    if shapes:
        problems.append("shape mismatch: " + ", ".join(shapes))
    dtypes = [f"{k} {weights[k].dtype} vs model {np.dtype(own[k].dtype)}" for k in own
              if k in weights and weights[k].dtype != own[k].dtype]
    if dtypes:
        problems.append("dtype mismatch: " + ", ".join(dtypes))
    if problems:
        raise CheckpointError(source, "does not fit the model (" + "; ".join(problems) + ")",
                              "build the same architecture it was saved from (same --hidden, "
                              "--activation, dataset and dtype)")
    for key, arr in weights.items():
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise CheckpointError(source, f"weight {key} holds NaN/Inf",
                                  "use an earlier checkpoint")
    model.load_state_dict(weights)


def load_optimizer_state(optimizer: Any, saved: Mapping[str, Any],
                         source: str | os.PathLike, per_parameter: bool = True) -> None:
    """``optimizer.load_state_dict(saved)`` after checking that every saved tensor fits its
    parameter (same shape, a floating dtype for floating state), raising :class:`CheckpointError`
    naming ``source`` (the optimizer file) and the tensor otherwise. ``per_parameter=False`` is
    for the closure-driven methods (L-BFGS, BFGS, Newton), whose state lives on the flattened
    parameters: only the dtype check applies."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_ids = [i for group in saved.get("param_groups", []) for i in group.get("params", [])]
    by_index = dict(zip(saved_ids, params))
    problems = []
    for index, pstate in saved.get("state", {}).items():
        param = by_index.get(int(index))
        if param is None:
            continue  # load_state_dict names it below
        for name, value in pstate.items():
            arr = _array(value)
            if arr is None or name == "step":
                continue
            if per_parameter and tuple(arr.shape) != tuple(param.shape):
                problems.append(f"state.{index}.{name} has shape {tuple(arr.shape)} but its "
                                f"parameter has {tuple(param.shape)}")
            elif arr.dtype.kind != "f" and np.dtype(param.dtype).kind == "f":
                problems.append(f"state.{index}.{name} is {arr.dtype}, not a float")
    if problems:
        raise CheckpointError(source, "does not fit the optimizer (" + "; ".join(problems) + ")",
                              "resume with the same model and optimizer it was saved from")
    try:
        optimizer.load_state_dict(dict(saved))
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(source, f"does not fit the optimizer ({e})", "resume with the same "
                              "model and optimizer it was saved from") from None
