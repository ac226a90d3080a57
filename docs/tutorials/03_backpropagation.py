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
# # 3. Forward propagation, the chain rule and backpropagation
#
# *Covers the notes: week2.최적화 §4 순전파 and §5 역전파 (the x = 2, w = 3 example with
# `.backward()`); 경사하강법과 가중치 조정 "역전파와 가중치 조절" (dL/dw = dL/dy · dy/dz ·
# dz/dw); DAY2 "역전파 알고리즘".*
#
# **Forward propagation** computes the output and the loss from the inputs; **backpropagation**
# sends the derivative of the loss back through the same steps, multiplying local derivatives
# (the chain rule), so every weight learns how much it contributed to the loss.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab.autograd import gradcheck
from descentlab.lab import plots

# %% [markdown]
# ## The notes' example, by hand
#
# x = 2, w = 3, y = x·w = 6, loss = y² = 36. By the chain rule:
#
# - ∂loss/∂w = ∂loss/∂y · ∂y/∂w = 2y · x = 2·6·2 = 24
# - ∂loss/∂x = ∂loss/∂y · ∂y/∂x = 2y · w = 2·6·3 = 36
#
# ## The same with `.backward()`
#
# The code of the notes, with `descentlab` in place of `torch`:

# %%
x = dl.tensor([2.0], requires_grad=True)
w = dl.tensor([3.0], requires_grad=True)
y = x * w
loss = y * y
loss.backward()
print(x.grad)  # ∂loss/∂x
print(w.grad)  # ∂loss/∂w

# %% [markdown]
# ## The computational graph
#
# Every operation on a tensor that requires grad records a node (`grad_fn`) linked to the nodes
# of its inputs (`next_functions`), as in PyTorch. Walking those links from the loss draws the
# graph backpropagation traverses; `AccumulateGrad` is where a leaf's `.grad` is written.

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
# ## One neuron: dL/dw = dL/dy · dy/dz · dz/dw
#
# z = w·x, y = σ(z), L = ½(y − t)². Each factor has a meaning: how wrong the output is (y − t),
# how much the activation passes on (σ′(z) = y(1 − y)), how much the weight moved z (x).

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
# ## Gradient checking
#
# A derivative can be checked against finite differences, (f(w + ε) − f(w − ε)) / 2ε.
# `gradcheck` does that for every input coordinate (in float64) and raises if they disagree.
# The picture repeats the check along a whole range of w for the notes' loss (the two curves
# coincide; one is shifted by 0.5 so both stay visible).

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
# ## Exercises
#
# 1. With loss = (x·w)³ at x = 2, w = 3, what are ∂loss/∂w and ∂loss/∂x?
# 2. In the neuron above, which factor makes the gradient small when z is large?
# 3. Why does gradient checking use float64 and a central difference?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. 3(xw)²·x = 3·36·2 = 216 and 3(xw)²·w = 3·36·3 = 324 (checked below).
# 2. σ′(z) = y(1 − y): close to 0 once σ saturates — the vanishing gradient of lesson 7.
# 3. The central difference has error O(ε²) instead of O(ε), and float32's ~10⁻⁷ precision would
#    drown a difference taken with ε = 10⁻⁶.
#
# </details>

# %%
x3 = dl.tensor([2.0], requires_grad=True)
w3 = dl.tensor([3.0], requires_grad=True)
((x3 * w3) ** 3).backward()
print(w3.grad, x3.grad)
