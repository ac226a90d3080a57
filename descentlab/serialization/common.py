"""What descentlab's format and the torch.save reader share: the error of a refused file,
reading a file's bytes, and ``map_location``."""

from __future__ import annotations

import os
import pickle
from typing import Any

from ..autograd import dtypes as _dt
from ..autograd.tensor import Tensor


class UnsafeFileError(pickle.UnpicklingError):
    """A file asked ``load`` for something other than tensors and containers, or is damaged."""


def read_all(f: Any) -> bytes:
    """The whole content of a path or a binary file object."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read()
    if hasattr(f, "read"):
        return f.read()
    raise TypeError(f"load(): expected a path or a binary file object, got {type(f).__name__}")


def check_map_location(map_location: Any) -> None:
    """Refuse a ``map_location`` that names a device other than the CPU (``CPUOnlyError``)."""
    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for t in targets:
        _dt.check_device(t)


def map_tensor(t: Tensor, location: str, map_location: Any) -> Tensor:
    """``t`` as ``map_location`` places it: a callable's answer, else ``t`` itself (on the CPU)."""
    if callable(map_location) and not isinstance(map_location, _dt.device):
        got = map_location(t, location)
        if got is None:
            return t
        if not isinstance(got, Tensor):
            raise TypeError(f"load(): map_location returned a {type(got).__name__}, expected the "
                            f"tensor (storage) it was given or another tensor")
        return got
    return t
