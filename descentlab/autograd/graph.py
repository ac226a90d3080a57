"""The recorded graph: its nodes (Node, AccumulateGrad) and the operations that record them (Op).

Ops sit below ``Tensor`` (they compute on arrays and call Tensor methods on the objects they
are handed, never importing it); this module is the one seam between the two: ``tensor.py``
binds ``Tensor`` here once the class exists, and ops and the backward pass build their results
through it (``wrap``).
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import Any, Callable, Sequence

import numpy as np

from .mode import anomaly_ever, mode_state
from .names import torch_name

_data_of = operator.attrgetter("_data")

# The seam: tensor.py binds its class here when it is defined (see the module docstring).
Tensor: Any = None


def wrap(array: np.ndarray) -> Any:
    """A Tensor around ``array`` (no copy, no grad): how ops and the engine build results."""
    return Tensor._wrap(array)


_FREED_MSG = (
    "Trying to backward through the graph a second time (or to access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through "
    "the graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """One recorded operation: the ``ctx`` of its op and the ``grad_fn`` of its outputs.

    Holds the edges to its inputs' nodes, the inputs' shapes and dtypes (to undo broadcasting and
    casts centrally), and whatever the op saved for its backward, with the saved tensors' versions
    so an in-place change made after the forward is caught instead of silently giving wrong grads.
    Ops may set any other attribute on it in their forward (``ctx.dim = dim``).
    """

    # Slots for what every node stores (cheaper to set on the hot path); a __dict__ for the rest.
    __slots__ = ("op", "key", "parents", "metas", "__dict__", "__weakref__")

    _saved = None
    _out_data = None
    freed = False
    n_outputs = 1
    retained = None
    hooks = None
    special = False  # hooks, retained grads or several outputs: backward takes the slow path
    on_arrays = False  # True while the engine runs this node's backward on arrays (see Op)
    label = None  # torch's name for this node when the op alone can't tell (see label())

    def __init__(self, op: type, inputs: Sequence[Any]) -> None:
        self.op = op
        self.key = -next(_SEQ)  # heap key: later nodes (higher sequence numbers) run first
        self.parents = parents = []
        self.metas = metas = []
        for t in inputs:
            d = t._data
            parents.append(t._edge() if t._requires_grad else None)
            metas.append((d.shape, d.dtype))
        if op.save_inputs:
            self._saved = inputs
            self._versions = [t._vbox[0] for t in inputs]

    @property
    def saved(self) -> tuple:
        """The op's inputs, checked: not freed and not modified in place since the forward."""
        if self.freed:
            raise RuntimeError(_FREED_MSG)
        saved = self._saved
        if len(saved) == 2:  # binary ops, most of them: no loop
            a, b = saved
            versions = self._versions
            if a._vbox[0] != versions[0] or b._vbox[0] != versions[1]:
                self._raise_modified()
            if self.on_arrays:
                return a._data, b._data
            return saved
        for t, v in zip(saved, self._versions):
            if t._vbox[0] != v:
                self._raise_modified()
        if self.on_arrays:
            return tuple(map(_data_of, saved))
        return saved

    def _raise_modified(self) -> None:
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t._vbox[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: input {i} of {self.name()} (shape {tuple(t.shape)}) "
                    f"is at version {t._vbox[0]}; expected version {v} instead. Use an "
                    f"out-of-place op (e.g. x = x + y instead of x += y) or .clone() the tensor "
                    f"before changing it."
                )

    def _check_out(self) -> np.ndarray:
        if self.freed:
            raise RuntimeError(_FREED_MSG)
        vbox = self._out_vbox
        if vbox[0] != self._out_version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output of {self.name()} (shape "
                f"{tuple(self._out_data.shape)}) is at version {vbox[0]}; expected version "
                f"{self._out_version} instead. Use an out-of-place op or .clone() the tensor "
                f"before changing it."
            )
        return self._out_data

    @property
    def out_data(self) -> np.ndarray:
        """The op's output values (checked as ``out``), for backwards that run on plain arrays."""
        return self._check_out()

    @property
    def out(self) -> Any:
        """The op's output, saved when its backward is cheaper written in terms of it.

        Only the values and the version counter are kept (a tensor pointing back at its own node
        would make a reference cycle that only the garbage collector can free); the tensor is
        rebuilt here with this node as its ``grad_fn``, so double backward flows through it.
        """
        if self.on_arrays and not self.freed and self._out_vbox[0] == self._out_version:
            return self._out_data  # the checks of _check_out, inline: the hot case of a backward
        t = Tensor._wrap(self._check_out())
        t._vbox = self._out_vbox
        t._ctx = self
        t._requires_grad = True
        return t

    def constant(self, array: np.ndarray) -> Any:
        """``array`` as a value the gradient does not flow through (a Tensor unless the backward
        runs on arrays; see Op)."""
        return array if self.on_arrays else Tensor._wrap(array)

    def name(self) -> str:
        """torch's name for this node (``MulBackward0``, ``MseLossBackward0``, ``MyFnBackward``)."""
        if self.label is not None:
            return self.label
        return torch_name(self)

    @property
    def next_functions(self) -> tuple:
        """``((node, output_index), ...)`` per input, ``(None, 0)`` for one that needs no grad."""
        return tuple(p if p is not None else (None, 0) for p in self.parents)

    def register_hook(self, hook: Callable) -> None:
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)
        self.special = True

    def release(self) -> None:
        # Small metadata (shapes, dims) stays; the saved tensors go, as in PyTorch.
        self._saved = None
        self._out_data = None
        self.freed = True
        for name in self.op.frees:
            setattr(self, name, None)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


