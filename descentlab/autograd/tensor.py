"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad, the node that made it).

Names, signatures and semantics follow PyTorch. Every differentiable method is a thin call to an op
in ``ops/``; this file only converts arguments and routes.
"""

from __future__ import annotations

import builtins
from typing import Any, Iterator, Sequence

import numpy as np

from . import dtypes, graph, ops, printing
from .args import (
    arg_index,
    floating,
    infer_shape,
    promote_pair,
    reduce_dims,
    shape_arg,
    to_tensor,
)
from .backward import run_backward
from .grad import grad as autograd_grad
from .grad import root_gradient
from .graph import AccumulateGrad, label
from .mode import mode_state, set_grad_enabled
from .size import Size

_new_size = tuple.__new__  # Size from a shape that is already a tuple of ints (no checks)

_py_float = builtins.float
_py_int = builtins.int
_py_bool = builtins.bool


class Tensor:
    """An n-dimensional array that can record the operations applied to it for backpropagation.

    ``data`` lives in a NumPy array (``.numpy()`` shares it). Set ``requires_grad=True`` on a leaf
    to have ``backward()`` fill its ``.grad``. PyTorch's names and semantics; CPU only.
    """

    # Defaults at class level: a new tensor only stores what differs (cheap to create).
    _requires_grad = False
    _grad = None
    _ctx = None
    _oidx = 0
    _accum = None
    _hooks = None
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data: Any = None, requires_grad: bool = False, dtype: Any = None) -> None:
        arr = dtypes.as_array(data if data is not None else [], dtype)
        if dtype is None and arr.dtype.kind in "biu":
            arr = arr.astype(dtypes.get_default_dtype())  # torch.Tensor(...) is always floating
        self._data = arr
        self._vbox = [0]
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, arr: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an ndarray without copying or checking (internal fast path)."""
        t = object.__new__(cls)
        t._data = arr
        t._vbox = [0]
        if requires_grad:
            t._requires_grad = True
        return t

    # ------------------------------------------------------------------ autograd attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = _py_bool(value)
        if self._ctx is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use "
                    "a computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach()."
                )
            return
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients; this tensor is "
                f"{self._data.dtype}. Convert it first, e.g. x.float().requires_grad_()."
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> "Tensor | None":
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is None:  # zero_grad's and every training loop's call: keep it short
            self._grad = None
            return
        if not isinstance(value, Tensor):
            raise TypeError(
                f"assigned grad must be a Tensor or None, got {type(value).__name__}"
            )
        if value._data.shape != self._data.shape:
            raise RuntimeError(
                f"assigned grad has data of a different size: grad shape "
                f"{tuple(value.shape)} vs tensor shape {tuple(self.shape)}"
            )
        self._grad = value

    @property
    def grad_fn(self) -> Any:
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def _version(self) -> int:
        return self._vbox[0]

    def _bump_version(self) -> None:
        self._vbox[0] += 1

    def _edge(self) -> tuple:
        if self._ctx is not None:
            return (self._ctx, self._oidx)
        acc = self._accum
        if acc is None:
            acc = self._accum = AccumulateGrad(self)
        return (acc, 0)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self._ctx is None:
            return
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx.retained is None:
            self._ctx.retained = {}
        self._ctx.retained[self._oidx] = self
        self._ctx.special = True

    @property
    def retains_grad(self) -> bool:
        ctx = self._ctx
        return ctx is not None and ctx.retained is not None and self._oidx in ctx.retained

    def register_hook(self, hook: Any) -> None:
        """Call ``hook(grad)`` whenever a gradient for this tensor is computed; it may return a
        replacement gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
        else:
            self._ctx.register_hook(hook)

    def backward(
        self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
        create_graph: bool = False, inputs: Sequence["Tensor"] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) · gradient into ``.grad`` of every leaf that requires grad.

        ``gradient`` is required unless self is a scalar (it is the vector in the vector-Jacobian
        product). The graph's saved values are freed afterwards unless ``retain_graph=True``;
        ``create_graph=True`` records the backward itself, for higher-order derivatives.
        """
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            got = autograd_grad(self, inputs, gradient, retain_graph=retain_graph,
                        create_graph=create_graph, allow_unused=True)
            with set_grad_enabled(create_graph):
                for t, g in zip(inputs, got):
                    if g is not None:
                        t._grad = g.detach().clone() if t._grad is None else t._grad + g
            return
        if not self._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: nothing "
                "to differentiate. Set requires_grad=True on the leaves you want gradients for."
            )
        gradient = root_gradient(self, gradient)
        if mode_state.force_create_graph:
            create_graph = True
        if retain_graph is None:
            retain_graph = create_graph
        run_backward([self._edge()], [gradient], retain_graph, create_graph)

    # ------------------------------------------------------------------ basic attributes
    @property
    def shape(self) -> Size:
        return _new_size(Size, self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> "dtypes.dtype":
        return dtypes.public(self._data.dtype)

    @property
    def device(self) -> "dtypes.device":
        return dtypes.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_floating_point_(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return _new_size(Size, self._data.shape)
        return self._data.shape[dim]

    def numel(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar; "
                f"use .tolist() or index it first"
            )
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as an ndarray sharing memory with this tensor."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._requires_grad:
            raise RuntimeError(
                "Can't convert a Tensor that requires grad to a NumPy array. Use "
                "tensor.detach().numpy() instead."
            )
        return self._data if dtype is None else self._data.astype(dtype)

    @property
    def data(self) -> "Tensor":
        t = Tensor._wrap(self._data)
        t._vbox = self._vbox
        return t

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    def detach(self) -> "Tensor":
        """A tensor sharing this one's values, cut from the graph (requires_grad=False)."""
        t = Tensor._wrap(self._data)
        t._vbox = self._vbox
        return t

    def detach_(self) -> "Tensor":
        self._ctx = None
        self._requires_grad = False
        return self

    def clone(self) -> "Tensor":
        return ops.Clone.apply(self)

    def contiguous(self) -> "Tensor":
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """Cast to a dtype (``x.to(dl.float64)``); device 'cpu' is accepted and changes nothing."""
        dtype = dtypes.parse_to_args(args, kwargs)
        if dtype is None or dtype == self._data.dtype:
            return self
        return ops.Cast.apply(self, dtype=dtype)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> "Tensor":
        """As torch's; this build computes on the CPU, so it raises ``CPUOnlyError``."""
        dtypes.check_device("cuda" if device is None else dtypes.device(device))
        return self

    def type(self, dtype: Any = None) -> Any:
        """With no argument the legacy type name (``'descentlab.FloatTensor'``); else ``to``."""
        if dtype is None:
            return f"descentlab.{_LEGACY_NAMES.get(self._data.dtype.name, 'Tensor')}"
        return self.to(dtype)

    # ------------------------------------------------------------------ new_* (same dtype)
    def _new(self, arr: np.ndarray, dtype: Any, device: Any, requires_grad: bool) -> "Tensor":
        dtypes.check_device(device)
        t = Tensor._wrap(arr.astype(self._data.dtype if dtype is None else dtypes.resolve(dtype),
                                    copy=False))
        if requires_grad:
            t.requires_grad = True
        return t

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> "Tensor":
        """A new tensor holding a copy of ``data``, with this tensor's dtype unless given."""
        return self._new(dtypes.as_array(data), dtype, device, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> "Tensor":
        """Zeros of shape ``size``, with this tensor's dtype unless given."""
        return self._new(np.zeros(shape_arg(size), self._data.dtype), dtype, device,
                         requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> "Tensor":
        """Ones of shape ``size``, with this tensor's dtype unless given."""
        return self._new(np.ones(shape_arg(size), self._data.dtype), dtype, device,
                         requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> "Tensor":
        """An uninitialized tensor of shape ``size``, with this tensor's dtype unless given."""
        return self._new(np.empty(shape_arg(size), self._data.dtype), dtype, device,
                         requires_grad)

    def new_full(self, size: Sequence[int], fill_value: Any, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> "Tensor":
        """``fill_value`` everywhere in shape ``size``, with this tensor's dtype unless given."""
        return self._new(np.full(shape_arg((size,)), fill_value, self._data.dtype
                                 if dtype is None else dtypes.resolve(dtype)),
                         dtype, device, requires_grad)

    def float(self) -> "Tensor":
        return self.to(dtypes.float32)

    def double(self) -> "Tensor":
        return self.to(dtypes.float64)

    def long(self) -> "Tensor":
        return self.to(dtypes.int64)

    def int(self) -> "Tensor":
        return self.to(dtypes.int32)

    def bool(self) -> "Tensor":
        return self.to(dtypes.bool_)

    # ------------------------------------------------------------------ printing, python protocol
    def __repr__(self) -> str:
        """As torch prints: ``tensor([[0.0600, 1.0000]], requires_grad=True)`` (see printing)."""
        return self._repr()

    def _repr(self, prefix: str = "tensor(") -> str:
        data = self._data
        suffixes = []
        default = data.dtype == dtypes._Default.dtype or data.dtype.kind == "b" or (
            data.dtype == np.int64)
        if data.size == 0:
            if data.ndim != 1:
                suffixes.append(f"size={tuple(data.shape)}")
            if data.dtype != dtypes._Default.dtype:
                suffixes.append(f"dtype={self.dtype}")
        elif not default:
            suffixes.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            suffixes.append(f"grad_fn=<{self._ctx.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return printing.tensor_repr(data, suffixes, prefix)

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others only without a spec."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous"
            )
        return _py_bool(self._data)

    def __float__(self) -> float:
        return _py_float(self.item())

    def __int__(self) -> int:
        return _py_int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return _py_int(self._data.item())

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    __hash__ = object.__hash__

    def __deepcopy__(self, memo: dict) -> "Tensor":
        """A copy of the values with the same class and requires_grad (a Parameter stays one);
        only leaves can be deep-copied, as in torch."""
        if self._ctx is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol; call .detach() first"
            )
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in ("_data", "_vbox", "_grad", "_accum", "_hooks")})
        new._data = self._data.copy()
        new._vbox = [0]
        if self._grad is not None:
            new._grad = Tensor._wrap(self._grad._data.copy())
        memo[id(self)] = new
        return new

    def __copy__(self) -> "Tensor":
        """copy.copy: a new tensor object sharing this one's values (as torch)."""
        t = Tensor._wrap(self._data, self._requires_grad and self._ctx is None)
        t._vbox = self._vbox
        return t

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(
            "descentlab tensors are not picklable (loading a pickle can execute code); save "
            "arrays with safetensors (safetensors.numpy.save_file({'x': t.numpy()}, path)) or a "
            "model and optimizer with descentlab.train.save_checkpoint"
        )

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> "Tensor":
        a, b = promote_pair(self, other)
        return ops.Add.apply(a, b)

    def __radd__(self, other: Any) -> "Tensor":
        b, a = promote_pair(self, other)
        return ops.Add.apply(a, b)

    def __sub__(self, other: Any) -> "Tensor":
        a, b = promote_pair(self, other)
        return ops.Sub.apply(a, b)

    def __rsub__(self, other: Any) -> "Tensor":
        b, a = promote_pair(self, other)
        return ops.Sub.apply(a, b)

    def __mul__(self, other: Any) -> "Tensor":
        a, b = promote_pair(self, other)
        return ops.Mul.apply(a, b)

    def __rmul__(self, other: Any) -> "Tensor":
        b, a = promote_pair(self, other)
        return ops.Mul.apply(a, b)

    def __truediv__(self, other: Any) -> "Tensor":
        a, b = promote_pair(self, other, true_div=True)
        return ops.Div.apply(a, b)

    def __rtruediv__(self, other: Any) -> "Tensor":
        b, a = promote_pair(self, other, true_div=True)
        return ops.Div.apply(a, b)

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
        return Tensor._wrap(np.asarray(q))

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
        o = other._data if isinstance(other, Tensor) else other
        return Tensor._wrap(np.asarray(fn(self._data, o)))

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._cmp(other, np.equal)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._cmp(other, np.not_equal)

    def __lt__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.less)

    def __le__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.less_equal)

    def __gt__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.greater)

    def __ge__(self, other: Any) -> "Tensor":
        return self._cmp(other, np.greater_equal)

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
            return Tensor._wrap(np.logical_not(self._data))
        return Tensor._wrap(np.invert(self._data))

    def logical_not(self) -> "Tensor":
        return Tensor._wrap(np.logical_not(self._data))

    def isnan(self) -> "Tensor":
        return Tensor._wrap(np.isnan(self._data))

    def isinf(self) -> "Tensor":
        return Tensor._wrap(np.isinf(self._data))

    def isfinite(self) -> "Tensor":
        return Tensor._wrap(np.isfinite(self._data))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return _py_bool(np.allclose(self._data, to_tensor(other)._data, rtol=rtol, atol=atol))

    def equal(self, other: Any) -> bool:
        o = to_tensor(other)._data
        return self._data.shape == o.shape and _py_bool(np.array_equal(self._data, o))

    def all(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return Tensor._wrap(np.asarray(np.all(self._data, axis=dim, keepdims=keepdim)))

    def any(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return Tensor._wrap(np.asarray(np.any(self._data, axis=dim, keepdims=keepdim)))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return arg_index(self._data, np.argmax, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return arg_index(self._data, np.argmin, dim, keepdim)

    def sign(self) -> "Tensor":
        return Tensor._wrap(np.sign(self._data))

    def floor(self) -> "Tensor":
        return Tensor._wrap(np.floor(self._data))

    def ceil(self) -> "Tensor":
        return Tensor._wrap(np.ceil(self._data))

    def round(self) -> "Tensor":
        return Tensor._wrap(np.round(self._data))

    def nonzero(self) -> "Tensor":
        return Tensor._wrap(np.argwhere(self._data))

    def count_nonzero(self, dim: Any = None) -> "Tensor":
        return Tensor._wrap(np.asarray(np.count_nonzero(self._data, axis=dim), dtype=np.int64))

    def sort(self, dim: int = -1, descending: bool = False) -> Any:
        idx = np.argsort(-self._data if descending else self._data, axis=dim, kind="stable")
        return _ValuesIndices(self.gather(dim, Tensor._wrap(idx)), Tensor._wrap(idx))

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
        return label(self[tuple(Tensor._wrap(np.asarray(g)) for g in grids)], "GatherBackward0")

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
        if isinstance(min, Tensor) or isinstance(max, Tensor):
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
        if isinstance(dim, Tensor):
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
        pos = Tensor._wrap(v._data > 0)
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

    # ------------------------------------------------------------------ shapes
    def reshape(self, *shape: Any) -> "Tensor":
        shape = shape_arg(shape)
        return ops.Reshape.apply(self, shape=infer_shape(self, shape, "reshape"))

    def view(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list)) and not isinstance(
            shape[0], (_py_int, np.integer)
        ):
            return self.to(shape[0])
        return self.reshape(*shape)

    def view_as(self, other: "Tensor") -> "Tensor":
        return self.reshape(other.shape)

    def reshape_as(self, other: "Tensor") -> "Tensor":
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        s = start_dim % self.ndim
        e = end_dim % self.ndim
        shape = self.shape[:s] + (-1,) + self.shape[e + 1:]
        return self.reshape(shape)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> "Tensor":
        d = dim % self.ndim
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def ravel(self) -> "Tensor":
        return self.reshape(-1)

    def unsqueeze(self, dim: int) -> "Tensor":
        d = dim % (self.ndim + 1)
        shape = self._data.shape
        return label(self.reshape(shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0")

    def squeeze(self, dim: Any = None) -> "Tensor":
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            dims = {d % builtins.max(self.ndim, 1)
                    for d in ((dim,) if isinstance(dim, _py_int) else dim)}
            shape = tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1))
        if shape == self._data.shape:
            return self
        return label(self.reshape(shape),
                     "SqueezeBackward0" if dim is None else "SqueezeBackward1")

    def permute(self, *dims: Any) -> "Tensor":
        dims = tuple(d % builtins.max(self.ndim, 1) for d in shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise RuntimeError(
                f"permute(): dims {dims} are not a permutation of the {self.ndim} dims of a tensor "
                f"of shape {tuple(self.shape)}"
            )
        return ops.Permute.apply(self, dims=dims)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        n = builtins.max(self.ndim, 1)
        dims = list(range(self.ndim))
        a, b = dim0 % n, dim1 % n
        dims[a], dims[b] = dims[b], dims[a]
        return label(ops.Permute.apply(self, dims=tuple(dims)), "TransposeBackward0")

    swapaxes = transpose

    def t(self) -> "Tensor":
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self if self.ndim < 2 else label(self.transpose(0, 1), "TBackward0")

    @property
    def T(self) -> "Tensor":
        if self.ndim < 2:
            return self
        return label(self.permute(*reversed(range(self.ndim))), "PermuteBackward0")

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> "Tensor":
        sizes = shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                f"the number of dimensions in the tensor ({self.ndim})"
            )
        shape = tuple(
            (self.shape[i - lead] if s == -1 else s) for i, s in enumerate(sizes)
        )
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: the expanded size {shape} must match the existing size "
                f"{tuple(self.shape)} at every non-singleton dimension"
            ) from None
        return ops.BroadcastTo.apply(self, shape=shape)

    def expand_as(self, other: "Tensor") -> "Tensor":
        return self.expand(other.shape)

    def repeat(self, *sizes: Any) -> "Tensor":
        sizes = shape_arg(sizes)
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        # tile = insert a broadcast dim before each axis, expand, then merge
        inter = []
        exp = []
        for r, s in zip(sizes, x.shape):
            inter += [1, s]
            exp += [r, s]
        return x.reshape(inter).expand(exp).reshape(tuple(r * s for r, s in zip(sizes, x.shape)))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        size = -(-self.shape[dim] // chunks)
        return self.split(size, dim)

    def split(self, split_size: Any, dim: int = 0) -> tuple:
        n = self.shape[dim]
        if isinstance(split_size, _py_int):
            sizes = [builtins.min(split_size, n - i) for i in range(0, n, split_size)]
        else:
            sizes = list(split_size)
        out, start = [], 0
        d = dim % self.ndim
        for s in sizes:
            idx = (builtins.slice(None),) * d + (builtins.slice(start, start + s),)
            out.append(self[idx])
            start += s
        return tuple(out)

    def unbind(self, dim: int = 0) -> tuple:
        d = dim % self.ndim
        return tuple(self[(builtins.slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def narrow(self, dim: int, start: int, length: int) -> "Tensor":
        d = dim % self.ndim
        return self[(builtins.slice(None),) * d + (builtins.slice(start, start + length),)]

    def flip(self, *dims: Any, **kwargs: Any) -> "Tensor":
        dims = kwargs.pop("dims", dims)  # torch.flip(x, dims=[0])
        dims = tuple(d % builtins.max(self.ndim, 1) for d in shape_arg(dims))
        return ops.Flip.apply(self, dims=dims)

    def __getitem__(self, index: Any) -> "Tensor":
        return ops.getitem(self, index)

    # ------------------------------------------------------------------ in place
    def _check_inplace(self) -> bool:
        """True when the in-place op must be recorded for autograd."""
        if not mode_state.grad:
            return False
        if self._requires_grad and self._ctx is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. Wrap "
                "the update in `with descentlab.no_grad():` (as an optimizer step does) or use an "
                "out-of-place op."
            )
        return self._requires_grad

    def _inplace(self, result_fn: Any, other: Any = None) -> "Tensor":
        record = self._check_inplace() or (
            mode_state.grad and isinstance(other, Tensor) and other._requires_grad
        )
        if record:
            # Rebase: the old value becomes an input of the new node; the tensor object takes the
            # result, so later consumers see the new history.
            old = Tensor._wrap(self._data.copy())
            old._ctx, old._oidx, old._requires_grad = self._ctx, self._oidx, self._requires_grad
            res = result_fn(old)
            self._data[...] = res._data
            self._ctx, self._oidx, self._requires_grad = res._ctx, res._oidx, res._ctx is not None
            node = res._ctx
            if node is not None and node._out_data is res._data:
                # The node saved its output's values: they now live in this tensor.
                node._out_data, node._out_vbox = self._data, self._vbox
                node._out_version = self._vbox[0] + 1
        else:
            with set_grad_enabled(False):
                res = result_fn(self)
            np.copyto(self._data, res._data, casting="same_kind")
        self._vbox[0] += 1
        return self

    def add_(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        if not (mode_state.grad
                and (self._requires_grad or getattr(other, "_requires_grad", False))):
            if self._requires_grad and self._ctx is None and mode_state.grad:
                self._check_inplace()
            o = other._data if isinstance(other, Tensor) else other
            if alpha != 1:
                o = o * alpha
            np.add(self._data, o, out=self._data, casting="same_kind")
            self._vbox[0] += 1
            return self
        return self._inplace(lambda s: s.add(other, alpha=alpha), other)

    def sub_(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        return self.add_(other, alpha=-alpha)

    def mul_(self, other: Any) -> "Tensor":
        return self._inplace(lambda s: s * other, other)

    def div_(self, other: Any) -> "Tensor":
        return self._inplace(lambda s: s / other, other)

    def pow_(self, exponent: Any) -> "Tensor":
        return self._inplace(lambda s: s ** exponent, exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> "Tensor":
        return self._inplace(lambda s: s.clamp(min, max))

    clip_ = clamp_

    def neg_(self) -> "Tensor":
        return self._inplace(lambda s: -s)

    def copy_(self, src: Any) -> "Tensor":
        src = to_tensor(src, self)
        if self._check_inplace() or (mode_state.grad and src._requires_grad):
            return self._inplace(lambda s: src.to(s.dtype).expand(s.shape), src)
        np.copyto(self._data, np.broadcast_to(src._data, self._data.shape), casting="unsafe")
        self._vbox[0] += 1
        return self

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def fill_(self, value: Any) -> "Tensor":
        if self._check_inplace():
            return self.copy_(Tensor._wrap(np.full(self.shape, value, dtype=self.dtype)))
        self._data[...] = value._data if isinstance(value, Tensor) else value
        self._vbox[0] += 1
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> "Tensor":
        self._check_inplace()
        self._data[...] = dtypes.rng(generator).uniform(a, b, size=self.shape)
        self._vbox[0] += 1
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> "Tensor":
        self._check_inplace()
        self._data[...] = dtypes.rng(generator).normal(mean, std, size=self.shape)
        self._vbox[0] += 1
        return self

    def masked_fill_(self, mask: Any, value: Any) -> "Tensor":
        return self._inplace(lambda s: s.masked_fill(mask, value), value)

    def __setitem__(self, index: Any, value: Any) -> None:
        rec = self._check_inplace() or (
            mode_state.grad and isinstance(value, Tensor) and value._requires_grad
        )
        idx = ops.normalize_index(index)
        if not rec:
            self._data[idx] = value._data if isinstance(value, Tensor) else value
            self._vbox[0] += 1
            return
        v = to_tensor(value, self)
        self._inplace(lambda s: ops.IndexPut.apply(s, v.to(s.dtype), index=idx), v)

    def __iadd__(self, other: Any) -> "Tensor":
        return self.add_(other)

    def __isub__(self, other: Any) -> "Tensor":
        return self.add_(other, alpha=-1)

    def __imul__(self, other: Any) -> "Tensor":
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self.div_(other)


_LEGACY_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}


class _ValuesIndices(tuple):
    """(values, indices) as returned by torch.max(x, dim) and friends."""

    def __new__(cls, values: Tensor, indices: Tensor) -> "_ValuesIndices":
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def matmul(a: Any, b: Any) -> Tensor:
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


def mm(a: Any, b: Any) -> Tensor:
    """Product of two 2-D tensors (``matmul`` restricted to matrices, as torch.mm)."""
    a, b = to_tensor(a), to_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return matmul(a, b)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elementwise ``input if condition else other`` (gradients flow to the chosen side)."""
    cond = to_tensor(condition)
    if cond._data.dtype != dtypes.bool_:
        cond = Tensor._wrap(cond._data.astype(bool))
    if isinstance(input, Tensor):
        a, b = promote_pair(input, other)
    elif isinstance(other, Tensor):
        b, a = promote_pair(other, input)
    else:
        a = to_tensor(input)
        a, b = promote_pair(a, other)
    return ops.Where.apply(cond, a, b)


# The one seam between the engine's lower floors and Tensor (see graph.py): bound once, here.
graph.Tensor = Tensor
