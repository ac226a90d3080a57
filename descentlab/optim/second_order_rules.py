"""The second-order update rules: pure functions on arrays, batched over leading axes.

Like ``rules.py`` for the first-order methods, this is where the math of Newton, BFGS and
Newton-CG is written once. ``second_order``'s closure-driven classes call these on one flat
vector (shape (n,)); the lab's trajectories call them on a (K, d) batch of start points (Hessians
and inverse-Hessian estimates then stacked as (K, d, d)).

    Newton:     d = −(H + μI)⁻¹·∇f = −Q·diag(1/(λ + μ))·Qᵀ·∇f,   H = Q·diag(λ)·Qᵀ
    BFGS:       H⁻¹ ← (I − ρ·s·yᵀ)·H⁻¹·(I − ρ·y·sᵀ) + ρ·s·sᵀ,   ρ = 1/(yᵀs)
    Newton-CG:  d ≈ −H⁻¹·∇f by conjugate gradient on H·d = −∇f, with Hessian-vector products
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["hessian_eigen", "levenberg_marquardt_shift", "newton_direction",
           "newton_direction_from_eigen", "bfgs_direction", "bfgs_update", "newton_cg_direction"]

#: Relative size below which an eigenvalue of H + μI counts as zero (np.linalg.pinv's rcond).
PINV_RCOND = 1e-15


def hessian_eigen(hessian: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(λ, Q) with (H + Hᵀ)/2 = Q·diag(λ)·Qᵀ, λ ascending; H is (..., n, n), in float64."""
    h = np.asarray(hessian, dtype=np.float64)
    return np.linalg.eigh((h + np.swapaxes(h, -1, -2)) / 2)


def levenberg_marquardt_shift(eigenvalues: np.ndarray, damping: float = 0.0
                              ) -> tuple[np.ndarray, np.ndarray]:
    """(μ, δ): the smallest shift that makes H + μI positive definite, at least ``damping``.

        δ = √ε·max(1, max|λ|)
        μ = damping                        if λ_min + damping > δ
        μ = −λ_min + max(|λ_min|, δ)       otherwise (H indefinite or singular)

    so that H + μI has smallest eigenvalue ≥ max(|λ_min|, δ) > 0. λ is (..., n) ascending.
    """
    lam_min = eigenvalues[..., 0]
    delta = math.sqrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(eigenvalues).max(-1))
    shift = -lam_min + np.maximum(np.abs(lam_min), delta)
    return np.where(lam_min + damping > delta, damping, shift), delta


