"""Activation functions (``torch.nn.functional``'s relu, sigmoid, softmax, …): each a Tensor
method called with torch's signature, so its derivative is the op's own."""

from __future__ import annotations

from typing import Any

from ...autograd.tensor import Tensor, where

__all__ = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "softplus", "prelu", "softmax",
    "log_softmax"]


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x). ``inplace`` is accepted for torch compatibility; the result is a new tensor."""
    return input.relu()


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e^(−x))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))."""
    return input.tanh()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x ≥ 0 else negative_slope·x."""
    return input.leaky_relu(negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else α·(e^x − 1)."""
    return input.elu(alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) (Φ the standard normal CDF); ``approximate='tanh'``:
    ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    return input.gelu(approximate=approximate)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β)·log(1 + e^(βx)), and x itself where βx > threshold (for stability)."""
    return input.softplus(beta, threshold)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x ≥ 0 else a·x with a learnable ``weight`` (one value, or one per channel = dim 1)."""
    a = weight
    if weight.numel() > 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise ValueError(
                f"prelu: weight has {weight.numel()} values (one per channel) but the input of "
                f"shape {tuple(input.shape)} has "
                f"{input.shape[1] if input.ndim >= 2 else 'no'} channels in dim 1; use "
                f"PReLU(num_parameters={input.shape[1] if input.ndim >= 2 else 1})"
            )
        a = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return where(input >= 0, input, a * input)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """e^(x_i) / Σ_j e^(x_j) along ``dim`` (computed with the max subtracted)."""
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x_i − logΣ_j e^(x_j) along ``dim``, stable for large logits."""
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)
