"""Argument parsing for Tensor methods: dims, shapes, and operands with PyTorch's type promotion."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes, graph
from .graph import wrap


def arg_index(data: np.ndarray, fn: Any, dim: Any, keepdim: bool) -> Any:
    """Indices (int64) that ``fn`` (np.argmax/argmin) picks over ``dim``, as a Tensor."""
    if dim is None:
        return wrap(np.asarray(fn(data), dtype=np.int64))
    return wrap(np.asarray(fn(data, axis=dim, keepdims=keepdim), dtype=np.int64))


def floating(t: Any) -> Any:
    """``t`` itself if floating, else its values in the default float dtype (torch's rule)."""
    if t._data.dtype.kind in "fc":
        return t
    return wrap(t._data.astype(dtypes.get_default_dtype()))


def reduce_dims(dim: Any, ndim: int) -> tuple | None:
    """A ``dim`` argument as sorted non-negative axes (None: all of them)."""
    if dim is None or ndim == 0:  # a 0-d tensor reduced over dim 0 / -1 is itself (as torch)
        return None
    n = max(ndim, 1)
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        return tuple(sorted({int(d) % n for d in dim}))
    return (int(dim) % n,)


def shape_arg(shape: tuple) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` alike: the shape as one tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def infer_shape(t: Any, shape: tuple, op: str) -> tuple:
    """``shape`` for a view of ``t`` with one -1 filled in; the error names ``op``."""
    shape = tuple(int(s) for s in shape)
    n = t._data.size
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if shape.count(-1) > 1 or known == 0 or n % known:
            raise RuntimeError(
                f"{op}: shape {list(shape)} is invalid for input of size {n} (shape "
                f"{tuple(t.shape)})"
            )
        shape = tuple(n // known if s == -1 else s for s in shape)
    elif int(np.prod(shape)) != n:
        raise RuntimeError(
            f"{op}: shape {list(shape)} is invalid for input of size {n} (shape {tuple(t.shape)})"
        )
    return shape


def to_tensor(x: Any, like: Any | None = None) -> Any:
    """``x`` as a Tensor; a Python scalar takes the dtype of ``like`` where torch would."""
    if isinstance(x, graph.Tensor):
        return x
    if like is not None and isinstance(x, (int, float, bool)):
        kind = like._data.dtype.kind
        if kind == "f" or (kind in "iu" and not isinstance(x, float)):
            return wrap(np.asarray(x, dtype=like._data.dtype))
    return wrap(dtypes.as_array(x))


def promote_pair(a: Any, b: Any, true_div: bool = False) -> tuple:
    """Operands with PyTorch's type promotion (a Python scalar takes the tensor's dtype)."""
    if isinstance(b, graph.Tensor):
        da, db = a._data.dtype, b._data.dtype
        if da is db or da == db:
            if true_div and da.kind != "f":
                f = dtypes.get_default_dtype()
                return floating(a), wrap(b._data.astype(f))
            return a, b
        target = dtypes.promote(da, db, a._data.ndim == 0, b._data.ndim == 0)
        if true_div and target.kind != "f":
            target = dtypes.get_default_dtype()
        return (a if da == target else a.to(target)), (b if db == target else b.to(target))
    bt = to_tensor(b, a)
    if true_div and a._data.dtype.kind != "f":
        return floating(a), floating(bt)
    if bt._data.dtype != a._data.dtype:
        return promote_pair(a, bt, true_div)
    return a, bt
