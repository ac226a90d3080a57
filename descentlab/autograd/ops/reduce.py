"""Reductions (sum, max/min, logsumexp, prod, cumsum) and softmax / log-softmax."""

from __future__ import annotations

import numpy as np

from ..graph import Op, wrap
from ..mode import mode_state
from .arith import broadcast_of
from .define import define_op
from .select import Where
from .shape import Reshape
from .unary import Exp


def _keep_shape(in_shape, dim):
    """The reduced shape with size-1 dims kept (so a gradient can be broadcast back)."""
    if dim is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in dim else s for i, s in enumerate(in_shape))


def _sum(ctx, a, dim, keepdim):
    ctx.in_shape, ctx.dim = a.shape, dim
    # np.add.reduce is np.sum without its Python-level dispatch (a hot op).
    return np.asarray(np.add.reduce(a, axis=dim, keepdims=keepdim))


@define_op(_sum, array_backward=True)
def Sum(ctx, g):
    """Σ over ``dim``;  ∂/∂a = g broadcast back over the summed dims."""
    if ctx.dim is not None:  # a full reduction's g has one element: no dims to put back
        g = Reshape.call(g, shape=_keep_shape(ctx.in_shape, ctx.dim))
    return (broadcast_of(g, ctx.in_shape),)


class _Extreme(Op):
    """max/min over ``dim``. The gradient goes to the extreme entries: split evenly among ties
    (full reductions, amax/amin, as torch) or to the first one (max(dim) with indices)."""

    save_inputs = True
    save_output = True
    reduce_array = None
    _arg = None

    @classmethod
    def forward(cls, ctx, a, dim, keepdim, evenly):
        if a.size == 0:
            raise RuntimeError(
                f"{cls.__name__.lower()}(): expected a non-empty tensor (shape {a.shape}) to reduce"
            )
        ctx.dim, ctx.evenly, ctx.keepdim = dim, evenly, keepdim
        return np.asarray(cls.reduce_array(a, axis=dim, keepdims=keepdim))

    @classmethod
    def backward(cls, ctx, g):
        (a,) = ctx.saved
        x = a._data
        kshape = _keep_shape(x.shape, ctx.dim)
        out = ctx.out_data.reshape(kshape)
        if ctx.evenly:
            mask = (x == out).astype(x.dtype)
            mask /= mask.sum(axis=ctx.dim, keepdims=True)
        else:
            (d,) = ctx.dim
            idx = cls._arg(x, axis=d, keepdims=True)
            mask = np.zeros_like(x)
            np.put_along_axis(mask, idx, 1, axis=d)
        return (g.reshape(kshape) * wrap(mask),)


class Max(_Extreme):
    reduce_array = staticmethod(np.max)
    _arg = staticmethod(np.argmax)


class Min(_Extreme):
    reduce_array = staticmethod(np.min)
    _arg = staticmethod(np.argmin)


def _logsumexp(ctx, a, dim, keepdim):
    ctx.dim = dim
    m = np.max(a, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(a - m), axis=dim, keepdims=True)) + m
    if not keepdim:
        out = out.reshape([s for i, s in enumerate(out.shape) if not (dim is None or i in dim)])
    return np.asarray(out, dtype=a.dtype)


@define_op(_logsumexp, save_inputs=True, save_output=True)
def LogSumExp(ctx, g):
    """log Σ exp(a) = m + log Σ exp(a − m), m = max a;  ∂/∂a = g·exp(a − out) (the softmax)."""
    (a,) = ctx.saved
    kshape = _keep_shape(a.shape, ctx.dim)
    return (g.reshape(kshape) * (a - ctx.out.reshape(kshape)).exp(),)


def _prod(ctx, a, dim, keepdim):
    ctx.dim = dim
    return np.asarray(np.prod(a, axis=dim, keepdims=keepdim))


