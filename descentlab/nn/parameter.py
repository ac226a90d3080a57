"""Parameter: a Tensor that a Module registers as learnable (as ``torch.nn.Parameter``)."""

from __future__ import annotations

from typing import Any

from ..autograd import dtypes as _dt
from ..autograd.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that ``Module.__setattr__`` registers.

    ``Parameter(t)`` shares ``t``'s values (no copy), as in PyTorch; results of ops on a
    Parameter are plain Tensors. ``isinstance(p, descentlab.Tensor)`` holds.

    Args:
        data: a Tensor or anything ``descentlab.tensor`` accepts; empty when None.
        requires_grad: whether the optimizer should see gradients for it (default True).
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if isinstance(data, Tensor):
            self._data = data._data
            # Sharing the version counter keeps in-place checks valid across both views.
            self._vbox = data._vbox
        else:
            self._data = _dt.as_array(data if data is not None else [], None)
            self._vbox = [0]
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

