"""``torch.cuda`` for a build that computes on the CPU: the queries answer, real use explains.

``is_available()`` is False and ``device_count()`` 0, so the usual
``device = "cuda" if descentlab.cuda.is_available() else "cpu"`` picks the CPU. Seeding calls are
accepted and do nothing (there is no CUDA generator to seed); anything that needs a GPU raises
``CPUOnlyError`` saying so.
"""

from __future__ import annotations

from typing import Any

from .autograd.dtypes import CPUOnlyError, cpu_only_error
from .autograd.dtypes import device as _device

__all__ = ["CPUOnlyError", "is_available", "device_count", "manual_seed", "manual_seed_all",
           "synchronize", "current_device", "get_device_name", "set_device", "empty_cache",
           "is_initialized"]


def is_available() -> bool:
    """False: this build has no CUDA."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as torch does when CUDA is not available."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored, as torch does when CUDA is not available."""


def empty_cache() -> None:
    """Nothing to free: there is no CUDA memory."""


def synchronize(device: Any = None) -> None:
    raise _error()


def current_device() -> int:
    raise _error()


def get_device_name(device: Any = None) -> str:
    raise _error()


def set_device(device: Any) -> None:
    raise _error()


def _error() -> CPUOnlyError:
    return cpu_only_error(_device("cuda"))
