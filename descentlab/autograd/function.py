"""The autograd core: grad mode, the recorded graph (Node), ops (Op), user Functions, and backward.

The graph is made of nodes, never of tensors: a non-leaf tensor points at the node that produced it,
and each node points at the nodes of its inputs (``next_functions`` in PyTorch's words). A leaf that
requires grad gets an ``AccumulateGrad`` node that adds the arriving gradient into ``leaf.grad``.

Every node gets a sequence number when it is recorded, and an op's inputs always exist before its
output, so a node is recorded after all the nodes it points at. Backward therefore runs nodes in
decreasing sequence order (a heap of the nodes that have received a gradient): when a node comes
up, every consumer that could still add to its gradient has already run. No dependency counting
pass, no recursion, so a graph ten thousand ops deep is fine. Leaves' gradients are summed on the
way and accumulated into ``.grad`` at the end, once per leaf.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import sys
import threading
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "Function",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
]


class _ModeState(threading.local):
    """Grad mode, anomaly mode and create-graph forcing, one copy per thread (as PyTorch's grad
    mode): a server can train in one worker thread while another evaluates under ``no_grad``."""

    grad = True
    anomaly = False
    force_create_graph = False


_Mode = _ModeState()


# Bound by tensor.py once Tensor exists (the two modules need each other).
Tensor: Any = None
_wrap: Any = None
SumTo: Any = None
Cast: Any = None


def is_grad_enabled() -> bool:
    """True when new operations are recorded for autograd."""
    return _Mode.grad


class _GradModeContext:
    """Base of ``no_grad``/``enable_grad``/``set_grad_enabled``: context manager and decorator."""

    _target: bool

    def __enter__(self) -> None:
        self._prev = _Mode.grad
        _Mode.grad = self._target

    def __exit__(self, *exc: Any) -> None:
        _Mode.grad = self._prev

    def __call__(self, func: Callable) -> Callable:
        target = self._target

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _Mode.grad
            _Mode.grad = target
            try:
                return func(*args, **kwargs)
            finally:
                _Mode.grad = prev

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator that turns off graph recording (as ``torch.no_grad``)."""

    _target = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns graph recording back on (``torch.enable_grad``)."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; works as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self._target = bool(mode)
        self._prev = _Mode.grad
        _Mode.grad = self._target

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _Mode.grad = self._prev

    def __call__(self, func: Callable) -> Callable:
        # As torch: used as a decorator it must not leave the mode switched by __init__.
        _Mode.grad = self._prev
        return super().__call__(func)


class backward_creates_graph:
    """Context in which every ``backward()`` acts as ``backward(create_graph=True)``.

    Second-order optimizers (Newton, NewtonCG) wrap the user's closure in it, so a closure written
    for SGD (``loss.backward()``) leaves ``.grad`` differentiable for Hessian-vector products.
    """

    def __enter__(self) -> None:
        self._prev = _Mode.force_create_graph
        _Mode.force_create_graph = True

    def __exit__(self, *exc: Any) -> None:
        _Mode.force_create_graph = self._prev


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return _Mode.anomaly


class detect_anomaly:
    """Context manager that names the op which first produced NaN/Inf, forward or backward.

    Every op's output is checked for non-finite values while it is active, and so is every
    gradient an op's backward returns; the error names the op, its input shapes and the pass.
    This costs a scan of every array, so use it to debug, not to train.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = _Mode.anomaly
        _Mode.anomaly = self.check_nan

    def __exit__(self, *exc: Any) -> None:
        _Mode.anomaly = self._prev


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off globally."""
    _Mode.anomaly = bool(mode)


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

    _saved = None
    _out_data = None
    freed = False
    n_outputs = 1
    retained = None
    hooks = None
    special = False  # hooks, retained grads or several outputs: backward takes the slow path
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
        for t, v in zip(saved, self._versions):
            if t._vbox[0] != v:
                self._raise_modified()
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
        t = Tensor._wrap(self._check_out())
        t._vbox = self._out_vbox
        t._ctx = self
        t._requires_grad = True
        return t

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


def _matmul_name(node: Node) -> str:
    dims = (len(node.metas[0][0]), len(node.metas[1][0]))
    return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0",
            (1, 2): "SqueezeBackward4"}.get(dims, "UnsafeViewBackward0")


def _linear_name(node: Node) -> str:
    if len(node.metas[0][0]) != 2:
        return "ViewBackward0"
    return "AddmmBackward0" if len(node.metas) == 3 else "MmBackward0"


def _getitem_name(node: Node) -> str:
    index = node.index if isinstance(node.index, tuple) else (node.index,)
    if any(isinstance(i, (np.ndarray, list)) for i in index):
        return "IndexBackward0"
    if all(isinstance(i, (int, np.integer)) for i in index):
        return "SelectBackward0"
    return "SliceBackward0"


