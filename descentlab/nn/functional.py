"""Stateless neural-network functions (``torch.nn.functional``): the math behind every layer.

Everything here is composed of differentiable Tensor ops (plus the im2col pair for windows), so
gradients of any order come from the engine. Signatures and defaults follow PyTorch; where this
module is stricter (losses refuse mismatched shapes instead of broadcasting) the docstring says so.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd import ops as _ops
from ..autograd.creation import pad as _pad
from ..autograd.function import named_node as _named_node
from ..autograd.function import no_grad
from ..autograd.ops.nn import (
    Col2Im,
    CrossEntropyRows,
    Im2Col,
    MaxPool2dFn,
    im2col_array,
    output_size,
)
from ..autograd.tensor import Tensor, where

__all__ = [
    "relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "softplus", "prelu", "softmax",
    "log_softmax", "linear", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "batch_norm", "layer_norm", "dropout", "dropout1d", "dropout2d",
    "embedding", "pad", "one_hot", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "sse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]

pad = _pad

# ----------------------------------------------------------------------------- activations


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


# ----------------------------------------------------------------------------- linear and conv


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

    Computed as im2col (windows → rows) then one matrix product per group.

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
    cols = _windows(x, (kh, kw), stride, dilation, "conv2d")
    _, ho, wo = cols.shape[:3]
    m = n * ho * wo
    if groups == 1:
        out = cols.reshape(m, c * kh * kw) @ weight.reshape(out_ch, -1).t()
    else:
        kg = cg * kh * kw
        per_group = cols.reshape(m, groups, kg).permute(1, 0, 2)
        w = weight.reshape(groups, out_ch // groups, kg).transpose(1, 2)
        out = (per_group @ w).permute(1, 0, 2).reshape(m, out_ch)
    if bias is not None:
        out = out + bias
    out = out.reshape(n, ho, wo, out_ch).permute(0, 3, 1, 2)
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

    Computed as one matrix product (x against the flattened kernels) then col2im, whose adjoint
    is im2col, so gradients of any order come from the engine.

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
    m = n * h * w
    rows = x.permute(0, 2, 3, 1).reshape(m, c)
    if groups == 1:
        cols = rows @ weight.reshape(cin, og * kh * kw)
    else:
        cg = cin // groups
        per_group = rows.reshape(m, groups, cg).permute(1, 0, 2)
        cols = (per_group @ weight.reshape(groups, cg, og * kh * kw)).permute(1, 0, 2)
    full = ((h - 1) * stride[0] + dilation[0] * (kh - 1) + 1,
            (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1)
    out = Col2Im.apply(cols.reshape(n, h, w, cout, kh, kw), shape=(n, cout) + full,
                       kernel=(kh, kw), stride=stride, dilation=dilation)
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


def _pool_args(kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool, op: str) -> tuple:
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported; pad the input instead")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: pad should be at most half of effective kernel size, but got pad={padding} "
            f"and kernel_size={kernel}"
        )
    return kernel, stride, padding


def max_pool2d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: bool = False, return_indices: bool = False,
) -> Tensor:
    """out[n, c, i, j] = max over the window at (i·s, j·s) of x padded with −∞.

    The gradient goes to the first maximal entry of each window, as torch. ``return_indices`` is
    not supported.
    """
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported")
    kernel, stride, (ph, pw) = _pool_args(kernel_size, stride, padding, ceil_mode, "max_pool2d")
    x, unbatched = _batched(input, "max_pool2d")
    if ph or pw:
        x = _pad(x, (pw, pw, ph, ph), value=-math.inf)
    dilation = _pair(dilation, "dilation")
    _check_windows(x, kernel, stride, dilation, "max_pool2d")
    out = MaxPool2dFn.apply(x, kernel=kernel, stride=stride, dilation=dilation)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
    ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None,
) -> Tensor:
    """out[n, c, i, j] = (1/D)·Σ window of x zero-padded, D = kh·kw (or the number of real,
    unpadded entries when ``count_include_pad=False``, or ``divisor_override``)."""
    kernel, stride, (ph, pw) = _pool_args(kernel_size, stride, padding, ceil_mode, "avg_pool2d")
    x, unbatched = _batched(input, "avg_pool2d")
    h, w = x.shape[2:]
    if ph or pw:
        x = _pad(x, (pw, pw, ph, ph))
    cols = _windows(x, kernel, stride, (1, 1), "avg_pool2d")
    n, ho, wo, c = cols.shape[:4]
    total = cols.reshape(n, ho, wo, c, -1).sum(-1)
    if divisor_override is not None:
        out = total / divisor_override
    elif count_include_pad or not (ph or pw):
        out = total / (kernel[0] * kernel[1])
    else:
        # Count the real entries of every window by pooling a padded mask of ones.
        ones = np.pad(np.ones((1, 1, h, w), dtype=x.dtype), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        counts = im2col_array(ones, kernel, stride, (1, 1)).reshape(1, ho, wo, 1, -1).sum(-1)
        out = total / Tensor._wrap(counts)
    out = out.permute(0, 3, 1, 2)
    return out.squeeze(0) if unbatched else out


def _adaptive_bins(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix of torch's adaptive bins [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over torch's adaptive bins: out[n, c, i, j] = mean of x[n, c, rows_i, cols_j]
    with rows_i = [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉) (likewise cols_j), so any H, W maps to (Ho, Wo).

    The mean over a rectangle is separable, so it is two matrix products: P_h · x · P_wᵀ.

    Args:
        output_size: an int or a pair; None in the pair keeps that input size.
    """
    x, unbatched = _batched(input, "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                             f"{output_size!r}")
        ho, wo = (h if output_size[0] is None else int(output_size[0]),
                  w if output_size[1] is None else int(output_size[1]))
    else:
        ho = wo = int(output_size)
    if ho < 1 or wo < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got "
                         f"{(ho, wo)}")
    out = x
    if wo != w:
        out = out @ Tensor._wrap(np.ascontiguousarray(_adaptive_bins(w, wo, x._data.dtype).T))
    if ho != h:
        out = Tensor._wrap(_adaptive_bins(h, ho, x._data.dtype)) @ out
    if out is x:
        out = x * 1.0
    return out.squeeze(0) if unbatched else out


