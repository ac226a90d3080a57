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
# # 1. Loss functions: SSE with ½, MSE, cross-entropy
#
# *Covers the notes: week2.최적화 §1 (손실 함수 = 목적함수, the two most used losses, why ½);
# Loss optimizer, "Loss function"; DAY2 (오차 → 오차 함수 / 비용함수).*
#
# Training looks for the weights that make a **loss** small: one number saying how far the
# predictions ŷ are from the answers y. This lesson computes the three losses of the notes with
# descentlab, checks their gradients, and shows which loss fits which task.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.lab import plots

y = dl.tensor([0.0, 1.0, 1.0, 0.0], dtype=dl.float64)            # answers
yhat = dl.tensor([0.2, 0.7, 1.5, -0.4], dtype=dl.float64, requires_grad=True)  # predictions

# %% [markdown]
# ## SSE and the ½
#
# The sum of squared errors with a ½ in front, E = ½·Σ(y − ŷ)², is `nn.SSELoss`. The ½ is there
# so that it cancels the 2 of the derivative: ∂E/∂ŷ = ŷ − y, the plain error. Autograd agrees:

# %%
sse = nn.SSELoss()(yhat, y)
sse.backward()
print("E          =", sse.item())
print("dE/dŷ      =", yhat.grad.numpy())
print("ŷ − y      =", (yhat - y).detach().numpy())

# %% [markdown]
# Without the ½ the gradient is exactly twice as large; the minimum is at the same place, so
# the ½ changes nothing but the step size a learning rate would have absorbed anyway.

# %%
yhat2 = yhat.detach().clone().requires_grad_()
((yhat2 - y) ** 2).sum().backward()
print("ratio of gradients without/with ½:", yhat2.grad.numpy() / yhat.grad.numpy())

# %% [markdown]
# ## MSE
#
# The mean squared error divides by the number of values instead: MSE = (1/n)·Σ(y − ŷ)². It does
# not grow with the batch size, which is why `nn.MSELoss` (PyTorch's default) is the usual choice
# for regression: MSE = 2·SSE / n.

# %%
mse = nn.MSELoss()(yhat.detach(), y)
print("MSE =", mse.item(), "  2·SSE/n =", 2 * sse.item() / 4)

# %% [markdown]
# ## Cross-entropy, and why classification uses it
#
# For a class probability p = σ(z) and target 1, cross-entropy is −log p. Compare its gradient
# with respect to the logit z with the gradient of MSE (p − 1)². MSE's gradient carries the factor
# σ′(z) ≤ ¼, which vanishes when the unit is confidently wrong (z very negative); cross-entropy's
# gradient is simply σ(z) − 1.

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
# For several classes, `nn.CrossEntropyLoss` takes raw scores (logits) and integer labels; it
# applies log-softmax itself, so the model's last layer has no softmax.

# %%
logits = dl.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
labels = dl.tensor([0, 2])
loss = nn.CrossEntropyLoss()(logits, labels)
loss.backward()
print("loss =", round(loss.item(), 4))
print("gradient = (softmax − one-hot)/batch:\n", logits.grad.numpy().round(4))

# %% [markdown]
# ## Which loss for which task
#
# | task | output layer | loss |
# |---|---|---|
# | regression (a number) | linear | `MSELoss` (or `SSELoss`, `L1Loss`, `HuberLoss` for outliers) |
# | two classes | one logit | `BCEWithLogitsLoss` (sigmoid inside) |
# | k classes | k logits | `CrossEntropyLoss` (log-softmax inside) |
#
# ## Exercises
#
# 1. What is ∂E/∂ŷ for SSE at ŷ = 3, y = 1? And for MSE over 4 values?
# 2. At z = 0 (p = ½), which of MSE and cross-entropy gives the larger |∂loss/∂z|?
# 3. Why does `CrossEntropyLoss` want logits rather than probabilities?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. SSE: ŷ − y = 2. MSE: 2·(ŷ − y)/n = 2·2/4 = 1.
# 2. MSE: 2·(p − 1)·σ′(0) = 2·(−½)·¼ = −¼; cross-entropy: p − 1 = −½. Cross-entropy's is twice
#    as large (the cell below checks it).
# 3. log(softmax(z)) computed from the logits stays finite (log-sum-exp); taking the log of a
#    probability that rounded to 0 gives −∞.
#
# </details>

# %%
j = int(np.argmin(np.abs(zs)))
print(g_mse.numpy()[j], g_ce.numpy()[j])
