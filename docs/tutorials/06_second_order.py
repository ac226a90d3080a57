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
# # 6. Second order: Newton's method, BFGS and L-BFGS
#
# *Covers the notes: week2.최적화 §3 "Newton's method" and §2.1 the saddle point (안장점) where
# the gradient is 0; DAY2 "경사하강법 알고리즘" 3) (Newton's method and 2차 최적화 such as BFGS).*
#
# Gradient descent uses the slope only. Newton's method also uses the curvature, the Hessian
# H = ∇²f, and jumps to the minimum of the local quadratic model:
#
#     w ← w − H⁻¹·∇f(w)
#
# descentlab computes H by differentiating the gradient once more (double backward). The
# second-order optimizers are closure-driven, as `torch.optim.LBFGS`: `step(closure)` runs up to
# `max_iter` iterations, calling the closure whenever it needs f and ∇f.

# %%
# %matplotlib inline
import warnings

import numpy as np
from scipy import optimize as sopt

import descentlab as dl
from descentlab import optim
from descentlab.autograd.functional import hessian
from descentlab.lab import plots
from descentlab.lab.functions import get_function
from descentlab.lab.trajectories import run_trajectories

# %% [markdown]
# ## One step on a quadratic
#
# For f(w) = ½wᵀAw − bᵀw the quadratic model is f itself, so one Newton step from anywhere lands
# on the minimum A⁻¹b. `Newton` with `max_iter=1` and no line search takes exactly that step:

# %%
A = dl.tensor([[3.0, 1.0], [1.0, 20.0]], dtype=dl.float64)
b = dl.tensor([1.0, -2.0], dtype=dl.float64)
w = dl.tensor([5.0, 5.0], dtype=dl.float64, requires_grad=True)
newton = optim.Newton([w], max_iter=1, line_search_fn=None)


def closure():
    newton.zero_grad()
    loss = 0.5 * (w @ (A @ w)) - b @ w
    loss.backward()
    return loss


newton.step(closure)
print("after one Newton step:", w.detach().numpy())
print("A⁻¹b (NumPy solve):   ", np.linalg.solve(A.numpy(), b.numpy()))

# %% [markdown]
# ## Trouble at saddles
#
# Newton's method looks for ∇f = 0, and a saddle point also has ∇f = 0. On f = x² − y² the pure
# Newton step goes straight to the saddle (0, 0), which is not a minimum:

# %%
def saddle(p):
    return p[0] ** 2 - p[1] ** 2


p = dl.tensor([1.0, 0.5], dtype=dl.float64, requires_grad=True)
(grad,) = dl.autograd.grad(saddle(p), p)
H = hessian(saddle, p.detach())
step = -np.linalg.solve(H.numpy(), grad.numpy())
print("Hessian eigenvalues:", np.linalg.eigvalsh(H.numpy()), "→ indefinite")
print("pure Newton lands on", p.detach().numpy() + step)

# %% [markdown]
# `optim.Newton` guards against that: when H has a negative eigenvalue it shifts it
# (H + μI, Levenberg–Marquardt) so the direction descends, and it records (and warns about) the
# indefinite Hessian. It walks away from the saddle along the y axis, where f decreases without
# bound.

# %%
q = dl.tensor([1.0, 0.5], dtype=dl.float64, requires_grad=True)
guarded = optim.Newton([q], max_iter=3)


def saddle_closure():
    guarded.zero_grad()
    loss = saddle(q)
    loss.backward()
    return loss


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    guarded.step(saddle_closure)
print("guarded Newton:", q.detach().numpy(), " f =", saddle(q).item())
print(guarded.history[0]["message"])

# %% [markdown]
# ## Newton and BFGS against gradient descent on Rosenbrock
#
# Rosenbrock's curved valley is badly conditioned (κ ≈ 2500 at the minimum). Iterations until
# ‖∇f‖ < 10⁻⁶ from (−1.2, 1):

