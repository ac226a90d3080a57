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
# # 7. 기울기 소실과 기울기 폭주
#
# *노트: week2.최적화 "역전파의 한계" 1 (기울기 소실 / 기울기 폭주: 시그모이드의 작은 기울기, 활성화
# 함수나 Adam으로 해결); 인공 신경망의 최적화 "기울기 사라짐" (∂pₙ/∂w₁ → 0, ReLU와 Leaky ReLU);
# 경사하강법과 가중치 조정 "ReLU와 Sigmoid", "Vanishing Gradient" (Leaky ReLU, PReLU, ELU, 가중치
# 초기화, 배치 정규화, Residual Connections, Gradient Clipping).*
#
# 역전파는 층마다 국소 미분을 하나씩 곱합니다. 이 인수들이 대체로 1보다 작으면 첫 층으로 가는 동안
# 기울기가 기하급수적으로 줄어들고(**기울기 소실**), 대체로 1보다 크면 커집니다(**기울기 폭주**).
# 초기화 직후 층별로 측정해 봅니다.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.data import make_spiral
from descentlab.lab import diagnostics, plots

# %% [markdown]
# ## 왜 시그모이드인가: 미분이 최대 ¼
#
# σ′(z) = σ(z)(1 − σ(z)) ≤ ¼이므로 시그모이드 층 열 개는 (가중치를 빼고도) 기울기에 최대 4⁻¹⁰ ≈
# 10⁻⁶을 곱합니다. ReLU의 미분은 z > 0에서 정확히 1입니다.

# %%
z = dl.linspace(-6, 6, 121, dtype=dl.float64, requires_grad=True)
acts = {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(),
        "leaky_relu": nn.LeakyReLU(0.1), "elu": nn.ELU()}
derivs = {}
for name, act in acts.items():
    (g,) = dl.autograd.grad(act(z).sum(), z)
    derivs[name] = (z.detach().numpy(), g.numpy())
print("max σ′ =", derivs["sigmoid"][1].max())
plots.loss_curves(derivs, log=False, xlabel="z", ylabel="derivative",
                  title="Derivatives of the activations")

# %% [markdown]
# ## 10층 신경망의 층별 기울기 크기
#
# `gradient_report`는 주어진 활성화 함수, 초기화, 해결책으로 깊은 MLP(폭 32)를 만들고, 3-클래스 나선
# 데이터에서 교차 엔트로피의 순전파/역전파를 한 번 실행한 뒤 각 층 가중치의 RMS 기울기를 보고합니다.
# ρ = 1층 / 10층: ρ ≪ 1이면 소실, ρ ≫ 1이면 폭주입니다.

# %%
configs = [dict(activation="sigmoid"), dict(activation="tanh"), dict(activation="relu"),
           dict(activation="leaky_relu"), dict(activation="elu"),
           dict(activation="relu", init="he"), dict(activation="sigmoid", init="xavier"),
           dict(activation="sigmoid", batchnorm=True), dict(activation="sigmoid", residual=True),
           dict(activation="tanh", init="xavier", weight_scale=3.0)]
reports = [diagnostics.gradient_report(depth=10, width=32, batch_size=128, **c)
           for c in configs]
print(diagnostics.format_gradient_table(reports))
plots.gradient_norms_per_layer({r.label: r.grad_rms[:10] for r in reports},
                               ylabel="RMS of ∂L/∂W per weight",
                               title="Gradient per layer at initialization (10 layers)")

