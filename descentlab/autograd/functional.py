"""Functional transforms with torch.autograd.functional's names and signatures.

``vjp`` and ``hvp`` are one (double) backward pass each; ``jacobian``/``hessian`` build full
matrices row by row and are meant for small problems (Newton's method, the lab's 2-D landscapes).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .grad import grad as _grad
from .mode import enable_grad
from .tensor import Tensor


def _prep(inputs: Any, create_graph: bool) -> tuple[tuple, bool]:
    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"input {i} must be a Tensor, got {type(t).__name__}")
    prepped = tuple(
        (t if create_graph and t.requires_grad else t.detach()).requires_grad_(True)
        if t.dtype.kind == "f" else t
        for t in ins
    )
    return prepped, single


def _outs(out: Any) -> tuple[tuple, bool]:
    single = isinstance(out, Tensor)
    return ((out,) if single else tuple(out)), single


def _grads_or_zeros(gs: tuple, ins: tuple, create_graph: bool) -> tuple:
    from .creation import zeros_like

    return tuple(
        (g if create_graph else g.detach()) if g is not None else zeros_like(t)
        for g, t in zip(gs, ins)
    )


def _backward_pass(outputs: Sequence[Tensor | None], inputs: Sequence[Tensor],
                   cotangents: Sequence[Any], create_graph: bool) -> tuple:
    """Σₖ vₖᵀ·∂outputₖ/∂inputs by one backward pass, the graph kept for another.

    Outputs that are None or carry no graph are constants and drop out with their cotangent;
    the result is None per input that no output reaches (all of them when none has a graph).
    """
    if len(cotangents) != len(outputs):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(outputs)} but got "
                           f"{len(cotangents)}.")
    live = [(o, v) for o, v in zip(outputs, cotangents) if o is not None and o.requires_grad]
    if not live:
        return (None,) * len(inputs)
    return tuple(_grad([o for o, _ in live], tuple(inputs), [v for _, v in live],
                       create_graph=create_graph, retain_graph=True, allow_unused=True))


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), vᵀ·J): the vector-Jacobian product by one backward pass."""
    ins, single_in = _prep(inputs, create_graph)
    with enable_grad():
        out = func(*ins)
        outs, single_out = _outs(out)
        if v is not None:
            vs = (v,) if isinstance(v, Tensor) else tuple(v)
        else:
            vs = (None,) * len(outs)
        gs = _backward_pass(outs, ins, vs, create_graph)
    res = _grads_or_zeros(gs, ins, create_graph)
    out_det = out.detach() if single_out and not create_graph else out
    return out_det, res[0] if single_in else res


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J·v) by the double-vjp trick: J·v = ∂/∂u (uᵀJ)·v, u a dummy cotangent."""
    from .creation import zeros_like

    ins, single_in = _prep(inputs, create_graph)
    vs = (v,) if isinstance(v, Tensor) else tuple(v) if v is not None else None
    if vs is None:
        if any(t.numel() != 1 for t in ins):
            raise RuntimeError("jvp: v can be omitted only when every input has one element")
        from .creation import ones_like

        vs = tuple(ones_like(t) for t in ins)
    with enable_grad():
        out = func(*ins)
        outs, single_out = _outs(out)
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        gs = _grad(outs, ins, us, create_graph=True, retain_graph=True, allow_unused=True)
        jv = _backward_pass(gs, us, vs, create_graph)
    res = _grads_or_zeros(jv, outs, create_graph)
    return (out.detach() if single_out and not create_graph else out), (
        res[0] if single_out else res)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """∂func/∂inputs, shape out.shape + in.shape, one backward pass per output element."""
    from .creation import stack, zeros

    ins, single_in = _prep(inputs, create_graph)
    with enable_grad():
        out = func(*ins)
        outs, single_out = _outs(out)
        result = []
        for o in outs:
            flat = o.reshape(-1)
            rows = [[] for _ in ins]
            for k in range(flat.shape[0]):
                if o.requires_grad:
                    gs = _grad(flat[k], ins, retain_graph=True, create_graph=create_graph,
                               allow_unused=True)
                else:
                    gs = (None,) * len(ins)
                for j, (g, t) in enumerate(zip(gs, ins)):
                    if g is None:
                        g = zeros(t.shape, dtype=t.dtype)
                    rows[j].append(g if create_graph else g.detach())
            per_in = []
            for j, t in enumerate(ins):
                if rows[j]:
                    per_in.append(stack(rows[j]).reshape(o.shape + t.shape))
                else:
                    per_in.append(zeros(o.shape + t.shape, dtype=t.dtype))
            result.append(per_in[0] if single_in else tuple(per_in))
    return result[0] if single_out else tuple(result)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """∂²func/∂inputs², the Jacobian of the gradient (func must return a scalar)."""
    ins, single_in = _prep(inputs, create_graph)

    def gradient(*xs: Tensor) -> Any:
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor")
        gs = _grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        from .creation import zeros_like

        gs = tuple(g if g is not None else zeros_like(x) for g, x in zip(gs, xs))
        return gs[0] if single_in else gs

    return jacobian(gradient, ins[0] if single_in else ins, create_graph=create_graph)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H·v) by double backward: H·v = ∇(∇f · v); the Hessian is never formed."""
    ins, single_in = _prep(inputs, create_graph)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    with enable_grad():
        out = func(*ins)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hvp: the function must return a single-element Tensor")
        gs = _grad(out.reshape(()), ins, create_graph=True, allow_unused=True)
        hv = gradient_hvp(gs, ins, vs, create_graph=create_graph)
    res = _grads_or_zeros(hv, ins, create_graph)
    return (out.detach() if not create_graph else out), (res[0] if single_in else res)


def gradient_hvp(gradients: Sequence[Tensor | None], inputs: Sequence[Tensor],
                 vectors: Sequence[Tensor], create_graph: bool = False) -> tuple:
    """H·v from a gradient that was built with its graph: one more backward pass.

        H·v = ∇ₓ(∇f(x)·v), the vector-Jacobian product of g = ∇f with cotangent v

    This is the Hessian-vector product every second-order method uses (``hvp`` above, Newton and
    Newton-CG in ``optim``, the lab's curvature probes); the graph of ``gradients`` is kept, so
    the same gradient serves many vectors.

    Args:
        gradients: ∇f per input, from ``grad(..., create_graph=True)`` or ``backward`` under
            ``backward_creates_graph``; None or graph-less entries count as constant (H row 0).
        inputs: the tensors x the Hessian is taken with respect to.
        vectors: v, one tensor per input, shaped like it.
        create_graph: record this pass too (for third derivatives).

    Returns:
        H·v per input (None where it is zero: the input does not reach any gradient's graph).
    """
    with enable_grad():
        return _backward_pass(gradients, inputs, vectors, create_graph)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), vᵀ·H); equal to hvp for twice-differentiable functions (H is symmetric)."""
    return hvp(func, inputs, v, create_graph, strict)
