"""Finite-difference checks of first and second derivatives, as torch.autograd.gradcheck.

Central differences (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε in float64 give the numerical Jacobian column by
column; the analytical Jacobian comes row by row from vector-Jacobian products.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .grad import grad as _grad
from .mode import enable_grad, no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Analytical and numerical derivatives disagree."""


def _as_tuple(x: Any) -> tuple:
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _numerical(func: Callable, inputs: tuple, eps: float) -> list:
    """One (n_out, n_in) numerical Jacobian per (output, differentiable input) pair."""
    outs0 = _as_tuple(func(*inputs))
    jac = [[None] * len(inputs) for _ in outs0]
    for j, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        x = t._data
        cols = [np.zeros((o.numel(), x.size)) for o in outs0]
        for k, pos in enumerate(np.ndindex(x.shape)):  # in place, even if x is not contiguous
            orig = x[pos]
            with no_grad():
                x[pos] = orig + eps
                plus = [o._data.astype(np.float64).reshape(-1) for o in _as_tuple(func(*inputs))]
                x[pos] = orig - eps
                minus = [o._data.astype(np.float64).reshape(-1) for o in _as_tuple(func(*inputs))]
            x[pos] = orig
            for i in range(len(outs0)):
                cols[i][:, k] = (plus[i] - minus[i]) / (2 * eps)
        for i in range(len(outs0)):
            jac[i][j] = cols[i]
    return jac


def _analytical(func: Callable, inputs: tuple) -> list:
    outs = _as_tuple(func(*inputs))
    diff_in = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    jac = [[None] * len(inputs) for _ in outs]
    for i, o in enumerate(outs):
        n = o.numel()
        # (identity, not `t in diff_in`: == on Tensors is elementwise)
        rows = {j: np.zeros((n, t.numel())) for j, t in enumerate(inputs)
                if isinstance(t, Tensor) and t.requires_grad}
        flat = o.reshape(-1)
        for r in range(n):
            if not o.requires_grad:
                break
            gs = _grad(flat[r], diff_in, retain_graph=True, allow_unused=True)
            it = iter(gs)
            for j in range(len(inputs)):
                if j in rows:
                    g = next(it)
                    if g is not None:
                        rows[j][r] = g._data.reshape(-1)
        for j, m in rows.items():
            jac[i][j] = m
    return jac


def gradcheck(
    func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check the backward of ``func`` against central finite differences.

    Inputs that require grad should be float64 (float32 differences are too coarse). Returns True,
    or raises ``GradcheckError`` naming the output/input pair and the worst entry (or returns False
    with ``raise_exception=False``).
    """
    ins = _as_tuple(inputs)
    for i, t in enumerate(ins):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            import warnings

            warnings.warn(
                f"gradcheck: input {i} is {t.dtype}, not float64; finite differences will be "
                f"inaccurate. Use .double().", stacklevel=2)
    num = _numerical(func, ins, eps)
    ana = _analytical(func, ins)
    for i, (nrow, arow) in enumerate(zip(num, ana)):
        for j, (n, a) in enumerate(zip(nrow, arow)):
            if n is None:
                continue
            if a is None:
                a = np.zeros_like(n)
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                k = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
                msg = (
                    f"Jacobian mismatch for output {i} with respect to input {j}: at entry {k} "
                    f"analytical {a[k]:.8g} vs numerical {n[k]:.8g} (max abs diff "
                    f"{np.max(np.abs(a - n)):.3g}, atol={atol}, rtol={rtol})"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(
    func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
    atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) ↦ vᵀ·∂func/∂inputs (with create_graph).

    ``grad_outputs`` defaults to random float64 tensors (non-uniform, so transposition bugs show).
    """
    ins = _as_tuple(inputs)
    outs = _as_tuple(func(*ins))
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        gos = tuple(
            Tensor._wrap(rng.standard_normal(o.shape).astype(np.float64), requires_grad=True)
            for o in outs
        )
    else:
        gos = tuple(g.detach().requires_grad_(True) for g in _as_tuple(grad_outputs))
    n_in = len(ins)
    diff_idx = [j for j, t in enumerate(ins) if isinstance(t, Tensor) and t.requires_grad]

    def first_derivative(*args: Tensor) -> tuple:
        xs, vs = args[:n_in], args[n_in:]
        with enable_grad():  # the numerical pass runs under no_grad; this needs a graph
            ys = _as_tuple(func(*xs))
            pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
            gs = _grad([y for y, _ in pairs], [xs[j] for j in diff_idx],
                       [v for _, v in pairs], create_graph=True, allow_unused=True)
        return tuple(
            g if g is not None else (xs[j] * 0.0).sum() * 0.0 + xs[j] * 0.0
            for g, j in zip(gs, diff_idx)
        )

    return gradcheck(first_derivative, ins + gos, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
