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
# # 8. Landscapes: convexity, local minima, saddle points, basins
#
# *Covers the notes: week2.최적화 §2.1 (안장점: gradient 0, neither minimum nor maximum) and
# "역전파의 한계" 2 (Non-convex cost function, local minima); 인공 신경망의 최적화 "하강법" (the end
# point depends on the start) and "손실함수와 최적화" (Convex / Concave / Non-convex, the chord
# condition, 볼록성 rules); Loss optimizer (local minimum near the start, escaping with SGD);
# 경사하강법과 가중치 조정 "Local Minima Problem".*

# %%
# %matplotlib inline
from collections import Counter

import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.data import make_moons
from descentlab.lab import analysis, landscape, plots
from descentlab.lab.functions import get_function

# %% [markdown]
# ## Convex or not: the chord test
#
# f is convex when every chord lies above the graph: f((1−t)a + tb) ≤ (1−t)f(a) + t·f(b). For a
# smooth f that is the same as ∇²f ⪰ 0 everywhere. `check_convexity` samples both conditions.

# %%
for name in ("quadratic_bowl", "booth", "himmelblau", "rastrigin"):
    v = analysis.check_convexity(name, samples=300)
    print(f"{name:<15} {'convex' if v.convex else 'NOT convex':<11} "
          f"min Hessian eigenvalue {v.min_hessian_eigenvalue:.3g}")

# %% [markdown]
# A convex function has one basin: every local minimum is global, and gradient descent with a
# small enough step finds it from any start. Networks are not convex.
#
# ## Critical points: minima, maxima, saddles
#
# Where ∇f = 0 the Hessian's eigenvalues decide: all positive → minimum, all negative → maximum,
# mixed signs → saddle point. Himmelblau's function has nine critical points:

# %%
himmelblau = get_function("himmelblau")
points = analysis.find_critical_points(himmelblau, n=20)
print(Counter(p.kind for p in points))
for p in points:
    print(f"  {p.kind:<8} at ({p.location[0]:6.3f}, {p.location[1]:6.3f}), f = {p.value:.3f}")

# %% [markdown]
# ## Saddle points slow gradient descent
#
# Next to the saddle of x² − y², on its attracting axis, GD walks into (0, 0) where ∇f ≈ 0 and
# looks converged; the escaping component grows by only (1 + 2μ) per step. Momentum, Adam and
# gradient noise get out much sooner.

# %%
escape = analysis.saddle_escape(steps=1500)
for name, steps in escape.steps_to_escape.items():
    print(f"{name:<10} {steps if steps is not None else 'stuck'}")
plots.loss_curves({k: v.losses[0] for k, v in escape.trajectories.items()}, log=False,
                  xlabel="step", ylabel="f", title="Escaping the saddle of x² − y²")

# %% [markdown]
# ## Basins of attraction: the start decides the end
#
# Run GD from every point of a grid and colour each start by the minimum it reaches:

# %%
basins = analysis.basins_of_attraction(himmelblau, "gd", n=40, steps=300, lr=0.01)
print("share of starts per minimum:", np.round(basins.fractions(), 3))
plots.basin_map(basins, title="Himmelblau: basins of GD")

# %% [markdown]
# ## A real network's loss landscape and Hessian spectrum
#
# Train a small network on two moons, then look around the weights it found: the loss on the
# straight line from the initial to the final weights, the loss on a plane through the final
# weights along two filter-normalized random directions, and the curvature there (the largest
# Hessian eigenvalue by power iteration on Hessian-vector products, and the trace by Hutchinson's
# estimator — the Hessian itself is never formed).

# %%
dl.manual_seed(0)
X, y = make_moons(n_samples=200, noise=0.15, seed=0)
X, y = dl.tensor(X), dl.tensor(y)
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
closure = landscape.batch_closure(model, nn.CrossEntropyLoss(), X, y)
theta0 = landscape.get_flat_parameters(model)
opt = dl.optim.Adam(model.parameters(), lr=0.05)
for _ in range(200):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
theta1 = landscape.get_flat_parameters(model)
print("final training loss:", round(loss.item(), 4))
line = landscape.linear_interpolation(model, closure, theta0, theta1,
                                      ts=np.linspace(-0.5, 1.5, 41))
plots.landscape_1d(line.ts, line.losses)

# %%
surface = landscape.loss_surface_2d(model, closure, steps=21)
plots.landscape_2d(surface.alphas, surface.betas, surface.losses)

# %%
top = landscape.top_hessian_eigenvalue(model, closure, max_iter=50)
trace = landscape.hessian_trace(model, closure, n_samples=30)
n_params = theta1.size
print(f"{n_params} parameters; largest Hessian eigenvalue λ_max ≈ {top.eigenvalue:.3f}")
print(f"trace ≈ {trace.trace:.3f} ± {trace.std_error:.3f} → mean eigenvalue ≈ "
      f"{trace.trace / n_params:.4f}")
print(f"GD on this network is stable for μ < 2/λ_max ≈ {2 / top.eigenvalue:.2f}")

# %% [markdown]
# Most eigenvalues are tiny compared with λ_max (the mean is far below it): the landscape around
# a trained network is flat in most directions and curved in a few — the elongated valleys that
# momentum and adaptive methods were built for.
#
# ## Exercises
#
# 1. Is f(x, y) = x² + y⁴ convex? Is its minimum a critical point with a positive definite
#    Hessian?
# 2. Using the notes' rules, why is the MSE of a linear model convex in its weights?
# 3. In the basin map, what are the thin boundaries between colours made of?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. Convex (sum of convex functions), but at (0, 0) the Hessian is diag(2, 0): only
#    positive semi-definite. The eigenvalue test is inconclusive there.
# 2. ŷ = Xw is linear in w, the squared norm is convex, and a convex function of an affine map
#    is convex; a sum of convex functions is convex.
# 3. Starts that flow to saddle points (or very slowly away from them): the stable manifolds of
#    the saddles separate the basins.
#
# </details>
