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
# # 8. 손실 지형: 볼록성, 국소 최솟값, 안장점, 끌개 영역
#
# *노트: week2.최적화 §2.1 (안장점: 기울기가 0이지만 국소 최솟값도 국소 최댓값도 아닌 지점),
# "역전파의 한계" 2 (Non-convex cost function, local minima); 인공 신경망의 최적화 "하강법" (초기
# 위치에 따라 도착 지점이 달라짐), "손실함수와 최적화" (Convex / Concave / Non-convex, 두 점을 잇는
# 조건, 볼록성 성질); Loss optimizer (출발지점과 가까운 local minimum, SGD로 탈출); 경사하강법과
# 가중치 조정 "Local Minima Problem".*

# %%
# %matplotlib inline
from collections import Counter

import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.data import make_moons
from descentlab.lab import analysis, landscape, plots
from descentlab.lab.functions import get_function

# %% [markdown]
# ## 볼록한가: 현(chord) 검사
#
# f는 모든 현이 그래프 위에 있을 때 볼록합니다: f((1−t)a + tb) ≤ (1−t)f(a) + t·f(b). 매끄러운
# f에서는 모든 곳에서 ∇²f ⪰ 0인 것과 같습니다. `check_convexity`는 두 조건을 표본으로 검사합니다.

# %%
for name in ("quadratic_bowl", "booth", "himmelblau", "rastrigin"):
    v = analysis.check_convexity(name, samples=300)
    print(f"{name:<15} {'convex' if v.convex else 'NOT convex':<11} "
          f"min Hessian eigenvalue {v.min_hessian_eigenvalue:.3g}")

# %% [markdown]
# 볼록 함수에는 골짜기가 하나뿐입니다: 모든 국소 최솟값이 전역 최솟값이고, 보폭이 충분히 작은
# 경사하강법은 어디서 시작해도 그것을 찾습니다. 신경망은 볼록하지 않습니다.
#
# ## 임계점: 최솟값, 최댓값, 안장점
#
# ∇f = 0인 곳에서는 헤세 행렬의 고윳값이 결정합니다: 모두 양수 → 최솟값, 모두 음수 → 최댓값, 부호가
# 섞이면 → 안장점. Himmelblau 함수에는 임계점이 아홉 개 있습니다:

# %%
himmelblau = get_function("himmelblau")
points = analysis.find_critical_points(himmelblau, n=20)
print(Counter(p.kind for p in points))
for p in points:
    print(f"  {p.kind:<8} at ({p.location[0]:6.3f}, {p.location[1]:6.3f}), f = {p.value:.3f}")

# %% [markdown]
# ## 안장점은 경사하강법을 느리게 한다
#
# x² − y²의 안장점 근처, 끌려가는 축 위에서 경사하강법은 ∇f ≈ 0인 (0, 0)으로 걸어 들어가 수렴한
# 것처럼 보입니다. 빠져나가는 성분은 단계마다 (1 + 2μ)배로만 커집니다. 모멘텀, Adam, 기울기 잡음은
# 훨씬 빨리 빠져나옵니다.

# %%
escape = analysis.saddle_escape(steps=1500)
for name, steps in escape.steps_to_escape.items():
    print(f"{name:<10} {steps if steps is not None else 'stuck'}")
plots.loss_curves({k: v.losses[0] for k, v in escape.trajectories.items()}, log=False,
                  xlabel="step", ylabel="f", title="Escaping the saddle of x² − y²")

# %% [markdown]
# ## 끌개 영역: 시작점이 도착점을 정한다
#
# 격자의 모든 점에서 경사하강법을 실행하고, 각 시작점을 도달한 최솟값의 색으로 칠합니다:

# %%
basins = analysis.basins_of_attraction(himmelblau, "gd", n=40, steps=300, lr=0.01)
print("share of starts per minimum:", np.round(basins.fractions(), 3))
plots.basin_map(basins, title="Himmelblau: basins of GD")

# %% [markdown]
# ## 실제 신경망의 손실 지형과 헤세 스펙트럼
#
# 두 개의 반달(moons) 데이터로 작은 신경망을 학습시킨 뒤 찾은 가중치 주변을 봅니다: 초기 가중치에서
# 최종 가중치까지 직선 위의 손실, 최종 가중치를 지나고 필터 정규화된 무작위 방향 두 개로 만든 평면
# 위의 손실, 그리고 그곳의 곡률(헤세-벡터 곱에 대한 거듭제곱법으로 구한 최대 고윳값과 Hutchinson
# 추정으로 구한 대각합 — 헤세 행렬 자체는 만들지 않음).

# %%
dl.manual_seed(0)
X, y = make_moons(n_samples=200, noise=0.15, seed=0)
X, y = dl.tensor(X), dl.tensor(y)
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
closure = landscape.batch_closure(model, nn.CrossEntropyLoss(), X, y)
theta0 = landscape.get_flat_parameters(model)
opt = dl.optim.Adam(model.parameters(), lr=0.05)
for _ in range(200):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
theta1 = landscape.get_flat_parameters(model)
print("final training loss:", round(loss.item(), 4))
line = landscape.linear_interpolation(model, closure, theta0, theta1,
                                      ts=np.linspace(-0.5, 1.5, 41))
plots.landscape_1d(line.ts, line.losses)

# %%
surface = landscape.loss_surface_2d(model, closure, steps=21)
plots.landscape_2d(surface.alphas, surface.betas, surface.losses)

# %%
top = landscape.top_hessian_eigenvalue(model, closure, max_iter=50)
trace = landscape.hessian_trace(model, closure, n_samples=30)
n_params = theta1.size
print(f"{n_params} parameters; largest Hessian eigenvalue λ_max ≈ {top.eigenvalue:.3f}")
print(f"trace ≈ {trace.trace:.3f} ± {trace.std_error:.3f} → mean eigenvalue ≈ "
      f"{trace.trace / n_params:.4f}")
print(f"GD on this network is stable for μ < 2/λ_max ≈ {2 / top.eigenvalue:.2f}")

# %% [markdown]
# 대부분의 고윳값은 λ_max에 비해 아주 작습니다(평균이 훨씬 작음): 학습된 신경망 주변의 지형은
# 대부분의 방향으로 평평하고 몇 방향으로만 휘어 있습니다 — 모멘텀과 적응적 방법이 겨냥한 길쭉한
# 골짜기입니다.
#
# ## 연습 문제
#
# 1. f(x, y) = x² + y⁴은 볼록한가요? 그 최솟값은 헤세 행렬이 양의 정부호인 임계점인가요?
# 2. 노트의 성질을 써서, 선형 모델의 MSE가 가중치에 대해 볼록한 이유를 설명하세요.
# 3. 끌개 영역 지도에서 색 사이의 가는 경계는 무엇으로 이루어져 있나요?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. 볼록합니다(볼록 함수의 합). 하지만 (0, 0)에서 헤세 행렬은 diag(2, 0)으로 양의 준정부호일
#    뿐이어서, 고윳값 검사로는 판단할 수 없습니다.
# 2. ŷ = Xw는 w에 대해 선형이고, 제곱 노름은 볼록하며, 아핀 변환에 볼록 함수를 합성하면 볼록합니다.
#    볼록 함수의 합도 볼록합니다.
# 3. 안장점으로 흘러가는(또는 아주 천천히 멀어지는) 시작점들입니다: 안장점의 안정 다양체가 영역을
#    나눕니다.
#
# </details>
