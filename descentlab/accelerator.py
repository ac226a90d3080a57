"""``torch.accelerator``: there is none here, so code that asks falls back to the CPU."""

from __future__ import annotations

from typing import Any

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    """False: this build computes on the CPU."""
    return False


def current_accelerator(check_available: bool = False) -> Any:
    """None, as torch returns when no accelerator is present."""
    return None


def device_count() -> int:
    return 0
