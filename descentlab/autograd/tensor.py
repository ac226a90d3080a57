"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad, the node that made it).

Names, signatures and semantics follow PyTorch. Every differentiable method is a thin call to an op
in ``ops/``. This file holds the core (storage, grad and backward, conversions, printing and the
Python protocol); the arithmetic lives in tensor_math.py and the shape and in-place methods in
tensor_shape.py, as mixins that ``Tensor`` combines.
"""

from __future__ import annotations

import builtins
from typing import Any, Iterator, Sequence

import numpy as np

from . import dtypes, graph, ops, printing
from .args import shape_arg
from .backward import run_backward
from .grad import grad as autograd_grad
from .grad import root_gradient
from .graph import AccumulateGrad
from .mode import force_create_graph_ever, mode_state, set_grad_enabled
from .size import Size
from .tensor_math import TensorMath, matmul, mm, where
from .tensor_shape import TensorShape

__all__ = ["Tensor", "matmul", "mm", "where"]

_new_size = tuple.__new__  # Size from a shape that is already a tuple of ints (no checks)

_py_float = builtins.float
_py_int = builtins.int
_py_bool = builtins.bool


class Tensor(TensorMath, TensorShape):
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
        if force_create_graph_ever[0] and mode_state.force_create_graph:
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


_LEGACY_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}


# The one seam between the engine's lower floors and Tensor (see graph.py): bound once, here.
graph.Tensor = Tensor
