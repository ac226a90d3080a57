"""Arithmetic: + − × ÷, powers, matmul, and the broadcasting pair sum_to / broadcast_to.

Backwards are written with Tensor ops, so each is itself differentiable (double backward).
Gradients may keep the broadcast shape: the engine sums them back with ``SumTo``.
"""

from __future__ import annotations

import numpy as np

from ..graph import wrap
from .define import define_op
from .select import Where

_CONSTANTS: dict = {}


def _constant(key: tuple, make, *args) -> np.ndarray:
    """A small read-only array shared by every call with the same key (shapes repeat in training:
    building it each step would cost more than the op it serves)."""
    a = _CONSTANTS.get(key)
    if a is None:
        if len(_CONSTANTS) > 256:
            _CONSTANTS.clear()
        a = _CONSTANTS[key] = make(*args)
        a.flags.writeable = False
    return a


def ones_vector(n: int, dtype: np.dtype) -> np.ndarray:
    """n ones. ``ones_vector(N) @ g`` sums g's rows: a BLAS call, several times cheaper than
    ``g.sum(0)``'s reduction machinery on small arrays."""
    return _constant(("ones", n, dtype), np.ones, n, dtype)


def zeros_array(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A read-only array of zeros of ``shape`` (a large one reads the kernel's zero page)."""
    return _constant(("zeros", shape, dtype), np.zeros, shape, dtype)


def row_offsets(m: int, c: int) -> np.ndarray:
    """[0, c, 2c, …]: row n's entry of class y is element n·c + y of a flat (m, c) array, and a
    flat gather or scatter is several times cheaper than x[rows, cols]."""
    return _constant(("offsets", m, c), np.arange, 0, m * c, c)


@define_op(lambda ctx, a, b: a + b)
def Add(ctx, g):
    """a + b;  ∂/∂a = g, ∂/∂b = g."""
    return g, g


@define_op(lambda ctx, a, b: a - b, array_backward=True)
def Sub(ctx, g):
    """a − b;  ∂/∂a = g, ∂/∂b = −g."""
    return g, -g


@define_op(lambda ctx, a, b: a * b, save_inputs=True, array_backward=True)
def Mul(ctx, g):
    """a · b;  ∂/∂a = g·b, ∂/∂b = g·a."""
    a, b = ctx.saved
    ga = g * b if ctx.parents[0] is not None else None
    gb = g * a if ctx.parents[1] is not None else None
    return ga, gb


@define_op(lambda ctx, a, b: a / b, save_inputs=True, array_backward=True)
def Div(ctx, g):
    """a / b;  ∂/∂a = g/b, ∂/∂b = −g·a/b²."""
    a, b = ctx.saved
    ga = g / b if ctx.parents[0] is not None else None
    gb = -g * a / (b * b) if ctx.parents[1] is not None else None
    return ga, gb


@define_op(lambda ctx, a: -a, array_backward=True)
def Neg(ctx, g):
    """−a;  ∂/∂a = −g."""
    return (-g,)


@define_op(lambda ctx, a: a.copy())
def Clone(ctx, g):
    """A copy;  ∂/∂a = g."""
    return (g,)


@define_op(lambda ctx, a, dtype: a.astype(dtype))
def Cast(ctx, g):
    """Change dtype;  the gradient is cast back to the input's dtype (by the engine)."""
    return (g,)


def _pow_scalar(ctx, a, p):
    ctx.p = p
    if p == 2:
        return a * a
    if p == 0.5:
        return np.sqrt(a)
    return np.power(a, p if a.dtype.kind == "f" or p >= 0 else float(p))


@define_op(_pow_scalar, save_inputs=True, array_backward=True)
def PowScalar(ctx, g):
    """aᵖ for a Python number p;  ∂/∂a = g·p·aᵖ⁻¹ (0 when p = 0)."""
    (a,) = ctx.saved
    p = ctx.p
    if p == 0:
        return (g * 0.0,)
    if p == 1:
        return (g,)
    if p == 2:
        return (g * a * 2.0,)
    return (g * (a ** (p - 1)) * p,)


@define_op(lambda ctx, a, b: np.power(a, b), save_inputs=True, save_output=True)
def Pow(ctx, g):
    """aᵇ with both tensors;  ∂/∂a = g·b·aᵇ⁻¹, ∂/∂b = g·aᵇ·log a (0 where a = 0 and b ≥ 0)."""
    a, b = ctx.saved
    ga = gb = None
    if ctx.parents[0] is not None:
        ga = g * b * a ** (b - 1.0)
    if ctx.parents[1] is not None:
        out = ctx.out
        safe = (a._data == 0) & (b._data >= 0)
        if safe.any():
            one = wrap(np.ones((), a.dtype))  # log 1 = 0 where a = 0, b >= 0
            log_a = Where.apply(wrap(safe), one, a).log()
        else:
            log_a = a.log()
        gb = g * out * log_a
    return ga, gb


# For matrices and vectors ndarray.dot is the same product and goes straight to BLAS; matmul's
# ufunc dispatch costs more than the product itself at small sizes.
@define_op(lambda ctx, a, b: a.dot(b) if a.ndim <= 2 and b.ndim <= 2 else np.matmul(a, b),
           save_inputs=True, array_backward=True)
def MatMul(ctx, g):
    """a @ b (batched, 1-D operands as vectors);  ∂/∂a = g @ bᵀ, ∂/∂b = aᵀ @ g."""
    a, b = ctx.saved
    # 1-D operands as a row (a) or a column (b) matrix, and g reshaped to match.
    a2 = a.reshape((1,) + tuple(a.shape)) if a.ndim == 1 else a
    b2 = b.reshape(tuple(b.shape) + (1,)) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1 or b.ndim == 1:
        batch = tuple(g.shape[:g.ndim - (a.ndim >= 2) - (b.ndim >= 2)])
        g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    ga = gb = None
    if ctx.parents[0] is not None:
        ga = g2 @ b2.mT
        if a.ndim == 1:
            ga = ga.reshape(tuple(ga.shape[:-2]) + (ga.shape[-1],))
    if ctx.parents[1] is not None:
        gb = a2.mT @ g2
        if b.ndim == 1:
            gb = gb.reshape(tuple(gb.shape[:-1]))
    return ga, gb


def matmul_of(a, b):
    """a @ b in either of the engine's modes: on arrays straight to BLAS (``ndarray.dot``), on
    Tensors the recorded MatMul. What a backward calls for a product, one frame for the hot case."""
    if type(a) is np.ndarray:
        return a.dot(b) if a.ndim <= 2 and b.ndim <= 2 else np.matmul(a, b)
    return MatMul.call(a, b)


def _linear(ctx, x, w, b=None):
    # ndarray.dot goes straight to BLAS for 2-D operands (see MatMul)
    y = x.dot(w.T) if x.ndim == 2 else np.matmul(x, w.T)
    if b is not None:
        y += b
    return y


@define_op(_linear, save_inputs=True, array_backward=True)
def Linear(ctx, g):
    """x·Wᵀ + b (W of shape (out, in), b optional) in one node, as torch's addmm;
    ∂/∂x = g·W, ∂/∂W = gᵀ·x (batch dims folded), ∂/∂b = Σ g over all but the last dim."""
    saved = ctx.saved
    x, w = saved[0], saved[1]
    p = ctx.parents
    g2, x2 = g, x
    if g.ndim != 2:  # batch dims folded into rows
        g2, x2 = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
    gx = matmul_of(g, w) if p[0] is not None else None
    gw = matmul_of(g2.T, x2) if p[1] is not None else None
    if len(p) == 2:
        return gx, gw
    # Σ over rows as ones · g2: one BLAS call, cheaper than a reduction on small arrays
    ones = ctx.constant(ones_vector(g2.shape[0], ctx.metas[2][1]))
    return gx, gw, (matmul_of(ones, g2) if p[2] is not None else None)


def _sum_to(ctx, a, shape):
    ctx.in_shape = a.shape
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1
    )
    out = a.sum(axis=axes, keepdims=True) if axes else a
    return out.reshape(shape)


@define_op(_sum_to, array_backward=True)
def SumTo(ctx, g):
    """Sum a broadcast array back to ``shape`` (undo broadcasting);  ∂/∂a = broadcast g."""
    return (broadcast_of(g, ctx.in_shape),)


def broadcast_of(g, shape):
    """``g`` broadcast to ``shape`` in either of the engine's modes (see ``matmul_of``)."""
    if type(g) is np.ndarray:
        return _broadcast_to(None, g, shape)
    return BroadcastTo.call(g, shape=shape)


def _broadcast_to(ctx, a, shape):
    if a.size == 1:  # the common case (a reduced scalar's gradient): a filled fresh array
        out = np.empty(shape, a.dtype)  # costs a third of np.full, a fifth of broadcast_to
        out.fill(a.reshape(()))
        return out
    return np.broadcast_to(a, shape)


@define_op(_broadcast_to)
def BroadcastTo(ctx, g):
    """Broadcast to ``shape`` (a read-only view);  ∂/∂a = g summed back to a's shape."""
    return (g,)  # the engine sums it back to the input's shape
