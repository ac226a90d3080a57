"""First-order optimizers: torch.optim's SGD ... RAdam, plus Lion and Lookahead.

Each class is a declaration: its torch-compatible signature and defaults, the rule of
``rules.py`` it runs (with the hyperparameters that rule and its state take) and the ranges of
its hyperparameters. ``engine.RuleOptimizer`` runs it (flat buffers, chunks, threads, the
one-pass fast path; see ``engine``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd.tensor import Tensor
from . import rules
from .engine import RuleOptimizer
from .optimizer import Optimizer, Range, check_hyperparameter

__all__ = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "Lion", "Lookahead"]

# The ranges of the hyperparameters the classes share (torch's checks, plus: finite).
_NONNEG = Range()
_BETAS = Range(0.0, 1.0, open_high=True)
_COMMON = {"lr": _NONNEG, "eps": _NONNEG, "weight_decay": _NONNEG}
_ADAM_LIKE = dict(_COMMON, betas=_BETAS)


class SGD(RuleOptimizer):
    """Stochastic gradient descent, with heavy-ball or Nesterov momentum (as torch.optim.SGD).

        g ← ∇f(w) (−∇f(w) if maximize) + λ·w
        momentum μ > 0:  b ← g on the first step, then b ← μ·b + (1−τ)·g
                         d ← g + μ·b (nesterov) or d ← b
        w ← w − α·d

    Plain gradient descent is ``SGD(params, lr)`` on full-batch gradients; stochastic and
    mini-batch SGD are the same with a shuffling DataLoader.

    Args:
        params: parameters or parameter groups.
        lr: step size α. momentum: μ. dampening: τ. weight_decay: L2 coefficient λ.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        flat: update all parameters of a group as one flat buffer (same numbers, faster).
    Differences from torch: the state also holds ``step``.
    """

    _ranges = dict(_COMMON, momentum=_NONNEG, dampening=Range(-math.inf))

    rule = "sgd"
    init_arguments = ("momentum",)
    rule_arguments = ("lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize")
    onepass = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, flat: bool = True) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening; pass "
                             "momentum > 0 and dampening=0, or nesterov=False")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize), flat)


class Adagrad(RuleOptimizer):
    """Adagrad (Duchi et al. 2011), as torch.optim.Adagrad.

        g ← ±∇f(w) + λ·w;  s ← s + g²;  α_t = α/(1 + (t−1)·η);  w ← w − α_t·g/(√s + ε)

    Args: lr α, lr_decay η, weight_decay λ, initial_accumulator_value s₀, eps ε, maximize, flat.
    """

    _ranges = dict(_COMMON, lr_decay=_NONNEG, initial_accumulator_value=_NONNEG)

    rule = "adagrad"
    init_arguments = ("initial_accumulator_value",)
    rule_arguments = ("lr", "lr_decay", "eps", "weight_decay", "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize), flat)


class RMSprop(RuleOptimizer):
    """RMSprop (Hinton 2012; centered as Graves 2013), as torch.optim.RMSprop.

        g ← ±∇f(w) + λ·w;  v ← a·v + (1−a)·g²
        centered: ḡ ← a·ḡ + (1−a)·g and v̄ = v − ḡ², else v̄ = v;  d = g/(√v̄ + ε)
        momentum μ > 0: b ← μ·b + d, w ← w − α·b;  else w ← w − α·d

    Args: lr α, alpha a, eps ε, weight_decay λ, momentum μ, centered, maximize, flat.
    """

    _ranges = dict(_COMMON, alpha=_NONNEG, momentum=_NONNEG)

    rule = "rmsprop"
    init_arguments = ("momentum", "centered")
    rule_arguments = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered",
                      "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      maximize=maximize), flat)


class Adadelta(RuleOptimizer):
    """Adadelta (Zeiler 2012), as torch.optim.Adadelta.

        g ← ±∇f(w) + λ·w;  v ← ρ·v + (1−ρ)·g²;  Δ = √(u + ε)/√(v + ε)·g
        u ← ρ·u + (1−ρ)·Δ²;  w ← w − α·Δ

    Args: lr α, rho ρ, eps ε, weight_decay λ, maximize, flat.
    """

    _ranges = dict(_COMMON, rho=Range(0.0, 1.0))

    rule = "adadelta"
    init_arguments = ()
    rule_arguments = ("lr", "rho", "eps", "weight_decay", "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, *, maximize: bool = False,
                 flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), flat)


class Adam(RuleOptimizer):
    """Adam (Kingma & Ba 2015), weight decay as L2 (AMSGrad optional), as torch.optim.Adam.

        g ← ±∇f(w) + λ·w   (decoupled_weight_decay: w ← w·(1 − α·λ) instead)
        m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  AMSGrad: v ← max(v_max, v)
        m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);  w ← w − α·m̂/(√v̂ + ε)

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, amsgrad, maximize,
    decoupled_weight_decay (AdamW), flat.
    """

    _ranges = _ADAM_LIKE

    rule = "adam"
    init_arguments = ("amsgrad",)
    rule_arguments = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize",
                      "decoupled_weight_decay")
    onepass = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay), flat)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, as torch.optim.AdamW.

        w ← w·(1 − α·λ);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
        m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);  w ← w − α·m̂/(√v̂ + ε)

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ (default 1e-2), amsgrad, maximize, flat.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 flat: bool = True) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, flat=flat)


class Adamax(RuleOptimizer):
    """Adamax (Kingma & Ba 2015, §7.1), as torch.optim.Adamax.

        g ← ±∇f(w) + λ·w;  m ← β1·m + (1−β1)·g;  u ← max(β2·u, |g| + ε)
        w ← w − α/(1−β1ᵗ)·m/u

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, maximize, flat.
    """

    _ranges = _ADAM_LIKE

    rule = "adamax"
    init_arguments = ()
    rule_arguments = ("lr", "betas", "eps", "weight_decay", "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), flat)


class NAdam(RuleOptimizer):
    """NAdam (Dozat 2016): Adam with Nesterov momentum, as torch.optim.NAdam.

        μ_t = β1·(1 − ½·0.96^(t·ψ));  Π_t = Π_{t−1}·μ_t
        g ← ±∇f(w) + λ·w (decoupled_weight_decay: w ← w·(1 − α·λ));  m, v as in Adam
        v̂ = v/(1−β2ᵗ);  w ← w − α(1−μ_t)/(1−Π_t)·g/(√v̂+ε) − α·μ_{t+1}/(1−Π_t·μ_{t+1})·m/(√v̂+ε)

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, momentum_decay ψ, decoupled_weight_decay,
    maximize, flat. ``mu_product`` is kept in float64 (torch keeps it in its default dtype).
    """

    _ranges = dict(_ADAM_LIKE, momentum_decay=_NONNEG)

    rule = "nadam"
    init_arguments = ()
    rule_arguments = ("lr", "betas", "eps", "weight_decay", "momentum_decay",
                      "decoupled_weight_decay", "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), flat)


class RAdam(RuleOptimizer):
    """RAdam (Liu et al. 2020): Adam with a rectified adaptive step, as torch.optim.RAdam.

        g ← ±∇f(w) + λ·w (decoupled_weight_decay: w ← w·(1 − α·λ));  m, v as in Adam
        ρ∞ = 2/(1−β2) − 1;  ρ_t = ρ∞ − 2t·β2ᵗ/(1−β2ᵗ);  m̂ = m/(1−β1ᵗ)
        ρ_t > 5: r_t = √((ρ_t−4)(ρ_t−2)ρ∞/((ρ∞−4)(ρ∞−2)ρ_t)), w ← w − α·m̂·r_t·√(1−β2ᵗ)/(√v+ε)
        else:    w ← w − α·m̂

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, decoupled_weight_decay, maximize, flat.
    """

    _ranges = _ADAM_LIKE

    rule = "radam"
    init_arguments = ()
    rule_arguments = ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), flat)


class Lion(RuleOptimizer):
    """Lion, EvoLved Sign Momentum (Chen et al. 2023, Algorithm 2); not in torch.optim.

        c = β1·m + (1−β1)·g;  w ← w − α·(sign(c) + λ·w);  m ← β2·m + (1−β2)·g

    The sign makes every coordinate move by exactly α, so use an lr 3-10x smaller than AdamW's
    and a weight decay λ 3-10x larger (the paper's advice).

    Args: lr α (default 1e-4), betas (β1, β2) (default (0.9, 0.99)), weight_decay λ, maximize, flat.
    """

    _ranges = _ADAM_LIKE

    rule = "lion"
    init_arguments = ()
    rule_arguments = ("lr", "betas", "weight_decay", "maximize")

    def __init__(self, params: Iterable[Any], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0, *,
                 maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize), flat)


class Lookahead(Optimizer):
    """Lookahead (Zhang et al. 2019): k fast steps of any optimizer, then pull back toward slow
    weights.

        θ ← inner optimizer step (k times);  φ ← φ + α·(θ − φ);  θ ← φ      (φ₀ = θ₀)

    ``param_groups`` are the inner optimizer's (so lr schedulers drive it); ``state[p]`` holds
    ``slow_param``; ``state_dict`` holds both optimizers' states.

    Args:
        optimizer: the inner ("fast") optimizer, e.g. ``Adam(model.parameters())``.
        k: inner steps between synchronisations (>= 1). alpha: slow step size α in [0, 1].
    """

    def __init__(self, optimizer: Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Lookahead wraps an optimizer, got {type(optimizer).__name__}; "
                            "pass e.g. Lookahead(Adam(model.parameters()))")
        check_hyperparameter("Lookahead", "k", k, Range(1, integer=True), 5)
        check_hyperparameter("Lookahead", "alpha", alpha, Range(0.0, 1.0), 0.5)
        self.optimizer = optimizer
        self.k = int(k)
        self.alpha = float(alpha)
        self.defaults = optimizer.defaults
        self.param_groups = optimizer.param_groups
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._step = 0
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"slow_param": Tensor._wrap(p._data.copy())}

    def __repr__(self) -> str:
        return f"Lookahead(k={self.k}, alpha={self.alpha}, optimizer={self.optimizer!r})"

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.optimizer.add_param_group(param_group)
        for p in self.optimizer.param_groups[-1]["params"]:
            self.state[p] = {"slow_param": Tensor._wrap(p._data.copy())}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One inner step; every k-th also moves the slow weights and resets the fast ones."""
        loss = self.optimizer.step(closure)
        self._step += 1
        if self._step % self.k == 0:
            for group in self.param_groups:
                for p in group["params"]:
                    rules.lookahead(p._data, self.state[p]["slow_param"]._data, alpha=self.alpha)
                    p._vbox[0] += 1
        return loss

    def state_dict(self) -> dict[str, Any]:
        """``{'optimizer': inner state, 'lookahead': {'step', 'k', 'alpha', 'slow': {i: w}}}``."""
        params = [p for g in self.param_groups for p in g["params"]]
        return {"optimizer": self.optimizer.state_dict(),
                "lookahead": {"step": self._step, "k": self.k, "alpha": self.alpha,
                              "slow": {i: Tensor._wrap(self.state[p]["slow_param"]._data.copy())
                                       for i, p in enumerate(params)}}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict["optimizer"])
        self.param_groups = self.optimizer.param_groups
        la = state_dict["lookahead"]
        self._step, self.k, self.alpha = la["step"], la["k"], la["alpha"]
        params = [p for g in self.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            slow = la["slow"][i]
            arr = slow._data if isinstance(slow, Tensor) else np.asarray(slow)
            self.state[p] = {"slow_param": Tensor._wrap(np.array(arr, dtype=p.dtype))}
