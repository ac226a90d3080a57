"""Elementwise functions and activations, each with its derivative next to it."""

from __future__ import annotations

import math

import numpy as np

from ..graph import Op, wrap
from .select import Where

try:  # SciPy's erf is vectorized C; without SciPy fall back to math.erf per element.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only without SciPy
    _erf = np.frompyfunc(math.erf, 1, 1)



class Exp(Op):
    """eᵃ;  ∂/∂a = g·eᵃ (the output)."""

    save_output = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        return np.exp(a)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.out,)


class Log(Op):
    """ln a;  ∂/∂a = g/a."""

    save_inputs = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        return (g / ctx.saved[0],)


class Log1p(Op):
    """ln(1 + a);  ∂/∂a = g/(1 + a)."""

    save_inputs = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        return np.log1p(a)

    @staticmethod
    def backward(ctx, g):
        return (g / (ctx.saved[0] + 1.0),)


class Sqrt(Op):
    """√a;  ∂/∂a = g/(2√a)."""

    save_output = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        return np.sqrt(a)

    @staticmethod
    def backward(ctx, g):
        return (g / (ctx.out * 2.0),)


class Sin(Op):
    """sin a;  ∂/∂a = g·cos a."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a):
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0].cos(),)


class Cos(Op):
    """cos a;  ∂/∂a = −g·sin a."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a):
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        return (-g * ctx.saved[0].sin(),)


class Tanh(Op):
    """tanh a;  ∂/∂a = g·(1 − tanh²a)."""

    save_output = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        return np.tanh(a)

    @staticmethod
    def backward(ctx, g):
        y = ctx.out
        return (g * (1.0 - y * y),)


class Sigmoid(Op):
    """σ(a) = 1/(1 + e⁻ᵃ), computed without overflow;  ∂/∂a = g·σ·(1 − σ)."""

    save_output = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        y = ctx.out
        return (g * y * (1.0 - y),)


_ZEROS: dict = {}


class Relu(Op):
    """max(a, 0);  ∂/∂a = g·[a > 0]."""

    save_output = True
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        zero = _ZEROS.get(a.dtype)  # a typed 0 skips converting a Python int on every call
        if zero is None:
            zero = _ZEROS[a.dtype] = a.dtype.type(0)
        return np.maximum(a, zero)

    @staticmethod
    def backward(ctx, g):
        # out ≥ 0, so sign(out) is the 0/1 mask in the right dtype, in one pass
        return (g * ctx.constant(np.sign(ctx.out_data)),)


class Abs(Op):
    """|a|;  ∂/∂a = g·sign(a)."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a):
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        return (g * wrap(np.sign(ctx.saved[0]._data)),)


class Erf(Op):
    """erf a;  ∂/∂a = g·(2/√π)·e^(−a²)."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a):
        return np.asarray(_erf(a), dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        a = ctx.saved[0]
        return (g * (-(a * a)).exp() * 1.1283791670955126,)


class LeakyRelu(Op):
    """a if a > 0 else slope·a;  ∂/∂a = g·(1 or slope)."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a, slope):
        ctx.slope = slope
        return np.where(a > 0, a, a * slope).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a = ctx.saved[0]._data
        return (g * wrap(np.where(a > 0, 1.0, ctx.slope).astype(a.dtype)),)


class Elu(Op):
    """a if a > 0 else α·(eᵃ − 1);  ∂/∂a = g if a > 0 else g·α·eᵃ."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a, alpha):
        ctx.alpha = alpha
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a = ctx.saved[0]
        pos = wrap(a._data > 0)
        neg_part = a.clamp(max=0.0).exp() * ctx.alpha
        return (Where.apply(pos, g, g * neg_part),)


class Softplus(Op):
    """(1/β)·ln(1 + e^(β·a)), linear where β·a > threshold;  ∂/∂a = g·σ(β·a)."""

    save_inputs = True

    @staticmethod
    def forward(ctx, a, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        z = a * beta
        return np.where(z > threshold, a, np.logaddexp(0, z) / beta).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a = ctx.saved[0]
        z = a * ctx.beta
        lin = wrap(z._data > ctx.threshold)
        return (Where.apply(lin, g, g * z.sigmoid()),)
