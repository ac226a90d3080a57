"""Activation functions as modules (formulas in ``nn.functional``)."""

from __future__ import annotations

from ..autograd import creation as _c
from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Softplus", "Softmax",
    "LogSoftmax",
]


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^(−x))."""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class Tanh(Module):
    """tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class ReLU(Module):
    """max(0, x). ``inplace`` is accepted for torch compatibility; the result is a new tensor."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return input.relu()

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x ≥ 0 else negative_slope·x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return input.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


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


class ELU(Module):
    """x if x > 0 else α·(e^x − 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return input.elu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x·Φ(x); ``approximate='tanh'`` uses ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return input.gelu(approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/β)·log(1 + e^(βx)), linear (x) where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return input.softplus(self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


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
