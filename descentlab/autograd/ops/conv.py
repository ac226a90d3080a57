"""Convolution as three bilinear ops over channels-first windows.

``conv_windows`` gives cols[n, (c, a, b), (i, j)] = x[n, c, i·sh + a·dh, j·sw + b·dw], shape
(N, C·kh·kw, Ho·Wo), so the forward is W (O, C·kh·kw) @ cols batched over n and lands in
(N, O, Ho·Wo) — already NCHW, no transpose. Each of those products is small enough for BLAS to
run on one thread, which keeps a busy machine from stalling the step on a second thread.
``Conv2dFn`` (y = conv(x, W)), ``ConvInputGrad`` (its vector-Jacobian product in x, the
transposed convolution) and ``ConvWeightGrad`` (its product in W) are bilinear maps whose
backwards are each other: ⟨h, convᵀ(g, W)⟩ = ⟨g, conv(h, W)⟩ and
⟨K, wgrad(g, x)⟩ = ⟨g, conv(x, K)⟩, so every order of derivative is exact.
"""

from __future__ import annotations

import numpy as np

from ..graph import Node, Op
from .arith import matmul_of, ones_vector
from .windows import (
    Pair,
    _scratch,
    conv_windows,
    conv_windows_adjoint,
    output_size,
)

__all__ = ["Conv2dFn", "ConvGeometry", "ConvInputGrad", "ConvWeightGrad"]