_SEQ = itertools.count()


def label(t: Any, name: str) -> Any:
    """Give the node that made ``t`` torch's name for the whole op (``MeanBackward0`` for a mean
    built from Sum and Div); returns ``t``. Costs one attribute store, only on the labelled ops."""
    ctx = t._ctx
    if ctx is not None:
        ctx.label = name
    return t


def named_node(name: str) -> Callable:
    """Decorator: the tensor a composite function returns shows torch's node name for it
    (``@named_node("MseLossBackward0")`` on mse_loss), whatever ops it was built from."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return label(fn(*args, **kwargs), name)

        return wrapper

    return decorate

class AccumulateGrad:
    """The node of a leaf that requires grad: adds arriving gradients into ``leaf.grad``."""

    __slots__ = ("variable", "hooks", "__weakref__")
    parents = ()
    n_outputs = 1

    def __init__(self, variable: Any) -> None:
        self.variable = variable
        self.hooks = None

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class _NullCtx:
    """Stands in for a Node when nothing is recorded, so forwards can set ctx attributes freely."""


_NULL = _NullCtx()


def backward_on_arrays(node: Node, grad: Any) -> tuple:
    """Run ``node``'s backward on arrays (nothing recorded) and hand back Tensors."""
    node.on_arrays = True
    try:
        results = node.op.backward(node, grad._data)
    finally:
        node.on_arrays = False
    make = Tensor._wrap
    if len(results) == 1:  # most ops: skip building a list
        result = results[0]
        return (None if result is None else make(result),)
    return tuple([None if r is None else make(r) for r in results])


