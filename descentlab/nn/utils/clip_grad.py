"""Gradient clipping (``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``)."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ...autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _params(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    # A list, not the iterable: model.parameters() is a generator that can be walked only once.
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
    error_if_nonfinite: bool = False, foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm``, in place.

    total = ‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p (the p-norm of all gradients as one vector; p = inf is the
    largest |g|); every g ← g·min(1, max_norm / (total + 1e-6)).

    Returns:
        the total norm before clipping, as a 0-d Tensor (log it to watch for explosions).
    Raises:
        RuntimeError: if ``error_if_nonfinite`` and the total norm is NaN or inf.
    """
    params = _params(parameters)
    grads = [p.grad._data for p in params if p.grad is not None]
    if not grads:
        return Tensor._wrap(np.asarray(0.0))
    norm_type = float(norm_type)
    dtype = grads[0].dtype
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        norms = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads])
        total = float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. Lower the learning rate, find the op making "
            f"NaN/Inf (descentlab.autograd.detect_anomaly), or pass error_if_nonfinite=False."
        )
    # As torch: always multiply by the clamped coefficient (1.0 when within the limit).
    coef = np.asarray(min(max_norm / (total + 1e-6), 1.0), dtype=dtype)
    for p in params:
        if p.grad is not None:
            np.multiply(p.grad._data, coef, out=p.grad._data, casting="unsafe")
            p.grad._bump_version()
    return Tensor._wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient entry to [−clip_value, clip_value], in place."""
    params = _params(parameters)
    for p in params:
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._bump_version()
