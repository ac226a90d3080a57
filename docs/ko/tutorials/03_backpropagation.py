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
# # 3. 순전파, 연쇄 법칙, 역전파
#
# *노트: week2.최적화 §4 순전파, §5 역전파 (x = 2, w = 3 예제와 `.backward()`); 경사하강법과 가중치
# 조정 "역전파와 가중치 조절" (dL/dw = dL/dy · dy/dz · dz/dw); DAY2 "역전파 알고리즘".*
#
# **순전파**는 입력에서 출력과 손실을 계산합니다. **역전파**는 손실의 미분을 같은 과정을 거꾸로 따라
# 보내면서 국소 미분들을 곱합니다(연쇄 법칙). 그래서 모든 가중치가 손실에 얼마나 기여했는지 알게
# 됩니다.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab.autograd import gradcheck
from descentlab.lab import plots

# %% [markdown]
# ## 노트의 예제를 손으로
#
# x = 2, w = 3, y = x·w = 6, loss = y² = 36. 연쇄 법칙으로:
#
# - ∂loss/∂w = ∂loss/∂y · ∂y/∂w = 2y · x = 2·6·2 = 24
# - ∂loss/∂x = ∂loss/∂y · ∂y/∂x = 2y · w = 2·6·3 = 36
#
# ## 같은 계산을 `.backward()`로
#
# 노트의 코드에서 `torch` 대신 `descentlab`을 씁니다:

# %%
x = dl.tensor([2.0], requires_grad=True)
w = dl.tensor([3.0], requires_grad=True)
y = x * w
loss = y * y
loss.backward()
print(x.grad)  # ∂loss/∂x
print(w.grad)  # ∂loss/∂w

# %% [markdown]
# ## 계산 그래프
#
# 기울기가 필요한 텐서에 연산을 할 때마다 노드(`grad_fn`)가 기록되고, 입력의 노드들과
# 연결됩니다(`next_functions`). PyTorch와 같습니다. 손실에서부터 이 연결을 따라가면 역전파가
# 지나가는 그래프가 그려집니다. `AccumulateGrad`는 잎 텐서의 `.grad`가 쓰이는 곳입니다.

# %%
def show_graph(fn, depth=0):
    if fn is None:
        return
    print("    " * depth + str(fn).strip("<>"))
    for parent, _ in getattr(fn, "next_functions", ()):
        show_graph(parent, depth + 1)


y = x * w
show_graph((y * y).grad_fn)

# %% [markdown]
# ## 뉴런 하나: dL/dw = dL/dy · dy/dz · dz/dw
#
# z = w·x, y = σ(z), L = ½(y − t)². 각 인수에는 의미가 있습니다: 출력이 얼마나 틀렸는지 (y − t),
# 활성화 함수가 변화를 얼마나 전달하는지 (σ′(z) = y(1 − y)), 가중치가 z를 얼마나 움직였는지 (x).

# %%
x_val, w_val, t = 1.5, 0.8, 0.0
w1 = dl.tensor(w_val, dtype=dl.float64, requires_grad=True)
z = w1 * x_val
y1 = z.sigmoid()
L = 0.5 * (y1 - t) ** 2
L.backward()
yv = 1 / (1 + np.exp(-w_val * x_val))
by_hand = (yv - t) * yv * (1 - yv) * x_val
print(f"dL/dy = {yv - t:.5f}, dy/dz = {yv * (1 - yv):.5f}, dz/dw = {x_val}")
print(f"chain rule: {by_hand:.10f}\nbackward(): {w1.grad.item():.10f}")

# %% [markdown]
# ## 기울기 검사
#
# 미분은 유한 차분 (f(w + ε) − f(w − ε)) / 2ε과 비교해 검사할 수 있습니다. `gradcheck`는 모든 입력
# 좌표에 대해 (float64로) 이를 수행하고, 다르면 예외를 던집니다. 그림은 노트의 손실에 대해 w의 넓은
# 범위에서 같은 검사를 반복합니다(두 곡선은 일치하며, 둘 다 보이도록 하나를 0.5만큼 올렸습니다).

# %%
def net(w, b):
    return ((dl.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=dl.float64) @ w + b).tanh() ** 2).sum()


dl.manual_seed(0)
w2 = dl.randn(2, 3, dtype=dl.float64, requires_grad=True)
b2 = dl.randn(3, dtype=dl.float64, requires_grad=True)
print("gradcheck passed:", gradcheck(net, (w2, b2)))

eps = 1e-6
wp, wm = w2.detach().clone(), w2.detach().clone()
wp[0, 0] += eps
wm[0, 0] -= eps
numeric = (net(wp, b2).item() - net(wm, b2).item()) / (2 * eps)
net(w2, b2).backward()
print(f"∂f/∂w[0,0]: finite difference {numeric:.8f}, backward {w2.grad[0, 0].item():.8f}")

# The notes' loss (x·w)² at x = 2 along a range of w: backward() against finite differences.
ws = np.linspace(-3, 3, 61)
by_backward, by_difference = [], []
for wv in ws:
    wt = dl.tensor([wv], dtype=dl.float64, requires_grad=True)
    ((2.0 * wt) ** 2).sum().backward()
    by_backward.append(wt.grad.item())
    by_difference.append(((2 * (wv + eps)) ** 2 - (2 * (wv - eps)) ** 2) / (2 * eps))
plots.loss_curves({"backward(): d(x·w)²/dw": (ws, by_backward),
                   "finite difference": (ws, np.array(by_difference) + 0.5)},
                  log=False, xlabel="w", ylabel="derivative (difference curve shifted by 0.5)",
                  title="Gradient check along w (x = 2): 8w")

# %% [markdown]
# ## 연습 문제
#
# 1. x = 2, w = 3에서 loss = (x·w)³이면 ∂loss/∂w와 ∂loss/∂x는?
# 2. 위의 뉴런에서 z가 클 때 기울기를 작게 만드는 인수는?
# 3. 기울기 검사에 float64와 중앙 차분을 쓰는 이유는?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. 3(xw)²·x = 3·36·2 = 216, 3(xw)²·w = 3·36·3 = 324 (아래에서 확인).
# 2. σ′(z) = y(1 − y): σ가 포화되면 0에 가까워집니다 — 7강의 기울기 소실입니다.
# 3. 중앙 차분의 오차는 O(ε)가 아니라 O(ε²)이고, float32의 정밀도(약 10⁻⁷)로는 ε = 10⁻⁶으로 잰
#    차이가 묻혀 버립니다.
#
# </details>

# %%
x3 = dl.tensor([2.0], requires_grad=True)
w3 = dl.tensor([3.0], requires_grad=True)
((x3 * w3) ** 3).backward()
print(w3.grad, x3.grad)
