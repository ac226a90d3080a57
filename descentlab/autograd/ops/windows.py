"""Windows of an (N, C, H, W) array, and the scratch arrays the windowed ops reuse.

``Im2Col`` turns every kh×kw window into a row, giving
cols[n, i, j, c, a, b] = x[n, c, i·sh + a·dh, j·sw + b·dw]  with shape (N, Ho, Wo, C, kh, kw),
so a pooling is one reduction over (kh, kw). It is a linear map; its vector-Jacobian product is
``Col2Im`` (scatter-add each window back), and Col2Im's is Im2Col. Each backward calls the other
op, so both are differentiable to any order.

The forward is a zero-copy strided view (``numpy.lib.stride_tricks.as_strided``) made contiguous
once; col2im adds kh·kw strided slices, never a Python loop over pixels, and when the windows tile
the input (stride = kernel, as in 2×2 pooling) it is a single transposed copy.

Convolution has its own window layout, channels first: ``conv_windows`` gives
cols[n, (c, a, b), (i, j)] = x[n, c, i·sh + a·dh, j·sw + b·dw], shape (N, C·kh·kw, Ho·Wo)
(see ``conv.py``).
"""

from __future__ import annotations

import sys
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..graph import Op

__all__ = ["Im2Col", "Col2Im", "im2col_array", "col2im_array", "conv_windows", "window_planes",
           "conv_windows_adjoint", "output_size"]

Pair = tuple[int, int]


_scratch_pools = threading.local()
_SLOTS, _KEYS = 16, 64  # arrays per (shape, dtype) — a pooling's masks share one — and keys


