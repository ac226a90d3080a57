"""Pooling: ``max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d``, over the windows that
``conv.py`` parses and im2col cuts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd.creation import pad as _pad
from ...autograd.graph import label
from ...autograd.ops.pool import MaxPool2dFn
from ...autograd.ops.windows import im2col_array
from ...autograd.tensor import Tensor
from .conv import _batched, _check_windows, _pair, _windows

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


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
    out = label(MaxPool2dFn.apply(x, kernel=kernel, stride=stride, dilation=dilation),
                "MaxPool2DWithIndicesBackward0")
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
