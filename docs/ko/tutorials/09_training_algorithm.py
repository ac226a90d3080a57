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
# # 9. 학습 알고리즘 전체, 그리고 숫자 분류기
#
# *노트: DAY2 "신경망 학습 알고리즘 요약" (1 구조 선택, 2 가중치 랜덤 초기화, 3 순전파, 4 비용함수,
# 5 역전파, 6 경사하강법으로 최소화, 7 중지 기준까지 반복); 경사하강법과 가중치 조정 "Gradient
# Descent" 1–6단계 (… 6: 파라미터가 최적값에 도달하면 업데이트 중지); week2.최적화 §1 (과적합: 훈련
# 데이터만으로는 속을 수 있음).*
#
# 노트는 알고리즘을 일곱 단계로 정리합니다. scikit-learn의 8×8 손글씨 숫자(이미지 1,797개, 클래스
# 10개)로 코드에서 그대로 따라가 봅니다.

# %%
# %matplotlib inline
import tempfile
from pathlib import Path

import numpy as np

import descentlab as dl
from descentlab import nn, optim
from descentlab.data import DataLoader, load_dataset
from descentlab.lab import plots
from descentlab.train import EarlyStopping, ModelCheckpoint, fit

info = load_dataset("digits")            # standardized features, a held-out test split
print(f"{len(info.train)} training and {len(info.test)} test images, "
      f"{info.in_features} inputs, {info.n_classes} classes")

# %% [markdown]
# ## 1. 신경망 구조 선택
#
# 입력층 유닛 수 = 특징 수(픽셀 64개), 출력층 유닛 수 = 클래스 수(10), 그 사이의 은닉층은 우리가
# 정합니다: ReLU 유닛 64개짜리 하나.
#
# ## 2. 가중치 랜덤 초기화
#
# `nn.Linear`는 PyTorch처럼 가중치를 ±1/√fan_in 범위에서 균등하게 뽑습니다. 시드를 정하면 같은 값이
# 나옵니다. 0이 아닌 무작위 가중치는 은닉 유닛 사이의 대칭을 깹니다: 가중치가 모두 같으면 모든
# 유닛이 같은 기울기를 받아 영원히 똑같이 남습니다.

# %%
def make_model(seed=0):
    dl.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


model = make_model()
w = model[0].weight.detach().numpy()
print(f"first layer: shape {w.shape}, range [{w.min():.3f}, {w.max():.3f}], "
      f"bound 1/√64 = {1 / 8:.3f}")

# %% [markdown]
# ## 3–6. 순전파, 손실, 역전파, 갱신 — 손으로
#
# 미니 배치 하나에 대한 이터레이션 한 번: 순전파로 점수를 얻고, 비용함수(교차 엔트로피)가 레이블과
# 비교하고, 역전파가 모든 `.grad`를 채우고, 경사하강법이 각 가중치를 기울기 반대 방향으로 옮깁니다.

# %%
X, y = info.train.tensors
loss_fn = nn.CrossEntropyLoss()
lr = 0.1
for it in range(5):
    xb, yb = X[it * 64:(it + 1) * 64], y[it * 64:(it + 1) * 64]
    scores = model(xb)                          # 3. forward propagation
    loss = loss_fn(scores, yb)                  # 4. the cost function
    model.zero_grad()
    loss.backward()                             # 5. backpropagation
    with dl.no_grad():                          # 6. gradient descent
        for p in model.parameters():
            p -= lr * p.grad
    print(f"iteration {it + 1}: batch loss {loss.item():.3f}")

# %% [markdown]
# ## 7. 중지 기준까지 반복: `fit`
#
# `descentlab.train.fit`은 에폭에 대한 그 반복문입니다. 6단계는 `optim`의 옵티마이저가 하고,
# 에폭마다 검증을 하고, 콜백을 부릅니다:
#
# - `EarlyStopping`은 검증 손실이 `patience` 에폭 동안 나아지지 않으면 멈춥니다 — 훈련 손실만 보면
#   모델이 과적합되기 시작해도 계속 내려갑니다.
# - `ModelCheckpoint`는 에폭마다 가중치, 옵티마이저 상태, 진행 상황을 저장합니다(safetensors와 JSON,
#   원자적으로 기록). 그래서 학습을 이어서 할 수 있습니다.

