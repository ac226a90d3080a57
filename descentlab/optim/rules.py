"""The first-order update rules: each method's math, written once, as pure functions on arrays.

Every rule has the shape ``rule(param, grad, state, *, hyperparameters, scratch=None)``: it updates
``param`` and the arrays of ``state`` in place, replaces the scalars of ``state`` (``step``,
``mu_product``) by their new values, and never writes to ``grad``. ``<rule>_init(param, ...)``
returns a fresh state. Arrays may have any shape (one tensor, a flat buffer of many, or a (K, d)
batch of start points); the arithmetic is element-wise, so a slice of the arrays gives the same
numbers as the whole, which is what lets the optimizers run a rule on a flat buffer in chunks.

The order of floating-point operations follows torch.optim's single-tensor CPU code, so float64
trajectories agree with it to rounding (torch fuses some multiply-adds; NumPy does not).
``scratch`` is an optional tuple of work arrays shaped like ``param`` (allocated when absent).

Example (Adam on a batch of 2-D points)::

    x = np.array([[-1.2, 1.0], [0.5, 0.5]]); st = adam_init(x)
    for _ in range(100):
        adam(x, grad_f(x), st, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = [
    "sgd", "sgd_init", "adagrad", "adagrad_init", "rmsprop", "rmsprop_init", "adadelta",
    "adadelta_init", "adam", "adam_init", "adamax", "adamax_init", "nadam", "nadam_init", "radam",
    "radam_init", "lion", "lion_init", "lookahead", "SCRATCH",
]

State = dict[str, Any]

# Work arrays each rule needs (the optimizers preallocate them once per chunk size).
SCRATCH = {"sgd": 2, "adagrad": 2, "rmsprop": 2, "adadelta": 3, "adam": 2, "adamax": 2,
           "nadam": 2, "radam": 2, "lion": 3}


def _work(param: np.ndarray, scratch: Sequence[np.ndarray] | None, n: int) -> list[np.ndarray]:
    if scratch is None:
        return [np.empty_like(param) for _ in range(n)]
    return list(scratch[:n])


def _effective_grad(param: np.ndarray, grad: np.ndarray, out: np.ndarray, weight_decay: float,
                    maximize: bool) -> np.ndarray:
    """g ← (−g if maximize) + λ·w (L2 decay); returns ``grad`` itself when nothing changes."""
    if weight_decay != 0:
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(grad, out, out=out)
        return out
    if maximize:
        return np.negative(grad, out=out)
    return grad


def _lerp_(a: np.ndarray, b: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """a ← a + weight·(b − a), evaluated from whichever end torch's lerp uses for this weight."""
    np.subtract(b, a, out=tmp)
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - weight
        np.subtract(b, tmp, out=a)


def _ema_sq_(v: np.ndarray, g: np.ndarray, beta: float, tmp: np.ndarray) -> None:
    """v ← β·v + (1−β)·g² (torch's mul_(β).addcmul_(g, g, value=1−β))."""
    v *= beta
    np.multiply(g, 1 - beta, out=tmp)
    tmp *= g
    v += tmp


def _addcdiv_(param: np.ndarray, num: np.ndarray, den: np.ndarray, value: float,
              tmp: np.ndarray) -> None:
    """w ← w + value·(num/den); ``tmp`` may be ``den``."""
    np.divide(num, den, out=tmp)
    tmp *= value
    param += tmp


# ---------------------------------------------------------------------------------------- SGD
def sgd_init(param: np.ndarray, momentum: float = 0.0) -> State:
    """Fresh SGD state: the step count and, with momentum, a velocity buffer."""
    state: State = {"step": 0.0}
    if momentum != 0:
        state["momentum_buffer"] = np.zeros_like(param)
    return state


def sgd(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float, momentum: float = 0.0,
        dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
        maximize: bool = False, scratch: Sequence[np.ndarray] | None = None) -> None:
    """Stochastic gradient descent with heavy-ball or Nesterov momentum.

        g ← ±g + λ·w;  b ← g (first step), b ← μ·b + (1−τ)·g (later);
        d ← g + μ·b (nesterov) or b (momentum) or g (plain);  w ← w − α·d
    """
    tmp, work = _work(param, scratch, 2)
    g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    state["step"] += 1
    if momentum != 0:
        buf = state["momentum_buffer"]
        if state["step"] == 1:
            np.copyto(buf, g)
        else:
            buf *= momentum
            if dampening:
                np.multiply(g, 1 - dampening, out=work)
                buf += work
            else:  # g·1 is exact, so skipping the pass changes no bit
                buf += g
        if nesterov:
            np.multiply(buf, momentum, out=work)
            np.add(g, work, out=work)
            g = work
        else:
            g = buf
    np.multiply(g, -lr, out=work)
    param += work


