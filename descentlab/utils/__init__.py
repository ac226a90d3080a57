"""PyTorch-shaped import paths: ``descentlab.utils.data`` is ``descentlab.data``."""

from . import data

__all__ = ["data"]
