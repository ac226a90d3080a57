"""Activation functions as modules (formulas in ``nn.functional``)."""

from __future__ import annotations

from ..autograd import creation as _c
from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter
from .tensor_call import TensorCall

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Softplus", "Softmax",
    "LogSoftmax",
]


class Sigmoid(TensorCall):
    """σ(x) = 1 / (1 + e^(−x))."""

    method = "sigmoid"


class Tanh(TensorCall):
    """tanh(x)."""

    method = "tanh"


class ReLU(TensorCall):
    """max(0, x). ``inplace`` is accepted for torch compatibility; the result is a new tensor."""

    method = "relu"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class LeakyReLU(TensorCall):
    """x if x ≥ 0 else negative_slope·x."""

    method, settings = "leaky_relu", ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(negative_slope=negative_slope, inplace=inplace)


class PReLU(Module):
    """x if x ≥ 0 else a·x with a learnable slope a: one shared (``num_parameters=1``) or one per
    channel (dim 1), initialized to ``init`` (0.25)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: object = None,
                 dtype: object = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_c.full((num_parameters,), init, dtype=dtype))

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(TensorCall):
    """x if x > 0 else α·(e^x − 1)."""

    method, settings = "elu", ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha=alpha, inplace=inplace)


class GELU(TensorCall):
    """x·Φ(x); ``approximate='tanh'`` uses ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""

    method, settings = "gelu", ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__(approximate=approximate)


class Softplus(TensorCall):
    """(1/β)·log(1 + e^(βx)), linear (x) where βx > threshold."""

    method, settings = "softplus", ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class _AlongDim(Module):
    """A normalization along one dim (Softmax, LogSoftmax); ``dim`` None is refused when called,
    since PyTorch's implicit choice is deprecated."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """e^(x_i) / Σ_j e^(x_j) along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return input.softmax(_dim(self.dim, input, "Softmax"))


class LogSoftmax(_AlongDim):
    """log softmax along ``dim``: x_i − logΣ_j e^(x_j)."""

    def forward(self, input: Tensor) -> Tensor:
        return input.log_softmax(_dim(self.dim, input, "LogSoftmax"))


def _dim(dim: int | None, input: Tensor, name: str) -> int:
    if dim is None:
        raise ValueError(
            f"{name}: dim is required (PyTorch's implicit choice is deprecated); e.g. "
            f"{name}(dim=1) for (N, C) logits"
        )
    return dim