# ------------------------------------------------------------------------------------ Adagrad
def adagrad_init(param: np.ndarray, initial_accumulator_value: float = 0.0) -> State:
    """Fresh Adagrad state: step and the running sum of squared gradients."""
    return {"step": 0.0, "sum": np.full_like(param, initial_accumulator_value)}


def adagrad(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float,
            lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10,
            maximize: bool = False, scratch: Sequence[np.ndarray] | None = None) -> None:
    """Adagrad: per-coordinate steps shrinking with the accumulated squared gradient.

        g ← ±g + λ·w;  s ← s + g²;  α_t = α / (1 + (t−1)·η);  w ← w − α_t·g/(√s + ε)
    """
    tmp, den = _work(param, scratch, 2)
    state["step"] += 1
    g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    np.multiply(g, g, out=den)
    state["sum"] += den
    np.sqrt(state["sum"], out=den)
    den += eps
    _addcdiv_(param, g, den, -clr, den)


# ------------------------------------------------------------------------------------ RMSprop
def rmsprop_init(param: np.ndarray, momentum: float = 0.0, centered: bool = False) -> State:
    """Fresh RMSprop state: step, mean square, and optional velocity and mean gradient."""
    state: State = {"step": 0.0, "square_avg": np.zeros_like(param)}
    if momentum > 0:
        state["momentum_buffer"] = np.zeros_like(param)
    if centered:
        state["grad_avg"] = np.zeros_like(param)
    return state


def rmsprop(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float, alpha: float = 0.99,
            eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
            centered: bool = False, maximize: bool = False,
            scratch: Sequence[np.ndarray] | None = None) -> None:
    """RMSprop: divide by a running root mean square of the gradient.

        g ← ±g + λ·w;  v ← α·v + (1−α)·g²;  centered: ḡ ← α·ḡ + (1−α)·g, v̄ = v − ḡ²
        a = √v̄ + ε;  momentum: b ← μ·b + g/a, w ← w − lr·b;  else w ← w − lr·g/a
    """
    tmp, avg = _work(param, scratch, 2)
    g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    state["step"] += 1
    sq = state["square_avg"]
    _ema_sq_(sq, g, alpha, avg)
    if centered:
        ga = state["grad_avg"]
        _lerp_(ga, g, 1 - alpha, avg)
        np.multiply(ga, -1, out=avg)
        avg *= ga
        avg += sq
        np.sqrt(avg, out=avg)
    else:
        np.sqrt(sq, out=avg)
    avg += eps
    if momentum > 0:
        buf = state["momentum_buffer"]
        buf *= momentum
        np.divide(g, avg, out=avg)
        buf += avg
        np.multiply(buf, -lr, out=avg)
        param += avg
    else:
        _addcdiv_(param, g, avg, -lr, avg)