@define_op(_prod, save_inputs=True, save_output=True)
def Prod(ctx, g):
    """Π over ``dim``;  ∂/∂aᵢ = g·Π_{j≠i} aⱼ (computed as out/aᵢ when no factor is 0)."""
    (a,) = ctx.saved
    kshape = _keep_shape(a.shape, ctx.dim)
    gk = g.reshape(kshape)
    if np.all(a._data != 0):
        return (gk * ctx.out.reshape(kshape) / a,)
    if mode_state.grad:  # create_graph: the product of the others with Tensor ops
        return (gk * _others_product(a, ctx.dim),)
    # With zeros, the product of the others is computed directly.
    x = a._data
    axes = range(x.ndim) if ctx.dim is None else ctx.dim
    flat = np.moveaxis(x, list(axes), list(range(x.ndim - len(axes), x.ndim)))
    lead = flat.shape[: x.ndim - len(axes)]
    f2 = flat.reshape(lead + (-1,))
    left = np.cumprod(np.concatenate([np.ones(lead + (1,), x.dtype), f2[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.flip(
        np.concatenate([f2[..., 1:], np.ones(lead + (1,), x.dtype)], -1), -1), -1), -1)
    others = np.moveaxis((left * right).reshape(flat.shape),
                         list(range(x.ndim - len(axes), x.ndim)), list(axes))
    return (gk * wrap(others),)


def _others_product(a, dim):
    """Π_{j≠i} aⱼ over the reduced dims, differentiably (for double backward through zeros):
    row i of an n×n stack is the slice with aᵢ replaced by 1, and its product is taken."""
    nd = a.ndim
    axes = tuple(range(nd)) if dim is None else tuple(dim)
    perm = [i for i in range(nd) if i not in axes] + list(axes)
    xp = a.permute(*perm)
    lead = xp.shape[: nd - len(axes)]
    n = int(np.prod(xp.shape[nd - len(axes):], dtype=np.int64))
    one = wrap(np.ones((), xp.dtype))
    rows = Where.apply(wrap(np.eye(n, dtype=bool)), one, xp.reshape(lead + (1, n)))
    return rows.prod(-1).reshape(xp.shape).permute(*np.argsort(perm).tolist())


def _cumsum(ctx, a, dim):
    ctx.dim = dim
    return np.cumsum(a, axis=dim)


@define_op(_cumsum)
def CumSum(ctx, g):
    """Running sum along ``dim``;  ∂/∂a = reversed running sum of g."""
    d = ctx.dim
    return (g.flip(d).cumsum(d).flip(d),)


def _flip(ctx, a, dims):
    ctx.dims = dims
    return np.flip(a, axis=dims)


@define_op(_flip)
def Flip(ctx, g):
    """Reverse along ``dims``;  ∂/∂a = g reversed the same way."""
    return (Flip.apply(g, dims=ctx.dims),)


def _softmax(ctx, a, dim):
    ctx.dim = dim
    e = np.exp(a - np.max(a, axis=dim, keepdims=True))
    e /= np.sum(e, axis=dim, keepdims=True)
    return e


@define_op(_softmax, save_output=True, array_backward=True)
def Softmax(ctx, g):
    """yᵢ = e^(aᵢ−m) / Σⱼ e^(aⱼ−m);  ∂/∂a = y·(g − Σ g·y)."""
    y = ctx.out
    return (y * (g - Sum.call(g * y, dim=(ctx.dim,), keepdim=True)),)


def _log_softmax(ctx, a, dim):
    ctx.dim = dim
    s = a - np.max(a, axis=dim, keepdims=True)
    s -= np.log(np.sum(np.exp(s), axis=dim, keepdims=True))
    return s


@define_op(_log_softmax, save_output=True, array_backward=True)
def LogSoftmax(ctx, g):
    """yᵢ = aᵢ − logΣⱼ e^(aⱼ);  ∂/∂a = g − e^y·Σ g."""
    return (g - Exp.call(ctx.out) * Sum.call(g, dim=(ctx.dim,), keepdim=True),)
