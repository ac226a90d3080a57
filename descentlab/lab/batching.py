"""GD vs SGD vs mini-batch: the same model and init trained with batch N, 1 and B, and the noise
of the mini-batch gradient as a function of B.

Vocabulary (the notes' example): an *iteration* is one update, on one batch; an *epoch* is one
pass over all N samples, i.e. ⌈N/B⌉ iterations — 1000 samples with batch 25 make 40 iterations
per epoch, so 100 epochs are 4000 iterations. Batch GD (B = N) makes one exact step per epoch;
SGD (B = 1) makes N noisy ones; mini-batch sits between.

Noise: with per-sample gradients gᵢ, full gradient ḡ = (1/N)Σgᵢ and covariance trace
tr Σ = (1/N)Σ‖gᵢ − ḡ‖², a mini-batch mean g_B of B samples drawn with replacement has

    E‖g_B − ḡ‖² = tr Σ / B,    (without replacement: tr Σ / B · (N − B)/(N − 1)),

so quadrupling the batch halves the gradient's standard deviation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from .. import nn, optim
from ..autograd import creation as _c
from ..autograd.dtypes import Generator
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..data import DataLoader, TensorDataset, make_moons
from ..nn import functional as F
from ..nn.norm import _BatchNorm

__all__ = [
    "BatchRun", "GradientNoise", "compare_batch_sizes", "gradient_noise", "iterations_per_epoch",
    "per_sample_gradients",
]


def iterations_per_epoch(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """Updates in one epoch: ⌈N/B⌉ (⌊N/B⌋ with ``drop_last``), as ``len(DataLoader)``."""
    if n_samples < 1 or batch_size < 1:
        raise ValueError(f"n_samples and batch_size must be >= 1 (got {n_samples}, {batch_size})")
    return n_samples // batch_size if drop_last else math.ceil(n_samples / batch_size)


def _default_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n_samples=200, noise=0.2, seed=seed)
    X = np.asarray(X, np.float64)
    return (X - X.mean(0)) / X.std(0), np.asarray(y, np.int64)


def _mlp(in_features: int, hidden: Sequence[int], classes: int, seed: int) -> nn.Module:
    """A tanh MLP, torch's default init drawn from a private generator (global RNG untouched)."""
    gen = Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    width = in_features
    for h in (*hidden, classes):
        linear = nn.Linear(width, h, dtype=np.float64)
        nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=gen)
        nn.init.uniform_(linear.bias, -1 / math.sqrt(width), 1 / math.sqrt(width), generator=gen)
        layers += [linear, nn.Tanh()]
        width = h
    return nn.Sequential(*layers[:-1])


@dataclass
class BatchRun:
    """One training run. Per epoch (index 0 = before training): ``epoch_loss`` is the loss on
    the whole training set, ``epoch_iterations`` the updates so far, ``epoch_time`` the training
    seconds so far (evaluation excluded). Per update: ``iteration_loss`` is the mini-batch loss
    the step was taken on (noisy for small B), ``iteration_time`` the seconds so far."""

    name: str
    batch_size: int
    lr: float
    iterations_per_epoch: int
    epoch_loss: np.ndarray
    epoch_iterations: np.ndarray
    epoch_time: np.ndarray
    iteration_loss: np.ndarray
    iteration_time: np.ndarray

    @property
    def epochs(self) -> np.ndarray:
        """0, 1, …, E: the x axis of ``epoch_loss``."""
        return np.arange(len(self.epoch_loss))


def compare_batch_sizes(data: tuple[np.ndarray, np.ndarray] | None = None,
                        batch_sizes: Mapping[str, int | None] | None = None, epochs: int = 20,
                        lr: float | Mapping[str, float] = 0.1, hidden: Sequence[int] = (16,),
                        seed: int = 0) -> dict[str, BatchRun]:
    """Train one MLP from one init with several batch sizes using ``optim.SGD``; record losses.

        for each epoch: for each batch b (shuffled, seeded): w ← w − α·∇L_b(w)

    Args:
        data: (X, y) for classification (float features, integer labels); default 200
            standardized two-moons points.
        batch_sizes: name → B; ``None`` means the full set (batch GD). Default
            ``{"GD": None, "SGD": 1, "mini-batch": 32}``.
        epochs: passes over the data per run.
        lr: one learning rate for every run (the default, so only B differs), or name → α.
        hidden: hidden widths of the tanh MLP.
        seed: seeds the init (shared by all runs), the data and each run's shuffling.
    Returns:
        name → BatchRun, in the order of ``batch_sizes``.
    """
    X, y = _default_data(seed) if data is None else (np.asarray(data[0], np.float64),
                                                     np.asarray(data[1], np.int64))
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"data must be (X, y) with X (n, features) and y (n,); got {X.shape} "
                         f"and {y.shape}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1 (got {epochs})")
    n = len(X)
    sizes = dict(batch_sizes) if batch_sizes is not None else {"GD": None, "SGD": 1,
                                                                "mini-batch": 32}
    lrs = {name: lr for name in sizes} if not isinstance(lr, Mapping) else dict(lr)
    missing = [name for name in sizes if name not in lrs]
    if missing:
        raise ValueError(f"lr has no entry for {', '.join(missing)}; give one α per batch size "
                         f"or a single float")
    model = _mlp(X.shape[1], hidden, int(y.max()) + 1, seed)
    init_state = {k: v.clone() for k, v in model.state_dict().items()}
    Xt, yt = _c.tensor(X), _c.tensor(y)

    def full_loss() -> float:
        with no_grad():
            return float(F.cross_entropy(model(Xt), yt).item())

    runs = {}
    for k, (name, size) in enumerate(sizes.items()):
        b = n if size is None else int(size)
        if not 1 <= b <= n:
            raise ValueError(f"batch size for {name!r} must be in [1, {n}] (got {size})")
        model.load_state_dict(init_state)
        opt = optim.SGD(model.parameters(), lr=lrs[name])
        loader = DataLoader(TensorDataset(Xt, yt), batch_size=b, shuffle=b < n,
                            generator=Generator().manual_seed(seed + 1 + k))
        epoch_loss, epoch_time, it_loss, it_time = [full_loss()], [0.0], [], []
        elapsed = 0.0
        for _ in range(epochs):
            start = time.perf_counter()
            for xb, yb in loader:
                opt.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                it_loss.append(float(loss.item()))
                it_time.append(elapsed + time.perf_counter() - start)
            elapsed += time.perf_counter() - start
            epoch_time.append(elapsed)
            epoch_loss.append(full_loss())
        per_epoch = len(loader)
        runs[name] = BatchRun(name, b, float(lrs[name]), per_epoch, np.asarray(epoch_loss),
                              np.arange(epochs + 1) * per_epoch, np.asarray(epoch_time),
                              np.asarray(it_loss), np.asarray(it_time))
    return runs


