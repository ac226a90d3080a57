"""The network ops: the fused cross-entropy rows, the LSTM step's pointwise part, and the
unbinding of a sequence into steps. The windowed ops (convolution, im2col, max pooling) live in
``windows.py``, ``conv.py`` and ``pool.py`` and are importable from here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function, FunctionCtx
from ..graph import Node, Op, wrap
from ..mode import mode_state
from .arith import ones_vector, row_offsets
from .conv import Conv2dFn, ConvGeometry, ConvInputGrad, ConvWeightGrad
from .pool import MaxGather, MaxPool2dFn, MaxScatter
from .shape import Cat
from .windows import Col2Im, Im2Col, col2im_array, conv_windows, im2col_array, output_size

__all__ = ["BatchNormTrain", "Conv2dFn", "ConvGeometry", "ConvInputGrad", "ConvWeightGrad",
           "Im2Col", "Col2Im",
           "MaxPool2dFn", "MaxScatter", "MaxGather", "CrossEntropyRows", "LSTMPointwise",
           "Unbind", "im2col_array", "col2im_array", "conv_windows", "output_size"]


class CrossEntropyRows(Op):
    """Σ_n r_n·(logsumexp(x_n) − x[n, y_n]) over rows of (M, C) logits (or the per-row terms),
    with r_n the row weights (class weight, 0 for ignored rows, the mean's 1/Σw folded in; one
    number when all rows weigh the same);  ∂/∂x = r_n·g·(softmax(x_n) − onehot(y_n)).

    One node for log_softmax + pick + reduce, as torch's fused kernel; the forward keeps the
    softmax it computes anyway, so the first-order backward is a scale and a scatter.
    """

    save_inputs = True
    array_backward = True  # the first-order backward on arrays is the scale and scatter below
    frees = ("probs",)

    @staticmethod
    def forward(ctx, x, target, rows, per_row):
        m, c = x.shape
        ctx.target, ctx.rows, ctx.per_row = target, rows, per_row
        if 1 < c <= 4:  # a few classes: column maxima beat the axis reduction
            top = np.maximum(x[:, 0], x[:, 1])
            for j in range(2, c):
                np.maximum(top, x[:, j], out=top)
        else:
            top = np.maximum.reduce(x, 1)
        z = x - top[:, None]
        e = np.exp(z)
        s = e.dot(ones_vector(c, e.dtype))  # row sums as one BLAS call
        ctx.flat = flat = row_offsets(m, c) + target
        terms = np.log(s)
        terms -= z.reshape(-1)[flat]
        e /= s[:, None]
        ctx.probs = e  # softmax(x), rows summing to 1
        if per_row:
            terms *= rows
            return terms
        if isinstance(rows, float):
            return np.asarray(np.add.reduce(terms) * rows, dtype=x.dtype)
        return np.asarray(np.dot(terms, rows.astype(x.dtype, copy=False)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        rows = ctx.rows
        if ctx.on_arrays:  # nothing recorded: g and x are arrays, the softmax is kept
            if ctx.per_row or not isinstance(rows, float):
                scale = (g * rows).astype(x.dtype, copy=False)
                out = ctx.probs * scale[:, None]
            else:
                scale = g * rows
                out = ctx.probs * scale
            out.reshape(-1)[ctx.flat] -= scale
            return (out,)
        m = x.shape[0]
        onehot = np.zeros(x.shape, dtype=x.dtype)
        onehot.reshape(-1)[ctx.flat] = 1
        r = np.broadcast_to(np.asarray(rows, dtype=x.dtype), (m,))
        coef = (g * wrap(r)).reshape(m, 1)
        return ((x.softmax(1) - wrap(onehot)) * coef,)


def _sum_kept(a, dims: tuple):
    """Σ of ``a`` over ``dims``, kept as size-1 dims, on an array or a Tensor."""
    if isinstance(a, np.ndarray):
        return np.add.reduce(a, axis=dims, keepdims=True)
    return a.sum(dims, keepdim=True)


class BatchNormTrain(Op):
    """Training-mode batch norm over every dim but 1, as one node (torch's native kernel):
    y = x̂·γ + β with x̂ = (x − μ)·r, μ and σ² the batch's mean and biased variance per channel,
    r = (σ² + ε)^(−½). ``stats`` (a dict) receives μ and σ² for the running statistics.

    Backward, with Σ and mean over the normalized dims (n entries per channel):
    ∂β = Σ g,  ∂γ = Σ g·x̂,  ∂x = γ·r·(g − mean g − x̂·mean(g·x̂)).
    On arrays it uses the x̂ and r the forward kept; when a graph of the backward is wanted
    (create_graph), x̂ and r are computed again from x with Tensor ops, so the same formula stays
    differentiable. Against the composite of a dozen ops it saves about half the passes over
    the activations, forward and backward.
    """

    save_inputs = True
    array_backward = True
    frees = ("xhat", "r")

    @staticmethod
    def forward(ctx, x, w, b, *, eps: float, stats: dict):
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        count = x.size // x.shape[1]
        mean = np.add.reduce(x, axis=dims, keepdims=True) / x.dtype.type(count)
        xhat = x - mean
        var = np.add.reduce(xhat * xhat, axis=dims, keepdims=True) / x.dtype.type(count)
        r = np.reciprocal(np.sqrt(var + x.dtype.type(eps)))
        xhat *= r
        y = xhat * w.reshape(shape)
        y += b.reshape(shape)
        stats["mean"], stats["var"] = mean.reshape(-1), var.reshape(-1)
        if isinstance(ctx, Node):
            ctx.xhat, ctx.r, ctx.eps, ctx.dims, ctx.count = xhat, r, eps, dims, count
        return y

    @staticmethod
    def backward(ctx, g):
        x, w, _ = ctx.saved
        dims, count = ctx.dims, ctx.count
        if ctx.on_arrays:
            xhat, r = ctx.xhat, ctx.r
        else:  # recorded: x̂ and r as functions of x, so the backward differentiates again
            centered = x - x.mean(dims, keepdim=True)
            r = ((centered * centered).mean(dims, keepdim=True) + ctx.eps).rsqrt()
            xhat = centered * r
        g_sum = _sum_kept(g, dims)
        gx_sum = _sum_kept(g * xhat, dims)
        scale = w.reshape((1, -1) + (1,) * (len(dims) - 1)) * r
        gx = (g - g_sum / count - xhat * (gx_sum / count)) * scale
        return gx, gx_sum.reshape(-1), g_sum.reshape(-1)


class LSTMPointwise(Op):
    """The LSTM step after its gate product, as one node: from gates [i, f, g, o] (N, 4H) and
    c (N, H), out = [h', c'] (N, 2H) with c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c').

    Backward, with δc = ∂c' + ∂h'⊙σ(o)⊙(1 − tanh²c'):
    ∂i = δc⊙tanh(g)⊙σ'(i), ∂f = δc⊙c⊙σ'(f), ∂g = δc⊙σ(i)⊙(1 − tanh²g),
    ∂o = ∂h'⊙tanh(c')⊙σ'(o), ∂c = δc⊙σ(f). Fusing a dozen element-wise ops into one node keeps
    the per-step cost down; when a graph of the backward is wanted (create_graph) the same
    formulas run on Tensors, so it stays differentiable.
    """

    save_inputs = True
    frees = ("acts",)

    @staticmethod
    def forward(ctx, gates, c):
        n = c.shape[-1]
        sig = np.negative(gates)
        # σ = 1/(1 + e^(−x)) over the whole gate array (only i, f, o are used): one pass per
        # ufunc. e^(−x) overflows to inf for very negative x, which gives the right σ = 0.
        with np.errstate(over="ignore"):
            np.exp(sig, out=sig)
        sig += 1.0
        np.reciprocal(sig, out=sig)
        g = np.tanh(gates[..., 2 * n:3 * n])
        i, f, o = sig[..., :n], sig[..., n:2 * n], sig[..., 3 * n:]
        out = np.empty(c.shape[:-1] + (2 * n,), dtype=gates.dtype)
        c_new = out[..., n:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tc = np.tanh(c_new)
        np.multiply(o, tc, out=out[..., :n])
        ctx.acts = (sig, g, tc)
        return out

    @staticmethod
    def backward(ctx, grad):
        gates, c = ctx.saved
        n = c.shape[-1]
        if not mode_state.grad:
            sig, g, tc = ctx.acts
            gd, cd = grad._data, c._data
            i, f, o = sig[..., :n], sig[..., n:2 * n], sig[..., 3 * n:]
            gh, gc = gd[..., :n], gd[..., n:]
            dc = gc + gh * o * (1.0 - tc * tc)
            dgates = np.empty(gates.shape, dtype=gd.dtype)
            dgates[..., :n] = dc * g * i * (1.0 - i)
            dgates[..., n:2 * n] = dc * cd * f * (1.0 - f)
            dgates[..., 2 * n:3 * n] = dc * i * (1.0 - g * g)
            dgates[..., 3 * n:] = gh * tc * o * (1.0 - o)
            return wrap(dgates), wrap(dc * f)
        i, f = gates[..., :n].sigmoid(), gates[..., n:2 * n].sigmoid()
        g, o = gates[..., 2 * n:3 * n].tanh(), gates[..., 3 * n:].sigmoid()
        tc = (f * c + i * g).tanh()
        gh, gc = grad[..., :n], grad[..., n:]
        dc = gc + gh * o * (1.0 - tc * tc)
        dgates = Cat.apply(dc * g * i * (1.0 - i), dc * c * f * (1.0 - f),
                           dc * i * (1.0 - g * g), gh * tc * o * (1.0 - o), dim=gates.ndim - 1)
        return dgates, dc * f


class Unbind(Function):
    """x (T, …) → the T slices x[0], …, x[T−1];  ∂/∂x = stack of their gradients.

    One node for all steps: indexing each step separately would give every step's backward a
    full-size zero array to scatter into (quadratic in T).
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Any) -> tuple:
        return tuple(wrap(x._data[t]) for t in range(x.shape[0]))

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        return Cat.apply(*[g.unsqueeze(0) for g in grads], dim=0)
