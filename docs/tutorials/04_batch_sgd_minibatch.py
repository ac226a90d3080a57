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
# # 4. Batch GD vs SGD vs mini-batch
#
# *Covers the notes: week2.최적화 "GD vs SGD"; Loss optimizer "(mini-batch) Stochastic gradient
# descent" (GD uses all data, mini-batch SGD a part, SGD one sample); DAY2 epoch vs iteration
# (1000 images, batch 25, 100 epochs = 4000 iterations) and 확률적 경사하강법; 경사하강법과 가중치
# 조정 "경사 하강법 종류" (배치 / 확률적 / 미니 배치, batch sizes 32, 64, 128).*
#
# The three differ only in how many examples each update looks at: all N (batch GD), one (SGD),
# or B in between (mini-batch SGD). In descentlab, as in PyTorch, that is the `batch_size` of the
# `DataLoader`; the optimizer is `optim.SGD` in every case.

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
# ## Epoch vs iteration
#
# An **epoch** is one pass over all the data; an **iteration** is one update, on one batch. With
# N examples and batch size B an epoch has ⌈N/B⌉ iterations — `len(loader)`:

# %%
for B in (len(data), 128, 64, 32, 1):
    loader = DataLoader(data, batch_size=B, shuffle=True)
    print(f"batch size {B:>3}: {len(loader):>3} iterations per epoch")
print("the notes' example: 100 epochs ×", batching.iterations_per_epoch(1000, 25),
      "iterations =", 100 * batching.iterations_per_epoch(1000, 25))

# %% [markdown]
# ## Same network, same initial weights, different batch sizes
#
# `compare_batch_sizes` trains one tanh MLP from one initialization with each batch size
# (`None` = the full set) and records the full-data loss after every epoch and the time spent.
# The learning rates are each run's own: SGD's single-example gradients are noisy, so it needs a
# smaller step.

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
# Per epoch, small batches win: they take many steps for one pass over the data. Per update, the
# large batches win: each of their steps follows the exact gradient more closely. On real
# hardware a batch of 32–128 costs about as much time as one example, which is why mini-batches
# are the default.
#
# ## Noise vs batch size
#
# A mini-batch gradient g_B is an average of B per-example gradients, so its error around the
# full gradient ḡ shrinks like 1/√B: variance ≈ tr Σ / B. `gradient_noise` measures it:

# %%
noise = batching.gradient_noise(data=(X, y), batch_sizes=(1, 4, 16, 64, 128), draws=300)
plots.loss_curves({"measured √E‖g_B − ḡ‖²": (noise.batch_sizes, np.sqrt(noise.variance)),
                   "√(tr Σ / B)": (noise.batch_sizes, np.sqrt(noise.predicted))},
                  xlabel="batch size B", ylabel="gradient error", title="Gradient noise")

# %% [markdown]
# The per-iteration loss of a mini-batch run shows the same noise: each value is measured on its
# own batch.

# %%
r = runs["mini-batch 32"]
plots.loss_curves({"mini-batch 32": r.iteration_loss},
                  vlines=list(r.epoch_iterations[1:-1] - 0.5), vline_label="epoch boundary",
                  xlabel="iteration", ylabel="batch loss", title="Loss per iteration")

# %% [markdown]
# ## Exercises
#
# 1. N = 50,000 images, batch size 128: how many iterations are 10 epochs?
# 2. By how much must B grow to halve the gradient noise?
# 3. Which `DataLoader` gives batch gradient descent?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. ⌈50000/128⌉ = 391 per epoch, 3910 in all (checked below).
# 2. Four times: the error scales as 1/√B.
# 3. `DataLoader(data, batch_size=len(data))`: one batch, one update per epoch.
#
# </details>

# %%
print(10 * batching.iterations_per_epoch(50_000, 128))
