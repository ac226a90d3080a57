"""Linear, Identity, Flatten, Unflatten."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..autograd import creation as _c
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .tensor_call import TensorCall

__all__ = ["Linear", "Identity", "Flatten", "Unflatten"]


def _reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: W ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform_ with
    a = √5), b ~ U(−1/√fan_in, 1/√fan_in)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def _make_weight_and_bias(module: Module, weight_shape: tuple[int, ...], bias_size: int,
                          bias: bool, device: Any, dtype: Any) -> None:
    """Give ``module`` an uninitialized ``weight`` Parameter of ``weight_shape`` and a ``bias`` of
    ``bias_size`` (registered as None when ``bias`` is False)."""
    module.weight = Parameter(_c.empty(*weight_shape, dtype=dtype, device=device))
    if bias:
        module.bias = Parameter(_c.empty(bias_size, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)


class Linear(Module):
    """y = x·Wᵀ + b, W of shape (out_features, in_features), initialized as torch.

    Args:
        in_features: size of each input sample's last dim.
        out_features: size of each output sample's last dim.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (default: ``descentlab.get_default_dtype()``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        _make_weight_and_bias(self, (out_features, in_features), out_features, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x. Takes (and ignores) any constructor arguments, as torch, so it can stand in for any
    layer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(TensorCall):
    """Flatten dims ``start_dim..end_dim`` into one: (N, C, H, W) → (N, C·H·W) by default."""

    method, settings = "flatten", ("start_dim", "end_dim")

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__(start_dim=start_dim, end_dim=end_dim)


class Unflatten(TensorCall):
    """Split dim ``dim`` into ``unflattened_size``: the inverse of Flatten."""

    method, settings = "unflatten", ("dim", "unflattened_size")

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__(dim=dim, unflattened_size=tuple(unflattened_size))