def _scratch(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` (contents undefined) that nothing else references,
    reused from earlier calls when one is free.

    A training step allocates the same large arrays every time; fresh ones cost page faults,
    and freeing them hands the memory back to the system, often more than the arithmetic on
    them. An array counts as free when only its pool slot references it (no tensor, view, saved
    value or .grad holds it), so reuse never aliases anything alive. Pools are per thread.
    """
    pools = getattr(_scratch_pools, "by_key", None)
    if pools is None or len(pools) > _KEYS:
        pools = _scratch_pools.by_key = {}
    key = (shape, dtype)
    slots = pools.get(key)
    if slots is None:
        slots = pools[key] = []
    for i in range(len(slots)):
        # Free when only the slot and getrefcount's argument hold it. Indexing (not a loop name)
        # keeps the count independent of how an interpreter counts references from locals.
        if sys.getrefcount(slots[i]) == 2:
            return slots[i]
    array = np.empty(shape, dtype)
    if len(slots) < _SLOTS:
        slots.append(array)
    return array


def output_size(size: int, kernel: int, stride: int, dilation: int) -> int:
    """⌊(size − dilation·(kernel − 1) − 1) / stride⌋ + 1 (size already includes padding)."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def im2col_array(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """The windows of ``x`` (N, C, H, W) as a contiguous (N, Ho, Wo, C, kh, kw) array."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    s_n, s_c, s_h, s_w = x.strides
    view = as_strided(
        x, shape=(n, ho, wo, c, kh, kw),
        strides=(s_n, s_h * sh, s_w * sw, s_c, s_h * dh, s_w * dw), writeable=False,
    )
    return np.ascontiguousarray(view)


def _tiles(kernel: Pair, stride: Pair, dilation: Pair) -> bool:
    """Whether the windows tile the input without overlap or gaps (stride = kernel, no dilation):
    then im2col and col2im are a reshape and a transpose, and pooling needs no window copy."""
    return stride == kernel and dilation == (1, 1)


def col2im_array(cols: np.ndarray, shape: tuple, stride: Pair, dilation: Pair) -> np.ndarray:
    """The adjoint of ``im2col_array``: sum every window entry back into an array of ``shape``."""
    n, ho, wo, c, kh, kw = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    windows = cols.transpose(0, 3, 1, 2, 4, 5)
    if _tiles((kh, kw), stride, dilation):
        # Each input entry is in at most one window: one transposed copy, no scatter-add.
        tiled = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * kh, wo * kw)
        if tiled.shape == tuple(shape):
            return np.ascontiguousarray(tiled)
        out = np.zeros(shape, dtype=cols.dtype)
        out[:, :, : ho * kh, : wo * kw] = tiled
        return out
    out = np.zeros(shape, dtype=cols.dtype)
    # Window offset (a, b) of every output position lands on one strided slice of the input.
    for a in range(kh):
        rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
        for b in range(kw):
            out[:, :, rows, b * dw: b * dw + sw * (wo - 1) + 1: sw] += windows[..., a, b]
    return out


def conv_windows(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """The windows of ``x`` (N, C, H, W) as (N, C·kh·kw, Ho·Wo), channels first: one strided
    view copied once into a reused buffer (not at all for a 1×1 kernel with stride 1)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    if (kh, kw, sh, sw) == (1, 1, 1, 1) and x.flags.c_contiguous:
        return x.reshape(n, c, h * w)  # each window is one pixel: the input itself
    s_n, s_c, s_h, s_w = x.strides
    view = as_strided(
        x, shape=(n, c, kh, kw, ho, wo),
        strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False,
    )
    cols = _scratch((n, c * kh * kw, ho * wo), x.dtype)
    np.copyto(cols.reshape(view.shape), view)
    return cols


def conv_windows_adjoint(cols: np.ndarray, shape: tuple, kernel: Pair, stride: Pair,
                         dilation: Pair) -> np.ndarray:
    """The adjoint of ``conv_windows``: each window entry of cols (N, C·kh·kw, Ho·Wo) summed
    back into an array of ``shape`` (N, C, H, W), by kh·kw strided adds."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    windows = cols.reshape(n, c, kh, kw, ho, wo)
    if _tiles(kernel, stride, dilation) and (ho * kh, wo * kw) == (h, w):
        # Each input entry is in exactly one window: one transposed copy.
        return np.ascontiguousarray(windows.transpose(0, 1, 4, 2, 5, 3)).reshape(shape)
    out = _scratch(tuple(shape), cols.dtype)
    out.fill(0)
    for a in range(kh):
        rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
        for b in range(kw):
            out[:, :, rows, b * dw: b * dw + sw * (wo - 1) + 1: sw] += windows[:, :, a, b]
    return out


def _window_slices(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair):
    """The kh·kw strided views x[n, c, i·s + a·d, j·s + b·d] over all (i, j), offset (a, b)
    in row-major order: pooling reduces across them element-wise, copying no window."""
    h, w = x.shape[2:]
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    for a in range(kh):
        rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
        for b in range(kw):
            yield x[:, :, rows, b * dw: b * dw + sw * (wo - 1) + 1: sw]


def window_planes(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """The views of ``_window_slices`` copied, in one strided copy, into a reused contiguous
    array planes[(a, b), n, c, i, j] of shape (kh·kw, N, C, Ho, Wo): element-wise passes over
    a plane run at contiguous speed, where a strided view's inner stride stops vectorizing."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    s_n, s_c, s_h, s_w = x.strides
    view = as_strided(x, shape=(kh, kw, n, c, ho, wo),
                      strides=(s_h * dh, s_w * dw, s_n, s_c, s_h * sh, s_w * sw), writeable=False)
    planes = _scratch((kh * kw, n, c, ho, wo), x.dtype)
    np.copyto(planes.reshape(view.shape), view)
    return planes


class Im2Col(Op):
    """x (N, C, H, W) → cols (N, Ho, Wo, C, kh, kw);  ∂/∂x = col2im(g)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, *, kernel: Pair, stride: Pair, dilation: Pair):
        ctx.shape, ctx.kernel, ctx.stride, ctx.dilation = x.shape, kernel, stride, dilation
        return im2col_array(x, kernel, stride, dilation)

    @staticmethod
    def backward(ctx, g):
        return (Col2Im.call(g, shape=ctx.shape, kernel=ctx.kernel, stride=ctx.stride,
                            dilation=ctx.dilation),)


class Col2Im(Op):
    """cols (N, Ho, Wo, C, kh, kw) → x (N, C, H, W) by summing windows;  ∂/∂cols = im2col(g)."""

    array_backward = True

    @staticmethod
    def forward(ctx, cols, *, shape: tuple, kernel: Pair, stride: Pair, dilation: Pair):
        ctx.kernel, ctx.stride, ctx.dilation = kernel, stride, dilation
        return col2im_array(cols, shape, stride, dilation)

    @staticmethod
    def backward(ctx, g):
        return (Im2Col.call(g, kernel=ctx.kernel, stride=ctx.stride, dilation=ctx.dilation),)
