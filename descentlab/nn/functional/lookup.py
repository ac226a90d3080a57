"""Index lookups: ``embedding`` (rows of a table, with torch's max_norm) and ``one_hot``."""

from __future__ import annotations

import numpy as np

from ...autograd.function import no_grad
from ...autograd.tensor import Tensor, where

__all__ = ["embedding", "one_hot"]


def embedding(
    input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
    norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
) -> Tensor:
    """Look up rows: out[…] = W[idx[…]], shape idx.shape + (embedding_dim,).

    ∂/∂W adds each upstream row into the row it was read from (repeats accumulate), except the
    ``padding_idx`` row, which gets no gradient. ``max_norm``: as torch, every looked-up row
    whose ``norm_type``-norm exceeds it is first rescaled in place to norm max_norm (modifying
    ``weight``). ``scale_grad_by_freq`` and ``sparse`` are not supported.
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq=True and sparse=True are not "
                                  "supported; leave them False")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"embedding: indices must be an integer tensor, got dtype {idx.dtype}; "
                         f"use input.long()")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(
            f"embedding: index {int(idx.max() if idx.max() >= num else idx.min())} is out of "
            f"range for a table of {num} rows; indices must be in [0, {num - 1}]"
        )
    if max_norm is not None:
        with no_grad():
            rows = np.unique(idx)
            table = weight._data
            norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
            big = norms > max_norm
            if big.any():
                scale = max_norm / (norms[big] + 1e-7)
                table[rows[big]] *= scale[:, None].astype(table.dtype)
                weight._bump_version()
    out = weight[idx]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num
        pad_rows = (idx == padding_idx)[..., None]
        if pad_rows.any():
            out = where(Tensor._wrap(pad_rows), out.detach(), out)
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(…,) class indices → (…, num_classes) int64 rows of 0 with a 1 at the index."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise ValueError(f"one_hot is only applicable to index tensors, got dtype {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes}), got min {idx.min()} and max "
            f"{idx.max()}"
        )
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[idx])
