"""The backward pass: gradients pushed from the outputs to the leaves, node by node.

The graph is made of nodes, never of tensors: a non-leaf tensor points at the node that produced it,
and each node points at the nodes of its inputs (``next_functions`` in PyTorch's words). A leaf that
requires grad gets an ``AccumulateGrad`` node that adds the arriving gradient into ``leaf.grad``.
"""

from __future__ import annotations

import heapq
import sys
from typing import Any, Sequence

import numpy as np

from . import graph
from .graph import _NULL, AccumulateGrad, Node, backward_on_arrays
from .mode import anomaly_ever, mode_state
from .ops import Cast, SumTo

new_object = object.__new__


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
    if capture is None and not create_graph and not (anomaly_ever[0] and mode_state.anomaly):
        _run_on_arrays(roots, root_grads, retain_graph)
        return None
    # grads: node -> its gradient (one tensor; a list for nodes with several outputs).
    # heap: (key, node) of the nodes holding a gradient, the latest-recorded first.
    # leaves: AccumulateGrad -> the sum of the gradients that reached it.
    tensor_type = graph.Tensor
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
    slow_all = capture is not None or mode_state.anomaly
    on_arrays = not create_graph
    make = tensor_type._wrap
    prev_mode = mode_state.grad
    mode_state.grad = create_graph
    node = None
    try:
        while heap:
            node = pop(heap)[1]
            g = grads.pop(node)
            if slow_all or node.special:
                in_grads = _backward_slow(node, g, capture, handed, create_graph)
            elif on_arrays and node.op.array_backward:  # backward_on_arrays, inline (hot)
                node.on_arrays = True
                in_grads = node.op.backward(node, g._data)
                node.on_arrays = False
                if len(in_grads) == 1:
                    in_grads = (None if in_grads[0] is None else make(in_grads[0]),)
                else:
                    in_grads = [None if r is None else make(r) for r in in_grads]
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
                t._grad = g if type(g) is tensor_type else tensor_type._wrap(arr)
    finally:
        mode_state.grad = prev_mode
        if node is not None:  # after an error, no node stays marked as running on arrays
            node.on_arrays = False
    return capture


def _run_on_arrays(roots: Sequence[Any], root_grads: Sequence[Any], retain_graph: bool) -> None:
    """The common pass (nothing recorded, captured or checked): gradients stay NumPy arrays from
    the roots to the leaves, so no node pays for a Tensor around its gradient.

    Ops marked ``array_backward`` run their one backward on arrays (their node's ``on_arrays`` set
    for the call); other ops get their gradient wrapped in a Tensor, and nodes with hooks,
    retained grads or several outputs go through ``_step_on_tensors``. Leaves get their ``.grad``
    as in the Tensor pass.
    """
    tensor_type = graph.Tensor
    grads: dict = {}
    heap: list = []
    leaves: dict = {}
    for (node, idx), g in zip(roots, root_grads):
        _deliver(grads, heap, leaves, node, idx, g._data)
    handed = set()
    for g in root_grads:
        handed.add(id(g._data))
    pop, push = heapq.heappop, heapq.heappush
    state = mode_state
    prev_mode = state.grad
    state.grad = False
    node = None
    try:
        while heap:
            node = pop(heap)[1]
            g = grads.pop(node)
            op = node.op
            if node.special:
                in_grads = _step_on_tensors(node, g, handed)
            elif op.array_backward:
                node.on_arrays = True
                in_grads = op.backward(node, g)
                node.on_arrays = False
            else:  # a backward written for Tensors: hand it one (ctx.saved gives it Tensors)
                t = new_object(tensor_type)
                t._data = g
                t._vbox = [0]
                in_grads = [None if r is None else r._data for r in op.backward(node, t)]
            for p, g, meta in zip(node.parents, in_grads, node.metas):
                if g is None or p is None:
                    continue
                if g.shape != meta[0]:
                    g = _reduce_array_to(g, meta[0], node, p)
                if g.dtype is not meta[1] and g.dtype != meta[1]:
                    g = g.astype(meta[1])
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
                if op.frees:
                    node.release()
        make = tensor_type._wrap
        for acc, arr in leaves.items():
            t = acc.variable
            if acc.hooks:
                g = _apply_hooks(acc.hooks, [make(arr)])[0]
                _accumulate(t, g, handed, False)
            elif (t._grad is not None or t._hooks or id(arr) in handed
                    or not arr.flags.writeable or arr.base is not None):
                _accumulate(t, make(arr), handed, False)
            else:  # the common case of _accumulate: a fresh array for an empty .grad
                handed.add(id(arr))
                t._grad = make(arr)
    finally:
        state.grad = prev_mode
        if node is not None:  # after an error, no node stays marked as running on arrays
            node.on_arrays = False


