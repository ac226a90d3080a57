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
# # 9. The whole training algorithm, ending in a digits classifier
#
# *Covers the notes: DAY2 "신경망 학습 알고리즘 요약" (1 구조 선택, 2 가중치 랜덤 초기화, 3 순전파,
# 4 비용함수, 5 역전파, 6 경사하강법으로 최소화, 7 중지 기준까지 반복); 경사하강법과 가중치 조정
# "Gradient Descent" steps 1–6 (… 6: stop updating when the parameters reach the optimum);
# week2.최적화 §1 (과적합: the training set alone can mislead).*
#
# The notes list the algorithm in seven steps. Here they are, in code, on scikit-learn's 8×8
# handwritten digits (1,797 images, 10 classes).

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
# ## 1. Choose the architecture
#
# Input units = number of features (64 pixels), output units = number of classes (10), and the
# hidden layers in between are our choice: one of 64 ReLU units.
#
# ## 2. Initialize the weights randomly
#
# `nn.Linear` draws its weights uniformly from ±1/√fan_in, as PyTorch does; the seed makes the
# draw repeatable. Random (not zero) weights break the symmetry between hidden units: with equal
# weights every unit would receive the same gradient and stay identical forever.

# %%
def make_model(seed=0):
    dl.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


model = make_model()
w = model[0].weight.detach().numpy()
print(f"first layer: shape {w.shape}, range [{w.min():.3f}, {w.max():.3f}], "
      f"bound 1/√64 = {1 / 8:.3f}")

# %% [markdown]
# ## 3–6. Forward, loss, backward, update — by hand
#
# One iteration on one mini-batch: forward propagation gives the scores, the cost function
# (cross-entropy) compares them with the labels, backpropagation fills every `.grad`, and gradient
# descent moves each weight against its gradient.

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
# ## 7. Repeat until a stopping criterion: `fit`
#
# `descentlab.train.fit` is that loop over epochs, with an optimizer from `optim` doing step 6,
# validation after each epoch, and callbacks:
#
# - `EarlyStopping` stops when the validation loss has not improved for `patience` epochs — the
#   training loss alone keeps falling while the model starts to overfit;
# - `ModelCheckpoint` saves weights, optimizer state and progress after each epoch (safetensors
#   and JSON, written atomically), so a run can be resumed.

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
# ## Checkpoints and resume
#
# A checkpoint holds everything the run needs to continue — weights, the optimizer's moments,
# the epoch, the callbacks' state and the data loader's shuffle generator — so a run that is
# stopped and resumed ends with the same weights as one that never stopped. We check it: 10
# epochs straight, against 5 epochs + a resume to 10 from a fresh process state.

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
# ## The final model
#
# Accuracy on the held-out test images, and a few predictions:

# %%
Xt, yt = info.test.tensors
with dl.no_grad():
    pred = model(Xt).argmax(dim=1).numpy()
print("test accuracy:", round(float((pred == yt.numpy()).mean()), 4))
print("predicted:", pred[:15])
print("true:     ", yt.numpy()[:15])

# %% [markdown]
# A similar run from the command line (holding out 20 % of the training set for validation):
# `descentlab train --dataset digits --hidden 64 --optimizer adam --lr 0.001 --epochs 60
# --val-split 0.2 --patience 3 --out runs/digits`; `--resume` continues it. The
# [how-to pages](../howto/train-your-data.md) show how to train on your own data.
#
# ## Exercises
#
# 1. Why is the test split not used for anything but evaluation?
# 2. What would happen with all weights initialized to 0 in this network?
# 3. The notes define 1 epoch as one pass over all data. How many iterations did `fit` run per
#    epoch here?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. Choosing anything (weights, epochs, hyperparameters) by it makes its accuracy an optimistic
#    estimate; strictly, early stopping on it (as above, for brevity) already does — use a
#    separate validation split in real work.
# 2. The ReLU hidden units would all output 0 with gradient 0 for their inputs: the first layer
#    never learns, and the output layer only learns the class biases.
# 3. ⌈1438 / 64⌉ = 23 (checked below).
#
# </details>

# %%
print(len(DataLoader(info.train, batch_size=64)))