def _extreme_name(node: Node) -> str:
    base = node.op.__name__
    if not node.evenly:
        return base + "Backward0"  # max(dim) with indices
    return base + "Backward1" if node.dim is None else "A" + base.lower() + "Backward0"


# torch's node names where they are not simply the op's name + "Backward0"; computed only when a
# name is asked for (printing, grad_fn.name()), so recording a node costs nothing extra.
_TORCH_NAMES: dict = {
    "Cast": "ToCopyBackward0", "Reshape": "ViewBackward0", "BroadcastTo": "ExpandBackward0",
    "SumTo": "SumBackward1", "Pad": "ConstantPadNdBackward0", "LogSumExp": "LogsumexpBackward0",
    "CumSum": "CumsumBackward0", "Log1p": "Log1PBackward0", "PowScalar": "PowBackward0",
    "Clamp": "ClampBackward1",
    "Pow": lambda n: "PowBackward2" if n.parents[0] is None else "PowBackward1",
    "Sum": lambda n: "SumBackward0" if n.dim is None else "SumBackward1",
    "Prod": lambda n: "ProdBackward0" if n.dim is None else "ProdBackward1",
    "Permute": "PermuteBackward0",  # transpose() and t() label their nodes themselves
    "MatMul": _matmul_name, "Linear": _linear_name, "GetItem": _getitem_name,
    "Max": _extreme_name, "Min": _extreme_name,
}


def torch_name(node: Any) -> str:
    """The name torch gives the node of the same op (user Functions: ``<Class>Backward``)."""
    op = node.op
    if isinstance(op, _FunctionOp):
        return op.__name__ + "Backward"
    rule = _TORCH_NAMES.get(op.__name__)
    if rule is None:
        return op.__name__ + "Backward0"
    return rule if isinstance(rule, str) else rule(node)


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


class Op:
    """An operation: ``forward`` on NumPy arrays, ``backward`` on Tensors (so it is differentiable).

    ``forward(ctx, *arrays, **kwargs) -> ndarray`` may stash non-tensor values on ``ctx``.
    ``backward(ctx, grad) -> tuple`` returns one gradient per input (a Tensor or None); it may use
    ``ctx.saved`` (the input Tensors, when ``save_inputs``) and ``ctx.out`` (the output Tensor,
    when ``save_output``). Gradients may keep the broadcast shape: the engine sums them back to each
    input's shape and casts them to its dtype.
    """

    save_inputs = False
    save_output = False
    frees: tuple = ()  # names of extra arrays the forward keeps on ctx, dropped with the graph

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
            if not _Mode.grad:
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
        if _Mode.anomaly:
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


class FunctionCtx:
    """The ``ctx`` of a user ``Function``: ``save_for_backward`` and arbitrary attributes."""

    def __init__(self) -> None:
        self._node: Node | None = None
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        node = self._node
        if node is not None and node.freed:
            raise RuntimeError(_FREED_MSG)
        saved = getattr(self, "_to_save", ())
        versions = getattr(self, "_saved_versions", None)
        if versions is not None:
            for i, (t, v) in enumerate(zip(saved, versions)):
                if t is not None and t._vbox[0] != v:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: saved tensor {i} of "
                        f"{node.name() if node else 'Function'} is at version {t._vbox[0]}; "
                        f"expected version {v} instead."
                    )
        return saved

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_diff = {id(t) for t in tensors}


class _FunctionOp:
    """Adapter so the engine can run a user Function's backward like any op's."""

    save_inputs = False
    save_output = False
    frees = ()

    def __init__(self, fn_cls: type, ctx: FunctionCtx) -> None:
        self.fn_cls = fn_cls
        self.ctx = ctx
        self.__name__ = fn_cls.__name__

    def backward(self, node: Node, grad: Any) -> tuple:
        return _run_function_backward(node, [grad])


