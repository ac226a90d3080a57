"""Losses: regression (mse, l1, smooth l1, Huber, the notes' ½·SSE), classification (nll,
cross-entropy with the fused rows node, binary cross-entropy), and torch's reduction arguments."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...autograd.function import named_node as _named_node
from ...autograd.graph import label as _label
from ...autograd.ops.nn import CrossEntropyRows
from ...autograd.tensor import Tensor, where

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "sse_loss", "cross_entropy",
    "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"{reduction!r} is not a valid value for reduction; use 'mean', 'sum' or 'none'"
        )


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's mapping of the deprecated ``size_average`` / ``reduce`` pair to ``reduction``
    (None counts as True): both True → 'mean'; reduce only → 'sum'; reduce=False → 'none'.
    Warns, as torch does, that the pair is deprecated."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    return legacy_reduction(size_average, reduce)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _same_shape(input: Tensor, target: Any, op: str) -> Tensor:
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: target shape {tuple(target.shape)} differs from input shape "
            f"{tuple(input.shape)}; reshape one (e.g. target.reshape(input.shape) or "
            f"input.squeeze(-1)). PyTorch would broadcast here, which silently computes a "
            f"different loss."
        )
    return target


@_named_node("MseLossBackward0")
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """(x − y)², reduced (mean by default). ``size_average`` / ``reduce`` are torch's
    deprecated spelling of ``reduction`` (mapped as torch, with its warning)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """|x − y|, reduced (``size_average`` / ``reduce``: deprecated, as in mse_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


@_named_node("SmoothL1LossBackward0")
def smooth_l1_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
    reduction: str = "mean", beta: float = 1.0,
) -> Tensor:
    """½(x − y)²/β where |x − y| < β, else |x − y| − ½β: L1 with the kink smoothed (= Huber/β);
    β = 0 is plain L1. ``size_average`` / ``reduce``: deprecated, as in mse_loss."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "smooth_l1_loss")
    d = input - target
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta), reduction)


@_named_node("HuberLossBackward0")
def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
) -> Tensor:
    """½(x − y)² where |x − y| < δ, else δ·(|x − y| − ½δ): quadratic near 0, linear in the tails."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _same_shape(input, target, "huber_loss")
    d = input - target
    a = d.abs()
    return _reduce(where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


def sse_loss(input: Tensor, target: Tensor, reduction: str = "sum") -> Tensor:
    """The study notes' squared error with the ½: E = ½·Σ(y − ŷ)², so ∂E/∂ŷ = ŷ − y.

    The ½ cancels the 2 from differentiating the square, leaving the plain error as the gradient.
    ``reduction='sum'`` (default) is E; 'mean' divides by the number of elements (½·MSE);
    'none' gives ½(y − ŷ)² per element.
    """
    target = _same_shape(input, target, "sse_loss")
    d = input - target
    return _reduce(0.5 * (d * d), reduction)


def _class_targets(input: Tensor, target: Tensor, ignore_index: int, op: str) -> tuple:
    """Validated (log-probs as (M, C), targets as (M,) int array, their original shape)."""
    if input.ndim < 1:
        raise ValueError(f"{op}: input must have a class dim, got a scalar")
    batch_shape = tuple(input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: class-index targets must be an integer tensor, got dtype {t.dtype}; use "
            f"target.long() (or pass class probabilities of the input's shape to cross_entropy)"
        )
    if tuple(t.shape) != batch_shape:
        raise ValueError(
            f"{op}: target shape {tuple(t.shape)} does not match input shape "
            f"{tuple(input.shape)}; expected target shape {batch_shape} (the input without its "
            f"class dim 1)"
        )
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    flat_t = t.reshape(-1)
    bad = (flat_t != ignore_index) & ((flat_t < 0) | (flat_t >= c))
    if bad.any():
        raise ValueError(
            f"{op}: target class {int(flat_t[bad][0])} is out of range for input of shape "
            f"{tuple(input.shape)} with {c} classes; targets must be in [0, {c - 1}] (or equal "
            f"ignore_index={ignore_index})"
        )
    if input.ndim == 1:
        lp = input.reshape(1, c)
    elif input.ndim == 2:
        lp = input
    else:
        lp = input.permute(0, *range(2, input.ndim), 1).reshape(-1, c)
    return lp, flat_t, batch_shape


def _check_weight(weight: Tensor | None, c: int, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one per class), got {w.shape}")
    return w


def _nll(lp: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int, reduction: str,
         batch_shape: tuple) -> Tensor:
    _check_reduction(reduction)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    per_row = (w[safe] if w is not None else np.ones(t.shape)) * valid
    if reduction == "mean":
        per_row = per_row / per_row.sum()
    # Picking x[n, y_n] as a product with a constant one-hot mask (weights and the mean's 1/Σw
    # folded in) keeps the backward a product too: no scatter-add on the training hot path, and
    # a reduced loss is just two ops.
    mask = np.zeros(lp.shape, dtype=lp.dtype)
    mask[np.arange(t.size), safe] = -per_row
    picked = lp * Tensor._wrap(mask)
    if reduction == "none":
        return picked.sum(1).reshape(batch_shape)
    return picked.sum()


def _nll_name(ndim: int, reduction: str) -> str:
    """torch's node name for a class-index loss: ``NllLossBackward0`` for (C,) and (N, C) inputs,
    the 2-D kernel's for inputs with spatial dims; 3-D and 5-D ones come back through a view
    when they are not reduced."""
    if ndim <= 2:
        return "NllLossBackward0"
    if ndim != 4 and reduction == "none":
        return "ViewBackward0"
    return "NllLoss2DBackward0"


def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities:
    ℓ_n = −w[y_n]·x[n, y_n]; 'mean' divides Σℓ_n by Σw[y_n] (over non-ignored n).

    Args:
        input: log-probabilities (N, C), (N, C, d1, …) or (C,).
        target: int class indices (N,), (N, d1, …) or (); ``ignore_index`` entries count for
            nothing.
        size_average, reduce: deprecated spelling of ``reduction`` (mapped as torch).
    """
    reduction = _reduction(size_average, reduce, reduction)
    lp, t, batch_shape = _class_targets(input, target, ignore_index, "nll_loss")
    w = _check_weight(weight, lp.shape[1], "nll_loss")
    return _label(_nll(lp, t, w, ignore_index, reduction, batch_shape),
                  _nll_name(input.ndim, reduction))


