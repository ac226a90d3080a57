"""Loss modules (formulas in ``nn.functional``); torch's names, signatures and defaults."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{reduction!r} is not a valid value for reduction; use 'mean', 'sum' or 'none'"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        # A buffer, as torch: it follows .to(dtype) and appears in state_dict.
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error: ℓ = (x − y)², reduced (mean by default)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ℓ = |x − y|, reduced."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """ℓ = ½(x − y)² if |x − y| < δ else δ·(|x − y| − ½δ)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class SSELoss(_Loss):
    """The notes' sum of squared errors with the ½: E = ½·Σ(y − ŷ)², so ∂E/∂ŷ = ŷ − y.

    The ½ is there so the derivative of the square loses its factor 2: backpropagation starts
    from the plain error (ŷ − y). Equals ½·MSELoss(reduction='sum'). ``reduction`` defaults to
    'sum' (that is E); 'mean' gives ½·MSE, 'none' the per-element ½(y − ŷ)². Not in torch.nn.
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.sse_loss(input, target, self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities (pair with LogSoftmax):
    ℓ_n = −w[y_n]·x[n, y_n]; 'mean' divides by Σw[y_n]. Targets equal to ``ignore_index`` are
    skipped."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of raw logits (N, C) or (N, C, d1, …) against class indices or class
    probabilities: ℓ_n = −Σ_c w_c·p[n, c]·log softmax(x_n)_c, computed stably through
    log_softmax. ``label_smoothing`` ε uses (1 − ε)·p + ε/C as the target."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities: ℓ = −w·(y·log x + (1 − y)·log(1 − x)), logs
    clamped at −100 as torch."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits, stable for any |x| (sigmoid folded into the loss):
    ℓ = (1 − y)·x + (1 + (p − 1)·y)·log(1 + e^(−x)), p = ``pos_weight`` (default 1)."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)