class Function:
    """A user-defined op with a hand-written backward, as ``torch.autograd.Function``.

    Subclass it with two static methods, ``forward(ctx, *args)`` (runs on Tensors with grad mode
    off) and ``backward(ctx, *grad_outputs)`` (returns one gradient per forward argument, None for
    non-tensor or non-differentiable ones), then call ``MyFn.apply(*args)``. Use
    ``ctx.save_for_backward(*tensors)`` and ``ctx.saved_tensors`` for tensors the backward needs.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = FunctionCtx()
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        outs = tuple(o.detach() if isinstance(o, Tensor) else o for o in outs)
        if not (_Mode.grad and any(t.requires_grad for t in tensor_args)):
            return outs[0] if single else outs
        op = _FunctionOp(cls, ctx)
        node = Node(op, tensor_args)  # type: ignore[arg-type]
        node.n_outputs = len(outs)
        node.special = len(outs) != 1
        node.out_metas = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]
        node.arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        ctx._node = node
        saved = getattr(ctx, "_to_save", ())
        ctx._saved_versions = tuple(t._vbox[0] if t is not None else 0 for t in saved)
        non_diff = getattr(ctx, "_non_diff", set())
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o._data.dtype.kind == "f" and id(o) not in non_diff:
                o._ctx = node
                o._oidx = i
                o._requires_grad = True
        return outs[0] if single else outs


def _run_function_backward(node: Node, grads: list) -> tuple:
    op = node.op
    if node.freed:
        raise RuntimeError(_FREED_MSG)
    # As torch (materialize_grads): outputs that got no gradient pass zeros to the user backward.
    grads = [
        g if g is not None or m is None else _wrap(np.zeros(m[0], dtype=m[1]))
        for g, m in zip(grads, node.out_metas)
    ]
    results = op.fn_cls.backward(op.ctx, *grads)
    if not isinstance(results, tuple):
        results = (results,)
    is_tensor = node.arg_is_tensor
    if len(results) != len(is_tensor):
        raise RuntimeError(
            f"{op.__name__}.backward returned {len(results)} gradients but forward took "
            f"{len(is_tensor)} arguments; return one per argument (None for non-tensors)."
        )
    # A user backward may hand back a saved tensor or the incoming grad itself: copy so that no
    # .grad ever aliases another array.
    return tuple(
        (r.clone() if isinstance(r, Tensor) else r)
        for r, t in zip(results, is_tensor) if t
    )


# ----------------------------------------------------------------------------- backward engine


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
) -> dict | None:
    """Propagate ``root_grads`` from the ``roots`` edges to the leaves.

    With ``capture`` ({edge: None}) gradients arriving at those edges are returned instead of being
    accumulated into ``.grad`` (that is ``autograd.grad``); otherwise leaves accumulate.
    """
    # grads: node -> its gradient (one tensor; a list for nodes with several outputs).
    # heap: (key, node) of the nodes holding a gradient, the latest-recorded first.
    # leaves: AccumulateGrad -> the sum of the gradients that reached it.
    grads: dict = {}
    heap: list = []
    leaves: dict = {}
    for (node, idx), g in zip(roots, root_grads):
        _deliver(grads, heap, leaves, node, idx, g)
    # Arrays already stored in some .grad during this pass, plus the caller's root gradients: a
    # gradient that is one of these (or a view) must be copied before a leaf keeps it.
    handed = {id(root_grads[0]._data)} if len(root_grads) == 1 else {
        id(g._data) for g in root_grads}
    pop, push = heapq.heappop, heapq.heappush
    slow_all = capture is not None or _Mode.anomaly
    prev_mode = _Mode.grad
    _Mode.grad = create_graph
    try:
        while heap:
            node = pop(heap)[1]
            g = grads.pop(node)
            if slow_all or node.special:
                in_grads = _backward_slow(node, g, capture, handed, create_graph)
            else:
                in_grads = node.op.backward(node, g)
            for p, g, meta in zip(node.parents, in_grads, node.metas):
                if g is None or p is None:
                    continue
                data = g._data
                if data.shape != meta[0]:
                    g = _reduce_to(g, meta[0], node, p)
                    data = g._data
                if data.dtype is not meta[1] and data.dtype != meta[1]:
                    g = Cast.apply(g, dtype=meta[1])
                parent = p[0]
                if type(parent) is AccumulateGrad:
                    prev = leaves.get(parent)
                    leaves[parent] = g if prev is None else prev + g
                elif parent.n_outputs == 1:
                    prev = grads.get(parent)
                    if prev is None:
                        grads[parent] = g
                        push(heap, (parent.key, parent))
                    else:
                        grads[parent] = prev + g
                else:
                    _deliver(grads, heap, leaves, parent, p[1], g)
            if not retain_graph and (node._saved is not None or node._out_data is not None):
                node._saved = node._out_data = None  # as node.release(), inline (hot)
                node.freed = True
                if node.op.frees:
                    node.release()
        for acc, g in leaves.items():
            if acc.hooks:
                g = _apply_hooks(acc.hooks, [g])[0]
            if capture is not None:
                _capture(capture, acc, [g])
                continue
            t = acc.variable
            arr = g._data
            if (create_graph or t._grad is not None or t._hooks or g._ctx is not None
                    or id(arr) in handed or not arr.flags.writeable or arr.base is not None):
                _accumulate(t, g, handed, create_graph)
            else:  # the common case of _accumulate: a fresh array for an empty .grad
                handed.add(id(arr))
                t._grad = g if type(g) is Tensor else Tensor._wrap(arr)
    finally:
        _Mode.grad = prev_mode
    return capture


def _deliver(grads: dict, heap: list, leaves: dict, node: Any, idx: int, g: Any) -> None:
    """Add gradient ``g`` for output ``idx`` of ``node`` (any kind of node)."""
    if type(node) is AccumulateGrad:
        prev = leaves.get(node)
        leaves[node] = g if prev is None else prev + g
        return
    if node.n_outputs == 1:
        prev = grads.get(node)
        if prev is None:
            heapq.heappush(heap, (node.key, node))
        grads[node] = g if prev is None else prev + g
        return
    slot = grads.get(node)
    if slot is None:
        slot = grads[node] = [None] * node.n_outputs
        heapq.heappush(heap, (node.key, node))
    slot[idx] = g if slot[idx] is None else slot[idx] + g


def _backward_slow(node: Any, g: Any, capture: dict | None, handed: set,
                   create_graph: bool) -> tuple:
    """A node's backward with hooks, retained grads, capture, anomaly checks or several outputs."""
    node_grads = g if node.n_outputs != 1 else [g]
    if node.hooks:
        node_grads = _apply_hooks(node.hooks, node_grads)
    if capture is not None:
        _capture(capture, node, node_grads)
    if node.retained is not None:
        for i, t in node.retained.items():
            if node_grads[i] is not None:
                _accumulate(t, node_grads[i], handed, create_graph)
    if _Mode.anomaly:
        return _anomaly_backward(node, node_grads)
    if node.n_outputs == 1:
        return node.op.backward(node, node_grads[0])
    return _run_function_backward(node, node_grads)


