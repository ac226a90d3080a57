"""Normalization and noise: ``batch_norm``, ``layer_norm`` and the dropout family."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from ...autograd import dtypes as _dt
from ...autograd.function import no_grad
from ...autograd.ops.nn import BatchNormTrain
from ...autograd.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "dropout", "dropout1d", "dropout2d"]


def batch_norm(
    input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
    weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
    momentum: float = 0.1, eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β per channel (dim 1), over all other dims.

    Training: μ, σ² are the batch's (σ² biased), and the running statistics are updated in place
    as r ← (1 − momentum)·r + momentum·s, with the *unbiased* batch variance for running_var (as
    torch). Otherwise μ, σ² are the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with a channel dim (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input of "
                f"shape {tuple(input.shape)}; use a batch larger than 1 or call model.eval()"
            )
        if not input.is_floating_point():
            raise RuntimeError(
                f"batch_norm: expected a floating-point input, got {input.dtype}; convert it "
                f"first, e.g. input.float()"
            )
        # One node with torch's closed-form gradient (ops.BatchNormTrain); a missing weight or
        # bias is a constant 1 or 0.
        dtype = input._data.dtype
        stats: dict = {}
        out = BatchNormTrain.apply(
            input, weight if weight is not None else _constant(1.0, c, dtype),
            bias if bias is not None else _constant(0.0, c, dtype), eps=eps, stats=stats)
        mean, var = stats["mean"], stats["var"]
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                rm, rv = running_mean._data, running_var._data
                rm *= 1 - m
                rm += m * mean
                rv *= 1 - m
                rv += m * var * (n / (n - 1))
                running_mean._bump_version()
                running_var._bump_version()
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when "
                         "training=False")
    centered = input - running_mean.reshape(shape)
    inv_std = (running_var.reshape(shape) + eps).rsqrt()
    # One full-size product with the per-channel scale 1/√(σ² + ε)·γ, as torch's kernel.
    out = centered * (inv_std if weight is None else inv_std * weight.reshape(shape))
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _constant(value: float, c: int, dtype: np.dtype) -> Tensor:
    return Tensor._wrap(np.full(c, value, dtype=dtype))


def layer_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
    bias: Tensor | None = None, eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β, with μ, σ² (biased) over the last len(normalized_shape)
    dims of each sample."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(
            f"layer_norm: normalized_shape {normalized_shape} must equal the last {k} dims of the "
            f"input, got input shape {tuple(input.shape)}"
        )
    dims = tuple(range(input.ndim - k, input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: y = x·m / (1 − p), m ~ Bernoulli(1 − p) from the global generator, so
    E[y] = x and evaluation needs no rescaling. Identity when not ``training`` or p = 0."""
    return _masked_dropout(input, p, training, tuple(input.shape))


def _masked_dropout(input: Tensor, p: float, training: bool, mask_shape: tuple) -> Tensor:
    """x·m / (1 − p) with m ~ Bernoulli(1 − p) of ``mask_shape`` (broadcast over ``input``)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = _dt.rng(None).random(mask_shape) >= p
    noise = keep.astype(input.dtype) / np.asarray(1.0 - p, dtype=input.dtype)
    return input * Tensor._wrap(noise)


def _feature_dropout(input: Tensor, p: float, training: bool) -> Tensor:
    """Channel dropout: one Bernoulli(1 − p) draw per (sample, channel), i.e. a mask of shape
    (N, C, 1, …, 1) broadcast over the rest, scaled by 1/(1 − p) (torch's feature_dropout)."""
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked_dropout(input, p, training, shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the kept ones by
    1/(1 − p): y[n, c, :] = x[n, c, :]·m[n, c]/(1 − p). Identity when not ``training``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input; dropout1d "
            f"drops channels of (N, C, L) or (C, L) inputs (use dropout for element-wise)"
        )
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim == 2 and training and p > 0:
        return _feature_dropout(input.unsqueeze(0), p, training).squeeze(0)
    return _feature_dropout(input, p, training)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p, scaling the kept ones by
    1/(1 − p): y[n, c] = x[n, c]·m[n, c]/(1 − p). As torch, a 3-D input is read as (N, C, L)
    (with torch's warning), and the mask always covers dims 0 and 1."""
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            f"will result in an error in a future release. To retain the behavior and silence "
            f"this warning, please use dropout instead.", stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. To maintain the 1D channel-wise dropout behavior, please switch "
            "to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training)
