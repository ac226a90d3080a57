"""``autograd.grad``: gradients of outputs with respect to chosen inputs, without touching .grad."""

from __future__ import annotations

from typing import Any, Sequence

from .function import run_backward
from .tensor import Tensor, _root_grad


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
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gos: Sequence[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise RuntimeError(
            f"grad_outputs has {len(gos)} entries but there are {len(outs)} outputs"
        )
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
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
        root_grads.append(_root_grad(o, g))
    if retain_graph is None:
        retain_graph = create_graph
    capture = {t._edge(): None for t in ins}
    run_backward(roots, root_grads, retain_graph, create_graph, capture)
    result = []
    for i, t in enumerate(ins):
        g = capture[t._edge()]
        if g is None:
            if materialize_grads:
                from .creation import zeros_like

                g = zeros_like(t)
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