def _capture(capture: dict, node: Any, node_grads: list) -> None:
    for i, g in enumerate(node_grads):
        key = (node, i)
        if g is not None and key in capture:
            capture[key] = g if capture[key] is None else capture[key] + g


def _anomaly_backward(node: Node, node_grads: list) -> tuple:
    """Run a node's backward under detect_anomaly: the ops inside it are not checked as forward
    ops (a NaN there would blame e.g. Div in the "forward pass"); the node's result is."""
    _Mode.anomaly = False
    try:
        if node.n_outputs == 1:
            in_grads = node.op.backward(node, node_grads[0])
        else:
            in_grads = _run_function_backward(node, node_grads)
    finally:
        _Mode.anomaly = True
    _check_backward(node, in_grads)
    return in_grads


def _check_backward(node: Node, result: tuple) -> None:
    for i, g in enumerate(result):
        if isinstance(g, Tensor) and g._data.dtype.kind == "f" and not np.all(
            np.isfinite(g._data)
        ):
            raise RuntimeError(
                f"detect_anomaly: Function '{node.name()}' returned nan or inf values in its "
                f"{i}th output (gradient for input of shape {node.metas[i][0]})."
            )


def _apply_hooks(hooks: list, node_grads: list) -> list:
    out = list(node_grads)
    for hook in hooks:
        for i, g in enumerate(out):
            if g is not None:
                r = hook(g)
                if r is not None:
                    out[i] = r
    return out


def _reduce_to(g: Any, shape: tuple, node: Node, edge: Any) -> Any:
    gshape = g._data.shape
    # Broadcasting only adds leading dims or stretches size-1 dims; anything else is an op bug.
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[lead:])):
        i = next(k for k, e in enumerate(node.parents) if e is edge)
        raise RuntimeError(
            f"{node.name()} returned a gradient of shape {gshape} for input {i} of shape {shape}"
        )
    return SumTo.apply(g, shape=shape)


def _accumulate(t: Any, g: Any, handed: set, create_graph: bool) -> None:
    """Add ``g`` into ``t.grad``, never letting ``t.grad`` alias another array."""
    if t._hooks:
        for hook in t._hooks:
            r = hook(g)
            if r is not None:
                g = r
    current = t._grad
    if current is None:
        if create_graph:
            t._grad = g
        else:
            arr = g._data
            # Keep the array unless someone else may hold it: a view of a base that is referenced
            # elsewhere (refcount: the view's own reference plus getrefcount's argument), an array
            # already handed to another .grad or passed in by the caller, or a read-only one.
            if (id(arr) in handed or not arr.flags.writeable
                    or (arr.base is not None and sys.getrefcount(arr.base) > 2)):
                arr = arr.copy()
            handed.add(id(arr))
            # A fresh gradient tensor made by this pass is nobody else's: keep the object.
            t._grad = g if arr is g._data and g._ctx is None and type(g) is Tensor \
                else Tensor._wrap(arr)
    elif create_graph or current._ctx is not None:
        t._grad = current + g
    else:
        np.add(current._data, g._data, out=current._data)