# ----------------------------------------------------------------------------- normalization


def batch_norm(
    input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
    weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
    momentum: float = 0.1, eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β per channel (dim 1), over all other dims.

    Training: μ, σ² are the batch's (σ² biased), and the running statistics are updated in place
    as r ← (1 − momentum)·r + momentum·s, with the *unbiased* batch variance for running_var (as
    torch). Otherwise μ, σ² are the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with a channel dim (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input of "
                f"shape {tuple(input.shape)}; use a batch larger than 1 or call model.eval()"
            )
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                rm, rv = running_mean._data, running_var._data
                rm *= 1 - m
                rm += m * mean._data.reshape(c)
                rv *= 1 - m
                rv += m * var._data.reshape(c) * (n / (n - 1))
                running_mean._bump_version()
                running_var._bump_version()
        out = centered / (var + eps).sqrt()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when "
                             "training=False")
        out = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
    bias: Tensor | None = None, eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β, with μ, σ² (biased) over the last len(normalized_shape)
    dims of each sample."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(
            f"layer_norm: normalized_shape {normalized_shape} must equal the last {k} dims of the "
            f"input, got input shape {tuple(input.shape)}"
        )
    dims = tuple(range(input.ndim - k, input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: y = x·m / (1 − p), m ~ Bernoulli(1 − p) from the global generator, so
    E[y] = x and evaluation needs no rescaling. Identity when not ``training`` or p = 0."""
    return _masked_dropout(input, p, training, tuple(input.shape))


def _masked_dropout(input: Tensor, p: float, training: bool, mask_shape: tuple) -> Tensor:
    """x·m / (1 − p) with m ~ Bernoulli(1 − p) of ``mask_shape`` (broadcast over ``input``)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = _dt.rng(None).random(mask_shape) >= p
    noise = keep.astype(input.dtype) / np.asarray(1.0 - p, dtype=input.dtype)
    return input * Tensor._wrap(noise)


def _feature_dropout(input: Tensor, p: float, training: bool) -> Tensor:
    """Channel dropout: one Bernoulli(1 − p) draw per (sample, channel), i.e. a mask of shape
    (N, C, 1, …, 1) broadcast over the rest, scaled by 1/(1 − p) (torch's feature_dropout)."""
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked_dropout(input, p, training, shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the kept ones by
    1/(1 − p): y[n, c, :] = x[n, c, :]·m[n, c]/(1 − p). Identity when not ``training``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input; dropout1d "
            f"drops channels of (N, C, L) or (C, L) inputs (use dropout for element-wise)"
        )
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim == 2 and training and p > 0:
        return _feature_dropout(input.unsqueeze(0), p, training).squeeze(0)
    return _feature_dropout(input, p, training)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p, scaling the kept ones by
    1/(1 − p): y[n, c] = x[n, c]·m[n, c]/(1 − p). As torch, a 3-D input is read as (N, C, L)
    (with torch's warning), and the mask always covers dims 0 and 1."""
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            f"will result in an error in a future release. To retain the behavior and silence "
            f"this warning, please use dropout instead.", stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. To maintain the 1D channel-wise dropout behavior, please switch "
            "to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training)


def embedding(
    input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
    norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
) -> Tensor:
    """Look up rows: out[…] = W[idx[…]], shape idx.shape + (embedding_dim,).

    ∂/∂W adds each upstream row into the row it was read from (repeats accumulate), except the
    ``padding_idx`` row, which gets no gradient. ``max_norm``: as torch, every looked-up row
    whose ``norm_type``-norm exceeds it is first rescaled in place to norm max_norm (modifying
    ``weight``). ``scale_grad_by_freq`` and ``sparse`` are not supported.
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq=True and sparse=True are not "
                                  "supported; leave them False")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"embedding: indices must be an integer tensor, got dtype {idx.dtype}; "
                         f"use input.long()")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(
            f"embedding: index {int(idx.max() if idx.max() >= num else idx.min())} is out of "
            f"range for a table of {num} rows; indices must be in [0, {num - 1}]"
        )
    if max_norm is not None:
        with no_grad():
            rows = np.unique(idx)
            table = weight._data
            norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
            big = norms > max_norm
            if big.any():
                scale = max_norm / (norms[big] + 1e-7)
                table[rows[big]] *= scale[:, None].astype(table.dtype)
                weight._bump_version()
    out = weight[idx]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num
        pad_rows = (idx == padding_idx)[..., None]
        if pad_rows.any():
            out = where(Tensor._wrap(pad_rows), out.detach(), out)
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(…,) class indices → (…, num_classes) int64 rows of 0 with a 1 at the index."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise ValueError(f"one_hot is only applicable to index tensors, got dtype {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes}), got min {idx.min()} and max "
            f"{idx.max()}"
        )
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[idx])


# ----------------------------------------------------------------------------- losses


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"{reduction!r} is not a valid value for reduction; use 'mean', 'sum' or 'none'"
        )


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's mapping of the deprecated ``size_average`` / ``reduce`` pair to ``reduction``
    (None counts as True): both True → 'mean'; reduce only → 'sum'; reduce=False → 'none'.
    Warns, as torch does, that the pair is deprecated."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    return legacy_reduction(size_average, reduce)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _same_shape(input: Tensor, target: Any, op: str) -> Tensor:
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: target shape {tuple(target.shape)} differs from input shape "
            f"{tuple(input.shape)}; reshape one (e.g. target.reshape(input.shape) or "
            f"input.squeeze(-1)). PyTorch would broadcast here, which silently computes a "
            f"different loss."
        )
    return target


@_named_node("MseLossBackward0")
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """(x − y)², reduced (mean by default). ``size_average`` / ``reduce`` are torch's
    deprecated spelling of ``reduction`` (mapped as torch, with its warning)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """|x − y|, reduced (``size_average`` / ``reduce``: deprecated, as in mse_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


@_named_node("SmoothL1LossBackward0")
def smooth_l1_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
    reduction: str = "mean", beta: float = 1.0,
) -> Tensor:
    """½(x − y)²/β where |x − y| < β, else |x − y| − ½β: L1 with the kink smoothed (= Huber/β);
    β = 0 is plain L1. ``size_average`` / ``reduce``: deprecated, as in mse_loss."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "smooth_l1_loss")
    d = input - target
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta), reduction)


@_named_node("HuberLossBackward0")
def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
) -> Tensor:
    """½(x − y)² where |x − y| < δ, else δ·(|x − y| − ½δ): quadratic near 0, linear in the tails."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _same_shape(input, target, "huber_loss")
    d = input - target
    a = d.abs()
    return _reduce(where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


def sse_loss(input: Tensor, target: Tensor, reduction: str = "sum") -> Tensor:
    """The study notes' squared error with the ½: E = ½·Σ(y − ŷ)², so ∂E/∂ŷ = ŷ − y.

    The ½ cancels the 2 from differentiating the square, leaving the plain error as the gradient.
    ``reduction='sum'`` (default) is E; 'mean' divides by the number of elements (½·MSE);
    'none' gives ½(y − ŷ)² per element.
    """
    target = _same_shape(input, target, "sse_loss")
    d = input - target
    return _reduce(0.5 * (d * d), reduction)


def _class_targets(input: Tensor, target: Tensor, ignore_index: int, op: str) -> tuple:
    """Validated (log-probs as (M, C), targets as (M,) int array, their original shape)."""
    if input.ndim < 1:
        raise ValueError(f"{op}: input must have a class dim, got a scalar")
    batch_shape = tuple(input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: class-index targets must be an integer tensor, got dtype {t.dtype}; use "
            f"target.long() (or pass class probabilities of the input's shape to cross_entropy)"
        )
    if tuple(t.shape) != batch_shape:
        raise ValueError(
            f"{op}: target shape {tuple(t.shape)} does not match input shape "
            f"{tuple(input.shape)}; expected target shape {batch_shape} (the input without its "
            f"class dim 1)"
        )
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    flat_t = t.reshape(-1)
    bad = (flat_t != ignore_index) & ((flat_t < 0) | (flat_t >= c))
    if bad.any():
        raise ValueError(
            f"{op}: target class {int(flat_t[bad][0])} is out of range for input of shape "
            f"{tuple(input.shape)} with {c} classes; targets must be in [0, {c - 1}] (or equal "
            f"ignore_index={ignore_index})"
        )
    if input.ndim == 1:
        lp = input.reshape(1, c)
    elif input.ndim == 2:
        lp = input
    else:
        lp = input.permute(0, *range(2, input.ndim), 1).reshape(-1, c)
    return lp, flat_t, batch_shape


def _check_weight(weight: Tensor | None, c: int, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one per class), got {w.shape}")
    return w


def _nll(lp: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int, reduction: str,
         batch_shape: tuple) -> Tensor:
    _check_reduction(reduction)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    per_row = (w[safe] if w is not None else np.ones(t.shape)) * valid
    if reduction == "mean":
        per_row = per_row / per_row.sum()
    # Picking x[n, y_n] as a product with a constant one-hot mask (weights and the mean's 1/Σw
    # folded in) keeps the backward a product too: no scatter-add on the training hot path, and
    # a reduced loss is just two ops.
    mask = np.zeros(lp.shape, dtype=lp.dtype)
    mask[np.arange(t.size), safe] = -per_row
    picked = lp * Tensor._wrap(mask)
    if reduction == "none":
        return picked.sum(1).reshape(batch_shape)
    return picked.sum()


@_named_node("NllLossBackward0")
def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities:
    ℓ_n = −w[y_n]·x[n, y_n]; 'mean' divides Σℓ_n by Σw[y_n] (over non-ignored n).

    Args:
        input: log-probabilities (N, C), (N, C, d1, …) or (C,).
        target: int class indices (N,), (N, d1, …) or (); ``ignore_index`` entries count for
            nothing.
        size_average, reduce: deprecated spelling of ``reduction`` (mapped as torch).
    """
    reduction = _reduction(size_average, reduce, reduction)
    lp, t, batch_shape = _class_targets(input, target, ignore_index, "nll_loss")
    w = _check_weight(weight, lp.shape[1], "nll_loss")
    return _nll(lp, t, w, ignore_index, reduction, batch_shape)


