"""Max pooling: a running maximum over strided window views, its gradient placed by one
argmax mask per window offset, never a copy of the windows."""

from __future__ import annotations

import numpy as np

from ..graph import Node, Op
from .windows import Pair, _scratch, _tiles, _window_slices, window_planes

__all__ = ["MaxPool2dFn", "MaxScatter", "MaxGather"]


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
        # A running maximum over the kh·kw window offsets: element-wise passes over the
        # output's size (masked NumPy calls are slow on strided views, so the first-maximum
        # masks are built from comparisons alone). Without a graph the offsets are read as
        # strided views of x; recorded, the masks read each offset twice more, so the windows
        # are first copied into contiguous planes (one strided copy; the conv net's two
        # poolings 428 → 285 and 216 → 143 µs with their masks).
        recorded = isinstance(ctx, Node)
        views = (list(window_planes(x, kernel, stride, dilation)) if recorded
                 else list(_window_slices(x, kernel, stride, dilation)))
        out = _scratch(views[0].shape, x.dtype)
        if len(views) == 1:
            np.copyto(out, views[0])
        else:
            np.maximum(views[0], views[1], out=out)
        for view in views[2:]:
            np.maximum(out, view, out=out)
        if not recorded:  # nothing recorded: no masks needed
            return out
        boolean = np.dtype(bool)
        masks = [np.equal(views[0], out, out=_scratch(out.shape, boolean))]
        taken = _scratch(out.shape, boolean)  # offsets already holding their window's max
        np.copyto(taken, masks[0])
        free = _scratch(out.shape, boolean)
        for k, view in enumerate(views[1:], 2):
            mask = np.equal(view, out, out=_scratch(out.shape, boolean))
            mask &= np.logical_not(taken, out=free)
            if k < len(views):  # the last offset's mask is not needed by any later one
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
        finite = bool(np.isfinite(g).all())
        tiles = _tiles(self.kernel, self.stride, self.dilation)
        if tiles and finite:
            # The windows write every entry they cover: only the uncovered last rows and
            # columns (an input not a whole number of windows) need zeros.
            (kh, kw), (ho, wo) = self.kernel, g.shape[2:]
            out[:, :, ho * kh:, :] = 0
            out[:, :, :ho * kh, wo * kw:] = 0
        else:
            out.fill(0)
        if not finite:  # g·mask would turn ±inf into NaN off the maximum
            for mask, view in self.views(out):
                np.add(view, g, out=view, where=mask)
            return out
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