# %% [markdown]
# - **활성화 함수.** 시그모이드는 소실됩니다 (ρ 약 10⁻⁸). tanh(미분 최대 1)와 ReLU 계열은 훨씬
#   덜하지만, PyTorch 기본 초기화(균등 ±1/√fan_in)로는 여전히 줄어듭니다.
# - **가중치 초기화.** He 초기화(분산 2/fan_in)는 ReLU 신호의 크기를 일정하게 유지합니다: relu/he는
#   정상입니다. Xavier는 시그모이드를 조금만 돕습니다. σ′ ≤ ¼이 남기 때문입니다. 세 배 큰
#   가중치(tanh, Xavier × 3)는 반대로 기울기를 폭주시킵니다.
# - **배치 정규화**는 매 층의 활성화 전 값을 분산 1로 맞춰서 σ가 가파른 구간에서 동작하게 합니다.
#   기울기가 더 이상 소실되지 않습니다 (여기서는 조금 지나쳐서 ρ > 1).
# - **Residual connection**은 매 층의 야코비안에 항등 행렬을 더합니다: y = x + F(x)이면 ∂y/∂x = I +
#   ∂F/∂x, 기울기가 곱해져 줄어들지 않는 경로입니다 (ρ가 약 10⁶배 커집니다).
#
# ## PReLU: 학습되는 음수 기울기
#
# 표의 도우미 함수는 PReLU 신경망을 만들지 않으므로 `nn`으로 직접 만들고 같은 값을 측정합니다:
# PReLU(z) = max(0, z) + a·min(0, z), a는 학습되는 값(처음 0.25)입니다.

# %%
X, y = make_spiral(n_samples=128, n_classes=3, noise=0.1, seed=0)
X, y = dl.tensor(X), dl.tensor(y)


def layer_rms(activation, depth=10, width=32):
    dl.manual_seed(0)
    layers, fan_in = [], 2
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), activation()]
        fan_in = width
    model = nn.Sequential(*layers, nn.Linear(width, 3))
    nn.functional.cross_entropy(model(X), y).backward()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)][:depth]
    return [float(np.sqrt(np.mean(m.weight.grad.numpy() ** 2))) for m in linears]


mine = {"sigmoid": layer_rms(nn.Sigmoid), "prelu": layer_rms(nn.PReLU),
        "relu": layer_rms(nn.ReLU)}
for k, v in mine.items():
    print(f"{k:<8} ρ = {v[0] / v[-1]:.3g}")
plots.gradient_norms_per_layer(mine, ylabel="RMS of ∂L/∂W per weight",
                               title="PReLU next to sigmoid and ReLU (default init)")

# %% [markdown]
# ## 기울기 클리핑 (Gradient Clipping)
#
# 클리핑은 *전체* 기울기 크기를 제한합니다: 모든 기울기에 min(1, c/‖g‖)를 곱합니다. 폭주한 한 단계가
# 가중치를 망가뜨리는 것은 막지만, 모든 층을 똑같이 줄이므로 층 사이의 비율은 바뀌지 않습니다 —
# 원인이 아니라 증상(보폭)을 다룹니다.

# %%
model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))
with dl.no_grad():
    for p in model.parameters():
        p.mul_(4.0)
nn.functional.cross_entropy(model(X), y).backward()
before = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
after = float(np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters())))
print(f"total gradient norm {float(before):.2f} → {after:.2f} after clipping to 1")

# %% [markdown]
# ## 연습 문제
#
# 1. 시그모이드 20층이 (가중치를 빼고) 기울기에 곱하는 값의 상한은?
# 2. ReLU는 음수 입력에서 어떤 문제가 있고, 무엇이 그것을 해결하나요?
# 3. 몇 단계 후 손실이 NaN이 됩니다. 이 강의의 해결책 중 먼저 시도할 두 가지는?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. (¼)²⁰ ≈ 9·10⁻¹³.
# 2. z < 0에서 미분이 0이므로 거기 머무는 유닛은 갱신되지 않습니다('죽은 ReLU'). Leaky ReLU, PReLU,
#    ELU는 거기에도 작은 기울기를 남깁니다.
# 3. 기울기 클리핑(보폭 제한)과 더 작은 학습률 또는 더 나은 초기화. `descentlab.train.fit(...,
#    clip_grad_norm=1.0)`이 클리핑을 해 줍니다.
#
# </details>

# %%
print(0.25 ** 20)
