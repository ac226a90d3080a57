"""Loss modules (formulas in ``nn.functional``); torch's names, signatures and defaults."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "SSELoss", "CrossEntropyLoss", "NLLLoss",
    "BCELoss", "BCEWithLogitsLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """Base of the losses; ``size_average`` / ``reduce`` are torch's deprecated spelling of
    ``reduction``: when either is given it decides, mapped as torch (with torch's warning)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F.legacy_reduction(size_average, reduce)
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{reduction!r} is not a valid value for reduction; use 'mean', 'sum' or 'none'"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        # A buffer, as torch: it follows .to(dtype) and appears in state_dict.
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error: ℓ = (x − y)², reduced (mean by default)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ℓ = |x − y|, reduced."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """ℓ = ½(x − y)²/β if |x − y| < β else |x − y| − ½β (β = 0: L1), as ``torch.nn.SmoothL1Loss``.
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """ℓ = ½(x − y)² if |x − y| < δ else δ·(|x − y| − ½δ)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SSELoss(_Loss):
    """The notes' sum of squared errors with the ½: E = ½·Σ(y − ŷ)², so ∂E/∂ŷ = ŷ − y.

    The ½ is there so the derivative of the square loses its factor 2: backpropagation starts
    from the plain error (ŷ − y). Equals ½·MSELoss(reduction='sum'). ``reduction`` defaults to
    'sum' (that is E); 'mean' gives ½·MSE, 'none' the per-element ½(y − ŷ)². Not in torch.nn.
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.sse_loss(input, target, self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities (pair with LogSoftmax):
    ℓ_n = −w[y_n]·x[n, y_n]; 'mean' divides by Σw[y_n]. Targets equal to ``ignore_index`` are
    skipped."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of raw logits (N, C) or (N, C, d1, …) against class indices or class
    probabilities: ℓ_n = −Σ_c w_c·p[n, c]·log softmax(x_n)_c, computed stably through
    log_softmax. ``label_smoothing`` ε uses (1 − ε)·p + ε/C as the target."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities: ℓ = −w·(y·log x + (1 − y)·log(1 − x)), logs
    clamped at −100 as torch."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits, stable for any |x| (sigmoid folded into the loss):
    ℓ = (1 − y)·x + (1 + (p − 1)·y)·log(1 + e^(−x)), p = ``pos_weight`` (default 1)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
