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
# # 6. 2차 최적화: 뉴턴 방법, BFGS, L-BFGS
#
# *노트: week2.최적화 §3 "Newton's method", §2.1 기울기가 0이 되는 안장점(saddle point); DAY2
# "경사하강법 알고리즘" 3) (Newton's method 등 2차 최적화 알고리즘 기반 방법들, BFGS 등).*
#
# 경사하강법은 기울기만 씁니다. 뉴턴 방법은 곡률, 즉 헤세 행렬 H = ∇²f도 써서 국소 이차 모델의
# 최솟값으로 바로 이동합니다:
#
#     w ← w − H⁻¹·∇f(w)
#
# descentlab은 기울기를 한 번 더 미분해서(이중 역전파) H를 구합니다. 2차 옵티마이저들은
# `torch.optim.LBFGS`처럼 클로저로 동작합니다: `step(closure)`는 최대 `max_iter`번 반복하면서 f와
# ∇f가 필요할 때마다 클로저를 호출합니다.

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
# ## 이차 함수에서는 한 단계
#
# f(w) = ½wᵀAw − bᵀw에서는 이차 모델이 f 자신이므로, 어디서 시작하든 뉴턴 한 단계로 최솟값 A⁻¹b에
# 도달합니다. `max_iter=1`, 선 탐색 없는 `Newton`이 정확히 그 한 단계를 밟습니다:

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
# ## 안장점에서의 문제
#
# 뉴턴 방법은 ∇f = 0인 점을 찾는데, 안장점도 ∇f = 0입니다. f = x² − y²에서 순수한 뉴턴 단계는
# 최솟값이 아닌 안장점 (0, 0)으로 곧장 갑니다:

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
# `optim.Newton`은 이를 막습니다: H에 음의 고윳값이 있으면 H를 이동시켜(H + μI, Levenberg–Marquardt)
# 방향이 하강하도록 하고, 부정부호 헤세 행렬을 기록(및 경고)합니다. f가 한없이 작아지는 y축 방향으로
# 안장점에서 벗어납니다.

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
# ## 로젠브록 함수에서 뉴턴, BFGS 대 경사하강법
#
# 로젠브록 함수의 휘어진 골짜기는 조건이 나쁩니다(최솟값에서 κ ≈ 2500). (−1.2, 1)에서 ‖∇f‖ <
# 10⁻⁶까지의 반복 횟수:

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
# BFGS는 헤세 행렬을 만들지 않습니다: 단계 사이에 기울기가 어떻게 변했는지(s = Δw, y = Δ∇f)로 H⁻¹의
# 추정치를 만듭니다. L-BFGS는 마지막 m쌍만 저장하므로 메모리가 O(d²) 대신 O(m·d)입니다 — 큰 모델에
# 쓰는 방식입니다.
#
# ## `optim.minimize` 대 SciPy
#
# `optim.minimize(fun, x0, method=...)`는 옵티마이저 전체에 대한 SciPy 방식의 입구입니다: `fun`은
# 1차원 텐서를 스칼라 텐서로 보내고, 자동 미분이 ∇f를(뉴턴 방법에는 ∇²f도) 주고, 실행은 옵티마이저
# 클래스의 `step(closure)` 그대로이며, 결과는 SciPy의 필드(`x`, `fun`, `jac`, `nit`, `nfev`, `njev`,
# `status`, `success`, `message`)를 가진 `OptimizeResult`입니다. 같은 문제를
# `scipy.optimize.minimize`(정확한 기울기와 헤세 행렬을 줌)와 나란히 풉니다:

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
# 두 라이브러리 모두 수십 번의 반복으로 최솟값 (1, 1)에 도달합니다. 경사하강법은 20,000번 후에도
# 수렴하지 못했습니다.
#
# ## 연습 문제
#
# 1. f(w) = (w − 3)²에서 w = 100부터 뉴턴 단계가 몇 번 필요한가요? f(w) = w⁴이라면?
# 2. H의 고윳값이 4와 −1인 점에서 순수 뉴턴 단계는 두 번째 고유벡터 방향으로 내리막으로 가나요,
#    오르막으로 가나요?
# 3. 파라미터가 d개인 모델에서 뉴턴 한 단계가 BFGS 한 단계보다 비싼 이유는?
#
# <details markdown="1"><summary>정답</summary>
#
# 1. 한 번: 이차 함수입니다. w⁴이면 단계는 w − 4w³/12w² = ⅔w이므로 뉴턴이 w를 단계마다 ⅔로만
#    줄입니다 (퇴화된 최솟값에서는 이차가 아니라 선형 수렴) — 아래에서 확인.
# 2. 오르막: 음의 곡률로 나누면 부호가 뒤집히므로, 그 고유벡터를 따라서는 하강 방향과 반대로
#    임계점을 향해 갑니다.
# 3. 뉴턴은 d×d 헤세 행렬(헤세-벡터 곱 d번)과 선형 방정식 풀이 O(d³)가 필요하고, BFGS는 기울기 두
#    개로 d×d 추정치를 O(d²)에, L-BFGS는 O(m·d)에 갱신합니다.
#
# </details>

# %%
v = 1.0
for _ in range(3):
    v = v - 4 * v ** 3 / (12 * v ** 2)
print(v, (2 / 3) ** 3)
