"""Residual connections: y = x + f(x), so the gradient always has the identity path."""

from __future__ import annotations

from typing import Callable

from ..autograd.tensor import Tensor
from .activation import ReLU
from .containers import Sequential
from .linear import Identity, Linear
from .module import Module

__all__ = ["Residual", "ResidualBlock"]


class Residual(Module):
    """y = x + module(x) (``module`` must keep the shape). Not in torch.nn; a small helper.

    Because ∂y/∂x = I + ∂module/∂x, gradients reach early layers even when the module's own
    Jacobian is small: the cure for vanishing gradients in deep MLPs.
    """

    def __init__(self, module: Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, input: Tensor) -> Tensor:
        out = self.module(input)
        if out.shape != input.shape:
            raise ValueError(
                f"Residual: the wrapped module changed the shape {tuple(input.shape)} → "
                f"{tuple(out.shape)}; x + f(x) needs f to keep it"
            )
        return input + out


class ResidualBlock(Residual):
    """The MLP residual block y = x + Linear(act(norm(Linear(act(norm(x)))))) (pre-activation).

    Args:
        dim: width of input and output (and of the hidden layer).
        activation: a module class (default ReLU), instantiated twice.
        norm: a normalization class taking ``dim`` (e.g. nn.LayerNorm, nn.BatchNorm1d), or None.
    """

    def __init__(self, dim: int, activation: Callable[[], Module] = ReLU,
                 norm: Callable[[int], Module] | None = None) -> None:
        def make_norm() -> Module:
            return norm(dim) if norm is not None else Identity()

        super().__init__(Sequential(
            make_norm(), activation(), Linear(dim, dim),
            make_norm(), activation(), Linear(dim, dim),
        ))
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
