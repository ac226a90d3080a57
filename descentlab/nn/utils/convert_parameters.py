"""Parameters ↔ one flat vector (``torch.nn.utils.parameters_to_vector`` and its inverse)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ...autograd import creation as _c
from ...autograd.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate every parameter, flattened, into one 1-D tensor (differentiable)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return _c.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place.

    Unlike torch (which rebinds each ``param.data`` to a view of ``vec``), the values are
    copied, so later changes to ``vec`` do not leak into the model.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)} but the parameters hold "
            f"{total} values; pass a 1-D vector of length {total}"
        )
    offset = 0
    for p in params:
        n = p.numel()
        np.copyto(p._data, vec._data[offset:offset + n].reshape(p.shape), casting="unsafe")
        p._bump_version()
        offset += n