class ConvGeometry:
    """A convolution's fixed arguments: kernel, stride, dilation, groups."""

    __slots__ = ("kernel", "stride", "dilation", "groups")

    def __init__(self, kernel: Pair, stride: Pair, dilation: Pair, groups: int):
        self.kernel, self.stride, self.dilation, self.groups = kernel, stride, dilation, groups

    def windows(self, x: np.ndarray) -> np.ndarray:
        """x's windows grouped: (N, G, C/G·kh·kw, Ho·Wo)."""
        cols = conv_windows(x, self.kernel, self.stride, self.dilation)
        n, k, ell = cols.shape
        return cols.reshape(n, self.groups, k // self.groups, ell)

    def kernels(self, w: np.ndarray) -> np.ndarray:
        """W (O, C/G, kh, kw) as (G, O/G, C/G·kh·kw)."""
        return w.reshape(self.groups, w.shape[0] // self.groups, -1)


class Conv2dFn(Op):
    """y[n, o] = b[o] + Σ_{c,a,b} W[o, c, a, b]·x[n, g(o)·C/G + c, i·s + a·d, j·s + b·d]
    (x already padded);  ∂/∂x = ConvInputGrad(g, W), ∂/∂W = ConvWeightGrad(g, x),
    ∂/∂b = Σ g over n, i, j.

    One batched product W (G, O/G, K) @ cols (N, G, K, Ho·Wo); the windows are kept for the
    weight gradient, so the backward copies nothing again.
    """

    save_inputs = True
    array_backward = True
    frees = ("cols",)

    @staticmethod
    def forward(ctx, x, w, b=None, *, geometry: ConvGeometry):
        cols = geometry.windows(x)
        n, groups, _, ell = cols.shape
        (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
        y = _scratch((n, w.shape[0], output_size(x.shape[2], kh, sh, dh),
                      output_size(x.shape[3], kw, sw, dw)), np.result_type(x, w))
        np.matmul(geometry.kernels(w), cols, out=y.reshape(n, groups, -1, ell))
        if b is not None:
            y += b.reshape(-1, 1, 1)
        if isinstance(ctx, Node):  # recorded: keep the windows for the weight gradient
            ctx.geometry, ctx.cols = geometry, cols
        return y

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved
        x, w = saved[0], saved[1]
        p, geometry = ctx.parents, ctx.geometry
        gx = ConvInputGrad.call(g, w, shape=tuple(x.shape), geometry=geometry) \
            if p[0] is not None else None
        gw = ConvWeightGrad.call(g, x, shape=tuple(w.shape), geometry=geometry, cols=ctx.cols) \
            if p[1] is not None else None
        if len(p) == 2:
            return gx, gw
        return gx, gw, (_channel_sums(ctx, g) if p[2] is not None else None)


def _channel_sums(ctx, g):
    """Σ of g (N, O, Ho, Wo) over n, i, j: two BLAS products with ones (a third of the time of
    ``g.sum((0, 2, 3))``, whose reduction strides across the array), on arrays or Tensors."""
    n, o, ho, wo = g.shape
    dtype = ctx.metas[2][1]
    per_map = matmul_of(g.reshape(n * o, ho * wo), ctx.constant(ones_vector(ho * wo, dtype)))
    return matmul_of(ctx.constant(ones_vector(n, dtype)), per_map.reshape(n, o))


class ConvInputGrad(Op):
    """The transposed convolution: x̄ = col2im(Wᵀ @ g) of ``shape``, the vector-Jacobian
    product of conv in x;  ∂/∂g = conv(h, W), ∂/∂W = ConvWeightGrad(g, h)."""

    save_inputs = True
    array_backward = True

    @staticmethod
    def forward(ctx, g, w, *, shape: tuple, geometry: ConvGeometry):
        ctx.shape, ctx.geometry = shape, geometry
        if geometry.stride == (1, 1):
            return _transposed_unit_stride(g, w, shape, geometry)
        n, out_ch = g.shape[:2]
        groups = geometry.groups
        grouped = g.reshape(n, groups, out_ch // groups, -1)
        kernels = geometry.kernels(w).transpose(0, 2, 1)
        cols = _scratch((n, groups, kernels.shape[1], grouped.shape[-1]),
                        np.result_type(g, w))
        np.matmul(kernels, grouped, out=cols)
        return conv_windows_adjoint(cols.reshape(n, -1, cols.shape[-1]), shape,
                                    geometry.kernel, geometry.stride, geometry.dilation)

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved
        p, geometry = ctx.parents, ctx.geometry
        gg = Conv2dFn.call(h, w, geometry=geometry) if p[0] is not None else None
        gw = ConvWeightGrad.call(g, h, shape=tuple(w.shape), geometry=geometry) \
            if p[1] is not None else None
        return gg, gw


def _transposed_unit_stride(g, w, shape: tuple, geometry: ConvGeometry):
    """x̄ = Σ over window offsets (a, b) of Wₐᵦᵀ·g shifted by (a·dh, b·dw), for stride 1.

    g (N, O, Ho, Wo) is laid out on the input's whole planes (N, O, H·W), zeros past row Ho and
    column Wo; then offset (a, b) moves every entry by s = a·dh·W + b·dw along the flattened
    (C, H·W) of a sample, and the entries a shift carries past a plane's end are those zeros.
    One batched product, its rows ordered (a, b, c), gives each offset's (N, C·H·W) block, and
    the sum is kh·kw adds of rows a whole sample long (the conv net's second layer: 0.66 → 0.54
    ms against the earlier per-plane rows).
    """
    n, out_ch, ho, wo = g.shape
    _, c, h, wd = shape
    groups = geometry.groups
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    dtype = np.result_type(g, w)
    full = _scratch((n, out_ch, h, wd), g.dtype)
    full[:, :, :ho, :wo] = g
    full[:, :, :ho, wo:] = 0
    full[:, :, ho:] = 0
    # W (O, C/G, kh, kw) as (G, kh·kw·C/G, O/G): the rows of each group ordered (a, b, c)
    per_group = c // groups
    kernels = w.reshape(groups, out_ch // groups, per_group, kh, kw).transpose(0, 3, 4, 2, 1)
    kernels = kernels.reshape(groups, kh * kw * per_group, out_ch // groups)
    plane = h * wd
    cols = _scratch((n, groups, kh * kw * per_group, plane), dtype)
    np.matmul(kernels, full.reshape(n, groups, out_ch // groups, plane), out=cols)
    blocks = cols.reshape(n, groups, kh * kw, per_group * plane)
    size = n * c * plane
    last = (kh - 1) * dh * wd + (kw - 1) * dw
    out = _scratch((size + last,), dtype)
    out.fill(0)
    for a in range(kh):
        for b in range(kw):
            shift = a * dh * wd + b * dw
            target = out[shift:shift + size].reshape(n, groups, per_group * plane)
            target += blocks[:, :, a * kw + b]
    return out[:size].reshape(shape)


class ConvWeightGrad(Op):
    """W̄[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j]·x[n, c, i·s + a·d, j·s + b·d] of ``shape``, the
    vector-Jacobian product of conv in W;  ∂/∂g = conv(x, K), ∂/∂x = ConvInputGrad(g, K).

    ``cols``: x's windows when the forward already cut them.
    """

    save_inputs = True
    array_backward = True

    @staticmethod
    def forward(ctx, g, x, *, shape: tuple, geometry: ConvGeometry, cols=None):
        if cols is None:
            cols = geometry.windows(x)
        n, groups = g.shape[0], geometry.groups
        grouped = g.reshape(n, groups, g.shape[1] // groups, -1)
        per_sample = np.matmul(grouped, cols.transpose(0, 1, 3, 2))
        ctx.shape, ctx.geometry = shape, geometry
        return np.add.reduce(per_sample, axis=0).reshape(shape)

    @staticmethod
    def backward(ctx, k):
        g, x = ctx.saved
        p, geometry = ctx.parents, ctx.geometry
        gg = Conv2dFn.call(x, k, geometry=geometry) if p[0] is not None else None
        gx = ConvInputGrad.call(g, k, shape=tuple(x.shape), geometry=geometry) \
            if p[1] is not None else None
        return gg, gx
