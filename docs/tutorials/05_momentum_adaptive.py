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
# # 5. Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW
#
# *Covers the notes: Loss optimizer "Momentum", "RMS-Prop", "Adam" (and AdamW), and the slow
# convergence of SGD in an elliptic loss landscape; 인공 신경망의 최적화 "확률적 경사 하강법과
# 최적화 기법" (모멘텀 기반 and 가변 학습률; Adam does both); DAY2 "경사하강법 알고리즘" 2).*
#
# Plain gradient descent uses one fixed step for every weight. In a long, narrow valley that is a
# bad compromise: the steep direction limits μ, and the flat direction then crawls. Each method
# below changes the update to fix that. Every optimizer's docstring carries its update rule
# (`help(optim.Adam)`), and the API reference shows it on the optimizer's page.

# %%
# %matplotlib inline
import numpy as np

import descentlab as dl
from descentlab import optim
from descentlab.lab import plots, trajectories
from descentlab.lab.formula import parse_function
from descentlab.lab.functions import get_function

KAPPA = 25.0
valley = get_function("elliptic_valley", kappa=KAPPA)   # ½(x² + 25·y²)
START = (-1.8, 0.9)


def f(p):
    return 0.5 * (p[0] ** 2 + KAPPA * p[1] ** 2)


def path_of(make_optimizer, steps=60):
    """Run an optimizer class on f from START; return the visited points (steps + 1, 2)."""
    p = dl.tensor(START, dtype=dl.float64, requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


paths = {"gd": path_of(lambda ps: optim.SGD(ps, lr=0.07))}

# %% [markdown]
# ## Gradient descent
#
#     w ← w − μ·∇f(w)
#
# μ must stay below 2/L = 2/25 = 0.08 for the steep y, so x shrinks by only 1 − μ = 0.93 a step.
#
# ## Momentum
#
#     b ← β·b + ∇f(w);   w ← w − μ·b
#
# The velocity b adds up gradients that agree (along the valley) and cancels those that flip sign
# (across it): a ball rolling downhill with inertia.
#
# ## Nesterov
#
#     b ← β·b + ∇f(w);   w ← w − μ·(∇f(w) + β·b)
#
# The same velocity, but the step looks ahead along it, which damps the overshoot.

# %%
paths["momentum"] = path_of(lambda ps: optim.SGD(ps, lr=0.02, momentum=0.8))
paths["nesterov"] = path_of(lambda ps: optim.SGD(ps, lr=0.02, momentum=0.8, nesterov=True))
plots.contour_trajectories(valley, paths, title="½(x² + 25y²): 60 steps")

# %% [markdown]
# ## AdaGrad
#
#     s ← s + g²;   w ← w − μ·g / (√s + ε)
#
# Each coordinate gets its own step size, divided by the root of its accumulated squared
# gradients: steep coordinates get small steps, flat ones large steps. The sum only grows, so
# steps shrink for good.
#
# ## RMSProp
#
#     v ← a·v + (1 − a)·g²;   w ← w − μ·g / (√v + ε)
#
# AdaGrad with a moving average instead of a sum, so the step size can recover.
#
# ## Adam
#
#     m ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²
#     m̂ = m/(1 − β₁ᵗ);   v̂ = v/(1 − β₂ᵗ);   w ← w − μ·m̂ / (√v̂ + ε)
#
# Momentum in the numerator, RMSProp in the denominator, with a bias correction for the zero
# start of m and v.

# %%
adaptive = {
    "gd": paths["gd"],
    "adagrad": path_of(lambda ps: optim.Adagrad(ps, lr=0.5)),
    "rmsprop": path_of(lambda ps: optim.RMSprop(ps, lr=0.05)),
    "adam": path_of(lambda ps: optim.Adam(ps, lr=0.2)),
}
for name, path in adaptive.items():
    step1 = np.abs(path[1] - path[0])
    print(f"{name:<8} first step |Δx| = {step1[0]:.3f}, |Δy| = {step1[1]:.3f}; "
          f"f after 60 steps = {f(dl.tensor(path[-1])).item():.2e}")
plots.contour_trajectories(valley, adaptive, title="Adaptive step sizes, 60 steps")

# %% [markdown]
# GD's first step is 25 times larger in y than in x (it is μ·∇f). AdaGrad, RMSProp and Adam
# normalize each coordinate, so their first steps are about equal in both: large on the gentle
# slope, small on the steep one relative to the gradient.
#
# ## AdamW: why decouple the weight decay
#
# Adam's `weight_decay` adds λ·w to the gradient (L2 regularization), and then that term is
# divided by √v̂ like the rest: weights with large gradients are barely decayed, weights with
# small gradients very much. AdamW instead shrinks every weight by the same factor, outside the
# adaptive step:
#
#     w ← w·(1 − μλ);   then the Adam step
#
# On f = 50(x − 1)² + 0.005(y − 1)² (x is 10⁴ times stiffer than y) with λ = 0.1:

# %%
stiff = parse_function("50*(x - 1)**2 + 0.005*(y - 1)**2", domain=((-0.5, 1.5), (-0.5, 1.5)))
decay = {name: trajectories.run_trajectories(stiff, [0.0, 0.0], name, 3000, lr=0.01,
                                             weight_decay=0.1, record_every=10)
         for name in ("adam", "adamw")}
for name, run in decay.items():
    print(f"{name:<6} ends at ({run.final_positions[0, 0]:.3f}, {run.final_positions[0, 1]:.3f})")
print("L2-regularized optimum: "
      f"({100 / (100 + 0.1):.3f}, {0.01 / (0.01 + 0.1):.3f})")
plots.contour_trajectories(stiff, decay, title="Adam + L2 vs AdamW (λ = 0.1)")

# %% [markdown]
# Adam with L2 goes to the optimum of f + (λ/2)‖w‖², which pulls the flat y nearly to 0 and
# leaves the stiff x alone; AdamW's decay is the same multiplicative shrinkage for both.
#
# ## Exercises
#
# 1. With β = 0.9 and a constant gradient g, what does momentum's velocity b approach?
# 2. Why is Adam's first step about μ in every coordinate, whatever the gradient's size?
# 3. Which of the optimizers above would you pick for a problem whose gradients are sparse
#    (most coordinates are zero most of the time)?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. b = g/(1 − β) = 10·g: the effective step grows tenfold along a consistent slope.
# 2. At t = 1, m̂ = g and v̂ = g², so the step is μ·g/|g| = μ·sign(g) (up to ε) — checked below.
# 3. AdaGrad (or Adam): rarely-updated coordinates keep a small accumulated s and so a large step.
#
# </details>

# %%
p = dl.tensor([3.0, -0.001], requires_grad=True)
opt = optim.Adam([p], lr=0.1)
(p[0] * 7 + p[1] * 0.5).backward()
before = p.detach().numpy().copy()
opt.step()
print(before - p.detach().numpy())
