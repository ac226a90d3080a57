"""The ``descentlab.<op>(...)`` function forms, with torch's keyword names and ``out=``.

``out=`` follows torch: the result is computed, then written into ``out`` (resized, with a
warning, when its shape differs and it is not empty), which is returned. The result's dtype must
be castable to ``out``'s (no float into an integer tensor, nothing into bool); matrix products
want the same dtype. An op with ``out=`` is not differentiable, so it refuses inputs that require
grad while grad mode is on, with torch's message.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from . import dtypes
from .args import to_tensor
from .mode import mode_state, no_grad
from .tensor import Tensor
from .tensor import mm as _mm
from .tensor import where as _where

_TYPE_NAMES = {"f2": "Half", "f4": "Float", "f8": "Double", "i1": "Char", "i2": "Short",
               "i4": "Int", "i8": "Long", "u1": "Byte", "b1": "Bool", "c8": "ComplexFloat",
               "c16": "ComplexDouble"}
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_STRICT = {"matmul", "mm", "bmm", "dot", "mv"}  # torch checks these dtypes exactly


def _type_name(d: np.dtype) -> str:
    return _TYPE_NAMES.get(f"{d.kind}{d.itemsize}", str(d))


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    """torch.can_cast: never to a lower category (complex > float > integer > bool)."""
    return _CATEGORY[src.kind] <= _CATEGORY[dst.kind]


def write_out(name: str, result: Tensor, out: Any) -> Tensor:
    """Copy ``result`` into ``out`` with torch's dtype and shape rules; returns ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    src, dst = result._data, out._data
    if name in _STRICT and src.dtype != dst.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {dtypes.public(src.dtype)}, but got "
            f"{dtypes.public(dst.dtype)} instead; make out with dtype={dtypes.public(src.dtype)}"
        )
    if not _can_cast(src.dtype, dst.dtype):
        raise RuntimeError(
            f"result type {_type_name(src.dtype)} can't be cast to the desired output type "
            f"{_type_name(dst.dtype)}; make out with dtype={dtypes.public(src.dtype)}"
        )
    if dst.shape != src.shape:
        if dst.size:
            warnings.warn(
                f"{name}(): an output with one or more elements was resized since it had shape "
                f"{list(dst.shape)}, which does not match the required output shape "
                f"{list(src.shape)}. As in torch this is deprecated: pass an empty out tensor "
                f"(or one of the right shape).", UserWarning, stacklevel=3)
        out._data = np.empty(src.shape, dst.dtype)
    np.copyto(out._data, src, casting="unsafe")
    out._bump_version()
    return out


def _check_grad(name: str, args: tuple, out: Tensor) -> None:
    if not mode_state.grad:
        return
    flat = []
    for a in args:
        flat.extend(a if isinstance(a, (list, tuple)) else (a,))
    if out.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in flat):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            f"differentiation, but one of the arguments requires grad. Call it under "
            f"descentlab.no_grad(), or drop out= and use the returned tensor."
        )


