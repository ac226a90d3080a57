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
# # 5. 모멘텀, 네스테로프, AdaGrad, RMSProp, Adam, AdamW
#
# *노트: Loss optimizer "Momentum", "RMS-Prop", "Adam" (그리고 AdamW), 타원형 loss landscape에서
# SGD의 느린 수렴; 인공 신경망의 최적화 "확률적 경사 하강법과 최적화 기법" (모멘텀 기반과 가변
# 학습률, Adam은 둘 다); DAY2 "경사하강법 알고리즘" 2).*
#
# 기본 경사하강법은 모든 가중치에 같은 고정 보폭을 씁니다. 길고 좁은 골짜기에서는 나쁜 타협입니다:
# 가파른 방향이 μ를 제한하고, 완만한 방향은 그래서 기어갑니다. 아래의 방법들은 각각 갱신 식을 바꿔
# 이를 해결합니다. 모든 옵티마이저의 docstring에 갱신 식이 있고(`help(optim.Adam)`), API 레퍼런스의
# 옵티마이저 페이지에도 나옵니다.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab import optim
from descentlab.lab import plots, trajectories
from descentlab.lab.formula import parse_function
from descentlab.lab.functions import get_function

KAPPA = 25.0
valley = get_function("elliptic_valley", kappa=KAPPA)   # ½(x² + 25·y²)
START = (-1.8, 0.9)


def f(p):
    return 0.5 * (p[0] ** 2 + KAPPA * p[1] ** 2)