def _step_on_tensors(node: Any, g: Any, handed: set) -> list:
    """One node of the array pass with hooks, retained grads or several outputs: its gradients
    wrapped, the slow path run with Tensors, its results unwrapped."""
    make = graph.Tensor._wrap
    if node.n_outputs != 1:
        g = [None if x is None else make(x) for x in g]
    else:
        g = make(g)
    results = _backward_slow(node, g, None, handed, False)
    return [None if r is None else r._data for r in results]


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
    if mode_state.anomaly:
        return _anomaly_backward(node, node_grads, create_graph)
    return _node_backward(node, node_grads, create_graph)


def _node_backward(node: Any, node_grads: list, create_graph: bool) -> tuple:
    """One node's backward: on arrays when it can be and nothing is recorded (see Op)."""
    if node.n_outputs != 1:
        return node.op.backward_outputs(node, node_grads)
    if node.op.array_backward and not create_graph:
        return backward_on_arrays(node, node_grads[0])
    return node.op.backward(node, node_grads[0])


def _capture(capture: dict, node: Any, node_grads: list) -> None:
    for i, g in enumerate(node_grads):
        key = (node, i)
        if g is not None and key in capture:
            capture[key] = g if capture[key] is None else capture[key] + g


def _anomaly_backward(node: Node, node_grads: list, create_graph: bool) -> tuple:
    """Run a node's backward under detect_anomaly: the ops inside it are not checked as forward
    ops (a NaN there would blame e.g. Div in the "forward pass"); the node's result is."""
    mode_state.anomaly = False
    try:
        in_grads = _node_backward(node, node_grads, create_graph)
    finally:
        mode_state.anomaly = True
    _check_backward(node, in_grads)
    return in_grads


def _check_backward(node: Node, result: tuple) -> None:
    for i, g in enumerate(result):
        if isinstance(g, graph.Tensor) and g._data.dtype.kind == "f" and not np.all(
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


def _reduce_array_to(g: np.ndarray, shape: tuple, node: Node, edge: Any) -> np.ndarray:
    """``g`` summed back to an input's ``shape`` (undoing broadcasting), on arrays."""
    gshape = g.shape
    if shape and gshape[1:] == shape and len(gshape) == len(shape) + 1:  # a bias: sum the rows
        return np.add.reduce(g, axis=0)
    _check_broadcast(g.shape, shape, node, edge)
    return SumTo.forward(_NULL, g, shape=shape)


def _reduce_to(g: Any, shape: tuple, node: Node, edge: Any) -> Any:
    _check_broadcast(g._data.shape, shape, node, edge)
    return SumTo.apply(g, shape=shape)


def _check_broadcast(gshape: tuple, shape: tuple, node: Node, edge: Any) -> None:
    # Broadcasting only adds leading dims or stretches size-1 dims; anything else is an op bug.
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[lead:])):
        i = next(k for k, e in enumerate(node.parents) if e is edge)
        raise RuntimeError(
            f"{node.name()} returned a gradient of shape {gshape} for input {i} of shape {shape}"
        )


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
            tensor_type = graph.Tensor
            t._grad = g if arr is g._data and g._ctx is None and type(g) is tensor_type \
                else tensor_type._wrap(arr)
    elif create_graph or current._ctx is not None:
        t._grad = current + g
    else:
        np.add(current._data, g._data, out=current._data)
