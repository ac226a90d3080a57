# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Gradient descent and the learning rate
#
# *Covers the notes: 인공 신경망의 최적화 "하강법" and "경사 하강법" (the descent condition
# ∇f(w)ᵀΔw < 0, the derivation of w ← w − μ∇f(w), μ = 0.4 / 0.6 / 1.2); week2.최적화 §2;
# Loss optimizer "Gradient descent" (learning rate α: too large oscillates, too small crawls);
# 경사하강법과 가중치 조정 "가중치 업데이트 방식".*
#
# Gradient descent repeats one update: w ← w − μ·∇f(w), with the **learning rate** μ (also α or η).

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab.lab import analysis, plots
from descentlab.lab.functions import get_function

# %% [markdown]
# ## The update by hand
#
# On f(w) = w² (∇f = 2w), starting from w = 1 with μ = 0.1, each step multiplies w by
# 1 − 2μ = 0.8. `backward()` gives the gradient, and the update runs under `no_grad` so that it is
# not itself recorded.

# %%
w = dl.tensor([1.0], dtype=dl.float64, requires_grad=True)
mu = 0.1
for step in range(5):
    loss = (w ** 2).sum()
    loss.backward()
    with dl.no_grad():
        w -= mu * w.grad
    w.grad = None
    print(f"step {step + 1}: w = {w.item():.4f}   (0.8^{step + 1} = {0.8 ** (step + 1):.4f})")

# %% [markdown]
# ## Why −∇f: the descent condition
#
# A small step w + μ·Δw lowers f when ∇f(w)ᵀΔw < 0 (first-order Taylor). Δw = −∇f always
# qualifies, since ∇fᵀ(−∇f) = −‖∇f‖² < 0. On the valley ½(x² + 4y²), half of all directions
# descend (green), and −∇f (black) is the steepest.

# %%
valley = get_function("elliptic_valley", kappa=4.0)
point = np.array([1.2, 0.8])
theta = np.linspace(0, 2 * np.pi, 24, endpoint=False)
directions = np.stack([np.cos(theta), np.sin(theta)], axis=1)
slopes, descends = analysis.descent_directions(valley, np.repeat(point[None], 24, 0), directions)
print(f"{int(descends.sum())} of 24 directions satisfy ∇f·Δw < 0")
plots.descent_directions_plot(valley, point, directions, slopes)

# %% [markdown]
# ## μ = 0.4, 0.6, 1.2
#
# On f(w) = w², w ← (1 − 2μ)·w. The factor is 0.2 for μ = 0.4 (steady convergence), −0.2 for
# μ = 0.6 (the sign flips every step: oscillation, still converging) and −1.4 for μ = 1.2
# (oscillation that grows: divergence). `lr_sweep` runs GD for each μ and classifies the path.

# %%
sweep = analysis.lr_sweep("parabola", [0.05, 0.4, 0.6, 1.2], start=[1.0], steps=12)
for lr, verdict in zip(sweep.lrs, sweep.classes):
    print(f"μ = {lr:<4g} → {verdict}")
plots.lr_sweep_panels(sweep, title="f(w) = w², GD from w₀ = 1")

# %% [markdown]
# ## The stable range: μ < 2/L
#
# For a quadratic with curvature L (the largest eigenvalue of the Hessian), GD multiplies each
# component by 1 − μL, so it converges exactly when |1 − μL| < 1, i.e. 0 < μ < 2/L. For w², L = 2
# and the bound is 1. A fine sweep brackets it:

# %%
bound = analysis.gd_stability_bound("parabola")
fine = analysis.lr_sweep("parabola", np.round(np.arange(0.05, 1.51, 0.05), 2), start=[1.0],
                         steps=60)
print("2/L =", bound)
print("largest stable μ:", fine.largest_stable_lr, " smallest diverging μ:",
      fine.smallest_diverging_lr)

# %% [markdown]
# ## Exercises
#
# 1. For f(w) = 3w², which μ makes GD land on the minimum in one step? Which μ is the bound?
# 2. With μ = 0.05 on w², how many steps until |w| < 10⁻³ from w = 1?
# 3. On ½(x² + 4y²), what is 2/L, and which coordinate decides it?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. ∇f = 6w, so w ← (1 − 6μ)w: μ = 1/6 lands at 0 in one step; the bound is 2/L = 2/6 = ⅓.
# 2. |w| = 0.9ᵏ < 10⁻³ needs k > ln(10⁻³)/ln(0.9) ≈ 65.6, so 66 steps (checked below).
# 3. The Hessian is diag(1, 4), L = 4 (the steep y-direction), 2/L = 0.5 (checked below).
#
# </details>

# %%
k = int(np.ceil(np.log(1e-3) / np.log(0.9)))
print(k, 0.9 ** k < 1e-3 <= 0.9 ** (k - 1))
print(analysis.gd_stability_bound(valley))
