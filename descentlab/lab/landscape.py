"""Neural-network loss landscapes: interpolation, filter-normalized 2-D slices, Hessian spectra.

A network's loss L(θ) lives in millions of dimensions; these tools look at it through low-
dimensional windows (Goodfellow et al. 2015; Li et al. 2018) and measure its curvature with
Hessian-vector products H·v = ∇(∇L·v) (double backward; the Hessian is never formed):

- ``linear_interpolation``: L((1−t)·θ₀ + t·θ₁) along the segment between two parameter vectors.
- ``loss_surface_2d``: L(θ + α·δ + β·η) on a grid, δ and η random and filter-normalized.
- ``top_hessian_eigenvalue``: power iteration v ← Hv/‖Hv‖ (the sharpness λ_max).
- ``hessian_trace``: Hutchinson's estimator tr H = E[zᵀHz], z Rademacher.

Every function takes the model and a ``closure`` that recomputes the loss from the model's
current parameters (as ``optimizer.step(closure)``; ``batch_closure`` makes one), moves the
parameters as it needs and restores them — and every buffer, e.g. BatchNorm running stats —
before returning, even on error.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..autograd import creation as _c
from ..autograd.function import enable_grad, no_grad
from ..autograd.functional import gradient_hvp
from ..autograd.grad import grad as _grad
from ..autograd.tensor import Tensor
from ..nn import Module
from ..optim.flat import FlatParameters

__all__ = [
    "EigenResult", "Interpolation", "Surface", "TraceResult", "batch_closure", "filter_normalize",
    "get_flat_parameters", "hessian_trace", "hvp_operator", "linear_interpolation",
    "loss_surface_2d", "random_direction", "set_flat_parameters", "top_hessian_eigenvalue",
    "MoonsMlpLandscape", "moons_mlp_landscape",
]

Closure = Callable[[], Tensor]


def batch_closure(model: Module, criterion: Callable[[Tensor, Tensor], Tensor], inputs: Any,
                  targets: Any) -> Closure:
    """closure() = criterion(model(inputs), targets), the loss on one fixed batch."""
    x = inputs if isinstance(inputs, Tensor) else _c.tensor(inputs)
    y = targets if isinstance(targets, Tensor) else _c.tensor(targets)
    return lambda: criterion(model(x), y)


def _params(model: Module) -> list[Tensor]:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no parameters with requires_grad=True; nothing to probe")
    return params


def _flat(model: Module) -> FlatParameters:
    return FlatParameters(_params(model), np.float64)


def get_flat_parameters(model: Module) -> np.ndarray:
    """θ: every trainable parameter, flattened and concatenated (a copy, float64)."""
    return _flat(model).get()


def set_flat_parameters(model: Module, theta: np.ndarray) -> None:
    """Write the flat vector θ (layout of ``get_flat_parameters``) into the model, in place."""
    flat = _flat(model)
    if np.shape(theta) != (flat.size,):
        raise ValueError(f"theta has shape {np.shape(theta)} but the model has {flat.size} "
                         f"trainable values; pass get_flat_parameters(model)-shaped vectors")
    flat.set(theta)


@contextmanager
def _restoring(model: Module) -> Iterator[None]:
    """Snapshot parameters and buffers; put them back on exit (the probe must leave no trace)."""
    saved = [(t, t._data.copy()) for t in [*model.parameters(), *model.buffers()]]
    try:
        yield
    finally:
        for t, data in saved:
            np.copyto(t._data, data)
            t._bump_version()


def _loss_value(closure: Closure) -> float:
    with no_grad():
        return float(closure().item())


# ------------------------------------------------------------------------------ interpolation
@dataclass
class Interpolation:
    """L along θ(t) = (1−t)·θ₀ + t·θ₁: ``ts`` and ``losses`` have the same length."""

    ts: np.ndarray
    losses: np.ndarray


def linear_interpolation(model: Module, closure: Closure, theta0: np.ndarray,
                         theta1: np.ndarray,
                         ts: Sequence[float] | np.ndarray | None = None) -> Interpolation:
    """L((1−t)·θ₀ + t·θ₁) for each t (Goodfellow, Vinyals & Saxe 2015).

    t = 0 gives L(θ₀) and t = 1 gives L(θ₁); t outside [0, 1] extrapolates past the ends.
    Default ts: linspace(−0.5, 1.5, 41), which contains 0 and 1.
    θ₀, θ₁ are flat vectors as from ``get_flat_parameters`` (e.g. at init and after training).
    """
    theta0, theta1 = np.asarray(theta0, np.float64), np.asarray(theta1, np.float64)
    if theta0.shape != theta1.shape:
        raise ValueError(f"theta0 {theta0.shape} and theta1 {theta1.shape} must have the same "
                         f"shape (both from get_flat_parameters of the same model)")
    ts = np.linspace(-0.5, 1.5, 41) if ts is None else np.array(ts, dtype=np.float64)
    losses = np.empty_like(ts)
    with _restoring(model):
        for i, t in enumerate(ts):
            set_flat_parameters(model, (1.0 - t) * theta0 + t * theta1)
            losses[i] = _loss_value(closure)
    return Interpolation(ts, losses)


# --------------------------------------------------------------------- filter-normalized plots
def filter_normalize(direction: Sequence[np.ndarray], weights: Sequence[np.ndarray],
                     ignore_bias_bn: bool = True) -> list[np.ndarray]:
    """Li et al. (2018) filter normalization, per parameter tensor d with weights w.

        d_i ← d_i · ‖w_i‖ / ‖d_i‖ for every filter i (a row d[i] of a Linear weight, an output
        channel d[i, :, :, :] of a conv kernel);
        1-D tensors (biases, BatchNorm γ/β): d ← 0 if ``ignore_bias_bn`` (the paper's choice),
        else d ← w.

    The scale of each step then matches the scale of the filter it moves, so plots of different
    networks (whose weights are scale-invariant under BatchNorm) are comparable.
    """
    if len(direction) != len(weights):
        raise ValueError(f"direction has {len(direction)} tensors but weights has {len(weights)}")
    out = []
    for d, w in zip(direction, weights):
        d, w = np.asarray(d, np.float64), np.asarray(w, np.float64)
        if d.shape != w.shape:
            raise ValueError(f"direction tensor of shape {d.shape} does not match its weight "
                             f"{w.shape}")
        if d.ndim <= 1:
            out.append(np.zeros_like(d) if ignore_bias_bn else w.copy())
            continue
        axes = tuple(range(1, d.ndim))
        d_norm = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
        w_norm = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
        # The 1e-10 keeps an all-zero random row (probability ~0) from dividing by zero.
        out.append(d * (w_norm / (d_norm + 1e-10)))
    return out


def random_direction(model: Module, seed: int | np.random.Generator | None = None,
                     normalize: bool = True, ignore_bias_bn: bool = True) -> list[np.ndarray]:
    """A Gaussian direction shaped like the model's trainable parameters, filter-normalized.

    d ~ N(0, I) per tensor, then ``filter_normalize(d, θ)`` unless ``normalize=False``.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    weights = [p._data for p in _params(model)]
    d = [rng.standard_normal(w.shape) for w in weights]
    return filter_normalize(d, weights, ignore_bias_bn) if normalize else d


@dataclass
class Surface:
    """L(θ + α·δ + β·η) on a grid: ``losses[j, i]`` is at (alphas[i], betas[j]) — rows follow
    β, as matplotlib's ``contourf(alphas, betas, losses)`` and ``plots.landscape_2d`` expect.

    ``directions`` are (δ, η), per-tensor lists, so the same slice can be recomputed.
    """

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    center_loss: float
    directions: tuple[list[np.ndarray], list[np.ndarray]]


def loss_surface_2d(model: Module, closure: Closure, steps: int = 21,
                    span: tuple[float, float] = (-1.0, 1.0),
                    directions: tuple[Sequence[np.ndarray], Sequence[np.ndarray]] | None = None,
                    seed: int | None = 0, ignore_bias_bn: bool = True) -> Surface:
    """The 2-D loss surface around the current θ along two filter-normalized random directions.

        losses[j, i] = L(θ + α_i·δ + β_j·η),  α, β ∈ linspace(span, steps)

    Args:
        steps: grid points per axis (the closure runs steps² times); at most 401.
        directions: your own (δ, η) as per-tensor lists; default two ``random_direction``s
            drawn from ``seed``.
    """
    if not 2 <= steps <= 401:
        raise ValueError(f"steps must be in [2, 401] (got {steps}): the closure runs steps² times")
    params = _params(model)
    if directions is None:
        rng = np.random.default_rng(seed)
        directions = (random_direction(model, rng, True, ignore_bias_bn),
                      random_direction(model, rng, True, ignore_bias_bn))
    delta = [np.asarray(d, np.float64) for d in directions[0]]
    eta = [np.asarray(d, np.float64) for d in directions[1]]
    for dirs in (delta, eta):
        if [d.shape for d in dirs] != [p.shape for p in params]:
            raise ValueError("each direction must be a list with one array per trainable "
                             "parameter, of the same shapes (use random_direction(model))")
    alphas = np.linspace(span[0], span[1], steps)
    betas = np.linspace(span[0], span[1], steps)
    losses = np.empty((steps, steps))
    with _restoring(model):
        center = [p._data.astype(np.float64) for p in params]
        center_loss = _loss_value(closure)
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                for p, c, d, e in zip(params, center, delta, eta):
                    np.copyto(p._data, c + a * d + b * e, casting="unsafe")
                    p._bump_version()
                losses[j, i] = _loss_value(closure)
    return Surface(alphas, betas, losses, center_loss, (delta, eta))


# ------------------------------------------------------------------------------------ Hessian
def hvp_operator(model: Module, closure: Closure) -> Callable[[np.ndarray], np.ndarray]:
    """v ↦ H·v at the current θ, on flat vectors (layout of ``get_flat_parameters``).

        g = ∇L(θ) is built once with create_graph=True; each call is one more backward,
        H·v = ∇_θ (g·v).

    The operator holds the graph of g; build a new one after the parameters change.
    """
    flat = _flat(model)
    params = flat.params
    with enable_grad():
        loss = closure()
        grads = _grad(loss, params, create_graph=True, allow_unused=True)
    if all(g is None or not g.requires_grad for g in grads):
        raise ValueError("the loss is linear in the parameters (or ignores them): H = 0")

    def hvp(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, np.float64)
        if v.shape != (flat.size,):
            raise ValueError(f"v has shape {v.shape}; expected ({flat.size},)")
        vectors = [_c.tensor(piece, dtype=p.dtype) for piece, p in zip(flat.split(v), params)]
        hv = gradient_hvp(grads, params, vectors)
        return flat.join([None if h is None else h._data for h in hv])

    return hvp


@dataclass
class EigenResult:
    """Power iteration's answer: λ (the eigenvalue of largest |λ|, with its sign), the unit
    eigenvector (flat), iterations used, whether |Δλ| ≤ tol·|λ| was reached, and λ per step."""

    eigenvalue: float
    eigenvector: np.ndarray
    iterations: int
    converged: bool
    history: np.ndarray


def top_hessian_eigenvalue(model: Module, closure: Closure, max_iter: int = 100,
                           tol: float = 1e-6, seed: int | None = 0) -> EigenResult:
    """The Hessian eigenvalue of largest magnitude by power iteration on H·v products.

        v₀ ~ N(0, I)/‖·‖;  w = H·v_k;  λ_k = v_kᵀ·w (Rayleigh quotient);  v_{k+1} = w/‖w‖;
        stop when |λ_k − λ_{k−1}| ≤ tol·|λ_k|.

    Convergence is geometric with rate |λ₂/λ₁|; a near-tie needs more ``max_iter``. Each step
    costs one double-backward; the Hessian is never formed.
    """
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1 (got {max_iter})")
    with _restoring(model):
        hvp = hvp_operator(model, closure)
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(sum(p.numel() for p in _params(model)))
        v /= np.linalg.norm(v)
        history: list[float] = []
        converged = False
        for _ in range(max_iter):
            w = hvp(v)
            lam = float(v @ w)
            history.append(lam)
            norm = np.linalg.norm(w)
            if norm == 0.0:
                converged = True
                break
            v = w / norm
            if len(history) > 1 and abs(lam - history[-2]) <= tol * abs(lam):
                converged = True
                break
    return EigenResult(history[-1], v, len(history), converged, np.asarray(history))


@dataclass
class TraceResult:
    """Hutchinson's estimate of tr H: the mean of zᵀHz, its standard error, and every sample."""

    trace: float
    std_error: float
    samples: np.ndarray


def hessian_trace(model: Module, closure: Closure, n_samples: int = 100,
                  seed: int | None = 0) -> TraceResult:
    """tr H ≈ (1/m)·Σ zᵢᵀ·H·zᵢ with Rademacher zᵢ ∈ {±1}ⁿ (Hutchinson 1989).

    Unbiased since E[zzᵀ] = I; Var(zᵀHz) = 2·Σ_{i≠j} H_ij², so the standard error falls as 1/√m
    (and is 0 for a diagonal H: Rademacher beats Gaussian probes here).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1 (got {n_samples})")
    with _restoring(model):
        hvp = hvp_operator(model, closure)
        rng = np.random.default_rng(seed)
        n = sum(p.numel() for p in _params(model))
        samples = np.empty(n_samples)
        for k in range(n_samples):
            z = rng.integers(0, 2, n) * 2.0 - 1.0
            samples[k] = z @ hvp(z)
    err = float(samples.std(ddof=1) / np.sqrt(n_samples)) if n_samples > 1 else float("nan")
    return TraceResult(float(samples.mean()), err, samples)


# ------------------------------------------------------------------ the lab's landscape lesson

@dataclass
class MoonsMlpLandscape:
    """What ``moons_mlp_landscape`` measured: the path from init to trained weights, the 2-D
    slice around the trained weights, the sharpness and the Hessian trace there, the loss at
    init and the seconds the whole call took (training and measuring)."""

    line: Interpolation
    surface: Surface
    eigen: EigenResult
    trace: TraceResult
    init_loss: float
    seconds: float


def moons_mlp_landscape(width: int = 16, samples: int = 200, epochs: int = 200, grid: int = 21,
                        seed: int = 0, lr: float = 0.05) -> MoonsMlpLandscape:
    """Train a 2-``width``-2 tanh MLP on two moons with full-batch Adam, then look at its loss.

        θ₀ = init, θ₁ = after ``epochs`` Adam steps on L(θ) = cross-entropy over all points;
        L((1−t)·θ₀ + t·θ₁) along the segment, L(θ₁ + α·δ + β·η) on a ``grid``², λ_max of ∇²L(θ₁)
        (50 power iterations) and tr ∇²L(θ₁) (20 Hutchinson samples).

    Args:
        width: hidden units.  samples: two-moons points (noise 0.2, standardized).
        epochs: full-batch Adam steps at learning rate ``lr``.
        grid: points per side of the 2-D slice.  seed: data, weights and directions.
    """
    import time

    from .. import nn, optim
    from ..autograd.dtypes import manual_seed
    from ..data import make_moons

    inputs, targets = make_moons(n_samples=samples, noise=0.2, seed=seed)
    inputs = np.asarray(inputs, np.float64)
    inputs = (inputs - inputs.mean(0)) / inputs.std(0)
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, width, dtype=np.float64), nn.Tanh(),
                          nn.Linear(width, 2, dtype=np.float64))
    closure = batch_closure(model, nn.functional.cross_entropy, inputs,
                            np.asarray(targets, np.int64))
    theta0 = get_flat_parameters(model)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    started = time.perf_counter()
    for _ in range(epochs):
        optimizer.zero_grad()
        closure().backward()
        optimizer.step()
    line = linear_interpolation(model, closure, theta0, get_flat_parameters(model))
    surface = loss_surface_2d(model, closure, steps=grid, seed=seed)
    eigen = top_hessian_eigenvalue(model, closure, max_iter=50)
    trace = hessian_trace(model, closure, n_samples=20)
    init_loss = float(line.losses[np.argmin(np.abs(line.ts))])
    return MoonsMlpLandscape(line, surface, eigen, trace, init_loss,
                             time.perf_counter() - started)
