"""Embedding: a learnable lookup table of vectors indexed by integer ids."""

from __future__ import annotations

from typing import Any

from ..autograd import creation as _c
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _options_repr
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """out[…] = W[idx[…]]: row idx of a (num_embeddings, embedding_dim) table, as
    ``torch.nn.Embedding``.

    W ~ N(0, 1) as torch; the ``padding_idx`` row starts at zero and never receives a gradient
    (so it stays whatever it is). ``max_norm`` renormalizes looked-up rows in place (see
    ``functional.embedding``). ``scale_grad_by_freq`` and ``sparse`` are not supported.

    Args:
        num_embeddings: number of rows (the vocabulary size).
        embedding_dim: length of each vector.
        padding_idx: a row excluded from learning (negative counts from the end).
        max_norm, norm_type: cap on the norm of every looked-up row.
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
        sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False,
        device: Any = None, dtype: Any = None,
    ) -> None:
        super().__init__()
        if scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: scale_grad_by_freq=True and sparse=True are "
                                      "not supported; leave them False")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"num_embeddings ({num_embeddings})")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(_c.empty(num_embeddings, embedding_dim, dtype=dtype,
                                             device=device), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"{(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> "Embedding":
        """An Embedding whose table is ``embeddings`` (2-D; shared, not copied), frozen unless
        ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self) -> str:
        return _options_repr(f"{self.num_embeddings}, {self.embedding_dim}",
                             ("padding_idx", self.padding_idx, self.padding_idx is not None),
                             ("max_norm", self.max_norm, self.max_norm is not None),
                             ("norm_type", self.norm_type, self.norm_type != 2))
