"""Elementwise functions and activations, each with its derivative next to it."""

from __future__ import annotations

import math

import numpy as np

from ..graph import wrap
from .arith import zeros_array
from .define import define_op
from .select import Where
from .windows import _scratch

try:  # SciPy's erf is vectorized C; without SciPy fall back to math.erf per element.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only without SciPy
    _erf = np.frompyfunc(math.erf, 1, 1)


@define_op(lambda ctx, a: np.exp(a), save_output=True, array_backward=True)
def Exp(ctx, g):
    """eᵃ;  ∂/∂a = g·eᵃ (the output)."""
    return (g * ctx.out,)


@define_op(lambda ctx, a: np.log(a), save_inputs=True, array_backward=True)
def Log(ctx, g):
    """ln a;  ∂/∂a = g/a."""
    return (g / ctx.saved[0],)


@define_op(lambda ctx, a: np.log1p(a), save_inputs=True, array_backward=True)
def Log1p(ctx, g):
    """ln(1 + a);  ∂/∂a = g/(1 + a)."""
    return (g / (ctx.saved[0] + 1.0),)


@define_op(lambda ctx, a: np.sqrt(a), save_output=True, array_backward=True)
def Sqrt(ctx, g):
    """√a;  ∂/∂a = g/(2√a)."""
    return (g / (ctx.out * 2.0),)


@define_op(lambda ctx, a: np.sin(a), save_inputs=True)
def Sin(ctx, g):
    """sin a;  ∂/∂a = g·cos a."""
    return (g * ctx.saved[0].cos(),)


@define_op(lambda ctx, a: np.cos(a), save_inputs=True)
def Cos(ctx, g):
    """cos a;  ∂/∂a = −g·sin a."""
    return (-g * ctx.saved[0].sin(),)


@define_op(lambda ctx, a: np.tanh(a), save_output=True, array_backward=True)
def Tanh(ctx, g):
    """tanh a;  ∂/∂a = g·(1 − tanh²a)."""
    y = ctx.out
    return (g * (1.0 - y * y),)


def _sigmoid(ctx, a):
    e = np.exp(-np.abs(a))  # e^(−|a|) ≤ 1: neither branch can overflow
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


@define_op(_sigmoid, save_output=True, array_backward=True)
def Sigmoid(ctx, g):
    """σ(a) = 1/(1 + e⁻ᵃ), computed without overflow;  ∂/∂a = g·σ·(1 − σ)."""
    y = ctx.out
    return (g * y * (1.0 - y),)


_ZEROS: dict = {}


def _relu(ctx, a):
    if a.size >= 1 << 14:
        # NumPy's maximum against a scalar is not vectorized: against an array of zeros (kept per
        # shape) it takes a third of the time. A large C-ordered result goes into a reused
        # buffer: fresh ones made the conv-net step fault in ~700 pages each time (see _scratch).
        out = _scratch(a.shape, a.dtype) if a.flags.c_contiguous else None
        return np.maximum(a, zeros_array(a.shape, a.dtype), out=out)
    zero = _ZEROS.get(a.dtype)  # a typed 0 skips converting a Python int on every call
    if zero is None:
        zero = _ZEROS[a.dtype] = a.dtype.type(0)
    return np.maximum(a, zero)


@define_op(_relu, save_output=True, array_backward=True)
def Relu(ctx, g):
    """max(a, 0);  ∂/∂a = g·[a > 0]."""
    # out is ≥ 0 or NaN, so [out ≠ 0] is torch's mask [not a ≤ 0] (g passes where a is NaN);
    # g times a bool mask is g or a signed 0, and comparing is cheaper than np.sign
    out = ctx.out_data
    if (ctx.on_arrays and out.size >= 1 << 14 and g.shape == out.shape and g.dtype == out.dtype
            and g.flags.c_contiguous):
        # as above: the mask and the product in reused buffers
        mask = np.not_equal(out, 0, out=_scratch(out.shape, np.dtype(bool)))
        return (np.multiply(g, mask, out=_scratch(out.shape, out.dtype)),)
    return (g * ctx.constant(out != 0),)


@define_op(lambda ctx, a: np.abs(a), save_inputs=True)
def Abs(ctx, g):
    """|a|;  ∂/∂a = g·sign(a)."""
    return (g * wrap(np.sign(ctx.saved[0]._data)),)


@define_op(lambda ctx, a: np.asarray(_erf(a), dtype=a.dtype), save_inputs=True)
def Erf(ctx, g):
    """erf a;  ∂/∂a = g·(2/√π)·e^(−a²)."""
    a = ctx.saved[0]
    return (g * (-(a * a)).exp() * 1.1283791670955126,)


def _leaky_relu(ctx, a, slope):
    ctx.slope = slope
    return np.where(a > 0, a, a * slope).astype(a.dtype, copy=False)


@define_op(_leaky_relu, save_inputs=True)
def LeakyRelu(ctx, g):
    """a if a > 0 else slope·a;  ∂/∂a = g·(1 or slope)."""
    a = ctx.saved[0]._data
    return (g * wrap(np.where(a > 0, 1.0, ctx.slope).astype(a.dtype)),)


def _elu(ctx, a, alpha):
    ctx.alpha = alpha
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))).astype(a.dtype, copy=False)


@define_op(_elu, save_inputs=True)
def Elu(ctx, g):
    """a if a > 0 else α·(eᵃ − 1);  ∂/∂a = g if a > 0 else g·α·eᵃ."""
    a = ctx.saved[0]
    pos = wrap(a._data > 0)
    neg_part = a.clamp(max=0.0).exp() * ctx.alpha
    return (Where.apply(pos, g, g * neg_part),)


def _softplus(ctx, a, beta, threshold):
    ctx.beta, ctx.threshold = beta, threshold
    z = a * beta
    return np.where(z > threshold, a, np.logaddexp(0, z) / beta).astype(a.dtype, copy=False)


@define_op(_softplus, save_inputs=True)
def Softplus(ctx, g):
    """(1/β)·ln(1 + e^(β·a)), linear where β·a > threshold;  ∂/∂a = g·σ(β·a)."""
    a = ctx.saved[0]
    z = a * ctx.beta
    lin = wrap(z._data > ctx.threshold)
    return (Where.apply(lin, g, g * z.sigmoid()),)