def _cross_entropy_rows(input: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int,
                        reduction: str) -> Tensor:
    """The common case of cross_entropy — (N, C) logits, class indices — as one fused node."""
    _check_reduction(reduction)
    n, c = input.shape
    if t.shape != (n,):
        raise ValueError(
            f"cross_entropy: target shape {tuple(t.shape)} does not match input shape "
            f"{tuple(input.shape)}; expected target shape ({n},) (the input without its class "
            f"dim 1)"
        )
    valid = None
    if t.dtype.kind == "i":  # negative targets wrap to huge unsigned values: one max checks both
        in_range = n == 0 or int(np.maximum.reduce(t.view(t.dtype.str.replace("i", "u")))) < c
    else:
        in_range = n == 0 or int(np.maximum.reduce(t)) < c
    if in_range and not 0 <= ignore_index < c:
        all_valid, safe = True, t  # every target is a class: nothing to check or mask
    else:
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= c))
        if bad.any():
            raise ValueError(
                f"cross_entropy: target class {int(t[bad][0])} is out of range for input of "
                f"shape {tuple(input.shape)} with {c} classes; targets must be in [0, {c - 1}] "
                f"(or equal ignore_index={ignore_index})"
            )
        all_valid = bool(valid.all())
        safe = t if all_valid else np.where(valid, t, 0)
    rows: Any
    if w is None and all_valid:
        rows = 1.0 / n if reduction == "mean" else 1.0
        if reduction == "none":
            rows = np.ones(n, dtype=np.float64)
    else:
        rows = w[safe].astype(np.float64) if w is not None else np.ones(n)
        if valid is not None and not all_valid:
            rows = rows * valid
        if reduction == "mean":
            rows = rows / rows.sum()
    return CrossEntropyRows.apply(input, target=safe, rows=rows, per_row=reduction == "none")


