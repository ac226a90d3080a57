"""Dropout: element-wise (Dropout) and channel-wise (Dropout1d, Dropout2d)."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout in training: y = x·m/(1 − p), m ~ Bernoulli(1 − p) per element from the
    global generator (``descentlab.manual_seed``); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Channel dropout for (N, C, L) or (C, L): each channel is zeroed whole with probability p,
    the rest scaled by 1/(1 − p) (neighbouring positions are correlated, so element-wise dropout
    barely regularizes conv features). The identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Channel dropout for (N, C, H, W): each feature map is zeroed whole with probability p,
    the rest scaled by 1/(1 − p). A 3-D input is read as (N, C, L), as torch (with its
    warning). The identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)