def newton_direction_from_eigen(eigenvalues: np.ndarray, eigenvectors: np.ndarray,
                                grad: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
    """d = −Q·diag(1/(λ + μ))·Qᵀ·∇f, batched; eigenvalues of H + μI that are zero to rounding
    (|λ + μ| ≤ 1e-15·max|λ + μ|) are dropped, as the pseudo-inverse does.

    Args:
        eigenvalues, eigenvectors: λ (..., n) and Q (..., n, n) from ``hessian_eigen``.
        grad: ∇f (..., n).  shift: μ, a scalar or one per batch row.
    """
    shifted = eigenvalues + np.asarray(shift, dtype=np.float64)[..., None]
    cutoff = PINV_RCOND * np.abs(shifted).max(-1, keepdims=True)
    g = np.asarray(grad, dtype=np.float64)
    coords = np.einsum("...ji,...j->...i", eigenvectors, g) if g.ndim > 1 else eigenvectors.T @ g
    scaled = np.divide(coords, shifted, out=np.zeros_like(coords),
                       where=np.abs(shifted) > cutoff)
    if g.ndim == 1:
        return -(eigenvectors @ scaled)
    return -np.einsum("...ij,...j->...i", eigenvectors, scaled)


def newton_direction(hessian: np.ndarray, grad: np.ndarray, damping: float = 0.0) -> np.ndarray:
    """d = −(H + μI)⁻¹·∇f with a fixed μ = ``damping``: pure (damped) Newton, batched.

    No shift is added where H + μI is indefinite, so the step heads for the nearest stationary
    point, saddles included (what the lab's Newton lessons show); singular directions are dropped
    (see ``newton_direction_from_eigen``). H is (..., n, n), ∇f (..., n).
    """
    eigenvalues, eigenvectors = hessian_eigen(hessian)
    return newton_direction_from_eigen(eigenvalues, eigenvectors, grad, damping)


def bfgs_direction(inverse_hessian: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """d = −H⁻¹·∇f for (..., n, n) estimates and (..., n) gradients."""
    return -(inverse_hessian @ grad[..., None])[..., 0]


def bfgs_update(inverse_hessian: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The BFGS update of the inverse-Hessian estimate, in place; returns where it was applied.

        ρ = 1/(yᵀs),  H⁻¹ ← (I − ρ·s·yᵀ)·H⁻¹·(I − ρ·y·sᵀ) + ρ·s·sᵀ
                         = H⁻¹ + ρ²·(yᵀs + yᵀH⁻¹y)·s·sᵀ − ρ·(H⁻¹y·sᵀ + s·(H⁻¹y)ᵀ)

    (the expanded form, as SciPy computes it). A pair with yᵀs ≤ ε·‖y‖·‖s‖ would make H⁻¹
    indefinite, so it is skipped.

    Args:
        inverse_hessian: H⁻¹, (..., n, n) float64, updated in place.
        s: the step x_new − x, (..., n).  y: ∇f_new − ∇f, (..., n).

    Returns:
        a boolean array of the batch shape: True where the pair was applied.
    """
    s, y = np.asarray(s, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ys = (y * s).sum(-1)
    scale = np.linalg.norm(y, axis=-1) * np.linalg.norm(s, axis=-1)
    applied = ys > np.finfo(np.float64).eps * scale
    if not applied.any():
        return applied
    h = inverse_hessian[applied]
    s, y, ys = s[applied], y[applied], ys[applied]
    rho = 1.0 / ys
    hy = (h @ y[..., None])[..., 0]
    yhy = (y * hy).sum(-1)
    ss = s[..., :, None] * s[..., None, :]
    cross = hy[..., :, None] * s[..., None, :] + s[..., :, None] * hy[..., None, :]
    inverse_hessian[applied] = h + ((rho * rho * (ys + yhy))[..., None, None] * ss
                                    - rho[..., None, None] * cross)
    return applied


def newton_cg_direction(hvp: Callable[[np.ndarray], np.ndarray], grad: np.ndarray,
                        max_iter: int | None = None) -> tuple[np.ndarray, int | None, float]:
    """Truncated-Newton direction: CG on H·d = −∇f (Nocedal & Wright, Algorithm 7.1).

        z = 0, r = ∇f, p = −r;  η = min(0.5, √‖∇f‖)
        if pᵀHp ≤ 0: negative curvature — stop: d = z (−∇f on the first iteration)
        a = rᵀr / pᵀHp;  z ← z + a·p;  r ← r + a·Hp;  stop when ‖r‖ ≤ η·‖∇f‖
        p ← −r + (r_newᵀr_new / rᵀr)·p

    Args:
        hvp: v ↦ H·v on vectors shaped like ∇f.  grad: ∇f (n,).
        max_iter: CG iterations (default n).

    Returns:
        (d, j, pᵀHp): j is the CG iteration at which negative curvature pᵀHp ≤ 0 stopped it, or
        None (pᵀHp is then that of the last iteration).
    """
    g_norm = float(np.linalg.norm(grad))
    tol = min(0.5, math.sqrt(g_norm)) * g_norm
    z = np.zeros_like(grad)
    r = grad.copy()
    p = -r
    rr = float(r @ r)
    p_hp = 0.0
    for j in range(max_iter or grad.size):
        hp = hvp(p)
        p_hp = float(p @ hp)
        if p_hp <= 0:
            return (-grad if j == 0 else z), j, p_hp
        a = rr / p_hp
        z += a * p
        r += a * hp
        rr_new = float(r @ r)
        if math.sqrt(rr_new) <= tol:
            break
        p = -r + (rr_new / rr) * p
        rr = rr_new
    return z, None, p_hp
