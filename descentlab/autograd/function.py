"""User-defined ops: ``Function`` (forward and backward written by hand) and its ``ctx``.

As ``torch.autograd.Function``: the forward runs on Tensors with grad mode off, and the graph
records one node whose backward calls the user's ``backward``. The grad-mode and graph names that
used to live here are re-exported for older imports.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import graph
from .graph import _FREED_MSG, Node, Op, label, named_node
from .mode import (
    backward_creates_graph,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    mode_state,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)

__all__ = [
    "Function",
    "FunctionCtx",
    "Op",
    "backward_creates_graph",
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "label",
    "named_node",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]


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

    user_function = True  # torch names its node <Class>Backward (see names.py)
    array_backward = False
    save_inputs = False
    save_output = False
    frees = ()

    def __init__(self, fn_cls: type, ctx: FunctionCtx) -> None:
        self.fn_cls = fn_cls
        self.ctx = ctx
        self.__name__ = fn_cls.__name__

    def backward(self, node: Node, grad: Any) -> tuple:
        return _run_function_backward(node, [grad])

    def backward_outputs(self, node: Node, grads: list) -> tuple:
        """The backward of a Function with several outputs: one gradient (or None) per output."""
        return _run_function_backward(node, grads)


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
        tensor_type = graph.Tensor
        ctx = FunctionCtx()
        tensor_args = [a for a in args if isinstance(a, tensor_type)]
        ctx.needs_input_grad = tuple(isinstance(a, tensor_type) and a.requires_grad for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        outs = tuple(o.detach() if isinstance(o, tensor_type) else o for o in outs)
        if not (mode_state.grad and any(t.requires_grad for t in tensor_args)):
            return outs[0] if single else outs
        op = _FunctionOp(cls, ctx)
        node = Node(op, tensor_args)  # type: ignore[arg-type]
        node.n_outputs = len(outs)
        node.special = len(outs) != 1
        node.out_metas = [(o.shape, o.dtype) if isinstance(o, tensor_type) else None for o in outs]
        node.arg_is_tensor = tuple(isinstance(a, tensor_type) for a in args)
        ctx._node = node
        saved = getattr(ctx, "_to_save", ())
        ctx._saved_versions = tuple(t._vbox[0] if t is not None else 0 for t in saved)
        non_diff = getattr(ctx, "_non_diff", set())
        for i, o in enumerate(outs):
            if isinstance(o, tensor_type) and o._data.dtype.kind == "f" and id(o) not in non_diff:
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
        g if g is not None or m is None else graph.wrap(np.zeros(m[0], dtype=m[1]))
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
        (r.clone() if isinstance(r, graph.Tensor) else r)
        for r, t in zip(results, is_tensor) if t
    )