def _cross_entropy_rows(input: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int,
                        reduction: str) -> Tensor:
    """The common case of cross_entropy — (N, C) logits, class indices — as one fused node."""
    _check_reduction(reduction)
    n, c = input._data.shape
    if t.shape != (n,):
        raise ValueError(
            f"cross_entropy: target shape {tuple(t.shape)} does not match input shape "
            f"{tuple(input.shape)}; expected target shape ({n},) (the input without its class "
            f"dim 1)"
        )
    valid = None
    if t.dtype.kind == "i":  # negative targets wrap to huge unsigned values: one max checks both
        in_range = n == 0 or int(np.maximum.reduce(t.view(t.dtype.str.replace("i", "u")))) < c
    else:
        in_range = n == 0 or int(np.maximum.reduce(t)) < c
    if in_range and not 0 <= ignore_index < c:
        all_valid, safe = True, t  # every target is a class: nothing to check or mask
    else:
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= c))
        if bad.any():
            raise ValueError(
                f"cross_entropy: target class {int(t[bad][0])} is out of range for input of "
                f"shape {tuple(input.shape)} with {c} classes; targets must be in [0, {c - 1}] "
                f"(or equal ignore_index={ignore_index})"
            )
        all_valid = bool(valid.all())
        safe = t if all_valid else np.where(valid, t, 0)
    rows: Any
    if w is None and all_valid:
        rows = 1.0 / n if reduction == "mean" else 1.0
        if reduction == "none":
            rows = np.ones(n, dtype=np.float64)
    else:
        rows = w[safe].astype(np.float64) if w is not None else np.ones(n)
        if valid is not None and not all_valid:
            rows = rows * valid
        if reduction == "mean":
            rows = rows / rows.sum()
    return CrossEntropyRows.apply(input, target=safe, rows=rows, per_row=reduction == "none")


def cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
    reduction: str = "mean", label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits: nll_loss(log_softmax(x, 1), y), stable for any logit size.

    With class probabilities p (a float target of the input's shape):
    ℓ_n = −Σ_c w_c·p[n, c]·log_softmax(x)[n, c], 'mean' dividing by N.
    ``label_smoothing`` ε mixes the target with the uniform distribution:
    p ← (1 − ε)·p + ε/C (for indices: (1 − ε)·nll + ε/C·Σ_c −w_c·log_softmax(x)_c, as torch).
    An empty batch gives what torch 2.x gives: 'mean' → nan (0 terms / 0), 'sum' → 0,
    'none' → an empty tensor; the gradient is then empty too.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"cross_entropy(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}; wrap it with descentlab.tensor(...)")
    t_data = target._data if isinstance(target, Tensor) else np.asarray(target)
    x = input._data
    if (label_smoothing == 0 and x.ndim == 2 and t_data.dtype.kind in "iu"
            and (x.size or reduction != "mean")):
        # The common case: one fused node, which torch's names table calls NllLossBackward0.
        w = _check_weight(weight, x.shape[1], "cross_entropy")
        return _cross_entropy_rows(input, t_data, w, ignore_index, reduction)
    return _cross_entropy_composite(input, target, t_data, weight, ignore_index, reduction,
                                    label_smoothing)


