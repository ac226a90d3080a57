"""Tensor's shape and in-place methods: views and reshapes, indexing, in-place updates.

``TensorShape`` is a mixin of ``Tensor`` (see tensor.py). In-place methods bump the version
counter that saved tensors are checked against, and record themselves in the graph when a
gradient has to flow through them.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from . import dtypes, graph, ops
from .args import infer_shape, shape_arg, to_tensor
from .graph import label, wrap
from .mode import mode_state, set_grad_enabled

# The annotations' "Tensor": the class in tensor.py that combines this mixin (importing it here
# would make a circle; code that needs the class itself reads graph.Tensor).
Tensor = Any

_py_int = builtins.int


class TensorShape:
    """Views, reshapes, indexing and in-place updates of ``Tensor``."""

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
            mode_state.grad and isinstance(other, graph.Tensor) and other._requires_grad
        )
        if record:
            # Rebase: the old value becomes an input of the new node; the tensor object takes the
            # result, so later consumers see the new history.
            old = wrap(self._data.copy())
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
            o = other._data if isinstance(other, graph.Tensor) else other
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
            return self.copy_(wrap(np.full(self.shape, value, dtype=self.dtype)))
        self._data[...] = value._data if isinstance(value, graph.Tensor) else value
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
            mode_state.grad and isinstance(value, graph.Tensor) and value._requires_grad
        )
        idx = ops.normalize_index(index)
        if not rec:
            self._data[idx] = value._data if isinstance(value, graph.Tensor) else value
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
