"""im2col and its adjoint col2im, the two ops convolution and pooling are built on, and max pooling.

``Im2Col`` turns every kh×kw window of an (N, C, H, W) input into a row, giving
cols[n, i, j, c, a, b] = x[n, c, i·sh + a·dh, j·sw + b·dw]  with shape (N, Ho, Wo, C, kh, kw),
so a convolution is one matrix product and a pooling is one reduction over (kh, kw).
It is a linear map; its vector-Jacobian product is ``Col2Im`` (scatter-add each window back),
and Col2Im's is Im2Col. Each backward calls the other op, so both are differentiable to any order.

The forward is a zero-copy strided view (``numpy.lib.stride_tricks.as_strided``) made contiguous
once; col2im adds kh·kw strided slices, never a Python loop over pixels, and when the windows tile
the input (stride = kernel, as in 2×2 pooling) it is a single transposed copy. Max pooling never
copies the windows: it takes a running maximum over the kh·kw strided views.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function, FunctionCtx
from ..autograd.tensor import Tensor

__all__ = ["Im2Col", "Col2Im", "MaxPool2dFn", "MaxScatter", "MaxGather", "im2col_array",
           "output_size"]

Pair = tuple[int, int]


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


class Im2Col(Function):
    """x (N, C, H, W) → cols (N, Ho, Wo, C, kh, kw);  ∂/∂x = col2im(g)."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, *, kernel: Pair, stride: Pair,
                dilation: Pair) -> Tensor:
        ctx.shape, ctx.kernel, ctx.stride, ctx.dilation = x.shape, kernel, stride, dilation
        return Tensor._wrap(im2col_array(x._data, kernel, stride, dilation))

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        return Col2Im.apply(g, shape=ctx.shape, kernel=ctx.kernel, stride=ctx.stride,
                            dilation=ctx.dilation)


class Col2Im(Function):
    """cols (N, Ho, Wo, C, kh, kw) → x (N, C, H, W) by summing windows;  ∂/∂cols = im2col(g)."""

    @staticmethod
    def forward(ctx: FunctionCtx, cols: Tensor, *, shape: tuple, kernel: Pair, stride: Pair,
                dilation: Pair) -> Tensor:
        ctx.kernel, ctx.stride, ctx.dilation = kernel, stride, dilation
        return Tensor._wrap(col2im_array(cols._data, shape, stride, dilation))

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        return Im2Col.apply(g, kernel=ctx.kernel, stride=ctx.stride, dilation=ctx.dilation)


class MaxPool2dFn(Function):
    """out[n, c, i, j] = max of the window at (i, j);  ∂/∂x = g placed at each window's maximal
    entry — the first one, as torch, so ties (zeros after a ReLU) get one gradient, not a share;
    a window holding NaN outputs NaN and points at its last NaN, as torch's kernel does.

    The argmax is found once, as one boolean mask per window offset (a, b); the backward is
    ``MaxScatter`` and its adjoint ``MaxGather``, linear maps over those masks, each the other's
    backward, so max pooling is differentiable to any order."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, *, kernel: Pair, stride: Pair,
                dilation: Pair) -> Tensor:
        # A running maximum over the kh·kw strided window views: element-wise passes over the
        # output's size, never a copy of the windows (masked NumPy calls are slow on strided
        # views, so the first-maximum masks are built from comparisons alone).
        views = list(_window_slices(x._data, kernel, stride, dilation))
        out = views[0].copy()
        for view in views[1:]:
            np.maximum(out, view, out=out)
        taken = np.zeros(out.shape, dtype=bool)
        masks = []
        for view in views:
            mask = view == out
            mask &= ~taken
            taken |= mask
            masks.append(mask)
        nan = np.isnan(out)
        if nan.any():  # rare: like torch's kernel, a window holding NaN points at its last NaN
            found = np.zeros(out.shape, dtype=bool)
            for k in range(len(views) - 1, -1, -1):
                last = nan & np.isnan(views[k]) & ~found
                found |= last
                masks[k] = (masks[k] & ~nan) | last
        ctx.pick = _Picks(tuple(masks), x.shape, kernel, stride, dilation)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        return MaxScatter.apply(g, pick=ctx.pick)


class _Picks:
    """Which window offset each pooled entry came from: one mask per offset, plus the geometry."""

    __slots__ = ("masks", "shape", "kernel", "stride", "dilation")

    def __init__(self, masks: tuple, shape: tuple, kernel: Pair, stride: Pair, dilation: Pair):
        self.masks, self.shape = masks, shape
        self.kernel, self.stride, self.dilation = kernel, stride, dilation

    def views(self, x: np.ndarray):
        return zip(self.masks, _window_slices(x, self.kernel, self.stride, self.dilation))


class MaxScatter(Function):
    """g (pooled shape) → the input's shape, each entry added where its window's max was;
    ∂/∂g = MaxGather(g')."""

    @staticmethod
    def forward(ctx: FunctionCtx, g: Tensor, *, pick: _Picks) -> Tensor:
        ctx.pick = pick
        gd = g._data
        out = np.zeros(pick.shape, dtype=gd.dtype)
        if not np.isfinite(gd).all():  # g·mask would turn ±inf into NaN off the maximum
            for mask, view in pick.views(out):
                np.add(view, gd, out=view, where=mask)
            return Tensor._wrap(out)
        tiles = _tiles(pick.kernel, pick.stride, pick.dilation)
        for mask, view in pick.views(out):
            if tiles:  # each entry is in one window at most: a plain store
                np.multiply(gd, mask, out=view)
            else:  # overlapping windows accumulate
                view += gd * mask
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        return MaxGather.apply(g, pick=ctx.pick)


class MaxGather(Function):
    """x (input shape) → the pooled shape, each entry read where its window's max was;
    ∂/∂x = MaxScatter(g')."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, *, pick: _Picks) -> Tensor:
        ctx.pick = pick
        out = np.empty(pick.masks[0].shape, dtype=x.dtype)
        for mask, view in pick.views(x._data):
            np.copyto(out, view, where=mask)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        return MaxScatter.apply(g, pick=ctx.pick)