@_named_node("NllLossBackward0")
def cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
    reduction: str = "mean", label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits: nll_loss(log_softmax(x, 1), y), stable for any logit size.

    With class probabilities p (a float target of the input's shape):
    ℓ_n = −Σ_c w_c·p[n, c]·log_softmax(x)[n, c], 'mean' dividing by N.
    ``label_smoothing`` ε mixes the target with the uniform distribution:
    p ← (1 − ε)·p + ε/C (for indices: (1 − ε)·nll + ε/C·Σ_c −w_c·log_softmax(x)_c, as torch).
    An empty batch gives what torch 2.x gives: 'mean' → nan (0 terms / 0), 'sum' → 0,
    'none' → an empty tensor; the gradient is then empty too.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if reduction == "mean" and input.numel() == 0:
        # The mean of no terms is 0/0: NaN, on the graph (and the inputs checked) by way of the
        # sum, so backward gives the (empty) gradient.
        return cross_entropy(input, target, weight, ignore_index, "sum", label_smoothing) * math.nan
    class_dim = 1 if input.ndim > 1 else 0
    c = input.shape[class_dim]
    t_data = target._data if isinstance(target, Tensor) else np.asarray(target)
    w = _check_weight(weight, c, "cross_entropy")
    if input.ndim == 2 and t_data.dtype.kind in "iu" and label_smoothing == 0:
        return _cross_entropy_rows(input, t_data, w, ignore_index, reduction)
    lsm = input.log_softmax(class_dim)
    if t_data.dtype.kind == "f":
        target = _same_shape(input, target, "cross_entropy (class-probability target)")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = lsm * target
        if w is not None:
            wshape = (1,) * class_dim + (c,) + (1,) * (input.ndim - class_dim - 1)
            prod = prod * Tensor._wrap(w.reshape(wshape))
        losses = -prod.sum(class_dim)
        if reduction == "mean":
            return losses.sum() / (input.numel() // c)
        return _reduce(losses, reduction)
    lp, t, batch_shape = _class_targets(lsm, target, ignore_index, "cross_entropy")
    nll = _nll(lp, t, w, ignore_index, reduction, batch_shape)
    if label_smoothing == 0:
        return nll
    valid = t != ignore_index
    wc = Tensor._wrap(w) if w is not None else None
    smooth = -(lp * wc).sum(1) if wc is not None else -lp.sum(1)
    smooth = smooth * Tensor._wrap(valid.astype(lp.dtype))
    if reduction == "mean":
        denom = w[t[valid]].sum() if w is not None else valid.sum()
        ret = smooth.sum() / Tensor._wrap(np.asarray(denom, dtype=lp.dtype))
    elif reduction == "none":
        ret = smooth.reshape(batch_shape)
    else:
        ret = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


def _log_clamped(x: Tensor) -> Tensor:
    """max(log x, −100), with log never evaluated at 0 so neither value nor gradient is inf/NaN
    (the gradient is 0 where the clamp is active; torch's hand-written one is (x−y)/1e-12)."""
    positive = x > 0
    return where(positive, where(positive, x, 1.0).log(), -100.0).clamp(min=-100)


@_named_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:
    """ℓ = −w·(y·log x + (1 − y)·log(1 − x)) for probabilities x; each log is clamped at −100
    (as torch) so x = 0 or 1 gives a large finite loss, not inf. ``size_average`` / ``reduce``:
    deprecated spelling of ``reduction``."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "binary_cross_entropy")
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1 (got min "
            f"{x.min():.4g}, max {x.max():.4g}); apply sigmoid first or use "
            f"binary_cross_entropy_with_logits"
        )
    loss = -(target * _log_clamped(input) + (1 - target) * _log_clamped(1 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_named_node("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of σ(x) computed from the logits x without forming σ (stable for any |x|):
    ℓ = (1 − y)·x + (1 + (p − 1)·y)·(log(1 + e^(−|x|)) + max(−x, 0)), p = ``pos_weight``
    (weighs the positive term; one per class, broadcast along the last dim). ``size_average`` /
    ``reduce``: deprecated spelling of ``reduction``."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    softplus_neg = (-input.abs()).exp().log1p() + (-input).relu()  # log(1 + e^(−x)), stably
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
