"""Shape ops: reshape, permute, indexing, concatenation and padding, with their adjoints.

View-like ops share the input's version counter, so an in-place change through a view is seen by
every tensor that saved the base for backward.
"""

from __future__ import annotations

import numpy as np

from .. import graph
from ..graph import Op, wrap
from .define import define_op


class _View(Op):
    """An op whose output is a view of its input: the output takes the input's version counter."""

    @classmethod
    def apply(cls, a, **kwargs):
        out = super().apply(a, **kwargs)
        out._vbox = a._vbox
        return out


def _reshape(ctx, a, shape):
    ctx.in_shape = a.shape
    return a.reshape(shape)


@define_op(_reshape, array_backward=True, base=_View)
def Reshape(ctx, g):
    """Same values, new shape;  ∂/∂a = g reshaped back."""
    return (g.reshape(ctx.in_shape),)


def _permute(ctx, a, dims):
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    ctx.inv = tuple(inv)
    return np.transpose(a, dims)


@define_op(_permute, array_backward=True, base=_View)
def Permute(ctx, g):
    """Reorder dims;  ∂/∂a = g permuted by the inverse permutation."""
    return (Permute.call(g, dims=ctx.inv),)


def normalize_index(index):
    """Turn Tensors inside an index into arrays; reject what NumPy would misread."""
    Tensor = graph.Tensor
    if isinstance(index, Tensor):
        return _index_array(index._data)
    if isinstance(index, tuple):
        return tuple(_index_array(i._data) if isinstance(i, Tensor) else
                     (np.asarray(i) if isinstance(i, list) else i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _index_array(a):
    if a.dtype.kind == "f":
        raise IndexError(
            "tensors used as indices must be long, int or bool tensors, got a float tensor; "
            "convert it with .long()"
        )
    return a


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if isinstance(i, np.ndarray) or (hasattr(i, "__len__") and not isinstance(i, str)):
            return False
    return True


def _getitem(ctx, a, index):
    ctx.in_shape, ctx.index = a.shape, index
    out = a[index]
    return out if isinstance(out, np.ndarray) else np.asarray(out)


@define_op(_getitem)
def GetItem(ctx, g):
    """a[index];  ∂/∂a = zeros with g scattered (added) back at index — repeats accumulate."""
    return (IndexAdd.apply(g, index=ctx.index, shape=ctx.in_shape),)


def _index_add(ctx, g, index, shape):
    ctx.index = index
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


@define_op(_index_add)
def IndexAdd(ctx, gg):
    """zeros(shape) with g added at index (the adjoint of indexing);  ∂/∂g = (∂out)[index]."""
    return (GetItem.apply(gg, index=ctx.index),)


def _index_put(ctx, a, v, index):
    ctx.index = index
    out = a.copy()
    out[index] = v
    return out


@define_op(_index_put)
def IndexPut(ctx, g):
    """a with a[index] = v;  ∂/∂a = g with zeros at index, ∂/∂v = g[index]."""
    keep = np.ones(g.shape, dtype=g.dtype)
    keep[ctx.index] = 0
    return g * wrap(keep), GetItem.apply(g, index=ctx.index)


def getitem(t, index):
    idx = normalize_index(index)
    try:
        out = GetItem.apply(t, index=idx)
    except IndexError as e:
        raise IndexError(
            f"index {index!r} is invalid for a tensor of shape {tuple(t.shape)}: {e}"
        ) from None
    if _is_basic(idx):
        out._vbox = t._vbox  # a basic index is a view
    return out


def _cat(ctx, *arrays, dim):
    ctx.dim = dim
    ctx.bounds = np.cumsum([0] + [a.shape[dim] for a in arrays]).tolist()
    return np.concatenate(arrays, axis=dim)


@define_op(_cat)
def Cat(ctx, g):
    """Concatenate along ``dim``;  ∂/∂aₖ = the k-th slice of g."""
    d, b = ctx.dim, ctx.bounds
    lead = (slice(None),) * d
    return tuple(g[lead + (slice(b[k], b[k + 1]),)] for k in range(len(b) - 1))


def _pad(ctx, a, pad, value):
    widths = [(0, 0)] * a.ndim
    for k in range(len(pad) // 2):
        widths[a.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    ctx.slices = tuple(
        slice(max(lo, 0), s + max(lo, 0) - max(-lo, 0) - max(-hi, 0))
        for (lo, hi), s in zip(widths, a.shape)
    )
    # Negative pads crop: crop first, then pad with the positive parts.
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(widths, a.shape))
    pos = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    ctx.crop, ctx.in_shape = crop, a.shape
    return np.pad(a[crop], pos, mode="constant", constant_values=value)


@define_op(_pad)
def Pad(ctx, g):
    """Constant padding (torch.nn.functional.pad convention: pairs from the last dim backwards);
    ∂/∂a = the interior slice of g."""
    inner = g[ctx.slices]
    if all(c == slice(0, s) for c, s in zip(ctx.crop, ctx.in_shape)):
        return (inner,)
    return (IndexAdd.apply(inner, index=ctx.crop, shape=ctx.in_shape),)
