"""``autograd.grad``: gradients of outputs with respect to chosen inputs, without touching .grad."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import dtypes, graph
from .backward import run_backward
from .graph import wrap


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """Σᵢ grad_outputsᵢ · ∂outputsᵢ/∂inputs, as torch.autograd.grad.

    Returns a tuple with one gradient per input (None for an input the outputs do not depend on,
    which is an error unless ``allow_unused=True``). With ``create_graph=True`` the result is
    itself differentiable (Hessian-vector products, Newton steps).
    """
    tensor_type = graph.Tensor
    outs = [outputs] if isinstance(outputs, tensor_type) else list(outputs)
    ins = [inputs] if isinstance(inputs, tensor_type) else list(inputs)
    if grad_outputs is None:
        gos: Sequence[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, tensor_type):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise RuntimeError(
            f"grad_outputs has {len(gos)} entries but there are {len(outs)} outputs"
        )
    for i, t in enumerate(ins):
        if not isinstance(t, tensor_type) or not t.requires_grad:
            raise RuntimeError(
                f"input {i} of autograd.grad does not require grad; mark it with "
                f"requires_grad=True before computing the outputs"
            )
    roots, root_grads = [], []
    for i, (o, g) in enumerate(zip(outs, gos)):
        if not o.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        roots.append(o._edge())
        root_grads.append(root_gradient(o, g))
    if retain_graph is None:
        retain_graph = create_graph
    capture = {t._edge(): None for t in ins}
    run_backward(roots, root_grads, retain_graph, create_graph, capture)
    result = []
    for i, t in enumerate(ins):
        g = capture[t._edge()]
        if g is None:
            if materialize_grads:
                g = wrap(np.zeros(t._data.shape, t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) "
                    f"appears to not have been used in the graph. Set allow_unused=True if this "
                    f"is the desired behavior."
                )
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


_SCALAR_ONES: dict = {}


def root_gradient(t: Any, gradient: Any) -> Any:
    """The gradient a backward pass starts from at output ``t``: ``gradient`` checked against t's
    shape and cast to its dtype, or 1 for a scalar output."""
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{tuple(t.shape)}. Pass gradient= (a tensor of that shape), or reduce it first "
                f"(e.g. loss.sum() or loss.mean())."
            )
        shape, dtype = t._data.shape, t._data.dtype
        if shape == ():
            one = _SCALAR_ONES.get(dtype)
            if one is None:
                one = np.ones((), dtype=dtype)
                one.flags.writeable = False  # shared: backwards never write into their input
                _SCALAR_ONES[dtype] = one
            return wrap(one)
        return wrap(np.ones(shape, dtype=dtype))
    g = gradient if isinstance(gradient, graph.Tensor) else wrap(
        dtypes.as_array(gradient, t._data.dtype))
    if g._data.shape != t._data.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and output has a "
            f"shape of {tuple(t.shape)}."
        )
    if g._data.dtype != t._data.dtype:
        g = wrap(g._data.astype(t._data.dtype))
    return g
