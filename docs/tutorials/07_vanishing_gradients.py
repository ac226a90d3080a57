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
# # 7. Vanishing and exploding gradients
#
# *Covers the notes: week2.최적화 "역전파의 한계" 1 (기울기 소실 / 기울기 폭주: sigmoid's small
# gradient, the fix by other activations or Adam); 인공 신경망의 최적화 "기울기 사라짐"
# (∂pₙ/∂w₁ → 0, ReLU and Leaky ReLU); 경사하강법과 가중치 조정 "ReLU와 Sigmoid" and
# "Vanishing Gradient" (Leaky ReLU, PReLU, ELU, 가중치 초기화, 배치 정규화,
# Residual Connections, Gradient Clipping).*
#
# Backpropagation multiplies one local derivative per layer. If those factors are mostly below 1
# the gradient shrinks geometrically on its way to the first layers (**vanishing**); if mostly
# above 1 it grows (**exploding**). We measure it layer by layer at initialization.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.data import make_spiral
from descentlab.lab import diagnostics, plots

# %% [markdown]
# ## Why sigmoid: its derivative is at most ¼
#
# σ′(z) = σ(z)(1 − σ(z)) ≤ ¼, so ten sigmoid layers multiply the gradient by at most 4⁻¹⁰ ≈ 10⁻⁶
# (before the weights). ReLU's derivative is exactly 1 for z > 0.

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
# ## Per-layer gradient norms of a 10-layer network
#
# `gradient_report` builds a deep MLP (width 32) with the given activation, initialization and
# remedy, runs one forward/backward of cross-entropy on a 3-class spiral and reports the RMS
# gradient of each layer's weights. ρ = layer 1 / layer 10: ρ ≪ 1 is vanishing, ρ ≫ 1 exploding.

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
# - **Activation.** Sigmoid vanishes (ρ around 10⁻⁸); tanh (derivative up to 1) and the ReLU
#   family far less, but with PyTorch's default initialization (uniform ±1/√fan_in) they still
#   shrink.
# - **Initialization.** He init (variance 2/fan_in) keeps ReLU signals at a constant scale:
#   relu/he is healthy. Xavier helps sigmoid only a little, because σ′ ≤ ¼ remains. Weights
#   three times too large (tanh, Xavier × 3) make the gradient explode instead.
# - **BatchNorm** rescales every layer's pre-activations to unit variance, so σ works in its
#   steep region; the gradient no longer vanishes (here it even overshoots a little: ρ > 1).
# - **Residual connections** add the identity to every layer's Jacobian: y = x + F(x) gives
#   ∂y/∂x = I + ∂F/∂x, a path along which the gradient is not multiplied down (ρ moves up by
#   about six orders of magnitude).
#
# ## PReLU: a learned negative slope
#
# The table's helper does not build PReLU networks, so we build one with `nn` and measure the
# same quantity ourselves: PReLU(z) = max(0, z) + a·min(0, z) with a learnable a (0.25 at start).

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
# ## Gradient clipping
#
# Clipping caps the *total* gradient norm: all gradients are scaled by min(1, c/‖g‖). It stops an
# exploding step from wrecking the weights, but it scales all layers alike, so it does not change
# the ratio between them — it treats the symptom (step size), not the cause.

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
# ## Exercises
#
# 1. Upper bound on the factor that 20 sigmoid layers put on the gradient (ignoring weights)?
# 2. Why does ReLU still have a problem for negative inputs, and what fixes it?
# 3. A network's loss turns into NaN after a few steps. Which two remedies of this lesson would
#    you try first?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. (¼)²⁰ ≈ 9·10⁻¹³.
# 2. Its derivative is 0 for z < 0: a unit stuck there never updates ("dying ReLU"). Leaky
#    ReLU, PReLU and ELU keep a small slope there.
# 3. Gradient clipping (caps the step) and a smaller learning rate or a better initialization;
#    `descentlab.train.fit(..., clip_grad_norm=1.0)` does the clipping for you.
#
# </details>

# %%
print(0.25 ** 20)