# %%
workdir = Path(tempfile.mkdtemp())
model = make_model()
history = fit(model, optim.Adam(model.parameters(), lr=1e-3), loss_fn,
              DataLoader(info.train, batch_size=64, shuffle=True,
                         generator=dl.Generator().manual_seed(0)),
              epochs=60, val_loader=DataLoader(info.test, batch_size=512),
              callbacks=[EarlyStopping(monitor="val_loss", patience=3, min_delta=1e-3),
                         ModelCheckpoint(workdir / "ckpt")],
              verbose="none")
print(f"stopped after {len(history.to_list())} epochs; test accuracy "
      f"{history.last('val_accuracy'):.3f}")
plots.loss_curves({"train loss": history["loss"], "test loss": history["val_loss"]},
                  xlabel="epoch", ylabel="cross-entropy", title="Digits: 64-64-10 MLP, Adam")

# %% [markdown]
# ## 체크포인트와 이어서 학습하기
#
# 체크포인트에는 학습을 이어가는 데 필요한 모든 것이 들어 있습니다 — 가중치, 옵티마이저의 모멘트,
# 에폭, 콜백의 상태, DataLoader의 셔플 생성기. 그래서 멈췄다가 이어서 학습한 결과는 멈추지 않은
# 학습과 같은 가중치로 끝납니다. 확인해 봅니다: 10 에폭을 한 번에 vs 5 에폭 후 새 상태에서 10까지
# 이어서.

# %%
def run(epochs, checkpoint, resume=None):
    m = make_model()
    fit(m, optim.Adam(m.parameters(), lr=1e-3), loss_fn,
        DataLoader(info.train, batch_size=64, shuffle=True,
                   generator=dl.Generator().manual_seed(0)),
        epochs=epochs, callbacks=[ModelCheckpoint(checkpoint)], verbose="none",
        resume_from=resume)
    return m


straight = run(10, workdir / "straight")
run(5, workdir / "half")
resumed = run(10, workdir / "resumed", resume=workdir / "half")
same = all(np.array_equal(a.detach().numpy(), b.detach().numpy())
           for a, b in zip(straight.parameters(), resumed.parameters()))
print("resumed run equals the uninterrupted one bit for bit:", same)

# %% [markdown]
# ## 최종 모델
#
# 따로 떼어 둔 테스트 이미지에 대한 정확도와 예측 몇 개:

# %%
Xt, yt = info.test.tensors
with dl.no_grad():
    pred = model(Xt).argmax(dim=1).numpy()
print("test accuracy:", round(float((pred == yt.numpy()).mean()), 4))
print("predicted:", pred[:15])
print("true:     ", yt.numpy()[:15])

# %% [markdown]
# 명령줄에서 비슷한 학습 (훈련 데이터의 20 %를 검증용으로 떼어 둠): `descentlab train --dataset
# digits --hidden 64 --optimizer adam --lr 0.001 --epochs 60 --val-split 0.2 --patience 3 --out
# runs/digits`. `--resume`으로 이어서 학습합니다. 자신의 데이터로 학습하는 방법은 [how-to
# 페이지](../../howto/train-your-data.md)에 있습니다.
#
# ## 연습 문제
#
# 1. 테스트 데이터를 평가에만 써야 하는 이유는?
# 2. 이 신경망의 가중치를 모두 0으로 초기화하면 어떻게 되나요?
# 3. 노트는 1 에폭을 전체 데이터를 한 번 도는 것으로 정의합니다. 여기서 `fit`은 에폭마다 몇
#    이터레이션을 실행했나요?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. 그것으로 무엇인가(가중치, 에폭 수, 하이퍼파라미터)를 고르면 그 정확도는 낙관적인 추정이 됩니다.
#    엄밀히는 위처럼(간단히 하려고) 테스트 데이터로 조기 종료를 하는 것부터가 그렇습니다 — 실제로는
#    별도의 검증 데이터를 쓰세요.
# 2. ReLU 은닉 유닛이 모두 0을 출력하고 입력에 대한 기울기도 0이라서 첫 층은 전혀 학습하지 않고,
#    출력층은 클래스 편향만 학습합니다.
# 3. ⌈1438 / 64⌉ = 23 (아래에서 확인).
#
# </details>

# %%
print(len(DataLoader(info.train, batch_size=64)))
