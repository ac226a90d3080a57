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
# # 4. 배치 경사하강법 vs 확률적 경사하강법 vs 미니 배치
#
# *노트: week2.최적화 "GD vs SGD"; Loss optimizer "(mini-batch) Stochastic gradient descent"
# (데이터를 모두 사용: GD, 일부만: mini-batch SGD, 하나만: SGD); DAY2 epoch와 iteration (이미지
# 1000개, batch size 25, epoch 100 = 4000 iteration), 확률적 경사하강법; 경사하강법과 가중치 조정
# "경사 하강법 종류" (배치 / 확률적 / 미니 배치, batch size 32, 64, 128).*
#
# 세 방법의 차이는 한 번의 갱신에 보는 데이터의 수뿐입니다: 전체 N개(배치 경사하강법), 1개(확률적
# 경사하강법, SGD), 그 사이의 B개(미니 배치 SGD). descentlab에서도 PyTorch처럼 이는 `DataLoader`의
# `batch_size`이고, 옵티마이저는 모두 `optim.SGD`입니다.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab.data import DataLoader, TensorDataset, make_moons
from descentlab.lab import batching, plots

X, y = make_moons(n_samples=512, noise=0.2, seed=0)
X = (X - X.mean(0)) / X.std(0)
data = TensorDataset(dl.tensor(X), dl.tensor(y))

# %% [markdown]
# ## 에폭(epoch)과 이터레이션(iteration)
#
# **에폭**은 전체 데이터를 한 번 도는 것이고, **이터레이션**은 배치 하나에 대한 갱신 한 번입니다.
# 데이터 N개, 배치 크기 B이면 한 에폭은 ⌈N/B⌉ 이터레이션입니다 — `len(loader)`:

# %%
for B in (len(data), 128, 64, 32, 1):
    loader = DataLoader(data, batch_size=B, shuffle=True)
    print(f"batch size {B:>3}: {len(loader):>3} iterations per epoch")
print("the notes' example: 100 epochs ×", batching.iterations_per_epoch(1000, 25),
      "iterations =", 100 * batching.iterations_per_epoch(1000, 25))

# %% [markdown]
# ## 같은 신경망, 같은 초기 가중치, 다른 배치 크기
#
# `compare_batch_sizes`는 tanh MLP 하나를 같은 초기값에서 배치 크기별로(`None` = 전체) 학습시키고,
# 에폭마다 전체 데이터의 손실과 걸린 시간을 기록합니다. 학습률은 실행마다 다릅니다: SGD는 샘플
# 하나의 기울기라 잡음이 커서 더 작은 보폭이 필요합니다.

# %%
sizes = {"GD (batch = N)": None, "mini-batch 128": 128, "mini-batch 64": 64,
         "mini-batch 32": 32, "SGD (batch = 1)": 1}
lrs = {"GD (batch = N)": 0.5, "mini-batch 128": 0.3, "mini-batch 64": 0.3,
       "mini-batch 32": 0.2, "SGD (batch = 1)": 0.05}
runs = batching.compare_batch_sizes((X, y), batch_sizes=sizes, epochs=6, lr=lrs, seed=0)
for name, r in runs.items():
    print(f"{name:<16} {r.iterations_per_epoch:>3} updates/epoch   loss {r.epoch_loss[0]:.3f} → "
          f"{r.epoch_loss[-1]:.3f}")
plots.panel_curves(
    {"loss vs epoch": {k: (r.epochs, r.epoch_loss) for k, r in runs.items()},
     "loss vs update": {k: (r.epoch_iterations, r.epoch_loss) for k, r in runs.items()}},
    xlabel="epoch / update", ylabel="full-data loss", title="GD vs mini-batch vs SGD")

# %% [markdown]
# 에폭 기준으로는 작은 배치가 유리합니다: 데이터를 한 번 도는 동안 갱신을 여러 번 하기 때문입니다.
# 갱신 한 번 기준으로는 큰 배치가 유리합니다: 한 단계가 정확한 기울기를 더 잘 따릅니다. 실제
# 하드웨어에서는 32–128개 배치가 샘플 하나와 비슷한 시간이 걸리기 때문에 미니 배치가 기본입니다.
#
# ## 잡음과 배치 크기
#
# 미니 배치 기울기 g_B는 샘플별 기울기 B개의 평균이므로, 전체 기울기 ḡ 주변의 오차는 1/√B로
# 줄어듭니다: 분산 ≈ tr Σ / B. `gradient_noise`로 측정합니다:

# %%
noise = batching.gradient_noise(data=(X, y), batch_sizes=(1, 4, 16, 64, 128), draws=300)
plots.loss_curves({"measured √E‖g_B − ḡ‖²": (noise.batch_sizes, np.sqrt(noise.variance)),
                   "√(tr Σ / B)": (noise.batch_sizes, np.sqrt(noise.predicted))},
                  xlabel="batch size B", ylabel="gradient error", title="Gradient noise")

# %% [markdown]
# 미니 배치 학습의 이터레이션별 손실에도 같은 잡음이 보입니다: 각 값은 그 배치에서 잰 것이기
# 때문입니다.

# %%
r = runs["mini-batch 32"]
plots.loss_curves({"mini-batch 32": r.iteration_loss},
                  vlines=list(r.epoch_iterations[1:-1] - 0.5), vline_label="epoch boundary",
                  xlabel="iteration", ylabel="batch loss", title="Loss per iteration")

# %% [markdown]
# ## 연습 문제
#
# 1. 이미지 50,000개, 배치 크기 128이면 10 에폭은 몇 이터레이션인가요?
# 2. 기울기 잡음을 절반으로 줄이려면 B를 얼마나 키워야 하나요?
# 3. 배치 경사하강법이 되는 `DataLoader`는?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. 에폭당 ⌈50000/128⌉ = 391, 모두 3910입니다 (아래에서 확인).
# 2. 네 배: 오차는 1/√B에 비례합니다.
# 3. `DataLoader(data, batch_size=len(data))`: 에폭마다 배치 하나, 갱신 한 번입니다.
#
# </details>

# %%
print(10 * batching.iterations_per_epoch(50_000, 128))
