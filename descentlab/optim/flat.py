"""Parameters seen as one flat vector: read, write and gradient, in one layout.

The closure-driven optimizers (``second_order``) and the lab's model probes (``lab.landscape``)
treat a list of parameter tensors as one vector θ = concat(p.ravel() for p in params). This is
the one place that layout is written: ``FlatParameters(params, dtype)`` reads θ, writes θ back,
reads ∇θ, and splits or joins flat vectors along the same offsets.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["FlatParameters"]


class FlatParameters:
    """A fixed list of tensors as one flat vector of ``dtype``.

    Args:
        params: the tensors, in the order of the flat layout.
        dtype: the NumPy dtype of the vectors read (default: the tensors' common dtype).
    """

    def __init__(self, params: Sequence[Any], dtype: Any = None) -> None:
        self.params = list(params)
        self.dtype = np.dtype(np.result_type(*[p.dtype for p in self.params])
                              if dtype is None else dtype)
        self.shapes = [tuple(p.shape) for p in self.params]
        self.sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.shapes]
        self.size = sum(self.sizes)

    def get(self) -> np.ndarray:
        """θ: a new flat copy of the tensors' values."""
        return self.join([p._data for p in self.params])

    def set(self, theta: np.ndarray) -> None:
        """Write the flat θ into the tensors in place (cast to each tensor's dtype)."""
        theta = np.asarray(theta)
        if theta.shape != (self.size,):
            raise ValueError(f"theta has shape {theta.shape} but the parameters hold {self.size} "
                             f"values; pass a flat vector of shape ({self.size},)")
        for p, piece in zip(self.params, self.split(theta), strict=True):
            np.copyto(p._data, piece, casting="unsafe")
            p._bump_version()

    def grad(self) -> np.ndarray:
        """∇θ: the tensors' ``.grad`` values as one flat vector (zeros where a grad is None)."""
        return self.join([None if p.grad is None else p.grad._data for p in self.params])

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        """The flat θ cut into views shaped like the tensors."""
        pieces, offset = [], 0
        for shape, n in zip(self.shapes, self.sizes, strict=True):
            pieces.append(theta[offset:offset + n].reshape(shape))
            offset += n
        return pieces

    def join(self, arrays: Sequence[np.ndarray | None]) -> np.ndarray:
        """One flat vector of ``dtype`` from per-tensor arrays (None reads as zeros)."""
        return np.concatenate([
            np.zeros(n, self.dtype) if a is None else np.asarray(a).ravel()
            for a, n in zip(arrays, self.sizes, strict=True)]).astype(self.dtype, copy=False)
