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
# # 2. 경사하강법과 학습률
#
# *노트: 인공 신경망의 최적화 "하강법"과 "경사 하강법" (하강 조건 ∇f(w)ᵀΔw < 0, 식 유도 w ← w −
# μ∇f(w), μ = 0.4 / 0.6 / 1.2 대입); week2.최적화 §2; Loss optimizer "Gradient descent" (learning
# rate α: 너무 크면 진동, 너무 작으면 느림); 경사하강법과 가중치 조정 "가중치 업데이트 방식".*
#
# 경사하강법은 하나의 갱신을 반복합니다: w ← w − μ·∇f(w). μ(α 또는 η라고도 씀)가 **학습률**입니다.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab.lab import analysis, plots
from descentlab.lab.functions import get_function

# %% [markdown]
# ## 손으로 하는 갱신
#
# f(w) = w² (∇f = 2w)에서 w = 1, μ = 0.1로 시작하면 매 단계 w에 1 − 2μ = 0.8이 곱해집니다. 기울기는
# `backward()`가 구하고, 갱신 자체는 기록되지 않도록 `no_grad` 안에서 합니다.

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
# ## 왜 −∇f인가: 하강 조건
#
# 작은 이동 w + μ·Δw가 f를 줄이려면 ∇f(w)ᵀΔw < 0이어야 합니다 (1차 테일러 전개). Δw = −∇f는 ∇fᵀ(−∇f)
# = −‖∇f‖² < 0이므로 항상 조건을 만족합니다. 골짜기 ½(x² + 4y²)에서 방향의 절반이 하강
# 방향(초록)이고, −∇f(검정)가 가장 가파릅니다.

# %%
valley = get_function("elliptic_valley", kappa=4.0)
point = np.array([1.2, 0.8])
theta = np.linspace(0, 2 * np.pi, 24, endpoint=False)
directions = np.stack([np.cos(theta), np.sin(theta)], axis=1)
slopes, descends = analysis.descent_directions(valley, np.repeat(point[None], 24, 0), directions)
print(f"{int(descends.sum())} of 24 directions satisfy ∇f·Δw < 0")
plots.descent_directions_plot(valley, point, directions, slopes)

# %% [markdown]
# ## μ = 0.4, 0.6, 1.2 대입
#
# f(w) = w²에서 w ← (1 − 2μ)·w입니다. μ = 0.4이면 곱해지는 값이 0.2 (꾸준히 수렴), μ = 0.6이면 −0.2
# (매 단계 부호가 바뀌는 진동, 그래도 수렴), μ = 1.2이면 −1.4 (커지는 진동: 발산)입니다.
# `lr_sweep`은 μ마다 경사하강법을 실행하고 경로를 분류합니다.

# %%
sweep = analysis.lr_sweep("parabola", [0.05, 0.4, 0.6, 1.2], start=[1.0], steps=12)
for lr, verdict in zip(sweep.lrs, sweep.classes):
    print(f"μ = {lr:<4g} → {verdict}")
plots.lr_sweep_panels(sweep, title="f(w) = w², GD from w₀ = 1")

# %% [markdown]
# ## 안정 범위: μ < 2/L
#
# 곡률이 L(헤세 행렬의 최대 고윳값)인 이차 함수에서 경사하강법은 각 성분에 1 − μL을 곱하므로, |1 −
# μL| < 1, 즉 0 < μ < 2/L일 때 정확히 수렴합니다. w²은 L = 2이므로 경계는 1입니다. 촘촘한 스윕으로
# 경계를 확인합니다:

# %%
bound = analysis.gd_stability_bound("parabola")
fine = analysis.lr_sweep("parabola", np.round(np.arange(0.05, 1.51, 0.05), 2), start=[1.0],
                         steps=60)
print("2/L =", bound)
print("largest stable μ:", fine.largest_stable_lr, " smallest diverging μ:",
      fine.smallest_diverging_lr)

# %% [markdown]
# ## 연습 문제
#
# 1. f(w) = 3w²에서 한 번에 최솟값에 도달하는 μ는? 경계가 되는 μ는?
# 2. w²에서 μ = 0.05로 w = 1에서 시작하면 |w| < 10⁻³까지 몇 단계가 걸리나요?
# 3. ½(x² + 4y²)에서 2/L은 얼마이고, 어느 좌표가 그것을 결정하나요?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. ∇f = 6w이므로 w ← (1 − 6μ)w: μ = 1/6이면 한 번에 0에 도달하고, 경계는 2/L = 2/6 = ⅓입니다.
# 2. |w| = 0.9ᵏ < 10⁻³이려면 k > ln(10⁻³)/ln(0.9) ≈ 65.6, 즉 66단계입니다 (아래에서 확인).
# 3. 헤세 행렬은 diag(1, 4), L = 4 (가파른 y 방향), 2/L = 0.5입니다 (아래에서 확인).
#
# </details>

# %%
k = int(np.ceil(np.log(1e-3) / np.log(0.9)))
print(k, 0.9 ** k < 1e-3 <= 0.9 ** (k - 1))
print(analysis.gd_stability_bound(valley))
