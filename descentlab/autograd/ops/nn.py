"""The network ops: im2col / col2im (convolution and pooling), max pooling, the fused
cross-entropy rows, the LSTM step's pointwise part, and the unbinding of a sequence into steps.

``Im2Col`` turns every kh×kw window of an (N, C, H, W) input into a row, giving
cols[n, i, j, c, a, b] = x[n, c, i·sh + a·dh, j·sw + b·dw]  with shape (N, Ho, Wo, C, kh, kw),
so a convolution is one matrix product and a pooling is one reduction over (kh, kw).
It is a linear map; its vector-Jacobian product is ``Col2Im`` (scatter-add each window back),
and Col2Im's is Im2Col. Each backward calls the other op, so both are differentiable to any order.

The forward is a zero-copy strided view (``numpy.lib.stride_tricks.as_strided``) made contiguous
once; col2im adds kh·kw strided slices, never a Python loop over pixels, and when the windows tile
the input (stride = kernel, as in 2×2 pooling) it is a single transposed copy. Max pooling never
copies the windows: it takes a running maximum over the kh·kw strided views.

Convolution has its own window layout, channels first: ``conv_windows`` gives
cols[n, (c, a, b), (i, j)] = x[n, c, i·sh + a·dh, j·sw + b·dw], shape (N, C·kh·kw, Ho·Wo), so
the forward is W (O, C·kh·kw) @ cols batched over n and lands in (N, O, Ho·Wo) — already NCHW,
no transpose. Each of those products is small enough for BLAS to run on one thread, which keeps
a busy machine from stalling the step on a second thread. ``Conv2dFn`` (y = conv(x, W)),
``ConvInputGrad`` (its vector-Jacobian product in x, the transposed convolution) and
``ConvWeightGrad`` (its product in W) are bilinear maps whose backwards are each other:
⟨h, convᵀ(g, W)⟩ = ⟨g, conv(h, W)⟩ and ⟨K, wgrad(g, x)⟩ = ⟨g, conv(x, K)⟩, so every order of
derivative is exact.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..function import Function, FunctionCtx
from ..graph import Node, Op, wrap
from ..mode import mode_state
from .arith import ones_vector, row_offsets
from .shape import Cat

__all__ = ["Conv2dFn", "ConvGeometry", "ConvInputGrad", "ConvWeightGrad", "Im2Col", "Col2Im",
           "MaxPool2dFn", "MaxScatter", "MaxGather", "CrossEntropyRows", "LSTMPointwise",
           "Unbind", "im2col_array", "col2im_array", "conv_windows", "output_size"]

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
    for array in slots:
        if sys.getrefcount(array) == 3:  # the slot, this loop's name and the call's argument
            return array
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


def _add_shifted_rows(cols: np.ndarray, shape: tuple, kernel: Pair, dilation: Pair) -> np.ndarray:
    """col2im for stride 1 when cols (N, C·kh·kw, Ho·W) has the input's row width W, zeros past
    column Wo: window offset (a, b) is then the flattened input shifted by a·dh·W + b·dw, so the
    sum is kh·kw adds of long contiguous runs (entries shifted past the end are those zeros)."""
    n, c, h, w = shape
    (kh, kw), (dh, dw) = kernel, dilation
    windows = cols.reshape(n, c, kh, kw, -1)
    length = windows.shape[-1]
    out = _scratch((n, c, h * w), cols.dtype)
    out.fill(0)
    for a in range(kh):
        for b in range(kw):
            shift = a * dh * w + b * dw
            run = min(length, h * w - shift)
            out[:, :, shift: shift + run] += windows[:, :, a, b, :run]
    return out.reshape(shape)


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
        return gx, gw, (g.sum((0, 2, 3)) if p[2] is not None else None)


class ConvInputGrad(Op):
    """The transposed convolution: x̄ = col2im(Wᵀ @ g) of ``shape``, the vector-Jacobian
    product of conv in x;  ∂/∂g = conv(h, W), ∂/∂W = ConvWeightGrad(g, h)."""

    save_inputs = True
    array_backward = True

    @staticmethod
    def forward(ctx, g, w, *, shape: tuple, geometry: ConvGeometry):
        ctx.shape, ctx.geometry = shape, geometry
        n, out_ch, ho, wo = g.shape
        unit_stride = geometry.stride == (1, 1)
        if unit_stride and wo < shape[3]:
            # g widened to the input's rows (zero columns on the right): then every window
            # offset of Wᵀ·g lands on one contiguous run of the flattened input.
            wide = _scratch((n, out_ch, ho, shape[3]), g.dtype)
            wide[..., :wo] = g
            wide[..., wo:] = 0
            g = wide
        groups = geometry.groups
        grouped = g.reshape(n, groups, out_ch // groups, -1)
        kernels = geometry.kernels(w).transpose(0, 2, 1)
        cols = _scratch((n, groups, kernels.shape[1], grouped.shape[-1]),
                        np.result_type(g, w))
        np.matmul(kernels, grouped, out=cols)
        cols = cols.reshape(n, -1, cols.shape[-1])
        if unit_stride:
            return _add_shifted_rows(cols, shape, geometry.kernel, geometry.dilation)
        return conv_windows_adjoint(cols, shape, geometry.kernel, geometry.stride,
                                    geometry.dilation)

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved
        p, geometry = ctx.parents, ctx.geometry
        gg = Conv2dFn.call(h, w, geometry=geometry) if p[0] is not None else None
        gw = ConvWeightGrad.call(g, h, shape=tuple(w.shape), geometry=geometry) \
            if p[1] is not None else None
        return gg, gw


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


class MaxPool2dFn(Op):
    """out[n, c, i, j] = max of the window at (i, j);  ∂/∂x = g placed at each window's maximal
    entry — the first one, as torch, so ties (zeros after a ReLU) get one gradient, not a share;
    a window holding NaN outputs NaN and points at its last NaN, as torch's kernel does.

    The argmax is found once, as one boolean mask per window offset (a, b); the backward is
    ``MaxScatter`` and its adjoint ``MaxGather``, linear maps over those masks, each the other's
    backward, so max pooling is differentiable to any order."""

    array_backward = True
    frees = ("pick",)

    @staticmethod
    def forward(ctx, x, *, kernel: Pair, stride: Pair, dilation: Pair):
        # A running maximum over the kh·kw strided window views: element-wise passes over the
        # output's size, never a copy of the windows (masked NumPy calls are slow on strided
        # views, so the first-maximum masks are built from comparisons alone).
        views = list(_window_slices(x, kernel, stride, dilation))
        out = _scratch(views[0].shape, x.dtype)
        np.copyto(out, views[0])
        for view in views[1:]:
            np.maximum(out, view, out=out)
        if not isinstance(ctx, Node):  # nothing recorded: no masks needed
            return out
        taken = _scratch(out.shape, np.dtype(bool))
        taken.fill(False)
        masks = []
        for view in views:
            mask = np.equal(view, out, out=_scratch(out.shape, np.dtype(bool)))
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
        return out

    @staticmethod
    def backward(ctx, g):
        return (MaxScatter.call(g, pick=ctx.pick),)


class _Picks:
    """Which window offset each pooled entry came from: one mask per offset, plus the geometry.
    Its two linear maps, ``scatter`` and ``gather``, are each other's adjoint."""

    __slots__ = ("masks", "shape", "kernel", "stride", "dilation")

    def __init__(self, masks: tuple, shape: tuple, kernel: Pair, stride: Pair, dilation: Pair):
        self.masks, self.shape = masks, shape
        self.kernel, self.stride, self.dilation = kernel, stride, dilation

    def views(self, x: np.ndarray):
        return zip(self.masks, _window_slices(x, self.kernel, self.stride, self.dilation))

    def scatter(self, g: np.ndarray) -> np.ndarray:
        """g (pooled shape) → the input's shape, each entry added where its window's max was."""
        out = _scratch(self.shape, g.dtype)
        out.fill(0)
        if not np.isfinite(g).all():  # g·mask would turn ±inf into NaN off the maximum
            for mask, view in self.views(out):
                np.add(view, g, out=view, where=mask)
            return out
        tiles = _tiles(self.kernel, self.stride, self.dilation)
        for mask, view in self.views(out):
            if tiles:  # each entry is in one window at most: a plain store
                np.multiply(g, mask, out=view)
            else:  # overlapping windows accumulate
                view += g * mask
        return out

    def gather(self, x: np.ndarray) -> np.ndarray:
        """x (input shape) → the pooled shape, each entry read where its window's max was."""
        out = np.empty(self.masks[0].shape, dtype=x.dtype)
        for mask, view in self.views(x):
            np.copyto(out, view, where=mask)
        return out


