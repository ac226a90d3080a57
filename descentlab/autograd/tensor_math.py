"""Tensor's arithmetic: operators, comparisons, elementwise math, selections and reductions.

``TensorMath`` is a mixin of ``Tensor`` (see tensor.py); each differentiable method converts its
arguments and calls one op in ``ops/``. The module functions ``matmul``, ``mm`` and ``where`` are
the shared forms the methods and ``descentlab.matmul`` / ``where`` call.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from . import dtypes, graph, ops
from .args import arg_index, floating, promote_pair, reduce_dims, to_tensor
from .graph import label, wrap

# The annotations' "Tensor": the class in tensor.py that combines this mixin (importing it here
# would make a circle; code that needs the class itself reads graph.Tensor).
Tensor = Any

_py_float = builtins.float
_py_int = builtins.int
_py_bool = builtins.bool


def _binary(op_name: str, symbol: str, reflected: bool = False) -> Callable:
    """The operator method ``self <symbol> other`` (``other <symbol> self`` when ``reflected``):
    operands promoted as torch does, then ``ops.<op_name>``."""
    apply = getattr(ops, op_name).apply
    true_div = op_name == "Div"
    if reflected:
        def method(self: Any, other: Any) -> Any:
            b, a = promote_pair(self, other, true_div)
            return apply(a, b)
        method.__doc__ = f"other {symbol} self"
    else:
        def method(self: Any, other: Any) -> Any:
            # Two tensors of one dtype (floating for /) need no promotion: the hot case.
            if isinstance(other, TensorMath):
                da = self._data.dtype
                if da is other._data.dtype and (not true_div or da.kind == "f"):
                    return apply(self, other)
            a, b = promote_pair(self, other, true_div)
            return apply(a, b)
        method.__doc__ = f"self {symbol} other"
    return method


def _comparison(fn: Callable, symbol: str) -> Callable:
    """The comparison method ``self <symbol> other``: a bool tensor, outside the graph."""

    def method(self: Any, other: Any) -> Any:
        o = other._data if isinstance(other, graph.Tensor) else other
        return wrap(np.asarray(fn(self._data, o)))

    method.__doc__ = f"self {symbol} other, elementwise (no gradient)"
    return method


def _elementwise(fn: Callable, what: str) -> Callable:
    """The method giving ``fn`` of the values as a new tensor outside the graph (no gradient)."""

    def method(self: Any) -> Any:
        return wrap(fn(self._data))

    method.__doc__ = f"{what} (no gradient)"
    return method


class TensorMath:
    """Operators, comparisons, elementwise math, selections and reductions of ``Tensor``."""

    # ------------------------------------------------------------------ operators
    __add__ = _binary("Add", "+")
    __radd__ = _binary("Add", "+", reflected=True)
    __sub__ = _binary("Sub", "-")
    __rsub__ = _binary("Sub", "-", reflected=True)
    __mul__ = _binary("Mul", "*")
    __rmul__ = _binary("Mul", "*", reflected=True)
    __truediv__ = _binary("Div", "/")
    __rtruediv__ = _binary("Div", "/", reflected=True)
    __eq__ = _comparison(np.equal, "==")  # type: ignore[assignment]
    __ne__ = _comparison(np.not_equal, "!=")  # type: ignore[assignment]
    __lt__ = _comparison(np.less, "<")
    __le__ = _comparison(np.less_equal, "<=")
    __gt__ = _comparison(np.greater, ">")
    __ge__ = _comparison(np.greater_equal, ">=")
    __hash__ = object.__hash__  # defining __eq__ would otherwise make tensors unhashable

    # ------------------------------------------------------------------ arithmetic methods
    def __neg__(self) -> "Tensor":
        return ops.Neg.apply(self)

    def __pos__(self) -> "Tensor":
        return self

    def __pow__(self, other: Any) -> "Tensor":
        if isinstance(other, (_py_int, _py_float)) and not isinstance(other, _py_bool):
            if self._data.dtype.kind in "iu" and isinstance(other, _py_float):
                return ops.PowScalar.apply(self.to(dtypes.get_default_dtype()), p=other)
            return ops.PowScalar.apply(self, p=other)
        a, b = promote_pair(self, other)
        return ops.Pow.apply(a, b)

    def __rpow__(self, other: Any) -> "Tensor":
        b, a = promote_pair(self, other)
        return ops.Pow.apply(a, b)

    def __matmul__(self, other: Any) -> "Tensor":
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return matmul(to_tensor(other), self)

    def __abs__(self) -> "Tensor":
        return self.abs()

    def add(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> "Tensor":
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> "Tensor":
        """self / other; rounding_mode 'trunc' or 'floor' rounds the quotient (no gradient, and
        integer inputs stay integer, as torch)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"{rounding_mode!r}"
            )
        a, b = promote_pair(self, other)
        with np.errstate(divide="ignore", invalid="ignore"):
            if a._data.dtype.kind in "iu":
                q = np.floor_divide(a._data, b._data)
                if rounding_mode == "trunc":
                    q = q + ((np.remainder(a._data, b._data) != 0) & ((a._data < 0) != (
                        b._data < 0)))
            else:
                q = np.true_divide(a._data, b._data)
                q = np.floor(q) if rounding_mode == "floor" else np.trunc(q)
        return wrap(np.asarray(q))

    def pow(self, exponent: Any) -> "Tensor":
        return self ** exponent

    def neg(self) -> "Tensor":
        return -self

    def matmul(self, other: Any) -> "Tensor":
        return matmul(self, other)

    def mm(self, other: Any) -> "Tensor":
        return mm(self, other)

    def bmm(self, other: Any) -> "Tensor":
        if self.ndim != 3 or to_tensor(other).ndim != 3:
            raise RuntimeError("bmm expects two 3-D tensors (batch, n, m) and (batch, m, p)")
        return matmul(self, other)

    def dot(self, other: Any) -> "Tensor":
        if self.ndim != 1 or to_tensor(other).ndim != 1:
            raise RuntimeError("1D tensors expected in dot")
        return matmul(self, other)

    # ------------------------------------------------------------------ comparisons (no grad)
    def _cmp(self, other: Any, fn: Any) -> "Tensor":
        o = other._data if isinstance(other, graph.Tensor) else other
        return wrap(np.asarray(fn(self._data, o)))

    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__

    def __and__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.logical_and if self.dtype == dtypes.bool_ else np.bitwise_and)

    def __or__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.logical_or if self.dtype == dtypes.bool_ else np.bitwise_or)

    def __xor__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.logical_xor if self.dtype == dtypes.bool_ else np.bitwise_xor)

    def __invert__(self) -> "Tensor":
        if self._data.dtype == dtypes.bool_:
            return wrap(np.logical_not(self._data))
        return wrap(np.invert(self._data))

    # Elementwise functions without a gradient: the values of a NumPy function, outside the graph.
    logical_not = _elementwise(np.logical_not, "not self, elementwise")
    isnan = _elementwise(np.isnan, "True where self is NaN")
    isinf = _elementwise(np.isinf, "True where self is ±inf")
    isfinite = _elementwise(np.isfinite, "True where self is neither NaN nor ±inf")
    sign = _elementwise(np.sign, "−1, 0 or 1 by the sign of self")
    floor = _elementwise(np.floor, "self rounded down")
    ceil = _elementwise(np.ceil, "self rounded up")
    round = _elementwise(np.round, "self rounded to the nearest integer, halves to even")

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return _py_bool(np.allclose(self._data, to_tensor(other)._data, rtol=rtol, atol=atol))

    def equal(self, other: Any) -> bool:
        o = to_tensor(other)._data
        return self._data.shape == o.shape and _py_bool(np.array_equal(self._data, o))

    def all(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return wrap(np.asarray(np.all(self._data, axis=dim, keepdims=keepdim)))

    def any(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return wrap(np.asarray(np.any(self._data, axis=dim, keepdims=keepdim)))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return arg_index(self._data, np.argmax, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return arg_index(self._data, np.argmin, dim, keepdim)

    def nonzero(self) -> "Tensor":
        return wrap(np.argwhere(self._data))

    def count_nonzero(self, dim: Any = None) -> "Tensor":
        return wrap(np.asarray(np.count_nonzero(self._data, axis=dim), dtype=np.int64))

    def sort(self, dim: int = -1, descending: bool = False) -> Any:
        idx = np.argsort(-self._data if descending else self._data, axis=dim, kind="stable")
        return _ValuesIndices(self.gather(dim, wrap(idx)), wrap(idx))

    def argsort(self, dim: int = -1, descending: bool = False) -> "Tensor":
        return self.sort(dim, descending).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True) -> Any:
        s = self.sort(dim, descending=largest)
        sl = [builtins.slice(None)] * self.ndim
        sl[dim] = builtins.slice(0, k)
        return _ValuesIndices(s.values[tuple(sl)], s.indices[tuple(sl)])

    def gather(self, dim: int, index: "Tensor") -> "Tensor":
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (as torch.gather)."""
        idx = to_tensor(index)._data
        grids = list(np.indices(idx.shape, sparse=True))
        grids[dim % self.ndim] = idx
        return label(self[tuple(wrap(np.asarray(g)) for g in grids)], "GatherBackward0")

    # ------------------------------------------------------------------ unary math
    def exp(self) -> "Tensor":
        return ops.Exp.apply(floating(self))

    def log(self) -> "Tensor":
        return ops.Log.apply(floating(self))

    def log1p(self) -> "Tensor":
        return ops.Log1p.apply(floating(self))

    def sqrt(self) -> "Tensor":
        return ops.Sqrt.apply(floating(self))

    def rsqrt(self) -> "Tensor":
        return label(self.sqrt().reciprocal(), "RsqrtBackward0")

    def reciprocal(self) -> "Tensor":
        return label(1.0 / floating(self), "ReciprocalBackward0")

    def square(self) -> "Tensor":
        return label(self * self, "PowBackward0")

    def sin(self) -> "Tensor":
        return ops.Sin.apply(floating(self))

    def cos(self) -> "Tensor":
        return ops.Cos.apply(floating(self))

    def tan(self) -> "Tensor":
        return self.sin() / self.cos()

    def tanh(self) -> "Tensor":
        return ops.Tanh.apply(floating(self))

    def sigmoid(self) -> "Tensor":
        return ops.Sigmoid.apply(floating(self))

    def relu(self) -> "Tensor":
        return ops.Relu.apply(self)

    def abs(self) -> "Tensor":
        return ops.Abs.apply(self)

    def erf(self) -> "Tensor":
        return ops.Erf.apply(floating(self))

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        return ops.LeakyRelu.apply(self, slope=negative_slope)

    def elu(self, alpha: float = 1.0) -> "Tensor":
        return ops.Elu.apply(self, alpha=alpha)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> "Tensor":
        return ops.Softplus.apply(self, beta=beta, threshold=threshold)

    def gelu(self, approximate: str = "none") -> "Tensor":
        """x·Φ(x) with Φ the standard normal CDF; approximate='tanh' uses
        0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
        if approximate == "none":
            return self * 0.5 * (1.0 + (self * 0.7071067811865476).erf())
        if approximate == "tanh":
            inner = (self + self * self * self * 0.044715) * 0.7978845608028654
            return self * 0.5 * (1.0 + inner.tanh())
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")

    # ------------------------------------------------------------------ binary selections
    def maximum(self, other: Any) -> "Tensor":
        a, b = promote_pair(self, other)
        return ops.Maximum.apply(a, b)

    def minimum(self, other: Any) -> "Tensor":
        a, b = promote_pair(self, other)
        return ops.Minimum.apply(a, b)

    def clamp(self, min: Any = None, max: Any = None) -> "Tensor":
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, graph.Tensor) or isinstance(max, graph.Tensor):
            out = self
            if min is not None:
                out = out.maximum(min)
            if max is not None:
                out = out.minimum(max)
            return out
        return ops.Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def where(self, condition: Any, other: Any) -> "Tensor":
        return where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> "Tensor":
        return label(where(mask, to_tensor(value, self), self), "MaskedFillBackward0")

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        if dim is None and dtype is None and self._data.dtype.kind in "fc":  # loss.sum(): hot
            return ops.Sum.apply(self, dim=None, keepdim=keepdim)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "biu" and dtype is None:
            x = x.to(dtypes.int64)
        return ops.Sum.apply(x, dim=reduce_dims(dim, x.ndim), keepdim=keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {x._data.dtype}"
            )
        axes = reduce_dims(dim, x.ndim)
        n = x._data.size if axes is None else int(np.prod([x._data.shape[a] for a in axes]))
        return label(ops.Sum.apply(x, dim=axes, keepdim=keepdim) / n,
                     "MeanBackward0" if dim is None else "MeanBackward1")

    def _minmax(self, dim: Any, keepdim: bool, op_name: str) -> Any:
        op = getattr(ops, op_name)
        if dim is None:
            return op.apply(self, dim=None, keepdim=False, evenly=True)
        if isinstance(dim, graph.Tensor):
            return (self.maximum if op_name == "Max" else self.minimum)(dim)
        d = _py_int(dim) % max(self.ndim, 1)
        values = op.apply(self, dim=(d,), keepdim=keepdim, evenly=False)
        fn = np.argmax if op_name == "Max" else np.argmin
        return _ValuesIndices(values, arg_index(self._data, fn, d, keepdim))

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Largest value; with ``dim``, a (values, indices) pair like torch.max(x, dim)."""
        return self._minmax(dim, keepdim, "Max")

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Smallest value; with ``dim``, a (values, indices) pair like torch.min(x, dim)."""
        return self._minmax(dim, keepdim, "Min")

    def amax(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return ops.Max.apply(self, dim=reduce_dims(dim, self.ndim), keepdim=keepdim, evenly=True)

    def amin(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return ops.Min.apply(self, dim=reduce_dims(dim, self.ndim), keepdim=keepdim, evenly=True)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: Any = None) -> "Tensor":
        """Σ(x − mean)² / (N − correction); correction=1 (unbiased, the default) as torch."""
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        axes = reduce_dims(dim, self.ndim)
        n = self._data.size if axes is None else int(np.prod([self._data.shape[a] for a in axes]))
        centered = self - self.mean(axes, keepdim=True)
        return label((centered * centered).sum(axes, keepdim=keepdim)
                     / builtins.max(n - correction, 0), "VarBackward0")

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: Any = None) -> "Tensor":
        v = self.var(dim, unbiased, keepdim, correction=correction)
        if np.all(v._data > 0):
            return label(v.sqrt(), "StdBackward0")
        # As torch: the gradient is 0 (not 0·∞ = nan) where the std is 0.
        pos = wrap(v._data > 0)
        return label(where(pos, where(pos, v, 1.0).sqrt(), 0.0), "StdBackward0")

    def logsumexp(self, dim: Any, keepdim: bool = False) -> "Tensor":
        """log Σ exp(x) along ``dim``, computed as m + log Σ exp(x − m) with m the max."""
        return ops.LogSumExp.apply(floating(self), dim=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def prod(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return ops.Prod.apply(self, dim=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False) -> "Tensor":
        if p == "fro" or p == 2:
            out = (self * self).sum(dim, keepdim).sqrt()
        elif p == 1:
            out = self.abs().sum(dim, keepdim)
        elif p in (np.inf, _py_float("inf"), "inf"):
            out = self.abs().amax(dim, keepdim)
        else:
            out = (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)
        return label(out, "LinalgVectorNormBackward0")

    def softmax(self, dim: int) -> "Tensor":
        return ops.Softmax.apply(floating(self), dim=_py_int(dim) % builtins.max(self.ndim, 1))

    def log_softmax(self, dim: int) -> "Tensor":
        return ops.LogSoftmax.apply(floating(self), dim=_py_int(dim) % builtins.max(self.ndim, 1))

    def cumsum(self, dim: int) -> "Tensor":
        return ops.CumSum.apply(self, dim=_py_int(dim) % builtins.max(self.ndim, 1))


class _ValuesIndices(tuple):
    """(values, indices) as returned by torch.max(x, dim) and friends."""

    def __new__(cls, values: Any, indices: Any) -> "_ValuesIndices":
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Any:
        return self[0]

    @property
    def indices(self) -> Any:
        return self[1]


def matmul(a: Any, b: Any) -> Any:
    """Matrix product with NumPy/PyTorch broadcasting rules (1-D operands as vectors)."""
    a, b = promote_pair(to_tensor(a), b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if ka != kb:
        raise RuntimeError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({ka} != {kb}: the last dim of the first must equal the "
            f"{'second-to-last' if b.ndim >= 2 else 'only'} dim of the second)"
        )
    return ops.MatMul.apply(a, b)


def mm(a: Any, b: Any) -> Any:
    """Product of two 2-D tensors (``matmul`` restricted to matrices, as torch.mm)."""
    a, b = to_tensor(a), to_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return matmul(a, b)


def where(condition: Any, input: Any, other: Any) -> Any:
    """Elementwise ``input if condition else other`` (gradients flow to the chosen side)."""
    cond = to_tensor(condition)
    if cond._data.dtype != dtypes.bool_:
        cond = wrap(cond._data.astype(bool))
    if isinstance(input, graph.Tensor):
        a, b = promote_pair(input, other)
    elif isinstance(other, graph.Tensor):
        b, a = promote_pair(other, input)
    else:
        a = to_tensor(input)
        a, b = promote_pair(a, other)
    return ops.Where.apply(cond, a, b)
