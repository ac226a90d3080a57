"""Convolutions (Conv1d, Conv2d, ConvTranspose2d) and the pooling layers MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d."""

from __future__ import annotations

from typing import Any

from ..autograd.tensor import Tensor
from . import functional as F
from .linear import _make_weight_and_bias, _reset_weight_and_bias
from .module import Module, _options_repr

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _tuple(value: Any, name: str, dims: int) -> tuple[int, ...]:
    """An int or a ``dims``-tuple of ints as a ``dims``-tuple (torch's ``_single`` / ``_pair``)."""
    return (F._single(value, name),) if dims == 1 else F._pair(value, name)


def _check_groups(kind: str, in_channels: int, out_channels: int, groups: int) -> None:
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{kind}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
            f"divisible by groups ({groups})"
        )


class _ConvNd(Module):
    """What the convolutions share: channel counts, kernel geometry, the weight and bias with
    torch's initialization, and the repr. Subclasses check and parse their own arguments."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, ...],
                 stride: tuple[int, ...], padding: Any, dilation: tuple[int, ...], groups: int,
                 bias: bool, padding_mode: str, weight_shape: tuple[int, ...], device: Any,
                 dtype: Any) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = kernel_size, stride
        self.padding, self.dilation = padding, dilation
        self.padding_mode = padding_mode
        _make_weight_and_bias(self, weight_shape, out_channels, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self) -> str:
        zeros, ones = (0,) * len(self.kernel_size), (1,) * len(self.kernel_size)
        output_padding = getattr(self, "output_padding", zeros)
        return _options_repr(
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}",
            ("padding", repr(self.padding), self.padding != zeros),
            ("dilation", self.dilation, self.dilation != ones),
            ("output_padding", output_padding, output_padding != zeros),
            ("groups", self.groups, self.groups != 1),
            ("bias", False, self.bias is None))


class _Conv(_ConvNd):
    """Conv1d and Conv2d: a forward convolution over ``dims`` spatial dims, with torch's
    argument checks (padding 'same' needs stride 1; only ``padding_mode='zeros'``)."""

    _kind: str  # the class name in error messages
    dims: int

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
        padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
        padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
    ) -> None:
        kind, dims = self._kind, self.dims
        _check_groups(kind, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{kind}: padding_mode={padding_mode!r} is not supported; only 'zeros'"
            )
        if isinstance(padding, str) and padding not in ("same", "valid"):
            forms = "an int, a pair," if dims == 2 else "an int,"
            raise ValueError(f"{kind}: padding must be {forms} 'same' or 'valid', got "
                             f"{padding!r}")
        kernel_size = _tuple(kernel_size, "kernel_size", dims)
        stride = _tuple(stride, "stride", dims)
        padding = padding if isinstance(padding, str) else _tuple(padding, "padding", dims)
        dilation = _tuple(dilation, "dilation", dims)
        if padding == "same" and stride != (1,) * dims:
            raise ValueError(f"{kind}: padding='same' is not supported for strided convolutions")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode,
                         (out_channels, in_channels // groups) + kernel_size, device, dtype)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over (N, C_in, H, W), as ``torch.nn.Conv2d``.

    out[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]; H_out = ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1.
    W has shape (out_channels, in_channels / groups, kh, kw) and is initialized as torch's
    (kaiming_uniform_ with a = √5, bias U(±1/√fan_in)). Only ``padding_mode='zeros'``.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, dilation: an int or a pair.
        padding: an int, a pair, 'valid' or 'same'.
        groups: split channels into this many independent convolutions.
        bias: learn a per-output-channel bias (default True).
    """

    _kind, dims = "Conv2d", 2

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class Conv1d(_Conv):
    """1-D convolution (cross-correlation) over (N, C_in, L), as ``torch.nn.Conv1d``.

    out[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]; L_out = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1.
    W has shape (out_channels, in_channels / groups, k), initialized as torch's (kaiming_uniform_
    with a = √5, bias U(±1/√fan_in)). Only ``padding_mode='zeros'``.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, dilation: an int (or a 1-tuple).
        padding: an int, 'valid' or 'same'.
        groups: split channels into this many independent convolutions.
        bias: learn a per-output-channel bias (default True).
    """

    _kind, dims = "Conv1d", 1

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride[0], padding,
                        self.dilation[0], self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution over (N, C_in, H, W), as ``torch.nn.ConvTranspose2d``: the
    gradient of a Conv2d with respect to its input, used to upsample.

    H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1. W has shape
    (in_channels, out_channels / groups, kh, kw) and is initialized as torch's. Only
    ``padding_mode='zeros'``.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding, output_padding, dilation: an int or a pair.
        groups: split channels into this many independent convolutions.
        bias: learn a per-output-channel bias (default True).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
        padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
        dilation: Any = 1, padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
    ) -> None:
        _check_groups("ConvTranspose2d", in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"Only \"zeros\" padding mode is supported for ConvTranspose2d, got "
                             f"{padding_mode!r}")
        kernel_size = F._pair(kernel_size, "kernel_size")
        stride = F._pair(stride, "stride")
        padding = F._pair(padding, "padding")
        output_padding = F._pair(output_padding, "output_padding")
        dilation = F._pair(dilation, "dilation")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode,
                         (in_channels, out_channels // groups) + kernel_size, device, dtype)
        self.output_padding = output_padding

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        if output_size is not None:
            raise NotImplementedError("ConvTranspose2d: output_size is not supported; set "
                                      "output_padding instead")
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class _Pool2d(Module):
    """The window of MaxPool2d and AvgPool2d: the stride defaults to the kernel size, as torch's."""

    def __init__(self, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode


class MaxPool2d(_Pool2d):
    """Max over each kernel_size window (stride defaults to kernel_size; padding is −∞)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation, self.return_indices = dilation, return_indices

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """Mean over each kernel_size window (stride defaults to kernel_size; padding is 0)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average into a fixed (Ho, Wo) grid whatever the input size, as
    ``torch.nn.AdaptiveAvgPool2d``: bin i covers rows [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉), likewise columns.

    Args:
        output_size: an int or a pair (None in the pair keeps that input size).
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
