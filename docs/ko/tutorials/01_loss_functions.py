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
# # 1. 손실 함수: ½을 곱한 SSE, MSE, 교차 엔트로피
#
# *노트: week2.최적화 §1 (손실 함수 = 목적함수, 가장 많이 사용하는 손실함수 2개, 1/2을 곱하는 이유);
# Loss optimizer "Loss function"; DAY2 (오차 → 오차 함수 / 비용함수).*
#
# 학습은 **손실**을 작게 만드는 가중치를 찾는 과정입니다. 손실은 예측값 ŷ이 정답값 y와 얼마나
# 다른지를 나타내는 하나의 숫자입니다. 이 강의에서는 노트에 나오는 세 가지 손실 함수를
# descentlab으로 계산하고, 기울기를 확인하고, 어떤 문제에 어떤 손실 함수가 맞는지 살펴봅니다.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.lab import plots

y = dl.tensor([0.0, 1.0, 1.0, 0.0], dtype=dl.float64)            # answers
yhat = dl.tensor([0.2, 0.7, 1.5, -0.4], dtype=dl.float64, requires_grad=True)  # predictions

# %% [markdown]
# ## SSE와 ½
#
# 앞에 ½을 곱한 오차 제곱합 E = ½·Σ(y − ŷ)²은 `nn.SSELoss`입니다. ½은 미분할 때 나오는 2를 소거하기
# 위한 것입니다: ∂E/∂ŷ = ŷ − y, 즉 오차 그대로입니다. 자동 미분(autograd)으로 확인합니다:

# %%
sse = nn.SSELoss()(yhat, y)
sse.backward()
print("E          =", sse.item())
print("dE/dŷ      =", yhat.grad.numpy())
print("ŷ − y      =", (yhat - y).detach().numpy())

# %% [markdown]
# ½이 없으면 기울기가 정확히 두 배가 됩니다. 최솟값의 위치는 같으므로, ½이 바꾸는 것은 학습률이
# 어차피 흡수할 보폭뿐입니다.

# %%
yhat2 = yhat.detach().clone().requires_grad_()
((yhat2 - y) ** 2).sum().backward()
print("ratio of gradients without/with ½:", yhat2.grad.numpy() / yhat.grad.numpy())

# %% [markdown]
# ## MSE (평균 제곱 오차)
#
# 평균 제곱 오차는 값의 개수로 나눕니다: MSE = (1/n)·Σ(y − ŷ)². 배치 크기에 따라 커지지 않기 때문에
# 회귀에서는 보통 `nn.MSELoss`(PyTorch의 기본값)를 씁니다: MSE = 2·SSE / n.

# %%
mse = nn.MSELoss()(yhat.detach(), y)
print("MSE =", mse.item(), "  2·SSE/n =", 2 * sse.item() / 4)

# %% [markdown]
# ## 교차 엔트로피, 그리고 분류에 쓰는 이유
#
# 클래스 확률 p = σ(z)와 정답 1에 대해 교차 엔트로피는 −log p입니다. 로짓 z에 대한 기울기를 MSE (p −
# 1)²의 기울기와 비교해 봅니다. MSE의 기울기에는 σ′(z) ≤ ¼이 곱해지기 때문에, 출력이 확신을 갖고
# 틀렸을 때(z가 매우 작을 때) 기울기가 사라집니다. 교차 엔트로피의 기울기는 단순히 σ(z) − 1입니다.

# %%
z = dl.linspace(-8, 8, 161, dtype=dl.float64, requires_grad=True)
p = z.sigmoid()
target = dl.ones(161, dtype=dl.float64)
mse_z = nn.MSELoss(reduction="none")(p, target)
ce_z = nn.BCELoss(reduction="none")(p, target)
g_mse, = dl.autograd.grad(mse_z.sum(), z, retain_graph=True)
g_ce, = dl.autograd.grad(ce_z.sum(), z)
zs = z.detach().numpy()
plots.panel_curves(
    {"loss for target 1": {"MSE (σ(z) − 1)²": (zs, mse_z.detach().numpy()),
                           "cross-entropy −log σ(z)": (zs, ce_z.detach().numpy())},
     "|∂loss/∂z|": {"MSE": (zs, np.abs(g_mse.numpy())),
                    "cross-entropy": (zs, np.abs(g_ce.numpy()))}},
    xlabel="logit z", ylabel="value (log scale)", title="MSE vs cross-entropy on a sigmoid")

# %%
i = int(np.argmin(np.abs(zs + 5)))
print(f"at z = {zs[i]:g}: |dMSE/dz| = {abs(g_mse.numpy()[i]):.2e}, "
      f"|dCE/dz| = {abs(g_ce.numpy()[i]):.3f}")

# %% [markdown]
# 클래스가 여러 개일 때 `nn.CrossEntropyLoss`는 원시 점수(로짓)와 정수 레이블을 받습니다.
# log-softmax를 내부에서 적용하므로 모델의 마지막 층에는 softmax를 두지 않습니다.

# %%
logits = dl.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
labels = dl.tensor([0, 2])
loss = nn.CrossEntropyLoss()(logits, labels)
loss.backward()
print("loss =", round(loss.item(), 4))
print("gradient = (softmax − one-hot)/batch:\n", logits.grad.numpy().round(4))

# %% [markdown]
# ## 어떤 문제에 어떤 손실 함수를
#
# | 문제 | 출력층 | 손실 함수 |
# |---|---|---|
# | 회귀 (숫자 하나) | 선형 | `MSELoss` (또는 `SSELoss`, 이상치에는 `L1Loss`, `HuberLoss`) |
# | 이진 분류 | 로짓 1개 | `BCEWithLogitsLoss` (시그모이드 포함) |
# | k개 클래스 분류 | 로짓 k개 | `CrossEntropyLoss` (log-softmax 포함) |
#
# ## 연습 문제
#
# 1. ŷ = 3, y = 1에서 SSE의 ∂E/∂ŷ는? 값 4개에 대한 MSE라면?
# 2. z = 0 (p = ½)에서 MSE와 교차 엔트로피 중 |∂loss/∂z|가 더 큰 것은?
# 3. `CrossEntropyLoss`가 확률이 아니라 로짓을 받는 이유는?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. SSE: ŷ − y = 2. MSE: 2·(ŷ − y)/n = 2·2/4 = 1.
# 2. MSE: 2·(p − 1)·σ′(0) = 2·(−½)·¼ = −¼, 교차 엔트로피: p − 1 = −½. 교차 엔트로피가 두 배 큽니다
#    (아래 셀에서 확인).
# 3. 로짓에서 바로 계산한 log(softmax(z))는 유한하게 유지되지만(log-sum-exp), 0으로 반올림된 확률에
#    log를 취하면 −∞가 됩니다.
#
# </details>

# %%
j = int(np.argmin(np.abs(zs)))
print(g_mse.numpy()[j], g_ce.numpy()[j])