# %%
rosen = get_function("rosenbrock")
runs = {"gd": run_trajectories(rosen, [-1.2, 1.0], "gd", 20000, lr=1e-3, gtol=1e-6,
                               record_every=20),
        "newton": run_trajectories(rosen, [-1.2, 1.0], "newton", 100, gtol=1e-6),
        "bfgs": run_trajectories(rosen, [-1.2, 1.0], "bfgs", 200, gtol=1e-6)}
for name, run in runs.items():
    n = run.steps_to_converge[0]
    print(f"{name:<7} iterations: {n if n >= 0 else 'not within ' + str(run.recorded_steps[-1])}"
          f"   final f = {run.final_losses[0]:.2e}")
plots.contour_trajectories(rosen, runs, title="Rosenbrock: GD, Newton, BFGS")

# %% [markdown]
# BFGS never forms the Hessian: it builds an estimate of H⁻¹ from how the gradient changed
# between steps (s = Δw, y = Δ∇f). L-BFGS keeps only the last m pairs, so its memory is O(m·d)
# instead of O(d²) — the version used for large models.
#
# ## `optim.minimize` against SciPy
#
# `optim.minimize(fun, x0, method=...)` is SciPy's front door to the whole family: `fun` maps a
# 1-D tensor to a scalar tensor, autograd supplies ∇f (and ∇²f for the Newton methods), the run is
# the optimizer class's own `step(closure)`, and the result is an `OptimizeResult` with SciPy's
# fields (`x`, `fun`, `jac`, `nit`, `nfev`, `njev`, `status`, `success`, `message`). Side by side
# with `scipy.optimize.minimize` on the same problem, SciPy given its exact gradient and Hessian:

# %%
def rosen_value(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Newton-CG reports the negative curvature it meets
    for ours, theirs in [("bfgs", "BFGS"), ("l-bfgs", "L-BFGS-B"), ("newton-cg", "Newton-CG")]:
        r = optim.minimize(rosen_value, [-1.2, 1.0], method=ours)
        s = sopt.minimize(sopt.rosen, [-1.2, 1.0], method=theirs, jac=sopt.rosen_der,
                          hess=sopt.rosen_hess if theirs == "Newton-CG" else None)
        print(f"{ours:<9} descentlab: nit {r.nit:>3}, nfev {r.nfev:>3}, x {np.round(r.x, 6)}, "
              f"f {r.fun:.1e} | SciPy {theirs}: nit {s.nit:>3}, nfev {s.nfev:>3}, "
              f"x {np.round(s.x, 6)}, f {s.fun:.1e}")

# %%
optim.minimize(rosen_value, [-1.2, 1.0], method="bfgs")

# %% [markdown]
# Both libraries reach the minimum (1, 1) in a few dozen iterations, where gradient descent had
# not converged after 20,000.
#
# ## Exercises
#
# 1. How many Newton steps does f(w) = (w − 3)² need from w = 100? And f(w) = w⁴?
# 2. At a point where H has eigenvalues 4 and −1, in which direction does the pure Newton step
#    move along the second eigenvector: downhill or uphill?
# 3. Why does one Newton step cost more than one BFGS step for a model with d parameters?
#
# <details markdown="1"><summary>Answers</summary>
#
# 1. One: the function is quadratic. For w⁴, the step is w − 4w³/12w² = ⅔w, so Newton only
#    shrinks w by ⅔ a step (linear, not quadratic, convergence at a degenerate minimum) —
#    checked below.
# 2. Uphill: dividing by a negative curvature flips the sign, so along that eigenvector Newton
#    moves toward the critical point, against the descent direction.
# 3. Newton needs the d×d Hessian (d Hessian-vector products) and a solve, O(d³); BFGS updates
#    its d×d estimate in O(d²) from two gradients, and L-BFGS in O(m·d).
#
# </details>

# %%
v = 1.0
for _ in range(3):
    v = v - 4 * v ** 3 / (12 * v ** 2)
print(v, (2 / 3) ** 3)