# ----------------------------------------------------------------------------------- Adadelta
def adadelta_init(param: np.ndarray) -> State:
    """Fresh Adadelta state: step, mean squared gradient, mean squared update."""
    return {"step": 0.0, "square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}


def adadelta(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float = 1.0,
             rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
             maximize: bool = False, scratch: Sequence[np.ndarray] | None = None) -> None:
    """Adadelta: unit-consistent steps from running averages of g² and Δw².

        g ← ±g + λ·w;  v ← ρ·v + (1−ρ)·g²;  Δ = √(u + ε)/√(v + ε)·g
        u ← ρ·u + (1−ρ)·Δ²;  w ← w − lr·Δ
    """
    tmp, std, delta = _work(param, scratch, 3)
    state["step"] += 1
    g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    sq, acc = state["square_avg"], state["acc_delta"]
    _ema_sq_(sq, g, rho, std)
    np.add(sq, eps, out=std)
    np.sqrt(std, out=std)
    np.add(acc, eps, out=delta)
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    _ema_sq_(acc, delta, rho, std)
    np.multiply(delta, -lr, out=delta)
    param += delta


# --------------------------------------------------------------------------- Adam and AdamW
def _adam_moments(param: np.ndarray, grad: np.ndarray, state: State, tmp: np.ndarray,
                  work: np.ndarray, lr: float, beta1: float, beta2: float, weight_decay: float,
                  decoupled: bool, maximize: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """The part Adam and its kin share: count the step, apply weight decay (decoupled:
    w ← w·(1 − α·λ); else g ← g + λ·w), then m ← β1·m + (1−β1)·g and v ← β2·v + (1−β2)·g².

    Returns (m, v, t); ``tmp`` holds the effective gradient afterwards, ``work`` is scratch.
    """
    state["step"] += 1
    if weight_decay != 0 and decoupled:
        param *= 1 - lr * weight_decay
        g = _effective_grad(param, grad, tmp, 0.0, maximize)
    else:
        g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    _lerp_(m, g, 1 - beta1, work)
    _ema_sq_(v, g, beta2, work)
    return m, v, state["step"]


def adam_init(param: np.ndarray, amsgrad: bool = False) -> State:
    """Fresh Adam state: step, first and second moments (and their running max for AMSGrad)."""
    state: State = {"step": 0.0, "exp_avg": np.zeros_like(param),
                    "exp_avg_sq": np.zeros_like(param)}
    if amsgrad:
        state["max_exp_avg_sq"] = np.zeros_like(param)
    return state


def adam(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float, beta1: float = 0.9,
         beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
         amsgrad: bool = False, maximize: bool = False, decoupled_weight_decay: bool = False,
         scratch: Sequence[np.ndarray] | None = None) -> None:
    """Adam (AdamW with ``decoupled_weight_decay``): steps scaled by moment estimates.

        AdamW: w ← w·(1 − α·λ);  Adam: g ← ±g + λ·w
        m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  AMSGrad: v ← max(v_max, v)
        m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);  w ← w − α·m̂/(√v̂ + ε)
    """
    tmp, den = _work(param, scratch, 2)
    m, v, step = _adam_moments(param, grad, state, tmp, den, lr, beta1, beta2, weight_decay,
                               decoupled_weight_decay, maximize)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    if amsgrad:
        np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        v = state["max_exp_avg_sq"]
    np.sqrt(v, out=den)
    den /= bias_correction2_sqrt
    den += eps
    _addcdiv_(param, m, den, -step_size, den)


# ------------------------------------------------------------------------------------- Adamax
def adamax_init(param: np.ndarray) -> State:
    """Fresh Adamax state: step, first moment, exponentially weighted infinity norm."""
    return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}


def adamax(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float, beta1: float = 0.9,
           beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
           maximize: bool = False, scratch: Sequence[np.ndarray] | None = None) -> None:
    """Adamax: Adam with the infinity norm in place of the second moment.

        g ← ±g + λ·w;  m ← β1·m + (1−β1)·g;  u ← max(β2·u, |g| + ε)
        w ← w − α/(1−β1ᵗ)·m/u
    """
    tmp, work = _work(param, scratch, 2)
    g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    state["step"] += 1
    m, u = state["exp_avg"], state["exp_inf"]
    _lerp_(m, g, 1 - beta1, work)
    u *= beta2
    np.abs(g, out=work)
    work += eps
    np.maximum(u, work, out=u)
    clr = lr / (1 - beta1 ** state["step"])
    _addcdiv_(param, m, u, -clr, work)


# -------------------------------------------------------------------------------------- NAdam
def nadam_init(param: np.ndarray) -> State:
    """Fresh NAdam state: step, running product of momentum coefficients, both moments."""
    return {"step": 0.0, "mu_product": 1.0, "exp_avg": np.zeros_like(param),
            "exp_avg_sq": np.zeros_like(param)}


def nadam(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float, beta1: float = 0.9,
          beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
          momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
          maximize: bool = False, scratch: Sequence[np.ndarray] | None = None) -> None:
    """NAdam: Adam with Nesterov momentum and Dozat's momentum schedule.

        μ_t = β1·(1 − ½·0.96^(t·ψ));  Π_t = Π_{t−1}·μ_t
        g ← ±g + λ·w (or w ← w·(1 − α·λ) decoupled);  m, v as Adam;  v̂ = v/(1−β2ᵗ)
        w ← w − α·(1−μ_t)/(1−Π_t)·g/(√v̂+ε) − α·μ_{t+1}/(1−Π_t·μ_{t+1})·m/(√v̂+ε)
    """
    tmp, den = _work(param, scratch, 2)
    state["step"] += 1
    step = state["step"]
    bias_correction2 = 1 - beta2 ** step
    if weight_decay != 0 and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
        g = _effective_grad(param, grad, tmp, 0.0, maximize)
    else:
        g = _effective_grad(param, grad, tmp, weight_decay, maximize)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product = state["mu_product"] * mu
    state["mu_product"] = mu_product
    m, v = state["exp_avg"], state["exp_avg_sq"]
    _lerp_(m, g, 1 - beta1, den)
    _ema_sq_(v, g, beta2, den)
    np.divide(v, bias_correction2, out=den)
    np.sqrt(den, out=den)
    mu_product_next = mu_product * mu_next
    den += eps
    # The second addcdiv needs den again, so the first quotient goes into tmp (g is done then).
    np.divide(g, den, out=tmp)
    tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
    param += tmp
    _addcdiv_(param, m, den, (-lr * mu_next) / (1.0 - mu_product_next), den)


# -------------------------------------------------------------------------------------- RAdam
def radam_init(param: np.ndarray) -> State:
    """Fresh RAdam state: step and both moments."""
    return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}


