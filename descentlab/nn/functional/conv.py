"""The linear layer's product and the convolutions: ``linear``, ``conv1d``, ``conv2d``,
``conv_transpose2d``, and the argument parsing (pairs, paddings, batching) the pools share."""

from __future__ import annotations

from typing import Any

from ...autograd import ops as _ops
from ...autograd.creation import pad as _pad
from ...autograd.graph import label
from ...autograd.ops.conv import Conv2dFn, ConvGeometry, ConvInputGrad
from ...autograd.ops.windows import Im2Col, output_size
from ...autograd.tensor import Tensor

__all__ = ["linear", "conv1d", "conv2d", "conv_transpose2d"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x·Wᵀ + b, with W of shape (out_features, in_features)."""
    xd, wd = input._data, weight._data
    if xd.ndim == 0 or wd.ndim == 0 or xd.shape[-1] != wd.shape[-1]:
        raise ValueError(
            f"linear: input has {xd.shape[-1] if xd.ndim else 0} features in its last dim (shape "
            f"{tuple(input.shape)}) but the weight of shape {tuple(weight.shape)} expects "
            f"{wd.shape[-1] if wd.ndim else 0}; fix in_features or reshape/flatten the input"
        )
    if xd.dtype is not wd.dtype and xd.dtype != wd.dtype or (
            bias is not None and bias._data.dtype != wd.dtype):
        raise RuntimeError(
            f"linear: input is {input.dtype} but the layer's weight is {weight.dtype}; convert "
            f"one of them (x.to({weight.dtype}) or model.to({input.dtype}))"
        )
    if bias is None:
        return _ops.Linear.apply(input, weight)
    return _ops.Linear.apply(input, weight, bias)


def _pair(v: Any, name: str) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _conv_padding(padding: Any, kernel: tuple, dilation: tuple) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) pads from an int, a pair, 'valid' or 'same' (stride 1)."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        th, tw = (d * (k - 1) for d, k in zip(dilation, kernel))
        # As torch: an odd total puts the extra row/column at the end.
        return tw // 2, tw - tw // 2, th // 2, th - th // 2
    ph, pw = _pair(padding, "padding")
    return pw, pw, ph, ph


def _batched(input: Tensor, op: str) -> tuple[Tensor, bool]:
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise ValueError(
            f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
            f"{tuple(input.shape)}"
        )
    return input, False


def _check_windows(x: Tensor, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> None:
    h, w = x.shape[2:]
    ho = output_size(h, kernel[0], stride[0], dilation[0])
    wo = output_size(w, kernel[1], stride[1], dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input "
            f"{(h, w)}; use a smaller kernel or more padding"
        )


def _windows(x: Tensor, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> Tensor:
    _check_windows(x, kernel, stride, dilation, op)
    return Im2Col.apply(x, kernel=kernel, stride=stride, dilation=dilation)


def conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
    dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as torch:
    out[n, o, i, j] = b[o] + Σ_{c,a,b} W[o, c, a, b] · x_pad[n, g·C/G + c, i·s + a·d, j·s + b·d].

    Computed as one batched matrix product over the windows (``Conv2dFn``), whose backward
    is the transposed convolution and the weight-gradient product, each differentiable again.

    Args:
        input: (N, C, H, W) or (C, H, W).
        weight: (O, C / groups, kh, kw).
        stride, padding, dilation: an int or a pair; padding may also be 'valid' or 'same'.
    """
    x, unbatched = _batched(input, "conv2d")
    out_ch, cg, kh, kw = weight.shape
    n, c = x.shape[:2]
    if c != cg * groups or out_ch % groups:
        raise ValueError(
            f"conv2d: given groups={groups}, weight of size {tuple(weight.shape)}, expected "
            f"input{tuple(x.shape)} to have {cg * groups} channels, but got {c} channels instead"
        )
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if padding == "same" and stride != (1, 1):
        raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
    pads = _conv_padding(padding, (kh, kw), dilation)
    if any(pads):
        x = _pad(x, pads)
    _check_windows(x, (kh, kw), stride, dilation, "conv2d")
    geometry = ConvGeometry((kh, kw), stride, dilation, groups)
    args = (x, weight) if bias is None else (x, weight, bias)
    out = label(Conv2dFn.apply(*args, geometry=geometry), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def _single(v: Any, name: str) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple, got {v!r}")
        return int(v[0])
    return int(v)


def conv1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
    dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """1-D cross-correlation, as torch:
    out[n, o, i] = b[o] + Σ_{c,a} W[o, c, a] · x_pad[n, g·C/G + c, i·s + a·d].

    Computed as ``conv2d`` on a height-1 image, so it shares its im2col path and its gradients.

    Args:
        input: (N, C, L) or (C, L).
        weight: (O, C / groups, k).
        stride, padding, dilation: an int (or a 1-tuple); padding may be 'valid' or 'same'.
    """
    if input.ndim not in (2, 3):
        raise ValueError(f"conv1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{tuple(input.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (out_channels, in_channels / groups, "
                         f"kernel), got shape {tuple(weight.shape)}")
    pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias,
                 (1, _single(stride, "stride")), pad2, (1, _single(dilation, "dilation")), groups)
    return out.squeeze(-2)


def conv_transpose2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
    output_padding: Any = 0, groups: int = 1, dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution (the adjoint of ``conv2d`` with respect to its input), as torch:
    every input pixel scatters W[c] scaled by x[n, c, i, j] onto the output window at
    (i·s, j·s), then ``padding`` rows/columns are cropped from each side and ``output_padding``
    zero rows/columns added at the end; H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1.

    It is ``ConvInputGrad``, conv2d's input gradient with x as the upstream gradient: one
    batched product with the kernels then kh·kw strided adds; its derivatives are conv2d and
    the weight-gradient product, so gradients of any order come from the engine.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kh, kw) — torch's layout, in and out swapped vs conv2d.
        stride, padding, output_padding, dilation: an int or a pair.
    """
    x, unbatched = _batched(input, "conv_transpose2d")
    cin, og, kh, kw = weight.shape
    n, c, h, w = x.shape
    if c != cin or cin % groups:
        raise ValueError(
            f"conv_transpose2d: given groups={groups}, weight of size {tuple(weight.shape)}, "
            f"expected input{tuple(x.shape)} to have {cin} channels, but got {c} channels instead"
        )
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    (ph, pw), (oph, opw) = _pair(padding, "padding"), _pair(output_padding, "output_padding")
    for op_, s, d in ((oph, stride[0], dilation[0]), (opw, stride[1], dilation[1])):
        if op_ >= max(s, d):
            raise ValueError(
                f"conv_transpose2d: output_padding {(oph, opw)} must be smaller than either "
                f"stride {stride} or dilation {dilation}"
            )
    cout = og * groups
    full = ((h - 1) * stride[0] + dilation[0] * (kh - 1) + 1,
            (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1)
    out = ConvInputGrad.apply(x, weight, shape=(n, cout) + full,
                              geometry=ConvGeometry((kh, kw), stride, dilation, groups))
    if ph or pw or oph or opw:
        # Negative pads crop: ``padding`` off both sides, ``output_padding`` zeros at the end.
        if full[0] + oph - 2 * ph < 1 or full[1] + opw - 2 * pw < 1:
            raise ValueError(
                f"conv_transpose2d: padding {(ph, pw)} leaves no output from the "
                f"{full[0] + oph}×{full[1] + opw} result; use less padding"
            )
        out = _pad(out, (-pw, opw - pw, -ph, oph - ph))
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1)
    return out.squeeze(0) if unbatched else out