class _MaxMove(Op):
    """Max pooling's gradient maps over the argmax masks: ``MaxScatter`` (pooled → input shape)
    and ``MaxGather`` (input → pooled shape), linear and each other's adjoint, so each one's
    backward is the other's forward."""

    array_backward = True
    scatters = True

    @classmethod
    def forward(cls, ctx, a, *, pick: _Picks):
        if isinstance(ctx, Node):
            ctx.pick = pick
        return pick.scatter(a) if cls.scatters else pick.gather(a)

    @classmethod
    def backward(cls, ctx, g):
        adjoint = MaxGather if cls.scatters else MaxScatter
        return (adjoint.call(g, pick=ctx.pick),)


class MaxScatter(_MaxMove):
    """g (pooled shape) → the input's shape, each entry added where its window's max was;
    ∂/∂g = MaxGather(g')."""


class MaxGather(_MaxMove):
    """x (input shape) → the pooled shape, each entry read where its window's max was;
    ∂/∂x = MaxScatter(g')."""

    scatters = False


class CrossEntropyRows(Op):
    """Σ_n r_n·(logsumexp(x_n) − x[n, y_n]) over rows of (M, C) logits (or the per-row terms),
    with r_n the row weights (class weight, 0 for ignored rows, the mean's 1/Σw folded in; one
    number when all rows weigh the same);  ∂/∂x = r_n·g·(softmax(x_n) − onehot(y_n)).

    One node for log_softmax + pick + reduce, as torch's fused kernel; the forward keeps the
    softmax it computes anyway, so the first-order backward is a scale and a scatter.
    """

    save_inputs = True
    frees = ("probs",)

    @staticmethod
    def forward(ctx, x, target, rows, per_row):
        m, c = x.shape
        ctx.target, ctx.rows, ctx.per_row = target, rows, per_row
        if 1 < c <= 4:  # a few classes: column maxima beat the axis reduction
            top = np.maximum(x[:, 0], x[:, 1])
            for j in range(2, c):
                np.maximum(top, x[:, j], out=top)
        else:
            top = np.maximum.reduce(x, 1)
        z = x - top[:, None]
        e = np.exp(z)
        s = e.dot(ones_vector(c, e.dtype))  # row sums as one BLAS call
        ctx.flat = flat = row_offsets(m, c) + target
        terms = np.log(s)
        terms -= z.reshape(-1)[flat]
        e /= s[:, None]
        ctx.probs = e  # softmax(x), rows summing to 1
        if per_row:
            terms *= rows
            return terms
        if isinstance(rows, float):
            return np.asarray(np.add.reduce(terms) * rows, dtype=x.dtype)
        return np.asarray(np.dot(terms, rows.astype(x.dtype, copy=False)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        rows = ctx.rows
        if not mode_state.grad:
            gd = g._data
            if ctx.per_row or not isinstance(rows, float):
                scale = (gd * rows).astype(x.dtype, copy=False)
                out = ctx.probs * scale[:, None]
            else:
                scale = gd * rows
                out = ctx.probs * scale
            out.reshape(-1)[ctx.flat] -= scale
            return (wrap(out),)
        m = x.shape[0]
        onehot = np.zeros(x.shape, dtype=x.dtype)
        onehot.reshape(-1)[ctx.flat] = 1
        r = np.broadcast_to(np.asarray(rows, dtype=x.dtype), (m,))
        coef = (g * wrap(r)).reshape(m, 1)
        return ((x.softmax(1) - wrap(onehot)) * coef,)


class LSTMPointwise(Op):
    """The LSTM step after its gate product, as one node: from gates [i, f, g, o] (N, 4H) and
    c (N, H), out = [h', c'] (N, 2H) with c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c').

    Backward, with δc = ∂c' + ∂h'⊙σ(o)⊙(1 − tanh²c'):
    ∂i = δc⊙tanh(g)⊙σ'(i), ∂f = δc⊙c⊙σ'(f), ∂g = δc⊙σ(i)⊙(1 − tanh²g),
    ∂o = ∂h'⊙tanh(c')⊙σ'(o), ∂c = δc⊙σ(f). Fusing a dozen element-wise ops into one node keeps
    the per-step cost down; when a graph of the backward is wanted (create_graph) the same
    formulas run on Tensors, so it stays differentiable.
    """

    save_inputs = True
    frees = ("acts",)

    @staticmethod
    def forward(ctx, gates, c):
        n = c.shape[-1]
        sig = np.negative(gates)
        # σ = 1/(1 + e^(−x)) over the whole gate array (only i, f, o are used): one pass per
        # ufunc. e^(−x) overflows to inf for very negative x, which gives the right σ = 0.
        with np.errstate(over="ignore"):
            np.exp(sig, out=sig)
        sig += 1.0
        np.reciprocal(sig, out=sig)
        g = np.tanh(gates[..., 2 * n:3 * n])
        i, f, o = sig[..., :n], sig[..., n:2 * n], sig[..., 3 * n:]
        out = np.empty(c.shape[:-1] + (2 * n,), dtype=gates.dtype)
        c_new = out[..., n:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tc = np.tanh(c_new)
        np.multiply(o, tc, out=out[..., :n])
        ctx.acts = (sig, g, tc)
        return out

    @staticmethod
    def backward(ctx, grad):
        gates, c = ctx.saved
        n = c.shape[-1]
        if not mode_state.grad:
            sig, g, tc = ctx.acts
            gd, cd = grad._data, c._data
            i, f, o = sig[..., :n], sig[..., n:2 * n], sig[..., 3 * n:]
            gh, gc = gd[..., :n], gd[..., n:]
            dc = gc + gh * o * (1.0 - tc * tc)
            dgates = np.empty(gates.shape, dtype=gd.dtype)
            dgates[..., :n] = dc * g * i * (1.0 - i)
            dgates[..., n:2 * n] = dc * cd * f * (1.0 - f)
            dgates[..., 2 * n:3 * n] = dc * i * (1.0 - g * g)
            dgates[..., 3 * n:] = gh * tc * o * (1.0 - o)
            return wrap(dgates), wrap(dc * f)
        i, f = gates[..., :n].sigmoid(), gates[..., n:2 * n].sigmoid()
        g, o = gates[..., 2 * n:3 * n].tanh(), gates[..., 3 * n:].sigmoid()
        tc = (f * c + i * g).tanh()
        gh, gc = grad[..., :n], grad[..., n:]
        dc = gc + gh * o * (1.0 - tc * tc)
        dgates = Cat.apply(dc * g * i * (1.0 - i), dc * c * f * (1.0 - f),
                           dc * i * (1.0 - g * g), gh * tc * o * (1.0 - o), dim=gates.ndim - 1)
        return dgates, dc * f


class Unbind(Function):
    """x (T, …) → the T slices x[0], …, x[T−1];  ∂/∂x = stack of their gradients.

    One node for all steps: indexing each step separately would give every step's backward a
    full-size zero array to scatter into (quadratic in T).
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Any) -> tuple:
        return tuple(wrap(x._data[t]) for t in range(x.shape[0]))

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        return Cat.apply(*[g.unsqueeze(0) for g in grads], dim=0)