def radam(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float, beta1: float = 0.9,
          beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
          decoupled_weight_decay: bool = False, maximize: bool = False,
          scratch: Sequence[np.ndarray] | None = None) -> None:
    """RAdam: Adam whose adaptive step is switched on once its variance is tractable.

        m, v as Adam;  ρ∞ = 2/(1−β2) − 1;  ρ_t = ρ∞ − 2t·β2ᵗ/(1−β2ᵗ);  m̂ = m/(1−β1ᵗ)
        ρ_t > 5: r = √((ρ_t−4)(ρ_t−2)ρ∞/((ρ∞−4)(ρ∞−2)ρ_t)),  w ← w − α·m̂·√(1−β2ᵗ)/(√v+ε)·r
        else:    w ← w − α·m̂
    """
    tmp, work = _work(param, scratch, 2)
    m, v, step = _adam_moments(param, grad, state, tmp, work, lr, beta1, beta2, weight_decay,
                               decoupled_weight_decay, maximize)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    np.divide(m, bias_correction1, out=tmp)
    tmp *= lr
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    if rho_t > 5.0:
        np.sqrt(v, out=work)
        work += eps
        np.divide(bias_correction2 ** 0.5, work, out=work)
        tmp *= work
        tmp *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    param -= tmp


# --------------------------------------------------------------------------------------- Lion
def lion_init(param: np.ndarray) -> State:
    """Fresh Lion state: step and the momentum."""
    return {"step": 0.0, "exp_avg": np.zeros_like(param)}


def lion(param: np.ndarray, grad: np.ndarray, state: State, *, lr: float = 1e-4,
         beta1: float = 0.9, beta2: float = 0.99, weight_decay: float = 0.0,
         maximize: bool = False, scratch: Sequence[np.ndarray] | None = None) -> None:
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), Algorithm 2.

        c = β1·m + (1−β1)·g;  w ← w − α·(sign(c) + λ·w);  m ← β2·m + (1−β2)·g
    """
    tmp, c, work = _work(param, scratch, 3)
    g = _effective_grad(param, grad, tmp, 0.0, maximize)
    state["step"] += 1
    m = state["exp_avg"]
    np.multiply(m, beta1, out=c)
    np.multiply(g, 1 - beta1, out=work)
    c += work
    np.sign(c, out=c)
    if weight_decay != 0:
        np.multiply(param, weight_decay, out=work)
        c += work
    c *= lr
    param -= c
    m *= beta2
    np.multiply(g, 1 - beta2, out=work)
    m += work


# ---------------------------------------------------------------------------------- Lookahead
def lookahead(fast: np.ndarray, slow: np.ndarray, *, alpha: float = 0.5) -> None:
    """Lookahead's synchronisation every k inner steps (Zhang et al. 2019, Algorithm 1).

        φ ← φ + α·(θ − φ);  θ ← φ
    """
    np.subtract(fast, slow, out=fast)
    fast *= alpha
    slow += fast
    np.copyto(fast, slow)