def with_out(name: str, fn: Callable, doc: str) -> Callable:
    """``fn`` with torch's ``out=`` keyword added."""

    def op(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        _check_grad(name, tuple(args) + tuple(kwargs.values()), out)
        with no_grad():
            result = fn(*args, **kwargs)
        return write_out(name, result, out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else to_tensor(x)


def _unary(method: str) -> Callable:
    """The function form of a one-tensor method with torch's ``out=``, in one frame (``tanh(x)``
    sits on the hot path of small graphs, where each Python call counts)."""

    def op(input: Any, *, out: Any = None, **kwargs: Any) -> Any:
        t = input if isinstance(input, Tensor) else to_tensor(input)
        if out is None:
            return getattr(t, method)(**kwargs) if kwargs else getattr(t, method)()
        _check_grad(method, (t,) + tuple(kwargs.values()), out)
        with no_grad():
            result = getattr(t, method)(**kwargs)
        return write_out(method, result, out)

    op.__name__ = op.__qualname__ = method
    op.__doc__ = f"Function form of ``Tensor.{method}``, with torch's ``out=``."
    return op


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    return _t(input).add(other, alpha=alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    return _t(input).sub(other, alpha=alpha)


def mul(input: Any, other: Any) -> Tensor:
    return _t(input) * other


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    return _t(input).div(other, rounding_mode=rounding_mode)


def pow(input: Any, exponent: Any) -> Tensor:
    if not isinstance(input, Tensor):
        return _t(exponent).__rpow__(input)
    return input ** exponent


def matmul(input: Any, other: Any) -> Tensor:
    return _t(input).matmul(other)


def mm(input: Any, mat2: Any) -> Tensor:
    return _mm(input, mat2)


def bmm(input: Any, mat2: Any) -> Tensor:
    return _t(input).bmm(mat2)


def dot(input: Any, tensor: Any) -> Tensor:
    return _t(input).dot(tensor)


def mv(input: Any, vec: Any) -> Tensor:
    a, v = _t(input), _t(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a.ndim}, {v.ndim}")
    return a.matmul(v)


def maximum(input: Any, other: Any) -> Tensor:
    return _t(input).maximum(other)


def minimum(input: Any, other: Any) -> Tensor:
    return _t(input).minimum(other)


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:
    return _t(input).clamp(min, max)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    if input is None and other is None:  # torch.where(cond): the indices, one tensor per dim
        return tuple(Tensor._wrap(i) for i in np.nonzero(_t(condition)._data))
    return _where(condition, input, other)


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Σ of the elements over ``dim`` (all when None), as torch.sum(input, dim, keepdim=False, *,
    dtype=None, out=None); ``out=`` needs ``dim``."""
    return _t(input).sum(dim, keepdim, dtype=dtype)


def mean(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """(1/n)·Σ of the elements over ``dim`` (all when None), as torch.mean(input, dim,
    keepdim=False, *, dtype=None, out=None); ``out=`` needs ``dim``."""
    return _t(input).mean(dim, keepdim, dtype=dtype)


def _reduction(name: str, fn: Callable) -> Callable:
    """Like torch.sum/mean: ``out=`` only together with ``dim`` (the other overload has none)."""
    wrapped = with_out(name, fn, fn.__doc__ or "")

    def op(*args: Any, out: Any = None, **kwargs: Any) -> Tensor:
        if out is not None and len(args) < 2 and "dim" not in kwargs:
            raise TypeError(
                f"{name}() received an invalid combination of arguments: out= needs dim "
                f"(torch's {name}(input, dim, keepdim=False, *, dtype=None, out=None))"
            )
        return wrapped(*args, out=out, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = wrapped.__doc__
    return op


_BINARY = {
    "add": (add, "input + alpha·other, as torch.add(input, other, *, alpha=1, out=None)."),
    "sub": (sub, "input − alpha·other, as torch.sub(input, other, *, alpha=1, out=None)."),
    "subtract": (sub, "Alias of sub."),
    "mul": (mul, "input · other elementwise, as torch.mul(input, other, *, out=None)."),
    "multiply": (mul, "Alias of mul."),
    "div": (div, "input / other, as torch.div(input, other, *, rounding_mode=None, out=None)."),
    "divide": (div, "Alias of div."),
    "true_divide": (div, "Alias of div."),
    "pow": (pow, "input ** exponent, as torch.pow(input, exponent, *, out=None)."),
    "matmul": (matmul, "Matrix product, as torch.matmul(input, other, *, out=None)."),
    "mm": (mm, "2-D matrix product, as torch.mm(input, mat2, *, out=None)."),
    "bmm": (bmm, "Batched matrix product, as torch.bmm(input, mat2, *, out=None)."),
    "dot": (dot, "Inner product of 1-D tensors, as torch.dot(input, tensor, *, out=None)."),
    "mv": (mv, "Matrix × vector, as torch.mv(input, vec, *, out=None)."),
    "maximum": (maximum, "Elementwise max, as torch.maximum(input, other, *, out=None)."),
    "minimum": (minimum, "Elementwise min, as torch.minimum(input, other, *, out=None)."),
    "clamp": (clamp, "Clip into [min, max], as torch.clamp(input, min, max, *, out=None)."),
    "clip": (clamp, "Alias of clamp."),
    "where": (where, "input where condition else other, as torch.where(..., *, out=None)."),
}
_UNARY = ("abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid",
          "erf", "square", "reciprocal", "neg", "sign", "floor", "ceil", "round")
_WITH_DIM_OUT = ("amax", "amin", "logsumexp", "cumsum", "prod", "var", "std")


def build() -> dict:
    """Every function form this module defines, by its public name."""
    fns = {name: with_out(name, fn, doc) for name, (fn, doc) in _BINARY.items()}
    for name in _UNARY:
        fns[name] = _unary(name)
    for name in _WITH_DIM_OUT:
        fns[name] = with_out(name, _method(name), f"Function form of ``Tensor.{name}``, with "
                                                  f"torch's ``out=``.")
    fns["negative"] = fns["neg"]
    fns["absolute"] = fns["abs"]
    fns["sum"] = _reduction("sum", sum)
    fns["mean"] = _reduction("mean", mean)
    return fns


def _method(name: str) -> Callable:
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_t(input), name)(*args, **kwargs)

    return fn
