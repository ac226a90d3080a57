"""Selections: elementwise maximum/minimum, clamp and where."""

from __future__ import annotations

import numpy as np

from ..graph import wrap
from .define import define_op


@define_op(lambda ctx, a, b: np.maximum(a, b), save_inputs=True)
def Maximum(ctx, g):
    """max(a, b) elementwise;  the gradient goes to the larger one, split in half on ties."""
    a, b = (t._data for t in ctx.saved)
    wa = (a > b) + 0.5 * (a == b)
    return g * wrap(wa.astype(g.dtype)), g * wrap((1.0 - wa).astype(g.dtype))


@define_op(lambda ctx, a, b: np.minimum(a, b), save_inputs=True)
def Minimum(ctx, g):
    """min(a, b) elementwise;  the gradient goes to the smaller one, split in half on ties."""
    a, b = (t._data for t in ctx.saved)
    wa = (a < b) + 0.5 * (a == b)
    return g * wrap(wa.astype(g.dtype)), g * wrap((1.0 - wa).astype(g.dtype))


def _clamp(ctx, a, lo, hi):
    ctx.lo, ctx.hi = lo, hi
    return np.clip(a, lo, hi)


@define_op(_clamp, save_inputs=True)
def Clamp(ctx, g):
    """min(max(a, lo), hi);  ∂/∂a = g where lo ≤ a ≤ hi, else 0 (bounds inclusive, as torch)."""
    a = ctx.saved[0]._data
    m = np.ones(a.shape, dtype=bool)
    if ctx.lo is not None:
        m &= a >= ctx.lo
    if ctx.hi is not None:
        m &= a <= ctx.hi
    return (g * wrap(m.astype(g.dtype)),)


@define_op(lambda ctx, c, a, b: np.where(c, a, b), save_inputs=True)
def Where(ctx, g):
    """c ? a : b;  ∂/∂a = g where c, ∂/∂b = g where not c."""
    c = ctx.saved[0]
    zero = wrap(np.zeros((), dtype=g.dtype))
    ga = Where.apply(c, g, zero) if ctx.parents[1] is not None else None
    gb = Where.apply(c, zero, g) if ctx.parents[2] is not None else None
    return None, ga, gb