def path_of(make_optimizer, steps=60):
    """Run an optimizer class on f from START; return the visited points (steps + 1, 2)."""
    p = dl.tensor(START, dtype=dl.float64, requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


paths = {"gd": path_of(lambda ps: optim.SGD(ps, lr=0.07))}

# %% [markdown]
# ## 경사하강법
#
#     w ← w − μ·∇f(w)
#
# 가파른 y 때문에 μ는 2/L = 2/25 = 0.08보다 작아야 하고, 그러면 x는 한 단계에 1 − μ = 0.93배로만
# 줄어듭니다.
#
# ## 모멘텀
#
#     b ← β·b + ∇f(w);   w ← w − μ·b
#
# 속도 b는 같은 방향의 기울기(골짜기를 따라)는 누적하고 부호가 바뀌는 기울기(골짜기를 가로질러)는
# 상쇄합니다: 관성을 가지고 굴러가는 공입니다.
#
# ## 네스테로프
#
#     b ← β·b + ∇f(w);   w ← w − μ·(∇f(w) + β·b)
#
# 같은 속도를 쓰지만 그 방향으로 미리 내다보고 이동해서 지나침을 줄입니다.

# %%
paths["momentum"] = path_of(lambda ps: optim.SGD(ps, lr=0.02, momentum=0.8))
paths["nesterov"] = path_of(lambda ps: optim.SGD(ps, lr=0.02, momentum=0.8, nesterov=True))
plots.contour_trajectories(valley, paths, title="½(x² + 25y²): 60 steps")

# %% [markdown]
# ## AdaGrad
#
#     s ← s + g²;   w ← w − μ·g / (√s + ε)
#
# 좌표마다 자기 보폭을 가지며, 누적된 기울기 제곱의 제곱근으로 나눕니다: 가파른 좌표는 작은 보폭,
# 완만한 좌표는 큰 보폭. 합은 계속 커지므로 보폭은 계속 줄어듭니다.
#
# ## RMSProp
#
#     v ← a·v + (1 − a)·g²;   w ← w − μ·g / (√v + ε)
#
# 합 대신 이동 평균을 쓰는 AdaGrad라서 보폭이 다시 커질 수 있습니다. 경사가 가파른 쪽은 조심조심,
# 완만한 쪽은 과감하게 이동합니다.
#
# ## Adam
#
#     m ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²
#     m̂ = m/(1 − β₁ᵗ);   v̂ = v/(1 − β₂ᵗ);   w ← w − μ·m̂ / (√v̂ + ε)
#
# 분자는 모멘텀, 분모는 RMSProp이고, m과 v가 0에서 시작하는 것을 편향 보정합니다.

# %%
adaptive = {
    "gd": paths["gd"],
    "adagrad": path_of(lambda ps: optim.Adagrad(ps, lr=0.5)),
    "rmsprop": path_of(lambda ps: optim.RMSprop(ps, lr=0.05)),
    "adam": path_of(lambda ps: optim.Adam(ps, lr=0.2)),
}
for name, path in adaptive.items():
    step1 = np.abs(path[1] - path[0])
    print(f"{name:<8} first step |Δx| = {step1[0]:.3f}, |Δy| = {step1[1]:.3f}; "
          f"f after 60 steps = {f(dl.tensor(path[-1])).item():.2e}")
plots.contour_trajectories(valley, adaptive, title="Adaptive step sizes, 60 steps")

# %% [markdown]
# 경사하강법의 첫 단계는 μ·∇f이므로 y 방향이 x 방향보다 25배 큽니다. AdaGrad, RMSProp, Adam은
# 좌표별로 정규화하므로 첫 단계가 두 방향에서 거의 같습니다: 기울기에 비해 완만한 쪽에서는 크고
# 가파른 쪽에서는 작은 보폭입니다.
#
# ## AdamW: 가중치 감쇠를 분리하는 이유
#
# Adam의 `weight_decay`는 기울기에 λ·w를 더하고(L2 정규화), 이 항도 나머지와 함께 √v̂로 나눠집니다:
# 기울기가 큰 가중치는 거의 감쇠되지 않고, 기울기가 작은 가중치는 많이 감쇠됩니다. AdamW는 적응적
# 보폭 밖에서 모든 가중치를 같은 비율로 줄입니다:
#
#     w ← w·(1 − μλ);   그다음 Adam 단계
#
# f = 50(x − 1)² + 0.005(y − 1)² (x가 y보다 10⁴배 가파름), λ = 0.1에서:

# %%
stiff = parse_function("50*(x - 1)**2 + 0.005*(y - 1)**2", domain=((-0.5, 1.5), (-0.5, 1.5)))
decay = {name: trajectories.run_trajectories(stiff, [0.0, 0.0], name, 3000, lr=0.01,
                                             weight_decay=0.1, record_every=10)
         for name in ("adam", "adamw")}
for name, run in decay.items():
    print(f"{name:<6} ends at ({run.final_positions[0, 0]:.3f}, {run.final_positions[0, 1]:.3f})")
print("L2-regularized optimum: "
      f"({100 / (100 + 0.1):.3f}, {0.01 / (0.01 + 0.1):.3f})")
plots.contour_trajectories(stiff, decay, title="Adam + L2 vs AdamW (λ = 0.1)")

# %% [markdown]
# L2를 쓴 Adam은 f + (λ/2)‖w‖²의 최적점으로 가서, 완만한 y는 거의 0까지 당기고 가파른 x는 그대로
# 둡니다. AdamW의 감쇠는 두 좌표에 같은 곱셈 축소입니다.
#
# ## 연습 문제
#
# 1. β = 0.9이고 기울기 g가 일정하면 모멘텀의 속도 b는 어디로 가까워지나요?
# 2. Adam의 첫 단계가 기울기 크기와 상관없이 모든 좌표에서 약 μ인 이유는?
# 3. 기울기가 희소한(대부분의 좌표가 대부분의 시간 동안 0인) 문제에는 위의 옵티마이저 중 무엇을
#    고르겠습니까?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. b = g/(1 − β) = 10·g: 일정한 경사를 따라 실제 보폭이 열 배가 됩니다.
# 2. t = 1에서 m̂ = g, v̂ = g²이므로 단계는 μ·g/|g| = μ·sign(g)입니다 (ε 제외) — 아래에서 확인.
# 3. AdaGrad (또는 Adam): 드물게 갱신되는 좌표는 누적 s가 작아서 보폭이 큽니다.
#
# </details>

# %%
p = dl.tensor([3.0, -0.001], requires_grad=True)
opt = optim.Adam([p], lr=0.1)
(p[0] * 7 + p[1] * 0.5).backward()
before = p.detach().numpy().copy()
opt.step()
print(before - p.detach().numpy())