def per_sample_gradients(model: nn.Module, X: np.ndarray, y: np.ndarray,
                         criterion: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy
                         ) -> np.ndarray:
    """G with G[i] = ∇_θ ℓ(f(xᵢ), yᵢ), flattened over the trainable parameters: shape (N, P).

    One backward per sample. The mean of G's rows over any batch equals the batch gradient of a
    mean-reduced loss — true unless samples interact (BatchNorm in train mode), which is refused.
    """
    if any(isinstance(m, _BatchNorm) and m.training for m in model.modules()):
        raise ValueError("per-sample gradients are undefined with BatchNorm in train mode (the "
                         "batch statistics couple the samples); call model.eval() first")
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(len(X)):
        for p in params:
            p.grad = None
        criterion(model(_c.tensor(X[i:i + 1])), _c.tensor(y[i:i + 1])).backward()
        rows.append(np.concatenate([np.zeros(p.numel()) if p.grad is None
                                    else p.grad._data.ravel() for p in params]))
    for p in params:
        p.grad = None
    return np.asarray(rows, dtype=np.float64)


@dataclass
class GradientNoise:
    """Measured vs predicted mini-batch gradient noise, one entry per batch size.

    ``variance[k]`` = mean over draws of ‖g_B − ḡ‖² for B = batch_sizes[k]; ``predicted[k]`` =
    tr Σ / B (· (N − B)/(N − 1) without replacement); ``trace_cov`` = tr Σ;
    ``full_grad_norm`` = ‖ḡ‖ (noise is large when √variance ≳ ‖ḡ‖).
    """

    batch_sizes: np.ndarray
    variance: np.ndarray
    predicted: np.ndarray
    trace_cov: float
    full_grad_norm: float
    draws: int
    replace: bool


def gradient_noise(model: nn.Module | None = None,
                   data: tuple[np.ndarray, np.ndarray] | None = None,
                   batch_sizes: Sequence[int] = (1, 4, 16, 64), draws: int = 2000,
                   replace: bool = True, seed: int = 0,
                   criterion: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy
                   ) -> GradientNoise:
    """Variance of the mini-batch gradient around the full-batch gradient, per batch size.

        g_B = (1/B)·Σ_{i∈batch} gᵢ,   variance(B) = mean over draws ‖g_B − ḡ‖²  ≈  tr Σ / B

    Per-sample gradients are computed once (``per_sample_gradients``), then ``draws`` batches
    per size are sampled from them.

    Args:
        model: the network at the point of interest; default the (16,)-tanh MLP of
            ``compare_batch_sizes`` at its init. Its loss must be a per-sample mean.
        data: (X, y); default the 200 two-moons points of ``compare_batch_sizes``.
        replace: sample batches with replacement (the 1/B law) or without (finite-population
            correction; B may then not exceed N).
    """
    X, y = _default_data(seed) if data is None else (np.asarray(data[0], np.float64),
                                                     np.asarray(data[1], np.int64))
    n = len(X)
    if model is None:
        model = _mlp(X.shape[1], (16,), int(y.max()) + 1, seed)
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    if sizes.ndim != 1 or len(sizes) == 0 or sizes.min() < 1 or (not replace and sizes.max() > n):
        raise ValueError(f"batch_sizes must be positive integers (<= N = {n} without "
                         f"replacement); got {list(batch_sizes)}")
    if draws < 2:
        raise ValueError(f"draws must be >= 2 (got {draws})")
    G = per_sample_gradients(model, X, y, criterion)
    mean = G.mean(axis=0)
    dev = G - mean
    trace_cov = float(np.sum(dev * dev) / n)
    rng = np.random.default_rng(seed)
    variance = np.empty(len(sizes))
    for k, b in enumerate(sizes):
        if replace:
            idx = rng.integers(0, n, size=(draws, b))
        else:
            idx = np.argsort(rng.random((draws, n)), axis=1)[:, :b]
        # Deviations of the batch means; dev has mean 0, so this is g_B − ḡ directly.
        batch_dev = dev[idx].mean(axis=1)
        variance[k] = float(np.mean(np.sum(batch_dev * batch_dev, axis=1)))
    predicted = trace_cov / sizes
    if not replace:
        predicted = predicted * (n - sizes) / (n - 1)
    return GradientNoise(sizes, variance, predicted, trace_cov, float(np.linalg.norm(mean)),
                         draws, replace)