class Op:
    """An operation: ``forward`` on NumPy arrays, ``backward`` on Tensors (so it is differentiable).

    ``forward(ctx, *arrays, **kwargs) -> ndarray`` may stash non-tensor values on ``ctx``.
    ``backward(ctx, grad) -> tuple`` returns one gradient per input (a Tensor or None); it may use
    ``ctx.saved`` (the input Tensors, when ``save_inputs``) and ``ctx.out`` (the output Tensor,
    when ``save_output``). Gradients may keep the broadcast shape: the engine sums them back to each
    input's shape and casts them to its dtype.

    Each op writes its derivative once. An op whose backward reads the same on NumPy arrays as on
    Tensors (arithmetic, ``@``, ``.reshape``, ``.mT``, ``.T``, other ops through ``call``, and
    ``ctx.constant`` around arrays the gradient does not flow through) sets ``array_backward``:
    when no graph of the backward is recorded, the engine then runs that same backward on the
    arrays (it sets the node's ``on_arrays`` for the call, and ``ctx.saved``, ``ctx.out`` and
    ``ctx.constant`` then hand out arrays), which skips a Tensor and a dispatch per step; under
    ``create_graph`` it runs on Tensors and is recorded. Other ops always see Tensors. The flag is
    the node's, not the thread's: reading it costs a plain attribute, and a node is run by one
    backward pass at a time.
    """

    save_inputs = False
    save_output = False
    array_backward = False
    frees: tuple = ()  # names of extra arrays the forward keeps on ctx, dropped with the graph

    @classmethod
    def call(cls, *values: Any, **kwargs: Any) -> Any:
        """The op on Tensors (``apply``: recorded) or on arrays (``forward``: a value), so one
        backward serves both of the engine's modes."""
        if isinstance(values[0], Tensor):
            return cls.apply(*values, **kwargs)
        return cls.forward(_NULL, *values, **kwargs)

    @staticmethod
    def forward(ctx: Any, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        # The hot path of every op. Unary and binary ops (nearly all calls) build their node
        # inline, without Node.__init__'s loops; the arrays are what NumPy itself checks.
        try:
            n = len(inputs)
            if not mode_state.grad:
                arr = cls.forward(_NULL, *[t._data for t in inputs], **kwargs)
                ctx = None
            elif n == 2:
                a, b = inputs
                ra, rb = a._requires_grad, b._requires_grad
                da, db = a._data, b._data
                if ra or rb:
                    ctx = _new(Node)
                    ctx.op = cls
                    ctx.key = -next(_SEQ)
                    ctx.parents = [a._edge() if ra else None, b._edge() if rb else None]
                    ctx.metas = [(da.shape, da.dtype), (db.shape, db.dtype)]
                    if cls.save_inputs:
                        ctx._saved = inputs
                        ctx._versions = [a._vbox[0], b._vbox[0]]
                    arr = cls.forward(ctx, da, db, **kwargs)
                else:
                    arr = cls.forward(_NULL, da, db, **kwargs)
                    ctx = None
            elif n == 1:
                (a,) = inputs
                da = a._data
                if a._requires_grad:
                    ctx = _new(Node)
                    ctx.op = cls
                    ctx.key = -next(_SEQ)
                    ctx.parents = [a._edge()]
                    ctx.metas = [(da.shape, da.dtype)]
                    if cls.save_inputs:
                        ctx._saved = inputs
                        ctx._versions = [a._vbox[0]]
                    arr = cls.forward(ctx, da, **kwargs)
                else:
                    arr = cls.forward(_NULL, da, **kwargs)
                    ctx = None
            elif n == 3:  # Linear (x, W, b) and a few others
                a, b, c = inputs
                ra, rb, rc = a._requires_grad, b._requires_grad, c._requires_grad
                da, db, dc = a._data, b._data, c._data
                if ra or rb or rc:
                    ctx = _new(Node)
                    ctx.op = cls
                    ctx.key = -next(_SEQ)
                    ctx.parents = [a._edge() if ra else None, b._edge() if rb else None,
                                   c._edge() if rc else None]
                    ctx.metas = [(da.shape, da.dtype), (db.shape, db.dtype), (dc.shape, dc.dtype)]
                    if cls.save_inputs:
                        ctx._saved = inputs
                        ctx._versions = [a._vbox[0], b._vbox[0], c._vbox[0]]
                    arr = cls.forward(ctx, da, db, dc, **kwargs)
                else:
                    arr = cls.forward(_NULL, da, db, dc, **kwargs)
                    ctx = None
            else:
                ctx = None
                for t in inputs:
                    if t._requires_grad:
                        ctx = Node(cls, inputs)
                        break
                arr = cls.forward(_NULL if ctx is None else ctx, *[t._data for t in inputs],
                                  **kwargs)
        except ValueError as e:
            if "broadcast" not in str(e):
                raise
            shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
            raise RuntimeError(
                f"{cls.__name__}: shapes {shapes} cannot be broadcast together; sizes must be "
                f"equal or 1 in every dimension, aligned from the right. Reshape or unsqueeze one "
                f"operand."
            ) from None
        out = _new(Tensor)
        out._data = arr
        out._vbox = vbox = [0]
        if ctx is not None:
            out._ctx = ctx
            out._requires_grad = True
            if cls.save_output:
                ctx._out_data = arr
                ctx._out_vbox = vbox
                ctx._out_version = 0
        if anomaly_ever[0] and mode_state.anomaly:
            _check_forward(cls, inputs, out)
        return out


_new = object.__new__


def _check_forward(op: type, inputs: Sequence[Any], out: Any) -> None:
    data = out._data
    if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
        if all(np.all(np.isfinite(t._data)) for t in inputs if t._data.dtype.kind in "fc"):
            shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
            raise RuntimeError(
                f"detect_anomaly: {op.__name__} produced NaN/Inf in the forward pass from finite "
                f"inputs of shapes {shapes}. Check its inputs' ranges (e.g. log of 0, overflow in "
                f"exp, division by 0) or lower the learning rate."
            )
