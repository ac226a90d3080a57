"""The optimization lab: test landscapes, batched trajectories, sweeps and diagnostics.

It reuses the engine for ∇f and ∇²f and the update rules of ``descentlab.optim.rules`` for the
steps; nothing here re-derives either.
"""

from .formula import parse_function
from .functions import CriticalPoint, Landscape, function_names, get_function

__all__ = ["CriticalPoint", "Landscape", "function_names", "get_function", "parse_function"]
