"""Selections: elementwise maximum/minimum, clamp and where."""

from __future__ import annotations

import numpy as np

from ..graph import Op, wrap


class Maximum(Op):
    """max(a, b) elementwise;  the gradient goes to the larger one, split in half on ties."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (t._data for t in ctx.saved)
        wa = (a > b) + 0.5 * (a == b)
        return g * wrap(wa.astype(g.dtype)), g * wrap((1.0 - wa).astype(g.dtype))


class Minimum(Op):
    """min(a, b) elementwise;  the gradient goes to the smaller one, split in half on ties."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (t._data for t in ctx.saved)
        wa = (a < b) + 0.5 * (a == b)
        return g * wrap(wa.astype(g.dtype)), g * wrap((1.0 - wa).astype(g.dtype))


class Clamp(Op):
    """min(max(a, lo), hi);  ∂/∂a = g where lo ≤ a ≤ hi, else 0 (bounds inclusive, as torch)."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a = ctx.saved[0]._data
        m = np.ones(a.shape, dtype=bool)
        if ctx.lo is not None:
            m &= a >= ctx.lo
        if ctx.hi is not None:
            m &= a <= ctx.hi
        return (g * wrap(m.astype(g.dtype)),)


class Where(Op):
    """c ? a : b;  ∂/∂a = g where c, ∂/∂b = g where not c."""

    save_inputs = True

    @staticmethod
    def forward(ctx, c, a, b):
        return np.where(c, a, b)

    @staticmethod
    def backward(ctx, g):
        c = ctx.saved[0]
        zero = wrap(np.zeros((), dtype=g.dtype))
        ga = Where.apply(c, g, zero) if ctx.parents[1] is not None else None
        gb = Where.apply(c, zero, g) if ctx.parents[2] is not None else None
        return None, ga, gb