def _cross_entropy_composite(input: Tensor, target: Any, t_data: np.ndarray, weight: Any,
                             ignore_index: int, reduction: str, label_smoothing: float) -> Tensor:
    """cross_entropy built from log_softmax: soft targets, label smoothing, other shapes; the
    result's node carries torch's name for the same case."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if reduction == "mean" and input.numel() == 0:
        # The mean of no terms is 0/0: NaN, on the graph (and the inputs checked) by way of the
        # sum, so backward gives the (empty) gradient.
        nan = cross_entropy(input, target, weight, ignore_index, "sum", label_smoothing) * math.nan
        return _label(nan, "NegBackward0" if t_data.dtype.kind == "f" else _nll_name(input.ndim,
                                                                                     "mean"))
    class_dim = 1 if input.ndim > 1 else 0
    c = input.shape[class_dim]
    w = _check_weight(weight, c, "cross_entropy")
    lsm = input.log_softmax(class_dim)
    if t_data.dtype.kind == "f":
        target = _same_shape(input, target, "cross_entropy (class-probability target)")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = lsm * target
        if w is not None:
            wshape = (1,) * class_dim + (c,) + (1,) * (input.ndim - class_dim - 1)
            prod = prod * Tensor._wrap(w.reshape(wshape))
        losses = -prod.sum(class_dim)
        # torch's last node: the mean's division by N, else the negation
        if reduction == "mean":
            return _label(losses.sum() / (input.numel() // c), "DivBackward1")
        return _label(_reduce(losses, reduction), "NegBackward0")
    lp, t, batch_shape = _class_targets(lsm, target, ignore_index, "cross_entropy")
    nll = _nll(lp, t, w, ignore_index, reduction, batch_shape)
    if label_smoothing == 0:
        return _label(nll, _nll_name(input.ndim, reduction))
    valid = t != ignore_index
    wc = Tensor._wrap(w) if w is not None else None
    smooth = -(lp * wc).sum(1) if wc is not None else -lp.sum(1)
    smooth = smooth * Tensor._wrap(valid.astype(lp.dtype))
    if reduction == "mean":
        denom = w[t[valid]].sum() if w is not None else valid.sum()
        ret = smooth.sum() / Tensor._wrap(np.asarray(denom, dtype=lp.dtype))
    elif reduction == "none":
        ret = smooth.reshape(batch_shape)
    else:
        ret = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


def _log_clamped(x: Tensor) -> Tensor:
    """max(log x, −100), with log never evaluated at 0 so neither value nor gradient is inf/NaN
    (the gradient is 0 where the clamp is active; torch's hand-written one is (x−y)/1e-12)."""
    positive = x > 0
    return where(positive, where(positive, x, 1.0).log(), -100.0).clamp(min=-100)


@_named_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:
    """ℓ = −w·(y·log x + (1 − y)·log(1 − x)) for probabilities x; each log is clamped at −100
    (as torch) so x = 0 or 1 gives a large finite loss, not inf. ``size_average`` / ``reduce``:
    deprecated spelling of ``reduction``."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "binary_cross_entropy")
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1 (got min "
            f"{x.min():.4g}, max {x.max():.4g}); apply sigmoid first or use "
            f"binary_cross_entropy_with_logits"
        )
    loss = -(target * _log_clamped(input) + (1 - target) * _log_clamped(1 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_named_node("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of σ(x) computed from the logits x without forming σ (stable for any |x|):
    ℓ = (1 − y)·x + (1 + (p − 1)·y)·(log(1 + e^(−|x|)) + max(−x, 0)), p = ``pos_weight``
    (weighs the positive term; one per class, broadcast along the last dim). ``size_average`` /
    ``reduce``: deprecated spelling of ``reduction``."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    softplus_neg = (-input.abs()).exp().log1p() + (-input).relu()  # log(1 + e^(−x)), stably
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
